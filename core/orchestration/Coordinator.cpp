// SPDX-License-Identifier: GPL-3.0-or-later
#include "Coordinator.h"

#include <QDir>
#include <QLocalSocket>
#include <QPointer>
#include <QProcess>
#include <QRandomGenerator>
#include <QRegularExpression>
#include <QTimer>

#include <csignal>
#include <unistd.h>

#include "orchestration/WorkerListener.h"
#include "queue/PromptQueue.h"

using namespace Qt::StringLiterals;

namespace Atelier
{
    struct Coordinator::Worker
    {
        enum class State
        {
            Starting, ///< process started, no Hello yet
            Idle, ///< admitted, waiting for a job
            Busy, ///< rendering m_job
            Restarting, ///< lost; a restart is scheduled
            Disabled, ///< failed too often; never restarted
            Exited ///< shut down on purpose
        };
        int rank = 0;
        QString device;
        QProcess* process = nullptr;
        QLocalSocket* socket = nullptr;
        Ipc::FrameDecoder decoder{Ipc::MaxFrameSize};
        State state = State::Starting;
        QList<qint64> jobs; ///< the batch it is rendering (Busy)
        int maxBatch = 1; ///< from its Hello: "batch=N"
        QElapsedTimer lastHeard; ///< since the last message, or since the start while Starting
        int consecutiveFailures = 0;
        int jobsDone = 0;
        bool spawnedBefore = false; ///< a process was started for this rank already
        bool cannotWork = false; ///< said it cannot work (its model did not load): its job was never tried
    };

    Coordinator::Coordinator(CoordinatorOptions options, QObject* parent)
        : QObject(parent)
        , m_options(std::move(options))
        , m_listener(std::make_unique<WorkerListener>())
        , m_watchdog(new QTimer(this))
    {
        m_listener->setHandshakeTimeout(m_options.handshakeTimeout);
        connect(m_listener.get(), &WorkerListener::workerAdmitted, this, &Coordinator::admit);
        connect(m_listener.get(), &WorkerListener::connectionRejected, this,
                [this](const QString& reason) { emit workerEvent(-1, u"refused a connection: %1"_s.arg(reason)); });
        m_watchdog->setInterval(250);
        connect(m_watchdog, &QTimer::timeout, this, &Coordinator::checkHeartbeats);
    }

    Coordinator::~Coordinator()
    {
        for (auto& worker : m_workers) {
            if (worker->process && worker->process->state() != QProcess::NotRunning) {
                ::kill(-static_cast<pid_t>(worker->process->processId()), SIGKILL);
                worker->process->waitForFinished(2000);
            }
        }
    }

    void Coordinator::addJobs(const QList<PromptJob>& jobs)
    {
        for (const PromptJob& job : jobs) {
            appendOutcome(job);
        }
        if (isRunning()) {
            dispatch();
        }
    }

    JobOutcome& Coordinator::appendOutcome(const PromptJob& job)
    {
        JobOutcome outcome;
        outcome.id = m_outcomes.size();
        outcome.job = job;
        m_outcomes.append(outcome);
        return m_outcomes.last();
    }

    void Coordinator::setQueue(PromptQueue* queue)
    {
        m_queue = queue;
        // Queued while a worker waits: start it now rather than at the next event.
        connect(queue, &PromptQueue::sizeChanged, this, [this] {
            if (isRunning()) {
                dispatch();
            }
        });
    }

    QList<PromptJob> Coordinator::unfinishedJobs() const
    {
        QList<PromptJob> jobs;
        for (const JobOutcome& outcome : m_outcomes) {
            if (outcome.state == JobOutcome::State::Pending || outcome.state == JobOutcome::State::Running) {
                jobs.append(outcome.job);
            }
        }
        return jobs;
    }

    QString Coordinator::imageFileName(qint64 index, quint64 seed, const QString& prompt)
    {
        static const QRegularExpression marks(u"\\p{Mn}+"_s);
        static const QRegularExpression notWord(u"[^a-z0-9]+"_s);
        // Decompose, then drop the accents, so "Café" names a file "cafe" rather than "caf".
        QString slug = prompt.toLower().normalized(QString::NormalizationForm_KD);
        slug.remove(marks);
        slug.replace(notWord, u"-"_s);
        slug = slug.left(48);
        while (slug.endsWith(u'-')) {
            slug.chop(1);
        }
        while (slug.startsWith(u'-')) {
            slug.remove(0, 1);
        }
        if (slug.isEmpty()) {
            slug = u"image"_s;
        }
        return u"%1-%2-%3.png"_s.arg(index).arg(seed).arg(slug);
    }

