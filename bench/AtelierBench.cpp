// SPDX-License-Identifier: GPL-3.0-or-later
// atelier-bench: times Atelier's engine on one model and prints the numbers as one JSON line.
//
// It measures what bench/diffusers_bench.py measures for diffusers, the same way, so that bench/compare-diffusers
// can put the two side by side: model load, text encoding (prompt and negative prompt), one standalone UNet
// forward at the classifier-free-guidance batch, the denoising loop's time per step, VAE decoding, one whole
// generate() call, and peak memory.
//
// No Qt here on purpose: the benchmark links atelier_engine alone, so it measures the engine and nothing else.
#include <ATen/Context.h>
#include <ATen/Parallel.h>
#include <ATen/TensorOperators.h>
#include <ATen/ops/cat.h>
#include <ATen/ops/randn.h>
#include <ATen/ops/scalar_tensor.h>
#include <c10/core/InferenceMode.h>
#include <torch/csrc/autograd/profiler_kineto.h>

#include <nlohmann/json.hpp>

#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <limits>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#if ATELIER_BENCH_CUDA
#include <c10/cuda/CUDACachingAllocator.h>
#include <c10/cuda/CUDAFunctions.h>
#endif

#include "BenchNumbers.h"
#include "engine/CudaDevices.h"
#include "engine/Devices.h"
#include "engine/EngineError.h"
#include "engine/FusedKernels.h"
#include "engine/Pipeline.h"
#include "engine/RuntimeInfo.h"

namespace
{
    using Clock = std::chrono::steady_clock;
    using Atelier::Engine::EngineError;

    /// Everything the command line sets.
    struct Options
    {
        std::filesystem::path model;
        std::filesystem::path clipVocabulary = ATELIER_BENCH_CLIP_VOCABULARY;
        std::int64_t width = 512;
        std::int64_t height = 512;
        int steps = 20;
        int batch = 1;
        std::string device = "cpu";
        std::string dtype = "fp32";
        std::string scheduler; ///< empty: the model's own sampler
        int threads = 0; ///< 0: leave LibTorch's default
        int warmup = 1;
        int repeat = 3;
        double guidance = 7.5;
        std::uint64_t seed = 0;
        std::string prompt = "a photograph of an astronaut riding a horse";
        std::string negativePrompt;
        int channelsLast = -1; ///< -1: the engine's choice for the device (on for CUDA)
        bool cudaGraphs = true; ///< replay the UNet as CUDA graphs (CUDA only)
        bool cudnnBenchmark = false; ///< let cuDNN time its algorithms per shape; the worker does not (CUDA only)
        /// the engine's own CUDA kernels (FusedKernels.h) that run where they apply
        Atelier::Engine::FusedKernelSet fusedKernels = Atelier::Engine::defaultFusedKernels();
        int vaeChannelsLast = -1; ///< -1: the engine's choice for the device
        std::string attention = "default"; ///< which SDPA kernel LibTorch tries first (CUDA only)
        std::filesystem::path profileOut; ///< empty: no kernel profile
        int profileRuns = 5;
    };

    constexpr std::string_view Usage
        = "usage: atelier-bench --model PATH [--width W] [--height H] [--steps N] [--batch B]\n"
          "                     [--device cpu|cuda:N] [--dtype fp32|fp16|bf16] [--scheduler NAME] [--threads N]\n"
          "                     [--warmup N] [--repeat N] [--guidance G] [--seed S] [--prompt TEXT]\n"
          "                     [--negative-prompt TEXT] [--clip-vocab DIR] [--channels-last 0|1]\n"
          "                     [--cuda-graphs 0|1] [--cudnn-benchmark 0|1]\n"
          "                     [--fused-kernels default|all|none|LIST] [--vae-channels-last 0|1]\n"
          "                     [--attention default|cudnn|flash|efficient|math] [--profile-out FILE]\n"
          "                     [--profile-runs N]\n"
          "Prints one JSON line with load, text-encode, UNet-step, VAE-decode and end-to-end times and peak memory.\n"
          "  --warmup N   untimed generate() calls (at most 2 steps each) before measuring (default 1)\n"
          "  --repeat N   runs of each standalone measurement; the fastest is reported (default 3)\n"
          "  --fused-kernels  the engine's own CUDA kernels to run: default (the worker's set), all, none, or\n"
          "               names (groupnorm,geglu,normoffset,biasresidual,layernorm); 1 and 0 mean all and none\n"
          "  --profile-out FILE  after the measurements, profile N eager UNet forwards (--profile-runs, default 5)\n"
          "               and write the time per kernel (CUDA) or per aten operator (CPU, inclusive) as JSON\n";

