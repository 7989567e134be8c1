// SPDX-License-Identifier: GPL-3.0-or-later
#include "Pipeline.h"

#include "FusedKernels.h"

#include <ATen/CPUGeneratorImpl.h>
#include <ATen/TensorOperators.h>
#include <ATen/ops/cat.h>
#include <ATen/ops/clamp.h>
#include <ATen/ops/einsum.h>
#include <ATen/ops/empty.h>
#include <ATen/ops/from_blob.h>
#include <ATen/ops/isfinite.h>
#include <ATen/ops/mean.h>
#include <ATen/ops/randn.h>
#include <ATen/ops/round.h>
#include <ATen/ops/scalar_tensor.h>
#include <ATen/ops/tensor.h>
#include <ATen/ops/upsample_bilinear2d.h>
#include <ATen/ops/upsample_nearest2d.h>

#include <c10/core/InferenceMode.h>

#include <algorithm>
#include <cstdio>

#include "HostTransfer.h"
#include "JsonConfig.h"
#include "ModelFiles.h"
#include "PromptChunks.h"
#include "Safetensors.h"
#include "Schedulers.h"
#include "SingleFileCheckpoint.h"

namespace Atelier::Engine
{
    namespace
    {
        // The weights file of one diffusers component, preferring full precision; a pickle-only component is
        // refused with the converter's advice rather than reported as missing.
        std::filesystem::path componentWeights(const std::filesystem::path& dir, const std::string& stem)
        {
            for (const char* suffix : {".safetensors", ".fp16.safetensors"}) {
                const auto candidate = dir / (stem + suffix);
                std::error_code error;
                if (std::filesystem::exists(candidate, error)) {
                    // A FIFO or a device in the weights' place is refused by name, not reported as missing.
                    refuseSpecialFile(candidate);
                    return candidate;
                }
            }
            const auto pickle = dir / (stem + ".bin");
            if (std::filesystem::exists(pickle)) {
                SafetensorsFile::open(pickle); // throws the pickle refusal, which names the file
            }
            throw EngineError((dir / (stem + ".safetensors")).string()
                              + ": missing (the model folder must hold safetensors weights for every component)");
        }

        std::shared_ptr<const SafetensorsFile> openShared(const std::filesystem::path& path)
        {
            return std::make_shared<const SafetensorsFile>(SafetensorsFile::open(path));
        }

        /// Gives @p model its float32 VAE for decodeImage's and encodeImage's retries, when its VAE runs in another
        /// precision. @p loadEncoder is left out for a model without an encoder.
        void attachVaeFallback(StableDiffusionModel& model, std::function<VaeDecoder()> loadFloat32,
                               std::function<VaeEncoder()> loadEncoder)
        {
            if (model.placement.vaeDtype != at::kFloat) {
                model.vaeFallback = std::make_shared<const VaeFloatFallback>(
                    std::move(loadFloat32), model.vaeEncoder ? std::move(loadEncoder) : nullptr);
            }
        }

        /// Gives @p model the registry of its text encoder's and UNet's weights, and a LoRA patcher on them.
        void attachWeights(StableDiffusionModel& model, std::shared_ptr<WeightRegistry> weights)
        {
            model.loras = std::make_shared<LoraPatcher>(weights);
            model.weights = std::move(weights);
        }
    } // namespace

