// SPDX-License-Identifier: GPL-3.0-or-later
#include "UNet.h"

#include <ATen/TensorOperators.h>
#include <ATen/ops/arange.h>
#include <ATen/ops/cat.h>
#include <ATen/ops/cos.h>
#include <ATen/ops/exp.h>
#include <ATen/ops/silu.h>
#include <ATen/ops/sin.h>

#include <cmath>

#include "EngineError.h"
#include "JsonConfig.h"

namespace Atelier::Engine
{
    namespace
    {
        bool isCrossAttention(const std::string& type)
        {
            return type.rfind("CrossAttn", 0) == 0;
        }
    } // namespace

    UNetConfig UNetConfig::fromConfig(const JsonConfig& config)
    {
        UNetConfig c;
        c.inChannels = config.integerAtLeast("in_channels", 1);
        c.outChannels = config.integerAtLeast("out_channels", 1);
        c.blockOutChannels = config.integersAtLeast("block_out_channels", 1);
        c.downBlockTypes = config.strings("down_block_types");
        c.upBlockTypes = config.strings("up_block_types");
        const std::size_t levels = c.blockOutChannels.size();
        if (levels == 0 || c.downBlockTypes.size() != levels || c.upBlockTypes.size() != levels) {
            throw EngineError(config.origin()
                              + ": \"block_out_channels\", \"down_block_types\" and \"up_block_types\" must have the "
                                "same, non-zero length");
        }
        for (const auto& type : c.downBlockTypes) {
            if (type != "CrossAttnDownBlock2D" && type != "DownBlock2D") {
                throw EngineError(config.origin() + ": down block type \"" + type + "\" is not supported");
            }
        }
        for (const auto& type : c.upBlockTypes) {
            if (type != "CrossAttnUpBlock2D" && type != "UpBlock2D") {
                throw EngineError(config.origin() + ": up block type \"" + type + "\" is not supported");
            }
        }
        const std::string mid = config.string("mid_block_type", "UNetMidBlock2DCrossAttn");
        if (mid != "UNetMidBlock2DCrossAttn") {
            throw EngineError(config.origin() + ": mid block type \"" + mid + "\" is not supported");
        }
        c.layersPerBlock = config.integerAtLeast("layers_per_block", 1);
        // diffusers' long-standing naming slip: SD 1.x configs give the number of heads as "attention_head_dim"
        // and leave "num_attention_heads" null. The newer key wins when present.
        c.headsPerBlock = config.has("num_attention_heads") ? config.integerPerBlock("num_attention_heads", levels, 1)
                                                            : config.integerPerBlock("attention_head_dim", levels, 1);
        c.transformerLayersPerBlock = config.has("transformer_layers_per_block")
            ? config.integerPerBlock("transformer_layers_per_block", levels, 1)
            : std::vector<std::int64_t>(levels, 1);
        c.crossAttentionDim = config.integerAtLeast("cross_attention_dim", 1);
        c.normGroups = config.integerAtLeast("norm_num_groups", 1, 32);
        for (std::size_t i = 0; i < levels; ++i) {
            if (c.blockOutChannels[i] % c.normGroups != 0) {
                config.refuse("block_out_channels[" + std::to_string(i) + "]",
                              "a multiple of norm_num_groups (" + std::to_string(c.normGroups) + ")",
                              std::to_string(c.blockOutChannels[i]));
            }
        }
        c.normEps = config.positiveNumber("norm_eps", 1e-5);
        c.downsamplePadding = config.integerAtLeast("downsample_padding", 0, 1);
        c.flipSinToCos = config.boolean("flip_sin_to_cos", true);
        c.freqShift = config.finiteNumber("freq_shift", 0);
        c.linearProjection = config.boolean("use_linear_projection", false);
        c.sampleSize = config.integerAtLeast("sample_size", 1, 64);
        if (config.string("act_fn", "silu") != "silu") {
            throw EngineError(config.origin() + ": \"act_fn\" must be \"silu\"");
        }
        if (config.has("class_embed_type") || config.has("addition_embed_type") || config.has("time_cond_proj_dim")) {
            throw EngineError(config.origin() + ": class, addition or conditioned time embeddings are not supported");
        }
        if (config.integer("conv_in_kernel", 3) != 3 || config.integer("conv_out_kernel", 3) != 3) {
            throw EngineError(config.origin() + ": only 3×3 \"conv_in_kernel\"/\"conv_out_kernel\" are supported");
        }
        for (std::size_t i = 0; i < levels; ++i) {
            if (c.blockOutChannels[i] % c.headsPerBlock[i] != 0) {
                throw EngineError(config.origin() + ": block " + std::to_string(i) + " has "
                                  + std::to_string(c.blockOutChannels[i]) + " channels, not divisible into "
                                  + std::to_string(c.headsPerBlock[i]) + " attention heads");
            }
        }
        return c;
    }

