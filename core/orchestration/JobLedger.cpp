// SPDX-License-Identifier: GPL-3.0-or-later
#include "JobLedger.h"

#include <QDir>

#include <algorithm>

#include "render/OutputNaming.h"

using namespace Qt::StringLiterals;

namespace Atelier
{
    QString jobStateName(JobState state)
    {
        switch (state) {
        case JobState::Queued:
            return u"queued"_s;
        case JobState::Assigned:
            return u"assigned"_s;
        case JobState::Running:
            return u"running"_s;
        case JobState::Done:
            return u"done"_s;
        case JobState::Failed:
            return u"failed"_s;
        case JobState::Canceled:
            return u"canceled"_s;
        }
        return {};
    }

    bool isFinal(JobState state)
    {
        return state == JobState::Done || state == JobState::Failed || state == JobState::Canceled;
    }

    QString workerStateName(WorkerState state)
    {
        switch (state) {
        case WorkerState::Starting:
            return u"starting"_s;
        case WorkerState::Loading:
            return u"loading"_s;
        case WorkerState::Idle:
            return u"idle"_s;
        case WorkerState::Busy:
            return u"busy"_s;
        case WorkerState::Stopping:
            return u"stopping"_s;
        case WorkerState::Killed:
            return u"killed"_s;
        case WorkerState::Backoff:
            return u"restarting"_s;
        case WorkerState::Disabled:
            return u"disabled"_s;
        case WorkerState::Exited:
            return u"exited"_s;
        }
        return {};
    }

    namespace
    {
        bool isGone(WorkerState state)
        {
            return state == WorkerState::Disabled || state == WorkerState::Exited;
        }

        /// Whether the worker's process may still be talking to us (its silence is then a fault).
        bool isAdmitted(WorkerState state)
        {
            return state == WorkerState::Loading || state == WorkerState::Idle || state == WorkerState::Busy;
        }
    } // namespace

    JobLedger::JobLedger(LedgerOptions options)
        : m_options(std::move(options))
        , m_workers(static_cast<std::size_t>(std::max(0, m_options.workers)))
    { }

    void JobLedger::setJobSource(std::function<std::optional<SourcedJob>()> take, std::function<qsizetype()> size)
    {
        m_takeFromSource = std::move(take);
        m_sourceSize = std::move(size);
    }

    void JobLedger::addJobs(const QList<RenderSettings>& jobs, Clock now)
    {
        for (const RenderSettings& settings : jobs) {
            JobRecord record;
            record.id = m_jobs.size();
            record.settings = settings;
            m_jobs.append(record);
            if (refuseIfInvalid(m_jobs.last())) {
                continue;
            }
            if (m_stopping) {
                // Added to a run that is ending: it is not lost, it is handed back (unfinishedJobs()), or, in a
                // batch that ended on its own, it fails with the reason the run ended.
                endWithTheRun(m_jobs.last(), u"added after the run ended"_s);
            }
        }
        dispatch(now);
    }

    void JobLedger::start(Clock now)
    {
        if (m_started) {
            return;
        }
        m_started = true;
        if (m_stopping) {
            // Stopped before it started: nothing to run and nobody to wait for.
            m_finished = true;
            emitAction(LedgerAction::Finished{});
            return;
        }
        for (int rank = 0; rank < static_cast<int>(m_workers.size()); ++rank) {
            if (!m_workers[rank].retired) {
                spawn(rank, now);
            }
        }
        maybeFinish(now);
    }

    int JobLedger::addWorker(Clock now)
    {
        m_workers.emplace_back();
        const int rank = static_cast<int>(m_workers.size()) - 1;
        if (m_started && !m_stopping) {
            spawn(rank, now);
        }
        return rank;
    }

    void JobLedger::setWorkerEnabled(int rank, bool enabled, Clock now)
    {
        if (rank < 0 || rank >= static_cast<int>(m_workers.size()) || m_workers[rank].retired == !enabled) {
            return;
        }
        Worker& w = m_workers[rank];
        w.retired = !enabled;
        if (!m_started || m_stopping) {
            return;
        }
        if (!enabled) {
            // Its jobs come back as cancelled (or its exit hands them back): the others take them.
            windDownWorker(rank, now);
            emitAction(LedgerAction::WorkerNote{rank, u"taken out of the run"_s});
            maybeFinish(now);
            return;
        }
        emitAction(LedgerAction::WorkerNote{rank, u"back in the run"_s});
        if (w.state == WorkerState::Disabled || w.state == WorkerState::Exited) {
            // The artist says the device is worth another try: its failures are forgotten.
            w.consecutiveFailures = 0;
            if (w.processGone) {
                spawn(rank, now);
            } else {
                w.state = WorkerState::Backoff;
                w.deadline = now;
                w.goneDeadline = now + m_options.killGrace;
            }
        }
        // Still going (Stopping, Killed): it restarts once its process is gone (stoppedWorkerGone()).
    }

