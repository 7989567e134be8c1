// SPDX-License-Identifier: GPL-3.0-or-later
//
// GEGLU's gate in one pass. The feed-forward of every SD 1.x transformer block projects to 8× its channels and
// multiplies the first half by GELU of the second. LibTorch does that as gelu() into a new tensor and a
// multiplication: the gate half is read, written and read again. Here each thread reads one pair of values and
// the matching pair of gates and writes one pair of results.

#include "EngineKernels.h"

#include <cstdint>

#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>

namespace Atelier::Engine::Kernels
{
    namespace
    {
        constexpr int PairsPerBlock = 32;
        constexpr int RowLanes = 8;
        constexpr int RowsPerBlock = 64;

        __device__ float2 toFloat2(const __half2& v)
        {
            return __half22float2(v);
        }
        __device__ float2 toFloat2(const __nv_bfloat162& v)
        {
            return __bfloat1622float2(v);
        }
        template <typename Pair> __device__ Pair fromFloats(float a, float b);
        template <> __device__ __half2 fromFloats<__half2>(float a, float b)
        {
            return __floats2half2_rn(a, b);
        }
        template <> __device__ __nv_bfloat162 fromFloats<__nv_bfloat162>(float a, float b)
        {
            return __floats2bfloat162_rn(a, b);
        }

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
                const float2 value = toFloat2(in[0]);
                const float2 gate = toFloat2(in[pairsPerHalf]);
                y[row * pairsPerHalf + pair] = fromFloats<Pair>(value.x * gelu(gate.x), value.y * gelu(gate.y));
            }
        }
    } // namespace

    int launchGeglu(HalfType type, const void* x, void* y, std::int64_t rows, std::int64_t width, void* stream)
    {
        const std::int64_t rowBlocks = (rows + RowsPerBlock - 1) / RowsPerBlock;
        if (rows <= 0 || width <= 0 || width % 2 != 0 || rowBlocks > 65535
            || reinterpret_cast<std::uintptr_t>(x) % 4 != 0 || reinterpret_cast<std::uintptr_t>(y) % 4 != 0) {
            return static_cast<int>(cudaErrorInvalidValue);
        }
        const std::int64_t pairs = width / 2;
        const dim3 grid(static_cast<unsigned>((pairs + PairsPerBlock - 1) / PairsPerBlock),
                        static_cast<unsigned>(rowBlocks));
        const dim3 block(PairsPerBlock, RowLanes);
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
