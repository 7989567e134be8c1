// SPDX-License-Identifier: GPL-3.0-or-later
#include "SingleFileCheckpoint.h"

#include <algorithm>
#include <charconv>
#include <optional>
#include <string>
#include <string_view>

#include "EngineError.h"
#include "Safetensors.h"

namespace Atelier::Engine
{
    namespace
    {
        const std::string UNetPrefix = "model.diffusion_model.";
        const std::string VaePrefix = "first_stage_model.";
        const std::string TextPrefix = "cond_stage_model.transformer.text_model.";

        bool startsWith(std::string_view text, std::string_view prefix)
        {
            return text.substr(0, prefix.size()) == prefix;
        }

        /// Splits "down_blocks.1.resnets.0.conv1.weight" at its dots.
        std::vector<std::string_view> splitName(std::string_view name)
        {
            std::vector<std::string_view> parts;
            std::size_t begin = 0;
            while (true) {
                const std::size_t dot = name.find('.', begin);
                parts.push_back(
                    name.substr(begin, dot == std::string_view::npos ? std::string_view::npos : dot - begin));
                if (dot == std::string_view::npos) {
                    return parts;
                }
                begin = dot + 1;
            }
        }

        /// The parts from @p first on, joined by dots again.
        std::string joinFrom(const std::vector<std::string_view>& parts, std::size_t first)
        {
            std::string out;
            for (std::size_t i = first; i < parts.size(); ++i) {
                out += i > first ? "." : "";
                out += parts[i];
            }
            return out;
        }

        std::optional<std::int64_t> index(std::string_view text)
        {
            std::int64_t value = 0;
            const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
            if (error != std::errc() || end != text.data() + text.size() || value < 0) {
                return std::nullopt;
            }
            return value;
        }

        /// diffusers' ResnetBlock2D names inside the UNet → openaimodel's ResBlock names, whose Sequentials number
        /// their layers including the parameterless SiLU and dropout (hence in_layers.2 and out_layers.3).
        std::string unetResnetName(const std::vector<std::string_view>& parts, std::size_t first)
        {
            if (first >= parts.size()) {
                return joinFrom(parts, first);
            }
            const std::string_view layer = parts[first];
            std::string ldm;
            if (layer == "norm1") {
                ldm = "in_layers.0";
            } else if (layer == "conv1") {
                ldm = "in_layers.2";
            } else if (layer == "time_emb_proj") {
                ldm = "emb_layers.1";
            } else if (layer == "norm2") {
                ldm = "out_layers.0";
            } else if (layer == "conv2") {
                ldm = "out_layers.3";
            } else if (layer == "conv_shortcut") {
                ldm = "skip_connection";
            } else {
                ldm = layer;
            }
            const std::string rest = joinFrom(parts, first + 1);
            return rest.empty() ? ldm : ldm + "." + rest;
        }