    void JobLedger::setPaused(bool paused, Clock now)
    {
        m_paused = paused;
        dispatch(now);
    }

    bool JobLedger::cancelJob(qint64 jobId, Clock now)
    {
        if (jobId < 0 || jobId >= m_jobs.size() || isFinal(m_jobs[jobId].state)) {
            return false;
        }
        JobRecord& job = m_jobs[jobId];
        job.cancelRequested = true;
        if (job.state == JobState::Queued) {
            settle(job, JobState::Canceled, u"canceled"_s);
            maybeFinish(now);
        } else {
            // Its worker answers "cancelled" (or with the image, when it was already being written).
            emitAction(LedgerAction::SendCancel{job.rank, job.id});
        }
        return true;
    }

    void JobLedger::stop(Clock now)
    {
        if (m_stopping || m_finished) {
            return;
        }
        m_stopping = true;
        m_stopRequested = true;
        for (JobRecord& job : m_jobs) {
            if (job.state == JobState::Queued) {
                settle(job, JobState::Canceled, u"stopped before it started"_s);
            }
        }
        windDown(now);
        maybeFinish(now);
    }

    void JobLedger::kill(Clock now)
    {
        stop(now);
        for (int rank = 0; rank < static_cast<int>(m_workers.size()); ++rank) {
            Worker& w = m_workers[rank];
            if (!isGone(w.state) && w.state != WorkerState::Killed) {
                emitAction(LedgerAction::Kill{rank});
                w.state = WorkerState::Killed;
                w.deadline = now + m_options.killGrace;
            }
        }
        maybeFinish(now);
    }

    JobLedger::Worker* JobLedger::current(int rank, int generation)
    {
        if (rank < 0 || rank >= static_cast<int>(m_workers.size())) {
            return nullptr;
        }
        Worker& w = m_workers[rank];
        return w.generation == generation ? &w : nullptr;
    }

    void JobLedger::spawn(int rank, Clock now)
    {
        Worker& w = m_workers[rank];
        ++w.generation;
        w.processGone = false;
        w.state = WorkerState::Starting;
        w.jobs.clear();
        w.maxBatch = 1;
        w.deadline = now + m_options.handshakeTimeout;
        emitAction(LedgerAction::Spawn{rank, w.generation});
    }

    void JobLedger::workerConnected(int rank, int generation, int maxBatch, Clock now)
    {
        Worker* w = current(rank, generation);
        if (!w || w->state != WorkerState::Starting) {
            return;
        }
        w->state = WorkerState::Loading;
        w->deadline = now + m_options.modelLoadTimeout;
        w->heardDeadline = now + m_options.heartbeatTimeout;
        w->maxBatch = std::clamp(maxBatch, 1, Ipc::MaxBatch);
        if (m_options.maxBatch > 0) {
            w->maxBatch = std::min(w->maxBatch, m_options.maxBatch);
        }
    }

    void JobLedger::workerReady(int rank, int generation, Clock now)
    {
        Worker* w = current(rank, generation);
        if (!w || w->state != WorkerState::Loading) {
            return;
        }
        w->heardDeadline = now + m_options.heartbeatTimeout;
        w->state = WorkerState::Idle;
        if (m_stopping) {
            windDownWorker(rank, now);
            return;
        }
        dispatch(now);
        maybeFinish(now);
    }

    void JobLedger::workerHeard(int rank, int generation, Clock now)
    {
        if (Worker* w = current(rank, generation); w && isAdmitted(w->state)) {
            w->heardDeadline = now + m_options.heartbeatTimeout;
        }
    }

    void JobLedger::jobProgress(int rank, int generation, qint64 jobId, Clock now)
    {
        workerHeard(rank, generation, now);
        Worker* w = current(rank, generation);
        if (w && w->jobs.contains(jobId)) {
            w->progressDeadline = now + m_options.progressTimeout;
            if (m_jobs[jobId].state == JobState::Assigned) {
                m_jobs[jobId].state = JobState::Running;
            }
        }
    }

