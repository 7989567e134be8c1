// SPDX-License-Identifier: GPL-3.0-or-later
// atelier-make-model: writes a Stable Diffusion 1.x model in diffusers' folder layout with random weights.
//
//   atelier-make-model --preset sd15|tiny --tokenizer DIR --out DIR [--seed N] [--dtype fp32|fp16]
//
// "sd15" has SD 1.5's full architecture (UNet 859.5M parameters), for benchmarks when no real model is at hand;
// "tiny" is the small model Atelier ships so it runs out of the box. The weights come from loading each network
// through RandomWeights, so the files hold exactly the tensors the engine (and diffusers) expect.
#include <ATen/ops/empty.h>
#include <c10/core/InferenceMode.h>
#include <nlohmann/json.hpp>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <string>

#include "engine/ClipTextEncoder.h"
#include "engine/EngineError.h"
#include "engine/JsonConfig.h"
#include "engine/Safetensors.h"
#include "engine/UNet.h"
#include "engine/Vae.h"
#include "engine/Weights.h"

using namespace Atelier::Engine;
using nlohmann::json;

namespace
{
    struct Preset
    {
        json unet, vae, text, scheduler;
    };

    Preset preset(const std::string& name)
    {
        const bool full = name == "sd15";
        Preset p;
        p.unet = {
            {"_class_name", "UNet2DConditionModel"},
            {"_diffusers_version", "0.40.0"},
            {"act_fn", "silu"},
            {"attention_head_dim", full ? 8 : 4},
            {"block_out_channels", full ? json{320, 640, 1280, 1280} : json{32, 64}},
            {"center_input_sample", false},
            {"cross_attention_dim", full ? 768 : 32},
            {"down_block_types",
             full ? json{"CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "DownBlock2D"}
                  : json{"CrossAttnDownBlock2D", "DownBlock2D"}},
            {"downsample_padding", 1},
            {"flip_sin_to_cos", true},
            {"freq_shift", 0},
            {"in_channels", 4},
            {"layers_per_block", full ? 2 : 1},
            {"mid_block_scale_factor", 1},
            {"norm_eps", 1e-05},
            {"norm_num_groups", full ? 32 : 8},
            {"out_channels", 4},
            {"sample_size", 64},
            {"up_block_types",
             full ? json{"UpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D"}
                  : json{"UpBlock2D", "CrossAttnUpBlock2D"}},
        };
        p.vae = {
            {"_class_name", "AutoencoderKL"},
            {"_diffusers_version", "0.40.0"},
            {"act_fn", "silu"},
            {"block_out_channels", full ? json{128, 256, 512, 512} : json{16, 16, 32, 32}},
            {"down_block_types",
             json::array({"DownEncoderBlock2D", "DownEncoderBlock2D", "DownEncoderBlock2D", "DownEncoderBlock2D"})},
            {"in_channels", 3},
            {"latent_channels", 4},
            {"layers_per_block", full ? 2 : 1},
            {"norm_num_groups", full ? 32 : 8},
            {"out_channels", 3},
            {"sample_size", 512},
            {"scaling_factor", 0.18215},
            {"up_block_types",
             json::array({"UpDecoderBlock2D", "UpDecoderBlock2D", "UpDecoderBlock2D", "UpDecoderBlock2D"})},
        };
        p.text = {
            {"architectures", {"CLIPTextModel"}},
            {"attention_dropout", 0.0},
            {"bos_token_id", 0},
            {"dropout", 0.0},
            {"eos_token_id", 2},
            {"hidden_act", "quick_gelu"},
            {"hidden_size", full ? 768 : 32},
            {"initializer_factor", 1.0},
            {"initializer_range", 0.02},
            {"intermediate_size", full ? 3072 : 64},
            {"layer_norm_eps", 1e-05},
            {"max_position_embeddings", 77},
            {"model_type", "clip_text_model"},
            {"num_attention_heads", full ? 12 : 4},
            {"num_hidden_layers", full ? 12 : 2},
            {"pad_token_id", 1},
            {"projection_dim", full ? 768 : 32},
            {"vocab_size", 49408},
        };
        p.scheduler = {
            {"_class_name", "PNDMScheduler"},
            {"_diffusers_version", "0.6.0"},
            {"beta_end", 0.012},
            {"beta_schedule", "scaled_linear"},
            {"beta_start", 0.00085},
            {"clip_sample", false},
            {"num_train_timesteps", 1000},
            {"set_alpha_to_one", false},
            {"skip_prk_steps", true},
            {"steps_offset", 1},
            {"trained_betas", nullptr},
        };
        return p;
    }

    void writeJson(const std::filesystem::path& path, const json& value)
    {
        std::filesystem::create_directories(path.parent_path());
        std::ofstream(path) << value.dump(2) << '\n';
    }

    void writeWeights(const std::filesystem::path& path, const RandomWeights& weights, at::ScalarType dtype)
    {
        std::vector<std::pair<std::string, at::Tensor>> tensors;
        std::int64_t parameters = 0;
        for (const auto& [name, tensor] : weights.made()) {
            tensors.emplace_back(name, tensor.to(dtype));
            parameters += tensor.numel();
        }
        writeSafetensors(path, tensors, {{"format", "pt"}});
        std::printf("%-60s %12lld parameters\n", path.string().c_str(), static_cast<long long>(parameters));
    }

    int usage()
    {
        std::fputs("usage: atelier-make-model --preset sd15|tiny --tokenizer DIR --out DIR [--seed N] "
                   "[--dtype fp32|fp16]\n",
                   stderr);
        return 2;
    }
} // namespace

int main(int argc, char** argv)
{
    std::string presetName, out, tokenizer;
    std::uint64_t seed = 0;
    at::ScalarType dtype = at::kFloat;
    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        const bool hasValue = i + 1 < argc;
        if (arg == "--preset" && hasValue) {
            presetName = argv[++i];
        } else if (arg == "--out" && hasValue) {
            out = argv[++i];
        } else if (arg == "--tokenizer" && hasValue) {
            tokenizer = argv[++i];
        } else if (arg == "--seed" && hasValue) {
            seed = std::stoull(argv[++i]);
        } else if (arg == "--dtype" && hasValue) {
            const std::string value = argv[++i];
            if (value != "fp32" && value != "fp16") {
                return usage();
            }
            dtype = value == "fp16" ? at::kHalf : at::kFloat;
        } else {
            return usage();
        }
    }
    if ((presetName != "sd15" && presetName != "tiny") || out.empty() || tokenizer.empty()) {
        return usage();
    }

