// SPDX-License-Identifier: GPL-3.0-or-later
#include "Vae.h"

#include <ATen/TensorOperators.h>
#include <ATen/ops/clamp.h>
#include <ATen/ops/exp.h>
#include <ATen/ops/randn.h>
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
        if (config.has("down_block_types")) {
            const auto downTypes = config.strings("down_block_types");
            if (downTypes.size() != c.blockOutChannels.size()) {
                throw EngineError(config.origin() + ": \"down_block_types\" must have one entry per block");
            }
            for (const auto& type : downTypes) {
                if (type != "DownEncoderBlock2D") {
                    throw EngineError(config.origin() + ": down block type \"" + type + "\" is not supported");
                }
            }
        }
        c.layersPerBlock = config.integerAtLeast("layers_per_block", 1);
        c.latentChannels = config.integerAtLeast("latent_channels", 1);
        c.inChannels = config.integerAtLeast("in_channels", 1, 3);
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
        c.quantConv = config.boolean("use_quant_conv", true);
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

    VaeEncoder VaeEncoder::load(const VaeConfig& config, const WeightSource& source)
    {
        VaeEncoder vae;
        vae.m_config = config;
        const auto& channels = config.blockOutChannels;
        const std::int64_t groups = config.normGroups;
        const WeightSource encoder = source.sub("encoder");
        vae.m_convIn = Conv2d::load(encoder.sub("conv_in"), config.inChannels, channels.front(), 3, 1, 1);
        std::int64_t previous = channels.front();
        for (std::size_t i = 0; i < channels.size(); ++i) {
            const std::int64_t output = channels[i];
            const WeightSource block = encoder.sub("down_blocks." + std::to_string(i));
            DownLevel level;
            for (std::int64_t j = 0; j < config.layersPerBlock; ++j) {
                level.resnets.push_back(ResnetBlock::load(block.sub("resnets." + std::to_string(j)),
                                                          j == 0 ? previous : output, output, 0, groups, VaeNormEps));
            }
            if (i + 1 < channels.size()) {
                // diffusers' DownEncoderBlock2D: downsample_padding 0, i.e. padded at the bottom and right only.
                level.downsample = Downsample::load(block.sub("downsamplers.0"), output, 0);
            }
            previous = output;
            vae.m_down.push_back(std::move(level));
        }
        const std::int64_t deepest = channels.back();
        const WeightSource mid = encoder.sub("mid_block");
        vae.m_midResnet1 = ResnetBlock::load(mid.sub("resnets.0"), deepest, deepest, 0, groups, VaeNormEps);
        if (config.midAttention) {
            vae.m_midAttention = VaeAttention::load(mid.sub("attentions.0"), deepest, groups, VaeNormEps);
        }
        vae.m_midResnet2 = ResnetBlock::load(mid.sub("resnets.1"), deepest, deepest, 0, groups, VaeNormEps);
        vae.m_normOut = GroupNorm::load(encoder.sub("conv_norm_out"), deepest, groups, VaeNormEps);
        // double_z: the mean's and the log-variance's channels.
        const std::int64_t moments = 2 * config.latentChannels;
        vae.m_convOut = Conv2d::load(encoder.sub("conv_out"), deepest, moments, 3, 1, 1);
        if (config.quantConv) {
            vae.m_quantConv = Conv2d::load(source.sub("quant_conv"), moments, moments, 1);
        }
        return vae;
    }

    LatentDistribution VaeEncoder::encode(const at::Tensor& image) const
    {
        if (image.dim() != 4 || image.size(1) != m_config.inChannels) {
            throw EngineError("the VAE encoder takes images [B, " + std::to_string(m_config.inChannels)
                              + ", H, W], got " + c10::str(image.sizes()));
        }
        at::Tensor h = m_convIn(image);
        for (const DownLevel& level : m_down) {
            for (const ResnetBlock& resnet : level.resnets) {
                h = resnet(h, {});
            }
            if (level.downsample) {
                h = (*level.downsample)(h);
            }
        }
        h = m_midResnet1(h, {});
        if (m_midAttention) {
            h = (*m_midAttention)(h);
        }
        h = m_midResnet2(h, {});
        h = m_convOut(m_normOut.withSilu(h));
        if (m_quantConv) {
            h = (*m_quantConv)(h);
        }
        // NCHW out whatever the encoder's layout, as diffusers' torch.chunk(parameters, 2, dim=1) hands them on.
        const auto halves = h.contiguous().chunk(2, 1);
        return {halves[0], at::clamp(halves[1], -30.0, 20.0)};
    }

    at::Tensor LatentDistribution::sample(at::Generator& generator) const
    {
        const LatentDistribution full = toFloat();
        // diffusers draws in the parameters' dtype on the generator's device; a float32 draw keeps the seed's noise
        // the same for every precision, as the pipeline's initial noise does.
        const at::Tensor epsilon
            = at::randn(full.mean.sizes(), generator, at::TensorOptions().dtype(at::kFloat)).to(full.mean.device());
        return full.mean + at::exp(0.5 * full.logvar) * epsilon;
    }

    LatentDistribution LatentDistribution::toFloat() const
    {
        return {mean.to(at::kFloat), logvar.to(at::kFloat)};
    }

    at::Tensor toUint8Image(const at::Tensor& decoded)
    {
        const at::Tensor unit = at::clamp(decoded.to(at::kFloat) / 2 + 0.5, 0.0, 1.0);
        // numpy_to_pil: (x * 255).round().astype(uint8); numpy and at::round both round halves to even.
        return at::round(unit * 255).to(at::kByte).permute({0, 2, 3, 1}).contiguous().to(at::kCPU);
    }

    at::Tensor fromUint8Image(const at::Tensor& pixels)
    {
        const bool batched = pixels.dim() == 4;
        if (pixels.scalar_type() != at::kByte || (pixels.dim() != 3 && !batched) || (batched && pixels.size(0) != 1)
            || pixels.size(-1) != 3) {
            throw EngineError("an init image must be uint8 RGB pixels [H, W, 3], got " + c10::str(pixels.sizes()) + " "
                              + c10::toString(pixels.scalar_type()));
        }
        const at::Tensor hwc = batched ? pixels[0] : pixels;
        // pil_to_numpy: astype(float32) / 255.0, a float32 division; then normalize: 2.0 * x - 1.0.
        const at::Tensor unit = hwc.to(at::kCPU).to(at::kFloat) / 255.0;
        return (2.0 * unit - 1.0).permute({2, 0, 1}).unsqueeze(0).contiguous();
    }
} // namespace Atelier::Engine
