// SPDX-License-Identifier: GPL-3.0-or-later
// atelier-kernel-check: the engine's own CUDA kernels (FusedKernels.h: GroupNorm(+SiLU) on channels-last tensors,
// with and without an offset added first; GEGLU's gate; a bias plus residual; LayerNorm) against LibTorch's, on one
// GPU: their results, on the shapes SD 1.x's UNet and VAE give them and on awkward ones, and their speed on the UNet's
// shapes. scripts/gpu-check runs it before the parity checks and benchmarks that turn the kernels on.
//
//   atelier-kernel-check [--device cuda:N] [--repeat N] [--json FILE]
//
// Each GroupNorm case draws x with channel means up to ±8 and spreads from 0.1 to 3 (one case: mean 8, spread
// 0.01, where GroupNorm's variance must survive a mean 800 times its spread), and random gamma and beta, in fp16
// or bf16; each GEGLU case N(0, 3²) inputs. The reference is the same function in float32 (LibTorch's GroupNorm
// then SiLU; value·x·Φ(x) by erf) on the same rounded inputs. The error is max |y − ref| / (1 + |ref|), whose floor
// is the output's own rounding (half a unit: 4.9e-4 in fp16, 3.9e-3 in bf16); the bar is four times that.
// LibTorch's own fp16/bf16 kernel is measured the same way and printed beside it. GroupNorm with an offset adds
// N(0, 2²) per image and channel (the ResNet's conv bias and time embedding) or per channel (a bias alone); the
// bias-and-residual cases add an N(0, 1) bias and an N(0, 3²) residual to N(0, 3²) values; LayerNorm's rows have
// means up to ±4 and spreads from 0.1 to 3 (one case: mean 8, spread 0.01).
//
// Every case also runs captured in a CUDA graph on a side stream, as the engine's UNet runs, and the replay must
// equal the eager call bit for bit. Times are per call, from replays of a graph of --repeat calls (default 50),
// so that launch overhead, which the engine's graphs do not pay, stays out of them.
//
// Exit status: 0 every case passed; 1 a case failed or there is no GPU or no kernel to test; 2 bad arguments.
#include <ATen/TensorOperators.h>
#include <ATen/core/Tensor.h>
#include <ATen/ops/abs.h>
#include <ATen/ops/equal.h>
#include <ATen/ops/erf.h>
#include <ATen/ops/full.h>
#include <ATen/ops/gelu.h>
#include <ATen/ops/group_norm.h>
#include <ATen/ops/isfinite.h>
#include <ATen/ops/layer_norm.h>
#include <ATen/ops/rand.h>
#include <ATen/ops/randn.h>
#include <ATen/ops/silu.h>
#include <c10/core/InferenceMode.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <iostream>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#if ATELIER_KERNEL_CHECK_CUDA
#include <ATen/cuda/CUDAGraph.h>
#include <c10/cuda/CUDAFunctions.h>
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>
#endif

#include "engine/CudaDevices.h"
#include "engine/Devices.h"
#include "engine/FusedKernels.h"

using namespace Atelier::Engine;

#if ATELIER_KERNEL_CHECK_CUDA
namespace
{
    struct GroupNormCase
    {
        const char* what;
        std::int64_t batch, channels, height, width, groups;
        bool timed = false; ///< one of the UNet's own shapes at 512², worth timing
        double meanRange = 8.0; ///< channel means drawn from ±meanRange
        double spreadMin = 0.1; ///< channel spreads drawn from [spreadMin, spreadMax]
        double spreadMax = 3.0;
        bool storageOffset = false; ///< the input is a batch slice that starts past its storage's first element
    };

