// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

// What the engine's kernels share: two 16-bit values per thread (4-byte loads and stores, converted to and from
// float32), and the tile their grids are made of.

#include <cstdint>
#include <initializer_list>

#include <cuda_bf16.h>
#include <cuda_fp16.h>

namespace Atelier::Engine::Kernels
{
    // A block is 32 × 8 threads over a tile of 64 rows: threadIdx.x takes one pair of a row (32 pairs = 128
    // contiguous bytes), threadIdx.y every 8th row of the tile.
    constexpr int PairsPerBlock = 32;
    constexpr int RowLanes = 8;
    constexpr int RowsPerBlock = 64;

    /// Blocks of RowsPerBlock rows that cover @p rows.
    inline std::int64_t rowBlocksFor(std::int64_t rows)
    {
        return (rows + RowsPerBlock - 1) / RowsPerBlock;
    }

    /// The grid of tiles over @p pairs channel pairs and @p rows rows (per image, for @p images images on z).
    inline dim3 tileGrid(std::int64_t pairs, std::int64_t rows, std::int64_t images = 1)
    {
        return {static_cast<unsigned>((pairs + PairsPerBlock - 1) / PairsPerBlock),
                static_cast<unsigned>(rowBlocksFor(rows)), static_cast<unsigned>(images)};
    }

    /// The threads of one tile.
    inline dim3 tileBlock()
    {
        return {PairsPerBlock, RowLanes};
    }

    /// Whether every one of @p pointers suits two-value loads and stores (4-byte aligned; null, an absent input,
    /// does).
    inline bool pairAligned(std::initializer_list<const void*> pointers)
    {
        for (const void* p : pointers) {
            if (reinterpret_cast<std::uintptr_t>(p) % 4 != 0) {
                return false;
            }
        }
        return true;
    }

    template <typename Pair> struct PairTraits;

    template <> struct PairTraits<__half2>
    {
        static __device__ float2 load(const __half2& v) { return __half22float2(v); }
        static __device__ __half2 store(float a, float b) { return __floats2half2_rn(a, b); }
        static __device__ float scalar(const void* p, std::int64_t i)
        {
            return __half2float(static_cast<const __half*>(p)[i]);
        }
    };

    template <> struct PairTraits<__nv_bfloat162>
    {
        static __device__ float2 load(const __nv_bfloat162& v) { return __bfloat1622float2(v); }
        static __device__ __nv_bfloat162 store(float a, float b) { return __floats2bfloat162_rn(a, b); }
        static __device__ float scalar(const void* p, std::int64_t i)
        {
            return __bfloat162float(static_cast<const __nv_bfloat16*>(p)[i]);
        }
    };
} // namespace Atelier::Engine::Kernels