    QString Coordinator::start()
    {
        if (m_options.devices.isEmpty()) {
            return u"no devices to run on"_s;
        }
        if (!QDir(m_options.outputDirectory).exists()) {
            return u"the output folder %1 does not exist"_s.arg(m_options.outputDirectory);
        }
        if (const QString error = m_listener->listen(); !error.isEmpty()) {
            return error;
        }
        for (int rank = 0; rank < m_options.devices.size(); ++rank) {
            auto worker = std::make_unique<Worker>();
            worker->rank = rank;
            worker->device = m_options.devices.at(rank);
            m_workers.push_back(std::move(worker));
        }
        for (auto& worker : m_workers) {
            spawn(*worker);
        }
        m_watchdog->start();
        // An empty batch is finished at once, but only after the caller has connected to finished().
        QTimer::singleShot(0, this, &Coordinator::maybeFinish);
        return {};
    }

    void Coordinator::stop()
    {
        if (m_stopping) {
            return;
        }
        m_stopping = true;
        for (auto& worker : m_workers) {
            if (worker->state == Worker::State::Busy) {
                for (const qint64 job : worker->jobs) {
                    send(*worker, Ipc::Cancel{job});
                }
            }
        }
        maybeFinish();
    }

    QHash<int, int> Coordinator::jobsPerRank() const
    {
        QHash<int, int> counts;
        for (const auto& worker : m_workers) {
            counts.insert(worker->rank, worker->jobsDone);
        }
        return counts;
    }

    qint64 Coordinator::workerPid(int rank) const
    {
        for (const auto& worker : m_workers) {
            if (worker->rank == rank && worker->process) {
                return worker->process->processId();
            }
        }
        return 0;
    }

    QString Coordinator::socketPath() const
    {
        return m_listener->socketPath();
    }

    Coordinator::Worker* Coordinator::workerFor(int rank)
    {
        for (auto& worker : m_workers) {
            if (worker->rank == rank) {
                return worker.get();
            }
        }
        return nullptr;
    }

    void Coordinator::spawn(Worker& worker)
    {
        const QByteArray token = m_listener->expectWorker(worker.rank);
        QStringList arguments{u"serve"_s,
                              u"--socket"_s,
                              m_listener->socketPath(),
                              u"--rank"_s,
                              QString::number(worker.rank),
                              u"--device"_s,
                              worker.device,
                              u"--dtype"_s,
                              m_options.dtype};
        if (!m_options.modelPath.isEmpty()) {
            arguments << u"--model"_s << m_options.modelPath;
        }
        if (m_options.maxBatch > 0) {
            arguments << u"--max-batch"_s << QString::number(m_options.maxBatch);
        }
        if (m_options.threadsPerWorker > 0) {
            arguments << u"--threads"_s << QString::number(m_options.threadsPerWorker);
        }
        // The first generation of workers forms the process group (device exchange and barrier); a restarted
        // worker cannot rejoin a group that has formed, so it runs alone.
        if (m_options.devices.size() > 1 && !worker.spawnedBefore) {
            arguments << u"--world-size"_s << QString::number(m_options.devices.size()) << u"--rendezvous"_s
                      << QDir(m_listener->privateDirectory()).filePath(u"rendezvous"_s);
            // NCCL when every worker is on a GPU; a group with a CPU worker in it can only speak Gloo.
            const bool allCuda = std::all_of(m_options.devices.begin(), m_options.devices.end(),
                                             [](const QString& device) { return device.startsWith(u"cuda"_s); });
            arguments << u"--group-backend"_s << (allCuda ? u"nccl"_s : u"gloo"_s);
        }
        worker.spawnedBefore = true;
        QProcessEnvironment environment = QProcessEnvironment::systemEnvironment();
        for (const QProcessEnvironment& extra :
             {m_options.extraEnvironment, m_options.rankEnvironment.value(worker.rank)}) {
            for (const QString& key : extra.keys()) {
                environment.insert(key, extra.value(key));
            }
        }
        // The token travels in the environment: argv is readable by every user through /proc.
        environment.insert(u"ATELIER_WORKER_TOKEN"_s, QString::fromLatin1(token.toHex()));

        auto* process = new QProcess(this);
        process->setProgram(m_options.workerProgram);
        process->setArguments(arguments);
        process->setProcessEnvironment(environment);
        process->setProcessChannelMode(QProcess::ForwardedErrorChannel);
        // Its own process group, so a hung worker is killed with anything it started.
        process->setChildProcessModifier([] { ::setpgid(0, 0); });
        const int rank = worker.rank;
        connect(process, &QProcess::finished, this, [this, rank, process](int exitCode, QProcess::ExitStatus status) {
            Worker* w = workerFor(rank);
            if (!w || w->process != process) {
                return;
            }
            const QString reason
                = status == QProcess::CrashExit ? u"crashed"_s : u"exited with code %1"_s.arg(exitCode);
            workerLost(*w, reason);
        });
        connect(process, &QProcess::errorOccurred, this, [this, rank, process](QProcess::ProcessError error) {
            Worker* w = workerFor(rank);
            if (error == QProcess::FailedToStart && w && w->process == process) {
                workerLost(*w, u"could not start %1: %2"_s.arg(m_options.workerProgram, process->errorString()));
            }
        });
        worker.process = process;
        worker.state = Worker::State::Starting;
        worker.cannotWork = false;
        worker.decoder = Ipc::FrameDecoder(Ipc::MaxFrameSize);
        worker.lastHeard.start();
        process->start();
        emit workerEvent(worker.rank, u"starting on %1"_s.arg(worker.device));
    }