    [[noreturn]] void usageError(const std::string& message)
    {
        std::cerr << "atelier-bench: " << message << "\n" << Usage;
        std::exit(2);
    }

    template <typename T> T parseNumber(std::string_view option, std::string_view text)
    {
        const std::optional<T> value = Atelier::Bench::parseNumber<T>(text);
        if (!value) {
            usageError(std::string(option) + " needs a number, got \"" + std::string(text) + "\"");
        }
        return *value;
    }

    Options parseOptions(int argc, char** argv)
    {
        Options o;
        for (int i = 1; i < argc; ++i) {
            const std::string_view arg = argv[i];
            if (arg == "--help" || arg == "-h") {
                std::cout << Usage;
                std::exit(0);
            }
            if (i + 1 >= argc) {
                usageError("unknown option or missing value: " + std::string(arg));
            }
            const std::string_view value = argv[++i];
            if (arg == "--model") {
                o.model = std::string(value);
            } else if (arg == "--clip-vocab") {
                o.clipVocabulary = std::string(value);
            } else if (arg == "--width") {
                o.width = parseNumber<std::int64_t>(arg, value);
            } else if (arg == "--height") {
                o.height = parseNumber<std::int64_t>(arg, value);
            } else if (arg == "--steps") {
                o.steps = parseNumber<int>(arg, value);
            } else if (arg == "--batch") {
                o.batch = parseNumber<int>(arg, value);
            } else if (arg == "--device") {
                o.device = std::string(value);
            } else if (arg == "--channels-last") {
                o.channelsLast = parseNumber<int>(arg, value) != 0 ? 1 : 0;
            } else if (arg == "--cuda-graphs") {
                o.cudaGraphs = parseNumber<int>(arg, value) != 0;
            } else if (arg == "--cudnn-benchmark") {
                o.cudnnBenchmark = parseNumber<int>(arg, value) != 0;
            } else if (arg == "--vae-channels-last") {
                o.vaeChannelsLast = parseNumber<int>(arg, value) != 0 ? 1 : 0;
            } else if (arg == "--fused-kernels") {
                const auto set = Atelier::Engine::parseFusedKernels(value);
                if (!set) {
                    usageError("--fused-kernels takes default, all, none or a list of kernel names");
                }
                o.fusedKernels = *set;
            } else if (arg == "--attention") {
                if (!Atelier::Engine::parseAttentionKernel(value)) {
                    usageError("--attention must be default, cudnn, flash, efficient or math");
                }
                o.attention = std::string(value);
            } else if (arg == "--profile-out") {
                o.profileOut = std::string(value);
            } else if (arg == "--profile-runs") {
                o.profileRuns = std::max(1, parseNumber<int>(arg, value));
            } else if (arg == "--dtype") {
                o.dtype = std::string(value);
            } else if (arg == "--scheduler") {
                o.scheduler = std::string(value);
            } else if (arg == "--threads") {
                o.threads = parseNumber<int>(arg, value);
            } else if (arg == "--warmup") {
                o.warmup = parseNumber<int>(arg, value);
            } else if (arg == "--repeat") {
                o.repeat = parseNumber<int>(arg, value);
            } else if (arg == "--guidance") {
                o.guidance = parseNumber<double>(arg, value);
            } else if (arg == "--seed") {
                o.seed = parseNumber<std::uint64_t>(arg, value);
            } else if (arg == "--prompt") {
                o.prompt = std::string(value);
            } else if (arg == "--negative-prompt") {
                o.negativePrompt = std::string(value);
            } else {
                usageError("unknown option " + std::string(arg));
            }
        }
        if (o.model.empty()) {
            usageError("--model is required");
        }
        if (o.batch < 1 || o.steps < 1 || o.repeat < 1 || o.warmup < 0 || o.threads < 0) {
            usageError("--batch, --steps and --repeat must be at least 1; --warmup and --threads at least 0");
        }
        return o;
    }

