// SPDX-License-Identifier: GPL-3.0-or-later
#include "WorkerCommands.h"

#include <QCommandLineParser>
#include <QCoreApplication>
#include <QDir>
#include <QFileInfo>

#include <ATen/Parallel.h>
#include <ATen/core/Tensor.h>
#include <c10/core/InferenceMode.h>

#include <cstdio>
#include <unistd.h>

#include "PngWriter.h"
#include "engine/ClipTokenizer.h"
#include "engine/CudaDevices.h"
#include "engine/Devices.h"
#include "engine/EngineError.h"
#include "engine/Pipeline.h"
#include "engine/Safetensors.h"
#include "engine/Schedulers.h"

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
            const std::optional<at::ScalarType> dtype = parsePrecision(dtypeText.toStdString());
            if (!dtype) {
                throw UsageError{u"--dtype must be fp32, fp16 or bf16, got \"%1\""_s.arg(dtypeText)};
            }
            if (*dtype != at::kFloat && spec->kind == DeviceSpec::Kind::Cpu) {
                throw UsageError{u"--dtype %1 needs a CUDA device; the CPU runs fp32"_s.arg(dtypeText)};
            }
            return ModelPlacement::forDevice(device, *dtype);
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
                {u"steps"_s, u"Sampler steps."_s, u"n"_s, u"20"_s},
                {u"cfg"_s, u"Classifier-free guidance scale; 1 turns guidance off."_s, u"x"_s, u"7.5"_s},
                {u"width"_s, u"Image width in pixels (a multiple of 8)."_s, u"w"_s, u"512"_s},
                {u"height"_s, u"Image height in pixels (a multiple of 8)."_s, u"h"_s, u"512"_s},
                {u"scheduler"_s,
                 u"pndm, ddim, euler, euler_a, dpmpp_2m, dpmpp_2m_karras or lms. Default: the model's."_s, u"name"_s,
                 QString()},
                {u"device"_s, u"cpu or cuda:N."_s, u"device"_s, u"cpu"_s},
                {u"dtype"_s, u"fp32, or fp16/bf16 on CUDA."_s, u"dtype"_s, u"fp32"_s},
                {u"threads"_s, u"CPU threads for LibTorch (default: LibTorch's choice)."_s, u"n"_s, u"0"_s},
                {u"out"_s, u"The PNG to write."_s, u"file.png"_s},
                {u"latents-in"_s,
                 u"Start from these latents (safetensors, key \"latents\") instead of the seed's noise."_s, u"file"_s},
                {u"latents-out"_s, u"Also save the final latents (safetensors, key \"latents\")."_s, u"file"_s},
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
            const QString scheduler = parser.value(u"scheduler"_s);
            if (!scheduler.isEmpty()) {
                const auto names = schedulerNames();
                if (std::find(names.begin(), names.end(), scheduler.toStdString()) == names.end()) {
                    QStringList valid;
                    for (const auto name : names) {
                        valid.append(QString::fromUtf8(name.data(), static_cast<qsizetype>(name.size())));
                    }
                    throw UsageError{
                        u"--scheduler must be one of %1, got \"%2\""_s.arg(valid.join(u", "_s), scheduler)};
                }
            }

            GenerationSettings settings;
            settings.scheduler = scheduler.toStdString();
            settings.steps = parseNumber<int>(parser, u"steps"_s, 1, 1000);
            settings.guidanceScale = parseNumber<double>(parser, u"cfg"_s, 0.0, 100.0);
            settings.width = parseNumber<int>(parser, u"width"_s, 8, 8192);
            settings.height = parseNumber<int>(parser, u"height"_s, 8, 8192);
            const int threads = parseNumber<int>(parser, u"threads"_s, 0, 1024);
            ImageRequest request;
            request.prompt = parser.value(u"prompt"_s).toStdString();
            request.negativePrompt = parser.value(u"negative"_s).toStdString();
            request.seed = parseNumber<quint64>(parser, u"seed"_s, 0, std::numeric_limits<quint64>::max());
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
            const auto model = StableDiffusionModel::load(parser.value(u"model"_s).toStdString(),
                                                          clipVocabulary().toStdString(), placement);
            const bool showProgress = isatty(STDERR_FILENO) != 0;
            const GenerationResult result
                = Pipeline(model).generate({request}, settings, [&](const StepProgress& progress) {
                      if (showProgress) {
                          std::fprintf(stderr, "\rstep %d/%d", progress.step, progress.total);
                          std::fflush(stderr);
                      }
                      return true;
                  });
            if (showProgress) {
                std::fputc('\n', stderr);
            }

            const QString out = parser.value(u"out"_s);
            const QString error
                = writeRgbPng(out, result.images.const_data_ptr<std::uint8_t>(),
                              static_cast<int>(result.images.size(2)), static_cast<int>(result.images.size(1)));
            if (!error.isEmpty()) {
                throw EngineError(error.toStdString());
            }
            if (parser.isSet(u"latents-out"_s)) {
                writeSafetensors(parser.value(u"latents-out"_s).toStdString(), {{"latents", result.finalLatents}});
            }
            return 0;
        }
    } // namespace

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
