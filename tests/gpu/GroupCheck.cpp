// SPDX-License-Identifier: GPL-3.0-or-later
// atelier-group-check: joins the workers' process group, alone, on one device, exactly as a worker joins it
// (joinProcessGroup: NCCL on CUDA, Gloo on the CPU), and checks what its all-gather and barrier brought back.
// scripts/gpu-check runs it on the GPU machine, which has no Qt for the worker itself, so that the NCCL path runs
// somewhere; CTest runs it on the CPU with Gloo.
//
//   atelier-group-check [--device cpu|cuda:N]     (default: cuda:0 when LibTorch sees a GPU, else cpu)
//
// Exit status: 0 the group formed and reported this device; 1 it did not; 2 bad arguments.
#include <chrono>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <iostream>
#include <optional>
#include <string>
#include <string_view>

#include "engine/Devices.h"
#include "engine/ProcessGroup.h"

using namespace Atelier::Engine;

int main(int argc, char** argv)
{
    std::string deviceText = cudaDeviceCount() > 0 ? "cuda:0" : "cpu";
    for (int i = 1; i < argc; ++i) {
        const std::string_view arg = argv[i];
        if (arg == "--device" && i + 1 < argc) {
            deviceText = argv[++i];
        } else {
            std::cerr << "usage: atelier-group-check [--device cpu|cuda:N]\n";
            return 2;
        }
    }
    std::string error;
    const std::optional<DeviceSpec> spec = parseDevice(deviceText, &error);
    if (!spec) {
        std::cerr << "atelier-group-check: " << error << "\n";
        return 2;
    }
    std::optional<DeviceInfo> self;
    for (const DeviceInfo& info : listDevices()) {
        if (info.spec == *spec) {
            self = info;
        }
    }
    if (!self) {
        std::cout << "FAIL group: " << spec->toString() << " is not a device of this machine" << std::endl;
        return 1;
    }

    // The store lives where the coordinator would put it: a private directory, removed afterwards.
    std::string pattern = (std::filesystem::temp_directory_path() / "atelier-group-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) {
        std::cout << "FAIL group: cannot make a directory for the rendezvous store" << std::endl;
        return 1;
    }
    const std::filesystem::path dir = pattern;
    const bool gpu = spec->kind == DeviceSpec::Kind::Cuda;
    const std::string expectedBackend = gpu ? "nccl" : "gloo";
    int status = 1;
    try {
        const auto start = std::chrono::steady_clock::now();
        const ProcessGroupResult group
            = joinProcessGroup((dir / "store").string(), 0, 1, *self, gpu, std::chrono::seconds(60));
        const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
        std::string wrong;
        if (group.backend != expectedBackend) {
            wrong += " backend " + group.backend + " (expected " + expectedBackend + ");";
        }
        if (group.peers.size() != 1) {
            wrong += " " + std::to_string(group.peers.size()) + " peers (expected 1);";
        } else {
            const PeerInfo& peer = group.peers.front();
            if (peer.rank != 0 || peer.device != spec->toString() || peer.deviceName != self->name
                || peer.memory != self->totalMemory) {
                wrong += " the all-gather returned rank " + std::to_string(peer.rank) + ", " + peer.device + " ("
                    + peer.deviceName + ", " + std::to_string(peer.memory) + " bytes);";
            }
        }
        if (wrong.empty()) {
            std::cout << "PASS group: " << group.backend << ", 1 rank, " << spec->toString() << " (" << self->name
                      << "), all-gather and barrier in " << static_cast<long>(ms) << " ms" << std::endl;
            status = 0;
        } else {
            std::cout << "FAIL group:" << wrong << std::endl;
        }
    } catch (const std::exception& e) {
        std::cout << "FAIL group: " << expectedBackend << " on " << spec->toString() << ": " << e.what() << std::endl;
    }
    std::error_code ignored;
    std::filesystem::remove_all(dir, ignored);
    return status;
}
