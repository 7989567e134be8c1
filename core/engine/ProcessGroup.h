// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "Devices.h"

namespace Atelier::Engine
{
    /// What one worker of the group told the others when it joined.
    struct PeerInfo
    {
        int rank = 0;
        std::string device; ///< "cpu", "cuda:1"
        std::string deviceName;
        std::uint64_t memory = 0; ///< bytes
    };

    /// The workers' c10d process group: Gloo for CPU workers (and any group that includes one), NCCL when every
    /// worker is on a GPU and the build has NCCL. Joining exchanges each worker's device (an all-gather) and
    /// ends with a barrier, so a group that forms has proved its collective path works.
    struct ProcessGroupResult
    {
        std::string backend; ///< "gloo" or "nccl"
        std::vector<PeerInfo> peers; ///< by rank
    };

    /// Which backends this build can form: "gloo" when LibTorch's Gloo could be compiled against, "nccl" with CUDA.
    std::vector<std::string> availableBackends();

    /// Joins the group of @p worldSize workers that rendezvous in the c10d FileStore at @p storePath (a file in the
    /// coordinator's private directory). @p useGpuBackend picks NCCL (every rank must agree). Throws EngineError
    /// when the backend is not built in, or when the group does not form within @p timeout.
    ProcessGroupResult joinProcessGroup(const std::string& storePath, int rank, int worldSize, const DeviceInfo& self,
                                        bool useGpuBackend, std::chrono::milliseconds timeout);
} // namespace Atelier::Engine
