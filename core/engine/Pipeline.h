// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ClipTextEncoder.h"
#include "ClipTokenizer.h"
#include "EngineError.h"
#include "GraphRunner.h"
#include "ImageResize.h"
#include "Lora.h"
#include "PromptChunks.h"
#include "SchedulerConfig.h"
#include "TextualInversion.h"
#include "UNet.h"
#include "Vae.h"

namespace Atelier::Engine
{
    /// "fp32", "fp16" or "bf16", the names command lines, the worker protocol and the benchmarks' JSON give the
    /// precisions (LibTorch's own name for any other type).
    std::string precisionName(at::ScalarType dtype);
    /// The precision named "fp32", "fp16" or "bf16", or std::nullopt.
    std::optional<at::ScalarType> parsePrecision(std::string_view name);

    /// Where and in what precision a model runs.
    struct ModelPlacement
    {
        at::Device device = at::kCPU;
        at::ScalarType dtype = at::kFloat; ///< text encoder and UNet
        /// The VAE's precision (decoder and encoder). fp16 runs on CUDA decode in fp16 too, as diffusers does, at
        /// half the memory and time of float32; an image whose fp16 decode overflows (SD 1.x VAEs can, giving NaN
        /// images) is decoded again in float32 (StableDiffusionModel::decodeImage), and an init image whose encode
        /// does is encoded again in float32 (encodeImage). Every other run uses float32.
        at::ScalarType vaeDtype = at::kFloat;
        /// UNet convolutions and activations in NHWC, which tensor-core convolutions read directly (CUDA).
        bool channelsLast = false;
        /// The VAE decoder's too. Only with the engine's GroupNorm kernel (FusedKernels.h): without it each of the
        /// VAE's GroupNorms would copy its full-resolution activations to NCHW and back.
        bool vaeChannelsLast = false;

        /// What a worker uses on @p device at @p dtype: on CUDA, channels-last, and an fp16 VAE for fp16 runs
        /// (channels-last too while the fused GroupNorm is on: set the fused kernels first); on the CPU, the
        /// defaults.
        static ModelPlacement forDevice(at::Device device, at::ScalarType dtype);
    };

    /// The float32 VAE decoder (and encoder) that an overflowing reduced-precision decode (encode) falls back to:
    /// loaded from the model's file on first use (the file is opened again then, so a multi-GB checkpoint is not
    /// kept mapped meanwhile), then kept. Thread-safe.
    class VaeFloatFallback
    {
    public:
        /// @p loadEncoder may be empty for a model without a VAE encoder.
        explicit VaeFloatFallback(std::function<VaeDecoder()> load, std::function<VaeEncoder()> loadEncoder = {});

        /// The decoder, loading it on the first call; counts the call as one image decoded again.
        const VaeDecoder& decoderForRetry() const;
        /// The encoder, loading it on the first call; counts the call as one image encoded again. Throws
        /// EngineError when it was given no way to load one.
        const VaeEncoder& encoderForRetry() const;
        /// How many images were decoded again in float32.
        int retries() const;
        /// How many init images were encoded again in float32.
        int encoderRetries() const;

    private:
        std::function<VaeDecoder()> m_load;
        std::function<VaeEncoder()> m_loadEncoder;
        mutable std::mutex m_mutex;
        mutable std::optional<VaeDecoder> m_decoder;
        mutable std::optional<VaeEncoder> m_encoder;
        mutable int m_retries = 0;
        mutable int m_encoderRetries = 0;
    };

    /// A loaded Stable Diffusion 1.x model: tokenizer, text encoder, UNet, VAE decoder (and encoder, for
    /// image-to-image) and sampler settings.
    class StableDiffusionModel
    {
    public:
        /// Loads a diffusers folder (model_index.json, tokenizer/, text_encoder/, unet/, vae/, scheduler/).
        /// Throws EngineError naming the file at fault.
        static std::shared_ptr<const StableDiffusionModel> loadFolder(const std::filesystem::path& folder,
                                                                      const ModelPlacement& placement = {});
        /// Loads a single-file SD 1.x checkpoint (.safetensors with CompVis names). Such a file carries no
        /// tokenizer and no configs: the CLIP vocabulary comes from @p clipVocabulary (a folder with vocab.json
        /// and merges.txt, shipped with Atelier), the architecture from the tensors' shapes and the sampler
        /// settings from SD 1.5's defaults.
        static std::shared_ptr<const StableDiffusionModel> loadSingleFile(const std::filesystem::path& file,
                                                                          const std::filesystem::path& clipVocabulary,
                                                                          const ModelPlacement& placement = {});
        /// @p model with the VAE in @p vae instead of its own: a diffusers `vae/` folder (config.json and weights) or
        /// a single-file VAE with the original LDM names (`vae-ft-mse-840000-ema-pruned.safetensors`: `encoder.*`,
        /// `decoder.*`, `quant_conv`, `post_quant_conv`; a whole checkpoint's `first_stage_model.*` works too),
        /// placed as @p model's own (precision, layout, the float32 fallback). The text encoder and UNet are shared,
        /// not copied. Throws EngineError naming the file: no VAE in it, a pickle, a VAE whose latents are not the
        /// UNet's.
        static std::shared_ptr<const StableDiffusionModel>
        withVae(const std::shared_ptr<const StableDiffusionModel>& model, const std::filesystem::path& vae);
        /// A folder loads as a diffusers folder, a file as a single-file checkpoint.
        static std::shared_ptr<const StableDiffusionModel> load(const std::filesystem::path& path,
                                                                const std::filesystem::path& clipVocabulary,
                                                                const ModelPlacement& placement = {});