    void JobLedger::jobResult(int rank, int generation, qint64 jobId, const QString& imagePath,
                              const QCborMap& metadata, Clock now)
    {
        workerHeard(rank, generation, now);
        Worker* w = current(rank, generation);
        if (!w || isGone(w->state)) {
            return;
        }
        if (!w->jobs.contains(jobId)) {
            workerMisbehaved(rank, generation, u"a result for job %1, which it was not running"_s.arg(jobId), now);
            return;
        }
        JobRecord& job = m_jobs[jobId];
        if (const QString expected = message(job).outputPath; imagePath != expected) {
            workerMisbehaved(rank, generation,
                             u"job %1's image is at %2, not at %3"_s.arg(jobId).arg(imagePath, expected), now);
            return;
        }
        job.imagePath = imagePath;
        job.metadata = metadata;
        job.rank = rank;
        ++w->jobsDone;
        w->consecutiveFailures = 0;
        settle(job, JobState::Done, {});
        releaseJobOf(rank, jobId, now);
    }

    void JobLedger::jobError(int rank, int generation, qint64 jobId, const QString& code, const QString& message,
                             Clock now)
    {
        workerHeard(rank, generation, now);
        Worker* w = current(rank, generation);
        if (!w || isGone(w->state) || !w->jobs.contains(jobId)) {
            return;
        }
        JobRecord& job = m_jobs[jobId];
        const QString reason = u"%1: %2"_s.arg(code, message);
        if (code == u"cancelled"_s) {
            // A stop, a device taken out, or the artist (cancelJob(), which requeue() honours) asked for it; the
            // attempt does not count.
            requeue(job, reason, /*countsAsAttempt=*/false);
        } else if (code == u"busy"_s) {
            requeue(job, reason, false);
        } else if (code == u"exists"_s) {
            // A path fixed before a crash may hold this job's own image, written by a worker of the crashed process
            // after the recovery looked: then it is done. Anything else at the name is never replaced: the job
            // takes the next number instead.
            if (!job.plannedPath.isEmpty() && recoverImage(job)) {
                releaseJobOf(rank, jobId, now);
                return;
            }
            job.plannedPath.clear();
            job.imageNumber = m_nextImageNumber++;
            job.namedAt = QDateTime::currentDateTime();
            requeue(job, reason, false);
        } else if (code == u"bad-job"_s) {
            // The same job fails the same way anywhere: no retry.
            settle(job, JobState::Failed, reason);
        } else {
            requeue(job, reason, true);
        }
        releaseJobOf(rank, jobId, now);
    }

    void JobLedger::workerCannotWork(int rank, int generation, const QString& message, Clock now)
    {
        Worker* w = current(rank, generation);
        if (!w || isGone(w->state)) {
            return;
        }
        // The model will not load on a restart either: one failure disables the device, and the jobs it held
        // were never tried, so the attempt does not count.
        emitAction(LedgerAction::Kill{rank});
        for (const qint64 id : std::exchange(w->jobs, {})) {
            requeue(m_jobs[id], u"worker %1 cannot work: %2"_s.arg(rank).arg(message), false);
        }
        m_lastDeviceError = message;
        w->state = m_stopping || w->retired ? WorkerState::Exited : WorkerState::Disabled;
        emitAction(LedgerAction::WorkerNote{rank, u"disabled: %1"_s.arg(message)});
        dispatch(now);
        maybeFinish(now);
    }

    void JobLedger::workerMisbehaved(int rank, int generation, const QString& reason, Clock now)
    {
        Worker* w = current(rank, generation);
        if (!w || isGone(w->state)) {
            return;
        }
        lose(rank, u"protocol error: %1"_s.arg(reason), now);
    }

    void JobLedger::workerExited(int rank, int generation, const QString& reason, Clock now)
    {
        Worker* w = current(rank, generation);
        if (!w) {
            return;
        }
        w->processGone = true;
        if (isGone(w->state) || w->state == WorkerState::Backoff) {
            return;
        }
        if (w->state == WorkerState::Stopping || w->state == WorkerState::Killed) {
            stoppedWorkerGone(rank, now);
            return;
        }
        lose(rank, reason, now);
    }

