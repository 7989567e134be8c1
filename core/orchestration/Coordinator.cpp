// SPDX-License-Identifier: GPL-3.0-or-later
#include "Coordinator.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QLocalSocket>
#include <QPointer>
#include <QProcess>
#include <QRandomGenerator>
#include <QRegularExpression>
#include <QScopeGuard>
#include <QTimer>

#include <cerrno>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <unistd.h>

#include "ipc/FrameCodec.h"
#include "orchestration/WorkerListener.h"
#include "queue/QueueModel.h"
#include "render/OutputNaming.h"

using namespace Qt::StringLiterals;

namespace Atelier
{
    namespace
    {
        /// How much nicer than the coordinator a worker runs (nice(2): 0 is the same, 19 the least favoured).
        constexpr int WorkerNiceness = 5;

        /// SIGKILL to the worker and everything it started (its own process group); to the worker alone when the
        /// group is not there yet.
        void killGroup(QProcess* process)
        {
            const qint64 pid = process->processId();
            if (pid <= 0 || process->state() == QProcess::NotRunning) {
                return;
            }
            if (::kill(-static_cast<pid_t>(pid), SIGKILL) != 0) {
                ::kill(static_cast<pid_t>(pid), SIGKILL);
            }
        }

        /// A regular file (not a symlink) that ends with PNG's IEND chunk: what a worker's commit leaves, and
        /// what a write cut short does not.
        LedgerOptions ledgerOptions(const CoordinatorOptions& o)
        {
            LedgerOptions l;
            l.workers = static_cast<int>(o.devices.size());
            l.outputDirectory = o.outputDirectory;
            l.namingPattern = o.namingPattern;
            l.modelName = modelShortName(o.modelPath);
            l.defaults = o.defaults;
            l.maxAttempts = o.maxAttempts;
            l.maxBatch = o.maxBatch;
            l.failuresBeforeDisabling = o.failuresBeforeDisabling;
            l.keepRunningWhenIdle = o.keepRunningWhenIdle;
            l.handshakeTimeout = o.handshakeTimeout;
            l.modelLoadTimeout = o.modelLoadTimeout;
            l.heartbeatTimeout = o.heartbeatTimeout;
            l.progressTimeout = o.progressTimeout;
            l.restartBackoff = o.restartBackoff;
            l.stopGrace = o.stopGrace;
            return l;
        }
    } // namespace

    /// One rank's current process and connection. A replaced process's late signals carry an older generation
    /// and are ignored (by the ledger, and here).
    struct Coordinator::Session
    {
        int generation = 0;
        QPointer<QProcess> process;
        QPointer<QLocalSocket> socket;
        Ipc::FrameDecoder decoder{Ipc::MaxFrameSize};
    };

    Coordinator::Coordinator(CoordinatorOptions options, QObject* parent)
        : QObject(parent)
        , m_options(std::move(options))
        , m_ledger(ledgerOptions(m_options))
        , m_listener(std::make_unique<WorkerListener>())
        , m_watchdog(new QTimer(this))
    {
        m_clock.start();
        // 32 bits, as AUTOMATIC1111 draws them, so every random seed can be typed back into its seed field.
        m_ledger.setImageCheck(isCompleteImage);
        m_ledger.setSeedSource([] { return quint64(QRandomGenerator::global()->generate()); });
        for (qsizetype rank = 0; rank < m_options.devices.size(); ++rank) {
            m_sessions.push_back(std::make_unique<Session>());
        }
        m_listener->setHandshakeTimeout(m_options.handshakeTimeout);
        connect(m_listener.get(), &WorkerListener::workerAdmitted, this, &Coordinator::admit);
        connect(m_listener.get(), &WorkerListener::connectionRejected, this,
                [this](const QString& reason) { emit workerEvent(-1, u"refused a connection: %1"_s.arg(reason)); });
        m_watchdog->setInterval(250);
        connect(m_watchdog, &QTimer::timeout, this, [this] {
            m_ledger.tick(now());
            apply();
        });
    }