        ClipTokenizer tokenizer;
        ClipTextEncoder textEncoder;
        UNet unet;
        VaeDecoder vae;
        /// The VAE's encoder, in placement.vaeDtype like the decoder; absent when the weights have none (decoder-only
        /// files such as Atelier's embedded model), which only image-to-image needs.
        std::optional<VaeEncoder> vaeEncoder;
        SchedulerConfig schedulerConfig;
        std::string defaultScheduler = "pndm"; ///< the sampler the model ships with
        ModelPlacement placement;
        std::filesystem::path source;

        /// Set when placement.vaeDtype is not float32: what decodeImage() falls back to.
        std::shared_ptr<const VaeFloatFallback> vaeFallback;
        /// The text encoder's and the UNet's weights by name, shared with them (what LoRAs change).
        std::shared_ptr<WeightRegistry> weights;
        /// The LoRAs on the model now; Pipeline::generate() sets them per batch.
        std::shared_ptr<LoraPatcher> loras;
        std::filesystem::path vaeSource = {}; ///< the VAE's own file or folder when it replaced the model's; else empty

        /// Image pixels per latent pixel (8 for SD 1.x).
        std::int64_t vaeScaleFactor() const { return vae.config().upscale(); }

        /// The pixels of one image, [1, 3, H, W] in [-1, 1], float32 on the model's device, from its denoised
        /// latents [1, C, h, w]: decoded in placement.vaeDtype, and again in float32 when that gives a pixel that
        /// is not finite, so that no image comes out NaN. Through @p runner's CUDA graphs when given (the float32
        /// retry always runs eagerly).
        at::Tensor decodeImage(const at::Tensor& latents, GraphRunner* runner = nullptr) const;

        /// The latent distribution (float32, on the model's device) of @p image, [1, 3, H, W] in [-1, 1] (float32,
        /// any device): encoded in placement.vaeDtype, and again in float32 when that gives a value that is not
        /// finite, as decodeImage() does. Throws EngineError when the model has no VAE encoder.
        LatentDistribution encodeImage(const at::Tensor& image) const;
    };

    /// One image to make.
    struct ImageRequest
    {
        std::string prompt;
        std::string negativePrompt; ///< empty: the empty string, as diffusers uses when none is given
        std::uint64_t seed = 0;
        /// Initial latents [1, C, h, w] to use instead of drawing them from the seed (unit variance; the pipeline
        /// multiplies them by the sampler's initial sigma, as diffusers does with `latents=`). With an init image,
        /// the noise added to the encoded image instead of the seed's (the VAE's sample still comes from the seed).
        std::optional<at::Tensor> initialLatents;
        /// Image-to-image: the image to start from, float32 [1, 3, height, width] in [-1, 1] (fromUint8Image() makes
        /// it from pixels as diffusers' image processor does). Absent: text to image. (Initialised here so that the
        /// requests written {prompt, negative, seed, latents} before it existed need not name it.)
        std::optional<at::Tensor> initImage = std::nullopt;
        /// Image-to-image from latents instead of pixels: [1, C, h, w], already encoded and scaled (what diffusers'
        /// img2img does with a 4-channel image: no VAE, so the seed's generator draws only the noise). The hires
        /// fix's "Latent" upscalers start the second pass from these.
        std::optional<at::Tensor> initImageLatents = std::nullopt;
    };

    /// How the hires fix enlarges the first pass (AUTOMATIC1111's "Hires upscaler").
    enum class HiresUpscaler
    {
        Latent, ///< "Latent": the latents, bilinear (no antialiasing)
        Lanczos, ///< "Lanczos": the decoded image, Pillow's Lanczos, encoded again
    };

