// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "ClipTokenizer.h"

namespace Atelier::Engine
{
    /// A textual-inversion embedding found in a prompt's ids (EmbeddingMatcher).
    struct EmbeddingMatch
    {
        std::size_t index = 0; ///< which embedding, as the matcher numbers them
        std::size_t vectors = 1; ///< the positions it takes in a chunk
        std::size_t tokens = 1; ///< the prompt ids its name took
        friend bool operator==(const EmbeddingMatch&, const EmbeddingMatch&) = default;
    };

    /// Finds embeddings by their names' CLIP ids inside a prompt's ids, as AUTOMATIC1111 does.
    class EmbeddingMatcher
    {
    public:
        virtual ~EmbeddingMatcher() = default;
        /// The embedding whose name's ids start at @p ids[@p position] (the longest, when several do).
        virtual std::optional<EmbeddingMatch> match(std::span<const std::int64_t> ids, std::size_t position) const = 0;
    };

    /// Where an embedding's vectors go in a chunk: positions offset … offset + vectors − 1 (BOS is position 0).
    struct ChunkEmbedding
    {
        std::size_t offset = 0;
        EmbeddingMatch match;
        friend bool operator==(const ChunkEmbedding&, const ChunkEmbedding&) = default;
    };

    /// One 77-token input of the text encoder and the attention weight of each position.
    struct PromptChunk
    {
        std::array<std::int64_t, ClipTokenizer::ContextLength> ids{};
        std::array<double, ClipTokenizer::ContextLength> weights{};
        /// Textual-inversion vectors that replace the token embeddings of some positions (whose ids are 0).
        std::vector<ChunkEmbedding> embeddings;

        /// Whether every weight is 1 (then the encoder's output is used as it is).
        bool isPlain() const;
        friend bool operator==(const PromptChunk&, const PromptChunk&) = default;
    };

    /// How AUTOMATIC1111 feeds a prompt to CLIP: its attention syntax parsed (parsePromptAttention()), each run
    /// tokenized on its own, the ids laid into chunks of 75 (BOS, 75 ids, EOS; a short last chunk padded with EOS;
    /// padding, BOS and EOS of weight 1). `BREAK` ends a chunk early. When a chunk fills and its last comma is at
    /// most @p commaBacktrack ids back, the ids after that comma move to the next chunk, so a phrase is not cut in
    /// two (A1111's "comma padding backtrack", 20 by default; 0 turns it off). An empty prompt gives one chunk.
    /// With @p embeddings, an embedding's name found in a run's ids takes as many positions as it has vectors
    /// (moving to the next chunk whole when it does not fit), with the run's weight.
    inline constexpr int DefaultCommaBacktrack = 20; ///< A1111's default "comma padding backtrack"
    std::vector<PromptChunk> promptChunks(const ClipTokenizer& tokenizer, std::string_view prompt,
                                          int commaBacktrack = DefaultCommaBacktrack,
                                          const EmbeddingMatcher* embeddings = nullptr);
} // namespace Atelier::Engine
