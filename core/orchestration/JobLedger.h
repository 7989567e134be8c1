// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QCborMap>
#include <QDateTime>
#include <QList>
#include <QString>

#include <algorithm>
#include <chrono>
#include <functional>
#include <optional>
#include <variant>
#include <vector>

#include "ipc/Protocol.h"
#include "queue/QueueStore.h"
#include "render/RenderSettings.h"

namespace Atelier
{
    /// A job's place in its life. Queued → Assigned (sent to a worker) → Running (the worker reported a step) →
    /// Done | Failed | Canceled. A job whose worker is lost, or that fails and has attempts left, goes back to Queued.
    /// Done, Failed and Canceled are final: a job enters one of them exactly once.
    enum class JobState
    {
        Queued,
        Assigned,
        Running,
        Done,
        Failed,
        Canceled
    };

    /// "queued", "assigned", "running", "done", "failed", "canceled": the names the docs and the JSON events use.
    QString jobStateName(JobState state);
    bool isFinal(JobState state);

    /// One job of a run, as the ledger keeps it.
    struct JobRecord
    {
        qint64 id = 0; ///< its place in the run (0, 1, …)
        RenderSettings settings; ///< as queued; the seed is filled in when it is first dispatched
        JobState state = JobState::Queued;
        int attempts = 0; ///< attempts that counted (a device that never got to render it does not count)
        qint64 imageNumber = -1; ///< the running number of its file name, fixed at its first dispatch
        QDateTime namedAt; ///< when imageNumber was given: its name's [date] and [time], the same for every retry
        QString imagePath; ///< when Done
        QString lastError; ///< why the last attempt failed, or why it was canceled
        int rank = -1; ///< the worker rendering it, or that made or last tried it
        QCborMap metadata; ///< the worker's provenance, when Done
        qint64 itemId = -1; ///< its durable queue item (QueueStore), when it came from one
        /// Where its image goes when a durable queue fixed that at an earlier dispatch (a crash came between);
        /// empty: the ledger names it from its running number.
        QString plannedPath;
        /// The artist canceled it (cancelJob()): it ends Canceled at the next news of it, and is never retried or
        /// handed back to its queue.
        bool cancelRequested = false;
    };

    /// A job handed to the ledger by an outside (durable) queue.
    struct SourcedJob
    {
        RenderSettings settings;
        qint64 itemId = -1; ///< the queue's id for it: the PNG provenance's queueItemId
        int attempts = 0; ///< attempts counted before this run (crashes included)
        QString plannedPath; ///< the image path an earlier dispatch fixed, or empty
    };

    /// A worker session's place in its life (one rank; each process started for it is a new generation).
    enum class WorkerState
    {
        Starting, ///< process started, no Hello yet
        Loading, ///< admitted, loading its model
        Idle, ///< ready, no job
        Busy, ///< rendering a batch
        Stopping, ///< asked to shut down (or to cancel, then shut down); killed at its deadline
        Killed, ///< sent SIGKILL; gone at the exit event, or at its deadline regardless
        Backoff, ///< lost; restarts at its deadline
        Disabled, ///< failed too often, or cannot load the model: never restarted
        Exited ///< gone on purpose
    };
    QString workerStateName(WorkerState state);

    /// How a run is ledgered: limits, deadlines and defaults. Times are the ledger's clock (milliseconds, any
    /// monotonic origin), so tests drive it with a clock of their own.
    struct LedgerOptions
    {
        int workers = 1; ///< ranks 0 … workers − 1
        QString outputDirectory; ///< where images go (file names are the ledger's)
        QString namingPattern; ///< image file names after the running number (OutputNaming); empty or invalid: default
        QString modelName; ///< what [model_name] shows (modelShortName())
        RenderSettings defaults; ///< for fields a job leaves unset (then RenderDefaults)
        int maxAttempts = DefaultMaxAttempts; ///< attempts that count before a job fails for good
        int maxBatch = 0; ///< most jobs per batch (0: what each worker says it takes)
        int failuresBeforeDisabling = 3; ///< consecutive losses of a rank that disable it
        bool keepRunningWhenIdle = false; ///< false: the run finishes once every job is final (a batch)
        std::chrono::milliseconds handshakeTimeout{10000}; ///< process start → Hello
        std::chrono::milliseconds modelLoadTimeout{300000}; ///< Hello → Ready
        std::chrono::milliseconds heartbeatTimeout{10000}; ///< longest silence of an admitted worker
        /// Longest a busy worker may go without news of its jobs (a step, a result, an error). Its heartbeats come
        /// from a thread the engine cannot block, so only this notices a render that hangs inside the engine.
        std::chrono::milliseconds progressTimeout{600000};
        std::chrono::milliseconds restartBackoff{1000}; ///< doubled after each consecutive loss of a rank
        std::chrono::milliseconds stopGrace{5000}; ///< Shutdown/Cancel → exit, before SIGKILL
        std::chrono::milliseconds killGrace{2000}; ///< SIGKILL → exit event, before the rank counts as gone
    };

