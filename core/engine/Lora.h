// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <ATen/core/Tensor.h>

#include <filesystem>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace Atelier::Engine
{
    class WeightRegistry;

    /// One LoRA of a set to render with: its file and its weights.
    struct LoraSpec
    {
        std::filesystem::path file;
        double textEncoderWeight = 1.0;
        double unetWeight = 1.0;

        friend bool operator==(const LoraSpec&, const LoraSpec&) = default;
    };

    /// Kohya's name of the module whose weight the model's WeightRegistry calls @p weight: the diffusers path with '.'
    /// as '_' under `lora_unet_` or `lora_te_text_model_` ("unet.down_blocks.0.resnets.0.conv1.weight" →
    /// "lora_unet_down_blocks_0_resnets_0_conv1"). Empty for a name no LoRA addresses.
    std::string kohyaModuleName(std::string_view weight);

    /// A LoRA file in the kohya / AUTOMATIC1111 format, checked against a model: for each layer it changes, the
    /// low-rank factors and their alpha / rank scale. Keys are `lora_unet_<diffusers module, '.' as '_'>` and
    /// `lora_te_text_model_<…>`, each with `.lora_down.weight`, `.lora_up.weight` and an optional `.alpha`
    /// (default: the rank). Linear and 1×1 layers take plain LoRA; 3×3 convolutions take LoCon (a 3×3 down
    /// factor, a 1×1 up factor).
    class LoraFile
    {
    public:
        struct Layer
        {
            std::string target; ///< the weight's name in the model's WeightRegistry
            bool textEncoder = false;
            at::Tensor down; ///< [rank, in, (kh, kw)], as stored (a view of the file)
            at::Tensor up; ///< [out, rank, (1, 1)]
            double scale = 1.0; ///< alpha / rank
        };

        /// Reads @p file and checks every key against @p model's layers. Throws EngineError naming the file and
        /// the first key at fault: a pickle file; a format Atelier does not apply (LoHa, LoKr, DoRA, OFT, Tucker
        /// LoCon, full differences, diffusers/PEFT names), a layer the model lacks (a LoRA for SDXL or SD 2 names
        /// layers or shapes SD 1.x does not have), factors whose shapes do not fit the layer.
        static LoraFile open(const std::filesystem::path& file, const WeightRegistry& model);

        const std::filesystem::path& path() const { return m_path; }
        const std::vector<Layer>& layers() const { return m_layers; }

    private:
        std::filesystem::path m_path;
        std::vector<Layer> m_layers;
    };

    /// Puts sets of LoRAs on a loaded model and takes them off again, in place: the first time a layer is changed
    /// its base weight is copied aside, and every later set starts from those copies, so switching sets never
    /// reloads the model and never drifts (base + Δ − Δ is not base in floating point; the copy is). Each changed
    /// weight is base + Σ weight·scale·up·down, summed in float32 and rounded to the model's precision once, which
    /// is how a merged LoRA renders no slower per step than none. Parsed files are kept (a few, by path and
    /// modification time), so switching back and forth reads no file. Thread-safe.
    class LoraPatcher
    {
    public:
        explicit LoraPatcher(std::shared_ptr<WeightRegistry> weights);
        ~LoraPatcher();

        /// Makes the model render with @p set (empty: the base model). Every file is read and checked before any
        /// weight changes, so a bad file throws EngineError and leaves the model as it was. The same set as now
        /// costs nothing.
        void apply(const std::vector<LoraSpec>& set);
        std::vector<LoraSpec> current() const;
        /// How many layers hold a changed weight now.
        std::size_t patchedLayers() const;

    private:
        std::shared_ptr<const LoraFile> file(const std::filesystem::path& path);

        std::shared_ptr<WeightRegistry> m_weights;
        mutable std::mutex m_mutex;
        std::vector<LoraSpec> m_current;
        std::unordered_map<std::string, at::Tensor> m_base; ///< the base weights of the layers changed now
        struct Cached
        {
            std::filesystem::path path;
            std::filesystem::file_time_type modified;
            std::uintmax_t size = 0;
            std::shared_ptr<const LoraFile> file;
        };
        std::list<Cached> m_files; ///< most recently used first
    };
} // namespace Atelier::Engine
