// SPDX-License-Identifier: GPL-3.0-or-later
#include "DiffusionBlocks.h"

#include "FusedKernels.h"

#include <ATen/TensorOperators.h>
#include <ATen/ops/cat.h>
#include <ATen/ops/constant_pad_nd.h>
#include <ATen/ops/gelu.h>
#include <ATen/ops/linear.h>
#include <ATen/ops/scaled_dot_product_attention.h>
#include <ATen/ops/silu.h>
#include <ATen/ops/upsample_nearest2d.h>

namespace Atelier::Engine
{
    ResnetBlock ResnetBlock::load(const WeightSource& source, std::int64_t in, std::int64_t out,
                                  std::int64_t timeChannels, std::int64_t groups, double eps)
    {
        ResnetBlock block{
            GroupNorm::load(source.sub("norm1"), in, groups, eps),
            GroupNorm::load(source.sub("norm2"), out, groups, eps),
            Conv2d::load(source.sub("conv1"), in, out, 3, 1, 1),
            Conv2d::load(source.sub("conv2"), out, out, 3, 1, 1),
            std::nullopt,
            std::nullopt,
            {},
            {},
            {},
        };
        if (timeChannels > 0) {
            block.timeProjection = Linear::load(source.sub("time_emb_proj"), timeChannels, out);
        }
        if (in != out) {
            block.shortcut = Conv2d::load(source.sub("conv_shortcut"), in, out, 1);
        }
        if (block.conv1.bias32.defined() && block.timeProjection) {
            block.timeAndConvBias = block.timeProjection->bias + block.conv1.bias;
        }
        if (block.conv2.bias32.defined()) {
            block.outputBias = block.shortcut ? block.conv2.bias + block.shortcut->bias : block.conv2.bias;
            block.outputBias32 = block.shortcut ? block.conv2.bias32 + block.shortcut->bias32 : block.conv2.bias32;
        }
        return block;
    }

    at::Tensor ResnetBlock::operator()(const at::Tensor& x, const at::Tensor& timeEmbedding) const
    {
        // In place on the tensors this block made (SiLU inside withSilu, the time bias and the residual here):
        // at the VAE's last level (256 channels, 512x512, float32) each new tensor is 256 MiB. The VAE's peak falls
        // by one of them; the results are bit for bit the same.
        const bool withTime = timeProjection && timeEmbedding.defined();
        at::Tensor h = norm1.withSilu(x);
        // Its own switch, not the bias kernel's: the bias goes to norm2 here, not through a pass of its own.
        if (conv1.bias32.defined() && h.is_cuda() && fusedKernelEnabled(FusedKernel::NormOffset)) {
            // conv1's bias and the time embedding are both constant per (image, channel): norm2's kernel adds them
            // while it normalises, which saves two passes over h.
            const at::Tensor offset
                = withTime ? at::linear(at::silu(timeEmbedding), timeProjection->weight, timeAndConvBias) : conv1.bias;
            h = norm2.withSilu(conv1.convolve(h), offset);
        } else {
            h = conv1(h);
            if (withTime) {
                h.add_((*timeProjection)(at::silu(timeEmbedding)).unsqueeze(-1).unsqueeze(-1));
            }
            h = norm2.withSilu(h);
        }
        if (conv2.fusesBias(h)) {
            // Both biases and the residual in one pass over conv2's output.
            return addBiasAndResidual(conv2.convolve(h), outputBias, outputBias32,
                                      shortcut ? shortcut->convolve(x) : x);
        }
        h = conv2(h);
        return h.add_(shortcut ? (*shortcut)(x) : x);
    }

    Downsample Downsample::load(const WeightSource& source, std::int64_t channels, std::int64_t padding)
    {
        return {Conv2d::load(source.sub("conv"), channels, channels, 3, 2, padding), padding == 0};
    }

    at::Tensor Downsample::operator()(const at::Tensor& x) const
    {
        // F.pad(x, (0, 1, 0, 1)): left, right, top, bottom of the last two dimensions.
        return conv(padBottomRight ? at::constant_pad_nd(x, {0, 1, 0, 1}, 0) : x);
    }

    Upsample Upsample::load(const WeightSource& source, std::int64_t channels)
    {
        return {Conv2d::load(source.sub("conv"), channels, channels, 3, 1, 1)};
    }

