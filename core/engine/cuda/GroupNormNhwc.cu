// SPDX-License-Identifier: GPL-3.0-or-later
//
// GroupNorm (+ SiLU) on channels-last activations. LibTorch's CUDA GroupNorm only reads NCHW: given a
// channels-last tensor it copies it to NCHW first and returns NCHW, which the next channels-last convolution copies
// back, and SiLU is one more pass. Here the UNet's GroupNorm-SiLU pairs read the activation twice and write it
// once, in the layout the convolutions use.
//
// Three kernels, all in a fixed summation order (results do not vary from run to run):
// 1. channelSums: per image, per block of 64 rows, the sum and sum of squares of every channel, taken around the
//    channel's value in the image's first row (a shift that keeps float32 sums accurate when a channel's mean is
//    large against its spread).
// 2. groupScales: per (image, group), those partial sums un-shifted and combined in float64 into mean and 1/std,
//    folded with gamma and beta into one scale and shift per (image, channel). An optional per-(image, channel)
//    offset o (a convolution's bias, a ResNet's time embedding) is normalised as if it had been added to x: it only
//    moves each channel's pivot and the shift, so it costs no pass over the activation.
// 3. applyScales: y = x·scale + shift (then SiLU). It runs on the same grid as channelSums, each thread on one
//    channel pair down a column of rows, so a thread loads its scale and shift once and does no index division.

#include "EngineKernels.h"
#include "HalfPairs.cuh"

#include <cstdint>

#include <cuda_runtime.h>

namespace Atelier::Engine::Kernels
{
    namespace
    {
        constexpr int GroupThreads = 128;

        std::int64_t rowBlocks(const GroupNormShape& s)
        {
            return rowBlocksFor(s.pixels);
        }

        /// partial[((n·rowBlocks + b)·C + c)·2 + {0, 1}] = Σ d, Σ d² over block b's rows of image n, channel c,
        /// where d = x − x[n, row 0, c].
        template <typename Pair>
        __global__ void channelSums(const Pair* __restrict__ x, float* __restrict__ partial, std::int64_t pixels,
                                    std::int64_t pairs)
        {
            __shared__ float lanes[RowLanes][PairsPerBlock][4];
            const std::int64_t pair = static_cast<std::int64_t>(blockIdx.x) * PairsPerBlock + threadIdx.x;
            const std::int64_t image = blockIdx.z;
            const std::int64_t firstRow = static_cast<std::int64_t>(blockIdx.y) * RowsPerBlock;
            const std::int64_t endRow = firstRow + RowsPerBlock < pixels ? firstRow + RowsPerBlock : pixels;
            float sum0 = 0.f, squares0 = 0.f, sum1 = 0.f, squares1 = 0.f;
            if (pair < pairs) {
                const Pair* column = x + image * pixels * pairs + pair;
                const float2 pivot = PairTraits<Pair>::load(column[0]);
                for (std::int64_t row = firstRow + threadIdx.y; row < endRow; row += RowLanes) {
                    const float2 v = PairTraits<Pair>::load(column[row * pairs]);
                    const float d0 = v.x - pivot.x;
                    const float d1 = v.y - pivot.y;
                    sum0 += d0;
                    squares0 += d0 * d0;
                    sum1 += d1;
                    squares1 += d1 * d1;
                }
            }
            lanes[threadIdx.y][threadIdx.x][0] = sum0;
            lanes[threadIdx.y][threadIdx.x][1] = squares0;
            lanes[threadIdx.y][threadIdx.x][2] = sum1;
            lanes[threadIdx.y][threadIdx.x][3] = squares1;
            __syncthreads();
            if (threadIdx.y == 0 && pair < pairs) {
                float total[4] = {0.f, 0.f, 0.f, 0.f};
                for (int lane = 0; lane < RowLanes; ++lane) {
                    for (int k = 0; k < 4; ++k) {
                        total[k] += lanes[lane][threadIdx.x][k];
                    }
                }
                // Channels 2p and 2p+1: (Σd, Σd²) of each, side by side.
                float* out = partial + ((image * gridDim.y + blockIdx.y) * pairs + pair) * 4;
                for (int k = 0; k < 4; ++k) {
                    out[k] = total[k];
                }
            }
        }

