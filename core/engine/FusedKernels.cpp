// SPDX-License-Identifier: GPL-3.0-or-later
#include "FusedKernels.h"

#include <atomic>
#include <vector>

#if ATELIER_ENGINE_CUDA
#include <ATen/cuda/CUDAContext.h>
#include <ATen/ops/empty.h>
#include <ATen/ops/empty_like.h>
#include <c10/cuda/CUDAGuard.h>
#include <cuda_runtime_api.h>

#include "EngineError.h"
#include "cuda/EngineKernels.h"
#endif

namespace Atelier::Engine
{
    namespace
    {
        std::atomic<bool> g_fusedKernels{false};

#if ATELIER_ENGINE_CUDA
        /// The kernels' element type for @p t, when the kernels are on and @p t is a 4-byte aligned fp16 or bf16
        /// CUDA tensor (every kernel moves two values at a time); std::nullopt otherwise.
        std::optional<Kernels::HalfType> kernelTypeOf(const at::Tensor& t)
        {
            if (!fusedKernelsEnabled() || !t.is_cuda()
                || reinterpret_cast<std::uintptr_t>(t.const_data_ptr()) % 4 != 0) {
                return std::nullopt;
            }
            switch (t.scalar_type()) {
            case at::kHalf:
                return Kernels::HalfType::Float16;
            case at::kBFloat16:
                return Kernels::HalfType::BFloat16;
            default:
                return std::nullopt;
            }
        }

        void* streamOf(const at::Tensor& t)
        {
            return at::cuda::getCurrentCUDAStream(t.get_device()).stream();
        }

        void checkLaunch(const char* kernel, int status)
        {
            if (status != 0) {
                throw EngineError(std::string("the fused ") + kernel + " kernel failed to launch: "
                                  + cudaGetErrorString(static_cast<cudaError_t>(status)));
            }
        }
#endif
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
        const std::optional<Kernels::HalfType> type = kernelTypeOf(x);
        if (!type || x.dim() != 4 || !x.is_contiguous(at::MemoryFormat::ChannelsLast)
            || gamma.scalar_type() != x.scalar_type() || beta.scalar_type() != x.scalar_type()
            || gamma.device() != x.device() || beta.device() != x.device() || !gamma.is_contiguous()
            || !beta.is_contiguous()) {
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
        checkLaunch("GroupNorm",
                    Kernels::launchGroupNormNhwc(
                        *type, x.const_data_ptr(), y.mutable_data_ptr(), gamma.const_data_ptr(), beta.const_data_ptr(),
                        workspace.mutable_data_ptr<float>(), shape, static_cast<float>(eps), silu, streamOf(x)));
        return y;
#else
        return std::nullopt;
#endif
    }

    std::optional<at::Tensor> fusedGeglu([[maybe_unused]] const at::Tensor& projected)
    {
#if ATELIER_ENGINE_CUDA
        const std::optional<Kernels::HalfType> type = kernelTypeOf(projected);
        if (!type || projected.dim() < 1 || !projected.is_contiguous() || projected.size(-1) % 2 != 0
            || projected.numel() == 0) {
            return std::nullopt;
        }
        const std::int64_t width = projected.size(-1) / 2;
        const std::int64_t rows = projected.numel() / projected.size(-1);
        if (!Kernels::gegluSupports(rows, width)) {
            return std::nullopt;
        }
        std::vector<std::int64_t> shape = projected.sizes().vec();
        shape.back() = width;
        const c10::cuda::CUDAGuard guard(projected.device());
        at::Tensor y = at::empty(shape, projected.options());
        checkLaunch("GEGLU",
                    Kernels::launchGeglu(*type, projected.const_data_ptr(), y.mutable_data_ptr(), rows, width,
                                         streamOf(projected)));
        return y;
#else
        return std::nullopt;
#endif
    }
} // namespace Atelier::Engine
