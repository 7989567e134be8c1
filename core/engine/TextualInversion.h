// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "ClipTokenizer.h"
#include "PromptChunks.h"

namespace Atelier::Engine
{
    /// A textual-inversion embedding: vectors that stand in a prompt where its name is written.
    struct Embedding
    {
        std::string name; ///< the file name without its extension, as AUTOMATIC1111 names embeddings
        std::filesystem::path file;
        at::Tensor vectors; ///< [n, hidden] float32 on the CPU
    };

    /// An embedding a prompt used: for the infotext's "TI hashes".
    struct UsedEmbedding
    {
        std::string name;
        std::filesystem::path file;
    };

    /// Reads the embedding in @p file for a text encoder @p hidden wide: AUTOMATIC1111's `.safetensors` (one tensor
    /// `emb_params`, [n, hidden]) or diffusers' `learned_embeds.safetensors` (one tensor named by its token, [hidden]
    /// or [n, hidden]). Throws EngineError naming the file: a pickle file (`.pt`, `.bin`: never opened), an SDXL
    /// embedding (`clip_l`/`clip_g`), another width (an SD 2 embedding is 1024 wide), no vectors or not finite.
    Embedding loadEmbedding(const std::filesystem::path& file, std::int64_t hidden);

    /// The embeddings of some folders (and their subfolders), found in prompts as AUTOMATIC1111 finds them: by the
    /// CLIP ids of each file's name inside the ids of the prompt, so `EasyNegative` matches wherever those ids occur.
    /// Files are read when the library is made; one that cannot be used is kept with its error, which a prompt that
    /// names it gets (embedding()), while other prompts render. Pickle files in the folders are listed the same way:
    /// a prompt naming one fails with the reason. Immutable once made, so one library serves every thread.
    class EmbeddingLibrary final : public EmbeddingMatcher
    {
    public:
        EmbeddingLibrary(const ClipTokenizer& tokenizer, std::int64_t hidden,
                         const std::vector<std::filesystem::path>& folders);

        std::optional<EmbeddingMatch> match(std::span<const std::int64_t> ids, std::size_t position) const override;
        /// The embedding a match names. Throws EngineError with the reason its file could not be used.
        const Embedding& embedding(std::size_t index) const;
        std::size_t size() const { return m_entries.size(); }
        /// Tells libraries apart in caches: a number no other library in this process has.
        std::uint64_t identity() const { return m_identity; }

    private:
        struct Entry
        {
            std::vector<std::int64_t> ids; ///< the name's CLIP ids
            std::optional<Embedding> embedding;
            std::string error;
            std::filesystem::path file;
            std::string name;
        };
        std::vector<Entry> m_entries;
        std::map<std::int64_t, std::vector<std::size_t>> m_byFirstId; ///< longest names first
        std::uint64_t m_identity = 0;
    };
} // namespace Atelier::Engine
