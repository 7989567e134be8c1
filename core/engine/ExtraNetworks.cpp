// SPDX-License-Identifier: GPL-3.0-or-later
#include "ExtraNetworks.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <system_error>
#include <variant>

#include "EngineError.h"
#include "SafetensorsHeader.h"

namespace Atelier::Engine
{
    namespace
    {
        // Python's \w in a str pattern: letters, digits and '_' in any script. Every byte of a multi-byte UTF-8
        // sequence counts, which is close enough: a tag's type is a plain word in practice.
        bool isWordByte(char c)
        {
            const auto u = static_cast<unsigned char>(c);
            return u >= 0x80 || (u >= '0' && u <= '9') || (u >= 'a' && u <= 'z') || (u >= 'A' && u <= 'Z') || c == '_';
        }

        std::string_view trimmed(std::string_view text)
        {
            const auto space = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; };
            while (!text.empty() && space(text.front())) {
                text.remove_prefix(1);
            }
            while (!text.empty() && space(text.back())) {
                text.remove_suffix(1);
            }
            return text;
        }

        /// A finite number as Python's float() reads one (surrounding blanks allowed), or std::nullopt.
        std::optional<double> parseNumber(std::string_view text)
        {
            const std::string value(trimmed(text));
            if (value.empty()) {
                return std::nullopt;
            }
            char* end = nullptr;
            errno = 0;
            const double number = std::strtod(value.c_str(), &end);
            if (end != value.c_str() + value.size() || errno == ERANGE || !std::isfinite(number)) {
                return std::nullopt;
            }
            return number;
        }

        /// The start of a message about @p tag: the tag in quotes and a colon. (Built by appending: GCC 12 warns
        /// falsely about a chain of operator+ that starts with a literal.)
        std::string tagError(std::string_view tag)
        {
            std::string message = "\"";
            message.append(tag).append("\": ");
            return message;
        }

        std::vector<std::string_view> split(std::string_view text, char separator)
        {
            std::vector<std::string_view> parts;
            std::size_t start = 0;
            for (std::size_t i = 0; i <= text.size(); ++i) {
                if (i == text.size() || text[i] == separator) {
                    parts.push_back(text.substr(start, i - start));
                    start = i + 1;
                }
            }
            return parts;
        }

