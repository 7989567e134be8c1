// SPDX-License-Identifier: GPL-3.0-or-later
#include "ClipTextEncoder.h"

#include <ATen/TensorOperators.h>
#include <ATen/ops/embedding.h>
#include <ATen/ops/gelu.h>
#include <ATen/ops/scaled_dot_product_attention.h>
#include <ATen/ops/sigmoid.h>

#include "EngineError.h"
#include "JsonConfig.h"

namespace Atelier::Engine
{
    ClipTextConfig ClipTextConfig::fromConfig(const JsonConfig& config)
    {
        ClipTextConfig c;
        c.vocabSize = config.integerAtLeast("vocab_size", 1);
        c.hiddenSize = config.integerAtLeast("hidden_size", 1);
        c.intermediateSize = config.integerAtLeast("intermediate_size", 1);
        c.numLayers = config.integerAtLeast("num_hidden_layers", 1);
        c.numHeads = config.integerAtLeast("num_attention_heads", 1);
        c.maxPositions = config.integerAtLeast("max_position_embeddings", 1);
        c.layerNormEps = config.positiveNumber("layer_norm_eps", 1e-5);
        c.hiddenAct = config.string("hidden_act", "quick_gelu");
        if (c.hiddenAct != "quick_gelu" && c.hiddenAct != "gelu") {
            throw EngineError(config.origin() + ": \"hidden_act\" \"" + c.hiddenAct
                              + "\" is not supported (quick_gelu or gelu)");
        }
        if (c.hiddenSize % c.numHeads != 0) {
            throw EngineError(config.origin() + ": \"hidden_size\" must be a multiple of \"num_attention_heads\"");
        }
        return c;
    }

    ClipTextEncoder ClipTextEncoder::load(const ClipTextConfig& config, const WeightSource& source)
    {
        ClipTextEncoder encoder;
        encoder.m_config = config;
        const std::int64_t d = config.hiddenSize;
        const WeightSource embeddings = source.sub("embeddings");
        encoder.m_tokenEmbedding = embeddings.sub("token_embedding").load("weight", {config.vocabSize, d});
        encoder.m_positionEmbedding = embeddings.sub("position_embedding").load("weight", {config.maxPositions, d});
        for (std::int64_t i = 0; i < config.numLayers; ++i) {
            const WeightSource layer = source.sub("encoder.layers." + std::to_string(i));
            const WeightSource attention = layer.sub("self_attn");
            encoder.m_layers.push_back(Layer{
                LayerNorm::load(layer.sub("layer_norm1"), d, config.layerNormEps),
                Linear::load(attention.sub("q_proj"), d, d),
                Linear::load(attention.sub("k_proj"), d, d),
                Linear::load(attention.sub("v_proj"), d, d),
                Linear::load(attention.sub("out_proj"), d, d),
                LayerNorm::load(layer.sub("layer_norm2"), d, config.layerNormEps),
                Linear::load(layer.sub("mlp.fc1"), d, config.intermediateSize),
                Linear::load(layer.sub("mlp.fc2"), config.intermediateSize, d),
            });
        }
        encoder.m_finalNorm = LayerNorm::load(source.sub("final_layer_norm"), d, config.layerNormEps);
        return encoder;
    }

    at::Tensor ClipTextEncoder::activation(const at::Tensor& x) const
    {
        if (m_config.hiddenAct == "gelu") {
            return at::gelu(x);
        }
        return x * at::sigmoid(1.702 * x);
    }

    at::Tensor ClipTextEncoder::forward(const at::Tensor& inputIds, int clipSkip) const
    {
        return forwardEmbeddings(embedTokens(inputIds), clipSkip);
    }

    at::Tensor ClipTextEncoder::embedTokens(const at::Tensor& inputIds) const
    {
        return at::embedding(m_tokenEmbedding, inputIds.to(m_tokenEmbedding.device()));
    }

    at::Tensor ClipTextEncoder::forwardEmbeddings(const at::Tensor& tokenEmbeddings, int clipSkip) const
    {
        if (clipSkip < 1 || clipSkip > layerCount()) {
            throw EngineError("clip skip must be from 1 to " + std::to_string(layerCount()) + ", got "
                              + std::to_string(clipSkip));
        }
        const std::size_t used = m_layers.size() - static_cast<std::size_t>(clipSkip - 1);
        const std::int64_t batch = tokenEmbeddings.size(0);
        const std::int64_t tokens = tokenEmbeddings.size(1);
        if (tokens > m_config.maxPositions) {
            throw EngineError("the text encoder takes at most " + std::to_string(m_config.maxPositions)
                              + " tokens per chunk, got " + std::to_string(tokens));
        }
        const std::int64_t heads = m_config.numHeads;
        const std::int64_t headDim = m_config.hiddenSize / heads;

        at::Tensor x
            = tokenEmbeddings.to(m_tokenEmbedding.options()) + m_positionEmbedding.narrow(0, 0, tokens).unsqueeze(0);
        auto splitHeads = [&](const at::Tensor& t) { return t.view({batch, tokens, heads, headDim}).transpose(1, 2); };
        for (std::size_t index = 0; index < used; ++index) {
            const Layer& layer = m_layers[index];
            const at::Tensor h = layer.norm1(x);
            // CLIP's text transformer is causal: each token sees only those before it.
            at::Tensor attended = at::scaled_dot_product_attention(splitHeads(layer.q(h)), splitHeads(layer.k(h)),
                                                                   splitHeads(layer.v(h)), {}, 0.0, true);
            attended = attended.transpose(1, 2).reshape({batch, tokens, m_config.hiddenSize});
            x = x + layer.out(attended);
            x = x + layer.fc2(activation(layer.fc1(layer.norm2(x))));
        }
        return m_finalNorm(x);
    }
} // namespace Atelier::Engine