    UNet UNet::load(const UNetConfig& config, const WeightSource& source)
    {
        UNet unet;
        unet.m_config = config;
        unet.m_channelsLast = source.channelsLast();
        const auto& channels = config.blockOutChannels;
        const std::int64_t levels = static_cast<std::int64_t>(channels.size());
        const std::int64_t timeDim = config.timeEmbeddingDim();
        const std::int64_t groups = config.normGroups;
        const double eps = config.normEps;

        unet.m_time1 = Linear::load(source.sub("time_embedding.linear_1"), channels.front(), timeDim);
        unet.m_time2 = Linear::load(source.sub("time_embedding.linear_2"), timeDim, timeDim);
        unet.m_convIn = Conv2d::load(source.sub("conv_in"), config.inChannels, channels.front(), 3, 1, 1);

        std::int64_t out = channels.front();
        for (std::int64_t i = 0; i < levels; ++i) {
            const WeightSource block = source.sub("down_blocks." + std::to_string(i));
            const std::int64_t in = out;
            out = channels[i];
            Level level;
            for (std::int64_t j = 0; j < config.layersPerBlock; ++j) {
                const std::string n = std::to_string(j);
                level.resnets.push_back(
                    ResnetBlock::load(block.sub("resnets." + n), j == 0 ? in : out, out, timeDim, groups, eps));
                if (isCrossAttention(config.downBlockTypes[i])) {
                    level.attentions.push_back(SpatialTransformer::load(
                        block.sub("attentions." + n), out, config.headsPerBlock[i], config.crossAttentionDim,
                        config.transformerLayersPerBlock[i], groups, config.linearProjection));
                }
            }
            if (i + 1 < levels) {
                level.downsample = Downsample::load(block.sub("downsamplers.0"), out, config.downsamplePadding);
            }
            unet.m_down.push_back(std::move(level));
        }

        const WeightSource mid = source.sub("mid_block");
        const std::int64_t deepest = channels.back();
        unet.m_midResnet1 = ResnetBlock::load(mid.sub("resnets.0"), deepest, deepest, timeDim, groups, eps);
        unet.m_midAttention = SpatialTransformer::load(
            mid.sub("attentions.0"), deepest, config.headsPerBlock.back(), config.crossAttentionDim,
            config.transformerLayersPerBlock.back(), groups, config.linearProjection);
        unet.m_midResnet2 = ResnetBlock::load(mid.sub("resnets.1"), deepest, deepest, timeDim, groups, eps);

        // The up path mirrors the down path; each resnet also takes the skip connection saved on the way down.
        std::int64_t previous = deepest;
        for (std::int64_t i = 0; i < levels; ++i) {
            const std::int64_t level = levels - 1 - i;
            const WeightSource block = source.sub("up_blocks." + std::to_string(i));
            const std::int64_t output = channels[level];
            const std::int64_t input = channels[std::max<std::int64_t>(level - 1, 0)];
            Level up;
            const std::int64_t layers = config.layersPerBlock + 1;
            for (std::int64_t j = 0; j < layers; ++j) {
                const std::string n = std::to_string(j);
                const std::int64_t skip = j == layers - 1 ? input : output;
                const std::int64_t resnetIn = j == 0 ? previous : output;
                up.resnets.push_back(
                    ResnetBlock::load(block.sub("resnets." + n), resnetIn + skip, output, timeDim, groups, eps));
                if (isCrossAttention(config.upBlockTypes[i])) {
                    up.attentions.push_back(SpatialTransformer::load(
                        block.sub("attentions." + n), output, config.headsPerBlock[level], config.crossAttentionDim,
                        config.transformerLayersPerBlock[level], groups, config.linearProjection));
                }
            }
            if (i + 1 < levels) {
                up.upsample = Upsample::load(block.sub("upsamplers.0"), output);
            }
            previous = output;
            unet.m_up.push_back(std::move(up));
        }

        unet.m_normOut = GroupNorm::load(source.sub("conv_norm_out"), channels.front(), groups, eps);
        unet.m_convOut = Conv2d::load(source.sub("conv_out"), channels.front(), config.outChannels, 3, 1, 1);
        return unet;
    }