    void JobLedger::workerDisconnected(int rank, int generation, Clock now)
    {
        Worker* w = current(rank, generation);
        if (!w || isGone(w->state) || w->state == WorkerState::Backoff || w->state == WorkerState::Killed) {
            return;
        }
        if (w->state == WorkerState::Stopping) {
            // It was going anyway; a process that lingers after closing its connection is not waited for.
            emitAction(LedgerAction::Kill{rank});
            w->state = WorkerState::Killed;
            w->deadline = now + m_options.killGrace;
            return;
        }
        lose(rank, u"closed its connection"_s, now);
    }

    void JobLedger::tick(Clock now)
    {
        for (int rank = 0; rank < static_cast<int>(m_workers.size()); ++rank) {
            Worker& w = m_workers[rank];
            switch (w.state) {
            case WorkerState::Starting:
                if (now > w.deadline) {
                    lose(rank, u"did not connect within %1 ms"_s.arg(m_options.handshakeTimeout.count()), now);
                }
                break;
            case WorkerState::Loading:
            case WorkerState::Idle:
            case WorkerState::Busy:
                if (w.state == WorkerState::Loading && now > w.deadline) {
                    lose(rank, u"did not load its model within %1 s"_s.arg(m_options.modelLoadTimeout.count() / 1000),
                         now);
                } else if (now > w.heardDeadline) {
                    lose(rank, u"sent no heartbeat for %1 ms"_s.arg(m_options.heartbeatTimeout.count()), now);
                } else if (w.state == WorkerState::Busy && now > w.progressDeadline) {
                    lose(rank, u"made no progress for %1 s"_s.arg(m_options.progressTimeout.count() / 1000), now);
                }
                break;
            case WorkerState::Backoff:
                if (m_stopping) {
                    w.state = WorkerState::Exited;
                } else if (now >= w.deadline && (w.processGone || now >= w.goneDeadline)) {
                    // Not before the old process is gone (or could not be waited for longer): on a GPU it still
                    // holds its memory, and the new one's model would not fit.
                    spawn(rank, now);
                }
                break;
            case WorkerState::Stopping:
                if (now > w.deadline) {
                    emitAction(LedgerAction::Kill{rank});
                    w.state = WorkerState::Killed;
                    w.deadline = now + m_options.killGrace;
                }
                break;
            case WorkerState::Killed:
                if (now > w.deadline) {
                    // SIGKILL always works, but a process in uninterruptible sleep is reaped late; the run does not
                    // wait for that.
                    stoppedWorkerGone(rank, now);
                }
                break;
            case WorkerState::Disabled:
            case WorkerState::Exited:
                break;
            }
        }
        maybeFinish(now);
    }

    QList<RenderSettings> JobLedger::unfinishedJobs() const
    {
        QList<RenderSettings> jobs;
        for (const JobRecord& job : m_jobs) {
            if (job.itemId >= 0) {
                continue; // its durable queue has it back (the coordinator released it there)
            }
            if (!isFinal(job.state) || (job.state == JobState::Canceled && !job.cancelRequested)) {
                jobs.append(job.settings);
            }
        }
        return jobs;
    }

    void JobLedger::lose(int rank, const QString& reason, Clock now)
    {
        Worker& w = m_workers[rank];
        // The process may still run (silent, or talking nonsense): it goes, with whatever it started.
        emitAction(LedgerAction::Kill{rank});
        bool jobGaveUp = false;
        for (const qint64 id : std::exchange(w.jobs, {})) {
            if (recoverImage(m_jobs[id])) {
                continue;
            }
            requeue(m_jobs[id], u"worker %1 %2"_s.arg(rank).arg(reason), true);
            jobGaveUp = jobGaveUp || m_jobs[id].state == JobState::Failed;
        }
        // A job that kills every worker it meets (its last attempt just failed) says nothing about this device.
        if (!jobGaveUp) {
            ++w.consecutiveFailures;
        }
        if (m_stopping || w.retired) {
            w.state = WorkerState::Exited;
        } else if (w.consecutiveFailures >= m_options.failuresBeforeDisabling) {
            w.state = WorkerState::Disabled;
            m_lastDeviceError = reason;
            emitAction(LedgerAction::WorkerNote{
                rank, u"disabled after %1 failures in a row; last: %2"_s.arg(w.consecutiveFailures).arg(reason)});
        } else {
            w.state = WorkerState::Backoff;
            w.goneDeadline = now + m_options.killGrace;
            const auto delay = m_options.restartBackoff * (1 << std::clamp(w.consecutiveFailures - 1, 0, 10));
            w.deadline = now + delay;
            emitAction(LedgerAction::WorkerNote{rank, u"%1; restarting in %2 ms"_s.arg(reason).arg(delay.count())});
        }
        dispatch(now);
        maybeFinish(now);
    }

