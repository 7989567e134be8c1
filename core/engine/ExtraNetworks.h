// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace Atelier::Engine
{
    /// A LoRA as a prompt tag (`<lora:NAME:WEIGHT>`) or a command line (`--lora NAME_OR_PATH[:WEIGHT]`) names it.
    struct LoraTag
    {
        std::string name; ///< a file name without its extension, or a path
        double textEncoderWeight = 1.0;
        double unetWeight = 1.0;

        friend bool operator==(const LoraTag&, const LoraTag&) = default;
    };

    /// A prompt with its extra-network tags taken out.
    struct PromptNetworks
    {
        std::string prompt; ///< the text without the tags
        std::vector<LoraTag> loras; ///< in the order the prompt names them
        /// Why a tag cannot be honoured (an unknown network type, a weight that is not a number), one message per
        /// tag, naming it. A prompt with errors must not render: the tag was meant to change the picture.
        std::vector<std::string> errors;
    };

    /// Takes AUTOMATIC1111's extra-network tags out of @p prompt, as its `extra_networks.parse_prompt` does: every
    /// `<TYPE:ARG[:ARG…]>` (TYPE a word, the arguments anything but `>`) is removed from the text. `lora` (and its old
    /// alias `lyco`) tags give a LoRA: `<lora:NAME>` at weight 1, `<lora:NAME:W>` at W for the text encoder and the
    /// UNet, `<lora:NAME:TE:UNET>` at separate weights; the named forms `te=W` and `unet=W` are read too. A tag of
    /// any other type (a hypernetwork, say) is an error: Atelier has no such networks.
    PromptNetworks extractExtraNetworks(std::string_view prompt);

    /// Reads `NAME_OR_PATH[:WEIGHT]` as `--lora` gives it. A path may itself hold colons: only a final `:NUMBER`
    /// counts as the weight. std::nullopt when the name is empty or the weight is not a finite number.
    std::optional<LoraTag> parseLoraArgument(std::string_view argument);

    /// Where a LoRA called @p name is: @p name itself when it is a path to a file, else `NAME.safetensors` in
    /// @p folders or their subfolders (first folder first; within a folder the first in path order), as
    /// AUTOMATIC1111 finds LoRAs by file name. Throws EngineError naming the LoRA and the folders searched when
    /// there is none, and refusing a pickle file (`.ckpt`, `.pt`) of that name.
    std::filesystem::path findLora(const std::string& name, const std::vector<std::filesystem::path>& folders);

    /// Where the VAE called @p name is, as findLora() finds LoRAs: @p name itself when it is a path to a file or a
    /// diffusers vae/ folder, else `NAME.safetensors` in @p folders or below. @p name may keep its `.safetensors`, as
    /// A1111's infotexts and its `sd_vae` setting write it. Throws EngineError naming the folders searched.
    std::filesystem::path findVae(const std::string& name, const std::vector<std::filesystem::path>& folders);
} // namespace Atelier::Engine