        template <typename Pair> __device__ float offsetOf(const void* offset, std::int64_t i)
        {
            return offset ? PairTraits<Pair>::scalar(offset, i) : 0.f;
        }

        /// scaleShift[(n·C + c)·2 + {0, 1}] = gamma[c]·rstd, beta[c] − mean·gamma[c]·rstd for group g = blockIdx.x
        /// of image n = blockIdx.y.
        template <typename Pair>
        __global__ void groupScales(const void* __restrict__ x, const float* __restrict__ partial,
                                    const void* __restrict__ gamma, const void* __restrict__ beta,
                                    const void* __restrict__ offset, std::int64_t offsetImageStride,
                                    float* __restrict__ scaleShift, std::int64_t pixels, std::int64_t channels,
                                    std::int64_t groupWidth, std::int64_t blocksOfRows, float eps)
        {
            __shared__ double sums[GroupThreads];
            __shared__ double squares[GroupThreads];
            __shared__ float meanAndRstd[2];
            const std::int64_t group = blockIdx.x;
            const std::int64_t image = blockIdx.y;
            // Un-shifted in float64, term by term over (block of rows, channel): with k the channel's pivot,
            // Σx = Σd + n·k and Σx² = Σd² + 2k·Σd + n·k², where the n terms come in once per channel (block 0).
            // With an offset o, x + o = d + (k + o): the same sums around the pivot k + o.
            double sum = 0.0, sumSquares = 0.0;
            const double n = static_cast<double>(pixels);
            const std::int64_t terms = blocksOfRows * groupWidth;
            for (std::int64_t i = threadIdx.x; i < terms; i += GroupThreads) {
                const std::int64_t block = i / groupWidth;
                const std::int64_t channel = group * groupWidth + i % groupWidth;
                const float* p = partial + ((image * blocksOfRows + block) * channels + channel) * 2;
                const double pivot = PairTraits<Pair>::scalar(x, image * pixels * channels + channel)
                    + offsetOf<Pair>(offset, image * offsetImageStride + channel);
                sum += p[0];
                sumSquares += p[1] + 2.0 * pivot * p[0];
                if (block == 0) {
                    sum += n * pivot;
                    sumSquares += n * pivot * pivot;
                }
            }
            sums[threadIdx.x] = sum;
            squares[threadIdx.x] = sumSquares;
            __syncthreads();
            for (int stride = GroupThreads / 2; stride > 0; stride /= 2) {
                if (threadIdx.x < stride) {
                    sums[threadIdx.x] += sums[threadIdx.x + stride];
                    squares[threadIdx.x] += squares[threadIdx.x + stride];
                }
                __syncthreads();
            }
            if (threadIdx.x == 0) {
                const double count = static_cast<double>(pixels * groupWidth);
                const double mean = sums[0] / count;
                const double variance = fmax(squares[0] / count - mean * mean, 0.0);
                meanAndRstd[0] = static_cast<float>(mean);
                meanAndRstd[1] = static_cast<float>(rsqrt(variance + static_cast<double>(eps)));
            }
            __syncthreads();
            for (std::int64_t i = threadIdx.x; i < groupWidth; i += GroupThreads) {
                const std::int64_t channel = group * groupWidth + i;
                const float scale = PairTraits<Pair>::scalar(gamma, channel) * meanAndRstd[1];
                float* out = scaleShift + (image * channels + channel) * 2;
                out[0] = scale;
                // y = (x + o − mean)·scale + beta = x·scale + ((o − mean)·scale + beta).
                const float o = offsetOf<Pair>(offset, image * offsetImageStride + channel);
                out[1] = PairTraits<Pair>::scalar(beta, channel) + (o - meanAndRstd[0]) * scale;
            }
        }

        __device__ float siluOf(float v)
        {
            return v / (1.f + __expf(-v));
        }

