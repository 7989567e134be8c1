// SPDX-License-Identifier: GPL-3.0-or-later
#include "WorkerCommands.h"

#include "render/Precision.h"

#include <QCommandLineParser>
#include <QCoreApplication>
#include <QDir>
#include <QFileInfo>
#include <QImage>

#include <ATen/Parallel.h>
#include <ATen/core/Tensor.h>
#include <ATen/ops/empty.h>
#include <c10/core/InferenceMode.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <unistd.h>

#include "InitImage.h"
#include "PngWriter.h"
#include "PromptLoras.h"
#include "engine/ClipTokenizer.h"
#include "engine/CudaDevices.h"
#include "engine/Devices.h"
#include "engine/EngineError.h"
#include "engine/ExtraNetworks.h"
#include "engine/Pipeline.h"
#include "engine/Safetensors.h"
#include "engine/Schedulers.h"
#include "engine/Vae.h"
#include "render/FileHashes.h"
#include "render/ImageMetadata.h"
#include "render/RenderSettings.h"
#include "render/Samplers.h"

using namespace Qt::StringLiterals;
using namespace Atelier::Engine;

namespace Atelier::Worker
{
    namespace
    {
        // Thrown for a bad command line; main() prints it with the usage hint and exits 2.
        struct UsageError
        {
            QString message;
        };

        void printError(const QString& message)
        {
            std::fprintf(stderr, "atelier-worker: %s\n", qPrintable(message));
        }

        QString defaultModel()
        {
            return QDir(dataDirectory()).filePath(u"models/atelier-tiny"_s);
        }

        QString clipVocabulary()
        {
            return QDir(dataDirectory()).filePath(u"models/atelier-tiny/tokenizer"_s);
        }

        template <typename T>
        T parseNumber(const QCommandLineParser& parser, const QString& option, T minimum, T maximum)
        {
            const QString text = parser.value(option);
            bool ok = false;
            T value{};
            if constexpr (std::is_same_v<T, double>) {
                value = text.toDouble(&ok);
            } else if constexpr (std::is_same_v<T, quint64>) {
                value = text.toULongLong(&ok);
            } else {
                value = static_cast<T>(text.toLongLong(&ok));
                ok = ok && text.toLongLong() == static_cast<qlonglong>(value);
            }
            if (!ok || value < minimum || value > maximum) {
                throw UsageError{
                    u"--%1 must be a number from %2 to %3, got \"%4\""_s.arg(option).arg(minimum).arg(maximum).arg(
                        text)};
            }
            return value;
        }

        QString sideHelp(QStringView side)
        {
            return u"Image %1 in pixels, %2 to %3 in multiples of %4."_s.arg(side)
                .arg(RenderLimits::MinSide)
                .arg(RenderLimits::MaxSide)
                .arg(RenderLimits::SideMultiple);
        }

        ModelPlacement placementFor(const QString& deviceText, const QString& dtypeText)
        {
            std::string error;
            const auto spec = parseDevice(deviceText.toStdString(), &error);
            if (!spec) {
                throw UsageError{u"--device: %1"_s.arg(QString::fromStdString(error))};
            }
            at::Device device = at::kCPU;
            if (spec->kind == DeviceSpec::Kind::Cuda) {
                const int count = cudaDeviceCount();
                if (spec->index >= count) {
                    throw EngineError(spec->toString() + " is not available: this worker sees " + std::to_string(count)
                                      + " CUDA device(s)");
                }
                device = at::Device(at::kCUDA, static_cast<c10::DeviceIndex>(spec->index));
            }
            QString problem;
            const QString precision = resolvedPrecisionName(dtypeText, deviceText, &problem);
            if (precision.isEmpty()) {
                throw UsageError{problem};
            }
            return ModelPlacement::forDevice(device,
                                             Engine::parsePrecision(precision.toStdString()).value_or(at::kFloat));
        }

        at::Tensor readLatents(const QString& path)
        {
            const auto file = SafetensorsFile::open(path.toStdString());
            const auto& tensors = file.header().tensors;
            if (file.contains("latents")) {
                return file.tensor("latents");
            }
            if (tensors.size() == 1) {
                return file.tensor(tensors.front().name);
            }
            throw EngineError(path.toStdString() + ": holds no tensor called \"latents\" (and more than one tensor)");
        }