    /// What the ledger asks its owner to do, or tells it, in order.
    namespace LedgerAction
    {
        struct Spawn ///< start a worker process for the rank (generation counts from 1)
        {
            int rank;
            int generation;
        };
        struct SendJobs ///< send these jobs, in order, as one batch
        {
            int rank;
            QList<Ipc::Job> jobs;
        };
        struct SendCancel
        {
            int rank;
            qint64 jobId;
        };
        struct SendShutdown
        {
            int rank;
        };
        struct Kill ///< SIGKILL the rank's process (group); an exit event follows, or the deadline does
        {
            int rank;
        };
        struct JobStarted
        {
            qint64 jobId;
            int rank;
        };
        struct JobDone
        {
            qint64 jobId;
        };
        struct JobFailed ///< an attempt failed; retry: it is queued again
        {
            qint64 jobId;
            QString reason;
            bool retry;
        };
        struct JobCanceled
        {
            qint64 jobId;
            QString reason;
        };
        struct WorkerNote ///< something about a worker worth telling the user
        {
            int rank;
            QString message;
        };
        struct Finished ///< every job is final (or the run was stopped) and every worker is gone
        {
        };
    } // namespace LedgerAction
    using Action = std::variant<LedgerAction::Spawn, LedgerAction::SendJobs, LedgerAction::SendCancel,
                                LedgerAction::SendShutdown, LedgerAction::Kill, LedgerAction::JobStarted,
                                LedgerAction::JobDone, LedgerAction::JobFailed, LedgerAction::JobCanceled,
                                LedgerAction::WorkerNote, LedgerAction::Finished>;

    /// The coordinator's state machine, without processes, sockets or timers: it owns every job transition and
    /// every worker session's state, and answers each event with the actions to take. Events name the worker's
    /// generation, so news from a process that was already replaced is ignored.
    ///
    /// Its promises (checked by TestJobLedger with seeded random event sequences):
    /// - every job enters a final state exactly once, and none is Done twice or Done after it failed;
    /// - a batch run finishes once every job is final, whatever state the workers are in, within
    ///   stopGrace + killGrace of the last job settling (plus one tick);
    /// - stop() always ends the run within stopGrace + killGrace; kill() ends it within killGrace;
    /// - a job is never sent to two workers at once, and never to a worker that is not Idle.
    class JobLedger
    {
    public:
        using Clock = std::chrono::milliseconds;

        explicit JobLedger(LedgerOptions options);

        /// Draws a seed for a job without one (injected so tests are reproducible).
        void setSeedSource(std::function<quint64()> source) { m_seedSource = std::move(source); }
        /// Tells whether a complete image is at a path. A worker lost between writing a job's image and reporting it
        /// leaves the image behind: with this check the job is done, not rendered a second time.
        void setImageCheck(std::function<bool(const QString&)> check) { m_imageExists = std::move(check); }
        /// Feeds idle workers from an outside queue as well: @p take is called only when a worker is ready for a
        /// job, so what has not started stays editable there; @p size tells how many wait there.
        void setJobSource(std::function<std::optional<SourcedJob>()> take, std::function<qsizetype()> size);

        /// The running number of the run's first image; set before start() (see nextImageNumber()).
        void setFirstImageNumber(qint64 number) { m_nextImageNumber = number; }
        /// Makes the next image number at least @p number (another process wrote into the folder meanwhile).
        void raiseImageNumber(qint64 number) { m_nextImageNumber = std::max(m_nextImageNumber, number); }

        void addJobs(const QList<RenderSettings>& jobs, Clock now);
        /// Starts every worker.
        void start(Clock now);
        /// Adds a worker (a device checked while the run goes on); it starts at once when the run has started.
        /// Returns its rank. The others are not touched.
        int addWorker(Clock now);
        /// Takes worker @p rank out of the run (a device unchecked) or brings it back. Leaving, it hands its jobs
        /// back (they go to the other workers; the attempt does not count) and shuts down; it is never restarted
        /// while it is out. Coming back, it starts again, even after it was disabled for failures. A run whose last
        /// worker leaves ends as a stop does.
        void setWorkerEnabled(int rank, bool enabled, Clock now);
        bool isWorkerEnabled(int rank) const { return !m_workers.at(rank).retired; }
        /// While paused, nothing new is sent to a worker; what runs finishes.
        void setPaused(bool paused, Clock now);
        bool isPaused() const { return m_paused; }
        /// Cancels one job: a waiting one at once, a running one through its worker (its batch mates go back to
        /// the queue uncounted). It ends Canceled with cancelRequested set, unless its image was already made.
        /// Returns false when the job is unknown or already final.
        bool cancelJob(qint64 jobId, Clock now);
        /// Stops dispatching; cancels running jobs, shuts workers down, kills those that do not go in time.
        void stop(Clock now);
        /// As stop(), but kills every worker at once (a second Ctrl-C).
        void kill(Clock now);