    Coordinator::~Coordinator()
    {
        for (const auto& session : m_sessions) {
            if (session->process) {
                killGroup(session->process);
                session->process->waitForFinished(2000);
            }
        }
        if (!m_queue) {
            return;
        }
        // Ended mid-run (the window closed): the workers are gone, so what they were making is either whole on disk
        // or not made; the store learns which, rather than waiting for the next start to count a lost attempt.
        for (const JobRecord& job : m_ledger.jobs()) {
            if (job.itemId < 0 || isFinal(job.state)) {
                continue;
            }
            const std::optional<QueueItem> item = m_queue->store()->item(job.itemId);
            if (item && !item->imagePath.isEmpty() && isCompleteImage(item->imagePath)) {
                m_queue->markDone(job.itemId, item->imagePath);
            } else {
                m_queue->release(job.itemId, u"Atelier closed while it waited or rendered"_s);
            }
        }
    }

    JobLedger::Clock Coordinator::now() const
    {
        return JobLedger::Clock(m_clock.elapsed());
    }

    void Coordinator::addJobs(const QList<RenderSettings>& jobs)
    {
        m_ledger.addJobs(jobs, now());
        apply();
    }

    void Coordinator::setQueue(QueueModel* queue)
    {
        m_queue = queue;
        m_ledger.setJobSource(
            [queue]() -> std::optional<SourcedJob> {
                std::optional<QueueItem> item = queue->claim();
                if (!item) {
                    return std::nullopt;
                }
                return SourcedJob{item->settings, item->id, item->attempts, item->imagePath};
            },
            [queue] { return queue->waitingCount(); });
        connect(queue, &QueueModel::storeFailed, this,
                [this](const QString& reason) { emit workerEvent(-1, u"queue store: %1"_s.arg(reason)); });
        // Queued while a worker waits: start it now rather than at the next event.
        // Queued: the ledger takes from the queue while it dispatches, and must not be re-entered then.
        connect(
            queue, &QueueModel::waitingChanged, this,
            [this] {
                if (isRunning()) {
                    m_ledger.addJobs({}, now());
                    apply();
                }
            },
            Qt::QueuedConnection);
    }

    void Coordinator::setJobSource(std::function<std::optional<SourcedJob>()> take, std::function<qsizetype()> size)
    {
        m_ledger.setJobSource(std::move(take), std::move(size));
    }

    void Coordinator::jobsMayBeWaiting()
    {
        if (isRunning()) {
            m_ledger.addJobs({}, now());
            apply();
        }
    }

    QString Coordinator::start()
    {
        if (m_started) {
            return u"the run has started already"_s;
        }
        if (m_options.devices.isEmpty()) {
            return u"no devices to run on"_s;
        }
        if (const QList<SettingProblem> problems = m_options.defaults.problems(); !problems.isEmpty()) {
            return problems.constFirst().message;
        }
        if (!m_options.namingPattern.isEmpty()) {
            if (const QString problem = checkNamingPattern(m_options.namingPattern); !problem.isEmpty()) {
                return problem;
            }
        }
        if (!QDir(m_options.outputDirectory).exists()) {
            return u"the output folder %1 does not exist"_s.arg(m_options.outputDirectory);
        }
        for (const QString& device : m_options.devices) {
            QString error;
            const std::optional<Precision> precision = resolvePrecision(m_options.precision, device, &error);
            if (!precision) {
                return error;
            }
            m_precisions.append(precisionName(*precision));
        }
        if (const QString error = m_listener->listen(); !error.isEmpty()) {
            return error;
        }
        // Numbers continue from the folder's highest, so nothing there is ever replaced.
        m_ledger.setFirstImageNumber(nextImageNumber(m_options.outputDirectory));
        m_groupSize = static_cast<int>(m_options.devices.size());
        m_started = true;
        m_ledger.start(now());
        m_watchdog->start();
        apply();
        return {};
    }

    int Coordinator::addDevice(const QString& device, QString* error)
    {
        QString problem;
        if (m_ledger.isFinished()) {
            problem = u"the run has ended"_s;
        }
        std::optional<Precision> precision;
        if (problem.isEmpty()) {
            precision = resolvePrecision(m_options.precision, device, &problem);
        }
        if (!precision) {
            if (error) {
                *error = problem;
            }
            return -1;
        }
        m_options.devices.append(device);
        m_sessions.push_back(std::make_unique<Session>());
        if (m_started) {
            m_precisions.append(precisionName(*precision));
        }
        const int rank = m_ledger.addWorker(now());
        apply();
        return rank;
    }

    void Coordinator::setDeviceEnabled(int rank, bool enabled)
    {
        m_ledger.setWorkerEnabled(rank, enabled, now());
        apply();
    }