    bool JobLedger::recoverImage(JobRecord& job)
    {
        if (!m_imageExists || isFinal(job.state) || (job.imageNumber < 0 && job.plannedPath.isEmpty())) {
            return false;
        }
        const QString path = message(job).outputPath;
        if (!m_imageExists(path)) {
            return false;
        }
        job.imagePath = path;
        settle(job, JobState::Done, {});
        return true;
    }

    void JobLedger::requeue(JobRecord& job, const QString& reason, bool countsAsAttempt)
    {
        if (isFinal(job.state)) {
            return;
        }
        if (job.cancelRequested) {
            settle(job, JobState::Canceled, u"canceled"_s);
            return;
        }
        if (!countsAsAttempt) {
            job.attempts = std::max(0, job.attempts - 1);
        }
        job.lastError = reason;
        if (m_stopping) {
            endWithTheRun(job, reason);
        } else if (job.attempts >= m_options.maxAttempts) {
            settle(job, JobState::Failed, reason);
        } else {
            job.state = JobState::Queued;
            emitAction(LedgerAction::JobFailed{job.id, reason, true});
        }
    }

    bool JobLedger::refuseIfInvalid(JobRecord& job)
    {
        const QList<SettingProblem> problems = job.settings.withDefaults(m_options.defaults).problems();
        if (problems.isEmpty()) {
            return false;
        }
        // What every entry point checks already; a job that slipped past them fails here, not in a worker.
        settle(job, JobState::Failed, u"bad-job: %1"_s.arg(problems.constFirst().message));
        return true;
    }

    void JobLedger::endWithTheRun(JobRecord& job, const QString& reason)
    {
        if (m_stopRequested || m_options.keepRunningWhenIdle) {
            settle(job, JobState::Canceled, reason);
        } else {
            // A batch ends on its own only when no device is left (or nothing was left to do).
            settle(job, JobState::Failed,
                   m_lastDeviceError.isEmpty() ? reason : u"no working device left (%1)"_s.arg(m_lastDeviceError));
        }
    }

    void JobLedger::settle(JobRecord& job, JobState state, const QString& reason)
    {
        Q_ASSERT(isFinal(state) && !isFinal(job.state));
        job.state = state;
        if (!reason.isEmpty()) {
            job.lastError = reason;
        }
        switch (state) {
        case JobState::Done:
            emitAction(LedgerAction::JobDone{job.id});
            break;
        case JobState::Failed:
            emitAction(LedgerAction::JobFailed{job.id, reason, false});
            break;
        default:
            emitAction(LedgerAction::JobCanceled{job.id, reason});
            break;
        }
    }

    void JobLedger::releaseJobOf(int rank, qint64 jobId, Clock now)
    {
        Worker& w = m_workers[rank];
        w.jobs.removeOne(jobId);
        if (!w.jobs.isEmpty()) {
            w.progressDeadline = now + m_options.progressTimeout;
            return;
        }
        if (w.state == WorkerState::Busy) {
            w.state = WorkerState::Idle;
            dispatch(now);
        } else if (w.state == WorkerState::Stopping) {
            emitAction(LedgerAction::SendShutdown{rank});
        }
        maybeFinish(now);
    }

