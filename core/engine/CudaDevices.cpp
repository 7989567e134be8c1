// SPDX-License-Identifier: GPL-3.0-or-later
#include "CudaDevices.h"

#include <ATen/Context.h>

#if ATELIER_ENGINE_CUDA
#include <ATen/cuda/CUDAContext.h>
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

    void configureCudaMath(c10::ScalarType computeDtype, bool tuneConvolutions)
    {
        at::Context& context = at::globalContext();
        context.setBenchmarkCuDNN(tuneConvolutions);
        context.setAllowTF32CuDNN(computeDtype != c10::ScalarType::Float);
        // Matmuls in a half-precision run are half precision; the float32 ones left are small.
        context.setAllowTF32CuBLAS(false);
    }
} // namespace Atelier::Engine
