// SPDX-License-Identifier: GPL-3.0-or-later
//
// GEGLU's gate in one pass. The feed-forward of every SD 1.x transformer block projects to 8× its channels and
// multiplies the first half by GELU of the second. LibTorch does that as gelu() into a new tensor and a
// multiplication: the gate half is read, written and read again. Here each thread reads one pair of values and
// the matching pair of gates and writes one pair of results.

#include "EngineKernels.h"
#include "HalfPairs.cuh"

#include <cstdint>

#include <cuda_runtime.h>

namespace Atelier::Engine::Kernels
{
    namespace
    {
        __device__ float gelu(float v)
        {
            // The exact GELU, as torch.nn.functional.gelu's default and diffusers' GEGLU: x·Φ(x).
            return 0.5f * v * (1.f + erff(v * 0.70710678118654752f));
        }

        template <typename Pair>
        __global__ void geglu(const Pair* __restrict__ x, Pair* __restrict__ y, std::int64_t rows,
                              std::int64_t pairsPerHalf)
        {
            // Thread (x, y) of block (bx, by): pair bx·32 + x of rows by·64 + y, + 8, ...: 32 threads read 128
            // contiguous bytes of a row, and no index needs a division.
            const std::int64_t pair = static_cast<std::int64_t>(blockIdx.x) * PairsPerBlock + threadIdx.x;
            if (pair >= pairsPerHalf) {
                return;
            }
            const std::int64_t firstRow = static_cast<std::int64_t>(blockIdx.y) * RowsPerBlock;
            const std::int64_t endRow = firstRow + RowsPerBlock < rows ? firstRow + RowsPerBlock : rows;
            for (std::int64_t row = firstRow + threadIdx.y; row < endRow; row += RowLanes) {
                const Pair* in = x + row * 2 * pairsPerHalf + pair;
                const float2 value = PairTraits<Pair>::load(in[0]);
                const float2 gate = PairTraits<Pair>::load(in[pairsPerHalf]);
                y[row * pairsPerHalf + pair] = PairTraits<Pair>::store(value.x * gelu(gate.x), value.y * gelu(gate.y));
            }
        }
    } // namespace

    bool kernelsRunOnCurrentDevice()
    {
        // Any of the kernels will do: they are all compiled for the same architectures.
        cudaFuncAttributes attributes{};
        if (cudaFuncGetAttributes(&attributes, geglu<__half2>) == cudaSuccess) {
            return true;
        }
        (void)cudaGetLastError();
        return false;
    }

    bool gegluSupports(std::int64_t rows, std::int64_t width)
    {
        // Grid limit: row blocks on y are at most 65535.
        return rows > 0 && rowBlocksFor(rows) <= 65535 && width > 0 && width % 2 == 0;
    }

    int launchGeglu(HalfType type, const void* x, void* y, std::int64_t rows, std::int64_t width, void* stream)
    {
        if (!gegluSupports(rows, width) || !pairAligned({x, y})) {
            return static_cast<int>(cudaErrorInvalidValue);
        }
        const std::int64_t pairs = width / 2;
        const dim3 grid = tileGrid(pairs, rows);
        const dim3 block = tileBlock();
        auto* cudaStream = static_cast<cudaStream_t>(stream);
        if (type == HalfType::Float16) {
            geglu<__half2>
                <<<grid, block, 0, cudaStream>>>(static_cast<const __half2*>(x), static_cast<__half2*>(y), rows, pairs);
        } else {
            geglu<__nv_bfloat162><<<grid, block, 0, cudaStream>>>(static_cast<const __nv_bfloat162*>(x),
                                                                  static_cast<__nv_bfloat162*>(y), rows, pairs);
        }
        return static_cast<int>(cudaGetLastError());
    }
} // namespace Atelier::Engine::Kernels