        int generate(const QStringList& arguments)
        {
            QCommandLineParser parser;
            parser.setApplicationDescription(u"Render one image with Stable Diffusion 1.x."_s);
            parser.addHelpOption();
            parser.addPositionalArgument(u"generate"_s, u"The command."_s);
            const QList<QCommandLineOption> options{
                {u"model"_s,
                 u"Model folder (diffusers layout) or single-file .safetensors. Default: the embedded tiny model."_s,
                 u"path"_s, defaultModel()},
                {u"prompt"_s, u"What to draw."_s, u"text"_s},
                {u"negative"_s, u"What to avoid."_s, u"text"_s, QString()},
                {u"seed"_s, u"Seed of the initial noise (as diffusers' CPU generator)."_s, u"n"_s, u"0"_s},
                {u"steps"_s, u"Sampler steps, %1 to %2."_s.arg(RenderLimits::MinSteps).arg(RenderLimits::MaxSteps),
                 u"n"_s, QString::number(RenderDefaults::Steps)},
                {u"cfg"_s,
                 u"Classifier-free guidance scale, %1 to %2; 1 turns guidance off."_s.arg(RenderLimits::MinCfgScale)
                     .arg(RenderLimits::MaxCfgScale),
                 u"x"_s, QString::number(RenderDefaults::CfgScale)},
                {u"width"_s, sideHelp(u"width"), u"w"_s, QString::number(RenderDefaults::Width)},
                {u"height"_s, sideHelp(u"height"), u"h"_s, QString::number(RenderDefaults::Height)},
                {u"scheduler"_s,
                 u"%1, or an AUTOMATIC1111 sampler name (\"DPM++ 2M Karras\"). Default: the model's."_s.arg(
                     samplerNames().join(u", "_s)),
                 u"name"_s, QString()},
                {u"device"_s, u"cpu or cuda:N."_s, u"device"_s, u"cpu"_s},
                {u"dtype"_s, u"auto (fp16 on CUDA, fp32 on the CPU), fp32, or fp16/bf16 on CUDA."_s, u"dtype"_s,
                 u"auto"_s},
                {u"threads"_s, u"CPU threads for LibTorch (default: LibTorch's choice)."_s, u"n"_s, u"0"_s},
                {u"out"_s, u"The PNG to write."_s, u"file.png"_s},
                {u"latents-in"_s,
                 u"Start from these latents (safetensors, key \"latents\") instead of the seed's noise."_s, u"file"_s},
                {u"latents-out"_s, u"Also save the final latents (safetensors, key \"latents\")."_s, u"file"_s},
                {u"clip-skip"_s,
                 u"AUTOMATIC1111's Clip skip: 1 uses CLIP's last layer (default), 2 the one before, ..."_s, u"n"_s,
                 QString::number(RenderDefaults::ClipSkip)},
                {u"lora"_s,
                 u"A LoRA to render with, by name (found in the --lora-dir folders) or path, at WEIGHT (default 1); "
                 "repeatable. Prompts can name LoRAs too: <lora:NAME:WEIGHT>."_s,
                 u"name[:weight]"_s},
                {u"lora-dir"_s, u"A folder to find LoRAs in by name (subfolders too); repeatable."_s, u"dir"_s},
                {u"vae"_s,
                 u"A VAE to decode (and encode) with instead of the model's: a single-file VAE such as "
                 "vae-ft-mse-840000-ema-pruned.safetensors, or a diffusers vae/ folder, by path or by name (found in "
                 "the --vae-dir folders)."_s,
                 u"name|path"_s},
                {u"vae-dir"_s, u"A folder to find VAEs in by name (subfolders too); repeatable."_s, u"dir"_s},
                {u"init-image"_s,
                 u"Image to image: start from this PNG (its size is the render's unless --width/--height differ, "
                 "which is refused)."_s,
                 u"png"_s},
                {u"strength"_s,
                 u"Image to image: the denoising strength, more than 0 and at most 1 (default %1)."_s.arg(
                     RenderDefaults::ImageToImageStrength),
                 u"x"_s, QString::number(RenderDefaults::ImageToImageStrength)},
                {u"hires-scale"_s,
                 u"Hires fix: render, then again at this many times the size (more than %1, at most %2)."_s
                     .arg(RenderLimits::MinHiresScale)
                     .arg(RenderLimits::MaxHiresScale),
                 u"f"_s},
                {u"hires-steps"_s, u"Hires fix: the second pass's steps (default 0: --steps)."_s, u"n"_s,
                 QString::number(RenderDefaults::HiresSteps)},
                {u"hires-strength"_s,
                 u"Hires fix: the second pass's denoising strength (default %1)."_s.arg(RenderDefaults::HiresStrength),
                 u"x"_s, QString::number(RenderDefaults::HiresStrength)},
                {u"hires-upscaler"_s, u"Hires fix: Latent (the latents, bilinear) or Lanczos (the image)."_s, u"name"_s,
                 RenderDefaults::HiresUpscaler.toString()},
                {u"embeddings-dir"_s,
                 u"A folder of textual-inversion embeddings, used in prompts by file name (subfolders too); "
                 "repeatable."_s,
                 u"dir"_s},
            };
            parser.addOptions(options);
            if (!parser.parse(arguments)) {
                throw UsageError{parser.errorText()};
            }
            if (parser.isSet(u"help"_s)) {
                std::fputs(qPrintable(parser.helpText()), stdout);
                return 0;
            }
            for (const char* required : {"prompt", "out"}) {
                if (!parser.isSet(QString::fromLatin1(required))) {
                    throw UsageError{u"--%1 is required"_s.arg(QString::fromLatin1(required))};
                }
            }
            // The A1111 name is taken too, so that settings copied from an infotext work as they are.
            const QString schedulerText = parser.value(u"scheduler"_s);
            const QString scheduler = schedulerText.isEmpty() ? QString() : samplerFromName(schedulerText);
            if (!schedulerText.isEmpty() && scheduler.isEmpty()) {
                throw UsageError{unknownSamplerMessage(schedulerText, u"--scheduler")};
            }

            RenderSettings render;
            render.prompt = parser.value(u"prompt"_s);
            render.negativePrompt = parser.value(u"negative"_s);
            render.scheduler = scheduler;
            int steps = 0;
            double cfgScale = 0;
            int width = 0;
            int height = 0;
            int clipSkip = RenderDefaults::ClipSkip;
            for (const QString& problem :
                 {RenderChecks::stepsText(parser.value(u"steps"_s), u"--steps", &steps),
                  RenderChecks::cfgScaleText(parser.value(u"cfg"_s), u"--cfg", &cfgScale),
                  RenderChecks::sideText(parser.value(u"width"_s), u"--width", &width),
                  RenderChecks::sideText(parser.value(u"height"_s), u"--height", &height),
                  RenderChecks::clipSkipText(parser.value(u"clip-skip"_s), u"--clip-skip", &clipSkip),
                  RenderChecks::promptBytes(render.prompt, u"--prompt"),
                  RenderChecks::promptBytes(render.negativePrompt, u"--negative")}) {
                if (!problem.isEmpty()) {
                    throw UsageError{problem};
                }
            }
            // Image to image: the init image decides the size when none was asked for.
            std::optional<at::Tensor> initPixels;
            if (parser.isSet(u"init-image"_s)) {
                try {
                    initPixels = readInitImage(parser.value(u"init-image"_s), u"--init-image"_s);
                } catch (const EngineError& e) {
                    throw UsageError{QString::fromUtf8(e.what())};
                }
                const auto initHeight = static_cast<int>(initPixels->size(0));
                const auto initWidth = static_cast<int>(initPixels->size(1));
                const bool sized = parser.isSet(u"width"_s) || parser.isSet(u"height"_s);
                if (sized && (initWidth != width || initHeight != height)) {
                    throw UsageError{u"--init-image is %1×%2 but --width/--height ask for %3×%4"_s.arg(initWidth)
                                         .arg(initHeight)
                                         .arg(width)
                                         .arg(height)};
                }
                for (const auto& [side, name] :
                     {std::pair{initWidth, u"width"_s}, std::pair{initHeight, u"height"_s}}) {
                    if (const QString problem = RenderChecks::side(side, u"the init image's "_s + name);
                        !problem.isEmpty()) {
                        throw UsageError{problem};
                    }
                }
                width = initWidth;
                height = initHeight;
            }
            const auto fraction = [&](const QString& option, double low, bool lowIncluded, double high) {
                bool ok = false;
                const double value = parser.value(option).toDouble(&ok);
                if (!ok || !std::isfinite(value) || value > high || (lowIncluded ? value < low : value <= low)) {
                    throw UsageError{u"--%1 must be a number %2 %3 and at most %4, not \"%5\""_s.arg(
                        option, lowIncluded ? u"from"_s : u"more than"_s, QString::number(low), QString::number(high),
                        parser.value(option))};
                }
                return value;
            };
            render.steps = steps;
            render.cfgScale = cfgScale;
            render.width = width;
            render.height = height;
            render.seed = parseNumber<quint64>(parser, u"seed"_s, 0, std::numeric_limits<quint64>::max());

            GenerationSettings settings;
            settings.scheduler = scheduler.toStdString();
            settings.steps = steps;
            settings.guidanceScale = cfgScale;
            settings.clipSkip = clipSkip;
            settings.width = width;
            settings.height = height;
            std::optional<double> denoisingStrength;
            if (initPixels) {
                settings.strength = fraction(u"strength"_s, 0.0, false, 1.0);
                denoisingStrength = settings.strength;
            }
            if (parser.isSet(u"hires-scale"_s)) {
                if (initPixels) {
                    throw UsageError{u"--hires-scale renders text to image first; it cannot go with --init-image"_s};
                }
                HiresSettings hires;
                double scale = 0;
                if (const QString problem
                    = RenderChecks::hiresScaleText(parser.value(u"hires-scale"_s), u"--hires-scale", &scale);
                    !problem.isEmpty()) {
                    throw UsageError{problem};
                }
                if (const QString problem = RenderChecks::hiresSize(width, height, scale, u"--hires-scale");
                    !problem.isEmpty()) {
                    throw UsageError{problem};
                }
                hires.scale = scale;
                hires.strength = fraction(u"hires-strength"_s, 0.0, false, 1.0);
                if (const QString problem
                    = RenderChecks::hiresStepsText(parser.value(u"hires-steps"_s), u"--hires-steps", &hires.steps);
                    !problem.isEmpty()) {
                    throw UsageError{problem};
                }
                const QString upscaler = hiresUpscalerFromName(parser.value(u"hires-upscaler"_s));
                if (upscaler.isEmpty()) {
                    throw UsageError{
                        unknownHiresUpscalerMessage(parser.value(u"hires-upscaler"_s), u"--hires-upscaler")};
                }
                hires.upscaler = upscaler == u"Latent"_s ? HiresUpscaler::Latent : HiresUpscaler::Lanczos;
                settings.hires = hires;
                denoisingStrength = hires.strength;
            }
            const int threads = parseNumber<int>(parser, u"threads"_s, 0, 1024);
            std::vector<Engine::LoraTag> extraLoras;
            for (const QString& value : parser.values(u"lora"_s)) {
                const std::optional<Engine::LoraTag> lora = Engine::parseLoraArgument(value.toStdString());
                if (!lora) {
                    throw UsageError{u"--lora must be NAME_OR_PATH[:WEIGHT], not \"%1\""_s.arg(excerpt(value))};
                }
                extraLoras.push_back(*lora);
            }
            std::vector<std::filesystem::path> loraFolders;
            for (const QString& folder : parser.values(u"lora-dir"_s)) {
                loraFolders.emplace_back(folder.toStdString());
            }
            // Every LoRA is found, and every tag read, before the model loads.
            const PreparedPrompt prepared = PromptLoras(loraFolders, extraLoras).prepare(render.prompt);
            settings.loras = prepared.loras;
            ImageRequest request;
            request.prompt = prepared.prompt;
            request.negativePrompt = render.negativePrompt.toStdString();
            request.seed = *render.seed;
            const ModelPlacement placement = placementFor(parser.value(u"device"_s), parser.value(u"dtype"_s));
            if (threads > 0) {
                at::set_num_threads(threads);
            }
            if (placement.device.is_cuda()) {
                configureCudaMath(placement.dtype, /*tuneConvolutions=*/false);
            }

            c10::InferenceMode inference;
            if (parser.isSet(u"latents-in"_s)) {
                request.initialLatents = readLatents(parser.value(u"latents-in"_s));
            }
            if (initPixels) {
                request.initImage = fromUint8Image(*initPixels);
            }
            std::shared_ptr<const StableDiffusionModel> model = StableDiffusionModel::load(
                parser.value(u"model"_s).toStdString(), clipVocabulary().toStdString(), placement);
            QString vaeFile;
            if (parser.isSet(u"vae"_s)) {
                std::vector<std::filesystem::path> vaeFolders;
                for (const QString& folder : parser.values(u"vae-dir"_s)) {
                    vaeFolders.emplace_back(folder.toStdString());
                }
                const std::filesystem::path vae = findVae(parser.value(u"vae"_s).toStdString(), vaeFolders);
                vaeFile = QString::fromStdString(vae.string());
                model = StableDiffusionModel::withVae(model, vae);
            }
            const bool showProgress = isatty(STDERR_FILENO) != 0;
            std::vector<std::filesystem::path> embeddingFolders;
            for (const QString& folder : parser.values(u"embeddings-dir"_s)) {
                embeddingFolders.emplace_back(folder.toStdString());
            }
            const auto embeddings = std::make_shared<const EmbeddingLibrary>(
                model->tokenizer, model->textEncoder.config().hiddenSize, embeddingFolders);
            const Pipeline pipeline(model, {}, {}, embeddings);
            QList<std::pair<QString, QString>> embeddingHashes;
            for (const UsedEmbedding& used : pipeline.embeddingsOf(request)) {
                embeddingHashes.append({QString::fromStdString(used.name),
                                        FileHashes::embeddingHash(QString::fromStdString(used.file.string()))});
            }
            const GenerationResult result = pipeline.generate({request}, settings, [&](const StepProgress& progress) {
                if (showProgress) {
                    std::fprintf(stderr, "\rstep %d/%d", progress.step, progress.total);
                    std::fflush(stderr);
                }
                return true;
            });
            if (showProgress) {
                std::fputc('\n', stderr);
            }

            // The infotext names the sampler that ran: the model's own when none was asked for.
            if (scheduler.isEmpty()) {
                render.scheduler = QString::fromStdString(model->defaultScheduler);
            }
            // No model hash: hashing a multi-gigabyte checkpoint would double a one-image run's time.
            render.clipSkip = clipSkip;
            render.denoisingStrength = denoisingStrength;
            if (settings.hires) {
                // The infotext's size is the first pass's, as A1111 writes it; the PNG is the larger one.
                render.hiresScale = settings.hires->scale;
                render.hiresSteps = settings.hires->steps;
                render.hiresUpscaler = settings.hires->upscaler == HiresUpscaler::Latent ? u"Latent"_s : u"Lanczos"_s;
            }
            QString vaeHash;
            if (!vaeFile.isEmpty()) {
                QString vaeName;
                std::tie(vaeName, vaeHash) = vaeInfotext(vaeFile);
                render.vae = vaeName;
            }
            Infotext infotext{render, QString(), infotextModelName(parser.value(u"model"_s))};
            infotext.loraHashes = prepared.hashes;
            infotext.embeddingHashes = embeddingHashes;
            infotext.vaeHash = vaeHash;
            infotext.settings.prompt = prepared.infotextPrompt;
            const QString out = parser.value(u"out"_s);
            const QString error = writeRgbPng(
                out, result.images.const_data_ptr<std::uint8_t>(), static_cast<int>(result.images.size(2)),
                static_cast<int>(result.images.size(1)), {{u"parameters"_s, infotext.toString()}});
            if (!error.isEmpty()) {
                throw EngineError(error.toStdString());
            }
            if (parser.isSet(u"latents-out"_s)) {
                writeSafetensors(parser.value(u"latents-out"_s).toStdString(), {{"latents", result.finalLatents}});
            }
            return 0;
        }
    } // namespace

