// SPDX-License-Identifier: GPL-3.0-or-later
// atelier: the desktop application. Without arguments it opens the main window.
#include <QApplication>
#include <QCommandLineParser>
#include <QDir>
#include <QFileInfo>
#include <QLocale>
#include <QProcess>
#include <QStandardPaths>
#include <QStatusBar>

#include <cstdio>
#include <cstdlib>
#include <memory>

#include "AppSettings.h"
#include "BuildInfo.h"
#include "GalleryPanel.h"
#include "MainWindow.h"
#include "QueueTableModel.h"
#include "Theme.h"
#include "ThumbnailCache.h"
#include "Translations.h"
#include "engine/ExtraNetworks.h"
#include "farm/FarmFolder.h"
#include "library/ImageLibrary.h"
#include "orchestration/BatchRunner.h"
#include "queue/QueueStore.h"
#include "render/Precision.h"
#include "render/RenderSettings.h"
#include "render/Samplers.h"

using namespace Qt::StringLiterals;

namespace
{
    // --version and --help must work over ssh and in CI, where there is no display to open a QApplication on.
    bool needsGui(int argc, char** argv)
    {
        if (argc > 1 && QByteArrayView(argv[1]) == "farm") {
            return false; // `atelier farm serve FILE`: headless
        }
        for (int i = 1; i < argc; ++i) {
            const QByteArrayView arg(argv[i]);
            if (arg == "--version" || arg == "-v" || arg == "--help" || arg == "-h" || arg == "--batch"
                || arg.startsWith("--batch=") || arg == "--list-devices") {
                return false;
            }
        }
        return true;
    }
} // namespace

