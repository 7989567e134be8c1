// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QElapsedTimer>
#include <QHash>
#include <QList>
#include <QObject>
#include <QProcessEnvironment>
#include <QStringList>

#include <chrono>
#include <memory>

#include "ipc/Protocol.h"
#include "orchestration/JobLedger.h"
#include "queue/QueueStore.h"
#include "render/Precision.h"
#include "render/RenderSettings.h"

class QLocalSocket;
class QProcess;
class QTimer;

namespace Atelier
{
    class QueueModel;
    class WorkerListener;

    /// How a run is carried out.
    struct CoordinatorOptions
    {
        QString workerProgram; ///< path of atelier-worker
        QStringList devices; ///< one worker per entry: "cpu", "cuda:0", … (repeats allowed)
        QString modelPath; ///< empty: the worker's embedded model
        QStringList vaeFolders; ///< where workers find the VAEs queue items name (ModelLocations::vaeFolders())
        QStringList loraFolders; ///< where workers look up the LoRAs prompts name (ModelLocations::loraFolders())
        QStringList embeddingFolders; ///< the textual inversions prompts may name (ModelLocations::embeddingFolders())
        QString outputDirectory; ///< where images are written; must exist
        /// How images are named after their running number, e.g. "[seed]-[prompt_words]" (OutputNaming.h); empty:
        /// DefaultNamingPattern. start() refuses an invalid one.
        QString namingPattern;
        Precision precision = Precision::Auto; ///< resolved per device (resolvePrecision)
        RenderSettings defaults; ///< for fields a job leaves unset (then RenderDefaults)
        int threadsPerWorker = 0; ///< 0: LibTorch's default
        int maxAttempts = DefaultMaxAttempts; ///< a job that failed this many times is given up
        /// Most jobs a worker renders in one batch (passed to it as --max-batch); 0: as many as the worker says it
        /// takes (on CUDA, what its free memory holds).
        int maxBatch = 0;
        /// false: finished() once every job is final (a batch run). true: idle workers wait for more jobs (the
        /// window) until stop().
        bool keepRunningWhenIdle = false;
        std::chrono::milliseconds heartbeatTimeout{10000};
        std::chrono::milliseconds progressTimeout{600000}; ///< a busy worker's longest time without a step
        std::chrono::milliseconds handshakeTimeout{10000};
        std::chrono::milliseconds modelLoadTimeout{300000};
        std::chrono::milliseconds restartBackoff{1000}; ///< doubled after each consecutive failure of a device
        std::chrono::milliseconds stopGrace{5000}; ///< a stopped worker's time to exit before it is killed
        int failuresBeforeDisabling = 3; ///< consecutive failures that disable a device
        QProcessEnvironment extraEnvironment; ///< added to each worker's environment (tests)
        QHash<int, QProcessEnvironment> rankEnvironment; ///< added to one rank's environment (tests)
    };

    /// Runs jobs on one worker process per device: starts the workers, admits them through a WorkerListener, and
    /// carries out what its JobLedger decides (which job goes where, when a silent worker is lost, when a device is
    /// disabled, when the run is over). The ledger owns every state; this class owns the processes and sockets and
    /// turns their events into ledger events. No job is lost and none produces two images.
    class Coordinator final : public QObject
    {
        Q_OBJECT
        Q_DISABLE_COPY_MOVE(Coordinator)

    public:
        explicit Coordinator(CoordinatorOptions options, QObject* parent = nullptr);
        ~Coordinator() override;

