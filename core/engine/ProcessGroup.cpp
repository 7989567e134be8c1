// SPDX-License-Identifier: GPL-3.0-or-later
#include "ProcessGroup.h"

#include <ATen/ops/empty.h>
#include <ATen/ops/zeros.h>

#include <cstring>

#include "EngineError.h"

#if ATELIER_ENGINE_GLOO || ATELIER_ENGINE_NCCL
#include <torch/csrc/distributed/c10d/Backend.hpp>
#include <torch/csrc/distributed/c10d/FileStore.hpp>
#endif
#if ATELIER_ENGINE_GLOO
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#endif
#if ATELIER_ENGINE_NCCL
#include <c10/cuda/CUDAGuard.h>
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>
#endif

namespace Atelier::Engine
{
    namespace
    {
        // Each rank's description travels as a fixed-size byte tensor: collectives need equal shapes everywhere.
        constexpr std::int64_t RecordSize = 512;

        std::string encode(const DeviceInfo& self, int rank)
        {
            return std::to_string(rank) + '\n' + self.spec.toString() + '\n' + self.name + '\n'
                + std::to_string(self.totalMemory);
        }

        PeerInfo decode(const at::Tensor& record)
        {
            const auto* bytes = record.const_data_ptr<std::uint8_t>();
            const std::string text(reinterpret_cast<const char*>(bytes),
                                   strnlen(reinterpret_cast<const char*>(bytes), RecordSize));
            std::vector<std::string> fields;
            std::size_t start = 0;
            for (std::size_t end = text.find('\n'); end != std::string::npos; end = text.find('\n', start)) {
                fields.push_back(text.substr(start, end - start));
                start = end + 1;
            }
            fields.push_back(text.substr(start));
            if (fields.size() != 4) {
                throw EngineError("a worker of the process group sent an unreadable description");
            }
            return {std::stoi(fields[0]), fields[1], fields[2], std::stoull(fields[3])};
        }

#if ATELIER_ENGINE_GLOO || ATELIER_ENGINE_NCCL
        /// The start-up collective of every backend: an all-gather of each rank's device description, then a
        /// barrier. @p device is where the backend's tensors must live (the GPU for NCCL).
        ProcessGroupResult exchange(c10d::Backend& group, const std::string& backend, int rank, int worldSize,
                                    const DeviceInfo& self, at::Device device, std::chrono::milliseconds timeout)
        {
            const std::string mine = encode(self, rank);
            if (mine.size() >= static_cast<std::size_t>(RecordSize)) {
                throw EngineError("this worker's device description is too long for the process group");
            }
            at::Tensor record = at::zeros({RecordSize}, at::kByte);
            std::memcpy(record.data_ptr(), mine.data(), mine.size());
            std::vector<at::Tensor> input{record.to(device)};
            std::vector<std::vector<at::Tensor>> output(1);
            for (int i = 0; i < worldSize; ++i) {
                output[0].push_back(at::empty({RecordSize}, at::TensorOptions().dtype(at::kByte).device(device)));
            }
            group.allgather(output, input)->wait(timeout);
            group.barrier()->wait(timeout);

            ProcessGroupResult result{backend, {}};
            for (const at::Tensor& peer : output[0]) {
                result.peers.push_back(decode(peer.to(at::kCPU)));
            }
            return result;
        }
#endif
    } // namespace

    std::vector<std::string> availableBackends()
    {
        std::vector<std::string> backends;
#if ATELIER_ENGINE_GLOO
        backends.emplace_back("gloo");
#endif
#if ATELIER_ENGINE_NCCL
        backends.emplace_back("nccl");
#endif
        return backends;
    }

    ProcessGroupResult joinProcessGroup(const std::string& storePath, int rank, int worldSize, const DeviceInfo& self,
                                        bool useGpuBackend, std::chrono::milliseconds timeout)
    {
        if (useGpuBackend) {
#if ATELIER_ENGINE_NCCL
            if (self.spec.kind != DeviceSpec::Kind::Cuda) {
                throw EngineError("an NCCL process group needs every worker on a CUDA device; this one is on "
                                  + self.spec.toString());
            }
            // NCCL binds its communicator to the current device, so make it this worker's before the group forms.
            const c10::cuda::CUDAGuard guard(static_cast<c10::DeviceIndex>(self.spec.index));
            auto store = c10::make_intrusive<c10d::FileStore>(storePath, worldSize);
            store->setTimeout(timeout);
            auto options = c10d::ProcessGroupNCCL::Options::create();
            options->timeout = timeout;
            auto group = c10::make_intrusive<c10d::ProcessGroupNCCL>(store, rank, worldSize, options);
            return exchange(*group, "nccl", rank, worldSize, self,
                            at::Device(at::kCUDA, static_cast<c10::DeviceIndex>(self.spec.index)), timeout);
#else
            throw EngineError("this worker was built without NCCL (build with a CUDA toolkit and NCCL)");
#endif
        }
#if ATELIER_ENGINE_GLOO
        auto store = c10::make_intrusive<c10d::FileStore>(storePath, worldSize);
        store->setTimeout(timeout);
        auto options = c10d::ProcessGroupGloo::Options::create(timeout);
        options->devices.push_back(c10d::ProcessGroupGloo::createDefaultDevice());
        auto group = c10::make_intrusive<c10d::ProcessGroupGloo>(store, rank, worldSize, options);
        return exchange(*group, "gloo", rank, worldSize, self, at::kCPU, timeout);
#else
        (void)storePath;
        (void)rank;
        (void)worldSize;
        (void)self;
        (void)timeout;
        throw EngineError("this worker was built without Gloo (install libgloo-dev and rebuild)");
#endif
    }
} // namespace Atelier::Engine
