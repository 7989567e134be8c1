// SPDX-License-Identifier: GPL-3.0-or-later
#include "Lora.h"

#include <ATen/ops/matmul.h>
#include <ATen/ops/zeros.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <optional>
#include <sstream>

#include "EngineError.h"
#include "Safetensors.h"
#include "Weights.h"

namespace Atelier::Engine
{
    namespace
    {
        constexpr std::string_view UNetPrefix = "lora_unet_";
        constexpr std::string_view TextPrefix = "lora_te_";

        std::string shapeText(at::IntArrayRef shape)
        {
            std::ostringstream out;
            out << shape;
            return out.str();
        }

        bool startsWith(std::string_view text, std::string_view prefix)
        {
            return text.substr(0, prefix.size()) == prefix;
        }

        bool endsWith(std::string_view text, std::string_view suffix)
        {
            return text.size() >= suffix.size() && text.substr(text.size() - suffix.size()) == suffix;
        }

        /// The kind of network a key's suffix shows, when it is one Atelier does not apply.
        std::optional<std::string> unsupportedFormat(std::string_view suffix)
        {
            static const std::pair<std::string_view, std::string_view> formats[] = {
                {"hada_", "LoHa (LyCORIS)"},
                {"lokr_", "LoKr (LyCORIS)"},
                {"lora_mid", "LoCon with a Tucker middle factor (LyCORIS)"},
                {"dora_scale", "DoRA"},
                {"oft_", "OFT"},
                {"diff", "a full weight difference (LyCORIS \"full\")"},
                {"lora_A", "the diffusers/PEFT format"},
                {"lora_B", "the diffusers/PEFT format"},
                {"lora.down", "the diffusers attention-processor format"},
                {"lora.up", "the diffusers attention-processor format"},
                {"w_norm", "an IA³ or norm network (LyCORIS)"},
                {"b_norm", "an IA³ or norm network (LyCORIS)"},
                {"weight", "an IA³ network (LyCORIS)"},
                {"on_input", "an IA³ network (LyCORIS)"},
            };
            for (const auto& [start, name] : formats) {
                if (startsWith(suffix, start)) {
                    return std::string(name);
                }
            }
            return std::nullopt;
        }

        /// Kohya's name of every weight in @p model a LoRA can change.
        std::map<std::string, std::string> kohyaNames(const WeightRegistry& model)
        {
            std::map<std::string, std::string> names;
            for (const auto& [name, tensor] : model.tensors()) {
                if (std::string kohya = kohyaModuleName(name); !kohya.empty()) {
                    names.emplace(std::move(kohya), name);
                }
            }
            return names;
        }

        struct Factors
        {
            std::string down, up, alpha;
        };
    } // namespace

    std::string kohyaModuleName(std::string_view weight)
    {
        if (!endsWith(weight, ".weight")) {
            return {};
        }
        weight.remove_suffix(std::string_view(".weight").size());
        std::string kohya;
        if (startsWith(weight, "unet.")) {
            kohya = std::string(UNetPrefix) + std::string(weight.substr(5));
        } else if (startsWith(weight, "text_encoder.")) {
            kohya = std::string(TextPrefix) + "text_model_" + std::string(weight.substr(13));
        } else {
            return {};
        }
        std::replace(kohya.begin(), kohya.end(), '.', '_');
        return kohya;
    }

