// SPDX-License-Identifier: GPL-3.0-or-later
// atelier-lora-bench: what switching LoRA sets between jobs costs, against one UNet step on the same device, and
// whether a job with LoRAs steps slower than one without. Two random kohya LoRAs of the given rank on every layer
// A1111-trained LoRAs usually cover (UNet attention, feed-forward and projections; text-encoder attention and MLP)
// are written for the model at hand, then the worker's path is timed: LoraPatcher::apply() from one set to the
// other (files already read, as a worker that has seen both), and UNet forwards with and without a set on.
//
//   atelier-lora-bench --model PATH [--device cpu|cuda:N] [--dtype fp32|fp16] [--rank 32] [--size 512]
//                      [--threads N] [--switches 6] [--repeat 3]
// Prints one JSON line. Every number is measured here; nothing is estimated.
#include <ATen/CPUGeneratorImpl.h>
#include <ATen/Parallel.h>
#include <ATen/ops/full.h>
#include <ATen/ops/randn.h>
#include <ATen/ops/scalar_tensor.h>

#include <c10/core/InferenceMode.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <iostream>
#include <string>
#include <vector>

#include <unistd.h>

#include <nlohmann/json.hpp>

#include "BenchNumbers.h"
#include "engine/CudaDevices.h"
#include "engine/Devices.h"
#include "engine/Lora.h"
#include "engine/Pipeline.h"
#include "engine/Safetensors.h"
#include "engine/Weights.h"

#if ATELIER_BENCH_CUDA
#include <c10/cuda/CUDAFunctions.h>
#endif

using namespace Atelier::Engine;

namespace
{
    using Clock = std::chrono::steady_clock;

    struct Options
    {
        std::filesystem::path model;
        std::string device = "cpu";
        std::string dtype = "fp32";
        std::int64_t rank = 32;
        std::int64_t size = 512;
        int threads = 0;
        int switches = 6;
        int repeat = 3;
    };

    [[noreturn]] void usage(const std::string& message)
    {
        std::cerr << "atelier-lora-bench: " << message
                  << "\nusage: atelier-lora-bench --model PATH [--device cpu|cuda:N] [--dtype fp32|fp16] [--rank R]"
                     " [--size PX] [--threads N] [--switches N] [--repeat N]\n";
        std::exit(2);
    }

    template <typename T> T number(std::string_view option, std::string_view text)
    {
        const std::optional<T> value = Atelier::Bench::parseNumber<T>(text);
        if (!value) {
            usage(std::string(option) + " needs a number, got \"" + std::string(text) + "\"");
        }
        return *value;
    }

    Options parse(int argc, char** argv)
    {
        Options o;
        for (int i = 1; i + 1 < argc; i += 2) {
            const std::string_view option = argv[i], value = argv[i + 1];
            if (option == "--model") {
                o.model = std::string(value);
            } else if (option == "--device") {
                o.device = std::string(value);
            } else if (option == "--dtype") {
                o.dtype = std::string(value);
            } else if (option == "--rank") {
                o.rank = number<std::int64_t>(option, value);
            } else if (option == "--size") {
                o.size = number<std::int64_t>(option, value);
            } else if (option == "--threads") {
                o.threads = number<int>(option, value);
            } else if (option == "--switches") {
                o.switches = number<int>(option, value);
            } else if (option == "--repeat") {
                o.repeat = number<int>(option, value);
            } else {
                usage("unknown option " + std::string(option));
            }
        }
        if (argc % 2 == 0 || o.model.empty() || o.rank < 1 || o.size < 64 || o.size % 8 != 0 || o.switches < 2
            || o.repeat < 1) {
            usage("--model is required; --rank ≥ 1, --size a multiple of 8 from 64, --switches ≥ 2, --repeat ≥ 1");
        }
        return o;
    }

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

    double secondsOf(const at::Device& device, const std::function<void()>& work)
    {
        synchronize(device);
        const auto start = Clock::now();
        work();
        synchronize(device);
        return std::chrono::duration<double>(Clock::now() - start).count();
    }

    double median(std::vector<double> values)
    {
        std::sort(values.begin(), values.end());
        const std::size_t n = values.size();
        return n % 2 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
    }

    /// Whether kohya LoRAs usually train @p name (a WeightRegistry name): the UNet's attention, feed-forward and
    /// transformer projections, and the text encoder's attention and MLP.
    bool usuallyTrained(const std::string& name)
    {
        static const char* const parts[] = {".to_q.",    ".to_k.",     ".to_v.",      ".to_out.0.", ".ff.net.",
                                            ".proj_in.", ".proj_out.", ".self_attn.", ".mlp.fc"};
        return std::any_of(std::begin(parts), std::end(parts),
                           [&](const char* part) { return name.find(part) != std::string::npos; });
    }

