// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

// Launchers for the engine's own CUDA kernels. Plain C++ on purpose: the .cu files that define them see no ATen
// header, so nvcc compiles them in seconds, and callers (FusedKernels.cpp) deal in tensors and streams.

#include <cstddef>
#include <cstdint>

namespace Atelier::Engine::Kernels
{
    /// The 16-bit element types the kernels are built for.
    enum class HalfType
    {
        Float16,
        BFloat16
    };

    /// A channels-last (NHWC) activation: @p batch images of @p pixels (H·W) rows of @p channels values each,
    /// normalised in @p groups groups of consecutive channels.
    struct GroupNormShape
    {
        std::int64_t batch = 0;
        std::int64_t pixels = 0;
        std::int64_t channels = 0;
        std::int64_t groups = 0;
    };

    /// Whether launchGroupNormNhwc() takes @p shape: an even channel count that @p groups divides, and at most
    /// 65535 images and 65535·64 pixels per image (4.2 megapixels).
    bool groupNormNhwcSupports(const GroupNormShape& shape);

    /// How many floats of scratch memory launchGroupNormNhwc() needs for @p shape.
    std::size_t groupNormWorkspaceFloats(const GroupNormShape& shape);

    /// y = GroupNorm(x + o)·gamma + beta, then SiLU when @p silu, for dense NHWC @p x and @p y of @p type, with
    /// gamma and beta of @p type too. The offset o is optional (@p offset null: none); when given it is of @p type,
    /// o[n, c] = offset[n·offsetImageStride + c] (a stride of 0: one offset per channel for every image). Statistics
    /// are summed in float32 around each channel's first value and combined in float64, in a fixed order (results
    /// do not vary from run to run). Needs a shape groupNormNhwcSupports(), 4-byte aligned x and y, and a 16-byte
    /// aligned workspace of groupNormWorkspaceFloats() floats, all on one device. Enqueues three kernels on
    /// @p stream (a cudaStream_t) and returns the launch's cudaError_t (0: success).
    int launchGroupNormNhwc(HalfType type, const void* x, void* y, const void* gamma, const void* beta,
                            const void* offset, std::int64_t offsetImageStride, float* workspace,
                            const GroupNormShape& shape, float eps, bool silu, void* stream);

    /// Whether this build's kernels have code the current CUDA device can run: a GPU older than every architecture
    /// in ATELIER_CUDA_ARCHITECTURES has none, and each launch there would fail. Clears the error the query
    /// leaves when the answer is no.
    bool kernelsRunOnCurrentDevice();

    /// Whether launchGeglu() takes @p rows rows of @p width outputs: an even width and at most 65535·64 rows.
    bool gegluSupports(std::int64_t rows, std::int64_t width);

    /// GEGLU's gate: y[r, j] = x[r, j] · gelu(x[r, width + j]) for dense row-major @p x [rows, 2·width] and
    /// @p y [rows, width], of @p type, with the exact (erf) GELU. One pass, computed in float32 and rounded once.
    /// Needs a shape gegluSupports() and 4-byte aligned pointers. Returns the launch's cudaError_t (0: success).
    int launchGeglu(HalfType type, const void* x, void* y, std::int64_t rows, std::int64_t width, void* stream);

    /// Whether launchBiasResidual() takes @p rows rows of @p channels: an even channel count and at most 65535·64
    /// rows.
    bool biasResidualSupports(std::int64_t rows, std::int64_t channels);

    /// In place, y[r, c] = y[r, c] + bias[c] + residual[r, c] for dense row-major @p y and @p residual [rows,
    /// channels] of @p type (a channels-last activation is [N·H·W, C]) and a float32 @p bias; @p residual may be
    /// null. Summed in float32 and rounded once. Needs a shape biasResidualSupports() and 4-byte aligned pointers.
    /// Returns the launch's cudaError_t (0: success).
    int launchBiasResidual(HalfType type, void* y, const float* bias, const void* residual, std::int64_t rows,
                           std::int64_t channels, void* stream);

    /// Whether launchLayerNorm() takes rows of @p width: even, and at most LayerNormMaxWidth (one warp holds a row
    /// in registers).
    bool layerNormSupports(std::int64_t rows, std::int64_t width);
    constexpr std::int64_t LayerNormMaxWidth = 2048;

    /// y = (x − mean)/sqrt(var + eps)·gamma + beta over each row of dense row-major @p x and @p y [rows, width] of
    /// @p type, with gamma and beta of @p type. Two passes over the row held in registers (mean, then the squares
    /// around it) in float32, rounded once. Needs a shape layerNormSupports() and 4-byte aligned pointers. Returns
    /// the launch's cudaError_t (0: success).
    int launchLayerNorm(HalfType type, const void* x, void* y, const void* gamma, const void* beta, std::int64_t rows,
                        std::int64_t width, float eps, void* stream);
} // namespace Atelier::Engine::Kernels
