// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace Atelier::Engine
{
    /// Where a worker computes.
    struct DeviceSpec
    {
        enum class Kind
        {
            Cpu,
            Cuda
        };
        Kind kind = Kind::Cpu;
        int index = 0; ///< CUDA ordinal; always 0 for the CPU

        /// "cpu" or "cuda:N", the form accepted by parseDevice().
        std::string toString() const;
        friend bool operator==(const DeviceSpec&, const DeviceSpec&) = default;
    };

    /// Parses "cpu", "cuda" (meaning cuda:0) or "cuda:N". On failure returns std::nullopt and, when @p error is
    /// given, a sentence naming what was wrong.
    std::optional<DeviceSpec> parseDevice(std::string_view text, std::string* error = nullptr);

    /// A device this machine can run a worker on.
    struct DeviceInfo
    {
        DeviceSpec spec;
        std::string name; ///< e.g. "NVIDIA H100 80GB HBM3", or the CPU model
        std::uint64_t totalMemory = 0; ///< bytes: GPU memory, or system RAM for the CPU
        int computeCapabilityMajor = 0;
        int computeCapabilityMinor = 0;
    };

    /// Every usable device: the CPU always first, then each CUDA device LibTorch can see.
    std::vector<DeviceInfo> listDevices();

    /// Bytes of memory free on CUDA device @p ordinal right now, as the driver counts them (memory LibTorch's caching
    /// allocator holds counts as used). 0 in builds without CUDA.
    std::uint64_t freeCudaMemory(int ordinal);
    /// Bytes this process holds on CUDA device @p ordinal (what LibTorch's caching allocator has reserved). Host-side
    /// bookkeeping only, so it may be asked from any thread while the device computes. 0 without CUDA.
    std::uint64_t reservedCudaMemory(int ordinal);

    /// Number of CUDA devices LibTorch can use (0 without CUDA, a driver, or a GPU).
    int cudaDeviceCount();
} // namespace Atelier::Engine