        /// The LDM name of one diffusers UNet name, or nullopt when it is outside the SD 1.x layout.
        std::optional<std::string> mapUNetName(const UNetConfig& config, const std::string& name)
        {
            const auto parts = splitName(name);
            const std::size_t n = parts.size();
            const std::int64_t levels = static_cast<std::int64_t>(config.blockOutChannels.size());
            // openaimodel keeps one flat list per direction: down, each level is layers_per_block resnets (each
            // with its transformer as element .1) then a downsampler; up, one more resnet per level (the extra one
            // takes the skip from the downsampler) with the upsampler as the last element of the last block.
            const std::int64_t perLevel = config.layersPerBlock + 1;
            if (n >= 2 && parts[0] == "time_embedding") {
                if (parts[1] == "linear_1") {
                    return "time_embed.0." + joinFrom(parts, 2);
                }
                if (parts[1] == "linear_2") {
                    return "time_embed.2." + joinFrom(parts, 2);
                }
                return std::nullopt;
            }
            if (parts[0] == "conv_in") {
                return "input_blocks.0.0." + joinFrom(parts, 1);
            }
            if (parts[0] == "conv_norm_out") {
                return "out.0." + joinFrom(parts, 1);
            }
            if (parts[0] == "conv_out") {
                return "out.2." + joinFrom(parts, 1);
            }
            if (n >= 4 && parts[0] == "mid_block") {
                const auto j = index(parts[2]);
                if (parts[1] == "resnets" && (j == 0 || j == 1)) {
                    return "middle_block." + std::to_string(*j * 2) + "." + unetResnetName(parts, 3);
                }
                if (parts[1] == "attentions" && j == 0) {
                    return "middle_block.1." + joinFrom(parts, 3);
                }
                return std::nullopt;
            }
            if (n < 5 || (parts[0] != "down_blocks" && parts[0] != "up_blocks")) {
                return std::nullopt;
            }
            const auto i = index(parts[1]);
            const auto j = index(parts[3]);
            if (!i || !j || *i >= levels) {
                return std::nullopt;
            }
            if (parts[0] == "down_blocks") {
                const std::string block = "input_blocks." + std::to_string(1 + *i * perLevel + *j);
                if (parts[2] == "resnets") {
                    return block + ".0." + unetResnetName(parts, 4);
                }
                if (parts[2] == "attentions") {
                    return block + ".1." + joinFrom(parts, 4);
                }
                if (parts[2] == "downsamplers" && *j == 0 && parts[4] == "conv") {
                    return "input_blocks." + std::to_string((*i + 1) * perLevel) + ".0.op." + joinFrom(parts, 5);
                }
                return std::nullopt;
            }
            const std::string block = "output_blocks." + std::to_string(*i * perLevel + *j);
            if (parts[2] == "resnets") {
                return block + ".0." + unetResnetName(parts, 4);
            }
            if (parts[2] == "attentions") {
                return block + ".1." + joinFrom(parts, 4);
            }
            if (parts[2] == "upsamplers" && *j == 0 && parts[4] == "conv") {
                // The upsampler follows the level's last resnet and, where the level has one, its transformer.
                const bool attention = config.upBlockTypes[static_cast<std::size_t>(*i)].rfind("CrossAttn", 0) == 0;
                return "output_blocks." + std::to_string(*i * perLevel + config.layersPerBlock) + "."
                    + (attention ? "2" : "1") + ".conv." + joinFrom(parts, 5);
            }
            return std::nullopt;
        }

        /// diffusers' VAE resnet and attention names → taming-transformers' ("nin_shortcut", "attn_1.q", …).
        std::string vaeLayerName(const std::vector<std::string_view>& parts, std::size_t first)
        {
            if (first < parts.size() && parts[first] == "conv_shortcut") {
                return "nin_shortcut." + joinFrom(parts, first + 1);
            }
            return joinFrom(parts, first);
        }