    // SD 1.5 at 512²: UNet batch 2 (one image with guidance) and 16 (eight), every level and the up path's widest
    // concatenations; the VAE's largest maps; and shapes that probe the edges (odd sizes, one channel per group,
    // channel pairs that straddle two groups, rows not a multiple of the kernel's 64-row blocks, channel pairs not
    // a multiple of its 32-pair blocks, a slice with a storage offset, a mean far above the spread).
    const std::vector<GroupNormCase> GroupNormCases = {
        {"unet 64x64 b2", 2, 320, 64, 64, 32, true},
        {"unet 64x64 b16", 16, 320, 64, 64, 32, true},
        {"unet up 64x64 cat b16", 16, 960, 64, 64, 32, true},
        {"unet 32x32 b16", 16, 640, 32, 32, 32, true},
        {"unet up 32x32 cat b16", 16, 1920, 32, 32, 32, true},
        {"unet 16x16 b16", 16, 1280, 16, 16, 32, true},
        {"unet 8x8 b2", 2, 1280, 8, 8, 32, true},
        {"unet up 8x8 cat b16", 16, 2560, 8, 8, 32, true},
        {"vae 512x512", 1, 128, 512, 512, 32},
        {"vae 256x256", 1, 256, 256, 256, 32},
        {"vae 64x64", 1, 512, 64, 64, 32},
        {"odd 7x9", 3, 64, 7, 9, 32},
        {"one channel per group", 2, 32, 5, 5, 32},
        {"pairs straddling groups", 2, 6, 11, 13, 2},
        {"odd channel pairs", 2, 6, 11, 13, 3},
        {"one pixel", 4, 96, 1, 1, 32},
        {"mean up to 800x the spread", 2, 32, 64, 64, 32, false, 8.0, 0.01, 0.01},
        {"batch slice", 3, 64, 9, 7, 32, false, 8.0, 0.1, 3.0, true},
    };

    struct GegluCase
    {
        const char* what;
        std::vector<std::int64_t> shape; ///< the projection's output, [..., 2·F]
        bool timed = false;
    };

    // The UNet's feed-forward widths at 512², UNet batches 2 and 16, as [B, tokens, 2F] like the engine's; and the
    // smallest shapes the kernel takes.
    const std::vector<GegluCase> GegluCases = {
        {"unet 64x64 b2", {2, 4096, 2560}, true},
        {"unet 64x64 b16", {16, 4096, 2560}, true},
        {"unet 32x32 b16", {16, 1024, 5120}, true},
        {"unet 16x16 b16", {16, 256, 10240}, true},
        {"odd rows", {7, 12}},
        {"one row, one pair", {1, 4}},
    };

    struct RowsCase
    {
        const char* what;
        std::vector<std::int64_t> shape; ///< 4-D: an NCHW shape laid out channels-last; otherwise [..., C]
        bool timed = false;
        double meanRange = 4.0;
        double spreadMin = 0.1;
        double spreadMax = 3.0;
    };

    // A convolution's output (channels-last, UNet batch 16 at 512², the VAE's largest) and tokens; awkward sizes.
    const std::vector<RowsCase> BiasResidualCases = {
        {"unet 64x64 b16", {16, 320, 64, 64}, true},
        {"unet 32x32 b16", {16, 640, 32, 32}, true},
        {"unet 16x16 b16", {16, 1280, 16, 16}, true},
        {"vae 512x512", {1, 128, 512, 512}, true},
        {"odd 7x9", {3, 6, 7, 9}},
        {"tokens", {7, 12}},
    };

    // The transformer blocks' tokens at 512², UNet batches 2 and 16; the widest row the kernel takes; widths that
    // leave lanes idle; a mean far above the spread.
    const std::vector<RowsCase> LayerNormCases = {
        {"unet 64x64 b2", {2, 4096, 320}, true},
        {"unet 64x64 b16", {16, 4096, 320}, true},
        {"unet 32x32 b16", {16, 1024, 640}, true},
        {"unet 16x16 b16", {16, 256, 1280}, true},
        {"widest", {3, 7, 2048}},
        {"65 pairs", {9, 130}},
        {"one pair", {4, 2}},
        {"mean 800x the spread", {2, 64, 320}, false, 8.0, 0.01, 0.01},
    };

    std::string dimsOf(const std::vector<std::int64_t>& shape)
    {
        std::string dims;
        for (const std::int64_t d : shape) {
            if (!dims.empty()) {
                dims += 'x';
            }
            dims += std::to_string(d);
        }
        return dims;
    }

    double errorAgainst(const at::Tensor& y, const at::Tensor& reference)
    {
        if (!at::isfinite(y).all().item<bool>()) {
            return std::numeric_limits<double>::infinity();
        }
        return ((y.to(at::kFloat) - reference).abs() / (reference.abs() + 1.0)).max().item<double>();
    }

    std::string format(const char* pattern, double value)
    {
        char text[64];
        std::snprintf(text, sizeof text, pattern, value);
        return text;
    }

    /// Records @p calls of @p run into one CUDA graph on a side stream (after one warm-up call there), as the
    /// engine's GraphRunner does; returns the graph and the last call's output.
    std::pair<std::unique_ptr<at::cuda::CUDAGraph>, at::Tensor> capture(const std::function<at::Tensor()>& run,
                                                                        int calls)
    {
        auto graph = std::make_unique<at::cuda::CUDAGraph>();
        at::Tensor output;
        c10::cuda::device_synchronize();
        const c10::cuda::CUDAStream side = c10::cuda::getStreamFromPool();
        {
            const c10::cuda::CUDAStreamGuard onSide(side);
            run();
            side.synchronize();
            graph->capture_begin();
            for (int i = 0; i < calls; ++i) {
                output = run();
            }
            graph->capture_end();
        }
        c10::cuda::device_synchronize();
        return {std::move(graph), output};
    }