        void workerConnected(int rank, int generation, int maxBatch, Clock now);
        void workerReady(int rank, int generation, Clock now);
        void workerHeard(int rank, int generation, Clock now); ///< any message: a heartbeat
        void jobProgress(int rank, int generation, qint64 jobId, Clock now);
        /// A job is done: its image is at @p imagePath, which must be the path it was sent with.
        void jobResult(int rank, int generation, qint64 jobId, const QString& imagePath, const QCborMap& metadata,
                       Clock now);
        /// A job's attempt failed on the worker with @p code ("oom", "engine", "io", "bad-job", "exists",
        /// "busy", "cancelled").
        void jobError(int rank, int generation, qint64 jobId, const QString& code, const QString& message, Clock now);
        /// The worker cannot work at all (its model did not load): the rank is disabled, its jobs go back.
        void workerCannotWork(int rank, int generation, const QString& message, Clock now);
        /// The worker broke the protocol: it is killed and treated as lost.
        void workerMisbehaved(int rank, int generation, const QString& reason, Clock now);
        /// The worker's process ended (or could not start).
        void workerExited(int rank, int generation, const QString& reason, Clock now);
        /// The worker's connection closed while its process may still run: lost, or, when it was asked to stop,
        /// killed now rather than waited for.
        void workerDisconnected(int rank, int generation, Clock now);
        /// Checks every deadline.
        void tick(Clock now);

        /// The actions decided since the last call, in order.
        std::vector<Action> takeActions() { return std::exchange(m_actions, {}); }

        const QList<JobRecord>& jobs() const { return m_jobs; }
        const JobRecord& job(qint64 id) const { return m_jobs.at(id); }
        int workerCount() const { return static_cast<int>(m_workers.size()); }
        WorkerState workerState(int rank) const { return m_workers.at(rank).state; }
        int workerGeneration(int rank) const { return m_workers.at(rank).generation; }
        int jobsDoneBy(int rank) const { return m_workers.at(rank).jobsDone; }
        QList<qint64> jobsOf(int rank) const { return m_workers.at(rank).jobs; }
        bool isStopping() const { return m_stopping; }
        bool isFinished() const { return m_finished; }
        /// Jobs that are not final, and those canceled by a stop, with their seeds: what a window puts back. Jobs
        /// from a durable queue are not among them: they go back to their queue.
        QList<RenderSettings> unfinishedJobs() const;

    private:
        struct Worker
        {
            WorkerState state = WorkerState::Exited;
            int generation = 0;
            int maxBatch = 1;
            QList<qint64> jobs;
            Clock deadline{0}; ///< of the current state, where it has one
            Clock heardDeadline{0}; ///< an admitted worker silent past this is lost
            Clock progressDeadline{0}; ///< a busy worker without news of its jobs past this is lost
            bool processGone = true; ///< the exit of its last process was seen (a restart waits for it)
            Clock goneDeadline{0}; ///< Backoff: restart even without that exit from here on
            int consecutiveFailures = 0;
            int jobsDone = 0;
            bool retired = false; ///< taken out of the run by setWorkerEnabled(): never restarted
        };

        Worker* current(int rank, int generation);
        void emitAction(Action action) { m_actions.push_back(std::move(action)); }
        void spawn(int rank, Clock now);
        void lose(int rank, const QString& reason, Clock now);
        void requeue(JobRecord& job, const QString& reason, bool countsAsAttempt);
        /// The job's image is on disk although its worker never reported it: Done. True when it was.
        bool recoverImage(JobRecord& job);
        void settle(JobRecord& job, JobState state, const QString& reason);
        /// A job that cannot go on because the run is ending: Canceled when someone stopped the run (it is handed
        /// back), Failed when a batch ended on its own (no device left).
        void endWithTheRun(JobRecord& job, const QString& reason);
        /// Fails @p job at once when its settings break the render model's limits; true when it did.
        bool refuseIfInvalid(JobRecord& job);
        void releaseJobOf(int rank, qint64 jobId, Clock now);
        Ipc::Job message(const JobRecord& job) const;
        JobRecord* nextQueued();
        qsizetype queuedCount() const;
        int liveWorkers() const;
        void dispatch(Clock now);
        void windDown(Clock now);
        void windDownWorker(int rank, Clock now);
        void maybeFinish(Clock now);
        void failEverythingLeft(const QString& reason);
        /// A worker that was asked to go (stop or retire) is gone: its jobs end or go back, and it stays gone
        /// unless it was brought back meanwhile.
        void stoppedWorkerGone(int rank, Clock now);

        LedgerOptions m_options;
        QList<JobRecord> m_jobs;
        std::vector<Worker> m_workers;
        std::vector<Action> m_actions;
        std::function<quint64()> m_seedSource;
        std::function<bool(const QString&)> m_imageExists;
        std::function<std::optional<SourcedJob>()> m_takeFromSource;
        std::function<qsizetype()> m_sourceSize;
        qint64 m_nextImageNumber = 0;
        QString m_lastDeviceError; ///< why the last rank was disabled, for jobs failed by "no working device"
        bool m_started = false;
        bool m_stopping = false; ///< no more dispatching; the workers are winding down
        bool m_stopRequested = false; ///< stop() or kill() was called
        bool m_finished = false;
        bool m_dispatching = false;
        bool m_paused = false;
    };
} // namespace Atelier