    at::Tensor UNet::timeEmbedding(const at::Tensor& timesteps, std::int64_t batch, at::ScalarType dtype) const
    {
        // Sinusoidal features of the timestep, computed in float32 as diffusers does, then the two-layer MLP.
        const std::int64_t dim = m_config.blockOutChannels.front();
        const std::int64_t half = dim / 2;
        const auto options = at::TensorOptions().dtype(at::kFloat).device(timesteps.device());
        const at::Tensor exponent
            = at::arange(half, options) * (-std::log(10000.0) / (static_cast<double>(half) - m_config.freqShift));
        at::Tensor t = timesteps.to(at::kFloat).reshape({-1});
        if (t.size(0) == 1 && batch > 1) {
            t = t.expand({batch});
        }
        const at::Tensor angles = t.unsqueeze(1) * at::exp(exponent).unsqueeze(0);
        at::Tensor features = m_config.flipSinToCos ? at::cat({at::cos(angles), at::sin(angles)}, 1)
                                                    : at::cat({at::sin(angles), at::cos(angles)}, 1);
        features = features.to(dtype);
        return m_time2(at::silu(m_time1(features)));
    }

    at::Tensor UNet::forward(const at::Tensor& sample, const at::Tensor& timesteps, const at::Tensor& context) const
    {
        const at::Tensor emb = timeEmbedding(timesteps.to(sample.device()), sample.size(0), sample.scalar_type());
        // Channels-last in, channels-last all the way: convolutions, norms and the attention's token view keep it.
        at::Tensor h = m_convIn(m_channelsLast ? sample.contiguous(at::MemoryFormat::ChannelsLast) : sample);
        std::vector<at::Tensor> skips{h};
        for (const Level& level : m_down) {
            for (std::size_t j = 0; j < level.resnets.size(); ++j) {
                h = level.resnets[j](h, emb);
                if (!level.attentions.empty()) {
                    h = level.attentions[j](h, context);
                }
                skips.push_back(h);
            }
            if (level.downsample) {
                h = (*level.downsample)(h);
                skips.push_back(h);
            }
        }

        h = m_midResnet2(m_midAttention(m_midResnet1(h, emb), context), emb);

        for (const Level& level : m_up) {
            for (std::size_t j = 0; j < level.resnets.size(); ++j) {
                h = at::cat({h, skips.back()}, 1);
                skips.pop_back();
                h = level.resnets[j](h, emb);
                if (!level.attentions.empty()) {
                    h = level.attentions[j](h, context);
                }
            }
            if (level.upsample) {
                // Upsample to the size of the skip it will meet, so sizes that are not a multiple of the total
                // downsampling factor still line up (diffusers' upsample_size).
                const at::Tensor& next = skips.back();
                h = (*level.upsample)(h, std::make_pair(next.size(2), next.size(3)));
            }
        }
        h = m_normOut.withSilu(h);
        const at::Tensor out = m_convOut(h);
        return m_channelsLast ? out.contiguous() : out;
    }
} // namespace Atelier::Engine