    std::shared_ptr<const StableDiffusionModel> StableDiffusionModel::loadFolder(const std::filesystem::path& folder,
                                                                                 const ModelPlacement& placement)
    {
        if (!std::filesystem::is_directory(folder)) {
            throw EngineError(folder.string() + ": not a model folder");
        }
        const JsonConfig index = JsonConfig::fromFile(folder / "model_index.json");
        const std::string className = index.string("_class_name", "StableDiffusionPipeline");
        if (className != "StableDiffusionPipeline") {
            throw EngineError((folder / "model_index.json").string() + ": \"" + className
                              + "\" is not a Stable Diffusion 1.x text-to-image pipeline");
        }

        const auto options = at::TensorOptions().dtype(placement.dtype).device(placement.device);
        auto weights = std::make_shared<WeightRegistry>();
        ClipTokenizer tokenizer = ClipTokenizer::fromFolder(folder / "tokenizer");
        ClipTextEncoder textEncoder = ClipTextEncoder::load(
            ClipTextConfig::fromConfig(JsonConfig::fromFile(folder / "text_encoder" / "config.json")),
            WeightSource(openShared(componentWeights(folder / "text_encoder", "model")), "text_model.", options)
                .withRegistry(weights, "text_encoder"));
        UNet unet = UNet::load(
            UNetConfig::fromConfig(JsonConfig::fromFile(folder / "unet" / "config.json")),
            WeightSource(openShared(componentWeights(folder / "unet", "diffusion_pytorch_model")), "", options)
                .withChannelsLast(placement.channelsLast)
                .withRegistry(weights, "unet"));
        const VaeConfig vaeConfig = VaeConfig::fromConfig(JsonConfig::fromFile(folder / "vae" / "config.json"));
        const std::filesystem::path vaeFile = componentWeights(folder / "vae", "diffusion_pytorch_model");
        const auto vaeWeights = [=](at::ScalarType dtype) {
            return WeightSource(openShared(vaeFile), "", options.dtype(dtype))
                .withChannelsLast(placement.vaeChannelsLast);
        };
        const auto loadVae = [=](at::ScalarType dtype) { return VaeDecoder::load(vaeConfig, vaeWeights(dtype)); };
        const auto loadEncoder = [=](at::ScalarType dtype) { return VaeEncoder::load(vaeConfig, vaeWeights(dtype)); };
        VaeDecoder vae = loadVae(placement.vaeDtype);
        // Decoder-only VAE files (Atelier's embedded model) load without an encoder; only image to image needs it.
        std::optional<VaeEncoder> vaeEncoder;
        if (openShared(vaeFile)->contains("encoder.conv_in.weight")) {
            vaeEncoder = loadEncoder(placement.vaeDtype);
        }
        SchedulerConfig schedulerConfig = SchedulerConfig::fromFile(folder / "scheduler" / "scheduler_config.json");
        const std::string defaultScheduler = std::string(defaultSchedulerName(schedulerConfig).value_or("pndm"));
        auto model = std::make_shared<StableDiffusionModel>(StableDiffusionModel{
            std::move(tokenizer), std::move(textEncoder), std::move(unet), std::move(vae), std::move(vaeEncoder),
            std::move(schedulerConfig), defaultScheduler, placement, folder, nullptr, nullptr, nullptr});
        attachVaeFallback(
            *model, [loadVae] { return loadVae(at::kFloat); }, [loadEncoder] { return loadEncoder(at::kFloat); });
        attachWeights(*model, std::move(weights));
        if (model->unet.config().crossAttentionDim != model->textEncoder.config().hiddenSize) {
            throw EngineError(folder.string() + ": the UNet attends to "
                              + std::to_string(model->unet.config().crossAttentionDim)
                              + "-wide text embeddings but the text encoder makes "
                              + std::to_string(model->textEncoder.config().hiddenSize) + "-wide ones");
        }
        return model;
    }

    std::shared_ptr<const StableDiffusionModel>
    StableDiffusionModel::loadSingleFile(const std::filesystem::path& file, const std::filesystem::path& clipVocabulary,
                                         const ModelPlacement& placement)
    {
        const auto checkpoint = openShared(file);
        if (!isSingleFileCheckpoint(*checkpoint)) {
            throw EngineError(file.string()
                              + ": not a single-file Stable Diffusion checkpoint (no model.diffusion_model.* weights); "
                                "for a diffusers model, give its folder");
        }
        const auto options = at::TensorOptions().dtype(placement.dtype).device(placement.device);
        const ClipTextConfig textConfig = textConfigFromCheckpoint(*checkpoint);
        const UNetConfig unetConfig = unetConfigFromCheckpoint(*checkpoint);
        const VaeConfig vaeConfig = vaeConfigFromCheckpoint(*checkpoint);
        const auto vaeWeights = [=](std::shared_ptr<const SafetensorsFile> weights, at::ScalarType dtype) {
            return WeightSource(std::move(weights), "", options.dtype(dtype),
                                vaeKeyMap(static_cast<std::int64_t>(vaeConfig.blockOutChannels.size())))
                .withChannelsLast(placement.vaeChannelsLast);
        };
        auto weights = std::make_shared<WeightRegistry>();
        auto model = std::make_shared<StableDiffusionModel>(StableDiffusionModel{
            ClipTokenizer::fromFolder(clipVocabulary),
            ClipTextEncoder::load(
                textConfig,
                WeightSource(checkpoint, "", options, textEncoderKeyMap()).withRegistry(weights, "text_encoder")),
            UNet::load(unetConfig,
                       WeightSource(checkpoint, "", options, unetKeyMap(unetConfig))
                           .withChannelsLast(placement.channelsLast)
                           .withRegistry(weights, "unet")),
            VaeDecoder::load(vaeConfig, vaeWeights(checkpoint, placement.vaeDtype)),
            hasVaeEncoder(*checkpoint)
                ? std::optional<VaeEncoder>(VaeEncoder::load(vaeConfig, vaeWeights(checkpoint, placement.vaeDtype)))
                : std::nullopt,
            SchedulerConfig::sd15Defaults(),
            "pndm",
            placement,
            file,
            nullptr,
            nullptr,
            nullptr,
        });
        // The fallback opens the file again when first needed, so the checkpoint is not kept mapped meanwhile.
        attachVaeFallback(
            *model, [=] { return VaeDecoder::load(vaeConfig, vaeWeights(openShared(file), at::kFloat)); },
            [=] { return VaeEncoder::load(vaeConfig, vaeWeights(openShared(file), at::kFloat)); });
        attachWeights(*model, std::move(weights));
        return model;
    }