        std::optional<std::string> mapVaeName(std::int64_t levels, const std::string& name)
        {
            const auto parts = splitName(name);
            const std::size_t n = parts.size();
            if (parts[0] == "quant_conv" || parts[0] == "post_quant_conv") {
                return name;
            }
            if (n < 2 || (parts[0] != "encoder" && parts[0] != "decoder")) {
                return std::nullopt;
            }
            const std::string side = std::string(parts[0]) + ".";
            if (parts[1] == "conv_in" || parts[1] == "conv_out") {
                return name;
            }
            if (parts[1] == "conv_norm_out") {
                return side + "norm_out." + joinFrom(parts, 2);
            }
            if (n >= 5 && parts[1] == "mid_block") {
                const auto j = index(parts[3]);
                if (parts[2] == "resnets" && (j == 0 || j == 1)) {
                    return side + "mid.block_" + std::to_string(*j + 1) + "." + joinFrom(parts, 4);
                }
                if (parts[2] != "attentions" || j != 0) {
                    return std::nullopt;
                }
                // LDM's AttnBlock; older diffusers releases spelled the projections query/key/value/proj_attn.
                const std::string_view layer = parts[4];
                std::string ldm;
                std::size_t rest = 5;
                if (layer == "group_norm") {
                    ldm = "norm";
                } else if (layer == "to_q" || layer == "query") {
                    ldm = "q";
                } else if (layer == "to_k" || layer == "key") {
                    ldm = "k";
                } else if (layer == "to_v" || layer == "value") {
                    ldm = "v";
                } else if (layer == "proj_attn") {
                    ldm = "proj_out";
                } else if (layer == "to_out" && n >= 6 && parts[5] == "0") {
                    ldm = "proj_out";
                    rest = 6;
                } else {
                    return std::nullopt;
                }
                return side + "mid.attn_1." + ldm + "." + joinFrom(parts, rest);
            }
            if (n < 6) {
                return std::nullopt;
            }
            const auto i = index(parts[2]);
            const auto j = index(parts[4]);
            if (!i || !j || *i >= levels) {
                return std::nullopt;
            }
            if (parts[0] == "encoder" && parts[1] == "down_blocks") {
                const std::string level = "encoder.down." + std::to_string(*i) + ".";
                if (parts[3] == "resnets") {
                    return level + "block." + std::to_string(*j) + "." + vaeLayerName(parts, 5);
                }
                if (parts[3] == "downsamplers" && *j == 0) {
                    return level + "downsample." + joinFrom(parts, 5);
                }
                return std::nullopt;
            }
            if (parts[0] == "decoder" && parts[1] == "up_blocks") {
                // The decoder's `up` list is indexed by resolution level (0 the shallowest) and run in reverse;
                // diffusers' up_blocks are in the order they run.
                const std::string level = "decoder.up." + std::to_string(levels - 1 - *i) + ".";
                if (parts[3] == "resnets") {
                    return level + "block." + std::to_string(*j) + "." + vaeLayerName(parts, 5);
                }
                if (parts[3] == "upsamplers" && *j == 0) {
                    return level + "upsample." + joinFrom(parts, 5);
                }
            }
            return std::nullopt;
        }

        [[noreturn]] void refuse(const SafetensorsFile& file, const std::string& why)
        {
            throw EngineError(file.path().string() + ": " + why);
        }

        /// Refuses what is recognisably another model family, before any shape is read.
        void checkStableDiffusion1(const SafetensorsFile& file)
        {
            bool unet = false;
            for (const SafetensorsTensorInfo& info : file.header().tensors) {
                const std::string& key = info.name;
                if (startsWith(key, "conditioner.") || startsWith(key, UNetPrefix + "label_emb.")) {
                    refuse(file,
                           "this is an SDXL checkpoint (it has the weight \"" + key
                               + "\"); Atelier runs Stable Diffusion 1.x single-file checkpoints only");
                }
                if (startsWith(key, "cond_stage_model.model.")) {
                    refuse(file,
                           "this is a Stable Diffusion 2.x checkpoint (its text encoder is OpenCLIP, \"" + key
                               + "\"); Atelier runs Stable Diffusion 1.x single-file checkpoints only");
                }
                unet = unet || startsWith(key, UNetPrefix);
            }
            if (!unet) {
                refuse(file,
                       "this is not a single-file Stable Diffusion checkpoint: it has no \"" + UNetPrefix
                           + "*\" weights");
            }
        }

        const std::vector<std::int64_t>& shapeOf(const SafetensorsFile& file, const std::string& key, std::size_t rank)
        {
            const SafetensorsTensorInfo* info = file.find(key);
            if (!info) {
                refuse(file,
                       "this is not a complete Stable Diffusion 1.x checkpoint: it has no weight \"" + key + "\"");
            }
            if (info->shape.size() != rank) {
                refuse(file,
                       "weight \"" + key + "\" has " + std::to_string(info->shape.size())
                           + " dimensions where a Stable Diffusion 1.x checkpoint has " + std::to_string(rank));
            }
            // The configs' channel and vocabulary sizes come from these shapes; a zero would load and render black.
            if (std::find(info->shape.begin(), info->shape.end(), 0) != info->shape.end()) {
                std::string shape;
                for (const std::int64_t extent : info->shape) {
                    shape += (shape.empty() ? "" : ", ") + std::to_string(extent);
                }
                refuse(file, "weight \"" + key + "\" has the empty shape [" + shape + "]");
            }
            return info->shape;
        }

