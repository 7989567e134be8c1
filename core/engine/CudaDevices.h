// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "Devices.h"

#include <c10/core/ScalarType.h>

namespace Atelier::Engine
{
    /// Name, memory and compute capability of CUDA device @p ordinal. Only called for ordinals below
    /// cudaDeviceCount(); in builds without CUDA it is never reached and reports a generic entry.
    DeviceInfo describeCudaDevice(int ordinal);

    /// The largest workspace, in MiB, a cuDNN convolution may use (CUDNN_CONV_WSCAP_DBG, unless already set).
    inline constexpr int ConvolutionWorkspaceCapMiB = 1024;

    /// Sets cuDNN and cuBLAS up for a process that runs models computing in @p computeDtype on CUDA:
    /// - @p tuneConvolutions lets cuDNN time its algorithms once per shape (shapes repeat for a whole queue). Timing
    ///   allocates each candidate's workspace, and uncapped that took 131 GiB of an H200 at 512x512 (max allocated),
    ///   memory the caching allocator then keeps from the batch sizer and from every other process on the card; so
    ///   a convolution's workspace is capped at ConvolutionWorkspaceCapMiB.
    /// - TF32 is never used when @p computeDtype is float32: an artist asks for float32 to get float32 results,
    ///   and TF32 convolutions missed diffusers' float32 goldens by up to 0.1. In fp16 and bf16 runs it is allowed
    ///   in convolutions, where only the float32 VAE decoder sees it and its output is rounded to 8 bits anyway.
    /// Call it before the first convolution; a no-op for what a build without CUDA cannot reach.
    void configureCudaMath(c10::ScalarType computeDtype, bool tuneConvolutions);
} // namespace Atelier::Engine
