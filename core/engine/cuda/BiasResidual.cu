// SPDX-License-Identifier: GPL-3.0-or-later
//
// A convolution's bias and the residual after it, in one pass. LibTorch's cuDNN convolution adds its bias in a
// pass of its own, a broadcast over a channels-last tensor that its vectorised kernels do not take, and the ResNet
// block or transformer then adds its residual in another. Here the convolution runs without its bias and one
// kernel reads its output and the residual once, adds both in float32 and writes the sum over the output.

#include "EngineKernels.h"
#include "HalfPairs.cuh"

#include <cstdint>

#include <cuda_runtime.h>

namespace Atelier::Engine::Kernels
{
    namespace
    {
        template <typename Pair>
        __global__ void biasResidual(Pair* __restrict__ y, const float* __restrict__ bias,
                                     const Pair* __restrict__ residual, std::int64_t rows, std::int64_t pairs)
        {
            // The tile of HalfPairs.cuh: each thread keeps one channel pair's bias down every 8th row of 64.
            const std::int64_t pair = static_cast<std::int64_t>(blockIdx.x) * PairsPerBlock + threadIdx.x;
            if (pair >= pairs) {
                return;
            }
            const float b0 = bias[2 * pair];
            const float b1 = bias[2 * pair + 1];
            const std::int64_t firstRow = static_cast<std::int64_t>(blockIdx.y) * RowsPerBlock;
            const std::int64_t endRow = firstRow + RowsPerBlock < rows ? firstRow + RowsPerBlock : rows;
            for (std::int64_t row = firstRow + threadIdx.y; row < endRow; row += RowLanes) {
                const std::int64_t i = row * pairs + pair;
                const float2 v = PairTraits<Pair>::load(y[i]);
                float a = v.x + b0;
                float b = v.y + b1;
                if (residual) {
                    const float2 r = PairTraits<Pair>::load(residual[i]);
                    a += r.x;
                    b += r.y;
                }
                y[i] = PairTraits<Pair>::store(a, b);
            }
        }
    } // namespace

    bool biasResidualSupports(std::int64_t rows, std::int64_t channels)
    {
        // Grid limit: row blocks on y are at most 65535.
        return rows > 0 && rowBlocksFor(rows) <= 65535 && channels > 0 && channels % 2 == 0;
    }

    int launchBiasResidual(HalfType type, void* y, const float* bias, const void* residual, std::int64_t rows,
                           std::int64_t channels, void* stream)
    {
        if (!biasResidualSupports(rows, channels) || !pairAligned({y, residual}) || bias == nullptr) {
            return static_cast<int>(cudaErrorInvalidValue);
        }
        const std::int64_t pairs = channels / 2;
        const dim3 grid = tileGrid(pairs, rows);
        const dim3 block = tileBlock();
        auto* cudaStream = static_cast<cudaStream_t>(stream);
        if (type == HalfType::Float16) {
            biasResidual<__half2><<<grid, block, 0, cudaStream>>>(static_cast<__half2*>(y), bias,
                                                                  static_cast<const __half2*>(residual), rows, pairs);
        } else {
            biasResidual<__nv_bfloat162><<<grid, block, 0, cudaStream>>>(
                static_cast<__nv_bfloat162*>(y), bias, static_cast<const __nv_bfloat162*>(residual), rows, pairs);
        }
        return static_cast<int>(cudaGetLastError());
    }
} // namespace Atelier::Engine::Kernels