        /// How many of prefix + "0" + suffix, prefix + "1" + suffix, … exist, counting from 0 until one is missing.
        std::int64_t countFrom0(const SafetensorsFile& file, const std::string& prefix, const std::string& suffix)
        {
            std::int64_t count = 0;
            while (file.contains(prefix + std::to_string(count) + suffix)) {
                ++count;
            }
            return count;
        }

        struct DownLevel
        {
            std::vector<std::int64_t> resnetChannels;
            std::vector<bool> attention;
            std::vector<std::int64_t> transformerDepth;
        };
    } // namespace

    bool isSingleFileCheckpoint(const SafetensorsFile& file)
    {
        for (const SafetensorsTensorInfo& info : file.header().tensors) {
            if (startsWith(info.name, UNetPrefix)) {
                return true;
            }
        }
        return false;
    }

    UNetConfig unetConfigFromCheckpoint(const SafetensorsFile& file)
    {
        checkStableDiffusion1(file);
        const std::string& p = UNetPrefix;
        UNetConfig c;
        const auto& convIn = shapeOf(file, p + "input_blocks.0.0.weight", 4);
        if (convIn[2] != 3 || convIn[3] != 3) {
            refuse(file, "\"" + p + "input_blocks.0.0.weight\" is not a 3×3 convolution as in Stable Diffusion 1.x");
        }
        c.inChannels = convIn[1];
        c.outChannels = shapeOf(file, p + "out.2.weight", 4)[0];

        // Walk input_blocks in order: resnets add to the current level, a downsampler ("op") closes it.
        std::vector<DownLevel> levels(1);
        bool closed = false;
        for (std::int64_t n = 1;; ++n) {
            const std::string block = p + "input_blocks." + std::to_string(n) + ".";
            if (file.contains(block + "0.op.weight")) {
                levels.emplace_back();
                closed = true;
                continue;
            }
            if (!file.contains(block + "0.in_layers.2.weight")) {
                break;
            }
            closed = false;
            DownLevel& level = levels.back();
            level.resnetChannels.push_back(shapeOf(file, block + "0.out_layers.3.weight", 4)[0]);
            const bool attention = file.contains(block + "1.proj_in.weight");
            level.attention.push_back(attention);
            level.transformerDepth.push_back(
                attention ? countFrom0(file, block + "1.transformer_blocks.", ".norm1.weight") : 1);
        }
        if (closed || levels.front().resnetChannels.empty()) {
            refuse(file,
                   "the UNet's input blocks do not form the Stable Diffusion 1.x layout (levels of resnets "
                   "separated by downsamplers)");
        }
        c.layersPerBlock = static_cast<std::int64_t>(levels.front().resnetChannels.size());
        c.blockOutChannels.clear();
        c.downBlockTypes.clear();
        c.upBlockTypes.clear();
        c.headsPerBlock.clear();
        c.transformerLayersPerBlock.clear();
        for (std::size_t i = 0; i < levels.size(); ++i) {
            const DownLevel& level = levels[i];
            const auto& channels = level.resnetChannels;
            const bool uniform = static_cast<std::int64_t>(channels.size()) == c.layersPerBlock
                && std::equal(channels.begin() + 1, channels.end(), channels.begin())
                && std::equal(level.attention.begin() + 1, level.attention.end(), level.attention.begin())
                && std::equal(level.transformerDepth.begin() + 1, level.transformerDepth.end(),
                              level.transformerDepth.begin());
            if (!uniform) {
                refuse(file,
                       "UNet level " + std::to_string(i)
                           + " differs from the first in resnet count, width or attention; Stable Diffusion 1.x "
                             "checkpoints have the same layout at every level");
            }
            c.blockOutChannels.push_back(channels.front());
            c.downBlockTypes.push_back(level.attention.front() ? "CrossAttnDownBlock2D" : "DownBlock2D");
            // SD 1.x has 8 heads at every level; the weights cannot show the head count.
            c.headsPerBlock.push_back(8);
            c.transformerLayersPerBlock.push_back(level.transformerDepth.front());
            if (channels.front() % 8 != 0) {
                refuse(file,
                       "UNet level " + std::to_string(i) + " has " + std::to_string(channels.front())
                           + " channels, not divisible into Stable Diffusion 1.x's 8 attention heads");
            }
        }
        // LDM places attention by resolution, so the up path mirrors the down path.
        for (auto type = c.downBlockTypes.rbegin(); type != c.downBlockTypes.rend(); ++type) {
            c.upBlockTypes.push_back(*type == "DownBlock2D" ? "UpBlock2D" : "CrossAttnUpBlock2D");
        }

        const std::string midAttention = p + "middle_block.1.";
        const SafetensorsTensorInfo* projIn = file.find(midAttention + "proj_in.weight");
        if (projIn && projIn->shape.size() == 2) {
            refuse(file,
                   "this is a Stable Diffusion 2.x-style checkpoint (linear attention projections, \"" + midAttention
                       + "proj_in.weight\"); Atelier runs Stable Diffusion 1.x single-file checkpoints only");
        }
        shapeOf(file, midAttention + "proj_in.weight", 4);
        c.crossAttentionDim = shapeOf(file, midAttention + "transformer_blocks.0.attn2.to_k.weight", 2)[1];
        if (c.crossAttentionDim == 1024 || c.crossAttentionDim == 2048) {
            refuse(file,
                   "the UNet attends to " + std::to_string(c.crossAttentionDim)
                       + "-wide text embeddings (Stable Diffusion 2.x or SDXL); Atelier runs Stable Diffusion 1.x "
                         "single-file checkpoints only");
        }
        // UNet::load gives the middle block the deepest level's transformer depth.
        const std::int64_t midDepth = countFrom0(file, midAttention + "transformer_blocks.", ".norm1.weight");
        if (midDepth != c.transformerLayersPerBlock.back()) {
            refuse(file,
                   "the UNet's middle block has " + std::to_string(midDepth)
                       + " transformer blocks, which Stable Diffusion 1.x's layout cannot express");
        }

        const auto& time = shapeOf(file, p + "time_embed.0.weight", 2);
        if (time[0] != c.timeEmbeddingDim() || time[1] != c.blockOutChannels.front()) {
            refuse(file, "\"" + p + "time_embed.0.weight\" is not the [4·C, C] time embedding of Stable Diffusion 1.x");
        }
        // SD 1.x's fixed settings, which the weights cannot show: GroupNorm(32, eps 1e-5), sinusoidal time
        // embedding with flip_sin_to_cos and no shift, padded downsampling, 512 px (64 latents) training size.
        c.normGroups = 32;
        c.normEps = 1e-5;
        c.downsamplePadding = 1;
        c.flipSinToCos = true;
        c.freqShift = 0;
        c.linearProjection = false;
        c.sampleSize = 64;
        return c;
    }