    /// AUTOMATIC1111's hires fix: a first pass at the settings' size, the result enlarged by @c scale, and an
    /// image-to-image pass at that size.
    struct HiresSettings
    {
        double scale = 2.0; ///< "Hires upscale"; the size it gives must stay a multiple of the VAE's factor
        int steps = 0; ///< "Hires steps"; 0: the first pass's
        double strength = 0.7; ///< "Denoising strength" of the second pass
        HiresUpscaler upscaler = HiresUpscaler::Latent;
    };

    /// Settings shared by every image of one batch.
    struct GenerationSettings
    {
        std::string scheduler; ///< empty: the model's own sampler
        int steps = 20;
        double guidanceScale = 7.5; ///< ≤ 1 turns classifier-free guidance off
        int clipSkip = 1; ///< A1111's "Clip skip": 1 the text encoder's last layer, 2 the penultimate, …
        std::vector<LoraSpec> loras; ///< applied to the model for this batch (LoraPatcher); empty: none
        std::int64_t width = 512;
        std::int64_t height = 512;
        /// Image-to-image only (ignored without an init image, but still checked): how much of the schedule to run,
        /// 0 < strength ≤ 1. As diffusers' StableDiffusionImg2ImgPipeline: the last int(steps·strength) steps run,
        /// from the init image noised to the first of them; 1 runs every step (the image still shows through).
        double strength = 1.0;
        /// Text to image only: render at width × height, then again at hires.scale times that (see HiresSettings).
        std::optional<HiresSettings> hires = std::nullopt;
    };

    /// Reported after every denoising step. Reading latents synchronises with the device; callers that only
    /// count steps never pay for it.
    struct StepProgress
    {
        int step = 0; ///< 1-based
        int total = 0; ///< number of sampler steps
        const at::Tensor& latents;
    };

    /// Return false to cancel: the pipeline stops before the next step and throws GenerationCancelled.
    using ProgressCallback = std::function<bool(const StepProgress&)>;

    class GenerationCancelled : public EngineError
    {
    public:
        GenerationCancelled()
            : EngineError("generation cancelled")
        { }
    };

    struct GenerationResult
    {
        at::Tensor images; ///< uint8 [B, H, W, 3] on the CPU
        at::Tensor decoded; ///< the VAE's output [B, 3, H, W] in [-1, 1], float32 on the CPU
        at::Tensor finalLatents; ///< [B, C, h, w] float32 on the CPU
        at::Tensor promptEmbeds; ///< what the UNet attended to: [uncond; cond] with guidance, cond without
    };

    /// Text embeddings of recently used prompts, so that a prompt queued many times (A1111's `--n_iter`, a seed
    /// sweep) is encoded once. Keyed by the prompt, the number of 75-token chunks it was padded to (padding changes
    /// the embedding) and the text encoder's state (its clip skip and LoRAs: Pipeline::encoderState()). Least recently
    /// used entries go first. Not thread-safe: one per engine thread.
    class PromptEmbeddingCache
    {
    public:
        explicit PromptEmbeddingCache(std::size_t capacity = 64);

        /// The embedding [1, 77·chunks, dim] of @p prompt, or std::nullopt; counts a hit or a miss.
        std::optional<at::Tensor> find(const std::string& prompt, std::size_t chunks, const std::string& encoder = {});
        void insert(const std::string& prompt, std::size_t chunks, at::Tensor embedding,
                    const std::string& encoder = {});

        std::size_t size() const { return m_entries.size(); }
        std::size_t hits() const { return m_hits; }
        std::size_t misses() const { return m_misses; }

    private:
        struct Entry
        {
            std::string prompt;
            std::size_t chunks = 0;
            std::string encoder;
            at::Tensor embedding;
        };
        std::size_t m_capacity;
        std::list<Entry> m_entries; ///< most recently used first
        std::size_t m_hits = 0;
        std::size_t m_misses = 0;
    };

    /// Text to image, as diffusers' StableDiffusionPipeline with one CPU generator per image: the same model, prompt,
    /// seed and settings give the same image whatever the batch, device or worker.
    ///
    /// Example:
    /// @code
    /// auto model = StableDiffusionModel::loadFolder("models/sd15");
    /// Pipeline pipeline(model);
    /// auto result = pipeline.generate({{"a lighthouse at dusk", "", 42}}, {.steps = 25});
    /// @endcode
    class Pipeline
    {
    public:
        /// @p cache and @p runner outlive one call: a worker keeps them across jobs (without a runner the UNet
        /// runs eagerly).
        /// @p embeddings: the textual inversions prompts may name (none without).
        explicit Pipeline(std::shared_ptr<const StableDiffusionModel> model,
                          std::shared_ptr<PromptEmbeddingCache> cache = {}, std::shared_ptr<GraphRunner> runner = {},
                          std::shared_ptr<const EmbeddingLibrary> embeddings = {});

