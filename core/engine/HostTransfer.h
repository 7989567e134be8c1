// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <ATen/core/Tensor.h>

namespace Atelier::Engine
{
    /// @p host on @p device without stalling the host: to a GPU the copy goes from page-locked memory and runs
    /// asynchronously on the current stream (the caching host allocator keeps the buffer until it is done).
    inline at::Tensor toDevice(const at::Tensor& host, at::Device device)
    {
        if (!device.is_cuda()) {
            return host.to(device);
        }
        return host.pin_memory().to(device, /*non_blocking=*/true);
    }
} // namespace Atelier::Engine
