// SPDX-License-Identifier: GPL-3.0-or-later
#include "BatchRunner.h"

#include <QCoreApplication>
#include <QDateTime>
#include <QDir>
#include <QElapsedTimer>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QRandomGenerator>
#include <QRegularExpression>
#include <QSaveFile>
#include <QSet>
#include <QTimer>

#include <atomic>
#include <csignal>
#include <cstdio>
#include <unistd.h>

#include "AppSettings.h"
#include "import/PromptImport.h"
#include "library/ImageLibrary.h"
#include "orchestration/Coordinator.h"
#include "orchestration/WorkerListener.h"
#include "queue/QueueModel.h"
#include "queue/QueueStore.h"
#include "render/ModelCheck.h"
#include "render/ModelDiscovery.h"
#include "render/OutputNaming.h"

using namespace Qt::StringLiterals;

namespace Atelier
{
    namespace
    {
        std::atomic<int> g_interrupt{0}; ///< the first SIGINT/SIGTERM
        std::atomic<int> g_interrupts{0}; ///< how many arrived

        extern "C" void onInterrupt(int signal)
        {
            int none = 0;
            g_interrupt.compare_exchange_strong(none, signal);
            g_interrupts.fetch_add(1);
        }

        /// Catches SIGINT and SIGTERM for its lifetime (handlers may only set flags; the event loop polls them).
        class InterruptGuard
        {
        public:
            InterruptGuard()
            {
                g_interrupt.store(0);
                g_interrupts.store(0);
                std::signal(SIGINT, onInterrupt);
                std::signal(SIGTERM, onInterrupt);
            }
            ~InterruptGuard()
            {
                std::signal(SIGINT, SIG_DFL);
                std::signal(SIGTERM, SIG_DFL);
            }
            InterruptGuard(const InterruptGuard&) = delete;
            InterruptGuard& operator=(const InterruptGuard&) = delete;

            static int signal() { return g_interrupt.load(); }
            static int count() { return g_interrupts.load(); }
            /// 130 after SIGINT, 143 after SIGTERM, as shells report them.
            static int exitCode() { return 128 + signal(); }
        };

        void printLine(FILE* stream, const QString& line)
        {
            std::fputs(qPrintable(line + u'\n'), stream);
            std::fflush(stream);
        }

        void printJson(const QJsonObject& event)
        {
            printLine(stdout, QString::fromUtf8(QJsonDocument(event).toJson(QJsonDocument::Compact)));
        }

        const QString ManifestFolder = u".atelier-runs"_s;

        /// The run a manifest describes.
        struct Manifest
        {
            QString run;
            QString file;
            QString store;
            QDateTime created;
        };

        QString writeManifest(const QString& outputDirectory, const Manifest& manifest, const QStringList& keys)
        {
            const QString folder = QDir(outputDirectory).filePath(ManifestFolder);
            if (!QDir().mkpath(folder)) {
                return u"cannot create %1"_s.arg(folder);
            }
            QSaveFile file(QDir(folder).filePath(manifest.run + u".json"_s));
            if (!file.open(QIODevice::WriteOnly)) {
                return u"cannot write %1: %2"_s.arg(file.fileName(), file.errorString());
            }
            const QJsonObject json{{u"version"_s, 1},
                                   {u"run"_s, manifest.run},
                                   {u"file"_s, manifest.file},
                                   {u"store"_s, manifest.store},
                                   {u"created"_s, manifest.created.toString(Qt::ISODateWithMs)},
                                   {u"items"_s, QJsonArray::fromStringList(keys)}};
            file.write(QJsonDocument(json).toJson());
            if (!file.commit()) {
                return u"cannot write %1: %2"_s.arg(file.fileName(), file.errorString());
            }
            return {};
        }

        /// The newest manifest in @p outputDirectory for @p file, or nothing.
        std::optional<Manifest> findManifest(const QString& outputDirectory, const QString& file)
        {
            const QDir folder(QDir(outputDirectory).filePath(ManifestFolder));
            std::optional<Manifest> newest;
            for (const QFileInfo& entry : folder.entryInfoList({u"*.json"_s}, QDir::Files)) {
                QFile in(entry.filePath());
                if (entry.size() > 64 * 1024 * 1024 || !in.open(QIODevice::ReadOnly)) {
                    continue;
                }
                const QJsonObject json = QJsonDocument::fromJson(in.readAll()).object();
                Manifest m{json.value(u"run"_s).toString(), json.value(u"file"_s).toString(),
                           json.value(u"store"_s).toString(),
                           QDateTime::fromString(json.value(u"created"_s).toString(), Qt::ISODateWithMs)};
                if (m.file == file && !m.run.isEmpty() && (!newest || m.created > newest->created)) {
                    newest = m;
                }
            }
            return newest;
        }

