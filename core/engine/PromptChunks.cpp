// SPDX-License-Identifier: GPL-3.0-or-later
#include "PromptChunks.h"

#include <algorithm>

#include "PromptAttention.h"

namespace Atelier::Engine
{
    namespace
    {
        constexpr std::size_t ChunkIds = ClipTokenizer::ContextLength - 2; // 75: BOS and EOS around them
    } // namespace

    bool PromptChunk::isPlain() const
    {
        return std::all_of(weights.begin(), weights.end(), [](double w) { return w == 1.0; });
    }

    std::vector<PromptChunk> promptChunks(const ClipTokenizer& tokenizer, std::string_view prompt, int commaBacktrack)
    {
        // The id of "," as a word of its own, as CLIP's vocabulary has it.
        const std::vector<std::int64_t> commaIds = tokenizer.encode(",");
        const std::int64_t comma = commaIds.size() == 1 ? commaIds.front() : -1;

        std::vector<PromptChunk> chunks;
        std::vector<std::int64_t> ids;
        std::vector<double> weights;
        std::ptrdiff_t lastComma = -1;
        auto nextChunk = [&] {
            PromptChunk chunk;
            chunk.ids.fill(ClipTokenizer::EosId);
            chunk.weights.fill(1.0);
            chunk.ids.front() = ClipTokenizer::BosId;
            std::copy(ids.begin(), ids.end(), chunk.ids.begin() + 1);
            std::copy(weights.begin(), weights.end(), chunk.weights.begin() + 1);
            chunks.push_back(chunk);
            ids.clear();
            weights.clear();
            lastComma = -1;
        };

        for (const WeightedText& run : parsePromptAttention(prompt)) {
            if (run.isBreak()) {
                nextChunk();
                continue;
            }
            for (const std::int64_t id : tokenizer.encode(run.text)) {
                if (id == comma) {
                    lastComma = static_cast<std::ptrdiff_t>(ids.size());
                } else if (commaBacktrack != 0 && ids.size() == ChunkIds && lastComma != -1
                           && static_cast<std::ptrdiff_t>(ids.size()) - lastComma <= commaBacktrack) {
                    // The phrase after the chunk's last comma goes on to the next chunk whole.
                    const auto cut = static_cast<std::ptrdiff_t>(lastComma + 1);
                    std::vector<std::int64_t> movedIds(ids.begin() + cut, ids.end());
                    std::vector<double> movedWeights(weights.begin() + cut, weights.end());
                    ids.resize(static_cast<std::size_t>(cut));
                    weights.resize(static_cast<std::size_t>(cut));
                    nextChunk();
                    ids = std::move(movedIds);
                    weights = std::move(movedWeights);
                }
                if (ids.size() == ChunkIds) {
                    nextChunk();
                }
                ids.push_back(id);
                weights.push_back(run.weight);
            }
        }
        if (!ids.empty() || chunks.empty()) {
            nextChunk();
        }
        return chunks;
    }
} // namespace Atelier::Engine
