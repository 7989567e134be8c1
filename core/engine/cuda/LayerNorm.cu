// SPDX-License-Identifier: GPL-3.0-or-later
//
// LayerNorm over the channels of each token, one warp per token. The transformer blocks of SD 1.x normalise
// 320 to 1280 channels per token, three times per block; LibTorch's kernel for those widths runs at about a
// third of the memory bandwidth (docs/PERFORMANCE.md). A warp holds its row in registers, so the row is read once,
// the variance is taken around the mean in a second pass over registers rather than from a running sum of squares,
// and the result is written once.

#include "EngineKernels.h"
#include "HalfPairs.cuh"

#include <cstdint>

#include <cuda_runtime.h>

namespace Atelier::Engine::Kernels
{
    namespace
    {
        constexpr int WarpSize = 32;
        constexpr int RowsPerLayerNormBlock = 4;

        __device__ float warpSum(float v)
        {
            for (int offset = WarpSize / 2; offset > 0; offset /= 2) {
                v += __shfl_xor_sync(0xffffffffu, v, offset);
            }
            return v;
        }

        /// Lane l of a warp takes pairs l, l + 32, ... of its row: at most MaxPairsPerLane of them.
        template <typename Pair, int MaxPairsPerLane>
        __global__ void layerNorm(const Pair* __restrict__ x, Pair* __restrict__ y, const Pair* __restrict__ gamma,
                                  const Pair* __restrict__ beta, std::int64_t rows, int pairs, float eps)
        {
            const std::int64_t row = static_cast<std::int64_t>(blockIdx.x) * RowsPerLayerNormBlock + threadIdx.y;
            if (row >= rows) {
                return; // the whole warp: a warp is one row, so the shuffles below keep every lane
            }
            const int lane = static_cast<int>(threadIdx.x);
            const Pair* in = x + row * pairs;
            float2 v[MaxPairsPerLane];
            float sum = 0.f;
#pragma unroll
            for (int k = 0; k < MaxPairsPerLane; ++k) {
                const int p = lane + k * WarpSize;
                v[k] = p < pairs ? PairTraits<Pair>::load(in[p]) : make_float2(0.f, 0.f);
                sum += v[k].x + v[k].y;
            }
            const float width = static_cast<float>(2 * pairs);
            const float mean = warpSum(sum) / width;
            float squares = 0.f;
#pragma unroll
            for (int k = 0; k < MaxPairsPerLane; ++k) {
                if (lane + k * WarpSize < pairs) {
                    const float d0 = v[k].x - mean;
                    const float d1 = v[k].y - mean;
                    squares += d0 * d0 + d1 * d1;
                }
            }
            const float rstd = rsqrtf(warpSum(squares) / width + eps);
            Pair* out = y + row * pairs;
#pragma unroll
            for (int k = 0; k < MaxPairsPerLane; ++k) {
                const int p = lane + k * WarpSize;
                if (p < pairs) {
                    const float2 g = PairTraits<Pair>::load(gamma[p]);
                    const float2 b = PairTraits<Pair>::load(beta[p]);
                    out[p] = PairTraits<Pair>::store((v[k].x - mean) * rstd * g.x + b.x,
                                                     (v[k].y - mean) * rstd * g.y + b.y);
                }
            }
        }

        template <typename Pair, int MaxPairsPerLane>
        void launchWidth(const void* x, void* y, const void* gamma, const void* beta, std::int64_t rows, int pairs,
                         float eps, cudaStream_t stream)
        {
            const dim3 grid(static_cast<unsigned>((rows + RowsPerLayerNormBlock - 1) / RowsPerLayerNormBlock));
            const dim3 block(WarpSize, RowsPerLayerNormBlock);
            layerNorm<Pair, MaxPairsPerLane><<<grid, block, 0, stream>>>(
                static_cast<const Pair*>(x), static_cast<Pair*>(y), static_cast<const Pair*>(gamma),
                static_cast<const Pair*>(beta), rows, pairs, eps);
        }

        template <typename Pair>
        void launchType(const void* x, void* y, const void* gamma, const void* beta, std::int64_t rows, int pairs,
                        float eps, cudaStream_t stream)
        {
            // The smallest register tile that holds the row: SD 1.x's 320, 640 and 1280 channels take 8, 16 and 32.
            if (pairs <= 4 * WarpSize) {
                launchWidth<Pair, 4>(x, y, gamma, beta, rows, pairs, eps, stream);
            } else if (pairs <= 8 * WarpSize) {
                launchWidth<Pair, 8>(x, y, gamma, beta, rows, pairs, eps, stream);
            } else if (pairs <= 16 * WarpSize) {
                launchWidth<Pair, 16>(x, y, gamma, beta, rows, pairs, eps, stream);
            } else {
                launchWidth<Pair, 32>(x, y, gamma, beta, rows, pairs, eps, stream);
            }
        }
    } // namespace

    bool layerNormSupports(std::int64_t rows, std::int64_t width)
    {
        // Grid limit: 2³¹ − 1 blocks on x.
        return rows > 0 && rows / RowsPerLayerNormBlock < 2147483647 && width > 0 && width % 2 == 0
            && width <= LayerNormMaxWidth;
    }

    int launchLayerNorm(HalfType type, const void* x, void* y, const void* gamma, const void* beta, std::int64_t rows,
                        std::int64_t width, float eps, void* stream)
    {
        if (!layerNormSupports(rows, width) || !pairAligned({x, y, gamma, beta})) {
            return static_cast<int>(cudaErrorInvalidValue);
        }
        const int pairs = static_cast<int>(width / 2);
        auto* cudaStream = static_cast<cudaStream_t>(stream);
        if (type == HalfType::Float16) {
            launchType<__half2>(x, y, gamma, beta, rows, pairs, eps, cudaStream);
        } else {
            launchType<__nv_bfloat162>(x, y, gamma, beta, rows, pairs, eps, cudaStream);
        }
        return static_cast<int>(cudaGetLastError());
    }
} // namespace Atelier::Engine::Kernels
