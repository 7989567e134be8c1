// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "Devices.h"

#include <c10/core/ScalarType.h>

#include <optional>
#include <string>
#include <string_view>

namespace Atelier::Engine
{
    /// Name, memory and compute capability of CUDA device @p ordinal. Only called for ordinals below
    /// cudaDeviceCount(); in builds without CUDA it is never reached and reports a generic entry.
    DeviceInfo describeCudaDevice(int ordinal);

    /// Sets cuDNN and cuBLAS up for a process that runs models computing in @p computeDtype on CUDA:
    /// - @p tuneConvolutions lets cuDNN time its algorithms once per shape. The worker leaves it off: on an H200
    ///   (torch 2.11, cuDNN 9.19) timing the candidates allocated 131 GiB at 512x512 batch 1, memory the caching
    ///   allocator then keeps from the batch sizer and every other process on the card, for no speed at all
    ///   (10.81 ms per UNet step tuned, 10.71 ms untuned); CUDNN_CONV_WSCAP_DBG=1024 did not lower that peak.
    /// - TF32 is never used when @p computeDtype is float32: an artist asks for float32 to get float32 results,
    ///   and TF32 convolutions missed diffusers' float32 goldens by up to 0.1. In fp16 and bf16 runs it is allowed
    ///   in convolutions, where only float32 VAE decodes see it (bf16 runs', fp16 runs' overflow retries), whose
    ///   output is rounded to 8 bits anyway.
    /// Call it before the first convolution; a no-op for what a build without CUDA cannot reach.
    void configureCudaMath(c10::ScalarType computeDtype, bool tuneConvolutions);

    /// LibTorch's scaled_dot_product_attention kernels on CUDA, for preferAttentionKernel().
    enum class AttentionKernel
    {
        Default, ///< LibTorch's own order: flash, memory-efficient, math, cuDNN
        CuDnn, ///< cuDNN's fused attention (on Hopper, kernels written for it)
        Flash, ///< FlashAttention-2
        MemoryEfficient, ///< xFormers' CUTLASS kernel
        Math, ///< unfused matmul-softmax-matmul (float32 inside for fp16/bf16)
    };

    /// "default", "cudnn", "flash", "efficient" or "math"; std::nullopt for anything else.
    std::optional<AttentionKernel> parseAttentionKernel(std::string_view name);
    std::string attentionKernelName(AttentionKernel kernel);

    /// Makes scaled_dot_product_attention try @p kernel first, process-wide. Where it cannot take a call (a head
    /// width or dtype it lacks), LibTorch falls back along its default order, so every choice computes the same
    /// attention. A no-op on the CPU, whose SDPA has one fused kernel.
    void preferAttentionKernel(AttentionKernel kernel);
} // namespace Atelier::Engine