    LoraFile LoraFile::open(const std::filesystem::path& path, const WeightRegistry& model)
    {
        const SafetensorsFile file = SafetensorsFile::open(path);
        const std::string origin = path.string() + ": ";
        std::map<std::string, Factors> modules;
        for (const SafetensorsTensorInfo& info : file.header().tensors) {
            const std::string& key = info.name;
            const std::size_t dot = key.find('.');
            const std::string module = key.substr(0, dot);
            const std::string_view suffix
                = dot == std::string::npos ? std::string_view() : std::string_view(key).substr(dot + 1);
            if (!startsWith(module, UNetPrefix) && !startsWith(module, TextPrefix)) {
                if (startsWith(module, "bundle_emb")) {
                    throw EngineError(origin + "embeddings bundled in a LoRA (\"" + key
                                      + "\") are not supported; put the embedding in an embeddings folder");
                }
                const bool sdxl = startsWith(module, "lora_te1_") || startsWith(module, "lora_te2_");
                throw EngineError(origin + "not a kohya LoRA for Stable Diffusion 1.x: the key \"" + key + "\" "
                                  + (sdxl ? "belongs to an SDXL LoRA" : "is not a lora_unet_ or lora_te_ layer"));
            }
            Factors& factors = modules[module];
            if (suffix == "lora_down.weight") {
                factors.down = key;
            } else if (suffix == "lora_up.weight") {
                factors.up = key;
            } else if (suffix == "alpha") {
                factors.alpha = key;
            } else if (const auto format = unsupportedFormat(suffix)) {
                throw EngineError(origin + "the key \"" + key + "\" shows " + *format
                                  + ", which Atelier does not apply (it applies LoRA and LoCon)");
            } else {
                throw EngineError(origin + "unexpected key \"" + key + "\" in a LoRA");
            }
        }
        if (modules.empty()) {
            throw EngineError(origin + "the file holds no LoRA layers");
        }

        const std::map<std::string, std::string> targets = kohyaNames(model);
        LoraFile lora;
        lora.m_path = path;
        for (const auto& [module, factors] : modules) {
            if (factors.down.empty() || factors.up.empty()) {
                throw EngineError(origin + "layer \"" + module + "\" lacks its "
                                  + (factors.down.empty() ? "lora_down" : "lora_up") + ".weight");
            }
            const auto target = targets.find(module);
            if (target == targets.end()) {
                throw EngineError(origin + "the key \"" + factors.down
                                  + "\" names a layer this model does not have (is the LoRA for another model "
                                    "family, such as SDXL or SD 2?)");
            }
            const at::Tensor& weight = *model.find(target->second);
            Layer layer;
            layer.target = target->second;
            layer.textEncoder = startsWith(module, TextPrefix);
            layer.down = file.tensor(factors.down);
            layer.up = file.tensor(factors.up);
            const std::int64_t rank = layer.down.dim() >= 2 ? layer.down.size(0) : 0;
            // The factors fit when up·down has the weight's shape: [out, r]·[r, in·kh·kw], where a Linear weight
            // [out, in] also takes 1×1 factors, and a 3×3 convolution a 3×3 down and a 1×1 up (LoCon).
            const bool upFits
                = (layer.up.dim() == 2 || (layer.up.dim() == 4 && layer.up.size(2) == 1 && layer.up.size(3) == 1))
                && layer.up.size(0) == weight.size(0) && layer.up.size(1) == rank;
            const bool downFits = rank > 0 && (layer.down.dim() == 2 || layer.down.dim() == 4) && weight.dim() >= 2
                && layer.down.size(1) == weight.size(1)
                && (weight.dim() == 2 ? layer.down.dim() == 2 || (layer.down.size(2) == 1 && layer.down.size(3) == 1)
                                      : layer.down.dim() == 4 && layer.down.size(2) == weight.size(2)
                            && layer.down.size(3) == weight.size(3))
                && (weight.dim() == 2 || weight.size(2) == 1 || layer.down.dim() == 4);
            if (!upFits || !downFits) {
                throw EngineError(origin + "layer \"" + module + "\": factors " + shapeText(layer.down.sizes())
                                  + " and " + shapeText(layer.up.sizes()) + " do not fit the model's weight "
                                  + shapeText(weight.sizes()) + " (is the LoRA for another model family?)");
            }
            double alpha = static_cast<double>(rank);
            if (!factors.alpha.empty()) {
                const at::Tensor stored = file.tensor(factors.alpha);
                if (stored.numel() != 1) {
                    throw EngineError(origin + "\"" + factors.alpha + "\" is not a single number");
                }
                alpha = stored.to(at::kDouble).item<double>();
                if (!std::isfinite(alpha)) {
                    throw EngineError(origin + "\"" + factors.alpha + "\" is not finite");
                }
            }
            layer.scale = alpha / static_cast<double>(rank);
            lora.m_layers.push_back(std::move(layer));
        }
        return lora;
    }

