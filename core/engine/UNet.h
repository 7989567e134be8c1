// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <ATen/core/Tensor.h>

#include <string>
#include <vector>

#include "DiffusionBlocks.h"

namespace Atelier::Engine
{
    class JsonConfig;

    /// The parts of diffusers' UNet2DConditionModel config that SD 1.x (and 2.x-style linear projections) use.
    struct UNetConfig
    {
        std::int64_t inChannels = 4;
        std::int64_t outChannels = 4;
        std::vector<std::int64_t> blockOutChannels{320, 640, 1280, 1280};
        std::vector<std::string> downBlockTypes{"CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D",
                                                "DownBlock2D"};
        std::vector<std::string> upBlockTypes{"UpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D",
                                              "CrossAttnUpBlock2D"};
        std::int64_t layersPerBlock = 2;
        std::vector<std::int64_t> headsPerBlock{8, 8, 8, 8}; ///< attention heads at each level
        std::vector<std::int64_t> transformerLayersPerBlock{1, 1, 1, 1};
        std::int64_t crossAttentionDim = 768;
        std::int64_t normGroups = 32;
        double normEps = 1e-5;
        std::int64_t downsamplePadding = 1;
        bool flipSinToCos = true;
        double freqShift = 0;
        bool linearProjection = false;
        std::int64_t sampleSize = 64; ///< latent size the model was trained at (64 → 512 px for SD 1.x)

        /// Reads unet/config.json: the architecture comes from the config, never from SD 1.5's sizes.
        /// Throws EngineError for missing keys, for options Atelier does not implement and for values that cannot
        /// work (channel, head, layer counts or sizes below 1, channels not divisible into the norm groups or the
        /// heads, a norm epsilon that is not a positive number).
        static UNetConfig fromConfig(const JsonConfig& config);
        std::int64_t timeEmbeddingDim() const { return blockOutChannels.front() * 4; }
    };

    /// diffusers' UNet2DConditionModel for text-to-image: predicts the noise in @p sample at @p timestep given the
    /// text embeddings.
    class UNet
    {
    public:
        static UNet load(const UNetConfig& config, const WeightSource& source);

        /// @p sample [B, C, H, W]; @p timesteps a scalar or [B] (int or float); @p context [B, tokens, dim].
        at::Tensor forward(const at::Tensor& sample, const at::Tensor& timesteps, const at::Tensor& context) const;
        const UNetConfig& config() const { return m_config; }
        /// Whether activations run channels-last (set by a WeightSource::withChannelsLast source).
        bool channelsLast() const { return m_channelsLast; }

    private:
        struct Level
        {
            std::vector<ResnetBlock> resnets;
            std::vector<SpatialTransformer> attentions; ///< empty for blocks without cross-attention
            std::optional<Downsample> downsample;
            std::optional<Upsample> upsample;
        };

        at::Tensor timeEmbedding(const at::Tensor& timesteps, std::int64_t batch, at::ScalarType dtype) const;

        UNetConfig m_config;
        bool m_channelsLast = false;
        Linear m_time1, m_time2;
        Conv2d m_convIn, m_convOut;
        std::vector<Level> m_down, m_up;
        ResnetBlock m_midResnet1, m_midResnet2;
        SpatialTransformer m_midAttention;
        GroupNorm m_normOut;
    };
} // namespace Atelier::Engine
