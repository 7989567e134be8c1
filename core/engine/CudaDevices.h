// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "Devices.h"

namespace Atelier::Engine
{
    /// Name, memory and compute capability of CUDA device @p ordinal. Only called for ordinals below
    /// cudaDeviceCount(); in builds without CUDA it is never reached and reports a generic entry.
    DeviceInfo describeCudaDevice(int ordinal);
} // namespace Atelier::Engine
