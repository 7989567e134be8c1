// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <ATen/core/Tensor.h>

#include <filesystem>
#include <string>
#include <vector>

#include "Weights.h"

namespace Atelier::Engine
{
    class JsonConfig;

    /// The parts of a transformers CLIPTextConfig that shape the network.
    struct ClipTextConfig
    {
        std::int64_t vocabSize = 49408;
        std::int64_t hiddenSize = 768;
        std::int64_t intermediateSize = 3072;
        std::int64_t numLayers = 12;
        std::int64_t numHeads = 12;
        std::int64_t maxPositions = 77;
        double layerNormEps = 1e-5;
        std::string hiddenAct = "quick_gelu"; ///< "quick_gelu" or "gelu"

        /// Reads text_encoder/config.json. Throws EngineError naming a missing or ill-typed key, or one whose value
        /// cannot work (a size or count below 1, a layer norm epsilon that is not a positive number).
        static ClipTextConfig fromConfig(const JsonConfig& config);
    };

    /// CLIP's text transformer as Stable Diffusion 1.x uses it: token and position embeddings, pre-norm
    /// causal self-attention layers, and the final layer norm, whose output is what the UNet attends to.
    class ClipTextEncoder
    {
    public:
        /// Loads the weights under @p source (names as in transformers, "embeddings.token_embedding.weight", …
        /// relative to "text_model.").
        static ClipTextEncoder load(const ClipTextConfig& config, const WeightSource& source);

        /// [batch, tokens] int64 ids → [batch, tokens, hidden] last hidden state (after the final layer norm).
        /// @p clipSkip as AUTOMATIC1111 counts it: 1 is the last layer's output, 2 the one before (diffusers'
        /// `clip_skip=1`), …; the final layer norm is applied to whichever is taken. Throws EngineError when it is
        /// not from 1 to the number of layers.
        at::Tensor forward(const at::Tensor& inputIds, int clipSkip = 1) const;
        /// The token embeddings of @p inputIds, [batch, tokens, hidden]: what forwardEmbeddings() takes, for callers
        /// that put textual-inversion vectors in the place of some tokens.
        at::Tensor embedTokens(const at::Tensor& inputIds) const;
        /// forward() from token embeddings [batch, tokens, hidden] (position embeddings are added here).
        at::Tensor forwardEmbeddings(const at::Tensor& tokenEmbeddings, int clipSkip = 1) const;
        int layerCount() const { return static_cast<int>(m_layers.size()); }
        const ClipTextConfig& config() const { return m_config; }

    private:
        struct Layer
        {
            LayerNorm norm1;
            Linear q, k, v, out;
            LayerNorm norm2;
            Linear fc1, fc2;
        };

        at::Tensor activation(const at::Tensor& x) const;

        ClipTextConfig m_config;
        at::Tensor m_tokenEmbedding;
        at::Tensor m_positionEmbedding;
        std::vector<Layer> m_layers;
        LayerNorm m_finalNorm;
    };
} // namespace Atelier::Engine
