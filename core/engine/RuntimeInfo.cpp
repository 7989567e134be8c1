// SPDX-License-Identifier: GPL-3.0-or-later
#include "RuntimeInfo.h"

#include <ATen/Parallel.h>
#include <torch/version.h>

namespace Atelier::Engine
{
    std::string torchVersion()
    {
        return TORCH_VERSION;
    }

    bool builtWithCuda()
    {
        return ATELIER_ENGINE_CUDA != 0;
    }

    int cpuThreads()
    {
        return at::get_num_threads();
    }
} // namespace Atelier::Engine
