// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QCborMap>
#include <QElapsedTimer>
#include <QHash>
#include <QList>
#include <QObject>
#include <QProcessEnvironment>
#include <QStringList>

#include <chrono>
#include <memory>

#include "ipc/FrameCodec.h"
#include "ipc/Protocol.h"
#include "queue/PromptJob.h"

class QLocalSocket;
class QProcess;
class QTimer;

namespace Atelier
{
    class PromptQueue;
    class WorkerListener;

    /// How a batch is run.
    struct CoordinatorOptions
    {
        QString workerProgram; ///< path of atelier-worker
        QStringList devices; ///< one worker per entry: "cpu", "cuda:0", … (repeats allowed)
        QString modelPath; ///< empty: the worker's embedded model
        QString outputDirectory; ///< where images are written; must exist
        QString dtype = QStringLiteral("fp32");
        int threadsPerWorker = 0; ///< 0: LibTorch's default
        int maxAttempts = 3; ///< a job that failed this many times is given up
        /// Most jobs a worker renders in one batch (passed to it as --max-batch); 0: as many as the worker says it
        /// takes (on CUDA, what its free memory holds).
        int maxBatch = 0;
        /// false: finished() once every job is settled (a batch run). true: idle workers wait for more jobs (the
        /// GUI) until stop().
        bool keepRunningWhenIdle = false;
        std::chrono::milliseconds heartbeatTimeout{10000};
        std::chrono::milliseconds handshakeTimeout{10000};
        std::chrono::milliseconds restartBackoff{1000}; ///< doubled after each consecutive failure of a device
        int failuresBeforeDisabling = 3; ///< consecutive failures that disable a device
        QProcessEnvironment extraEnvironment; ///< added to each worker's environment (tests)
        QHash<int, QProcessEnvironment> rankEnvironment; ///< added to one rank's environment (tests)
        // Defaults for fields a job leaves unset.
        int steps = 20;
        double cfgScale = 7.5;
        int width = 512;
        int height = 512;
        QString scheduler;
    };

    /// What became of one job.
    struct JobOutcome
    {
        enum class State
        {
            Pending,
            Running,
            Done,
            Failed
        };
        qint64 id = 0;
        PromptJob job;
        State state = State::Pending;
        int attempts = 0;
        QString imagePath; ///< when Done
        QString lastError; ///< why the last attempt failed
        int rank = -1; ///< the worker that rendered it (Done) or last tried
        QCborMap metadata; ///< the worker's provenance, when Done
    };

    /// Runs a batch of prompts on one worker process per device: starts the workers, admits them through a
    /// WorkerListener, hands each idle worker the next job (so fast devices do more), and survives crashed, hung
    /// and failing workers: their job returns to the queue with its attempt count, they restart with backoff,
    /// and a device that keeps failing is disabled. No job is lost and none produces two images.
    class Coordinator final : public QObject
    {
        Q_OBJECT
        Q_DISABLE_COPY_MOVE(Coordinator)

    public:
        explicit Coordinator(CoordinatorOptions options, QObject* parent = nullptr);
        ~Coordinator() override;

        /// Adds jobs; their ids are their positions in the batch (0, 1, …) and name the output files.
        void addJobs(const QList<PromptJob>& jobs);
        /// Feeds idle workers from @p queue as well, taking each job only when a worker is ready for it, so the
        /// queue keeps what has not started (the artist can still edit it). Jobs queued later start at once when a
        /// worker is idle. Set before start(); the queue must outlive the coordinator.
        void setQueue(PromptQueue* queue);
        /// Jobs not done and not failed: waiting for a retry, running, or stopped before they finished; with the
        /// seeds they were given. After finished(), what the caller should put back in its queue.
        QList<PromptJob> unfinishedJobs() const;
        /// Starts the workers. Returns an empty string, or why nothing could start. finished() follows.
        QString start();
        /// Stops dispatching, cancels running jobs and shuts the workers down; finished() follows.
        void stop();

        const QList<JobOutcome>& outcomes() const { return m_outcomes; }
        bool isRunning() const { return !m_workers.empty() && !m_finished; }
        /// Jobs done by each rank.
        QHash<int, int> jobsPerRank() const;
        /// The process id of worker @p rank, or 0 when it is not running.
        qint64 workerPid(int rank) const;
        QString socketPath() const;

        /// `<index>-<seed>-<slug>.png`: the slug is the prompt's first words, lower case, ASCII letters and digits
        /// joined by '-', at most 48 characters.
        static QString imageFileName(qint64 index, quint64 seed, const QString& prompt);

    signals:
        void jobStarted(qint64 jobId, int rank);
        void jobProgress(qint64 jobId, int rank, int step, int total, double iterationsPerSecond);
        void jobPreview(qint64 jobId, int width, int height, const QByteArray& rgb);
        void jobFinished(qint64 jobId, const QString& imagePath);
        void jobFailed(qint64 jobId, const QString& reason, bool willRetry);
        /// Something about a worker worth telling the user: started, crashed, restarted, disabled.
        void workerEvent(int rank, const QString& message);
        /// Every job is done or failed (or stop() was called) and every worker has exited.
        void finished();

    private:
        struct Worker;

        void spawn(Worker& worker);
        void admit(int rank, QLocalSocket* socket, const Ipc::Hello& hello, const QByteArray& pending);
        void readFrom(Worker& worker);
        void handle(Worker& worker, const Ipc::Message& message);
        void workerLost(Worker& worker, const QString& reason);
        void releaseJob(Worker& worker, qint64 jobId, const QString& reason);
        void finishJobOf(Worker& worker, qint64 jobId);
        qsizetype pendingCount() const;
        JobOutcome& appendOutcome(const PromptJob& job);
        JobOutcome* nextPending();
        Ipc::Job jobMessage(JobOutcome& outcome);
        void dispatch();
        void checkHeartbeats();
        void send(Worker& worker, const Ipc::Message& message);
        void maybeFinish();
        Worker* workerFor(int rank);

        CoordinatorOptions m_options;
        std::unique_ptr<WorkerListener> m_listener;
        std::vector<std::unique_ptr<Worker>> m_workers;
        QList<JobOutcome> m_outcomes;
        PromptQueue* m_queue = nullptr;
        QTimer* m_watchdog;
        bool m_stopping = false;
        bool m_finished = false;
        bool m_dispatching = false;
    };
} // namespace Atelier