    ClipTextConfig textConfigFromCheckpoint(const SafetensorsFile& file)
    {
        checkStableDiffusion1(file);
        const std::string& t = TextPrefix;
        ClipTextConfig c;
        const auto& tokens = shapeOf(file, t + "embeddings.token_embedding.weight", 2);
        c.vocabSize = tokens[0];
        c.hiddenSize = tokens[1];
        c.maxPositions = shapeOf(file, t + "embeddings.position_embedding.weight", 2)[0];
        c.numLayers = countFrom0(file, t + "encoder.layers.", ".self_attn.q_proj.weight");
        if (c.numLayers == 0) {
            refuse(file, "the text encoder has no layers (no \"" + t + "encoder.layers.0.self_attn.q_proj.weight\")");
        }
        c.intermediateSize = shapeOf(file, t + "encoder.layers.0.mlp.fc1.weight", 2)[0];
        // CLIP ViT-L/14's text tower, which every SD 1.x model uses: 12 heads, quick GELU.
        c.numHeads = 12;
        c.layerNormEps = 1e-5;
        c.hiddenAct = "quick_gelu";
        if (c.hiddenSize % c.numHeads != 0) {
            refuse(file,
                   "the text encoder's width " + std::to_string(c.hiddenSize)
                       + " does not divide into Stable Diffusion 1.x's 12 attention heads");
        }
        return c;
    }