    at::ScalarType parseDtype(const std::string& name)
    {
        if (const auto dtype = Atelier::Engine::parsePrecision(name)) {
            return *dtype;
        }
        usageError("--dtype must be fp32, fp16 or bf16, got \"" + name + "\"");
    }

    double millisecondsSince(Clock::time_point start)
    {
        return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
    }

    /// Waits for queued device work, so that wall-clock time covers the work and not just its launch.
    void synchronize(const at::Device& device)
    {
#if ATELIER_BENCH_CUDA
        if (device.is_cuda()) {
            c10::cuda::device_synchronize();
        }
#else
        (void)device;
#endif
    }

    /// Runs @p work @p repeat times and returns the fastest wall-clock time in milliseconds: on a shared machine
    /// the minimum is the run least disturbed by other processes.
    double fastestOf(int repeat, const at::Device& device, const std::function<void()>& work)
    {
        double best = std::numeric_limits<double>::infinity();
        for (int i = 0; i < repeat; ++i) {
            synchronize(device);
            const auto start = Clock::now();
            work();
            synchronize(device);
            best = std::min(best, millisecondsSince(start));
        }
        return best;
    }

    /// The process's peak resident set in MiB. VmHWM is the kernel's high-water mark; getrusage's ru_maxrss is
    /// the same number on Linux and serves where /proc is missing.
    double peakRssMiB()
    {
        std::ifstream status("/proc/self/status");
        std::string line;
        while (std::getline(status, line)) {
            if (line.rfind("VmHWM:", 0) == 0) {
                return std::stod(line.substr(6)) / 1024.0;
            }
        }
        rusage usage{};
        getrusage(RUSAGE_SELF, &usage);
        return static_cast<double>(usage.ru_maxrss) / 1024.0;
    }

    /// Peak bytes LibTorch's CUDA caching allocator handed out (torch.cuda.max_memory_allocated), in MiB.
    std::optional<double> peakDeviceMiB(const at::Device& device)
    {
#if ATELIER_BENCH_CUDA
        if (device.is_cuda()) {
            const auto stats = c10::cuda::CUDACachingAllocator::getDeviceStats(device.index());
            const auto aggregate = static_cast<std::size_t>(c10::CachingAllocator::StatType::AGGREGATE);
            return static_cast<double>(stats.allocated_bytes[aggregate].peak) / (1024.0 * 1024.0);
        }
#else
        (void)device;
#endif
        return std::nullopt;
    }