    std::shared_ptr<const StableDiffusionModel>
    StableDiffusionModel::withVae(const std::shared_ptr<const StableDiffusionModel>& model,
                                  const std::filesystem::path& vae)
    {
        const ModelPlacement& placement = model->placement;
        const auto options = at::TensorOptions().device(placement.device);
        VaeConfig config;
        std::function<WeightSource(at::ScalarType)> weightsIn;
        bool hasEncoder = false;
        if (std::filesystem::is_directory(vae)) {
            config = VaeConfig::fromConfig(JsonConfig::fromFile(vae / "config.json"));
            const std::filesystem::path file = componentWeights(vae, "diffusion_pytorch_model");
            hasEncoder = openShared(file)->contains("encoder.conv_in.weight");
            weightsIn = [=](at::ScalarType dtype) {
                return WeightSource(openShared(file), "", options.dtype(dtype))
                    .withChannelsLast(placement.vaeChannelsLast);
            };
        } else {
            const auto file = openShared(vae);
            const std::optional<std::string> prefix = singleFileVaePrefix(*file);
            if (!prefix) {
                throw EngineError(vae.string()
                                  + ": not a VAE (no \"decoder.conv_in.weight\" or "
                                    "\"first_stage_model.decoder.conv_in.weight\"); give a single-file VAE or a "
                                    "diffusers vae/ folder");
            }
            config = vaeConfigFromWeights(*file, *prefix);
            hasEncoder = hasVaeEncoder(*file, prefix);
            const auto levels = static_cast<std::int64_t>(config.blockOutChannels.size());
            weightsIn = [=](at::ScalarType dtype) {
                // Opened again for each load, so the float32 fallback does not keep the file mapped meanwhile.
                return WeightSource(openShared(vae), "", options.dtype(dtype), vaeKeyMap(levels, prefix))
                    .withChannelsLast(placement.vaeChannelsLast);
            };
        }
        if (config.latentChannels != model->unet.config().inChannels) {
            throw EngineError(vae.string() + ": the VAE makes " + std::to_string(config.latentChannels)
                              + "-channel latents but the UNet takes "
                              + std::to_string(model->unet.config().inChannels));
        }
        if (config.upscale() != model->vae.config().upscale()) {
            throw EngineError(vae.string() + ": the VAE makes images " + std::to_string(config.upscale())
                              + " times its latents' size but this model's makes them "
                              + std::to_string(model->vae.config().upscale()) + " times (not an SD 1.x VAE?)");
        }
        // The copy shares the text encoder's and UNet's tensors (and the LoRA state) with @p model.
        auto replaced = std::make_shared<StableDiffusionModel>(*model);
        replaced->vae = VaeDecoder::load(config, weightsIn(placement.vaeDtype));
        replaced->vaeEncoder.reset();
        if (hasEncoder) {
            replaced->vaeEncoder = VaeEncoder::load(config, weightsIn(placement.vaeDtype));
        }
        replaced->vaeFallback.reset();
        replaced->vaeSource = vae;
        attachVaeFallback(
            *replaced, [=] { return VaeDecoder::load(config, weightsIn(at::kFloat)); },
            [=] { return VaeEncoder::load(config, weightsIn(at::kFloat)); });
        return replaced;
    }

    std::shared_ptr<const StableDiffusionModel> StableDiffusionModel::load(const std::filesystem::path& path,
                                                                           const std::filesystem::path& clipVocabulary,
                                                                           const ModelPlacement& placement)
    {
        return std::filesystem::is_directory(path) ? loadFolder(path, placement)
                                                   : loadSingleFile(path, clipVocabulary, placement);
    }

    std::string precisionName(at::ScalarType dtype)
    {
        switch (dtype) {
        case at::kFloat:
            return "fp32";
        case at::kHalf:
            return "fp16";
        case at::kBFloat16:
            return "bf16";
        default:
            return c10::toString(dtype);
        }
    }

    std::optional<at::ScalarType> parsePrecision(std::string_view name)
    {
        for (const at::ScalarType dtype : {at::kFloat, at::kHalf, at::kBFloat16}) {
            if (name == precisionName(dtype)) {
                return dtype;
            }
        }
        return std::nullopt;
    }

    ModelPlacement ModelPlacement::forDevice(at::Device device, at::ScalarType dtype)
    {
        ModelPlacement placement;
        placement.device = device;
        placement.dtype = dtype;
        // On the CPU oneDNN's NCHW convolutions are what diffusers runs too; on CUDA, cuDNN's tensor-core kernels
        // want NHWC and would otherwise transpose around every convolution.
        placement.channelsLast = device.is_cuda();
        // Half the VAE's memory and time, as diffusers decodes; decodeImage() catches the overflows.
        placement.vaeDtype = device.is_cuda() && dtype == at::kHalf ? at::kHalf : at::kFloat;
        // Channels-last pays in the VAE only with the engine's GroupNorm, which reads that layout directly:
        // LibTorch's GroupNorm copies it to NCHW and back (H200, batch 8: decode 67.5 ms against 70.3 ms NCHW with
        // the kernels; docs/PERFORMANCE.md). The float32 VAE (the NaN retry, fp32 runs) has no such kernel.
        placement.vaeChannelsLast
            = device.is_cuda() && placement.vaeDtype != at::kFloat && fusedKernelEnabled(FusedKernel::GroupNorm);
        return placement;
    }