        /// Renders every request in one batch. Throws EngineError for bad settings (size not a multiple of the VAE
        /// factor, unknown sampler, steps out of range, a strength out of range or too small to leave one step), a
        /// batch that mixes requests with and without an init image, an init image of another size, and
        /// GenerationCancelled when @p progress asks to stop.
        ///
        /// Image-to-image (requests with initImage) follows diffusers' StableDiffusionImg2ImgPipeline: each image's
        /// CPU generator first draws the VAE encoder's sample (latents = (mean + std·ε) × scaling factor), then the
        /// noise that the sampler's addNoise() adds for the first step the strength leaves, then any step noise.
        GenerationResult generate(const std::vector<ImageRequest>& requests, const GenerationSettings& settings,
                                  const ProgressCallback& progress = {}) const;

        /// The hires fix's two passes (generate() calls it for settings with hires): the first pass's latents
        /// upscaled bilinearly, or its image with Pillow's Lanczos and encoded again, then image to image at the
        /// larger size with the hires steps and strength; each pass draws from a generator seeded anew, as
        /// AUTOMATIC1111's second pass does. Progress counts both passes' steps.
        GenerationResult generateHires(const std::vector<ImageRequest>& requests, const GenerationSettings& settings,
                                       const ProgressCallback& progress = {}) const;

        /// Text embeddings for @p prompts, [N, 77·k, dim], as AUTOMATIC1111 makes them: its attention syntax
        /// (`(text:1.3)`, `[text]`, `BREAK`) and its chunks of 75 tokens (promptChunks(), each wrapped in BOS/EOS
        /// and encoded alone, the results concatenated); weighted tokens are scaled and the chunk's mean restored
        /// (emphasized()). A prompt without the syntax that fits one chunk gives the encoder's output unchanged.
        /// Every prompt is padded with empty chunks to @p minChunks and to the longest prompt's count. @p clipSkip:
        /// see ClipTextEncoder::forward().
        at::Tensor encodePrompts(const std::vector<std::string>& prompts, std::size_t minChunks = 1,
                                 int clipSkip = 1) const;

        /// The number of 75-token chunks @p request is encoded with when rendered alone. Requests with the same count
        /// render in one batch exactly as they do alone; mixing counts pads the shorter ones, which changes them.
        std::size_t chunkCount(const ImageRequest& request) const;

        /// What the text encoder's output depends on besides the prompt: @p clipSkip, the LoRAs on it now and the
        /// embedding library.
        std::string encoderState(int clipSkip) const;

        /// The textual inversions @p request's prompt and negative prompt use, each once, in order. Throws
        /// EngineError for one whose file cannot be used (a pickle, another model family).
        std::vector<UsedEmbedding> embeddingsOf(const ImageRequest& request) const;

        /// A1111's "Original" emphasis of one encoded chunk @p hidden ([1, 77, dim]): each position multiplied by its
        /// weight, then everything by (mean before / mean after), computed in float32.
        static at::Tensor emphasized(const at::Tensor& hidden, const PromptChunk& chunk);

        /// The unit-variance noise diffusers draws for one image of @p seed: randn on a CPU generator seeded with it.
        static at::Tensor initialNoise(std::uint64_t seed, std::int64_t channels, std::int64_t height,
                                       std::int64_t width);

    private:
        /// Token embeddings of @p ids ([rows·chunks, 77]) with the textual inversions of the chunks of @p rows put
        /// in; throws EngineError for an embedding whose file cannot be used.
        at::Tensor embedChunks(const at::Tensor& ids, const std::vector<std::vector<PromptChunk>>& chunked,
                               const std::vector<std::size_t>& rows, std::size_t chunks) const;

        std::shared_ptr<const StableDiffusionModel> m_model;
        std::shared_ptr<PromptEmbeddingCache> m_cache;
        std::shared_ptr<GraphRunner> m_runner;
        std::shared_ptr<const EmbeddingLibrary> m_embeddings;
    };

    /// A cheap RGB preview of latents for progress displays: a fixed linear map of the four SD 1.x latent channels
    /// to RGB, upsampled ×@p scale with nearest neighbour. uint8 [B, h·scale, w·scale, 3] on the CPU.
    at::Tensor latentPreview(const at::Tensor& latents, std::int64_t scale = 1);
} // namespace Atelier::Engine