    void Coordinator::admit(int rank, QLocalSocket* socket, const Ipc::Hello& hello, const QByteArray& pending)
    {
        Worker* worker = workerFor(rank);
        if (!worker || worker->state != Worker::State::Starting) {
            socket->abort();
            socket->deleteLater();
            return;
        }
        socket->setParent(this);
        worker->socket = socket;
        worker->state = Worker::State::Idle;
        worker->maxBatch = 1;
        static const QRegularExpression batchCapability(u"^batch=(\\d+)$"_s);
        for (const QString& capability : hello.capabilities) {
            if (const auto match = batchCapability.match(capability); match.hasMatch()) {
                worker->maxBatch = std::clamp(match.captured(1).toInt(), 1, Ipc::MaxBatch);
            }
        }
        if (m_options.maxBatch > 0) {
            worker->maxBatch = std::min(worker->maxBatch, m_options.maxBatch);
        }
        worker->lastHeard.restart();
        connect(socket, &QLocalSocket::readyRead, this, [this, rank, socket] {
            if (Worker* w = workerFor(rank); w && w->socket == socket) {
                readFrom(*w);
            }
        });
        connect(socket, &QLocalSocket::disconnected, this, [this, rank, socket] {
            Worker* w = workerFor(rank);
            if (!w || w->socket != socket) {
                return;
            }
            // A dying worker's socket closes just before its process is reaped; give the exit a moment to arrive
            // so the job's failure names the real cause (a crash, an exit code) rather than the closed socket.
            w->socket->disconnect(this);
            w->socket->deleteLater();
            w->socket = nullptr;
            QPointer<QProcess> process = w->process;
            QTimer::singleShot(2000, this, [this, rank, process] {
                Worker* same = workerFor(rank);
                if (same && process && same->process == process) {
                    workerLost(*same, u"closed its connection"_s);
                }
            });
        });
        emit workerEvent(rank, u"ready on %1 (%2)"_s.arg(hello.device, hello.deviceName));
        worker->decoder.feed(pending);
        readFrom(*worker);
        dispatch();
    }

    void Coordinator::readFrom(Worker& worker)
    {
        const int rank = worker.rank;
        while (true) {
            Worker* w = workerFor(rank);
            if (!w || !w->socket) {
                return;
            }
            // Bounded reads: an oversized frame is refused from its length prefix, before its bytes are read.
            if (w->socket->bytesAvailable() > 0) {
                w->decoder.feed(w->socket->read(64 * 1024));
            }
            const Ipc::FrameResult frame = w->decoder.next();
            if (frame.status == Ipc::FrameStatus::Invalid) {
                workerLost(*w, u"protocol error: %1"_s.arg(frame.error));
                return;
            }
            if (frame.status == Ipc::FrameStatus::Incomplete) {
                if (w->socket->bytesAvailable() > 0) {
                    continue;
                }
                return;
            }
            const Ipc::DecodeResult decoded = Ipc::decodeMessage(frame.payload);
            if (!decoded.message) {
                workerLost(*w, u"protocol error: %1"_s.arg(decoded.error));
                return;
            }
            handle(*w, *decoded.message);
        }
    }