    VaeFloatFallback::VaeFloatFallback(std::function<VaeDecoder()> load, std::function<VaeEncoder()> loadEncoder)
        : m_load(std::move(load))
        , m_loadEncoder(std::move(loadEncoder))
    { }

    const VaeDecoder& VaeFloatFallback::decoderForRetry() const
    {
        const std::lock_guard lock(m_mutex);
        if (!m_decoder) {
            m_decoder = m_load();
        }
        ++m_retries;
        return *m_decoder;
    }

    const VaeEncoder& VaeFloatFallback::encoderForRetry() const
    {
        const std::lock_guard lock(m_mutex);
        if (!m_encoder) {
            if (!m_loadEncoder) {
                throw EngineError("this model has no float32 VAE encoder to fall back to");
            }
            m_encoder = m_loadEncoder();
        }
        ++m_encoderRetries;
        return *m_encoder;
    }

    int VaeFloatFallback::retries() const
    {
        const std::lock_guard lock(m_mutex);
        return m_retries;
    }

    int VaeFloatFallback::encoderRetries() const
    {
        const std::lock_guard lock(m_mutex);
        return m_encoderRetries;
    }

    at::Tensor StableDiffusionModel::decodeImage(const at::Tensor& latents, GraphRunner* runner) const
    {
        const at::Tensor input = latents.to(placement.vaeDtype);
        const at::Tensor pixels = (runner ? runner->decode(vae, input) : vae.decode(input)).to(at::kFloat);
        if (placement.vaeDtype == at::kFloat || !vaeFallback || at::isfinite(pixels).all().item<bool>()) {
            return pixels;
        }
        // One host round trip per image, after its decode: the image is fetched right after anyway.
        std::fprintf(stderr, "atelier: the %s VAE decode of an image overflowed; decoding it again in float32\n",
                     c10::toString(placement.vaeDtype));
        return vaeFallback->decoderForRetry().decode(latents.to(at::kFloat));
    }

    LatentDistribution StableDiffusionModel::encodeImage(const at::Tensor& image) const
    {
        if (!vaeEncoder) {
            throw EngineError(source.string()
                              + ": the model's VAE has no encoder (its weights hold only the decoder), which image to "
                                "image needs");
        }
        const at::Tensor input = toDevice(image.to(at::kFloat), placement.device);
        const LatentDistribution encoded = vaeEncoder->encode(input.to(placement.vaeDtype)).toFloat();
        if (placement.vaeDtype == at::kFloat || !vaeFallback
            || (at::isfinite(encoded.mean).all().item<bool>() && at::isfinite(encoded.logvar).all().item<bool>())) {
            return encoded;
        }
        std::fprintf(stderr, "atelier: the %s VAE encode of an init image overflowed; encoding it again in float32\n",
                     c10::toString(placement.vaeDtype));
        return vaeFallback->encoderForRetry().encode(input);
    }

    PromptEmbeddingCache::PromptEmbeddingCache(std::size_t capacity)
        : m_capacity(std::max<std::size_t>(capacity, 1))
    { }

    std::optional<at::Tensor> PromptEmbeddingCache::find(const std::string& prompt, std::size_t chunks,
                                                         const std::string& encoder)
    {
        const auto it = std::find_if(m_entries.begin(), m_entries.end(), [&](const Entry& e) {
            return e.chunks == chunks && e.encoder == encoder && e.prompt == prompt;
        });
        if (it == m_entries.end()) {
            ++m_misses;
            return std::nullopt;
        }
        ++m_hits;
        m_entries.splice(m_entries.begin(), m_entries, it);
        return m_entries.front().embedding;
    }

    void PromptEmbeddingCache::insert(const std::string& prompt, std::size_t chunks, at::Tensor embedding,
                                      const std::string& encoder)
    {
        m_entries.remove_if(
            [&](const Entry& e) { return e.chunks == chunks && e.encoder == encoder && e.prompt == prompt; });
        m_entries.push_front(Entry{prompt, chunks, encoder, std::move(embedding)});
        if (m_entries.size() > m_capacity) {
            m_entries.pop_back();
        }
    }

    Pipeline::Pipeline(std::shared_ptr<const StableDiffusionModel> model, std::shared_ptr<PromptEmbeddingCache> cache,
                       std::shared_ptr<GraphRunner> runner, std::shared_ptr<const EmbeddingLibrary> embeddings)
        : m_model(std::move(model))
        , m_cache(std::move(cache))
        , m_runner(std::move(runner))
        , m_embeddings(std::move(embeddings))
    { }

    std::string Pipeline::encoderState(int clipSkip) const
    {
        std::string state = "clip skip ";
        state.append(std::to_string(clipSkip));
        if (m_embeddings) {
            state.append("\nembeddings ").append(std::to_string(m_embeddings->identity()));
        }
        if (m_model->loras) {
            for (const LoraSpec& lora : m_model->loras->current()) {
                if (lora.textEncoderWeight != 0.0) {
                    // Every digit: two weights that differ at all give two embeddings.
                    char weight[32];
                    std::snprintf(weight, sizeof weight, " * %.17g", lora.textEncoderWeight);
                    state.append("\n").append(lora.file.string()).append(weight);
                }
            }
        }
        return state;
    }