    Ipc::Job JobLedger::message(const JobRecord& job) const
    {
        const RenderSettings resolved = job.settings.withDefaults(m_options.defaults);
        Ipc::Job message;
        message.jobId = job.id;
        message.attempt = std::max(1, job.attempts);
        message.prompt = resolved.prompt;
        message.negativePrompt = resolved.negativePrompt;
        message.seed = resolved.seed.value_or(0);
        message.steps = resolved.steps.value_or(RenderDefaults::Steps);
        message.cfgScale = resolved.cfgScale.value_or(RenderDefaults::CfgScale);
        message.width = resolved.width.value_or(RenderDefaults::Width);
        message.height = resolved.height.value_or(RenderDefaults::Height);
        message.scheduler = resolved.scheduler.value_or(QString());
        message.clipSkip = resolved.clipSkip.value_or(RenderDefaults::ClipSkip);
        message.initImage = resolved.initImage.value_or(QString());
        message.denoisingStrength = resolved.effectiveDenoisingStrength().value_or(0);
        if (resolved.hiresEnabled()) {
            message.hiresScale = *resolved.hiresScale;
            message.hiresSteps = resolved.hiresSteps.value_or(RenderDefaults::HiresSteps);
            message.hiresUpscaler = resolved.hiresUpscaler.value_or(RenderDefaults::HiresUpscaler.toString());
        }
        message.vae = resolved.vae.value_or(QString());
        message.itemId = job.itemId >= 0 ? job.itemId : job.id;
        if (!job.plannedPath.isEmpty()) {
            message.outputPath = job.plannedPath;
        } else if (job.imageNumber >= 0) {
            RenderSettings named = resolved;
            named.seed = message.seed;
            message.outputPath
                = QDir(m_options.outputDirectory)
                      .filePath(imageFileName(job.imageNumber,
                                              imageNameValues(named, m_options.modelName, message.itemId, job.namedAt),
                                              m_options.namingPattern));
        }
        return message;
    }

    JobRecord* JobLedger::nextQueued()
    {
        // Retries first (lower ids), then the outside queue: taking from it only now leaves it editable until the
        // last moment.
        for (JobRecord& job : m_jobs) {
            if (job.state == JobState::Queued) {
                return &job;
            }
        }
        while (m_takeFromSource) {
            std::optional<SourcedJob> sourced = m_takeFromSource();
            if (!sourced) {
                break;
            }
            JobRecord record;
            record.id = m_jobs.size();
            record.settings = std::move(sourced->settings);
            record.itemId = sourced->itemId;
            record.attempts = sourced->attempts;
            record.plannedPath = sourced->plannedPath;
            m_jobs.append(record);
            if (refuseIfInvalid(m_jobs.last())) {
                continue;
            }
            if (m_stopping) {
                // The source stopped the run from its callback: the job it handed over goes back, not lost.
                endWithTheRun(m_jobs.last(), u"stopped before it started"_s);
                return nullptr;
            }
            return &m_jobs.last();
        }
        return nullptr;
    }

    qsizetype JobLedger::queuedCount() const
    {
        const auto queued = std::count_if(m_jobs.begin(), m_jobs.end(),
                                          [](const JobRecord& job) { return job.state == JobState::Queued; });
        return queued + (m_sourceSize ? m_sourceSize() : 0);
    }

    int JobLedger::liveWorkers() const
    {
        return static_cast<int>(
            std::count_if(m_workers.begin(), m_workers.end(), [](const Worker& w) { return !isGone(w.state); }));
    }

    void JobLedger::dispatch(Clock now)
    {
        if (!m_started || m_stopping || m_dispatching || m_paused) {
            return;
        }
        // Taking from an outside queue may call back into us (its size changed).
        m_dispatching = true;
        const qsizetype live = std::max(1, liveWorkers());
        for (int rank = 0; rank < static_cast<int>(m_workers.size()); ++rank) {
            Worker& w = m_workers[rank];
            if (w.state != WorkerState::Idle) {
                continue;
            }
            // Pull, not push: a worker takes at most its share of what waits, so the last jobs are not all batched
            // onto one device while another one idles.
            const qsizetype waiting = queuedCount();
            if (waiting == 0) {
                break;
            }
            const qsizetype limit = std::clamp<qsizetype>((waiting + live - 1) / live, 1, w.maxBatch);
            QList<qint64> batch;
            std::optional<Ipc::Job> lead; ///< the batch's settings, which every other job must share
            while (batch.size() < limit) {
                JobRecord* next = nextQueued();
                if (!next) {
                    break;
                }
                // Only jobs that share the first one's settings join; the first that does not waits its turn.
                if (lead && !Ipc::canShareBatch(*lead, message(*next))) {
                    break;
                }
                if (!next->settings.seed) {
                    // Drawn once and kept, so a retry and the image's metadata use the same one.
                    next->settings.seed = m_seedSource ? m_seedSource() : 0;
                }
                if (next->imageNumber < 0 && next->plannedPath.isEmpty()) {
                    next->imageNumber = m_nextImageNumber++;
                    next->namedAt = QDateTime::currentDateTime();
                }
                ++next->attempts;
                next->state = JobState::Assigned;
                next->rank = rank;
                batch.append(next->id);
                if (!lead) {
                    lead = message(*next);
                }
            }
            if (batch.isEmpty()) {
                break;
            }
            QList<Ipc::Job> messages;
            for (qsizetype i = 0; i < batch.size(); ++i) {
                Ipc::Job job = message(m_jobs[batch.at(i)]);
                job.batchIndex = static_cast<int>(i);
                job.batchCount = static_cast<int>(batch.size());
                messages.append(job);
            }
            w.jobs = batch;
            w.state = WorkerState::Busy;
            w.progressDeadline = now + m_options.progressTimeout;
            emitAction(LedgerAction::SendJobs{rank, messages});
            for (const qint64 id : batch) {
                emitAction(LedgerAction::JobStarted{id, rank});
            }
        }
        m_dispatching = false;
    }