    void Coordinator::setPaused(bool paused)
    {
        m_ledger.setPaused(paused, now());
        apply();
    }

    bool Coordinator::cancelItem(qint64 itemId)
    {
        for (const JobRecord& job : m_ledger.jobs()) {
            if (job.itemId == itemId && !isFinal(job.state)) {
                const bool canceled = m_ledger.cancelJob(job.id, now());
                apply();
                return canceled;
            }
        }
        return false;
    }

    void Coordinator::stop()
    {
        m_ledger.stop(now());
        apply();
    }

    void Coordinator::kill()
    {
        m_ledger.kill(now());
        apply();
    }

    QHash<int, int> Coordinator::jobsPerRank() const
    {
        QHash<int, int> counts;
        for (int rank = 0; rank < static_cast<int>(m_sessions.size()); ++rank) {
            counts.insert(rank, m_ledger.jobsDoneBy(rank));
        }
        return counts;
    }

    qint64 Coordinator::workerPid(int rank) const
    {
        if (rank < 0 || rank >= static_cast<int>(m_sessions.size())) {
            return 0;
        }
        const QProcess* process = m_sessions[rank]->process;
        return process && process->state() != QProcess::NotRunning ? process->processId() : 0;
    }

    QString Coordinator::socketPath() const
    {
        return m_listener->socketPath();
    }

    Coordinator::Session* Coordinator::session(int rank, int generation)
    {
        if (rank < 0 || rank >= static_cast<int>(m_sessions.size())) {
            return nullptr;
        }
        Session* s = m_sessions[rank].get();
        return s->generation == generation ? s : nullptr;
    }

    void Coordinator::apply()
    {
        // A slot connected to one of our signals may stop() or kill() from inside this loop: it only queues more
        // actions, which the outer loop carries out in order after the ones already taken.
        if (m_applying) {
            return;
        }
        m_applying = true;
        const auto reset = qScopeGuard([this] { m_applying = false; });
        for (std::vector<Action> actions = m_ledger.takeActions(); !actions.empty(); actions = m_ledger.takeActions()) {
            applyActions(actions);
        }
    }

    void Coordinator::applyActions(std::vector<Action>& actions)
    {
        for (Action& action : actions) {
            std::visit(
                [this](auto& a) {
                    using T = std::decay_t<decltype(a)>;
                    if constexpr (std::is_same_v<T, LedgerAction::Spawn>) {
                        spawn(a.rank, a.generation);
                    } else if constexpr (std::is_same_v<T, LedgerAction::SendJobs>) {
                        // Written ahead: the store knows the seed and image path before the worker does, so an
                        // image that a crash leaves unreported is found where it was planned.
                        for (const Ipc::Job& job : a.jobs) {
                            if (m_queue && m_ledger.job(job.jobId).itemId >= 0) {
                                m_queue->recordDispatch(job.itemId, job.seed, job.outputPath, job.attempt,
                                                        m_options.devices.at(a.rank));
                            }
                        }
                        for (const Ipc::Job& job : a.jobs) {
                            send(a.rank, job);
                        }
                    } else if constexpr (std::is_same_v<T, LedgerAction::SendCancel>) {
                        send(a.rank, Ipc::Cancel{a.jobId});
                    } else if constexpr (std::is_same_v<T, LedgerAction::SendShutdown>) {
                        send(a.rank, Ipc::Shutdown{});
                    } else if constexpr (std::is_same_v<T, LedgerAction::Kill>) {
                        killProcess(a.rank);
                    } else if constexpr (std::is_same_v<T, LedgerAction::JobStarted>) {
                        emit jobStarted(a.jobId, a.rank);
                    } else if constexpr (std::is_same_v<T, LedgerAction::JobDone>) {
                        const JobRecord& job = m_ledger.job(a.jobId);
                        if (m_queue && job.itemId >= 0) {
                            m_queue->markDone(job.itemId, job.imagePath);
                        }
                        emit jobFinished(a.jobId, job.imagePath);
                    } else if constexpr (std::is_same_v<T, LedgerAction::JobFailed>) {
                        if (const qint64 item = m_ledger.job(a.jobId).itemId; m_queue && item >= 0) {
                            m_queue->markFailed(item, a.reason, !a.retry);
                        }
                        emit jobFailed(a.jobId, a.reason, a.retry);
                    } else if constexpr (std::is_same_v<T, LedgerAction::JobCanceled>) {
                        if (const JobRecord& job = m_ledger.job(a.jobId); m_queue && job.itemId >= 0) {
                            // Canceled by the artist: it stays canceled (and can be retried); stopped with the
                            // run: it waits again, first.
                            if (job.cancelRequested) {
                                m_queue->cancel({job.itemId}, a.reason);
                            } else {
                                m_queue->release(job.itemId, a.reason);
                            }
                        }
                        emit jobCanceled(a.jobId, a.reason);
                    } else if constexpr (std::is_same_v<T, LedgerAction::WorkerNote>) {
                        emit workerEvent(a.rank, a.message);
                    } else if constexpr (std::is_same_v<T, LedgerAction::Finished>) {
                        m_watchdog->stop();
                        // Queued: a caller that stops from a slot sees finished() after it returns.
                        QMetaObject::invokeMethod(this, &Coordinator::finished, Qt::QueuedConnection);
                    }
                },
                action);
        }
    }