    std::size_t Pipeline::chunkCount(const ImageRequest& request) const
    {
        const EmbeddingMatcher* embeddings = m_embeddings.get();
        return std::max(
            {std::size_t{1}, promptChunks(m_model->tokenizer, request.prompt, DefaultCommaBacktrack, embeddings).size(),
             promptChunks(m_model->tokenizer, request.negativePrompt, DefaultCommaBacktrack, embeddings).size()});
    }

    at::Tensor Pipeline::initialNoise(std::uint64_t seed, std::int64_t channels, std::int64_t height,
                                      std::int64_t width)
    {
        at::Generator generator = at::make_generator<at::CPUGeneratorImpl>(seed);
        return at::randn({1, channels, height, width}, generator, at::TensorOptions().dtype(at::kFloat));
    }

    at::Tensor Pipeline::encodePrompts(const std::vector<std::string>& prompts, std::size_t minChunks,
                                       int clipSkip) const
    {
        const ClipTokenizer& tokenizer = m_model->tokenizer;
        std::vector<std::vector<PromptChunk>> chunked;
        std::size_t chunks = std::max<std::size_t>(minChunks, 1);
        for (const auto& prompt : prompts) {
            chunked.push_back(promptChunks(tokenizer, prompt, DefaultCommaBacktrack, m_embeddings.get()));
            chunks = std::max(chunks, chunked.back().size());
        }
        const PromptChunk emptyChunk = promptChunks(tokenizer, "").front();
        const std::string encoder = encoderState(clipSkip);
        // Cached prompts are taken as they are; the rest are encoded together in one forward pass.
        std::vector<std::optional<at::Tensor>> cached(prompts.size());
        std::vector<std::size_t> missing;
        std::vector<std::int64_t> ids;
        for (std::size_t i = 0; i < prompts.size(); ++i) {
            if (m_cache) {
                cached[i] = m_cache->find(prompts[i], chunks, encoder);
            }
            if (cached[i]) {
                continue;
            }
            missing.push_back(i);
            auto& promptChunks = chunked[i];
            promptChunks.resize(chunks, emptyChunk);
            for (const auto& chunk : promptChunks) {
                ids.insert(ids.end(), chunk.ids.begin(), chunk.ids.end());
            }
        }
        at::Tensor encoded;
        if (!missing.empty()) {
            const auto count = static_cast<std::int64_t>(missing.size() * chunks);
            const at::Tensor idTensor
                = at::from_blob(ids.data(), {count, ClipTokenizer::ContextLength}, at::TensorOptions().dtype(at::kLong))
                      .to(m_model->placement.device);
            at::Tensor hidden
                = m_model->textEncoder.forwardEmbeddings(embedChunks(idTensor, chunked, missing, chunks), clipSkip);
            for (std::size_t k = 0; k < missing.size(); ++k) {
                for (std::size_t c = 0; c < chunks; ++c) {
                    const PromptChunk& chunk = chunked[missing[k]][c];
                    if (!chunk.isPlain()) {
                        const auto row = static_cast<std::int64_t>(k * chunks + c);
                        hidden.narrow(0, row, 1).copy_(emphasized(hidden.narrow(0, row, 1), chunk));
                    }
                }
            }
            encoded = hidden.reshape({static_cast<std::int64_t>(missing.size()), -1, hidden.size(-1)});
        }
        std::vector<at::Tensor> rows(prompts.size());
        for (std::size_t k = 0; k < missing.size(); ++k) {
            const std::size_t i = missing[k];
            rows[i] = encoded.narrow(0, static_cast<std::int64_t>(k), 1);
            if (m_cache) {
                m_cache->insert(prompts[i], chunks, rows[i].clone(), encoder);
            }
        }
        for (std::size_t i = 0; i < prompts.size(); ++i) {
            if (cached[i]) {
                rows[i] = *cached[i];
            }
        }
        return rows.size() == 1 ? rows.front() : at::cat(rows, 0);
    }

    at::Tensor Pipeline::embedChunks(const at::Tensor& ids, const std::vector<std::vector<PromptChunk>>& chunked,
                                     const std::vector<std::size_t>& rows, std::size_t chunks) const
    {
        at::Tensor embedded = m_model->textEncoder.embedTokens(ids);
        for (std::size_t k = 0; k < rows.size(); ++k) {
            for (std::size_t c = 0; c < chunks; ++c) {
                for (const ChunkEmbedding& fix : chunked[rows[k]][c].embeddings) {
                    // A textual inversion's vectors in the place of the zeros its name left in the ids.
                    const at::Tensor& vectors = m_embeddings->embedding(fix.match.index).vectors;
                    const auto count = static_cast<std::int64_t>(fix.match.vectors);
                    embedded[static_cast<std::int64_t>(k * chunks + c)]
                        .narrow(0, static_cast<std::int64_t>(fix.offset), count)
                        .copy_(vectors.narrow(0, 0, count));
                }
            }
        }
        return embedded;
    }

