// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <ATen/core/Generator.h>
#include <ATen/core/Tensor.h>

#include <vector>

#include "DiffusionBlocks.h"

namespace Atelier::Engine
{
    class JsonConfig;

    /// The parts of diffusers' AutoencoderKL config that shape the encoder and the decoder.
    struct VaeConfig
    {
        std::vector<std::int64_t> blockOutChannels{128, 256, 512, 512};
        std::int64_t layersPerBlock = 2;
        std::int64_t latentChannels = 4;
        std::int64_t inChannels = 3; ///< the encoder's input (image) channels
        std::int64_t outChannels = 3;
        std::int64_t normGroups = 32;
        double scalingFactor = 0.18215;
        bool quantConv = true;
        bool postQuantConv = true;
        bool midAttention = true;

        /// Reads vae/config.json; throws EngineError naming a missing key, an unsupported option or a value that
        /// cannot work (a channel or layer count below 1, channels not divisible into the norm groups, a scaling
        /// factor that is not a positive number). The encoder's "in_channels" and "down_block_types" may be
        /// absent (diffusers' defaults: 3, and the blocks it supports); when present, in_channels must be a positive
        /// integer and down_block_types one "DownEncoderBlock2D" per block.
        static VaeConfig fromConfig(const JsonConfig& config);
        /// How many times larger than the latents the decoded image is (8 for SD 1.x).
        std::int64_t upscale() const { return std::int64_t{1} << (blockOutChannels.size() - 1); }
    };

    /// AutoencoderKL's decoder: latents → image in [-1, 1] (not clamped).
    class VaeDecoder
    {
    public:
        static VaeDecoder load(const VaeConfig& config, const WeightSource& source);

        /// @p latents are the denoised latents as the sampler leaves them; they are divided by the scaling factor
        /// here, as the pipeline does before vae.decode.
        at::Tensor decode(const at::Tensor& latents) const;
        const VaeConfig& config() const { return m_config; }

    private:
        struct UpLevel
        {
            std::vector<ResnetBlock> resnets;
            std::optional<Upsample> upsample;
        };

        VaeConfig m_config;
        std::optional<Conv2d> m_postQuantConv;
        Conv2d m_convIn, m_convOut;
        ResnetBlock m_midResnet1, m_midResnet2;
        std::optional<VaeAttention> m_midAttention;
        std::vector<UpLevel> m_up;
        GroupNorm m_normOut;
    };

    /// The encoder's output for a batch of images: diffusers' DiagonalGaussianDistribution over the latents
    /// (before the scaling factor).
    struct LatentDistribution
    {
        at::Tensor mean; ///< [B, C, h, w]
        at::Tensor logvar; ///< [B, C, h, w], clamped to [-30, 20] as diffusers clamps it

        /// mean + exp(0.5·logvar)·ε, in float32 on mean's device, with ε = at::randn of mean's shape drawn in
        /// float32 from the CPU @p generator (then moved): diffusers' `latent_dist.sample(generator)`, i.e.
        /// `retrieve_latents(..., sample_mode="sample")`, with a CPU generator. One draw from @p generator per call.
        at::Tensor sample(at::Generator& generator) const;
        /// The same distribution in float32.
        LatentDistribution toFloat() const;
    };

    /// AutoencoderKL's encoder and quant_conv: image in [-1, 1] → the latent distribution. Built from the same
    /// blocks as the decoder (ResnetBlock, Downsample with diffusers' bottom-right padding, VaeAttention).
    class VaeEncoder
    {
    public:
        /// Loads "encoder.*" and "quant_conv.*" (when config.quantConv) from @p source, named as in a diffusers
        /// vae/ folder (a single-file checkpoint maps them with vaeKeyMap()).
        static VaeEncoder load(const VaeConfig& config, const WeightSource& source);

        /// @p image [B, inChannels, H, W] in [-1, 1], in the encoder's dtype and on its device; H and W multiples of
        /// config().upscale() give latents [B, C, H / upscale, W / upscale]. The result is in the encoder's dtype.
        LatentDistribution encode(const at::Tensor& image) const;
        const VaeConfig& config() const { return m_config; }

    private:
        struct DownLevel
        {
            std::vector<ResnetBlock> resnets;
            std::optional<Downsample> downsample;
        };

        VaeConfig m_config;
        Conv2d m_convIn, m_convOut;
        std::vector<DownLevel> m_down;
        ResnetBlock m_midResnet1, m_midResnet2;
        std::optional<VaeAttention> m_midAttention;
        GroupNorm m_normOut;
        std::optional<Conv2d> m_quantConv;
    };

    /// The pipeline's post-processing: [-1, 1] NCHW → uint8 NHWC, clamp((x + 1) / 2) × 255 rounded,
    /// exactly as diffusers' VaeImageProcessor and numpy_to_pil do. Returns a CPU tensor.
    at::Tensor toUint8Image(const at::Tensor& decoded);

    /// The inverse for an init image: uint8 RGB pixels [H, W, 3] or [1, H, W, 3] (any device) → float32
    /// [1, 3, H, W] in [-1, 1] on the CPU, as diffusers' VaeImageProcessor.preprocess makes it from a PIL image:
    /// float32(p) / 255, then 2x − 1 (which can differ from p / 127.5 − 1 in the last bit).
    at::Tensor fromUint8Image(const at::Tensor& pixels);
} // namespace Atelier::Engine