    void Coordinator::killProcess(int rank)
    {
        Session& s = *m_sessions[rank];
        if (s.socket) {
            s.socket->disconnect(this);
            s.socket->abort();
            s.socket->deleteLater();
            s.socket = nullptr;
        }
        m_listener->forgetWorker(rank);
        if (s.process) {
            // No blocking wait on this (possibly GUI) thread: the exit event reaches the ledger when it is reaped.
            killGroup(s.process);
        }
    }

    void Coordinator::spawn(int rank, int generation)
    {
        Session& s = *m_sessions[rank];
        if (s.process) {
            killGroup(s.process);
        }
        s.generation = generation;
        s.decoder = Ipc::FrameDecoder(Ipc::MaxFrameSize);
        const QString device = m_options.devices.at(rank);
        const QByteArray token = m_listener->expectWorker(rank);
        QStringList arguments{u"serve"_s,  u"--socket"_s,         m_listener->socketPath(),
                              u"--rank"_s, QString::number(rank), u"--device"_s,
                              device,      u"--dtype"_s,          m_precisions.at(rank)};
        if (!m_options.modelPath.isEmpty()) {
            arguments << u"--model"_s << m_options.modelPath;
        }
        if (m_options.maxBatch > 0) {
            arguments << u"--max-batch"_s << QString::number(m_options.maxBatch);
        }
        for (const QString& folder : m_options.loraFolders) {
            arguments << u"--lora-dir"_s << folder;
        }
        for (const QString& folder : m_options.embeddingFolders) {
            arguments << u"--embeddings-dir"_s << folder;
        }
        for (const QString& folder : m_options.vaeFolders) {
            arguments << u"--vae-dir"_s << folder;
        }
        if (m_options.threadsPerWorker > 0) {
            arguments << u"--threads"_s << QString::number(m_options.threadsPerWorker);
        }
        // The first generation of workers forms the process group (device exchange); a restarted worker cannot
        // rejoin a group that has formed, so it runs alone.
        if (m_groupSize > 1 && rank < m_groupSize && generation == 1) {
            arguments << u"--world-size"_s << QString::number(m_groupSize) << u"--rendezvous"_s
                      << QDir(m_listener->privateDirectory()).filePath(u"rendezvous"_s);
            // NCCL when every worker is on a GPU; a group with a CPU worker in it can only speak Gloo.
            const bool allCuda = std::all_of(m_options.devices.begin(), m_options.devices.begin() + m_groupSize,
                                             [](const QString& d) { return d.startsWith(u"cuda"_s); });
            arguments << u"--group-backend"_s << (allCuda ? u"nccl"_s : u"gloo"_s);
        }
        QProcessEnvironment environment = QProcessEnvironment::systemEnvironment();
        for (const QProcessEnvironment& extra : {m_options.extraEnvironment, m_options.rankEnvironment.value(rank)}) {
            for (const QString& key : extra.keys()) {
                environment.insert(key, extra.value(key));
            }
        }
        // The token travels through a pipe the worker inherits, filled and closed before it starts: argv and the
        // environment are readable through /proc, and a pipe, once read, holds nothing.
        int tokenPipe[2] = {-1, -1};
        if (::pipe2(tokenPipe, O_CLOEXEC) != 0
            || ::write(tokenPipe[1], token.constData(), static_cast<size_t>(token.size())) != token.size()) {
            for (const int fd : tokenPipe) {
                if (fd >= 0) {
                    ::close(fd);
                }
            }
            emit workerEvent(
                rank, u"cannot pass the worker its secret: %1"_s.arg(QString::fromLocal8Bit(std::strerror(errno))));
            QMetaObject::invokeMethod(
                this,
                [this, rank, generation] {
                    m_ledger.workerExited(rank, generation, u"could not start: no pipe for its secret"_s, now());
                    apply();
                },
                Qt::QueuedConnection);
            return;
        }
        ::close(tokenPipe[1]);
        const int tokenFd = tokenPipe[0];
        arguments << u"--token-fd"_s << QString::number(tokenFd);

        auto* process = new QProcess(this);
        process->setProgram(m_options.workerProgram);
        process->setArguments(arguments);
        process->setProcessEnvironment(environment);
        process->setProcessChannelMode(QProcess::ForwardedErrorChannel);
        // Its own process group, so a hung worker is killed with anything it started.
        // In the child only: the secret's descriptor survives exec (it is close-on-exec everywhere else).
        // Workers a step below the window in CPU priority: a CPU worker uses every core it is given, and the
        // artist's window (and desktop) must stay responsive meanwhile; it costs a render almost nothing, as
        // the window is idle most of the time.
        process->setChildProcessModifier([tokenFd] {
            ::setpgid(0, 0);
            ::fcntl(tokenFd, F_SETFD, 0);
            [[maybe_unused]] const int niceness = ::nice(WorkerNiceness);
        });
        // Queued: a failure to start is reported from inside start(), and the ledger must not be re-entered.
        connect(
            process, &QProcess::finished, this,
            [this, rank, generation, process](int exitCode, QProcess::ExitStatus status) {
                process->deleteLater();
                const QString reason
                    = status == QProcess::CrashExit ? u"crashed"_s : u"exited with code %1"_s.arg(exitCode);
                m_ledger.workerExited(rank, generation, reason, now());
                apply();
            },
            Qt::QueuedConnection);
        connect(
            process, &QProcess::errorOccurred, this,
            [this, rank, generation, process](QProcess::ProcessError error) {
                if (error == QProcess::FailedToStart) {
                    process->deleteLater();
                    m_ledger.workerExited(
                        rank, generation,
                        u"could not start %1: %2"_s.arg(m_options.workerProgram, process->errorString()), now());
                    apply();
                }
            },
            Qt::QueuedConnection);
        s.process = process;
        process->start();
        ::close(tokenFd);
        m_listener->expectProcess(rank, process->processId());
        // The child makes itself a group leader, but maybe not before a kill comes: make it one from here too,
        // so killGroup() always reaches it.
        if (const qint64 pid = process->processId(); pid > 0) {
            ::setpgid(static_cast<pid_t>(pid), static_cast<pid_t>(pid));
        }
        emit workerEvent(rank, u"starting on %1 (%2)"_s.arg(device, m_precisions.at(rank)));
    }

