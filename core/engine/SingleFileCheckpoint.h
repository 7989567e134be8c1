// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "ClipTextEncoder.h"
#include "UNet.h"
#include "Vae.h"
#include "Weights.h"

namespace Atelier::Engine
{
    class SafetensorsFile;

    // Single-file Stable Diffusion 1.x checkpoints: one .safetensors holding the UNet, the VAE and the CLIP text
    // encoder under the original CompVis/LDM names ("model.diffusion_model.input_blocks.4.1.…",
    // "first_stage_model.decoder.mid.attn_1.q.weight", "cond_stage_model.transformer.text_model.…"), with no
    // config files beside it.
    //
    // The engine's models ask for their weights by diffusers/transformers names; the key maps below translate
    // those names into the checkpoint's, so the models load from a single file unchanged. The configs are
    // derived from the tensor shapes, and anything that is not SD 1.x (SD 2.x, SDXL) is refused.
    //
    // Example:
    // auto file = std::make_shared<const SafetensorsFile>(SafetensorsFile::open("model.safetensors"));
    // const UNetConfig config = unetConfigFromCheckpoint(*file);
    // UNet unet = UNet::load(config, WeightSource(file, "", options, unetKeyMap(config)));

    /// True when @p file looks like a single-file checkpoint (it has UNet weights under LDM names), as opposed to
    /// one component of a diffusers folder.
    bool isSingleFileCheckpoint(const SafetensorsFile& file);

    /// The UNet's architecture, read from the shapes and the presence of the checkpoint's weights. Heads (8 per
    /// level), norm groups and the time embedding's settings are SD 1.x's, which the weights cannot show;
    /// sampleSize is 64 (512 px). Throws EngineError naming the file when it is not an SD 1.x checkpoint or a
    /// weight needed to tell the architecture is missing.
    UNetConfig unetConfigFromCheckpoint(const SafetensorsFile& file);
    /// The CLIP text encoder's shape (12 heads, quick_gelu, as every SD 1.x model). Throws EngineError like
    /// unetConfigFromCheckpoint.
    ClipTextConfig textConfigFromCheckpoint(const SafetensorsFile& file);
    /// The VAE's shape (norm groups 32, scaling factor 0.18215), the encoder's input channels and quant_conv
    /// included where the checkpoint has an encoder. Throws EngineError like unetConfigFromCheckpoint.
    VaeConfig vaeConfigFromCheckpoint(const SafetensorsFile& file);
    /// True when the checkpoint holds a VAE encoder ("first_stage_model.encoder.*", or under @p prefix), which image
    /// to image needs.
    bool hasVaeEncoder(const SafetensorsFile& file, const std::optional<std::string>& prefix = std::nullopt);
    /// Where the LDM-named VAE of @p file sits: "first_stage_model." in a checkpoint, "" in a single-file VAE such as
    /// `vae-ft-mse-840000-ema-pruned.safetensors` (`decoder.*`, `encoder.*`); std::nullopt when it has none.
    std::optional<std::string> singleFileVaePrefix(const SafetensorsFile& file);
    /// vaeConfigFromCheckpoint() for LDM VAE weights under @p prefix, without checking the rest of the file.
    VaeConfig vaeConfigFromWeights(const SafetensorsFile& file, const std::string& prefix);

    /// Maps a full diffusers UNet2DConditionModel name ("down_blocks.1.attentions.0.proj_in.weight") to the
    /// checkpoint's ("model.diffusion_model.input_blocks.4.1.proj_in.weight"). The LDM indices depend on
    /// @p config's number of levels, layers per block and which up levels have attention. A name outside the
    /// known layout keeps its spelling under the UNet's prefix, so loading it fails naming that key.
    WeightSource::KeyMap unetKeyMap(const UNetConfig& config);
    /// Maps a full diffusers AutoencoderKL name ("decoder.up_blocks.0.resnets.1.conv1.weight", encoder and
    /// quant convs included) to the checkpoint's ("first_stage_model.decoder.up.3.block.1.conv1.weight"). LDM numbers
    /// the decoder's levels from the shallowest, diffusers from the deepest, so @p levels (the length of
    /// blockOutChannels) is needed.
    WeightSource::KeyMap vaeKeyMap(std::int64_t levels, const std::optional<std::string>& prefix = std::nullopt);
    /// Maps a transformers CLIPTextModel name, with or without its "text_model." prefix
    /// ("embeddings.token_embedding.weight"), to the checkpoint's
    /// ("cond_stage_model.transformer.text_model.embeddings.token_embedding.weight").
    WeightSource::KeyMap textEncoderKeyMap();
} // namespace Atelier::Engine
