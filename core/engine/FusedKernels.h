// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <ATen/core/Tensor.h>

#include <optional>

namespace Atelier::Engine
{
    /// Whether this build carries the engine's own CUDA kernels (a build with the CUDA toolkit).
    bool fusedKernelsBuilt();

    /// Turns the engine's own CUDA kernels on or off for this process (off by default until measured on a GPU
    /// against LibTorch's; see docs/PERFORMANCE.md). Where they are off, not built, or do not take an input,
    /// LibTorch's kernels run instead, with the same results up to rounding.
    void setFusedKernels(bool enabled);
    bool fusedKernelsEnabled();

    /// GroupNorm of @p x with @p groups groups, per-channel @p gamma and @p beta and @p eps, followed by SiLU when
    /// @p silu, in one pass over a channels-last fp16 or bf16 CUDA tensor and in its layout. std::nullopt when the
    /// fused kernels are off or not built, or @p x is not such a tensor: the caller then runs LibTorch's.
    std::optional<at::Tensor> fusedGroupNorm(const at::Tensor& x, std::int64_t groups, const at::Tensor& gamma,
                                             const at::Tensor& beta, double eps, bool silu);

    /// GEGLU's gate on @p projected [..., 2·F]: its first half times the exact GELU of its second, [..., F], in one
    /// pass over a dense fp16 or bf16 CUDA tensor. std::nullopt where the fused kernels do not apply.
    std::optional<at::Tensor> fusedGeglu(const at::Tensor& projected);
} // namespace Atelier::Engine