    void Coordinator::handle(Worker& worker, const Ipc::Message& message)
    {
        worker.lastHeard.restart();
        if (std::holds_alternative<Ipc::Heartbeat>(message)) {
            return;
        }
        if (const auto* progress = std::get_if<Ipc::Progress>(&message)) {
            if (worker.jobs.contains(progress->jobId)) {
                emit jobProgress(progress->jobId, worker.rank, progress->step, progress->total,
                                 progress->iterationsPerSecond);
            }
            return;
        }
        if (const auto* preview = std::get_if<Ipc::Preview>(&message)) {
            if (worker.jobs.contains(preview->jobId)) {
                emit jobPreview(preview->jobId, preview->width, preview->height, preview->rgb);
            }
            return;
        }
        if (const auto* result = std::get_if<Ipc::Result>(&message)) {
            if (!worker.jobs.contains(result->jobId)) {
                workerLost(worker,
                           u"protocol error: a result for job %1, which it was not running"_s.arg(result->jobId));
                return;
            }
            JobOutcome& outcome = m_outcomes[result->jobId];
            outcome.state = JobOutcome::State::Done;
            outcome.imagePath = result->imagePath;
            outcome.metadata = result->metadata;
            outcome.rank = worker.rank;
            worker.consecutiveFailures = 0;
            ++worker.jobsDone;
            emit jobFinished(outcome.id, outcome.imagePath);
            finishJobOf(worker, result->jobId);
            return;
        }
        if (const auto* error = std::get_if<Ipc::Error>(&message)) {
            if (error->jobId >= 0 && worker.jobs.contains(error->jobId)) {
                releaseJob(worker, error->jobId, u"%1: %2"_s.arg(error->code, error->message));
                finishJobOf(worker, error->jobId);
            } else if (error->jobId < 0) {
                // Not about a job: the worker cannot work (its model did not load); it exits next.
                worker.cannotWork = true;
                emit workerEvent(worker.rank, u"%1: %2"_s.arg(error->code, error->message));
            }
            return;
        }
        workerLost(worker, u"protocol error: a worker sent a %1 message"_s.arg(Ipc::messageType(message)));
    }

    void Coordinator::finishJobOf(Worker& worker, qint64 jobId)
    {
        worker.jobs.removeOne(jobId);
        if (worker.jobs.isEmpty() && worker.state == Worker::State::Busy) {
            worker.state = Worker::State::Idle;
            dispatch();
        }
        maybeFinish();
    }

    void Coordinator::releaseJob(Worker& worker, qint64 jobId, const QString& reason)
    {
        JobOutcome& outcome = m_outcomes[jobId];
        if (outcome.state != JobOutcome::State::Running) {
            return;
        }
        outcome.lastError = reason;
        if (worker.cannotWork) {
            // The worker never got to render it: the device failed, not the job, so the attempt does not count.
            --outcome.attempts;
            outcome.state = JobOutcome::State::Pending;
            return;
        }
        if (m_stopping) {
            // Stopped, not failed: the job simply was not done.
            outcome.state = JobOutcome::State::Pending;
            emit jobFailed(outcome.id, reason, false);
            return;
        }
        const bool retry = outcome.attempts < m_options.maxAttempts;
        outcome.state = retry ? JobOutcome::State::Pending : JobOutcome::State::Failed;
        if (!retry && outcome.attempts >= m_options.maxAttempts) {
            // A job that fails every time says nothing about the device that ran it last.
            worker.consecutiveFailures = std::max(0, worker.consecutiveFailures - 1);
        }
        emit jobFailed(outcome.id, reason, retry);
    }