    /// Where @p runs calls of @p work spend their time, by name, from LibTorch's Kineto profiler: on CUDA every
    /// kernel and copy on the GPU (shares of the GPU's busy time), on the CPU every aten operator (inclusive of
    /// the operators it calls, so shares of the wall time overlap). The 40 largest, per run.
    nlohmann::ordered_json profileByName(const at::Device& device, int runs, const std::function<void()>& work)
    {
        namespace profiler = torch::autograd::profiler;
        using torch::profiler::impl::ActivityType;
        const std::set<ActivityType> activities
            = device.is_cuda() ? std::set{ActivityType::CPU, ActivityType::CUDA} : std::set{ActivityType::CPU};
        const torch::profiler::impl::ProfilerConfig config(torch::profiler::impl::ProfilerState::KINETO);
        profiler::prepareProfiler(config, activities);
        synchronize(device);
        const auto start = Clock::now();
        profiler::enableProfiler(config, activities);
        for (int i = 0; i < runs; ++i) {
            work();
        }
        synchronize(device);
        const std::unique_ptr<profiler::ProfilerResult> result = profiler::disableProfiler();
        const double wallMs = millisecondsSince(start);

        struct Total
        {
            double ns = 0;
            int calls = 0;
        };
        std::map<std::string, Total> totals;
        double busyNs = 0;
        const c10::DeviceType wanted = device.is_cuda() ? c10::DeviceType::CUDA : c10::DeviceType::CPU;
        for (const auto& event : result->events()) {
            std::string name = event.name();
            if (event.deviceType() != wanted || (!device.is_cuda() && name.rfind("aten::", 0) != 0)) {
                continue;
            }
            Total& total = totals[std::move(name)];
            total.ns += static_cast<double>(event.durationNs());
            ++total.calls;
            busyNs += static_cast<double>(event.durationNs());
        }
        std::vector<std::pair<std::string, Total>> sorted(totals.begin(), totals.end());
        std::sort(sorted.begin(), sorted.end(), [](const auto& a, const auto& b) { return a.second.ns > b.second.ns; });
        const double whole = device.is_cuda() ? busyNs / 1e6 : wallMs;
        auto milli = [](double ms) { return std::round(ms * 1000.0) / 1000.0; };
        nlohmann::ordered_json top = nlohmann::ordered_json::array();
        for (std::size_t i = 0; i < sorted.size() && i < 40; ++i) {
            const double ms = sorted[i].second.ns / 1e6;
            top.push_back({{"name", sorted[i].first},
                           {"calls_per_run", static_cast<double>(sorted[i].second.calls) / runs},
                           {"ms_per_run", milli(ms / runs)},
                           {"share", whole > 0 ? std::round(ms / whole * 10000.0) / 10000.0 : 0.0}});
        }
        nlohmann::ordered_json out;
        out["runs"] = runs;
        out["wall_ms_per_run"] = milli(wallMs / runs);
        out["gpu_busy_ms_per_run"]
            = device.is_cuda() ? nlohmann::ordered_json(milli(busyNs / 1e6 / runs)) : nlohmann::ordered_json(nullptr);
        out["counted"] = device.is_cuda() ? "GPU kernels and copies" : "aten operators, inclusive";
        out["top"] = std::move(top);
        return out;
    }

    /// Starts the peak that peakDeviceMiB() reports afresh, from what is allocated now.
    void resetPeakDevice(const at::Device& device)
    {
#if ATELIER_BENCH_CUDA
        if (device.is_cuda()) {
            c10::cuda::CUDACachingAllocator::resetPeakStats(device.index());
        }
#else
        (void)device;
#endif
    }

    /// The 1-minute load average: on a shared machine it tells whether other processes competed for the cores.
    nlohmann::ordered_json loadAverage()
    {
        std::ifstream loadavg("/proc/loadavg");
        double load = 0;
        if (loadavg >> load) {
            return load;
        }
        return nullptr;
    }

    std::string deviceName(const Atelier::Engine::DeviceSpec& spec)
    {
        for (const auto& info : Atelier::Engine::listDevices()) {
            if (info.spec == spec) {
                return info.name;
            }
        }
        throw EngineError("device " + spec.toString() + " is not available on this machine");
    }

    /// Rounds to 0.01 so the JSON line stays readable; the timings are nowhere near that precise anyway.
    double rounded(double value)
    {
        return std::round(value * 100.0) / 100.0;
    }

