// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <ATen/core/Tensor.h>

#include <optional>
#include <string>
#include <string_view>

namespace Atelier::Engine
{
    /// The engine's own CUDA kernels, each of which can be switched on or off by itself (docs/PERFORMANCE.md
    /// records what each is worth and the GPU check that admitted it to the default set).
    enum class FusedKernel : unsigned
    {
        GroupNorm = 1u << 0, ///< GroupNorm(+SiLU) on channels-last fp16/bf16
        Geglu = 1u << 1, ///< GEGLU's gate in one pass
        NormOffset = 1u << 2, ///< a ResNet's conv1 bias and time embedding folded into the GroupNorm after it
        BiasResidual = 1u << 3, ///< a channels-last convolution's bias (and the residual after it) in one pass
        LayerNorm = 1u << 4, ///< LayerNorm over the channels of fp16/bf16 tokens
    };

    /// A set of FusedKernel bits.
    using FusedKernelSet = unsigned;

    /// Every kernel the engine has.
    constexpr FusedKernelSet AllFusedKernels = 0x1f;

    /// The set a worker runs with: the kernels a GPU check has passed and measured faster than LibTorch's, unless
    /// the environment variable ATELIER_FUSED_KERNELS names another set (in parseFusedKernels()'s words).
    FusedKernelSet defaultFusedKernels();

    /// "default", "on" or "all", "off" or "none", or a comma-separated list of kernel names (groupnorm, geglu,
    /// normoffset, biasresidual, layernorm); std::nullopt for anything else.
    std::optional<FusedKernelSet> parseFusedKernels(std::string_view text);

    /// The set as a comma-separated list of names, "none" when empty.
    std::string fusedKernelsName(FusedKernelSet set);

    /// Whether this build carries the engine's own CUDA kernels (a build with the CUDA toolkit).
    bool fusedKernelsBuilt();

    /// Whether @p device is a CUDA device this build's kernels have code for (false on the CPU and without them).
    bool fusedKernelsRunOn(at::Device device);

    /// The kernels this process runs (defaultFusedKernels() until set). Where a kernel is off, not built, or does
    /// not take an input, LibTorch's kernels run instead, with the same results up to rounding.
    void setFusedKernels(FusedKernelSet set);
    FusedKernelSet fusedKernels();
    bool fusedKernelEnabled(FusedKernel kernel);

    /// GroupNorm of @p x + @p offset with @p groups groups, per-channel @p gamma and @p beta and @p eps, followed by
    /// SiLU when @p silu, over a channels-last fp16 or bf16 CUDA tensor and in its layout. @p offset (optional, in
    /// x's dtype) is [C] or [N, C]: a per-channel or per-image-and-channel bias added before normalising, which costs
    /// no pass of its own. std::nullopt when the kernel is off or not built, or does not take these inputs: the
    /// caller then runs LibTorch's (and adds @p offset itself).
    std::optional<at::Tensor> fusedGroupNorm(const at::Tensor& x, std::int64_t groups, const at::Tensor& gamma,
                                             const at::Tensor& beta, double eps, bool silu,
                                             const at::Tensor& offset = {});

    /// GEGLU's gate on @p projected [..., 2·F]: its first half times the exact GELU of its second, [..., F], in one
    /// pass over a dense fp16 or bf16 CUDA tensor. std::nullopt where the fused kernels do not apply.
    std::optional<at::Tensor> fusedGeglu(const at::Tensor& projected);

    /// In place: @p y += @p bias (per channel, float32) + @p residual (optional, y's shape, dtype and layout), in
    /// one pass over a channels-last (or, for [rows, C], dense) fp16/bf16 CUDA tensor, rounded once. false where the
    /// kernel does not apply: @p y is then untouched.
    bool fusedBiasResidual(at::Tensor& y, const at::Tensor& bias, const at::Tensor& residual);

    /// LayerNorm of @p x over its last dimension, with @p gamma, @p beta and @p eps, for a dense fp16/bf16 CUDA
    /// tensor. std::nullopt where the kernel does not apply.
    std::optional<at::Tensor> fusedLayerNorm(const at::Tensor& x, const at::Tensor& gamma, const at::Tensor& beta,
                                             double eps);
} // namespace Atelier::Engine