        /// Makes the store's queue for the run hold exactly the file's items: those already there keep their state
        /// (Failed ones get a new chance), new ones are added, those the file no longer has are canceled. Returns
        /// an empty string or why not.
        QString reconcile(QueueStore& store, const QString& queue, const QList<RenderSettings>& jobs,
                          const QStringList& keys, const QString& file)
        {
            QHash<QString, QueueItem> known;
            for (const QueueItem& item : store.items(queue)) {
                known.insert(item.key, item);
            }
            QList<RenderSettings> added;
            QStringList addedKeys;
            QList<qint64> retried;
            QSet<QString> wanted;
            for (qsizetype i = 0; i < jobs.size(); ++i) {
                wanted.insert(keys.at(i));
                const auto it = known.constFind(keys.at(i));
                if (it == known.constEnd()) {
                    added.append(jobs.at(i));
                    addedKeys.append(keys.at(i));
                } else if (it->state == ItemState::Failed || it->state == ItemState::Canceled) {
                    retried.append(it->id);
                }
            }
            QList<qint64> dropped;
            for (const QueueItem& item : std::as_const(known)) {
                if (!wanted.contains(item.key) && item.state == ItemState::Queued) {
                    dropped.append(item.id);
                }
            }
            if (!retried.isEmpty() && !store.requeue(retried)) {
                return store.error();
            }
            if (!dropped.isEmpty() && !store.cancel(dropped, u"no longer in %1"_s.arg(file))) {
                return store.error();
            }
            if (!added.isEmpty() && !store.add(queue, added, false, addedKeys)) {
                return store.error();
            }
            return {};
        }
    } // namespace

    QStringList resolveDevices(const QString& devices, const QString& workerProgram, QString* error)
    {
        static const QRegularExpression valid(u"^(cpu|cuda:\\d+)$"_s);
        if (devices == u"all"_s) {
            QProcess list;
            list.start(workerProgram, {u"--list-devices"_s});
            if (!list.waitForFinished(60000) || list.exitCode() != 0) {
                *error = u"cannot list devices with %1"_s.arg(workerProgram);
                return {};
            }
            QStringList cuda;
            for (const QString& line : QString::fromUtf8(list.readAllStandardOutput()).split(u'\n')) {
                const QString id = line.section(u' ', 0, 0);
                if (id.startsWith(u"cuda:"_s)) {
                    cuda.append(id);
                }
            }
            return cuda.isEmpty() ? QStringList{u"cpu"_s} : cuda;
        }
        QStringList result;
        for (const QString& device : devices.split(u',', Qt::SkipEmptyParts)) {
            const QString trimmed = device.trimmed();
            if (!valid.match(trimmed).hasMatch()) {
                *error = u"--devices: \"%1\" is not cpu, cuda:N or all"_s.arg(trimmed);
                return {};
            }
            result.append(trimmed);
        }
        if (result.isEmpty()) {
            *error = u"--devices names no device"_s;
        }
        return result;
    }