    void Coordinator::workerLost(Worker& worker, const QString& reason)
    {
        using State = Worker::State;
        if (worker.state == State::Restarting || worker.state == State::Disabled || worker.state == State::Exited) {
            return;
        }
        const bool expected = m_stopping && worker.state != State::Busy;
        if (worker.socket) {
            worker.socket->disconnect(this);
            worker.socket->abort();
            worker.socket->deleteLater();
            worker.socket = nullptr;
        }
        if (worker.process) {
            QProcess* process = worker.process;
            process->disconnect(this);
            if (process->state() != QProcess::NotRunning) {
                // No blocking wait on this (possibly GUI) thread: the process object goes once it is reaped.
                ::kill(-static_cast<pid_t>(process->processId()), SIGKILL);
                connect(process, &QProcess::finished, process, &QObject::deleteLater);
            } else {
                process->deleteLater();
            }
            worker.process = nullptr;
        }
        m_listener->forgetWorker(worker.rank);
        if (!expected) {
            ++worker.consecutiveFailures;
        }
        for (const qint64 job : std::exchange(worker.jobs, {})) {
            releaseJob(worker, job, u"worker %1 %2"_s.arg(worker.rank).arg(reason));
        }

        if (m_stopping) {
            worker.state = State::Exited;
        } else if (worker.consecutiveFailures >= m_options.failuresBeforeDisabling) {
            worker.state = State::Disabled;
            emit workerEvent(worker.rank,
                             u"disabled %1 after %2 failures in a row; last: %3"_s.arg(worker.device)
                                 .arg(worker.consecutiveFailures)
                                 .arg(reason));
        } else {
            worker.state = State::Restarting;
            const auto delay = m_options.restartBackoff * (1 << std::max(0, worker.consecutiveFailures - 1));
            emit workerEvent(worker.rank, u"%1; restarting in %2 ms"_s.arg(reason).arg(delay.count()));
            const int rank = worker.rank;
            QTimer::singleShot(delay, this, [this, rank] {
                Worker* w = workerFor(rank);
                if (w && w->state == Worker::State::Restarting && !m_stopping) {
                    spawn(*w);
                }
            });
        }
        dispatch();
        maybeFinish();
    }

    void Coordinator::send(Worker& worker, const Ipc::Message& message)
    {
        if (worker.socket) {
            worker.socket->write(Ipc::encodeFrame(Ipc::encodeMessage(message)));
        }
    }

    qsizetype Coordinator::pendingCount() const
    {
        const auto pending = std::count_if(m_outcomes.begin(), m_outcomes.end(),
                                           [](const JobOutcome& o) { return o.state == JobOutcome::State::Pending; });
        return pending + (m_queue ? m_queue->size() : 0);
    }

    JobOutcome* Coordinator::nextPending()
    {
        auto next = std::find_if(m_outcomes.begin(), m_outcomes.end(),
                                 [](const JobOutcome& o) { return o.state == JobOutcome::State::Pending; });
        if (next != m_outcomes.end()) {
            return &*next;
        }
        // Retries first, then the queue: taking from the queue only now leaves it editable until the last moment.
        if (m_queue) {
            if (const std::optional<PromptJob> job = m_queue->takeFirst()) {
                return &appendOutcome(*job);
            }
        }
        return nullptr;
    }

    Ipc::Job Coordinator::jobMessage(JobOutcome& outcome)
    {
        PromptJob& job = outcome.job;
        if (!job.seed) {
            // Recorded in the job, so the image can be made again (and a retry draws the same one).
            job.seed = quint64(QRandomGenerator::global()->generate());
        }
        Ipc::Job message;
        message.jobId = outcome.id;
        message.attempt = outcome.attempts + 1;
        message.prompt = job.prompt;
        message.negativePrompt = job.negativePrompt;
        message.seed = *job.seed;
        message.steps = job.steps.value_or(m_options.steps);
        message.cfgScale = job.cfgScale.value_or(m_options.cfgScale);
        message.width = job.width.value_or(m_options.width);
        message.height = job.height.value_or(m_options.height);
        message.scheduler = job.scheduler.value_or(m_options.scheduler);
        message.outputPath = QDir(m_options.outputDirectory).filePath(imageFileName(outcome.id, *job.seed, job.prompt));
        return message;
    }