    VaeConfig vaeConfigFromCheckpoint(const SafetensorsFile& file)
    {
        checkStableDiffusion1(file);
        return vaeConfigFromWeights(file, VaePrefix);
    }

    std::optional<std::string> singleFileVaePrefix(const SafetensorsFile& file)
    {
        for (const std::string& prefix : {VaePrefix, std::string()}) {
            if (file.contains(prefix + "decoder.conv_in.weight")) {
                return prefix;
            }
        }
        return std::nullopt;
    }

    VaeConfig vaeConfigFromWeights(const SafetensorsFile& file, const std::string& prefix)
    {
        const std::string decoder = prefix + "decoder.";
        VaeConfig c;
        c.blockOutChannels.clear();
        // decoder.up.N is resolution level N (0 the shallowest), so its width is block_out_channels[N].
        const std::int64_t levels = countFrom0(file, decoder + "up.", ".block.0.conv2.weight");
        if (levels == 0) {
            refuse(file, "the checkpoint has no VAE decoder (no \"" + decoder + "up.0.block.0.conv2.weight\")");
        }
        for (std::int64_t i = 0; i < levels; ++i) {
            c.blockOutChannels.push_back(
                shapeOf(file, decoder + "up." + std::to_string(i) + ".block.0.conv2.weight", 4)[0]);
        }
        // Decoder levels have one resnet more than layers_per_block.
        c.layersPerBlock = countFrom0(file, decoder + "up.0.block.", ".conv2.weight") - 1;
        if (c.layersPerBlock < 1) {
            refuse(file, "the VAE decoder's levels have fewer than two resnets");
        }
        c.latentChannels = shapeOf(file, decoder + "conv_in.weight", 4)[1];
        c.outChannels = shapeOf(file, decoder + "conv_out.weight", 4)[0];
        // The encoder's side, where the checkpoint has one (a decoder-only file loads without it).
        if (hasVaeEncoder(file, prefix)) {
            c.inChannels = shapeOf(file, prefix + "encoder.conv_in.weight", 4)[1];
            c.quantConv = file.contains(prefix + "quant_conv.weight");
        }
        c.normGroups = 32;
        c.scalingFactor = 0.18215;
        return c;
    }

    bool hasVaeEncoder(const SafetensorsFile& file, const std::optional<std::string>& prefix)
    {
        return file.contains(prefix.value_or(VaePrefix) + "encoder.conv_in.weight");
    }

    WeightSource::KeyMap unetKeyMap(const UNetConfig& config)
    {
        return [config](const std::string& name) {
            // An unknown name keeps its spelling, so the load that asked for it fails naming a key, not here.
            return UNetPrefix + mapUNetName(config, name).value_or(name);
        };
    }

    WeightSource::KeyMap vaeKeyMap(std::int64_t levels, const std::optional<std::string>& prefix)
    {
        return [levels, prefix = prefix.value_or(VaePrefix)](const std::string& name) {
            return prefix + mapVaeName(levels, name).value_or(name);
        };
    }

    WeightSource::KeyMap textEncoderKeyMap()
    {
        return [](const std::string& name) {
            const std::string_view model = "text_model.";
            return TextPrefix + (startsWith(name, model) ? name.substr(model.size()) : name);
        };
    }
} // namespace Atelier::Engine