    void Coordinator::admit(int rank, QLocalSocket* socket, const Ipc::Hello& hello, const QByteArray& pending)
    {
        const int generation
            = rank >= 0 && rank < static_cast<int>(m_sessions.size()) ? m_sessions[rank]->generation : -1;
        Session* s = session(rank, generation);
        const bool ours = s && s->process && s->process->processId() == hello.pid;
        if (!ours || m_ledger.workerState(rank) != WorkerState::Starting) {
            emit workerEvent(rank, u"refused a connection claiming rank %1 (pid %2)"_s.arg(rank).arg(hello.pid));
            socket->abort();
            socket->deleteLater();
            return;
        }
        static const QRegularExpression batchCapability(u"^batch=(\\d+)$"_s);
        int maxBatch = 1;
        for (const QString& capability : hello.capabilities) {
            if (const auto match = batchCapability.match(capability); match.hasMatch()) {
                maxBatch = match.captured(1).toInt();
            }
        }
        socket->setParent(this);
        s->socket = socket;
        m_ledger.workerConnected(rank, generation, maxBatch, now());
        connect(socket, &QLocalSocket::readyRead, this, [this, rank, generation] { readFrom(rank, generation); });
        connect(socket, &QLocalSocket::disconnected, this, [this, rank, generation, socket] {
            Session* same = session(rank, generation);
            if (!same || same->socket != socket) {
                return;
            }
            same->socket = nullptr;
            socket->deleteLater();
            // A dying worker's socket closes just before its process is reaped; give the exit a moment to arrive
            // so the job's failure names the real cause (a crash, an exit code) rather than the closed socket.
            QTimer::singleShot(2000, this, [this, rank, generation] {
                m_ledger.workerDisconnected(rank, generation, now());
                apply();
            });
        });
        emit workerEvent(rank, u"connected on %1 (%2); loading the model"_s.arg(hello.device, hello.deviceName));
        s->decoder.feed(pending);
        readFrom(rank, generation);
        apply();
    }

