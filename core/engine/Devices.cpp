// SPDX-License-Identifier: GPL-3.0-or-later
#include "Devices.h"

#include <ATen/detail/CUDAHooksInterface.h>

#include <charconv>
#include <fstream>
#include <unistd.h>

#include "CudaDevices.h"

namespace Atelier::Engine
{
    namespace
    {
        std::string cpuModelName()
        {
            std::ifstream cpuinfo("/proc/cpuinfo");
            std::string line;
            while (std::getline(cpuinfo, line)) {
                if (line.rfind("model name", 0) == 0) {
                    const auto colon = line.find(':');
                    if (colon != std::string::npos && colon + 2 <= line.size()) {
                        return line.substr(colon + 2);
                    }
                }
            }
            return "CPU";
        }

        std::uint64_t systemMemoryBytes()
        {
            const long pages = sysconf(_SC_PHYS_PAGES);
            const long pageSize = sysconf(_SC_PAGESIZE);
            return pages > 0 && pageSize > 0 ? static_cast<std::uint64_t>(pages) * static_cast<std::uint64_t>(pageSize)
                                             : 0;
        }
    } // namespace

    std::string DeviceSpec::toString() const
    {
        return kind == Kind::Cpu ? std::string("cpu") : "cuda:" + std::to_string(index);
    }

    std::optional<DeviceSpec> parseDevice(std::string_view text, std::string* error)
    {
        auto fail = [&](std::string message) -> std::optional<DeviceSpec> {
            if (error) {
                *error = std::move(message);
            }
            return std::nullopt;
        };
        if (text == "cpu") {
            return DeviceSpec{DeviceSpec::Kind::Cpu, 0};
        }
        if (text == "cuda") {
            return DeviceSpec{DeviceSpec::Kind::Cuda, 0};
        }
        constexpr std::string_view cudaPrefix = "cuda:";
        if (text.substr(0, cudaPrefix.size()) != cudaPrefix) {
            return fail("unknown device \"" + std::string(text) + "\": use cpu, cuda or cuda:N");
        }
        const std::string_view digits = text.substr(cudaPrefix.size());
        int index = -1;
        const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), index);
        if (digits.empty() || ec != std::errc() || end != digits.data() + digits.size() || index < 0) {
            return fail("bad CUDA device index in \"" + std::string(text) + "\": expected a number such as cuda:0");
        }
        return DeviceSpec{DeviceSpec::Kind::Cuda, index};
    }

    int cudaDeviceCount()
    {
        // The hooks answer 0 when LibTorch was loaded without its CUDA half, so this works in CPU-only builds.
        const auto& hooks = at::detail::getCUDAHooks();
        return hooks.hasCUDA() ? static_cast<int>(hooks.deviceCount()) : 0;
    }

    std::vector<DeviceInfo> listDevices()
    {
        std::vector<DeviceInfo> devices;
        devices.push_back({DeviceSpec{DeviceSpec::Kind::Cpu, 0}, cpuModelName(), systemMemoryBytes(), 0, 0});
        const int count = cudaDeviceCount();
        for (int i = 0; i < count; ++i) {
            devices.push_back(describeCudaDevice(i));
        }
        return devices;
    }
} // namespace Atelier::Engine