    int run(const Options& options)
    {
        using namespace Atelier::Engine;
        std::string error;
        const std::optional<DeviceSpec> spec = parseDevice(options.device, &error);
        if (!spec) {
            usageError(error);
        }
        if (options.threads > 0) {
            at::set_num_threads(options.threads);
        }
        const at::Device device = spec->kind == DeviceSpec::Kind::Cuda
            ? at::Device(at::kCUDA, static_cast<c10::DeviceIndex>(spec->index))
            : at::Device(at::kCPU);
        // Before the placement, which follows the kernels (the VAE's layout).
        setFusedKernels(options.fusedKernels);
        ModelPlacement placement = ModelPlacement::forDevice(device, parseDtype(options.dtype));
        if (options.channelsLast >= 0) {
            placement.channelsLast = options.channelsLast == 1;
        }
        if (options.vaeChannelsLast >= 0) {
            placement.vaeChannelsLast = options.vaeChannelsLast == 1;
        }
        if (device.is_cuda()) {
            configureCudaMath(placement.dtype, options.cudnnBenchmark);
            preferAttentionKernel(*parseAttentionKernel(options.attention));
        }
        // The VAE as the worker places it (fp16 for fp16 runs on CUDA, with a float32 retry; float32 otherwise),
        // reported in the JSON.
        const std::string name = deviceName(*spec);
        const nlohmann::ordered_json loadAtStart = loadAverage();

        auto start = Clock::now();
        const auto model = StableDiffusionModel::load(options.model, options.clipVocabulary, placement);
        synchronize(device);
        const double loadSeconds = millisecondsSince(start) / 1000.0;

        const auto runner = std::make_shared<GraphRunner>(options.cudaGraphs);
        const Pipeline pipeline(model, {}, runner);
        GenerationSettings settings;
        settings.scheduler = options.scheduler;
        settings.steps = options.steps;
        settings.guidanceScale = options.guidance;
        settings.width = options.width;
        settings.height = options.height;
        std::vector<ImageRequest> requests;
        for (int b = 0; b < options.batch; ++b) {
            requests.push_back(
                {options.prompt, options.negativePrompt, options.seed + static_cast<std::uint64_t>(b), std::nullopt});
        }

        // Warm-up: the first calls pay for oneDNN primitive creation, allocator growth and CUDA kernel loading.
        GenerationSettings warmupSettings = settings;
        warmupSettings.steps = std::min(settings.steps, 2);
        for (int i = 0; i < options.warmup; ++i) {
            pipeline.generate(requests, warmupSettings);
        }

        // The whole generate() call, with a timestamp at every step for the loop's own rate.
        std::vector<Clock::time_point> stepTimes;
        stepTimes.reserve(static_cast<std::size_t>(settings.steps) + 1);
        synchronize(device);
        start = Clock::now();
        const GenerationResult result = pipeline.generate(requests, settings, [&](const StepProgress&) {
            synchronize(device);
            stepTimes.push_back(Clock::now());
            return true;
        });
        synchronize(device);
        const auto end = Clock::now();
        // What rendering needs (load, warm-up and the timed generation), before the standalone measurements below
        // run stages in ways the pipeline does not.
        const auto generationDeviceMiB = peakDeviceMiB(device);
        const double endToEndMs = std::chrono::duration<double, std::milli>(end - start).count();
        const auto stepCount = static_cast<int>(stepTimes.size());
        // Between the first and the last step callback lie steps − 1 whole steps (UNet, guidance, sampler), with
        // neither the text encoder before nor the VAE after; with one step there is no such interval.
        nlohmann::ordered_json loopStepMs = nullptr;
        // The fastest single step as well: on a shared machine the mean absorbs every stall of other processes.
        nlohmann::ordered_json loopStepMinMs = nullptr;
        for (std::size_t i = 1; i < stepTimes.size(); ++i) {
            const double ms = std::chrono::duration<double, std::milli>(stepTimes[i] - stepTimes[i - 1]).count();
            loopStepMinMs = loopStepMinMs.is_null() ? ms : std::min(loopStepMinMs.get<double>(), ms);
        }
        if (!loopStepMinMs.is_null()) {
            loopStepMinMs = rounded(loopStepMinMs.get<double>());
        }
        if (stepCount > 1) {
            loopStepMs = rounded(std::chrono::duration<double, std::milli>(stepTimes.back() - stepTimes.front()).count()
                                 / (stepCount - 1));
        }
        const double afterLoopMs = std::chrono::duration<double, std::milli>(end - stepTimes.back()).count();

        // Standalone measurements, each on exactly the inputs the pipeline gives that stage.
        c10::InferenceMode inference;
        const bool guidance = options.guidance > 1.0;
        std::vector<std::string> prompts(requests.size(), options.prompt);
        std::vector<std::string> negatives(requests.size(), options.negativePrompt);
        // The tokenizer alone (prompt, negative prompt and the empty chunk the pipeline pads with), to tell its
        // share of the text-encoding time from the encoder's.
        const double tokenizeMs = fastestOf(options.repeat, device, [&] {
            for (std::size_t i = 0; i < prompts.size(); ++i) {
                (void)model->tokenizer.encodeChunks(prompts[i]);
                (void)model->tokenizer.encodeChunks(negatives[i]);
            }
            (void)model->tokenizer.encodePadded("");
        });
        // Each stage's own peak (the weights, which stay allocated throughout, included), to tell which of them
        // sets the generation's.
        resetPeakDevice(device);
        at::Tensor context;
        const double textEncodeMs = fastestOf(options.repeat, device, [&] {
            context = pipeline.encodePrompts(prompts);
            if (guidance) {
                context = at::cat({pipeline.encodePrompts(negatives), context}, 0);
            }
        });
        context = context.to(placement.dtype);
        const auto textDeviceMiB = peakDeviceMiB(device);

        const std::int64_t factor = model->vaeScaleFactor();
        const std::int64_t cfgBatch = guidance ? 2 * options.batch : options.batch;
        const at::Tensor sample
            = at::randn({cfgBatch, model->unet.config().inChannels, options.height / factor, options.width / factor},
                        at::TensorOptions().dtype(placement.dtype).device(device));
        // A mid-schedule timestep as a 0-d tensor, the form the pipeline passes.
        const at::Tensor timestep = at::scalar_tensor(500.0, at::TensorOptions().dtype(at::kDouble).device(device));
        resetPeakDevice(device);
        const double unetStepMs
            = fastestOf(options.repeat, device, [&] { (void)runner->forward(model->unet, sample, timestep, context); });
        const auto unetDeviceMiB = peakDeviceMiB(device);

        const at::Tensor latents = result.finalLatents.to(device);
        // Image by image, as generate() decodes: the whole batch at once in float32 would need the batch's activations.
        resetPeakDevice(device);
        const double vaeDecodeMs = fastestOf(options.repeat, device, [&] {
            for (std::int64_t b = 0; b < latents.size(0); ++b) {
                (void)model->decodeImage(latents.narrow(0, b, 1), runner.get());
            }
        });
        const auto vaeDeviceMiB = peakDeviceMiB(device);

        nlohmann::ordered_json line;
        line["impl"] = "atelier";
        line["model"] = options.model.string();
        line["device"] = spec->toString();
        line["device_name"] = name;
        line["dtype"] = precisionName(placement.dtype);
        line["vae_dtype"] = precisionName(placement.vaeDtype);
        // Images whose reduced-precision decode overflowed and were decoded again in float32 (timed in too).
        line["vae_float32_retries"] = model->vaeFallback ? model->vaeFallback->retries() : 0;
        line["channels_last"] = placement.channelsLast;
        line["vae_channels_last"] = placement.vaeChannelsLast;
        line["cuda_graphs"] = runner->usesCudaGraphs() && device.is_cuda();
        line["cuda_graph_replays"] = runner->replays();
        line["cuda_graph_failures"] = runner->captureFailures();
        line["cudnn_benchmark"] = device.is_cuda() && options.cudnnBenchmark;
        line["fused_kernels"] = device.is_cuda() ? fusedKernelsName(fusedKernels()) : "none";
        line["attention"] = device.is_cuda() ? options.attention : "default";
        line["width"] = options.width;
        line["height"] = options.height;
        line["steps"] = options.steps;
        line["steps_run"] = stepCount;
        line["batch"] = options.batch;
        line["cfg_batch"] = cfgBatch;
        line["scheduler"] = options.scheduler.empty() ? model->defaultScheduler : options.scheduler;
        line["guidance"] = options.guidance;
        line["threads"] = at::get_num_threads();
        line["torch"] = torchVersion();
        line["warmup"] = options.warmup;
        line["repeat"] = options.repeat;
        line["load_s"] = rounded(loadSeconds);
        line["tokenize_ms"] = rounded(tokenizeMs);
        line["text_encode_ms"] = rounded(textEncodeMs);
        line["unet_step_ms"] = rounded(unetStepMs);
        line["loop_step_ms"] = loopStepMs;
        line["loop_step_min_ms"] = loopStepMinMs;
        line["vae_decode_ms"] = rounded(vaeDecodeMs);
        line["after_loop_ms"] = rounded(afterLoopMs);
        line["end_to_end_ms"] = rounded(endToEndMs);
        line["images_per_s"] = std::round(options.batch / (endToEndMs / 1000.0) * 10000.0) / 10000.0;
        line["peak_rss_mib"] = rounded(peakRssMiB());
        std::optional<double> allDeviceMiB;
        for (const auto& peak : {generationDeviceMiB, textDeviceMiB, unetDeviceMiB, vaeDeviceMiB}) {
            if (peak) {
                allDeviceMiB = std::max(allDeviceMiB.value_or(0.0), *peak);
            }
        }
        auto mib = [](const std::optional<double>& value) {
            return value ? nlohmann::ordered_json(rounded(*value)) : nlohmann::ordered_json(nullptr);
        };
        line["load_avg_start"] = loadAtStart;
        line["load_avg_end"] = loadAverage();
        line["peak_device_mib"] = mib(generationDeviceMiB);
        line["peak_device_all_mib"] = mib(allDeviceMiB);
        line["peak_device_text_encode_mib"] = mib(textDeviceMiB);
        line["peak_device_unet_step_mib"] = mib(unetDeviceMiB);
        line["peak_device_vae_decode_mib"] = mib(vaeDeviceMiB);
        std::cout << line.dump() << std::endl;

        if (!options.profileOut.empty()) {
            // Extra to the measurements above, which are already out: a profiler that fails costs only itself.
            try {
                // Eager, not through the graphs: the kernels are the same, and the profiler sees each launch.
                nlohmann::ordered_json profile = profileByName(
                    device, options.profileRuns, [&] { (void)model->unet.forward(sample, timestep, context); });
                profile["impl"] = "atelier";
                profile["what"] = "UNet forward, eager, batch " + std::to_string(cfgBatch) + ", "
                    + std::to_string(options.width) + "x" + std::to_string(options.height) + ", "
                    + precisionName(placement.dtype) + (placement.channelsLast ? ", channels-last" : "");
                profile["device_name"] = name;
                std::ofstream file(options.profileOut);
                file << profile.dump(1) << '\n';
                if (!file) {
                    throw EngineError("cannot write " + options.profileOut.string());
                }
            } catch (const std::exception& e) {
                std::cerr << "atelier-bench: no profile: " << e.what() << "\n";
            }
        }
        return 0;
    }
} // namespace

int main(int argc, char** argv)
{
    const Options options = parseOptions(argc, argv);
    // As the worker runs: freed memory is kept, not page-faulted back in every step.
    Atelier::Engine::keepFreedHostMemory();
    try {
        return run(options);
    } catch (const std::exception& e) {
        std::cerr << "atelier-bench: " << e.what() << "\n";
        return 1;
    }
}