    /// A random rank-@p rank LoRA in kohya's format for every usually trained layer of @p model.
    std::size_t writeLora(const StableDiffusionModel& model, std::int64_t rank, std::uint64_t seed,
                          const std::filesystem::path& path)
    {
        at::Generator generator = at::make_generator<at::CPUGeneratorImpl>(seed);
        std::vector<std::pair<std::string, at::Tensor>> tensors;
        std::size_t layers = 0;
        for (const auto& [name, weight] : model.weights->tensors()) {
            if (!usuallyTrained(name) || weight.dim() < 2) {
                continue;
            }
            const std::string module = kohyaModuleName(name);
            std::vector<std::int64_t> down{rank, weight.size(1)}, up{weight.size(0), rank};
            if (weight.dim() == 4) {
                down.insert(down.end(), {weight.size(2), weight.size(3)});
                up.insert(up.end(), {1, 1});
            }
            tensors.emplace_back(module + ".lora_down.weight", at::randn(down, generator).mul_(0.01).to(at::kHalf));
            tensors.emplace_back(module + ".lora_up.weight", at::randn(up, generator).mul_(0.01).to(at::kHalf));
            tensors.emplace_back(module + ".alpha", at::scalar_tensor(static_cast<double>(rank), at::kFloat));
            ++layers;
        }
        writeSafetensors(path, tensors);
        return layers;
    }
} // namespace

int main(int argc, char** argv)
{
    const Options options = parse(argc, argv);
    std::string error;
    const std::optional<DeviceSpec> spec = parseDevice(options.device, &error);
    const std::optional<at::ScalarType> dtype = parsePrecision(options.dtype);
    if (!spec || !dtype) {
        usage(spec ? "--dtype must be fp32, fp16 or bf16" : error);
    }
    if (options.threads > 0) {
        at::set_num_threads(options.threads);
    }
    const at::Device device = spec->kind == DeviceSpec::Kind::Cuda
        ? at::Device(at::kCUDA, static_cast<c10::DeviceIndex>(spec->index))
        : at::Device(at::kCPU);
    if (device.is_cuda()) {
        configureCudaMath(*dtype, false);
    }
    c10::InferenceMode inference;
    const auto model = StableDiffusionModel::load(options.model, ATELIER_BENCH_CLIP_VOCABULARY,
                                                  ModelPlacement::forDevice(device, *dtype));
    const std::filesystem::path folder
        = std::filesystem::temp_directory_path() / ("atelier-lora-bench-" + std::to_string(::getpid()));
    std::filesystem::create_directories(folder);
    const std::size_t layers = writeLora(*model, options.rank, 1, folder / "a.safetensors");
    writeLora(*model, options.rank, 2, folder / "b.safetensors");
    const std::vector<LoraSpec> a{{folder / "a.safetensors", 0.8, 0.8}};
    const std::vector<LoraSpec> b{{folder / "b.safetensors", 0.6, 0.6}};

    // One UNet step as the pipeline takes it: a guidance batch of 2 at the image's latent size.
    const std::int64_t side = options.size / model->vaeScaleFactor();
    const auto tensorOptions = at::TensorOptions().dtype(*dtype).device(device);
    const at::Tensor sample = at::randn({2, model->unet.config().inChannels, side, side}, tensorOptions);
    const at::Tensor context = at::randn({2, 77, model->unet.config().crossAttentionDim}, tensorOptions);
    const at::Tensor timestep = at::full({1}, 500.0, at::TensorOptions().device(device));
    const auto step = [&] { (void)model->unet.forward(sample, timestep, context); };
    step(); // warm-up: allocator growth, kernel selection
    const auto fastestStep = [&] {
        double best = 1e30;
        for (int i = 0; i < options.repeat; ++i) {
            best = std::min(best, secondsOf(device, step));
        }
        return best;
    };
    const double stepWithout = fastestStep();

    // The first apply of each set reads and checks its file; a worker pays that once per file.
    const double firstA = secondsOf(device, [&] { model->loras->apply(a); });
    const double firstB = secondsOf(device, [&] { model->loras->apply(b); });
    std::vector<double> switches;
    for (int i = 0; i < options.switches; ++i) {
        switches.push_back(secondsOf(device, [&] { model->loras->apply(i % 2 ? b : a); }));
    }
    const std::size_t patched = model->loras->patchedLayers();
    const double stepWith = fastestStep();
    const double off = secondsOf(device, [&] { model->loras->apply({}); });
    std::filesystem::remove_all(folder);

    nlohmann::ordered_json out;
    out["device"] = options.device;
    out["dtype"] = options.dtype;
    out["threads"] = at::get_num_threads();
    out["size"] = options.size;
    out["rank"] = options.rank;
    out["loraLayers"] = layers;
    out["patchedLayers"] = patched;
    out["unetStepSeconds"] = stepWithout;
    out["unetStepWithLoraSeconds"] = stepWith;
    out["firstApplySeconds"] = {firstA, firstB};
    out["switchSecondsMedian"] = median(switches);
    out["switchSecondsMax"] = *std::max_element(switches.begin(), switches.end());
    out["removeSeconds"] = off;
    out["switchOverStep"] = median(switches) / stepWithout;
    out["stepWithOverWithout"] = stepWith / stepWithout;
    std::cout << out.dump() << std::endl;
    return 0;
}