    LoraPatcher::LoraPatcher(std::shared_ptr<WeightRegistry> weights)
        : m_weights(std::move(weights))
    { }

    LoraPatcher::~LoraPatcher() = default;

    std::shared_ptr<const LoraFile> LoraPatcher::file(const std::filesystem::path& path)
    {
        constexpr std::size_t Capacity = 8;
        std::error_code error;
        const auto modified = std::filesystem::last_write_time(path, error);
        const auto size = std::filesystem::file_size(path, error);
        for (auto it = m_files.begin(); it != m_files.end(); ++it) {
            if (it->path == path) {
                if (!error && it->modified == modified && it->size == size) {
                    m_files.splice(m_files.begin(), m_files, it);
                    return it->file;
                }
                m_files.erase(it);
                break;
            }
        }
        auto file = std::make_shared<const LoraFile>(LoraFile::open(path, *m_weights));
        m_files.push_front({path, modified, size, file});
        if (m_files.size() > Capacity) {
            m_files.pop_back();
        }
        return file;
    }

    void LoraPatcher::apply(const std::vector<LoraSpec>& set)
    {
        const std::lock_guard lock(m_mutex);
        if (set == m_current) {
            return;
        }
        // Every file first: a bad one throws before any weight changes.
        std::vector<std::pair<const LoraSpec*, std::shared_ptr<const LoraFile>>> files;
        for (const LoraSpec& spec : set) {
            files.emplace_back(&spec, file(spec.file));
        }
        // The sum of every LoRA's change of each layer, in float32 on the layer's device.
        std::map<std::string, at::Tensor> deltas;
        for (const auto& [spec, lora] : files) {
            for (const LoraFile::Layer& layer : lora->layers()) {
                const double weight = layer.textEncoder ? spec->textEncoderWeight : spec->unetWeight;
                if (weight == 0.0) {
                    continue;
                }
                const at::Tensor& target = *m_weights->find(layer.target);
                const auto options = at::TensorOptions().dtype(at::kFloat).device(target.device());
                const at::Tensor up = layer.up.to(options).flatten(1);
                const at::Tensor down = layer.down.to(options).flatten(1);
                at::Tensor change = at::matmul(up, down).view(target.sizes()).mul_(weight * layer.scale);
                auto [it, inserted] = deltas.try_emplace(layer.target, change);
                if (!inserted) {
                    it->second.add_(change);
                }
            }
        }
        // Layers that no LoRA of the new set changes get their base weight back, and lose the copy.
        for (auto it = m_base.begin(); it != m_base.end();) {
            if (!deltas.contains(it->first)) {
                m_weights->find(it->first)->copy_(it->second);
                it = m_base.erase(it);
            } else {
                ++it;
            }
        }
        for (const auto& [name, delta] : deltas) {
            const at::Tensor& target = *m_weights->find(name);
            auto [base, inserted] = m_base.try_emplace(name);
            if (inserted) {
                base->second = target.clone();
            }
            // One rounding to the model's precision: base (exact in float32) + the summed change.
            target.copy_(base->second.to(at::kFloat).add(delta));
        }
        m_current = set;
    }

    std::vector<LoraSpec> LoraPatcher::current() const
    {
        const std::lock_guard lock(m_mutex);
        return m_current;
    }

    std::size_t LoraPatcher::patchedLayers() const
    {
        const std::lock_guard lock(m_mutex);
        return m_base.size();
    }
} // namespace Atelier::Engine
