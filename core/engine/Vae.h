// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <ATen/core/Tensor.h>

#include <vector>

#include "DiffusionBlocks.h"

namespace Atelier::Engine
{
    class JsonConfig;

    /// The parts of diffusers' AutoencoderKL config that shape the decoder.
    struct VaeConfig
    {
        std::vector<std::int64_t> blockOutChannels{128, 256, 512, 512};
        std::int64_t layersPerBlock = 2;
        std::int64_t latentChannels = 4;
        std::int64_t outChannels = 3;
        std::int64_t normGroups = 32;
        double scalingFactor = 0.18215;
        bool postQuantConv = true;
        bool midAttention = true;

        /// Reads vae/config.json; throws EngineError naming a missing key, an unsupported option or a value that
        /// cannot work (a channel or layer count below 1, channels not divisible into the norm groups, a scaling
        /// factor that is not a positive number).
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

    /// The pipeline's post-processing: [-1, 1] NCHW → uint8 NHWC, clamp((x + 1) / 2) × 255 rounded,
    /// exactly as diffusers' VaeImageProcessor and numpy_to_pil do. Returns a CPU tensor.
    at::Tensor toUint8Image(const at::Tensor& decoded);
} // namespace Atelier::Engine