    at::Tensor Upsample::operator()(const at::Tensor& x,
                                    std::optional<std::pair<std::int64_t, std::int64_t>> size) const
    {
        const std::int64_t h = size ? size->first : x.size(2) * 2;
        const std::int64_t w = size ? size->second : x.size(3) * 2;
        // Nearest-neighbour has no bfloat16 kernel on every backend; diffusers upcasts the same way.
        const bool upcast = x.scalar_type() == at::kBFloat16;
        at::Tensor up = at::upsample_nearest2d(upcast ? x.to(at::kFloat) : x, {h, w});
        return conv(upcast ? up.to(at::kBFloat16) : up);
    }

    namespace
    {
        /// Stacks the named projections' weights (and biases) along the output dimension, so one GEMM computes
        /// them all.
        Linear loadPacked(const WeightSource& source, const std::vector<std::string>& names, std::int64_t in,
                          std::int64_t out, bool withBias)
        {
            std::vector<at::Tensor> weights, biases;
            for (const std::string& name : names) {
                Linear part = Linear::load(source.sub(name), in, out, withBias);
                weights.push_back(std::move(part.weight));
                if (withBias) {
                    biases.push_back(std::move(part.bias));
                }
            }
            Linear packed{at::cat(weights), withBias ? at::cat(biases) : at::Tensor()};
            // The weights computed with are now views into the packed one.
            for (std::size_t i = 0; i < names.size(); ++i) {
                source.sub(names[i]).record("weight", packed.weight.narrow(0, static_cast<std::int64_t>(i) * out, out));
            }
            return packed;
        }
    } // namespace

    MultiHeadAttention MultiHeadAttention::load(const WeightSource& source, std::int64_t queryDim,
                                                std::int64_t contextDim, std::int64_t heads, std::int64_t headDim,
                                                bool qkvBias, std::optional<bool> pack)
    {
        const std::int64_t inner = heads * headDim;
        const bool cross = contextDim > 0;
        const std::int64_t keyDim = cross ? contextDim : queryDim;
        MultiHeadAttention attention{{}, Linear::load(source.sub("to_out.0"), inner, queryDim, true), heads};
        auto& p = attention.projections;
        if (!pack.value_or(source.options().device().is_cuda())) {
            p.push_back({Linear::load(source.sub("to_q"), queryDim, inner, qkvBias), 1, false});
            p.push_back({Linear::load(source.sub("to_k"), keyDim, inner, qkvBias), 1, cross});
            p.push_back({Linear::load(source.sub("to_v"), keyDim, inner, qkvBias), 1, cross});
        } else if (cross) {
            p.push_back({Linear::load(source.sub("to_q"), queryDim, inner, qkvBias), 1, false});
            p.push_back({loadPacked(source, {"to_k", "to_v"}, contextDim, inner, qkvBias), 2, true});
        } else {
            p.push_back({loadPacked(source, {"to_q", "to_k", "to_v"}, queryDim, inner, qkvBias), 3, false});
        }
        return attention;
    }

    at::Tensor MultiHeadAttention::operator()(const at::Tensor& x, const at::Tensor& context) const
    {
        const std::int64_t batch = x.size(0), tokens = x.size(1);
        // Each projection's [B, N, parts·heads·d] as parts × [B, heads, N, d]: strided views into the GEMM's output,
        // which the attention kernels read as they are (only the last dimension must be dense).
        std::vector<at::Tensor> qkv;
        for (const Projection& projection : projections) {
            const at::Tensor projected = projection.linear(projection.fromContext ? context : x);
            for (at::Tensor& part : projected.view({batch, projected.size(1), projection.parts, heads, -1})
                                        .permute({2, 0, 3, 1, 4})
                                        .unbind(0)) {
                qkv.push_back(std::move(part));
            }
        }
        const at::Tensor o = at::scaled_dot_product_attention(qkv[0], qkv[1], qkv[2]);
        return out(o.transpose(1, 2).reshape({batch, tokens, -1}));
    }

