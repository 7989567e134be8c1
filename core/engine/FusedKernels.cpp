// SPDX-License-Identifier: GPL-3.0-or-later
#include "FusedKernels.h"

#include <atomic>

#if ATELIER_ENGINE_CUDA
#include <ATen/cuda/CUDAContext.h>
#include <ATen/ops/empty.h>
#include <ATen/ops/empty_like.h>
#include <c10/cuda/CUDAGuard.h>
#include <cuda_runtime_api.h>

#include "EngineError.h"
#include "cuda/NhwcKernels.h"
#endif

namespace Atelier::Engine
{
    namespace
    {
        std::atomic<bool> g_fusedKernels{false};
    } // namespace

    bool fusedKernelsBuilt()
    {
        return ATELIER_ENGINE_CUDA != 0;
    }

    void setFusedKernels(bool enabled)
    {
        g_fusedKernels.store(enabled);
    }

    bool fusedKernelsEnabled()
    {
        return fusedKernelsBuilt() && g_fusedKernels.load();
    }

    std::optional<at::Tensor> fusedGroupNorm([[maybe_unused]] const at::Tensor& x, [[maybe_unused]] std::int64_t groups,
                                             [[maybe_unused]] const at::Tensor& gamma,
                                             [[maybe_unused]] const at::Tensor& beta, [[maybe_unused]] double eps,
                                             [[maybe_unused]] bool silu)
    {
#if ATELIER_ENGINE_CUDA
        const at::ScalarType type = x.scalar_type();
        if (!fusedKernelsEnabled() || !x.is_cuda() || x.dim() != 4 || (type != at::kHalf && type != at::kBFloat16)
            || !x.is_contiguous(at::MemoryFormat::ChannelsLast) || gamma.scalar_type() != type
            || beta.scalar_type() != type || !gamma.is_contiguous() || !beta.is_contiguous()
            || reinterpret_cast<std::uintptr_t>(x.const_data_ptr()) % 4 != 0) {
            return std::nullopt;
        }
        const Kernels::GroupNormShape shape{x.size(0), x.size(2) * x.size(3), x.size(1), groups};
        if (!Kernels::groupNormNhwcSupports(shape) || gamma.numel() != shape.channels
            || beta.numel() != shape.channels) {
            return std::nullopt;
        }
        // The launch goes to the current device, which must be x's for x's stream.
        const c10::cuda::CUDAGuard guard(x.device());
        at::Tensor y = at::empty_like(x, at::MemoryFormat::ChannelsLast);
        at::Tensor workspace = at::empty({static_cast<std::int64_t>(Kernels::groupNormWorkspaceFloats(shape))},
                                         x.options().dtype(at::kFloat));
        const int status = Kernels::launchGroupNormNhwc(
            type == at::kHalf ? Kernels::HalfType::Float16 : Kernels::HalfType::BFloat16, x.const_data_ptr(),
            y.mutable_data_ptr(), gamma.const_data_ptr(), beta.const_data_ptr(), workspace.mutable_data_ptr<float>(),
            shape, static_cast<float>(eps), silu, at::cuda::getCurrentCUDAStream(x.get_device()).stream());
        if (status != 0) {
            throw EngineError(std::string("fused GroupNorm kernel failed to launch: ")
                              + cudaGetErrorString(static_cast<cudaError_t>(status)));
        }
        return y;
#else
        return std::nullopt;
#endif
    }
} // namespace Atelier::Engine