        /// The LoRA a `lora` tag's arguments name, or the message saying why they name none.
        std::variant<LoraTag, std::string> loraFromArguments(std::string_view tag, std::string_view arguments)
        {
            std::vector<std::string_view> positional;
            std::optional<double> te, unet;
            for (const std::string_view item : split(arguments, ':')) {
                const std::size_t equals = item.find('=');
                if (equals == std::string_view::npos) {
                    positional.push_back(item);
                    continue;
                }
                const std::string_view key = trimmed(item.substr(0, equals));
                const std::optional<double> value = parseNumber(item.substr(equals + 1));
                if (key != "te" && key != "unet") {
                    return tagError(tag) + "Atelier reads the LoRA weights te= and unet=, not \"" + std::string(key)
                        + "=\"";
                }
                if (!value) {
                    return tagError(tag) + "the weight " + std::string(key) + "= is not a number";
                }
                (key == "te" ? te : unet) = value;
            }
            LoraTag lora;
            lora.name = positional.empty() ? std::string() : std::string(trimmed(positional.front()));
            if (lora.name.empty()) {
                return tagError(tag) + "the LoRA has no name";
            }
            if (positional.size() > 3) {
                return tagError(tag) + "a LoRA takes a name and at most two weights";
            }
            for (std::size_t i = 1; i < positional.size(); ++i) {
                const std::optional<double> value = parseNumber(positional[i]);
                if (!value) {
                    return tagError(tag) + "the weight \"" + std::string(positional[i]) + "\" is not a number";
                }
                // A named weight wins over a positional one, as in A1111.
                std::optional<double>& slot = i == 1 ? te : unet;
                if (!slot) {
                    slot = value;
                }
            }
            lora.textEncoderWeight = te.value_or(1.0);
            // As in A1111, the UNet's weight follows the text encoder's unless given.
            lora.unetWeight = unet.value_or(lora.textEncoderWeight);
            return lora;
        }
    } // namespace

    PromptNetworks extractExtraNetworks(std::string_view prompt)
    {
        PromptNetworks result;
        std::size_t i = 0;
        while (i < prompt.size()) {
            // <TYPE:ARGS>: TYPE one or more word characters, ARGS one or more characters other than '>'.
            if (prompt[i] == '<') {
                std::size_t colon = i + 1;
                while (colon < prompt.size() && isWordByte(prompt[colon])) {
                    ++colon;
                }
                const std::size_t close = colon < prompt.size() ? prompt.find('>', colon + 1) : std::string_view::npos;
                if (colon > i + 1 && colon < prompt.size() && prompt[colon] == ':' && close != std::string_view::npos
                    && close > colon + 1) {
                    const std::string_view tag = prompt.substr(i, close - i + 1);
                    const std::string_view type = prompt.substr(i + 1, colon - i - 1);
                    const std::string_view arguments = prompt.substr(colon + 1, close - colon - 1);
                    if (type == "lora" || type == "lyco") {
                        auto lora = loraFromArguments(tag, arguments);
                        if (auto* found = std::get_if<LoraTag>(&lora)) {
                            result.loras.push_back(std::move(*found));
                        } else {
                            result.errors.push_back(std::get<std::string>(std::move(lora)));
                        }
                    } else {
                        result.errors.push_back(tagError(tag) + "Atelier has no \"" + std::string(type)
                                                + "\" networks (it reads <lora:NAME:WEIGHT>)");
                    }
                    i = close + 1;
                    continue;
                }
            }
            result.prompt.push_back(prompt[i]);
            ++i;
        }
        return result;
    }

    std::optional<LoraTag> parseLoraArgument(std::string_view argument)
    {
        LoraTag lora;
        const std::size_t colon = argument.rfind(':');
        std::optional<double> weight;
        if (colon != std::string_view::npos) {
            weight = parseNumber(argument.substr(colon + 1));
        }
        if (weight) {
            argument = argument.substr(0, colon);
            lora.textEncoderWeight = lora.unetWeight = *weight;
        } else if (colon != std::string_view::npos && colon + 1 < argument.size()
                   && argument.find('/') == std::string_view::npos) {
            // "name:abc" is a bad weight, not a file called that.
            return std::nullopt;
        }
        lora.name = std::string(argument);
        if (lora.name.empty()) {
            return std::nullopt;
        }
        return lora;
    }

    namespace
    {
        /// A @p kind ("LoRA", "VAE") called @p name: a path to a file (or, with @p folderAllowed, a folder), else
        /// `NAME.safetensors` in @p folders and below, as A1111 finds them by file name.
        std::filesystem::path findNamedFile(const std::string& kind, const std::string& name,
                                            const std::vector<std::filesystem::path>& folders, bool folderAllowed)
        {
            const std::filesystem::path asPath(name);
            std::error_code error;
            const bool looksLikePath = name.find('/') != std::string::npos || asPath.has_extension();
            if (looksLikePath && hasPickleExtension(asPath)) {
                throw EngineError(kind + " \"" + name
                                  + "\": pickle files (.ckpt, .pt, .pth, .bin) are never opened, as they can "
                                    "run code; use the .safetensors version");
            }
            if (looksLikePath
                && (std::filesystem::is_regular_file(asPath, error)
                    || (folderAllowed && std::filesystem::is_directory(asPath, error)))) {
                return asPath;
            }
            // A name as infotexts write it may carry its extension ("vae-ft-mse.safetensors").
            const std::string stem
                = hasSafetensorsExtension(asPath) ? asPath.stem().string() : asPath.filename().string();
            std::optional<std::filesystem::path> pickle;
            for (const std::filesystem::path& folder : folders) {
                std::vector<std::filesystem::path> found;
                std::filesystem::recursive_directory_iterator it(
                    folder, std::filesystem::directory_options::skip_permission_denied, error);
                for (; !error && it != std::filesystem::recursive_directory_iterator(); it.increment(error)) {
                    const std::filesystem::path& path = it->path();
                    if (path.stem() != stem || !it->is_regular_file(error)) {
                        continue;
                    }
                    if (hasSafetensorsExtension(path)) {
                        found.push_back(path);
                    } else if (hasPickleExtension(path) && !pickle) {
                        pickle = path;
                    }
                }
                error.clear();
                if (!found.empty()) {
                    return *std::min_element(found.begin(), found.end());
                }
            }
            if (pickle) {
                throw EngineError(kind + " \"" + name + "\": " + pickle->string()
                                  + " is a pickle file, which is never opened, as it can run code; use a .safetensors "
                                    "version");
            }
            std::string searched;
            for (const std::filesystem::path& folder : folders) {
                searched += (searched.empty() ? "" : ", ") + folder.string();
            }
            throw EngineError(kind + " \"" + name + "\" not found: no " + stem + ".safetensors in "
                              + (folders.empty() ? "any " + kind + " folder (none given)" : searched));
        }
    } // namespace

    std::filesystem::path findLora(const std::string& name, const std::vector<std::filesystem::path>& folders)
    {
        return findNamedFile("LoRA", name, folders, false);
    }

    std::filesystem::path findVae(const std::string& name, const std::vector<std::filesystem::path>& folders)
    {
        return findNamedFile("VAE", name, folders, true);
    }
} // namespace Atelier::Engine