    QString resolvedPrecisionName(const QString& requested, const QString& device, QString* error)
    {
        const std::optional<Precision> precision = Atelier::parsePrecision(requested);
        if (!precision) {
            *error = u"--dtype must be auto, fp32, fp16 or bf16, got \"%1\""_s.arg(requested);
            return {};
        }
        const std::optional<Precision> resolved = resolvePrecision(*precision, device, error);
        if (!resolved) {
            *error = u"--dtype "_s + *error;
            return {};
        }
        return precisionName(*resolved);
    }

    QString dataDirectory()
    {
        return QDir::cleanPath(QCoreApplication::applicationDirPath() + u"/../share/atelier"_s);
    }

    int runGenerate(const QStringList& arguments)
    {
        try {
            return generate(arguments);
        } catch (const UsageError& e) {
            printError(e.message + u" (see atelier-worker generate --help)"_s);
            return 2;
        } catch (const std::exception& e) {
            printError(QString::fromUtf8(e.what()));
            return 1;
        }
    }

    int runTokenize(const QStringList& arguments)
    {
        if (arguments.size() != 3) {
            printError(u"usage: atelier-worker tokenize TEXT"_s);
            return 2;
        }
        try {
            const auto tokenizer = ClipTokenizer::fromFolder(clipVocabulary().toStdString());
            const auto ids = tokenizer.encodePadded(arguments.at(2).toStdString());
            QString json = u"["_s;
            for (std::size_t i = 0; i < ids.size(); ++i) {
                json += (i ? u", "_s : QString()) + QString::number(ids[i]);
            }
            json += u"]\n"_s;
            std::fputs(qPrintable(json), stdout);
            return 0;
        } catch (const std::exception& e) {
            printError(QString::fromUtf8(e.what()));
            return 1;
        }
    }
} // namespace Atelier::Worker
