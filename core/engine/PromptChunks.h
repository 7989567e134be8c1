// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <array>
#include <cstdint>
#include <string_view>
#include <vector>

#include "ClipTokenizer.h"

namespace Atelier::Engine
{
    /// One 77-token input of the text encoder and the attention weight of each position.
    struct PromptChunk
    {
        std::array<std::int64_t, ClipTokenizer::ContextLength> ids{};
        std::array<double, ClipTokenizer::ContextLength> weights{};

        /// Whether every weight is 1 (then the encoder's output is used as it is).
        bool isPlain() const;
        friend bool operator==(const PromptChunk&, const PromptChunk&) = default;
    };

    /// How AUTOMATIC1111 feeds a prompt to CLIP: its attention syntax parsed (parsePromptAttention()), each run
    /// tokenized on its own, the ids laid into chunks of 75 (BOS, 75 ids, EOS; a short last chunk padded with EOS;
    /// padding, BOS and EOS of weight 1). `BREAK` ends a chunk early. When a chunk fills and its last comma is at
    /// most @p commaBacktrack ids back, the ids after that comma move to the next chunk, so a phrase is not cut in
    /// two (A1111's "comma padding backtrack", 20 by default; 0 turns it off). An empty prompt gives one chunk.
    std::vector<PromptChunk> promptChunks(const ClipTokenizer& tokenizer, std::string_view prompt,
                                          int commaBacktrack = 20);
} // namespace Atelier::Engine