    std::vector<UsedEmbedding> Pipeline::embeddingsOf(const ImageRequest& request) const
    {
        std::vector<UsedEmbedding> used;
        if (!m_embeddings) {
            return used;
        }
        for (const std::string* text : {&request.prompt, &request.negativePrompt}) {
            for (const PromptChunk& chunk :
                 promptChunks(m_model->tokenizer, *text, DefaultCommaBacktrack, m_embeddings.get())) {
                for (const ChunkEmbedding& fix : chunk.embeddings) {
                    const Embedding& embedding = m_embeddings->embedding(fix.match.index);
                    if (std::none_of(used.begin(), used.end(),
                                     [&](const UsedEmbedding& u) { return u.file == embedding.file; })) {
                        used.push_back({embedding.name, embedding.file});
                    }
                }
            }
        }
        return used;
    }

    at::Tensor Pipeline::emphasized(const at::Tensor& hidden, const PromptChunk& chunk)
    {
        // AUTOMATIC1111's "Original" emphasis: each token's output scaled by its weight, then the whole chunk by the
        // ratio that gives it its old mean back, in float32 whatever the encoder ran in.
        const at::Tensor z = hidden.to(at::kFloat);
        std::array<float, ClipTokenizer::ContextLength> weights{};
        std::transform(chunk.weights.begin(), chunk.weights.end(), weights.begin(),
                       [](double w) { return static_cast<float>(w); });
        const at::Tensor w
            = at::from_blob(weights.data(), {1, ClipTokenizer::ContextLength, 1}, at::TensorOptions().dtype(at::kFloat))
                  .to(z.device());
        const at::Tensor originalMean = z.mean();
        const at::Tensor weighted = z * w;
        return (weighted * (originalMean / weighted.mean())).to(hidden.scalar_type());
    }

    GenerationResult Pipeline::generateHires(const std::vector<ImageRequest>& requests,
                                             const GenerationSettings& settings, const ProgressCallback& progress) const
    {
        const HiresSettings hires = settings.hires.value_or(HiresSettings{});
        const std::int64_t factor = m_model->vaeScaleFactor();
        const auto width = static_cast<std::int64_t>(static_cast<double>(settings.width) * hires.scale);
        const auto height = static_cast<std::int64_t>(static_cast<double>(settings.height) * hires.scale);
        if (!(hires.scale >= 1.0) || width % factor != 0 || height % factor != 0) {
            throw EngineError("hires scale " + c10::str(hires.scale) + " makes " + std::to_string(width) + "×"
                              + std::to_string(height)
                              + ", which must be at least the first pass's size and a "
                                "multiple of "
                              + std::to_string(factor));
        }
        for (const ImageRequest& request : requests) {
            if (request.initImage || request.initImageLatents) {
                throw EngineError("hires fix: the first pass is text to image; a request with an init image cannot "
                                  "have one");
            }
        }
        if (!(hires.strength > 0.0 && hires.strength <= 1.0) || hires.steps < 0) {
            throw EngineError("hires fix: the strength must be more than 0 and at most 1 and the steps not negative");
        }
        GenerationSettings first = settings;
        first.hires.reset();
        GenerationSettings second = settings;
        second.hires.reset();
        second.width = width;
        second.height = height;
        second.steps = hires.steps > 0 ? hires.steps : settings.steps;
        second.strength = hires.strength;

        // Both passes' steps in one count: the first pass reports its own total, the second's is known once it
        // starts; until then its steps are estimated as the strength leaves them.
        int firstTotal = 0;
        const int secondEstimate = std::max(1, static_cast<int>(second.steps * second.strength));
        const ProgressCallback firstProgress = [&](const StepProgress& p) {
            firstTotal = p.total;
            return !progress || progress(StepProgress{p.step, p.total + secondEstimate, p.latents});
        };
        const ProgressCallback secondProgress = [&](const StepProgress& p) {
            return !progress || progress(StepProgress{firstTotal + p.step, firstTotal + p.total, p.latents});
        };
        const GenerationResult base = generate(requests, first, firstProgress);

        std::vector<ImageRequest> upscaled = requests;
        for (std::size_t b = 0; b < requests.size(); ++b) {
            const auto row = static_cast<std::int64_t>(b);
            if (hires.upscaler == HiresUpscaler::Latent) {
                upscaled[b].initImageLatents = at::upsample_bilinear2d(base.finalLatents.narrow(0, row, 1),
                                                                       {height / factor, width / factor}, false);
            } else {
                upscaled[b].initImage = fromUint8Image(resizeLanczos(base.images[row], width, height));
            }
            upscaled[b].initialLatents.reset();
        }
        return generate(upscaled, second, secondProgress);
    }

