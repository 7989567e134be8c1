// SPDX-License-Identifier: GPL-3.0-or-later
#include "CudaDevices.h"

#include <ATen/Context.h>
#include <ATen/SDPBackend.h>

#include <algorithm>
#include <array>
#include <vector>

#if ATELIER_ENGINE_CUDA
#include <ATen/cuda/CUDAContext.h>
#include <c10/cuda/CUDACachingAllocator.h>
#include <c10/cuda/CUDAGuard.h>
#endif

namespace Atelier::Engine
{
    DeviceInfo describeCudaDevice(int ordinal)
    {
        DeviceInfo info{DeviceSpec{DeviceSpec::Kind::Cuda, ordinal}, "CUDA device " + std::to_string(ordinal), 0, 0, 0};
#if ATELIER_ENGINE_CUDA
        // Through LibTorch rather than the CUDA runtime directly, so the runtime torch loaded is the one asked.
        if (const cudaDeviceProp* props = at::cuda::getDeviceProperties(ordinal)) {
            info.name = props->name;
            info.totalMemory = props->totalGlobalMem;
            info.computeCapabilityMajor = props->major;
            info.computeCapabilityMinor = props->minor;
        }
#endif
        return info;
    }

    std::uint64_t freeCudaMemory([[maybe_unused]] int ordinal)
    {
#if ATELIER_ENGINE_CUDA
        const c10::cuda::CUDAGuard guard(static_cast<c10::DeviceIndex>(ordinal));
        std::size_t free = 0;
        std::size_t total = 0;
        if (cudaMemGetInfo(&free, &total) == cudaSuccess) {
            return free;
        }
#endif
        return 0;
    }

    std::uint64_t reservedCudaMemory([[maybe_unused]] int ordinal)
    {
#if ATELIER_ENGINE_CUDA
        const c10::CachingDeviceAllocator::DeviceStats stats
            = c10::cuda::CUDACachingAllocator::getDeviceStats(static_cast<c10::DeviceIndex>(ordinal));
        const auto aggregate = static_cast<std::size_t>(c10::CachingAllocator::StatType::AGGREGATE);
        return static_cast<std::uint64_t>(std::max<std::int64_t>(0, stats.reserved_bytes[aggregate].current));
#else
        return 0;
#endif
    }

    void configureCudaMath(c10::ScalarType computeDtype, bool tuneConvolutions)
    {
        at::Context& context = at::globalContext();
        context.setBenchmarkCuDNN(tuneConvolutions);
        context.setAllowTF32CuDNN(computeDtype != c10::ScalarType::Float);
        // Matmuls in a half-precision run are half precision; the float32 ones left are small.
        context.setAllowTF32CuBLAS(false);
    }

    namespace
    {
        struct NamedKernel
        {
            AttentionKernel kernel;
            const char* name;
            at::SDPBackend backend;
        };
        constexpr std::array<NamedKernel, 5> AttentionKernels{{
            {AttentionKernel::Default, "default", at::SDPBackend::error},
            {AttentionKernel::CuDnn, "cudnn", at::SDPBackend::cudnn_attention},
            {AttentionKernel::Flash, "flash", at::SDPBackend::flash_attention},
            {AttentionKernel::MemoryEfficient, "efficient", at::SDPBackend::efficient_attention},
            {AttentionKernel::Math, "math", at::SDPBackend::math},
        }};

        const NamedKernel& entryFor(AttentionKernel kernel)
        {
            for (const NamedKernel& k : AttentionKernels) {
                if (k.kernel == kernel) {
                    return k;
                }
            }
            return AttentionKernels.front();
        }
    } // namespace

    std::optional<AttentionKernel> parseAttentionKernel(std::string_view name)
    {
        for (const NamedKernel& k : AttentionKernels) {
            if (name == k.name) {
                return k.kernel;
            }
        }
        return std::nullopt;
    }

    std::string attentionKernelName(AttentionKernel kernel)
    {
        return entryFor(kernel).name;
    }

    void preferAttentionKernel(AttentionKernel kernel)
    {
        at::Context& context = at::globalContext();
        // LibTorch's order as this process found it, captured once so that Default restores it.
        static const auto defaults = context.sDPPriorityOrder();
        const at::SDPBackend first = entryFor(kernel).backend;
        std::vector<std::int64_t> order;
        if (first != at::SDPBackend::error) {
            order.push_back(static_cast<std::int64_t>(first));
        }
        for (const at::SDPBackend backend : defaults) {
            if (backend != first) {
                order.push_back(static_cast<std::int64_t>(backend));
            }
        }
        context.setSDPPriorityOrder(order);
    }
} // namespace Atelier::Engine