    SpatialTransformer SpatialTransformer::load(const WeightSource& source, std::int64_t channels, std::int64_t heads,
                                                std::int64_t contextDim, std::int64_t layers, std::int64_t groups,
                                                bool linearProjection)
    {
        SpatialTransformer t;
        // Transformer2DModel's GroupNorm uses eps 1e-6 whatever the UNet's norm_eps is.
        t.norm = GroupNorm::load(source.sub("norm"), channels, groups, 1e-6);
        t.linearProjection = linearProjection;
        if (linearProjection) {
            t.projectInLinear = Linear::load(source.sub("proj_in"), channels, channels);
            t.projectOutLinear = Linear::load(source.sub("proj_out"), channels, channels);
        } else {
            t.projectInConv = Conv2d::load(source.sub("proj_in"), channels, channels, 1);
            t.projectOutConv = Conv2d::load(source.sub("proj_out"), channels, channels, 1);
        }
        const std::int64_t headDim = channels / heads;
        for (std::int64_t i = 0; i < layers; ++i) {
            const WeightSource b = source.sub("transformer_blocks." + std::to_string(i));
            t.blocks.push_back(Block{
                LayerNorm::load(b.sub("norm1"), channels, 1e-5),
                LayerNorm::load(b.sub("norm2"), channels, 1e-5),
                LayerNorm::load(b.sub("norm3"), channels, 1e-5),
                MultiHeadAttention::load(b.sub("attn1"), channels, 0, heads, headDim, false),
                MultiHeadAttention::load(b.sub("attn2"), channels, contextDim, heads, headDim, false),
                Linear::load(b.sub("ff.net.0.proj"), channels, channels * 4 * 2),
                Linear::load(b.sub("ff.net.2"), channels * 4, channels),
            });
        }
        return t;
    }

    at::Tensor SpatialTransformer::operator()(const at::Tensor& x, const at::Tensor& context) const
    {
        const std::int64_t batch = x.size(0), channels = x.size(1), height = x.size(2), width = x.size(3);
        at::Tensor h = norm(x);
        auto toTokens = [&](const at::Tensor& t) {
            return t.permute({0, 2, 3, 1}).reshape({batch, height * width, -1});
        };
        // Back in the layout the block was given: NCHW stays NCHW; channels-last needs no copy at all.
        const at::MemoryFormat layout = x.suggest_memory_format();
        auto toImage = [&](const at::Tensor& t) {
            return t.reshape({batch, height, width, -1}).permute({0, 3, 1, 2}).contiguous(layout);
        };
        h = linearProjection ? (*projectInLinear)(toTokens(h)) : toTokens((*projectInConv)(h));
        for (const Block& block : blocks) {
            // h is this transformer's own (made by proj_in), so the residuals can go in place.
            h.add_(block.selfAttention(block.norm1(h), {}));
            h.add_(block.crossAttention(block.norm2(h), context));
            // GEGLU: value · gelu(gate), in one pass where the engine's kernels are on; otherwise multiplied into
            // gelu's own result rather than a third tensor as wide as the projection (4× the channels; at 512² and
            // UNet batch 16 that is 160 MiB).
            const at::Tensor projected = block.geglu(block.norm3(h));
            std::optional<at::Tensor> gated = fusedGeglu(projected);
            if (!gated) {
                const auto halves = projected.chunk(2, -1);
                gated = at::gelu(halves[1]).mul_(halves[0]);
            }
            h.add_(block.feedForwardOut(*gated));
        }
        (void)channels;
        if (linearProjection) {
            return toImage((*projectOutLinear)(h)).add_(x);
        }
        return projectOutConv->plusResidual(toImage(h), x);
    }

    VaeAttention VaeAttention::load(const WeightSource& source, std::int64_t channels, std::int64_t groups, double eps)
    {
        return {GroupNorm::load(source.sub("group_norm"), channels, groups, eps),
                MultiHeadAttention::load(source, channels, 0, 1, channels, true)};
    }

    at::Tensor VaeAttention::operator()(const at::Tensor& x) const
    {
        const std::int64_t batch = x.size(0), channels = x.size(1), height = x.size(2), width = x.size(3);
        at::Tensor tokens = norm(x).view({batch, channels, height * width}).transpose(1, 2);
        tokens = attention(tokens, {});
        return tokens.transpose(1, 2).reshape({batch, channels, height, width}) + x;
    }
} // namespace Atelier::Engine
