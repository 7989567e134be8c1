// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <ATen/core/Tensor.h>

#include <optional>
#include <vector>

#include "Weights.h"

namespace Atelier::Engine
{
    /// diffusers' ResnetBlock2D: two (GroupNorm, SiLU, 3×3 conv) stages, an optional time-embedding bias between
    /// them, and a 1×1 shortcut when the channel count changes.
    struct ResnetBlock
    {
        GroupNorm norm1, norm2;
        Conv2d conv1, conv2;
        std::optional<Linear> timeProjection;
        std::optional<Conv2d> shortcut;
        /// Where conv1's bias is fused (Conv2d::fusesBias): the time projection's bias plus conv1's, so that one
        /// GEMM gives the whole offset norm2 adds before normalising.
        at::Tensor timeAndConvBias;
        /// Where conv2's bias is fused: conv2's bias plus the shortcut's (when there is one), in its dtype and in
        /// float32, added in the same pass as the residual.
        at::Tensor outputBias, outputBias32;

        /// @p timeChannels 0 means the block takes no time embedding (the VAE's blocks).
        static ResnetBlock load(const WeightSource& source, std::int64_t in, std::int64_t out,
                                std::int64_t timeChannels, std::int64_t groups, double eps);
        at::Tensor operator()(const at::Tensor& x, const at::Tensor& timeEmbedding) const;
    };

    /// Stride-2 3×3 convolution (diffusers' Downsample2D with use_conv). With padding 0 (the VAE encoder's, and a
    /// UNet's downsample_padding 0) diffusers pads one zero row and column at the bottom and right only, so an even
    /// size halves exactly; any other padding pads all sides.
    struct Downsample
    {
        Conv2d conv;
        bool padBottomRight = false;
        static Downsample load(const WeightSource& source, std::int64_t channels, std::int64_t padding);
        at::Tensor operator()(const at::Tensor& x) const;
    };

    /// Nearest-neighbour upsampling to @p size (normally twice the input) followed by a 3×3 convolution.
    struct Upsample
    {
        Conv2d conv;
        static Upsample load(const WeightSource& source, std::int64_t channels);
        at::Tensor operator()(const at::Tensor& x, std::optional<std::pair<std::int64_t, std::int64_t>> size) const;
    };

    /// Multi-head attention (diffusers' Attention processor, SDPA path). On CUDA the checkpoint's separate
    /// to_q/to_k/to_v projections are packed at load time into one matrix per input: [q;k;v] for self-attention,
    /// and q plus [k;v] for cross-attention. One wide GEMM instead of three narrow ones reads the input once and keeps
    /// more tensor cores busy. On the CPU they stay separate: packing gave no speed there, and the copies would
    /// replace weights that are otherwise views of the mapped file.
    struct MultiHeadAttention
    {
        /// One GEMM, giving @c parts of q, k and v (in that order across all projections) from x or the context.
        struct Projection
        {
            Linear linear;
            std::int64_t parts = 1;
            bool fromContext = false;
        };
        std::vector<Projection> projections;
        Linear out;
        std::int64_t heads = 1;

        /// @p contextDim 0 makes a self-attention layer. The projections are packed when @p pack says so, by
        /// default when @p source is on CUDA.
        static MultiHeadAttention load(const WeightSource& source, std::int64_t queryDim, std::int64_t contextDim,
                                       std::int64_t heads, std::int64_t headDim, bool qkvBias,
                                       std::optional<bool> pack = std::nullopt);
        /// @p x [B, N, C]; @p context [B, M, Cctx] for cross-attention, ignored (and may be undefined) for
        /// self-attention.
        at::Tensor operator()(const at::Tensor& x, const at::Tensor& context) const;
    };

    /// diffusers' Transformer2DModel as SD 1.x uses it: GroupNorm, projection in, BasicTransformerBlocks
    /// (self-attention, cross-attention, GEGLU feed-forward, each pre-LayerNorm with a residual), projection out,
    /// and a residual around the whole.
    struct SpatialTransformer
    {
        struct Block
        {
            LayerNorm norm1, norm2, norm3;
            MultiHeadAttention selfAttention, crossAttention;
            Linear geglu, feedForwardOut;
        };
        GroupNorm norm;
        bool linearProjection = false;
        std::optional<Conv2d> projectInConv, projectOutConv;
        std::optional<Linear> projectInLinear, projectOutLinear;
        std::vector<Block> blocks;

        static SpatialTransformer load(const WeightSource& source, std::int64_t channels, std::int64_t heads,
                                       std::int64_t contextDim, std::int64_t layers, std::int64_t groups,
                                       bool linearProjection);
        at::Tensor operator()(const at::Tensor& x, const at::Tensor& context) const;
    };

    /// The VAE's single-head spatial self-attention (diffusers' Attention with group_norm and a residual).
    struct VaeAttention
    {
        GroupNorm norm;
        MultiHeadAttention attention;
        static VaeAttention load(const WeightSource& source, std::int64_t channels, std::int64_t groups, double eps);
        at::Tensor operator()(const at::Tensor& x) const;
    };
} // namespace Atelier::Engine