    GenerationResult Pipeline::generate(const std::vector<ImageRequest>& requests, const GenerationSettings& settings,
                                        const ProgressCallback& progress) const
    {
        c10::InferenceMode inference;
        const StableDiffusionModel& model = *m_model;
        if (requests.empty()) {
            throw EngineError("nothing to generate: the batch is empty");
        }
        const std::int64_t factor = model.vaeScaleFactor();
        if (settings.width <= 0 || settings.height <= 0 || settings.width % factor != 0
            || settings.height % factor != 0) {
            throw EngineError("width and height must be positive multiples of " + std::to_string(factor) + ", got "
                              + std::to_string(settings.width) + "×" + std::to_string(settings.height));
        }
        if (settings.hires) {
            return generateHires(requests, settings, progress);
        }
        // One batch runs one schedule: image to image for every request or for none.
        const auto startsFromImage = [](const ImageRequest& r) { return r.initImage || r.initImageLatents; };
        const bool imageToImage = startsFromImage(requests.front());
        for (const ImageRequest& request : requests) {
            if (request.initImage && request.initImageLatents) {
                throw EngineError("initImage and initImageLatents: a request starts from one or the other");
            }
            if (request.initImageLatents
                && request.initImageLatents->sizes().vec()
                    != std::vector<std::int64_t>{1, model.unet.config().inChannels, settings.height / factor,
                                                 settings.width / factor}) {
                throw EngineError(
                    "initImageLatents must have shape [1, " + std::to_string(model.unet.config().inChannels) + ", "
                    + std::to_string(settings.height / factor) + ", " + std::to_string(settings.width / factor)
                    + "], got " + c10::str(request.initImageLatents->sizes()));
            }
            if (startsFromImage(request) != imageToImage) {
                throw EngineError("initImage: a batch cannot mix requests with an init image (image to image) and "
                                  "requests without one (text to image)");
            }
            if (request.initImage
                && request.initImage->sizes().vec()
                    != std::vector<std::int64_t>{1, 3, settings.height, settings.width}) {
                throw EngineError("initImage must have shape [1, 3, " + std::to_string(settings.height) + ", "
                                  + std::to_string(settings.width) + "] (the image's size), got "
                                  + c10::str(request.initImage->sizes()));
            }
            if (request.initImage && !at::isFloatingType(request.initImage->scalar_type())) {
                throw EngineError("initImage must hold floating-point pixels in [-1, 1] (fromUint8Image() converts "
                                  "uint8 ones), got "
                                  + std::string(c10::toString(request.initImage->scalar_type())));
            }
        }
        if (!(settings.strength > 0.0 && settings.strength <= 1.0)) {
            // Refused even where it is not used (text to image), so that a bad value never passes unnoticed.
            throw EngineError("strength must be more than 0 and at most 1, got " + c10::str(settings.strength));
        }
        // Before the prompts are encoded: LoRAs on the text encoder change the embeddings.
        if (model.loras) {
            model.loras->apply(settings.loras);
        } else if (!settings.loras.empty()) {
            throw EngineError("this model cannot take LoRAs (it was not loaded with a weight registry)");
        }
        const std::string schedulerName = settings.scheduler.empty() ? model.defaultScheduler : settings.scheduler;
        const std::int64_t channels = model.unet.config().inChannels;
        const std::int64_t latentHeight = settings.height / factor;
        const std::int64_t latentWidth = settings.width / factor;
        const at::Device device = model.placement.device;
        const auto batch = static_cast<std::int64_t>(requests.size());

        // One sampler and one generator per image: sampler state and ancestral noise then depend on that image
        // alone, so an image is the same in any batch (diffusers with a list of generators behaves the same).
        std::vector<std::unique_ptr<Scheduler>> schedulers;
        std::vector<at::Generator> generators;
        std::vector<at::Tensor> initial;
        for (const ImageRequest& request : requests) {
            schedulers.push_back(makeScheduler(schedulerName, model.schedulerConfig));
            Scheduler& scheduler = *schedulers.back();
            scheduler.setTimesteps(settings.steps);
            if (imageToImage) {
                // diffusers' img2img get_timesteps: the last int(steps × strength) steps of the schedule.
                scheduler.setBeginIndex(strengthBeginIndex(scheduler, settings.steps, settings.strength));
            }
            generators.push_back(at::make_generator<at::CPUGeneratorImpl>(request.seed));
            at::Generator& generator = generators.back();
            // diffusers' img2img prepare_latents encodes the image first, drawing the VAE's sample from the
            // generator, and only then draws the noise: the order matters for every seed.
            at::Tensor imageLatents;
            if (request.initImageLatents) {
                imageLatents = toDevice(request.initImageLatents->to(at::kFloat), device);
            } else if (imageToImage) {
                imageLatents
                    = model.encodeImage(*request.initImage).sample(generator) * model.vae.config().scalingFactor;
            }
            at::Tensor noise;
            if (request.initialLatents) {
                const at::Tensor& given = *request.initialLatents;
                if (given.sizes().vec() != std::vector<std::int64_t>{1, channels, latentHeight, latentWidth}) {
                    throw EngineError("initial latents must have shape [1, " + std::to_string(channels) + ", "
                                      + std::to_string(latentHeight) + ", " + std::to_string(latentWidth) + "]");
                }
                noise = given.to(at::kFloat).to(at::kCPU);
            } else {
                noise = at::randn({1, channels, latentHeight, latentWidth}, generator,
                                  at::TensorOptions().dtype(at::kFloat));
            }
            initial.push_back(imageToImage ? scheduler.addNoise(imageLatents, toDevice(noise, device)) : noise);
        }
        const Scheduler& lead = *schedulers.front();
        at::Tensor latents
            = imageToImage ? at::cat(initial, 0) : toDevice(at::cat(initial, 0), device) * lead.initNoiseSigma();

        const bool guidance = settings.guidanceScale > 1.0;
        std::vector<std::string> prompts, negatives;
        for (const ImageRequest& request : requests) {
            prompts.push_back(request.prompt);
            negatives.push_back(request.negativePrompt);
        }
        at::Tensor context = encodePrompts(prompts, 1, settings.clipSkip);
        if (guidance) {
            const auto chunks = static_cast<std::size_t>(context.size(1) / ClipTokenizer::ContextLength);
            at::Tensor uncond = encodePrompts(negatives, chunks, settings.clipSkip);
            if (uncond.size(1) != context.size(1)) {
                // The negative prompt was the longer one: pad the prompts to its chunk count instead.
                context
                    = encodePrompts(prompts, static_cast<std::size_t>(uncond.size(1) / ClipTokenizer::ContextLength),
                                    settings.clipSkip);
            }
            context = at::cat({uncond, context}, 0);
        }
        context = context.to(model.placement.dtype);

        const auto& timesteps = lead.timesteps();
        // Image to image skips the schedule's first steps; progress counts the steps this run takes.
        const std::size_t first = lead.beginIndex();
        const int total = static_cast<int>(timesteps.size() - first);
        for (std::size_t i = first; i < timesteps.size(); ++i) {
            const at::Tensor input = lead.scaleModelInput(latents, i);
            const at::Tensor modelInput = guidance ? at::cat({input, input}, 0) : input;
            const at::Tensor t = at::scalar_tensor(timesteps[i], at::TensorOptions().dtype(at::kDouble).device(device));
            const at::Tensor unetInput = modelInput.to(model.placement.dtype);
            at::Tensor eps = (m_runner ? m_runner->forward(model.unet, unetInput, t, context)
                                       : model.unet.forward(unetInput, t, context))
                                 .to(at::kFloat);
            if (guidance) {
                const auto halves = eps.chunk(2, 0);
                eps = halves[0] + settings.guidanceScale * (halves[1] - halves[0]);
            }
            if (batch == 1) {
                latents = schedulers[0]->step(eps, i, latents, &generators[0]);
            } else {
                std::vector<at::Tensor> stepped;
                for (std::int64_t b = 0; b < batch; ++b) {
                    stepped.push_back(
                        schedulers[b]->step(eps.narrow(0, b, 1), i, latents.narrow(0, b, 1), &generators[b]));
                }
                latents = at::cat(stepped, 0);
            }
            if (progress && !progress(StepProgress{static_cast<int>(i - first) + 1, total, latents})) {
                throw GenerationCancelled();
            }
        }

        GenerationResult result;
        // One image at a time: the VAE's activations at full resolution dominate peak memory, and a batch then
        // needs no more of it than a single image does.
        std::vector<at::Tensor> decoded;
        std::vector<at::Tensor> images;
        for (std::int64_t b = 0; b < batch; ++b) {
            const at::Tensor pixels = model.decodeImage(latents.narrow(0, b, 1), m_runner.get());
            if (pixels.is_cuda()) {
                // Into page-locked memory without waiting; the uint8 download below is ordered after it on the
                // same stream and waits for both.
                at::Tensor host = at::empty(pixels.sizes(), at::TensorOptions().dtype(at::kFloat).pinned_memory(true));
                host.copy_(pixels, /*non_blocking=*/true);
                decoded.push_back(host);
            } else {
                decoded.push_back(pixels);
            }
            images.push_back(toUint8Image(pixels));
        }
        result.decoded = batch == 1 ? decoded.front() : at::cat(decoded, 0);
        result.images = batch == 1 ? images.front() : at::cat(images, 0);
        // Last, so that fetching them does not hold back the VAE's kernels behind a host round trip.
        result.promptEmbeds = context.to(at::kFloat).to(at::kCPU);
        result.finalLatents = latents.to(at::kCPU);
        return result;
    }

    at::Tensor latentPreview(const at::Tensor& latents, std::int64_t scale)
    {
        // A least-squares fit of SD 1.x's VAE decoder to a 4→3 linear map, widely used for live previews.
        static const std::vector<float> factors{0.298F,  0.207F, 0.208F, 0.187F,  0.286F,  0.173F,
                                                -0.158F, 0.189F, 0.264F, -0.184F, -0.271F, -0.473F};
        const at::Tensor map
            = at::tensor(factors, at::TensorOptions().dtype(at::kFloat)).view({4, 3}).to(latents.device());
        at::Tensor rgb = at::einsum("bchw,cr->brhw", {latents.to(at::kFloat).narrow(1, 0, 4), map});
        if (scale > 1) {
            rgb = at::upsample_nearest2d(rgb, {rgb.size(2) * scale, rgb.size(3) * scale});
        }
        return at::round(at::clamp((rgb + 1) / 2, 0.0, 1.0) * 255)
            .to(at::kByte)
            .permute({0, 2, 3, 1})
            .contiguous()
            .to(at::kCPU);
    }
} // namespace Atelier::Engine
