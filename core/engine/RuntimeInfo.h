// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <string>

namespace Atelier::Engine
{
    /// LibTorch version the engine was compiled against (TORCH_VERSION), e.g. "2.14.1".
    std::string torchVersion();
    /// Whether this engine was compiled with its CUDA path.
    bool builtWithCuda();
    /// Number of intra-op threads LibTorch uses on the CPU.
    int cpuThreads();
} // namespace Atelier::Engine