    /// Whether one call of @p run, captured and replayed, gives @p eager bit for bit.
    bool replayMatches(const std::function<at::Tensor()>& run, const at::Tensor& eager)
    {
        auto [graph, output] = capture(run, 1);
        graph->replay();
        c10::cuda::device_synchronize();
        return at::equal(output, eager);
    }

    /// Microseconds per call of @p run: replays of a graph of @p repeat calls, the best of three.
    double microsecondsPerCall(const std::function<at::Tensor()>& run, int repeat)
    {
        auto [graph, output] = capture(run, repeat);
        double best = std::numeric_limits<double>::infinity();
        for (int round = 0; round < 3; ++round) {
            const auto start = std::chrono::steady_clock::now();
            graph->replay();
            c10::cuda::device_synchronize();
            const std::chrono::duration<double, std::micro> elapsed = std::chrono::steady_clock::now() - start;
            best = std::min(best, elapsed.count() / repeat);
        }
        return best;
    }
} // namespace
#endif

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
#if ATELIER_KERNEL_CHECK_CUDA
    c10::InferenceMode inference;
    setFusedKernels(AllFusedKernels);
    const at::Device device(at::kCUDA, static_cast<c10::DeviceIndex>(spec->index));
    const c10::cuda::CUDAGuard onDevice(device);
    const auto options = at::TensorOptions().device(device);
    nlohmann::json results = nlohmann::json::array();
    int passed = 0, failed = 0;

    // One check: the fused kernel (or its refusal) against the float32 reference, its graph replay against its
    // eager call, LibTorch's own kernel in the same precision beside it, and, for @p timed cases, both timed.
    auto judge = [&](const std::string& name, bool half, const std::function<std::optional<at::Tensor>()>& fused,
                     const std::function<at::Tensor()>& libtorch, const at::Tensor& reference, bool channelsLast,
                     bool timed) {
        nlohmann::json entry{{"name", name}, {"dtype", half ? "fp16" : "bf16"}};
        const std::optional<at::Tensor> taken = fused();
        if (!taken) {
            std::cout << "FAIL " << name << ": the fused kernel declined the input" << std::endl;
            entry["passed"] = false;
            ++failed;
            results.push_back(entry);
            return;
        }
        const auto call = [&] { return *fused(); };
        const double bar = 4.0 * (half ? 4.8828125e-4 : 3.90625e-3);
        const double fusedError = errorAgainst(*taken, reference);
        const double libtorchError = errorAgainst(libtorch(), reference);
        const bool layoutKept = !channelsLast || taken->is_contiguous(at::MemoryFormat::ChannelsLast);
        const bool replayed = replayMatches(call, *taken);
        const bool ok = fusedError <= bar && layoutKept && replayed && taken->sizes() == reference.sizes();
        std::string line = std::string(ok ? "PASS " : "FAIL ") + name + ": error " + format("%.2e", fusedError)
            + " (bar " + format("%.2e", bar) + ", LibTorch " + format("%.2e", libtorchError) + ")"
            + (layoutKept ? "" : ", not channels-last") + (replayed ? "" : ", graph replay differs from the call");
        entry.update({{"error", fusedError},
                      {"bar", bar},
                      {"libtorch_error", libtorchError},
                      {"graph_replay_equal", replayed},
                      {"passed", ok}});
        if (timed) {
            const double fusedUs = microsecondsPerCall(call, repeat);
            const double libtorchUs = microsecondsPerCall(libtorch, repeat);
            line += "; " + format("%.1f", fusedUs) + " us fused, " + format("%.1f", libtorchUs) + " us LibTorch";
            entry.update({{"fused_us", fusedUs}, {"libtorch_us", libtorchUs}});
        }
        std::cout << line << std::endl;
        (ok ? passed : failed) += 1;
        results.push_back(entry);
    };

    for (const at::ScalarType type : {at::kHalf, at::kBFloat16}) {
        const bool half = type == at::kHalf;
        for (const GroupNormCase& c : GroupNormCases) {
            for (const bool silu : {true, false}) {
                const std::int64_t drawn = c.batch + (c.storageOffset ? 1 : 0);
                const at::Tensor means = at::rand({1, c.channels, 1, 1}, options) * (2 * c.meanRange) - c.meanRange;
                const at::Tensor spreads
                    = at::rand({1, c.channels, 1, 1}, options) * (c.spreadMax - c.spreadMin) + c.spreadMin;
                at::Tensor x = (at::randn({drawn, c.channels, c.height, c.width}, options) * spreads + means)
                                   .to(type)
                                   .contiguous(at::MemoryFormat::ChannelsLast);
                if (c.storageOffset) {
                    x = x.narrow(0, 1, c.batch);
                }
                const at::Tensor gamma = (at::randn({c.channels}, options) * 0.5 + 1.0).to(type);
                const at::Tensor beta = (at::randn({c.channels}, options) * 0.5).to(type);
                at::Tensor reference = at::group_norm(x.to(at::kFloat).contiguous(), c.groups, gamma.to(at::kFloat),
                                                      beta.to(at::kFloat), 1e-5);
                if (silu) {
                    at::silu_(reference);
                }
                auto libtorch = [&] {
                    at::Tensor y = at::group_norm(x, c.groups, gamma, beta, 1e-5);
                    if (silu) {
                        at::silu_(y);
                    }
                    return y;
                };
                const std::string name = std::string("groupnorm") + (silu ? "+silu " : " ") + (half ? "fp16 " : "bf16 ")
                    + c.what + " " + std::to_string(c.batch) + "x" + std::to_string(c.channels) + "x"
                    + std::to_string(c.height) + "x" + std::to_string(c.width) + "/" + std::to_string(c.groups);
                judge(
                    name, half, [&] { return fusedGroupNorm(x, c.groups, gamma, beta, 1e-5, silu); }, libtorch,
                    reference, /*channelsLast=*/true, c.timed && half && silu);
                {
                    // With an offset: per image and channel before GroupNorm+SiLU (a ResNet's norm2), per channel
                    // before the plain GroupNorm.
                    const at::Tensor offset = (at::randn(silu ? std::vector<std::int64_t>{c.batch, c.channels}
                                                              : std::vector<std::int64_t>{c.channels},
                                                         options)
                                               * 2.0)
                                                  .to(type);
                    const at::Tensor offsetView
                        = silu ? offset.view({c.batch, c.channels, 1, 1}) : offset.view({1, c.channels, 1, 1});
                    at::Tensor shiftedReference
                        = at::group_norm((x.to(at::kFloat) + offsetView.to(at::kFloat)).contiguous(), c.groups,
                                         gamma.to(at::kFloat), beta.to(at::kFloat), 1e-5);
                    if (silu) {
                        at::silu_(shiftedReference);
                    }
                    auto shiftedLibtorch = [&] {
                        at::Tensor y = at::group_norm(x + offsetView, c.groups, gamma, beta, 1e-5);
                        if (silu) {
                            at::silu_(y);
                        }
                        return y;
                    };
                    judge(
                        name + (silu ? " offset per image" : " offset per channel"), half,
                        [&] { return fusedGroupNorm(x, c.groups, gamma, beta, 1e-5, silu, offset); }, shiftedLibtorch,
                        shiftedReference, /*channelsLast=*/true, c.timed && half && silu);
                }
                if (c.timed && half && silu) {
                    // And LibTorch on NCHW, the layout its GroupNorm reads without copies, for the record.
                    const at::Tensor nchw = x.contiguous();
                    results.back()["libtorch_nchw_us"] = microsecondsPerCall(
                        [&] {
                            at::Tensor y = at::group_norm(nchw, c.groups, gamma, beta, 1e-5);
                            at::silu_(y);
                            return y;
                        },
                        repeat);
                }
            }
        }
        for (const GegluCase& c : GegluCases) {
            const at::Tensor projected = (at::randn(c.shape, options) * 3.0).to(type);
            const std::int64_t width = c.shape.back() / 2;
            const at::Tensor wide = projected.to(at::kFloat);
            const at::Tensor value = wide.narrow(-1, 0, width);
            const at::Tensor gate = wide.narrow(-1, width, width);
            const at::Tensor reference = value * gate * 0.5 * ((gate * 0.70710678118654752).erf() + 1.0);
            auto libtorch = [&] {
                const auto halves = projected.chunk(2, -1);
                return at::gelu(halves[1]).mul_(halves[0]);
            };
            judge(
                std::string("geglu ") + (half ? "fp16 " : "bf16 ") + c.what + " " + dimsOf(c.shape), half,
                [&] { return fusedGeglu(projected); }, libtorch, reference, /*channelsLast=*/false, c.timed && half);
        }
        for (const RowsCase& c : BiasResidualCases) {
            const bool image = c.shape.size() == 4;
            const auto layout = image ? at::MemoryFormat::ChannelsLast : at::MemoryFormat::Contiguous;
            const std::int64_t channels = image ? c.shape[1] : c.shape.back();
            const at::Tensor y = (at::randn(c.shape, options) * 3.0).to(type).contiguous(layout);
            const at::Tensor residual = (at::randn(c.shape, options) * 3.0).to(type).contiguous(layout);
            const at::Tensor bias32 = at::randn({channels}, options);
            const at::Tensor bias = bias32.to(type);
            const at::Tensor biasView = image ? bias.view({1, channels, 1, 1}) : bias;
            for (const bool withResidual : {true, false}) {
                const at::Tensor added = withResidual ? residual : at::Tensor();
                at::Tensor reference = y.to(at::kFloat) + (image ? bias32.view({1, channels, 1, 1}) : bias32);
                if (withResidual) {
                    reference = reference + residual.to(at::kFloat);
                }
                // Out of place for the check (the kernel works in place and the check calls it more than once).
                auto fused = [&]() -> std::optional<at::Tensor> {
                    at::Tensor out = y.clone(layout);
                    if (!fusedBiasResidual(out, bias32, added)) {
                        return std::nullopt;
                    }
                    return out;
                };
                auto libtorch = [&] {
                    at::Tensor out = y.clone(layout).add_(biasView);
                    return withResidual ? out.add_(residual) : out;
                };
                judge(std::string("bias") + (withResidual ? "+residual " : " ") + (half ? "fp16 " : "bf16 ") + c.what
                          + " " + dimsOf(c.shape),
                      half, fused, libtorch, reference, image, /*timed=*/false);
                if (c.timed && half) {
                    // Timed in place, as the engine calls it, on a scratch copy: no clone in either time.
                    at::Tensor scratch = y.clone(layout);
                    const double fusedUs = microsecondsPerCall(
                        [&] {
                            fusedBiasResidual(scratch, bias32, added);
                            return scratch;
                        },
                        repeat);
                    const double libtorchUs = microsecondsPerCall(
                        [&] {
                            scratch.add_(biasView);
                            return withResidual ? scratch.add_(residual) : scratch;
                        },
                        repeat);
                    std::cout << "  timed in place: " << format("%.1f", fusedUs) << " us fused, "
                              << format("%.1f", libtorchUs) << " us LibTorch" << std::endl;
                    results.back().update({{"fused_us", fusedUs}, {"libtorch_us", libtorchUs}});
                }
            }
        }
        for (const RowsCase& c : LayerNormCases) {
            const std::int64_t width = c.shape.back();
            std::vector<std::int64_t> rowShape(c.shape.begin(), c.shape.end() - 1);
            rowShape.push_back(1);
            const at::Tensor means = at::rand(rowShape, options) * (2 * c.meanRange) - c.meanRange;
            const at::Tensor spreads = at::rand(rowShape, options) * (c.spreadMax - c.spreadMin) + c.spreadMin;
            const at::Tensor x = (at::randn(c.shape, options) * spreads + means).to(type);
            const at::Tensor gamma = (at::randn({width}, options) * 0.5 + 1.0).to(type);
            const at::Tensor beta = (at::randn({width}, options) * 0.5).to(type);
            const at::Tensor reference
                = at::layer_norm(x.to(at::kFloat), {width}, gamma.to(at::kFloat), beta.to(at::kFloat), 1e-5);
            judge(
                std::string("layernorm ") + (half ? "fp16 " : "bf16 ") + c.what + " " + dimsOf(c.shape), half,
                [&] { return fusedLayerNorm(x, gamma, beta, 1e-5); },
                [&] { return at::layer_norm(x, {width}, gamma, beta, 1e-5); }, reference, /*channelsLast=*/false,
                c.timed && half);
        }
    }
    std::cout << "atelier-kernel-check: " << passed + failed << " checks: " << passed << " passed, " << failed
              << " failed" << std::endl;
    if (!jsonPath.empty()) {
        nlohmann::json report;
        report["device"] = describeCudaDevice(spec->index).name;
        report["repeat"] = repeat;
        report["checks"] = results;
        std::ofstream(jsonPath) << report.dump(2) << "\n";
    }
    return failed == 0 ? 0 : 1;
#else
    (void)repeat;
    return 1;
#endif
}
