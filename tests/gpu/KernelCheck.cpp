// SPDX-License-Identifier: GPL-3.0-or-later
// atelier-kernel-check: the engine's own CUDA kernels (FusedKernels.h) against LibTorch's, on one GPU: their
// results, on the shapes SD 1.x's UNet and VAE give them and on awkward ones, and their speed on the UNet's shapes.
// scripts/gpu-check runs it before the parity checks and benchmarks that turn the kernels on.
//
//   atelier-kernel-check [--device cuda:N] [--repeat N] [--json FILE]
//
// Each case draws x with channel means up to ±8 and spreads up to 3 (GroupNorm's variance must survive a large
// mean), and random gamma and beta, in fp16 or bf16. The reference is LibTorch's GroupNorm (then SiLU) in float32
// on the same rounded inputs. The error is max |y − ref| / (1 + |ref|), whose floor is the output's own rounding
// (half a unit: 4.9e-4 in fp16, 3.9e-3 in bf16); the bar is four times that. LibTorch's own fp16/bf16 kernel is
// measured the same way and printed beside it.
//
// Exit status: 0 every case passed; 1 a case failed or there is no GPU or no kernel to test; 2 bad arguments.
#include <ATen/TensorOperators.h>
#include <ATen/core/Tensor.h>
#include <ATen/ops/abs.h>
#include <ATen/ops/group_norm.h>
#include <ATen/ops/isfinite.h>
#include <ATen/ops/rand.h>
#include <ATen/ops/randn.h>
#include <ATen/ops/silu.h>
#include <c10/core/InferenceMode.h>

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <functional>
#include <iostream>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#if ATELIER_KERNEL_CHECK_CUDA
#include <c10/cuda/CUDAFunctions.h>
#endif

#include "engine/CudaDevices.h"
#include "engine/Devices.h"
#include "engine/FusedKernels.h"

using namespace Atelier::Engine;

namespace
{
    struct Case
    {
        const char* what;
        std::int64_t batch, channels, height, width, groups;
        bool timed; ///< one of the UNet's own shapes at 512², worth timing
    };

    // SD 1.5 at 512²: UNet batch 2 (one image with guidance) and 16 (eight), every level and the up path's widest
    // concatenations; the VAE's largest maps; and shapes that probe the edges (odd sizes, one channel per group,
    // rows not a multiple of the kernel's 64-row blocks, channel pairs not a multiple of its 32-pair blocks).
    const std::vector<Case> Cases = {
        {"unet 64x64 b2", 2, 320, 64, 64, 32, true},
        {"unet 64x64 b16", 16, 320, 64, 64, 32, true},
        {"unet up 64x64 cat b16", 16, 960, 64, 64, 32, true},
        {"unet 32x32 b16", 16, 640, 32, 32, 32, true},
        {"unet up 32x32 cat b16", 16, 1920, 32, 32, 32, true},
        {"unet 16x16 b16", 16, 1280, 16, 16, 32, true},
        {"unet 8x8 b2", 2, 1280, 8, 8, 32, true},
        {"unet up 8x8 cat b16", 16, 2560, 8, 8, 32, true},
        {"vae 512x512", 1, 128, 512, 512, 32, false},
        {"vae 256x256", 1, 256, 256, 256, 32, false},
        {"vae 64x64", 1, 512, 64, 64, 32, false},
        {"odd 7x9", 3, 64, 7, 9, 32, false},
        {"one channel per group", 2, 32, 5, 5, 32, false},
        {"odd channel pairs", 2, 6, 11, 13, 3, false},
        {"one pixel", 4, 96, 1, 1, 32, false},
    };

    double errorAgainst(const at::Tensor& y, const at::Tensor& reference)
    {
        if (!at::isfinite(y).all().item<bool>()) {
            return std::numeric_limits<double>::infinity();
        }
        return ((y.to(at::kFloat) - reference).abs() / (reference.abs() + 1.0)).max().item<double>();
    }

    void synchronize()
    {
#if ATELIER_KERNEL_CHECK_CUDA
        c10::cuda::device_synchronize();
#endif
    }

    /// Microseconds per call of @p run, the best of three rounds of @p repeat calls each.
    double timeOf(const std::function<void()>& run, int repeat)
    {
        run();
        synchronize();
        double best = std::numeric_limits<double>::infinity();
        for (int round = 0; round < 3; ++round) {
            const auto start = std::chrono::steady_clock::now();
            for (int i = 0; i < repeat; ++i) {
                run();
            }
            synchronize();
            const std::chrono::duration<double, std::micro> elapsed = std::chrono::steady_clock::now() - start;
            best = std::min(best, elapsed.count() / repeat);
        }
        return best;
    }

    std::string format(const char* pattern, double value)
    {
        char text[64];
        std::snprintf(text, sizeof text, pattern, value);
        return text;
    }
} // namespace