    try {
        c10::InferenceMode inference;
        const std::filesystem::path root(out);
        const Preset p = preset(presetName);
        writeJson(root / "model_index.json",
                  {{"_class_name", "StableDiffusionPipeline"},
                   {"_diffusers_version", "0.40.0"},
                   {"feature_extractor", {nullptr, nullptr}},
                   {"image_encoder", {nullptr, nullptr}},
                   {"requires_safety_checker", false},
                   {"safety_checker", {nullptr, nullptr}},
                   {"scheduler", {"diffusers", "PNDMScheduler"}},
                   {"text_encoder", {"transformers", "CLIPTextModel"}},
                   {"tokenizer", {"transformers", "CLIPTokenizer"}},
                   {"unet", {"diffusers", "UNet2DConditionModel"}},
                   {"vae", {"diffusers", "AutoencoderKL"}}});
        writeJson(root / "unet" / "config.json", p.unet);
        writeJson(root / "vae" / "config.json", p.vae);
        writeJson(root / "text_encoder" / "config.json", p.text);
        writeJson(root / "scheduler" / "scheduler_config.json", p.scheduler);
        std::filesystem::create_directories(root / "tokenizer");
        for (const char* file : {"vocab.json", "merges.txt", "tokenizer_config.json", "special_tokens_map.json"}) {
            std::filesystem::copy_file(std::filesystem::path(tokenizer) / file, root / "tokenizer" / file,
                                       std::filesystem::copy_options::overwrite_existing);
        }

        // Each network is built from the config just written, as the engine will read it, with random weights.
        const auto options = at::TensorOptions().dtype(at::kFloat);
        {
            auto weights = std::make_shared<RandomWeights>(seed);
            ClipTextEncoder::load(
                ClipTextConfig::fromConfig(JsonConfig::fromFile(root / "text_encoder" / "config.json")),
                WeightSource(weights, "text_model.", options));
            writeWeights(root / "text_encoder" / "model.safetensors", *weights, dtype);
        }
        {
            auto weights = std::make_shared<RandomWeights>(seed + 1);
            UNet::load(UNetConfig::fromConfig(JsonConfig::fromFile(root / "unet" / "config.json")),
                       WeightSource(weights, "", options));
            writeWeights(root / "unet" / "diffusion_pytorch_model.safetensors", *weights, dtype);
        }
        {
            auto weights = std::make_shared<RandomWeights>(seed + 2);
            VaeDecoder::load(VaeConfig::fromConfig(JsonConfig::fromFile(root / "vae" / "config.json")),
                             WeightSource(weights, "", options));
            writeWeights(root / "vae" / "diffusion_pytorch_model.safetensors", *weights, dtype);
        }
    } catch (const std::exception& e) {
        std::fprintf(stderr, "atelier-make-model: %s\n", e.what());
        return 1;
    }
    return 0;
}