    void JobLedger::windDown(Clock now)
    {
        for (int rank = 0; rank < static_cast<int>(m_workers.size()); ++rank) {
            windDownWorker(rank, now);
        }
    }

    void JobLedger::windDownWorker(int rank, Clock now)
    {
        Worker& w = m_workers[rank];
        switch (w.state) {
        case WorkerState::Starting:
        case WorkerState::Loading:
            // Nothing to finish, and a model load may not return for a long time: no reason to wait.
            emitAction(LedgerAction::Kill{rank});
            w.state = WorkerState::Killed;
            w.deadline = now + m_options.killGrace;
            break;
        case WorkerState::Idle:
            emitAction(LedgerAction::SendShutdown{rank});
            w.state = WorkerState::Stopping;
            w.deadline = now + m_options.stopGrace;
            break;
        case WorkerState::Busy:
            // It reports each job as cancelled (or done, if it was writing it), then gets the Shutdown.
            for (const qint64 id : w.jobs) {
                emitAction(LedgerAction::SendCancel{rank, id});
            }
            w.state = WorkerState::Stopping;
            w.deadline = now + m_options.stopGrace;
            break;
        case WorkerState::Backoff:
            w.state = WorkerState::Exited;
            break;
        case WorkerState::Stopping:
        case WorkerState::Killed:
        case WorkerState::Disabled:
        case WorkerState::Exited:
            break;
        }
    }

    void JobLedger::stoppedWorkerGone(int rank, Clock now)
    {
        Worker& w = m_workers[rank];
        for (const qint64 id : std::exchange(w.jobs, {})) {
            if (recoverImage(m_jobs[id])) {
                continue;
            }
            if (m_stopping) {
                settle(m_jobs[id], JobState::Canceled, u"stopped while rendering"_s);
            } else {
                requeue(m_jobs[id], u"its device was taken out of the run"_s, false);
            }
        }
        if (!m_stopping && !w.retired) {
            // Brought back while it was going: it starts again now.
            w.state = WorkerState::Backoff;
            w.deadline = now;
            w.goneDeadline = now;
        } else {
            w.state = WorkerState::Exited;
        }
        dispatch(now);
        maybeFinish(now);
    }

    void JobLedger::failEverythingLeft(const QString& reason)
    {
        for (JobRecord& job : m_jobs) {
            if (job.state == JobState::Queued) {
                settle(job, JobState::Failed, reason);
            }
        }
    }

    void JobLedger::maybeFinish(Clock now)
    {
        if (!m_started || m_finished) {
            return;
        }
        if (!m_stopping) {
            if (liveWorkers() == 0) {
                // Every device is disabled: nothing can run what is left. A batch fails it; a window keeps it
                // (unfinishedJobs()), as the artist may fix the device and start again.
                if (!m_options.keepRunningWhenIdle) {
                    failEverythingLeft(u"no working device left (%1)"_s.arg(m_lastDeviceError));
                }
                m_stopping = true;
            } else if (!m_options.keepRunningWhenIdle && queuedCount() == 0
                       && std::all_of(m_jobs.begin(), m_jobs.end(),
                                      [](const JobRecord& job) { return isFinal(job.state); })) {
                m_stopping = true;
            } else {
                return;
            }
            windDown(now);
        }
        const bool allGone
            = std::all_of(m_workers.begin(), m_workers.end(), [](const Worker& w) { return isGone(w.state); });
        if (allGone) {
            m_finished = true;
            emitAction(LedgerAction::Finished{});
        }
    }
} // namespace Atelier