int main(int argc, char** argv)
{
    std::unique_ptr<QCoreApplication> app = needsGui(argc, argv) ? std::make_unique<QApplication>(argc, argv)
                                                                 : std::make_unique<QCoreApplication>(argc, argv);
    QCoreApplication::setApplicationName(u"Atelier"_s);
    QCoreApplication::setOrganizationName(u"Atelier"_s);
    QCoreApplication::setApplicationVersion(Atelier::BuildInfo::atelierVersion());

    QCommandLineParser parser;
    parser.setApplicationDescription(u"Queue Stable Diffusion prompts and render them on every GPU at once."_s);
    parser.addHelpOption();
    const QCommandLineOption versionOption({u"v"_s, u"version"_s},
                                           u"Print Atelier's version and the versions it was built with."_s);
    parser.addOption(versionOption);
    const QCommandLineOption batchOption(u"batch"_s, u"Render every prompt of FILE without a window, then exit."_s,
                                         u"file"_s);
    const QCommandLineOption modelOption(u"model"_s, u"Model folder or single-file checkpoint (batch)."_s, u"path"_s);
    const QCommandLineOption devicesOption(u"devices"_s, u"cpu, cuda:0,cuda:1, cpu,cpu or all (batch)."_s, u"list"_s,
                                           u"cpu"_s);
    const QCommandLineOption outOption(u"out"_s, u"Output folder (batch)."_s, u"dir"_s, u"atelier-output"_s);
    const QCommandLineOption stepsOption(u"steps"_s, u"Default sampler steps (batch)."_s, u"n"_s);
    const QCommandLineOption cfgOption(u"cfg"_s, u"Default guidance scale (batch)."_s, u"x"_s);
    const QCommandLineOption widthOption(u"width"_s, u"Default width (batch)."_s, u"w"_s);
    const QCommandLineOption heightOption(u"height"_s, u"Default height (batch)."_s, u"h"_s);
    const QCommandLineOption schedulerOption(
        u"scheduler"_s, u"Default sampler: Atelier's name (euler_a) or AUTOMATIC1111's (\"Euler a\") (batch)."_s,
        u"name"_s);
    const QCommandLineOption dtypeOption(
        u"dtype"_s, u"Precision: auto (fp16 on CUDA, fp32 on the CPU), fp32, fp16 or bf16 (batch)."_s, u"precision"_s,
        u"auto"_s);
    const QCommandLineOption seedOption(u"seed"_s, u"Base seed for prompts without one (batch)."_s, u"n"_s);
    const QCommandLineOption threadsOption(u"threads"_s, u"CPU threads per worker (batch)."_s, u"n"_s);
    const QCommandLineOption jsonOption(u"json"_s, u"One JSON object per event on stdout (batch)."_s);
    const QCommandLineOption strictOption(u"strict"_s, u"Render nothing if the file has any problem (batch)."_s);
    const QCommandLineOption resumeOption(
        u"resume"_s,
        u"Continue the interrupted run of this file into this output folder; nothing is made twice (batch)."_s);
    const QCommandLineOption shardOption(
        u"shard"_s,
        u"Render only the K-th (from 0) of N static shards of the file into a shared --out folder; every shard "
        u"agrees on one plan there and a rerun makes only what is missing, e.g. --shard $SLURM_ARRAY_TASK_ID/8 "
        u"(batch)."_s,
        u"K/N"_s);
    const QCommandLineOption listenOption(
        u"listen"_s,
        u"Where the farm's coordinator listens (farm serve); default: this host's own address, a free port."_s,
        u"host:port"_s);
    const QCommandLineOption leaseTimeoutOption(
        u"lease-timeout"_s, u"A farm worker silent this long loses its image to another (farm serve; default 15000)."_s,
        u"ms"_s);
    const QCommandLineOption clipSkipOption(
        u"clip-skip"_s, u"Default Clip skip, as AUTOMATIC1111 counts it: 1 is CLIP's last layer (batch)."_s, u"n"_s);
    const QCommandLineOption loraOption(
        u"lora"_s, u"A LoRA every prompt renders with, as <lora:NAME:WEIGHT> would name it; repeatable (batch)."_s,
        u"name[:weight]"_s);
    const QCommandLineOption loraDirOption(
        u"lora-dir"_s, u"A folder to find LoRAs in by name, before the usual ones; repeatable (batch)."_s, u"dir"_s);
    const QCommandLineOption vaeOption(u"vae"_s,
                                       u"Default VAE instead of the model's: a single-file VAE or a diffusers vae/ "
                                       "folder, by path or by name in the VAE folders (batch)."_s,
                                       u"name|path"_s);
    const QCommandLineOption vaeDirOption(
        u"vae-dir"_s, u"A folder to find VAEs in by name, before the usual ones; repeatable (batch)."_s, u"dir"_s);
    const QCommandLineOption initImageOption(
        u"init-image"_s, u"Default init image: prompts render image to image from it, resized to their size (batch)."_s,
        u"file"_s);
    const QCommandLineOption strengthOption(
        u"strength"_s, u"Default denoising strength of image to image and of the hires fix's second pass (batch)."_s,
        u"x"_s);
    // A1111 has one denoising strength for both; the second name matches atelier-worker generate's.
    const QCommandLineOption hiresStrengthOption(u"hires-strength"_s, u"The same as --strength (batch)."_s, u"x"_s);
    const QCommandLineOption hiresScaleOption(
        u"hires-scale"_s, u"Default hires fix: render, then again at this many times the size; 1 is off (batch)."_s,
        u"f"_s);
    const QCommandLineOption hiresStepsOption(u"hires-steps"_s,
                                              u"Default hires fix steps; 0 is the first pass's (batch)."_s, u"n"_s);
    const QCommandLineOption hiresUpscalerOption(
        u"hires-upscaler"_s, u"Default hires fix upscaler: Latent or Lanczos (batch)."_s, u"name"_s);
    const QCommandLineOption embeddingsDirOption(
        u"embeddings-dir"_s,
        u"A folder of textual-inversion embeddings prompts may name, before the usual ones; repeatable (batch)."_s,
        u"dir"_s);
    const QCommandLineOption listDevicesOption(u"list-devices"_s, u"List the devices workers can run on."_s);
    const QCommandLineOption renderOption(u"render"_s,
                                          u"Open the window with the files queued and start rendering at once."_s);
    parser.addOptions({batchOption,      modelOption,         devicesOption,       outOption,
                       stepsOption,      cfgOption,           widthOption,         heightOption,
                       schedulerOption,  dtypeOption,         seedOption,          threadsOption,
                       jsonOption,       strictOption,        resumeOption,        clipSkipOption,
                       loraOption,       loraDirOption,       embeddingsDirOption, vaeOption,
                       vaeDirOption,     initImageOption,     strengthOption,      hiresScaleOption,
                       hiresStepsOption, hiresUpscalerOption, hiresStrengthOption, listDevicesOption,
                       renderOption,     shardOption,         listenOption,        leaseTimeoutOption});
    parser.addPositionalArgument(u"files"_s, u"Prompt files to queue (.txt, .csv, .json, .jsonl)."_s, u"[files...]"_s);
    parser.process(*app);

    if (parser.isSet(versionOption)) {
        std::fputs(qPrintable(Atelier::BuildInfo::versionReport(u"atelier"_s)), stdout);
        return 0;
    }

    const QString workerProgram = QCoreApplication::applicationDirPath() + u"/atelier-worker"_s;
    if (parser.isSet(listDevicesOption)) {
        QProcess list;
        list.setProcessChannelMode(QProcess::ForwardedChannels);
        list.start(workerProgram, {u"--list-devices"_s});
        return list.waitForFinished(60000) ? list.exitCode() : 1;
    }
    // `atelier farm serve FILE`: the farm's coordinator, with --batch's options (docs/FARM.md).
    const QStringList positional = parser.positionalArguments();
    const bool farmServe = positional.size() >= 1 && positional.at(0) == u"farm"_s;
    if (farmServe && (positional.size() != 3 || positional.at(1) != u"serve"_s)) {
        std::fputs("atelier: usage: atelier farm serve FILE --out SHARED_DIR [--listen HOST:PORT] [--batch options]\n",
                   stderr);
        return 2;
    }
    if (parser.isSet(batchOption) || farmServe) {
        Atelier::BatchOptions batch;
        batch.file = farmServe ? positional.at(2) : parser.value(batchOption);
        batch.workerProgram = workerProgram;
        batch.modelPath = parser.value(modelOption);
        batch.devices = parser.value(devicesOption);
        batch.outputDirectory = parser.value(outOption);
        batch.json = parser.isSet(jsonOption);
        batch.strict = parser.isSet(strictOption);
        batch.resume = parser.isSet(resumeOption);
        // Every value is checked here, against the render model's limits, before anything starts: a typo must not
        // silently render a whole batch wrong, or fail it job by job.
        QStringList problems;
        auto whole = [&](const QCommandLineOption& option, auto check) -> std::optional<qint64> {
            if (!parser.isSet(option)) {
                return std::nullopt;
            }
            const QString name = u"--"_s + option.names().constFirst();
            bool ok = false;
            const qint64 value = parser.value(option).toLongLong(&ok);
            const QString problem
                = ok ? check(value, name) : u"%1 must be a whole number, not \"%2\""_s.arg(name, parser.value(option));
            if (!problem.isEmpty()) {
                problems.append(problem);
                return std::nullopt;
            }
            return value;
        };
        if (const auto steps = whole(stepsOption, &Atelier::RenderChecks::steps)) {
            batch.defaults.steps = static_cast<int>(*steps);
        }
        if (const auto width = whole(widthOption, &Atelier::RenderChecks::side)) {
            batch.defaults.width = static_cast<int>(*width);
        }
        if (const auto height = whole(heightOption, &Atelier::RenderChecks::side)) {
            batch.defaults.height = static_cast<int>(*height);
        }
        if (const auto clipSkip = whole(clipSkipOption, [](qint64 value, const QString& name) {
                return Atelier::RenderChecks::clipSkip(value, name);
            })) {
            batch.defaults.clipSkip = static_cast<int>(*clipSkip);
        }
        if (const auto threads = whole(threadsOption, [](qint64 value, const QString& name) {
                return value >= 1 && value <= 1024 ? QString() : u"%1 must be from 1 to 1024"_s.arg(name);
            })) {
            batch.threadsPerWorker = static_cast<int>(*threads);
        }
        if (parser.isSet(cfgOption)) {
            bool ok = false;
            const double cfg = parser.value(cfgOption).toDouble(&ok);
            const QString problem = ok ? Atelier::RenderChecks::cfgScale(cfg, u"--cfg")
                                       : u"--cfg must be a number, not \"%1\""_s.arg(parser.value(cfgOption));
            if (problem.isEmpty()) {
                batch.defaults.cfgScale = cfg;
            } else {
                problems.append(problem);
            }
        }
        if (parser.isSet(schedulerOption)) {
            const QString sampler = Atelier::samplerFromName(parser.value(schedulerOption));
            if (sampler.isEmpty()) {
                problems.append(Atelier::unknownSamplerMessage(parser.value(schedulerOption), u"--scheduler"));
            } else {
                batch.defaults.scheduler = sampler;
            }
        }
        if (const auto precision = Atelier::parsePrecision(parser.value(dtypeOption))) {
            batch.precision = *precision;
        } else {
            problems.append(u"--dtype must be auto, fp32, fp16 or bf16, not \"%1\""_s.arg(parser.value(dtypeOption)));
        }
        if (parser.isSet(seedOption)) {
            bool ok = false;
            batch.seed = parser.value(seedOption).toULongLong(&ok);
            if (!ok) {
                problems.append(u"--seed must be a whole number from 0 to 18446744073709551615, not \"%1\""_s.arg(
                    parser.value(seedOption)));
            }
        }
        batch.loraFolders = parser.values(loraDirOption);
        batch.embeddingFolders = parser.values(embeddingsDirOption);
        batch.vaeFolders = parser.values(vaeDirOption);
        if (parser.isSet(vaeOption)) {
            // A path is made absolute, as workers run elsewhere; anything else is a name for the VAE folders.
            const QString vae = parser.value(vaeOption);
            batch.defaults.vae = QFileInfo::exists(vae) ? QFileInfo(vae).absoluteFilePath() : vae;
        }
        if (parser.isSet(initImageOption)) {
            const QFileInfo init(parser.value(initImageOption));
            if (!init.isFile()) {
                problems.append(u"--init-image: \"%1\" is not a file"_s.arg(parser.value(initImageOption)));
            } else {
                batch.defaults.initImage = init.absoluteFilePath();
            }
        }
        auto number = [&](const QCommandLineOption& option, auto check) -> std::optional<double> {
            if (!parser.isSet(option)) {
                return std::nullopt;
            }
            double value = 0;
            if (const QString problem = check(parser.value(option), u"--"_s + option.names().constFirst(), &value);
                !problem.isEmpty()) {
                problems.append(problem);
                return std::nullopt;
            }
            return value;
        };
        batch.defaults.denoisingStrength = number(strengthOption, &Atelier::RenderChecks::denoisingStrengthText);
        if (const auto hiresStrength = number(hiresStrengthOption, &Atelier::RenderChecks::denoisingStrengthText)) {
            if (batch.defaults.denoisingStrength && *batch.defaults.denoisingStrength != *hiresStrength) {
                problems.append(u"--strength and --hires-strength set the same denoising strength; give one"_s);
            }
            batch.defaults.denoisingStrength = hiresStrength;
        }
        batch.defaults.hiresScale = number(hiresScaleOption, &Atelier::RenderChecks::hiresScaleText);
        if (parser.isSet(hiresStepsOption)) {
            int steps = 0;
            if (const QString problem
                = Atelier::RenderChecks::hiresStepsText(parser.value(hiresStepsOption), u"--hires-steps", &steps);
                !problem.isEmpty()) {
                problems.append(problem);
            } else {
                batch.defaults.hiresSteps = steps;
            }
        }
        if (parser.isSet(hiresUpscalerOption)) {
            const QString upscaler = Atelier::hiresUpscalerFromName(parser.value(hiresUpscalerOption));
            if (upscaler.isEmpty()) {
                problems.append(
                    Atelier::unknownHiresUpscalerMessage(parser.value(hiresUpscalerOption), u"--hires-upscaler"));
            } else {
                batch.defaults.hiresUpscaler = upscaler;
            }
        }
        for (const QString& lora : parser.values(loraOption)) {
            // It becomes a prompt tag, so its name cannot hold what ends a tag or separates its fields.
            const std::optional<Atelier::Engine::LoraTag> tag = Atelier::Engine::parseLoraArgument(lora.toStdString());
            if (!tag || tag->name.find_first_of(":<>") != std::string::npos) {
                problems.append(
                    u"--lora must be NAME[:WEIGHT] (a name or path without ':', '<' or '>'), not \"%1\""_s.arg(lora));
            } else {
                batch.loras.append(lora);
            }
        }
        if (parser.isSet(shardOption)) {
            if (const QString problem = Atelier::parseShard(parser.value(shardOption), &batch.shard, &batch.shards);
                !problem.isEmpty()) {
                problems.append(problem);
            }
        }
        if (!problems.isEmpty()) {
            for (const QString& problem : problems) {
                std::fprintf(stderr, "atelier: %s\n", qPrintable(problem));
            }
            return 2;
        }
        if (farmServe) {
            Atelier::FarmServeOptions farm;
            farm.listen = parser.value(listenOption);
            if (parser.isSet(leaseTimeoutOption)) {
                bool ok = false;
                farm.leaseTimeoutMs = parser.value(leaseTimeoutOption).toInt(&ok);
                if (!ok || farm.leaseTimeoutMs < 1000 || farm.leaseTimeoutMs > 3600000) {
                    std::fprintf(stderr,
                                 "atelier: --lease-timeout must be milliseconds from 1000 to 3600000, not \"%s\"\n",
                                 qPrintable(parser.value(leaseTimeoutOption)));
                    return 2;
                }
            }
            return Atelier::runFarmServe(batch, farm);
        }
        return Atelier::runBatch(batch);
    }

    Atelier::installTranslations(QLocale::system());
    Atelier::applyTheme(Atelier::AppSettings::load().theme);
    // The queue lives in the data folder's store: what was queued, or running when Atelier last ended (even by a
    // crash), comes back, the interrupted items first.
    Atelier::QueueStore store;
    QString storeProblem = Atelier::openQueueStore(store, Atelier::defaultQueueStorePath());
    if (!storeProblem.isEmpty()) {
        // Rendering still works; only durability is lost, and the artist is told so.
        store.open(u":memory:"_s);
    }
    Atelier::ThumbnailCache thumbnails;
    Atelier::QueueTableModel queue(&store, &thumbnails);
    Atelier::MainWindow window(&queue, &thumbnails, Atelier::defaultImageLibraryPath());
    window.show();
    if (!window.gallery()->libraryError().isEmpty()) {
        window.statusBar()->showMessage(QCoreApplication::translate("main", "The image library cannot be opened: %1")
                                            .arg(window.gallery()->libraryError()));
    }
    if (!storeProblem.isEmpty()) {
        window.statusBar()->showMessage(
            QCoreApplication::translate("main", "The queue cannot be kept on disk: %1").arg(storeProblem));
    }
    if (!parser.positionalArguments().isEmpty()) {
        window.importFiles(parser.positionalArguments());
    }
    if (parser.isSet(renderOption)) {
        window.startRenderingWhenReady();
    }
    return app->exec();
}
