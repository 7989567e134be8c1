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

    std::vector<PromptChunk> promptChunks(const ClipTokenizer& tokenizer, std::string_view prompt, int commaBacktrack,
                                          const EmbeddingMatcher* embeddings)
    {
        // The id of "," as a word of its own, as CLIP's vocabulary has it.
        const std::vector<std::int64_t> commaIds = tokenizer.encode(",");
        const std::int64_t comma = commaIds.size() == 1 ? commaIds.front() : -1;

        std::vector<PromptChunk> chunks;
        std::vector<std::int64_t> ids;
        std::vector<double> weights;
        std::vector<ChunkEmbedding> fixes; // offsets into ids (BOS not counted yet)
        std::ptrdiff_t lastComma = -1;
        auto nextChunk = [&] {
            PromptChunk chunk;
            chunk.ids.fill(ClipTokenizer::EosId);
            chunk.weights.fill(1.0);
            chunk.ids.front() = ClipTokenizer::BosId;
            std::copy(ids.begin(), ids.end(), chunk.ids.begin() + 1);
            std::copy(weights.begin(), weights.end(), chunk.weights.begin() + 1);
            for (ChunkEmbedding fix : fixes) {
                ++fix.offset; // after BOS
                chunk.embeddings.push_back(fix);
            }
            chunks.push_back(std::move(chunk));
            ids.clear();
            weights.clear();
            fixes.clear();
            lastComma = -1;
        };

        for (const WeightedText& run : parsePromptAttention(prompt)) {
            if (run.isBreak()) {
                nextChunk();
                continue;
            }
            const std::vector<std::int64_t> tokens = tokenizer.encode(run.text);
            for (std::size_t position = 0; position < tokens.size();) {
                const std::int64_t id = tokens[position];
                if (id == comma) {
                    lastComma = static_cast<std::ptrdiff_t>(ids.size());
                } else if (commaBacktrack != 0 && ids.size() == ChunkIds && lastComma != -1
                           && static_cast<std::ptrdiff_t>(ids.size()) - lastComma <= commaBacktrack) {
                    // The phrase after the chunk's last comma goes on to the next chunk whole (its embeddings too).
                    const auto cut = static_cast<std::size_t>(lastComma + 1);
                    std::vector<std::int64_t> movedIds(ids.begin() + static_cast<std::ptrdiff_t>(cut), ids.end());
                    std::vector<double> movedWeights(weights.begin() + static_cast<std::ptrdiff_t>(cut), weights.end());
                    std::vector<ChunkEmbedding> movedFixes, keptFixes;
                    for (ChunkEmbedding fix : fixes) {
                        if (fix.offset >= cut) {
                            fix.offset -= cut;
                            movedFixes.push_back(fix);
                        } else {
                            keptFixes.push_back(fix);
                        }
                    }
                    ids.resize(cut);
                    weights.resize(cut);
                    fixes = std::move(keptFixes);
                    nextChunk();
                    ids = std::move(movedIds);
                    weights = std::move(movedWeights);
                    fixes = std::move(movedFixes);
                }
                if (ids.size() == ChunkIds) {
                    nextChunk();
                }
                const std::optional<EmbeddingMatch> match
                    = embeddings ? embeddings->match(tokens, position) : std::nullopt;
                if (!match) {
                    ids.push_back(id);
                    weights.push_back(run.weight);
                    ++position;
                    continue;
                }
                // An embedding is never split across chunks.
                const std::size_t vectors = std::min(match->vectors, ChunkIds);
                if (ids.size() + vectors > ChunkIds) {
                    nextChunk();
                }
                fixes.push_back({ids.size(), *match});
                ids.insert(ids.end(), vectors, 0);
                weights.insert(weights.end(), vectors, run.weight);
                position += std::max<std::size_t>(match->tokens, 1);
            }
        }
        if (!ids.empty() || chunks.empty()) {
            nextChunk();
        }
        return chunks;
    }
} // namespace Atelier::Engine
