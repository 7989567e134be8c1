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

    /// Makes the C library keep freed memory for reuse instead of giving large blocks back to the kernel.
    /// LibTorch's CPU allocator frees every activation after use, and glibc hands blocks over 32 MiB straight back
    /// to the kernel, so each step pays page faults to zero and map them again. Meant for processes that render
    /// (the worker, the benchmark): they hold their peak, as a GPU's caching allocator does. Returns false where
    /// the C library has no such setting.
    bool keepFreedHostMemory();
} // namespace Atelier::Engine