    int runBatch(const BatchOptions& options)
    {
        // First, so that an interrupt during the checks below is honoured too.
        const InterruptGuard interrupts;
        auto fail = [&](const QString& message) {
            printLine(stderr, u"atelier: "_s + message);
            if (options.json) {
                printJson({{u"event"_s, u"error"_s}, {u"message"_s, message}});
            }
            // A Ctrl-C meanwhile reaches a device listing too, which then "fails": the interrupt is the news.
            return InterruptGuard::signal() != 0 ? InterruptGuard::exitCode() : 2;
        };
        ImportOptions importOptions;
        importOptions.strict = options.strict;
        importOptions.baseSeed = options.seed;
        ImportResult imported = importPromptFile(options.file, importOptions);
        // --lora applies to every item as the tags an artist would have typed (checked by the caller).
        for (RenderSettings& job : imported.jobs) {
            for (const QString& lora : options.loras) {
                job.prompt += (job.prompt.isEmpty() ? u"<lora:"_s : u" <lora:"_s) + lora + u'>';
            }
        }
        for (const ImportIssue& issue : imported.issues) {
            if (options.json) {
                printJson({{u"event"_s, u"import-problem"_s},
                           {u"file"_s, issue.file},
                           {u"line"_s, issue.line},
                           {u"field"_s, issue.field},
                           {u"message"_s, issue.message}});
            }
            printLine(stderr, issue.toString());
        }
        if (imported.aborted) {
            return fail(u"%1: nothing rendered (--strict and %2 problem(s) found)"_s.arg(options.file)
                            .arg(imported.issues.size()));
        }
        if (imported.jobs.isEmpty()) {
            return fail(imported.issues.isEmpty() ? u"%1: the file holds no prompt"_s.arg(options.file)
                                                  : u"%1: no line of the file can be rendered"_s.arg(options.file));
        }
        QString error;
        const QStringList devices = resolveDevices(options.devices, options.workerProgram, &error);
        if (devices.isEmpty()) {
            return fail(error);
        }
        for (const QString& device : devices) {
            if (!resolvePrecision(options.precision, device, &error)) {
                return fail(u"--dtype "_s + error);
            }
        }
        if (!options.modelPath.isEmpty()) {
            if (const QString problem = checkModelPath(options.modelPath); !problem.isEmpty()) {
                return fail(problem);
            }
        }
        if (const QString vae = options.defaults.vae.value_or(QString()); QFileInfo::exists(vae)) {
            // A path is checked now; a name is looked up by the workers, and one that is missing fails each item.
            // A diffusers vae/ folder has its config; a file gets the model file's checks (no pickle, no FIFO).
            const QFileInfo info(vae);
            const QString problem = info.isDir() ? (QFileInfo(QDir(vae).filePath(u"config.json"_s)).isFile()
                                                        ? QString()
                                                        : u"%1: a VAE folder needs its config.json"_s.arg(vae))
                                                 : checkModelPath(vae);
            if (!problem.isEmpty()) {
                return fail(u"--vae: "_s + problem);
            }
        }
        if (const QString problem = prepareOutputDirectory(options.outputDirectory); !problem.isEmpty()) {
            return fail(problem);
        }
        if (InterruptGuard::signal() != 0) {
            printLine(stderr, u"atelier: interrupted before any worker started; nothing rendered"_s);
            return InterruptGuard::exitCode();
        }

        // The run's items go to the durable queue before any worker starts; the manifest ties this folder to them.
        const QString file = QFileInfo(options.file).absoluteFilePath();
        const QString storePath = options.storePath.isEmpty() ? defaultQueueStorePath() : options.storePath;
        QueueStore store;
        if (const QString problem = store.open(storePath); !problem.isEmpty()) {
            return fail(u"the queue store: "_s + problem);
        }
        const QStringList keys = contentKeys(imported.jobs);
        Manifest manifest;
        if (options.resume) {
            const std::optional<Manifest> found = findManifest(options.outputDirectory, file);
            if (!found) {
                return fail(u"--resume: %1 holds no run of %2 to continue"_s.arg(
                    QDir(options.outputDirectory).absolutePath(), file));
            }
            manifest = *found;
            const QString queue = u"batch:"_s + manifest.run;
            if (store.items(queue).isEmpty()) {
                return fail(
                    u"--resume: the queue store %1 has no record of run %2 (started with another data folder?)"_s.arg(
                        storePath, manifest.run));
            }
            if (store.recover(
                    queue, [](const QueueItem& item) { return isCompleteImage(item.imagePath); }, DefaultMaxAttempts)
                < 0) {
                return fail(u"the queue store: "_s + store.error());
            }
            if (const QString problem = reconcile(store, queue, imported.jobs, keys, file); !problem.isEmpty()) {
                return fail(u"the queue store: "_s + problem);
            }
        } else {
            if (const std::optional<Manifest> earlier = findManifest(options.outputDirectory, file)) {
                if (store.count(u"batch:"_s + earlier->run, ItemState::Queued) > 0) {
                    printLine(stderr,
                              u"atelier: an earlier run of this file into this folder did not finish; "
                              u"--resume continues it (this run starts anew)"_s);
                }
            }
            manifest.run = QString::fromLatin1(QByteArray::number(QRandomGenerator::system()->generate64(), 16));
            manifest.created = QDateTime::currentDateTimeUtc();
            if (!store.add(u"batch:"_s + manifest.run, imported.jobs, false, keys)) {
                return fail(u"the queue store: "_s + store.error());
            }
        }
        manifest.file = file;
        manifest.store = storePath;
        if (const QString problem = writeManifest(options.outputDirectory, manifest, keys); !problem.isEmpty()) {
            return fail(problem);
        }
        const QString queueName = u"batch:"_s + manifest.run;
        // What a crash of an earlier run left: temporary files of workers killed mid-write (not images), and the
        // private socket folders of coordinators that were killed.
        removeStaleTemporaryImages(options.outputDirectory);
        WorkerListener::removeStalePrivateDirectories();
        QueueModel queue(&store, queueName);
        const qsizetype madeEarlier = store.count(queueName, ItemState::Done);
        if (queue.waitingCount() == 0) {
            printLine(stderr,
                      u"%1 of %1 images of %2 were already made; nothing left to render"_s.arg(madeEarlier)
                          .arg(options.file));
            return imported.issues.isEmpty() ? 0 : 1;
        }

        // The window's gallery shows what a batch renders: each image goes into the image library as it is written,
        // and the folder is one the gallery watches from then on. Neither is needed to render, so a problem with
        // them is said once and the batch goes on.
        ImageLibrary library;
        const QString libraryPath = options.libraryPath.isEmpty() ? defaultImageLibraryPath() : options.libraryPath;
        bool indexing = options.libraryPath != u"-"_s;
        if (indexing) {
            if (const QString problem = library.open(libraryPath); !problem.isEmpty()) {
                printLine(stderr, u"images will not be in the gallery: %1"_s.arg(problem));
                indexing = false;
            } else {
                AppSettings::addLibraryFolder(options.outputDirectory);
            }
        }

        CoordinatorOptions run;
        run.workerProgram = options.workerProgram;
        run.devices = devices;
        run.modelPath = options.modelPath;
        const ModelLocations locations = ModelLocations::fromEnvironment();
        run.loraFolders = locations.loraFolders(options.loraFolders);
        run.embeddingFolders = locations.embeddingFolders(options.embeddingFolders);
        run.vaeFolders = locations.vaeFolders(options.vaeFolders);
        run.outputDirectory = QDir(options.outputDirectory).absolutePath();
        run.threadsPerWorker = options.threadsPerWorker;
        run.defaults = options.defaults;
        run.precision = options.precision;
        Coordinator coordinator(run);
        coordinator.setQueue(&queue);

        const qsizetype total = queue.waitingCount();
        const bool live = !options.json && isatty(STDOUT_FILENO) != 0;
        qsizetype done = 0, failed = 0;
        QHash<int, QString> perDevice; // rank -> "job 3 step 5/20, 2.1 it/s"
        QElapsedTimer clock;
        clock.start();
        auto redraw = [&] {
            // One status line per device and one overall, rewritten in place.
            QString text = u"\r\x1b[J"_s;
            for (int rank = 0; rank < devices.size(); ++rank) {
                text += u"[%1 %2] %3\n"_s.arg(rank).arg(devices.at(rank), perDevice.value(rank, u"idle"_s));
            }
            const double elapsed = clock.elapsed() / 1000.0;
            const double eta = done > 0 ? elapsed / done * (total - done - failed) : 0;
            text += u"%1/%2 images, %3 failed, %4 s elapsed, ETA %5 s"_s.arg(done)
                        .arg(total)
                        .arg(failed)
                        .arg(elapsed, 0, 'f', 0)
                        .arg(eta, 0, 'f', 0);
            std::fputs(qPrintable(text), stdout);
            std::fprintf(stdout, "\x1b[%dA", static_cast<int>(devices.size()));
            std::fflush(stdout);
        };

        QObject::connect(&coordinator, &Coordinator::jobStarted, [&](qint64 id, int rank) {
            if (options.json) {
                printJson({{u"event"_s, u"started"_s}, {u"job"_s, id}, {u"rank"_s, rank}});
            }
        });
        QObject::connect(
            &coordinator, &Coordinator::jobProgress, [&](qint64 id, int rank, int step, int steps, double itps) {
                if (options.json) {
                    printJson({{u"event"_s, u"progress"_s},
                               {u"job"_s, id},
                               {u"rank"_s, rank},
                               {u"step"_s, step},
                               {u"total"_s, steps},
                               {u"itps"_s, itps}});
                } else if (live) {
                    perDevice[rank] = u"job %1 step %2/%3, %4 it/s"_s.arg(id).arg(step).arg(steps).arg(itps, 0, 'f', 2);
                    redraw();
                }
            });
        QObject::connect(&coordinator, &Coordinator::jobFinished, [&](qint64 id, const QString& path) {
            ++done;
            if (indexing && !library.addFile(path)) {
                printLine(stderr, u"images will not be in the gallery: %1"_s.arg(library.error()));
                indexing = false;
            }
            if (options.json) {
                printJson({{u"event"_s, u"done"_s}, {u"job"_s, id}, {u"path"_s, path}});
            } else if (live) {
                redraw();
            } else {
                printLine(stdout, u"done %1/%2: %3"_s.arg(done).arg(total).arg(path));
            }
        });
        QObject::connect(&coordinator, &Coordinator::jobCanceled, [&](qint64 id, const QString& reason) {
            if (options.json) {
                printJson({{u"event"_s, u"canceled"_s}, {u"job"_s, id}, {u"reason"_s, reason}});
            }
        });
        QObject::connect(&coordinator, &Coordinator::jobFailed, [&](qint64 id, const QString& reason, bool retry) {
            failed += retry ? 0 : 1;
            if (options.json) {
                printJson({{u"event"_s, retry ? u"retry"_s : u"failed"_s}, {u"job"_s, id}, {u"reason"_s, reason}});
            } else if (!live) {
                printLine(stderr, u"job %1 %2: %3"_s.arg(id).arg(retry ? u"will be retried"_s : u"failed"_s, reason));
            }
        });
        QObject::connect(&coordinator, &Coordinator::workerEvent, [&](int rank, const QString& message) {
            if (options.json) {
                printJson({{u"event"_s, u"worker"_s}, {u"rank"_s, rank}, {u"message"_s, message}});
            } else if (!live) {
                printLine(stderr, u"worker %1: %2"_s.arg(rank).arg(message));
            }
        });

        // The first interrupt stops the run (workers get stopGrace to go, then are killed); a second one kills them
        // at once.
        int interruptsSeen = 0;
        QTimer poll;
        QObject::connect(&poll, &QTimer::timeout, [&] {
            const int count = InterruptGuard::count();
            if (count == interruptsSeen) {
                return;
            }
            if (interruptsSeen == 0) {
                printLine(stderr,
                          count > 1 ? u"atelier: interrupted; stopping the workers now"_s
                                    : u"atelier: interrupted; stopping (interrupt again to stop at once)"_s);
            }
            interruptsSeen = count;
            if (count > 1) {
                coordinator.kill();
            } else {
                coordinator.stop();
            }
        });
        poll.start(100);

        QObject::connect(&coordinator, &Coordinator::finished, QCoreApplication::instance(), &QCoreApplication::quit);
        if (const QString startError = coordinator.start(); !startError.isEmpty()) {
            printLine(stderr, u"atelier: "_s + startError);
            return 2;
        }
        QCoreApplication::exec();
        poll.stop();
        if (live) {
            std::fprintf(stdout, "\x1b[%dB\n", static_cast<int>(devices.size()));
        }

        // The store is the record of the run: what is not done there is not made, whatever the workers said.
        QStringList notDone;
        qsizetype made = 0;
        const QList<QueueItem> items = store.items(queueName);
        for (const QueueItem& item : items) {
            if (item.state == ItemState::Done) {
                ++made;
            } else if (item.state != ItemState::Canceled) { // canceled: the file no longer has it
                notDone.append(u"  #%1 \"%2\": %3 (%4)"_s.arg(item.id).arg(
                    excerpt(item.settings.prompt), itemStateName(item.state),
                    item.lastError.isEmpty() ? u"not started"_s : item.lastError));
            }
        }
        const qsizetype rendered = made - madeEarlier;
        const QString summary
            = u"%1 of %2 images written to %3%6; %4 not made; %5 problem(s) in the file"_s.arg(rendered)
                  .arg(total)
                  .arg(QDir(options.outputDirectory).absolutePath())
                  .arg(notDone.size())
                  .arg(imported.issues.size())
                  .arg(madeEarlier > 0 ? u" (%1 made earlier)"_s.arg(madeEarlier) : QString());
        if (options.json) {
            printJson({{u"event"_s, u"summary"_s},
                       {u"images"_s, rendered},
                       {u"prompts"_s, total},
                       {u"not_made"_s, notDone.size()},
                       {u"file_problems"_s, imported.issues.size()},
                       {u"interrupted"_s, InterruptGuard::signal() != 0}});
        }
        printLine(stderr, summary);
        for (const QString& line : notDone) {
            printLine(stderr, line);
        }
        if (!notDone.isEmpty()) {
            // Nothing is lost: the items wait in the queue store (a full disk, say, can be cleared first).
            printLine(stderr, u"atelier: to make what is missing, run the same command with --resume"_s);
        }
        if (InterruptGuard::signal() != 0) {
            return InterruptGuard::exitCode();
        }
        return notDone.isEmpty() && imported.issues.isEmpty() ? 0 : 1;
    }
} // namespace Atelier