        /// Adds jobs; their ids are their positions in the run (0, 1, …).
        void addJobs(const QList<RenderSettings>& jobs);
        /// Feeds idle workers from @p queue as well, claiming each item only when a worker is ready for it, so the
        /// queue keeps what has not started (the artist can still edit it). Items queued later start at once when a
        /// worker is idle. The item's store follows every dispatch (seed and image path, written before the worker
        /// hears of it), result, failure and stop (the item goes back, first). Set before start(); the queue must
        /// outlive the coordinator.
        void setQueue(QueueModel* queue);
        /// Feeds idle workers from @p take as well (a farm node's claims on the farm's store): called when a worker
        /// is ready for work, it hands over one job or nothing; @p size says how many may wait (0 when unknown).
        /// A job's itemId is the caller's own; a planned path is where its image must go. Call jobsMayBeWaiting()
        /// when jobs may have appeared. Set before start().
        void setJobSource(std::function<std::optional<SourcedJob>()> take, std::function<qsizetype()> size);
        /// Offers idle workers whatever the job source now has.
        void jobsMayBeWaiting();
        /// Jobs not final, and those a stop canceled, with the seeds they were given: what the caller puts back in
        /// its queue after finished().
        QList<RenderSettings> unfinishedJobs() const { return m_ledger.unfinishedJobs(); }
        /// Starts the workers. Returns an empty string, or why nothing could start (then no finished() follows).
        QString start();
        /// Stops dispatching, cancels running jobs and shuts the workers down, killing those that do not exit
        /// within stopGrace; finished() follows.
        void stop();
        /// Kills every worker at once; finished() follows.
        void kill();

        /// Adds a worker on @p device (a device checked while the run goes on; the others are not touched).
        /// Returns its rank, or -1 and why not in @p error. A worker added after the start runs outside the process
        /// group, as a restarted one does.
        int addDevice(const QString& device, QString* error = nullptr);
        /// Takes rank @p rank out of the run, or brings it back (see JobLedger::setWorkerEnabled()).
        void setDeviceEnabled(int rank, bool enabled);
        bool isDeviceEnabled(int rank) const { return m_ledger.isWorkerEnabled(rank); }
        /// One entry per rank: the device each worker runs on.
        const QStringList& devices() const { return m_options.devices; }
        WorkerState workerState(int rank) const { return m_ledger.workerState(rank); }
        /// While paused, what runs finishes and nothing new starts.
        void setPaused(bool paused);
        bool isPaused() const { return m_ledger.isPaused(); }
        /// Cancels the job that renders queue item @p itemId (its image is not made; the item ends canceled).
        /// False when no unfinished job of this run is that item.
        bool cancelItem(qint64 itemId);

        const QList<JobRecord>& jobs() const { return m_ledger.jobs(); }
        bool isRunning() const { return m_started && !m_ledger.isFinished(); }
        /// Jobs done by each rank.
        QHash<int, int> jobsPerRank() const;
        /// The process id of worker @p rank, or 0 when it is not running.
        qint64 workerPid(int rank) const;
        QString socketPath() const;

    Q_SIGNALS:
        void jobStarted(qint64 jobId, int rank);
        void jobProgress(qint64 jobId, int rank, int step, int total, double iterationsPerSecond);
        void jobPreview(qint64 jobId, int width, int height, const QByteArray& rgb);
        void jobFinished(qint64 jobId, const QString& imagePath);
        void jobFailed(qint64 jobId, const QString& reason, bool willRetry);
        /// The job will not be made in this run (stopped); unfinishedJobs() includes it.
        void jobCanceled(qint64 jobId, const QString& reason);
        /// Something about a worker worth telling the user: started, crashed, restarted, disabled.
        void workerEvent(int rank, const QString& message);
        /// What worker @p rank holds of its device's memory (each heartbeat, about once a second).
        void workerMemory(int rank, qint64 used, qint64 total);
        /// Every job is final (or stop() was called) and every worker is gone.
        void finished();

    private:
        struct Session;

        JobLedger::Clock now() const;
        void apply();
        void applyActions(std::vector<Action>& actions);
        void spawn(int rank, int generation);
        void killProcess(int rank);
        void admit(int rank, QLocalSocket* socket, const Ipc::Hello& hello, const QByteArray& pending);
        void readFrom(int rank, int generation);
        void handle(int rank, int generation, const Ipc::Message& message);
        void send(int rank, const Ipc::Message& message);
        Session* session(int rank, int generation);

        CoordinatorOptions m_options;
        JobLedger m_ledger;
        QStringList m_precisions; ///< resolved per rank: "fp16", "fp32", …
        std::unique_ptr<WorkerListener> m_listener;
        std::vector<std::unique_ptr<Session>> m_sessions;
        QElapsedTimer m_clock;
        QTimer* m_watchdog;
        QueueModel* m_queue = nullptr;
        int m_groupSize = 0; ///< the workers of the first generation, which form the process group
        bool m_started = false;
        bool m_applying = false;
    };
} // namespace Atelier
