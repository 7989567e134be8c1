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

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <unistd.h>

#include "AppSettings.h"
#include "farm/FarmFolder.h"
#include "import/PromptImport.h"
#include "library/ImageLibrary.h"
#include "orchestration/BatchConsole.h"
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

        /// The farm plan for @p jobs, the same whether a shard or a farm coordinator publishes it first: its run id,
        /// seeds and names, and what the nodes render with, as paths on the shared file system.
        FarmManifest planFor(const BatchOptions& options, const QList<RenderSettings>& jobs)
        {
            FarmManifest plan = FarmFolder::plan(FarmFolder::runIdFor(jobs, options.modelPath, options.defaults),
                                                 options.file, jobs, nextImageNumber(options.outputDirectory),
                                                 QString(), modelShortName(options.modelPath), options.defaults);
            const ModelLocations locations = ModelLocations::fromEnvironment();
            plan.model = options.modelPath.isEmpty() ? QString() : QFileInfo(options.modelPath).absoluteFilePath();
            plan.loraFolders = locations.loraFolders(options.loraFolders);
            plan.embeddingFolders = locations.embeddingFolders(options.embeddingFolders);
            plan.vaeFolders = locations.vaeFolders(options.vaeFolders);
            return plan;
        }

        /// A --shard run's items: the plan in the output folder (published by whichever shard came first), those of
        /// this shard whose images are not committed yet, in a private in-memory queue, each with its planned image
        /// path. Returns an empty string or why not.
        QString prepareShard(const BatchOptions& options, const QList<RenderSettings>& jobs, QueueStore& store,
                             QString* queueName, qsizetype* madeEarlier)
        {
            if (options.resume) {
                return u"--resume does not go with --shard: a shard run again makes what it lacks"_s;
            }
            const FarmFolder folder(options.outputDirectory);
            FarmManifest plan = planFor(options, jobs);
            if (const QString problem = folder.publish(plan); !problem.isEmpty()) {
                return problem;
            }
            folder.removeLeftovers(plan);
            const QList<qint64> left = folder.missing(plan, options.shard, options.shards);
            const auto mine = std::count_if(plan.items.cbegin(), plan.items.cend(), [&](const FarmItem& item) {
                return inShard(item.index, options.shard, options.shards);
            });
            *madeEarlier = mine - left.size();
            printLine(stderr,
                      u"shard %1/%2 of run %3: %4 of the file's %5 items, %6 made earlier"_s.arg(options.shard)
                          .arg(options.shards)
                          .arg(plan.run)
                          .arg(mine)
                          .arg(plan.items.size())
                          .arg(*madeEarlier));
            if (const QString problem = store.open(u":memory:"_s); !problem.isEmpty()) {
                return u"the queue store: "_s + problem;
            }
            *queueName = u"shard"_s;
            QList<RenderSettings> shardJobs;
            for (qint64 index : left) {
                shardJobs.append(plan.items.at(index).settings);
            }
            const std::optional<QList<qint64>> ids = store.add(*queueName, shardJobs);
            if (!ids) {
                return u"the queue store: "_s + store.error();
            }
            // Each image's name is the plan's, fixed before any worker hears of it.
            for (qsizetype i = 0; i < left.size(); ++i) {
                const FarmItem& item = plan.items.at(left.at(i));
                if (!store.recordDispatch(ids->at(i), item.settings.seed.value_or(0), folder.imagePath(item), 0, {})) {
                    return u"the queue store: "_s + store.error();
                }
            }
            return {};
        }

        /// A run's items go to the durable queue before any worker starts (or, with --resume, are found there again);
        /// the manifest ties the output folder to them. Returns an empty string or why not.
        QString prepareRun(const BatchOptions& options, const QList<RenderSettings>& jobs, QueueStore& store,
                           QString* queueName, qsizetype* madeEarlier)
        {
            const QString file = QFileInfo(options.file).absoluteFilePath();
            const QString storePath = options.storePath.isEmpty() ? defaultQueueStorePath() : options.storePath;
            if (const QString problem = store.open(storePath); !problem.isEmpty()) {
                return u"the queue store: "_s + problem;
            }
            const QStringList keys = contentKeys(jobs);
            Manifest manifest;
            if (options.resume) {
                const std::optional<Manifest> found = findManifest(options.outputDirectory, file);
                if (!found) {
                    return u"--resume: %1 holds no run of %2 to continue"_s.arg(
                        QDir(options.outputDirectory).absolutePath(), file);
                }
                manifest = *found;
                const QString queue = u"batch:"_s + manifest.run;
                if (store.items(queue).isEmpty()) {
                    return u"--resume: the queue store %1 has no record of run %2 (started with another data folder?)"_s
                        .arg(storePath, manifest.run);
                }
                if (store.recover(
                        queue, [](const QueueItem& item) { return isCompleteImage(item.imagePath); },
                        DefaultMaxAttempts)
                    < 0) {
                    return u"the queue store: "_s + store.error();
                }
                if (const QString problem = reconcile(store, queue, jobs, keys, file); !problem.isEmpty()) {
                    return u"the queue store: "_s + problem;
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
                if (!store.add(u"batch:"_s + manifest.run, jobs, false, keys)) {
                    return u"the queue store: "_s + store.error();
                }
            }
            manifest.file = file;
            manifest.store = storePath;
            if (const QString problem = writeManifest(options.outputDirectory, manifest, keys); !problem.isEmpty()) {
                return problem;
            }
            *queueName = u"batch:"_s + manifest.run;
            *madeEarlier = store.count(*queueName, ItemState::Done);
            return {};
        }

        /// Imports the run's file (printing each problem, as JSON too with --json) and checks what can be checked
        /// before anything starts: something to render, the model, a VAE path, a writable output folder. Returns
        /// an empty string or what stops the run.
        QString importAndCheck(const BatchOptions& options, ImportResult* imported)
        {
            ImportOptions importOptions;
            importOptions.strict = options.strict;
            importOptions.baseSeed = options.seed;
            *imported = importPromptFile(options.file, importOptions);
            // --lora applies to every item as the tags an artist would have typed (checked by the caller).
            for (RenderSettings& job : imported->jobs) {
                for (const QString& lora : options.loras) {
                    job.prompt += (job.prompt.isEmpty() ? u"<lora:"_s : u" <lora:"_s) + lora + u'>';
                }
            }
            for (const ImportIssue& issue : imported->issues) {
                if (options.json) {
                    printJson({{u"event"_s, u"import-problem"_s},
                               {u"file"_s, issue.file},
                               {u"line"_s, issue.line},
                               {u"field"_s, issue.field},
                               {u"message"_s, issue.message}});
                }
                printLine(stderr, issue.toString());
            }
            if (imported->aborted) {
                return u"%1: nothing rendered (--strict and %2 problem(s) found)"_s.arg(options.file)
                    .arg(imported->issues.size());
            }
            if (imported->jobs.isEmpty()) {
                return imported->issues.isEmpty() ? u"%1: the file holds no prompt"_s.arg(options.file)
                                                  : u"%1: no line of the file can be rendered"_s.arg(options.file);
            }
            if (!options.modelPath.isEmpty()) {
                if (const QString problem = checkModelPath(options.modelPath); !problem.isEmpty()) {
                    return problem;
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
                    return u"--vae: "_s + problem;
                }
            }
            if (const QString problem = prepareOutputDirectory(options.outputDirectory); !problem.isEmpty()) {
                return problem;
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
        auto fail = [&](const QString& message) { return refuseRun(options.json, message); };
        ImportResult imported;
        if (const QString problem = importAndCheck(options, &imported); !problem.isEmpty()) {
            return fail(problem);
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
        if (InterruptGuard::signal() != 0) {
            printLine(stderr, u"atelier: interrupted before any worker started; nothing rendered"_s);
            return InterruptGuard::exitCode();
        }

        QueueStore store;
        QString queueName;
        qsizetype madeEarlier = 0;
        const bool sharded = options.shards > 0;
        if (const QString problem = sharded ? prepareShard(options, imported.jobs, store, &queueName, &madeEarlier)
                                            : prepareRun(options, imported.jobs, store, &queueName, &madeEarlier);
            !problem.isEmpty()) {
            return fail(problem);
        }
        // What a crash of an earlier run left: temporary files of workers killed mid-write (not images), and the
        // private socket folders of coordinators that were killed.
        removeStaleTemporaryImages(options.outputDirectory);
        WorkerListener::removeStalePrivateDirectories();
        QueueModel queue(&store, queueName);
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
        BatchDisplay display(options.json, total);
        for (int rank = 0; rank < devices.size(); ++rank) {
            display.addLane(u"%1 %2"_s.arg(rank).arg(devices.at(rank)));
        }
        const auto lane = [&](int rank) { return u"%1 %2"_s.arg(rank).arg(devices.value(rank)); };
        QObject::connect(&coordinator, &Coordinator::jobStarted, [&](qint64 id, int rank) {
            display.started(id, lane(rank), {{u"rank"_s, rank}});
        });
        QObject::connect(&coordinator, &Coordinator::jobProgress,
                         [&](qint64 id, int rank, int step, int steps, double itps) {
                             display.progress(id, lane(rank), {{u"rank"_s, rank}}, step, steps, itps);
                         });
        QObject::connect(&coordinator, &Coordinator::jobFinished, [&](qint64 id, const QString& path) {
            if (indexing && !library.addFile(path)) {
                printLine(stderr, u"images will not be in the gallery: %1"_s.arg(library.error()));
                indexing = false;
            }
            const QList<JobRecord>& jobs = coordinator.jobs();
            display.finished(id, id < jobs.size() ? lane(jobs.at(id).rank) : QString(), path);
        });
        QObject::connect(&coordinator, &Coordinator::jobCanceled,
                         [&](qint64 id, const QString& reason) { display.canceled(id, reason); });
        QObject::connect(&coordinator, &Coordinator::jobFailed,
                         [&](qint64 id, const QString& reason, bool retry) { display.failed(id, reason, retry); });
        QObject::connect(&coordinator, &Coordinator::workerEvent, [&](int rank, const QString& message) {
            display.workerEvent(QString::number(rank), {{u"rank"_s, rank}}, message);
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
        display.end();

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
        // A shard's store holds only what it had left to make; a resumed run's holds what was made before too.
        const qsizetype rendered = made - (sharded ? 0 : madeEarlier);
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
            // Nothing is lost: the items wait in the queue store (a full disk, say, can be cleared first), or a
            // shard's in the plan in its folder.
            printLine(stderr,
                      sharded ? u"atelier: to make what is missing, run the same shard again"_s
                              : u"atelier: to make what is missing, run the same command with --resume"_s);
        }
        if (InterruptGuard::signal() != 0) {
            return InterruptGuard::exitCode();
        }
        return notDone.isEmpty() && imported.issues.isEmpty() ? 0 : 1;
    }

    int runFarmServe(const BatchOptions& options, const FarmServeOptions& farm)
    {
        const InterruptGuard interrupts;
        auto fail = [&](const QString& message) { return refuseRun(options.json, message); };
        if (options.resume || options.shards > 0) {
            return fail(u"--resume and --shard are --batch's: serving the same file again continues a farm run"_s);
        }
        ImportResult imported;
        if (const QString problem = importAndCheck(options, &imported); !problem.isEmpty()) {
            return fail(problem);
        }
        const FarmFolder folder(options.outputDirectory);
        FarmManifest plan = planFor(options, imported.jobs);
        bool created = false;
        if (const QString problem = folder.publish(plan, &created); !problem.isEmpty()) {
            return fail(problem);
        }
        QByteArray token;
        if (const QString problem = folder.ensureToken(plan.run, &token); !problem.isEmpty()) {
            return fail(problem);
        }
        if (!created) {
            printLine(
                stderr,
                u"atelier: continuing farm run %1 of %2 in %3"_s.arg(plan.run, options.file, folder.outputDirectory()));
        }
        if (InterruptGuard::signal() != 0) {
            return InterruptGuard::exitCode();
        }
        QStringList arguments{options.workerProgram,
                              u"farm-host"_s,
                              u"--out"_s,
                              folder.outputDirectory(),
                              u"--run"_s,
                              plan.run,
                              u"--lease-timeout"_s,
                              QString::number(farm.leaseTimeoutMs),
                              u"--max-attempts"_s,
                              QString::number(farm.maxAttempts)};
        if (!farm.listen.isEmpty()) {
            arguments << u"--listen"_s << farm.listen;
        }
        if (options.json) {
            arguments << u"--json"_s;
        }
        // The coordinator hosts LibTorch's c10d store, so it runs in the worker's executable; this process becomes
        // it (same pid: a scheduler's signals and exit status are its own).
        QList<QByteArray> encoded;
        for (const QString& argument : std::as_const(arguments)) {
            encoded.append(QFile::encodeName(argument));
        }
        std::vector<char*> argv;
        for (QByteArray& argument : encoded) {
            argv.push_back(argument.data());
        }
        argv.push_back(nullptr);
        std::fflush(stdout);
        std::fflush(stderr);
        ::execv(argv[0], argv.data());
        return fail(u"cannot start the farm coordinator %1: %2"_s.arg(options.workerProgram,
                                                                      QString::fromLocal8Bit(std::strerror(errno))));
    }
} // namespace Atelier