        template <typename Pair, bool Silu>
        __global__ void applyScales(const Pair* __restrict__ x, Pair* __restrict__ y,
                                    const float4* __restrict__ scaleShift, std::int64_t pixels, std::int64_t pairs)
        {
            const std::int64_t pair = static_cast<std::int64_t>(blockIdx.x) * PairsPerBlock + threadIdx.x;
            if (pair >= pairs) {
                return;
            }
            const std::int64_t image = blockIdx.z;
            const std::int64_t firstRow = static_cast<std::int64_t>(blockIdx.y) * RowsPerBlock;
            const std::int64_t endRow = firstRow + RowsPerBlock < pixels ? firstRow + RowsPerBlock : pixels;
            // Channels 2p and 2p+1 of image n: (scale, shift, scale, shift), 16 aligned bytes.
            const float4 s = scaleShift[image * pairs + pair];
            const std::int64_t offset = image * pixels * pairs + pair;
            for (std::int64_t row = firstRow + threadIdx.y; row < endRow; row += RowLanes) {
                const float2 v = PairTraits<Pair>::load(x[offset + row * pairs]);
                float a = v.x * s.x + s.y;
                float b = v.y * s.z + s.w;
                if constexpr (Silu) {
                    a = siluOf(a);
                    b = siluOf(b);
                }
                y[offset + row * pairs] = PairTraits<Pair>::store(a, b);
            }
        }

        template <typename Pair>
        int launch(const void* x, void* y, const void* gamma, const void* beta, const void* offset,
                   std::int64_t offsetImageStride, float* workspace, const GroupNormShape& s, float eps, bool silu,
                   cudaStream_t stream)
        {
            const std::int64_t pairs = s.channels / 2;
            const std::int64_t blocksOfRows = rowBlocks(s);
            float* partial = workspace;
            float* scaleShift = workspace + s.batch * blocksOfRows * s.channels * 2;

            const dim3 grid = tileGrid(pairs, s.pixels, s.batch);
            const dim3 block = tileBlock();
            channelSums<Pair><<<grid, block, 0, stream>>>(static_cast<const Pair*>(x), partial, s.pixels, pairs);

            const dim3 groupGrid(static_cast<unsigned>(s.groups), static_cast<unsigned>(s.batch));
            groupScales<Pair><<<groupGrid, GroupThreads, 0, stream>>>(
                x, partial, gamma, beta, offset, offsetImageStride, scaleShift, s.pixels, s.channels,
                s.channels / s.groups, blocksOfRows, eps);

            auto* out = static_cast<Pair*>(y);
            const auto* in = static_cast<const Pair*>(x);
            const auto* factors = reinterpret_cast<const float4*>(scaleShift);
            if (silu) {
                applyScales<Pair, true><<<grid, block, 0, stream>>>(in, out, factors, s.pixels, pairs);
            } else {
                applyScales<Pair, false><<<grid, block, 0, stream>>>(in, out, factors, s.pixels, pairs);
            }
            return static_cast<int>(cudaGetLastError());
        }
    } // namespace

    std::size_t groupNormWorkspaceFloats(const GroupNormShape& shape)
    {
        // Partial sums, then scale and shift; both are float pairs per channel, so the second part stays 16-byte
        // aligned (float4 loads) whenever the channel count is even.
        return static_cast<std::size_t>(shape.batch * rowBlocks(shape) * shape.channels * 2
                                        + shape.batch * shape.channels * 2);
    }

    bool groupNormNhwcSupports(const GroupNormShape& shape)
    {
        // Grid limits: row blocks on y and images on z are at most 65535 each.
        return shape.batch > 0 && shape.batch <= 65535 && shape.pixels > 0 && rowBlocks(shape) <= 65535
            && shape.channels > 0 && shape.channels % 2 == 0 && shape.groups > 0 && shape.channels % shape.groups == 0;
    }

    int launchGroupNormNhwc(HalfType type, const void* x, void* y, const void* gamma, const void* beta,
                            const void* offset, std::int64_t offsetImageStride, float* workspace,
                            const GroupNormShape& shape, float eps, bool silu, void* stream)
    {
        if (!groupNormNhwcSupports(shape) || !pairAligned({x, y})
            || reinterpret_cast<std::uintptr_t>(workspace) % 16 != 0) {
            return static_cast<int>(cudaErrorInvalidValue);
        }
        auto* cudaStream = static_cast<cudaStream_t>(stream);
        return type == HalfType::Float16
            ? launch<__half2>(x, y, gamma, beta, offset, offsetImageStride, workspace, shape, eps, silu, cudaStream)
            : launch<__nv_bfloat162>(x, y, gamma, beta, offset, offsetImageStride, workspace, shape, eps, silu,
                                     cudaStream);
    }
} // namespace Atelier::Engine::Kernels