    void Coordinator::readFrom(int rank, int generation)
    {
        while (true) {
            Session* s = session(rank, generation);
            if (!s || !s->socket) {
                return;
            }
            // Bounded reads: an oversized frame is refused from its length prefix, before its bytes are read.
            if (s->socket->bytesAvailable() > 0) {
                s->decoder.feed(s->socket->read(64 * 1024));
            }
            const Ipc::FrameResult frame = s->decoder.next();
            if (frame.status == Ipc::FrameStatus::Invalid) {
                m_ledger.workerMisbehaved(rank, generation, frame.error, now());
                apply();
                return;
            }
            if (frame.status == Ipc::FrameStatus::Incomplete) {
                if (s->socket->bytesAvailable() > 0) {
                    continue;
                }
                return;
            }
            const Ipc::DecodeResult decoded = Ipc::decodeMessage(frame.payload);
            if (!decoded.message) {
                m_ledger.workerMisbehaved(rank, generation, decoded.error, now());
                apply();
                return;
            }
            handle(rank, generation, *decoded.message);
            apply();
        }
    }

    void Coordinator::handle(int rank, int generation, const Ipc::Message& message)
    {
        const auto t = now();
        m_ledger.workerHeard(rank, generation, t);
        const bool mine = [&] {
            const qint64 id = std::visit(
                [](const auto& m) -> qint64 {
                    if constexpr (requires { m.jobId; }) {
                        return m.jobId;
                    } else {
                        return -1;
                    }
                },
                message);
            return id >= 0 && m_ledger.workerGeneration(rank) == generation && m_ledger.jobsOf(rank).contains(id);
        }();
        if (const auto* heartbeat = std::get_if<Ipc::Heartbeat>(&message)) {
            emit workerMemory(rank, heartbeat->memoryUsed, heartbeat->memoryTotal);
            return;
        }
        if (std::holds_alternative<Ipc::Ready>(message)) {
            emit workerEvent(rank, u"ready on %1"_s.arg(m_options.devices.at(rank)));
            m_ledger.workerReady(rank, generation, t);
        } else if (const auto* progress = std::get_if<Ipc::Progress>(&message)) {
            m_ledger.jobProgress(rank, generation, progress->jobId, t);
            if (mine) {
                emit jobProgress(progress->jobId, rank, progress->step, progress->total, progress->iterationsPerSecond);
            }
        } else if (const auto* preview = std::get_if<Ipc::Preview>(&message)) {
            if (mine) {
                emit jobPreview(preview->jobId, preview->width, preview->height, preview->rgb);
            }
        } else if (const auto* result = std::get_if<Ipc::Result>(&message)) {
            m_ledger.jobResult(rank, generation, result->jobId, result->imagePath, result->metadata, t);
        } else if (const auto* error = std::get_if<Ipc::Error>(&message)) {
            if (error->jobId >= 0) {
                if (error->code == u"exists"_s) {
                    // Someone else writes into this folder: skip past everything there now, not one name at a time.
                    m_ledger.raiseImageNumber(nextImageNumber(m_options.outputDirectory));
                }
                m_ledger.jobError(rank, generation, error->jobId, error->code, error->message, t);
            } else {
                // Not about a job: the worker cannot work (its model did not load); it exits next.
                m_ledger.workerCannotWork(rank, generation, u"%1: %2"_s.arg(error->code, error->message), t);
            }
        } else {
            m_ledger.workerMisbehaved(rank, generation, u"a worker sent a %1 message"_s.arg(Ipc::messageType(message)),
                                      t);
        }
    }

    void Coordinator::send(int rank, const Ipc::Message& message)
    {
        Session& s = *m_sessions[rank];
        if (s.socket && s.socket->state() == QLocalSocket::ConnectedState) {
            s.socket->write(Ipc::encodeFrame(Ipc::encodeMessage(message)));
        }
    }
} // namespace Atelier
