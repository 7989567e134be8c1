// SPDX-License-Identifier: GPL-3.0-or-later
#include "Vae.h"

#include <ATen/TensorOperators.h>
#include <ATen/ops/clamp.h>
#include <ATen/ops/round.h>

#include "EngineError.h"
#include "JsonConfig.h"

namespace Atelier::Engine
{
    namespace
    {
        // diffusers builds the VAE's Encoder/Decoder with eps 1e-6 regardless of any config key.
        constexpr double VaeNormEps = 1e-6;
    } // namespace

    VaeConfig VaeConfig::fromConfig(const JsonConfig& config)
    {
        VaeConfig c;
        c.blockOutChannels = config.integersAtLeast("block_out_channels", 1);
        if (c.blockOutChannels.empty()) {
            throw EngineError(config.origin() + ": \"block_out_channels\" is empty");
        }
        const auto upTypes = config.strings("up_block_types");
        if (upTypes.size() != c.blockOutChannels.size()) {
            throw EngineError(config.origin() + ": \"up_block_types\" must have one entry per block");
        }
        for (const auto& type : upTypes) {
            if (type != "UpDecoderBlock2D") {
                throw EngineError(config.origin() + ": up block type \"" + type + "\" is not supported");
            }
        }
        c.layersPerBlock = config.integerAtLeast("layers_per_block", 1);
        c.latentChannels = config.integerAtLeast("latent_channels", 1);
        c.outChannels = config.integerAtLeast("out_channels", 1);
        c.normGroups = config.integerAtLeast("norm_num_groups", 1, 32);
        for (std::size_t i = 0; i < c.blockOutChannels.size(); ++i) {
            if (c.blockOutChannels[i] % c.normGroups != 0) {
                config.refuse("block_out_channels[" + std::to_string(i) + "]",
                              "a multiple of norm_num_groups (" + std::to_string(c.normGroups) + ")",
                              std::to_string(c.blockOutChannels[i]));
            }
        }
        // The decoder divides the latents by it: zero gives infinities, a negative factor negates the latents.
        c.scalingFactor = config.positiveNumber("scaling_factor", 0.18215);
        c.postQuantConv = config.boolean("use_post_quant_conv", true);
        c.midAttention = config.boolean("mid_block_add_attention", true);
        if (config.has("shift_factor") || config.has("latents_mean")) {
            throw EngineError(config.origin()
                              + ": \"shift_factor\"/\"latents_mean\" (non-SD 1.x VAEs) are not supported");
        }
        if (config.string("act_fn", "silu") != "silu") {
            throw EngineError(config.origin() + ": \"act_fn\" must be \"silu\"");
        }
        return c;
    }

    VaeDecoder VaeDecoder::load(const VaeConfig& config, const WeightSource& source)
    {
        VaeDecoder vae;
        vae.m_config = config;
        const auto& channels = config.blockOutChannels;
        const std::int64_t groups = config.normGroups;
        if (config.postQuantConv) {
            vae.m_postQuantConv
                = Conv2d::load(source.sub("post_quant_conv"), config.latentChannels, config.latentChannels, 1);
        }
        const WeightSource decoder = source.sub("decoder");
        const std::int64_t deepest = channels.back();
        vae.m_convIn = Conv2d::load(decoder.sub("conv_in"), config.latentChannels, deepest, 3, 1, 1);
        const WeightSource mid = decoder.sub("mid_block");
        vae.m_midResnet1 = ResnetBlock::load(mid.sub("resnets.0"), deepest, deepest, 0, groups, VaeNormEps);
        if (config.midAttention) {
            vae.m_midAttention = VaeAttention::load(mid.sub("attentions.0"), deepest, groups, VaeNormEps);
        }
        vae.m_midResnet2 = ResnetBlock::load(mid.sub("resnets.1"), deepest, deepest, 0, groups, VaeNormEps);

        std::int64_t previous = deepest;
        const std::size_t levels = channels.size();
        for (std::size_t i = 0; i < levels; ++i) {
            const std::int64_t output = channels[levels - 1 - i];
            const WeightSource block = decoder.sub("up_blocks." + std::to_string(i));
            UpLevel level;
            for (std::int64_t j = 0; j < config.layersPerBlock + 1; ++j) {
                level.resnets.push_back(ResnetBlock::load(block.sub("resnets." + std::to_string(j)),
                                                          j == 0 ? previous : output, output, 0, groups, VaeNormEps));
            }
            if (i + 1 < levels) {
                level.upsample = Upsample::load(block.sub("upsamplers.0"), output);
            }
            previous = output;
            vae.m_up.push_back(std::move(level));
        }
        vae.m_normOut = GroupNorm::load(decoder.sub("conv_norm_out"), channels.front(), groups, VaeNormEps);
        vae.m_convOut = Conv2d::load(decoder.sub("conv_out"), channels.front(), config.outChannels, 3, 1, 1);
        return vae;
    }

    at::Tensor VaeDecoder::decode(const at::Tensor& latents) const
    {
        at::Tensor h = latents / m_config.scalingFactor;
        if (m_postQuantConv) {
            h = (*m_postQuantConv)(h);
        }
        h = m_convIn(h);
        h = m_midResnet1(h, {});
        if (m_midAttention) {
            h = (*m_midAttention)(h);
        }
        h = m_midResnet2(h, {});
        for (const UpLevel& level : m_up) {
            for (const ResnetBlock& resnet : level.resnets) {
                h = resnet(h, {});
            }
            if (level.upsample) {
                h = (*level.upsample)(h, std::nullopt);
            }
        }
        h = m_normOut.withSilu(h);
        // NCHW out whatever the decoder's layout: three channels, so the copy is small.
        return m_convOut(h).contiguous();
    }

    at::Tensor toUint8Image(const at::Tensor& decoded)
    {
        const at::Tensor unit = at::clamp(decoded.to(at::kFloat) / 2 + 0.5, 0.0, 1.0);
        // numpy_to_pil: (x * 255).round().astype(uint8); numpy and at::round both round halves to even.
        return at::round(unit * 255).to(at::kByte).permute({0, 2, 3, 1}).contiguous().to(at::kCPU);
    }
} // namespace Atelier::Engine
