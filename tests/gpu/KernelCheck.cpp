// SPDX-License-Identifier: GPL-3.0-or-later
// atelier-kernel-check: the engine's own CUDA kernels (FusedKernels.h: GroupNorm(+SiLU) on channels-last tensors,
// GEGLU's gate) against LibTorch's, on one GPU: their results, on the shapes SD 1.x's UNet and VAE give them and on
// awkward ones, and their speed on the UNet's shapes.
// scripts/gpu-check runs it before the parity checks and benchmarks that turn the kernels on.
//
//   atelier-kernel-check [--device cuda:N] [--repeat N] [--json FILE]
//
// Each GroupNorm case draws x with channel means up to ±8 and spreads up to 3 (GroupNorm's variance must survive a
// large mean), and random gamma and beta, in fp16 or bf16; each GEGLU case N(0, 3²) inputs. The reference is the
// same function in float32 (LibTorch's GroupNorm then SiLU; value·x·Φ(x) by erf) on the same rounded inputs. The error
// is max |y − ref| / (1 + |ref|), whose floor is the output's own rounding (half a unit: 4.9e-4 in fp16, 3.9e-3 in
// bf16); the bar is four times that. LibTorch's own fp16/bf16 kernel is measured the same way and printed beside it.
//
// Exit status: 0 every case passed; 1 a case failed or there is no GPU or no kernel to test; 2 bad arguments.
#include <ATen/TensorOperators.h>
#include <ATen/core/Tensor.h>
#include <ATen/ops/abs.h>
#include <ATen/ops/erf.h>
#include <ATen/ops/gelu.h>
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
#include <tuple>
#include <utility>
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
    // One check: the fused kernel's output (or its refusal) against the float32 reference, LibTorch's own kernel in
    // the same precision beside it, and the times when measured.
    auto judge = [&](const std::string& name, bool half, const std::optional<at::Tensor>& taken,
                     const at::Tensor& reference, const at::Tensor& libtorchResult, bool channelsLast,
                     const std::vector<std::pair<std::string, double>>& times) {
        nlohmann::json entry{{"name", name}, {"dtype", half ? "fp16" : "bf16"}};
        if (!taken) {
            std::cout << "FAIL " << name << ": the fused kernel declined the input" << std::endl;
            entry["passed"] = false;
            ++failed;
            results.push_back(entry);
            return;
        }
        const double bar = 4.0 * (half ? 4.8828125e-4 : 3.90625e-3);
        const double fusedError = errorAgainst(*taken, reference);
        const double libtorchError = errorAgainst(libtorchResult, reference);
        const bool layoutKept = !channelsLast || taken->is_contiguous(at::MemoryFormat::ChannelsLast);
        const bool ok = fusedError <= bar && layoutKept && taken->sizes() == reference.sizes();
        std::string line = std::string(ok ? "PASS " : "FAIL ") + name + ": error " + format("%.2e", fusedError)
            + " (bar " + format("%.2e", bar) + ", LibTorch " + format("%.2e", libtorchError) + ")"
            + (layoutKept ? "" : ", not channels-last");
        entry.update({{"error", fusedError}, {"bar", bar}, {"libtorch_error", libtorchError}, {"passed", ok}});
        for (const auto& [what, us] : times) {
            line += (what == times.front().first ? "; " : ", ") + format("%.1f", us) + " us " + what;
            entry[what + "_us"] = us;
        }
        std::cout << line << std::endl;
        (ok ? passed : failed) += 1;
        results.push_back(entry);
    };
    const auto options = at::TensorOptions().device(device);

    for (const at::ScalarType type : {at::kHalf, at::kBFloat16}) {
        const bool half = type == at::kHalf;
        for (const Case& c : Cases) {
            for (const bool silu : {true, false}) {
                at::Tensor means = (at::rand({1, c.channels, 1, 1}, options) * 16.0 - 8.0);
                at::Tensor spreads = at::rand({1, c.channels, 1, 1}, options) * 2.9 + 0.1;
                const at::Tensor x = (at::randn({c.batch, c.channels, c.height, c.width}, options) * spreads + means)
                                         .to(type)
                                         .contiguous(at::MemoryFormat::ChannelsLast);
                const at::Tensor gamma = (at::randn({c.channels}, options) * 0.5 + 1.0).to(type);
                const at::Tensor beta = (at::randn({c.channels}, options) * 0.5).to(type);
                at::Tensor reference = at::group_norm(x.to(at::kFloat).contiguous(), c.groups, gamma.to(at::kFloat),
                                                      beta.to(at::kFloat), 1e-5);
                if (silu) {
                    at::silu_(reference);
                }
                auto libtorch = [&](const at::Tensor& input) {
                    at::Tensor y = at::group_norm(input, c.groups, gamma, beta, 1e-5);
                    if (silu) {
                        at::silu_(y);
                    }
                    return y;
                };
                std::vector<std::pair<std::string, double>> times;
                if (c.timed && half && silu) {
                    const at::Tensor nchw = x.contiguous();
                    times = {{"fused", timeOf([&] { fusedGroupNorm(x, c.groups, gamma, beta, 1e-5, silu); }, repeat)},
                             {"libtorch_channels_last", timeOf([&] { libtorch(x); }, repeat)},
                             {"libtorch_nchw", timeOf([&] { libtorch(nchw); }, repeat)}};
                }
                judge(std::string("groupnorm") + (silu ? "+silu " : " ") + (half ? "fp16 " : "bf16 ") + c.what + " "
                          + std::to_string(c.batch) + "x" + std::to_string(c.channels) + "x" + std::to_string(c.height)
                          + "x" + std::to_string(c.width) + "/" + std::to_string(c.groups),
                      half, fusedGroupNorm(x, c.groups, gamma, beta, 1e-5, silu), reference, libtorch(x),
                      /*channelsLast=*/true, times);
            }
        }
        // GEGLU: the UNet's feed-forward widths at 512², UNet batches 2 and 16; and the smallest shapes it takes.
        for (const auto& [what, rows, width, timed] :
             std::vector<std::tuple<std::string, std::int64_t, std::int64_t, bool>>{
                 {"unet 64x64 b2", 2 * 4096, 1280, true},
                 {"unet 64x64 b16", 16 * 4096, 1280, true},
                 {"unet 32x32 b16", 16 * 1024, 2560, true},
                 {"unet 16x16 b16", 16 * 256, 5120, true},
                 {"odd rows", 7, 6, false},
                 {"one row, one pair", 1, 2, false}}) {
            const at::Tensor projected = (at::randn({rows, 2 * width}, options) * 3.0).to(type);
            const at::Tensor wide = projected.to(at::kFloat);
            const at::Tensor value = wide.narrow(-1, 0, width);
            const at::Tensor gate = wide.narrow(-1, width, width);
            const at::Tensor reference = value * gate * 0.5 * ((gate * 0.70710678118654752).erf() + 1.0);
            auto libtorch = [&] {
                const auto halves = projected.chunk(2, -1);
                return at::gelu(halves[1]).mul_(halves[0]);
            };
            std::vector<std::pair<std::string, double>> times;
            if (timed && half) {
                times = {{"fused", timeOf([&] { fusedGeglu(projected); }, repeat)},
                         {"libtorch", timeOf([&] { libtorch(); }, repeat)}};
            }
            judge(std::string("geglu ") + (half ? "fp16 " : "bf16 ") + what + " " + std::to_string(rows) + "x"
                      + std::to_string(2 * width),
                  half, fusedGeglu(projected), reference, libtorch(), /*channelsLast=*/false, times);
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