    void Coordinator::dispatch()
    {
        if (m_stopping || m_dispatching) {
            return;
        }
        // Taking from the queue changes its size, whose signal would call us again.
        m_dispatching = true;
        const auto live = std::count_if(m_workers.begin(), m_workers.end(), [](const auto& w) {
            return w->state != Worker::State::Disabled && w->state != Worker::State::Exited;
        });
        for (auto& worker : m_workers) {
            if (worker->state != Worker::State::Idle) {
                continue;
            }
            JobOutcome* lead = nextPending();
            if (!lead) {
                break;
            }
            // Pull, not push: a worker takes at most its share of what waits, so the last jobs are not all batched
            // onto one device while another one idles.
            const qsizetype share = (pendingCount() + live - 1) / std::max<qsizetype>(live, 1);
            const qsizetype limit = std::clamp<qsizetype>(share, 1, worker->maxBatch);
            QList<Ipc::Job> batch{jobMessage(*lead)};
            lead->state = JobOutcome::State::Running;
            while (batch.size() < limit) {
                JobOutcome* next = nextPending();
                if (!next) {
                    break;
                }
                // Only jobs that share the first one's settings join; the first that does not waits its turn.
                Ipc::Job candidate = jobMessage(*next);
                if (!Ipc::canShareBatch(batch.constFirst(), candidate)) {
                    break;
                }
                next->state = JobOutcome::State::Running;
                batch.append(candidate);
            }
            worker->state = Worker::State::Busy;
            for (qsizetype i = 0; i < batch.size(); ++i) {
                Ipc::Job& job = batch[i];
                job.batchIndex = static_cast<int>(i);
                job.batchCount = static_cast<int>(batch.size());
                JobOutcome& outcome = m_outcomes[job.jobId];
                outcome.attempts = job.attempt;
                outcome.rank = worker->rank;
                worker->jobs.append(job.jobId);
                send(*worker, job);
                emit jobStarted(job.jobId, worker->rank);
            }
        }
        m_dispatching = false;
    }

    void Coordinator::checkHeartbeats()
    {
        for (auto& worker : m_workers) {
            const auto silent = std::chrono::milliseconds(worker->lastHeard.elapsed());
            if (worker->state == Worker::State::Starting && silent > m_options.handshakeTimeout) {
                workerLost(*worker, u"did not connect within %1 ms"_s.arg(m_options.handshakeTimeout.count()));
            } else if ((worker->state == Worker::State::Idle || worker->state == Worker::State::Busy)
                       && silent > m_options.heartbeatTimeout) {
                workerLost(*worker, u"sent no heartbeat for %1 ms"_s.arg(silent.count()));
            }
        }
    }

    void Coordinator::maybeFinish()
    {
        if (m_finished) {
            return;
        }
        const bool anyLive = std::any_of(m_workers.begin(), m_workers.end(), [](const auto& w) {
            return w->state != Worker::State::Disabled && w->state != Worker::State::Exited;
        });
        if (!anyLive && !m_stopping) {
            // Every device is disabled: nothing can run what is left. A batch run reports it as failed; a queue
            // keeps it (unfinishedJobs()), as the artist may fix the device and start again.
            for (JobOutcome& outcome : m_outcomes) {
                if (outcome.state == JobOutcome::State::Pending && !m_options.keepRunningWhenIdle) {
                    outcome.state = JobOutcome::State::Failed;
                    outcome.lastError = u"no working device left"_s;
                    emit jobFailed(outcome.id, outcome.lastError, false);
                }
            }
            m_stopping = true;
        }
        const bool allSettled = std::all_of(m_outcomes.begin(), m_outcomes.end(), [](const JobOutcome& o) {
            return o.state == JobOutcome::State::Done || o.state == JobOutcome::State::Failed;
        });
        if (!m_stopping && (!allSettled || m_options.keepRunningWhenIdle)) {
            return;
        }
        m_stopping = true;
        bool waiting = false;
        for (auto& worker : m_workers) {
            if (worker->state == Worker::State::Idle || worker->state == Worker::State::Starting
                || worker->state == Worker::State::Busy) {
                if (worker->socket && worker->state != Worker::State::Busy) {
                    send(*worker, Ipc::Shutdown{});
                }
                waiting = true;
            } else if (worker->state == Worker::State::Restarting) {
                worker->state = Worker::State::Exited;
            }
        }
        if (!waiting) {
            m_finished = true;
            m_watchdog->stop();
            emit finished();
        }
    }
} // namespace Atelier
