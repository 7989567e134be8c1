// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string_view>
#include <vector>

namespace Atelier::Engine
{
    /// The byte-level BPE tokenizer of CLIP ViT-L/14, the text encoder of Stable Diffusion 1.x.
    ///
    /// Gives the same ids as Hugging Face's CLIPTokenizer (the `tokenizers` pipeline that transformers 5 uses):
    /// NFC, whitespace runs as one separator, lowercase; `<|startoftext|>` and `<|endoftext|>` in the text are
    /// their special ids; the rest is split into letter runs, single digits, the contractions 's 't 're 've 'm
    /// 'll 'd and runs of other non-space characters; each piece is mapped byte by byte to GPT-2's printable
    /// characters and merged by merges.txt rank, its last symbol carrying the end-of-word suffix `</w>`.
    ///
    /// Input is UTF-8. Invalid UTF-8 never fails: each ill-formed sequence (the maximal subpart, as Python's
    /// `bytes.decode("utf-8", "replace")` does) becomes U+FFFD, which is then tokenized like any character.
    ///
    /// Copies share the loaded vocabulary and the per-word cache. All methods are const and thread-safe.
    class ClipTokenizer
    {
    public:
        static constexpr int ContextLength = 77; ///< tokens the text encoder takes, BOS and EOS included
        static constexpr std::int64_t BosId = 49406; ///< `<|startoftext|>`
        static constexpr std::int64_t EosId = 49407; ///< `<|endoftext|>`, also the padding and the unknown token

        /// Loads vocab.json and merges.txt from a diffusers `tokenizer/` folder. Throws EngineError naming the
        /// file (and for merges.txt the line) that is missing, malformed, not a regular file or larger than
        /// MaxTextFileBytes, and when vocab.json does not give the special tokens the ids SD 1.x uses.
        static ClipTokenizer fromFolder(const std::filesystem::path& dir);

        /// BPE ids of the text, no BOS/EOS, no truncation.
        std::vector<std::int64_t> encode(std::string_view utf8Text) const;

        /// What StableDiffusionPipeline feeds the text encoder: BOS + first 75 ids + EOS, padded with EOS to 77.
        std::vector<std::int64_t> encodePadded(std::string_view utf8Text) const;

        /// A1111-style long prompts: the ids split into chunks of 75, each chunk BOS + ids + EOS padded with EOS
        /// to 77. An empty prompt gives one chunk, so there is always at least one.
        std::vector<std::vector<std::int64_t>> encodeChunks(std::string_view utf8Text) const;

    private:
        struct Data;
        explicit ClipTokenizer(std::shared_ptr<Data> data);

        std::shared_ptr<Data> m_data;
    };
} // namespace Atelier::Engine