int main(int argc, char** argv)
{
    std::string deviceText = "cuda:0";
    std::string jsonPath;
    int repeat = 50;
    for (int i = 1; i < argc; ++i) {
        const std::string_view arg = argv[i];
        if (arg == "--device" && i + 1 < argc) {
            deviceText = argv[++i];
        } else if (arg == "--repeat" && i + 1 < argc) {
            repeat = std::max(1, std::atoi(argv[++i]));
        } else if (arg == "--json" && i + 1 < argc) {
            jsonPath = argv[++i];
        } else {
            std::cerr << "usage: atelier-kernel-check [--device cuda:N] [--repeat N] [--json FILE]\n";
            return 2;
        }
    }
    std::string error;
    const std::optional<DeviceSpec> spec = parseDevice(deviceText, &error);
    if (!spec || spec->kind != DeviceSpec::Kind::Cuda) {
        std::cerr << "atelier-kernel-check: " << (spec ? "the kernels are CUDA kernels: name a cuda:N device" : error)
                  << "\n";
        return 2;
    }
    if (!fusedKernelsBuilt()) {
        std::cout << "FAIL kernels: this build has no CUDA kernels (configured without a CUDA toolkit)" << std::endl;
        return 1;
    }
    if (spec->index >= cudaDeviceCount()) {
        std::cout << "FAIL kernels: " << spec->toString() << " is not a device of this machine" << std::endl;
        return 1;
    }

    c10::InferenceMode inference;
    setFusedKernels(true);
    const at::Device device(at::kCUDA, static_cast<c10::DeviceIndex>(spec->index));
    nlohmann::json results = nlohmann::json::array();
    int passed = 0, failed = 0;
    for (const at::ScalarType type : {at::kHalf, at::kBFloat16}) {
        const bool half = type == at::kHalf;
        const double bar = 4.0 * (half ? 4.8828125e-4 : 3.90625e-3);
        for (const Case& c : Cases) {
            for (const bool silu : {true, false}) {
                const auto options = at::TensorOptions().device(device);
                at::Tensor means = (at::rand({1, c.channels, 1, 1}, options) * 16.0 - 8.0);
                at::Tensor spreads = at::rand({1, c.channels, 1, 1}, options) * 2.9 + 0.1;
                const at::Tensor x = (at::randn({c.batch, c.channels, c.height, c.width}, options) * spreads + means)
                                         .to(type)
                                         .contiguous(at::MemoryFormat::ChannelsLast);
                const at::Tensor gamma = (at::randn({c.channels}, options) * 0.5 + 1.0).to(type);
                const at::Tensor beta = (at::randn({c.channels}, options) * 0.5).to(type);

                at::Tensor reference = at::group_norm(x.to(at::kFloat).contiguous(), c.groups, gamma.to(at::kFloat),
                                                      beta.to(at::kFloat), 1e-5);
                auto libtorch = [&] {
                    at::Tensor y = at::group_norm(x, c.groups, gamma, beta, 1e-5);
                    if (silu) {
                        at::silu_(y);
                    }
                    return y;
                };
                auto fused = [&] { return *fusedGroupNorm(x, c.groups, gamma, beta, 1e-5, silu); };
                if (silu) {
                    at::silu_(reference);
                }
                const std::optional<at::Tensor> taken = fusedGroupNorm(x, c.groups, gamma, beta, 1e-5, silu);
                const std::string name = std::string("groupnorm") + (silu ? "+silu " : " ") + (half ? "fp16 " : "bf16 ")
                    + c.what + " " + std::to_string(c.batch) + "x" + std::to_string(c.channels) + "x"
                    + std::to_string(c.height) + "x" + std::to_string(c.width) + "/" + std::to_string(c.groups);
                nlohmann::json entry{{"name", name}, {"silu", silu}, {"dtype", half ? "fp16" : "bf16"}};
                if (!taken) {
                    std::cout << "FAIL " << name << ": the fused kernel declined the input" << std::endl;
                    entry["passed"] = false;
                    ++failed;
                    results.push_back(entry);
                    continue;
                }
                const double fusedError = errorAgainst(*taken, reference);
                const double libtorchError = errorAgainst(libtorch(), reference);
                const bool layoutKept = taken->is_contiguous(at::MemoryFormat::ChannelsLast);
                const bool ok = fusedError <= bar && layoutKept;
                std::string line = std::string(ok ? "PASS " : "FAIL ") + name + ": error " + format("%.2e", fusedError)
                    + " (bar " + format("%.2e", bar) + ", LibTorch " + format("%.2e", libtorchError) + ")"
                    + (layoutKept ? "" : ", not channels-last");
                entry.update({{"error", fusedError}, {"bar", bar}, {"libtorch_error", libtorchError}, {"passed", ok}});
                if (c.timed && half && silu) {
                    const at::Tensor nchw = x.contiguous();
                    const double fusedUs = timeOf([&] { fused(); }, repeat);
                    const double channelsLastUs = timeOf([&] { libtorch(); }, repeat);
                    const double nchwUs = timeOf(
                        [&] {
                            at::Tensor y = at::group_norm(nchw, c.groups, gamma, beta, 1e-5);
                            at::silu_(y);
                        },
                        repeat);
                    line += "; " + format("%.1f", fusedUs) + " us fused, " + format("%.1f", channelsLastUs)
                        + " us LibTorch on channels-last, " + format("%.1f", nchwUs) + " us LibTorch on NCHW";
                    entry.update({{"fused_us", fusedUs},
                                  {"libtorch_channels_last_us", channelsLastUs},
                                  {"libtorch_nchw_us", nchwUs}});
                }
                std::cout << line << std::endl;
                (ok ? passed : failed) += 1;
                results.push_back(entry);
            }
        }
    }
    std::cout << "atelier-kernel-check: " << passed + failed << " checks: " << passed << " passed, " << failed
              << " failed" << std::endl;
    if (!jsonPath.empty()) {
        nlohmann::json report;
        report["device"] = describeCudaDevice(spec->index).name;
        report["checks"] = results;
        std::ofstream(jsonPath) << report.dump(2) << "\n";
    }
    return failed == 0 ? 0 : 1;
}
