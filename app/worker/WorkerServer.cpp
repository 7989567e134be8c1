// SPDX-License-Identifier: GPL-3.0-or-later
#include "WorkerServer.h"

#include <QCborMap>
#include <QCommandLineParser>
#include <QCoreApplication>
#include <QCryptographicHash>
#include <QDeadlineTimer>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QHash>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLocalSocket>
#include <QSet>
#include <QTimer>

#include <ATen/Context.h>
#include <ATen/Parallel.h>
#include <ATen/core/Tensor.h>
#include <c10/core/InferenceMode.h>
#include <c10/util/Exception.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <thread>
#include <tuple>
#include <unistd.h>

#ifdef Q_OS_LINUX
#include <sys/prctl.h>
#endif

#include "BuildInfo.h"
#include "InitImage.h"
#include "PngWriter.h"
#include "PromptLoras.h"
#include "WorkerCommands.h"
#include "engine/CudaDevices.h"
#include "engine/Devices.h"
#include "engine/EngineError.h"
#include "engine/ExtraNetworks.h"
#include "engine/Pipeline.h"
#include "engine/ProcessGroup.h"
#include "engine/Schedulers.h"
#include "engine/Vae.h"
#include "ipc/FrameCodec.h"
#include "ipc/Protocol.h"
#include "render/FileHashes.h"
#include "render/ImageMetadata.h"

using namespace Qt::StringLiterals;
using namespace Atelier::Engine;

namespace Atelier::Worker
{
    namespace
    {
        struct UsageError
        {
            QString message;
        };

        /// This process's resident size, from /proc/self/statm (0 where it cannot be read).
        qint64 residentBytes()
        {
            QFile statm(u"/proc/self/statm"_s);
            if (!statm.open(QIODevice::ReadOnly)) {
                return 0;
            }
            const QList<QByteArray> fields = statm.readAll().split(' ');
            return fields.size() > 1 ? fields.at(1).toLongLong() * ::sysconf(_SC_PAGESIZE) : 0;
        }

        void printError(const QString& message)
        {
            std::fprintf(stderr, "atelier-worker serve: %s\n", qPrintable(message));
        }

        double secondsSince(std::chrono::steady_clock::time_point start)
        {
            return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        }

        /// Everything the serve mode is started with.
        struct ServeOptions
        {
            QString socketPath;
            int rank = 0;
            DeviceSpec device;
            QString dtype = u"fp32"_s;
            QString model;
            int threads = 0;
            QByteArray token;
            int maxBatch = 0; ///< most jobs rendered at once at 512×512; 0: the device's default
            int worldSize = 1; ///< > 1: join the workers' process group first
            QString rendezvous; ///< the c10d FileStore the group meets in
            QString groupBackend = u"gloo"_s; ///< "nccl" when every worker of the group is on a GPU
            std::vector<std::filesystem::path> loraFolders; ///< where prompts' <lora:NAME> tags are looked up
            std::vector<std::filesystem::path> embeddingFolders; ///< the textual inversions prompts may name
            std::vector<std::filesystem::path> vaeFolders; ///< where jobs' VAEs are found by name
        };

        /// The model with one VAE: the model's own, or one a job named (its A1111 "VAE" name and "VAE hash").
        struct LoadedVae
        {
            QString key; ///< what the jobs named it by; empty: the model's own
            std::shared_ptr<const StableDiffusionModel> model;
            QString name;
            QString hash;
        };

        /// A job, and its prompt made ready for the engine (its LoRAs found).
        struct PreparedJob
        {
            Ipc::Job job;
            PreparedPrompt prompt;
            QList<std::pair<QString, QString>> embeddingHashes; ///< the textual inversions it uses, for the infotext
            std::optional<at::Tensor> initImage = {}; ///< image to image: uint8 [H, W, 3], read and resized
        };

        /// The test-only hooks (see runServe); all off unless ATELIER_TEST_HOOKS=1.
        struct TestHooks
        {
            int stepDelayMs = 0;
            QString crashOnPrompt;
            QString hangOnPrompt;
            int oomAboveBatch = 0; ///< > 0: a batch larger than this runs out of memory
            QString oomOnPrompt; ///< a batch holding this prompt runs out of memory, even alone

            static TestHooks fromEnvironment()
            {
                TestHooks hooks;
                if (qEnvironmentVariable("ATELIER_TEST_HOOKS") != u"1"_s) {
                    return hooks;
                }
                hooks.stepDelayMs = qEnvironmentVariableIntValue("ATELIER_TEST_STEP_DELAY_MS");
                hooks.crashOnPrompt = qEnvironmentVariable("ATELIER_TEST_CRASH_ON_PROMPT");
                hooks.hangOnPrompt = qEnvironmentVariable("ATELIER_TEST_HANG_ON_PROMPT");
                hooks.oomAboveBatch = qEnvironmentVariableIntValue("ATELIER_TEST_OOM_ABOVE_BATCH");
                hooks.oomOnPrompt = qEnvironmentVariable("ATELIER_TEST_OOM_ON_PROMPT");
                return hooks;
            }
        };

        /// Reads the secret from the inherited descriptor @p fd (a pipe the coordinator filled and closed) and closes
        /// it: the secret is never in the environment or argv, where /proc shows it to other processes of the user,
        /// and once read it is gone from the pipe too.
        QByteArray takeToken(const QString& fdText)
        {
            bool ok = false;
            const int fd = fdText.toInt(&ok);
            if (fdText.isEmpty() || !ok || fd < 3) {
                throw UsageError{u"--token-fd must name the inherited descriptor that holds the secret"_s};
            }
            QByteArray token(Ipc::TokenSize + 1, Qt::Uninitialized);
            qsizetype got = 0;
            while (got < token.size()) {
                const ssize_t n = ::read(fd, token.data() + got, static_cast<size_t>(token.size() - got));
                if (n < 0 && errno == EINTR) {
                    continue;
                }
                if (n < 0) {
                    throw UsageError{u"--token-fd %1: %2"_s.arg(fd).arg(QString::fromLocal8Bit(std::strerror(errno)))};
                }
                if (n == 0) {
                    break;
                }
                got += n;
            }
            ::close(fd);
            if (got != Ipc::TokenSize) {
                // Without a valid secret the coordinator would only drop us; saying so here is clearer.
                throw UsageError{u"--token-fd %1 must hold exactly %2 bytes of secret"_s.arg(fd).arg(Ipc::TokenSize)};
            }
            token.truncate(Ipc::TokenSize);
            return token;
        }

        ServeOptions parseOptions(const QStringList& arguments)
        {
            QCommandLineParser parser;
            parser.setApplicationDescription(
                u"Serve jobs for Atelier's coordinator over a local socket. The secret comes from the environment "
                u"descriptor --token-fd names (32 bytes, then end of file)."_s);
            parser.addHelpOption();
            parser.addPositionalArgument(u"serve"_s, u"The command."_s);
            parser.addOptions({
                {u"socket"_s, u"The coordinator's local socket."_s, u"path"_s},
                {u"token-fd"_s, u"An inherited descriptor holding the secret that proves who this worker is."_s,
                 u"fd"_s},
                {u"rank"_s, u"This worker's rank, as the coordinator numbers them."_s, u"n"_s, u"0"_s},
                {u"device"_s, u"cpu or cuda:N."_s, u"device"_s, u"cpu"_s},
                {u"dtype"_s, u"auto (fp16 on CUDA, fp32 on the CPU), fp32, or fp16/bf16 on CUDA."_s, u"dtype"_s,
                 u"auto"_s},
                {u"model"_s,
                 u"Model folder (diffusers layout) or single-file .safetensors. Default: the embedded tiny model."_s,
                 u"path"_s, QDir(dataDirectory()).filePath(u"models/atelier-tiny"_s)},
                {u"threads"_s, u"CPU threads for LibTorch (default: LibTorch's choice)."_s, u"n"_s, u"0"_s},
                {u"max-batch"_s,
                 u"Most jobs rendered in one batch at 512×512 (scaled by image area; default: 1 on the CPU, on CUDA "
                 u"what free memory allows, up to 8)."_s,
                 u"n"_s, u"0"_s},
                {u"world-size"_s, u"Workers in the process group (1: none)."_s, u"n"_s, u"1"_s},
                {u"rendezvous"_s, u"The file the process group meets in."_s, u"path"_s},
                {u"group-backend"_s, u"gloo, or nccl when every worker is on a CUDA device."_s, u"name"_s, u"gloo"_s},
                {u"lora-dir"_s, u"A folder to find the LoRAs prompts name in (subfolders too); repeatable."_s,
                 u"dir"_s},
                {u"vae-dir"_s, u"A folder to find the VAEs jobs name in (subfolders too); repeatable."_s, u"dir"_s},
                {u"embeddings-dir"_s,
                 u"A folder of textual-inversion embeddings prompts may name (subfolders too); repeatable."_s,
                 u"dir"_s},
            });
            if (!parser.parse(arguments)) {
                throw UsageError{parser.errorText()};
            }
            if (parser.isSet(u"help"_s)) {
                std::fputs(qPrintable(parser.helpText()), stdout);
                std::exit(0);
            }
            ServeOptions options;
            options.socketPath = parser.value(u"socket"_s);
            if (options.socketPath.isEmpty()) {
                throw UsageError{u"--socket is required"_s};
            }
            bool ok = false;
            options.rank = parser.value(u"rank"_s).toInt(&ok);
            if (!ok || options.rank < 0 || options.rank > 65535) {
                throw UsageError{u"--rank must be a number from 0 to 65535"_s};
            }
            options.threads = parser.value(u"threads"_s).toInt(&ok);
            if (!ok || options.threads < 0 || options.threads > 1024) {
                throw UsageError{u"--threads must be a number from 0 to 1024"_s};
            }
            std::string error;
            const auto spec = parseDevice(parser.value(u"device"_s).toStdString(), &error);
            if (!spec) {
                throw UsageError{u"--device: %1"_s.arg(QString::fromStdString(error))};
            }
            options.device = *spec;
            QString problem;
            options.dtype = resolvedPrecisionName(parser.value(u"dtype"_s), parser.value(u"device"_s), &problem);
            if (options.dtype.isEmpty()) {
                throw UsageError{problem};
            }
            options.model = parser.value(u"model"_s);
            options.maxBatch = parser.value(u"max-batch"_s).toInt(&ok);
            if (!ok || options.maxBatch < 0 || options.maxBatch > Ipc::MaxBatch) {
                throw UsageError{u"--max-batch must be a number from 1 to %1"_s.arg(Ipc::MaxBatch)};
            }
            options.worldSize = parser.value(u"world-size"_s).toInt(&ok);
            if (!ok || options.worldSize < 1 || options.worldSize > 65536) {
                throw UsageError{u"--world-size must be a number from 1 to 65536"_s};
            }
            options.rendezvous = parser.value(u"rendezvous"_s);
            options.groupBackend = parser.value(u"group-backend"_s);
            if (options.groupBackend != u"gloo"_s && options.groupBackend != u"nccl"_s) {
                throw UsageError{u"--group-backend must be gloo or nccl, got \"%1\""_s.arg(options.groupBackend)};
            }
            if (options.worldSize > 1 && (options.rendezvous.isEmpty() || options.rank >= options.worldSize)) {
                throw UsageError{u"a process group needs --rendezvous and a --rank below --world-size"_s};
            }
            for (const QString& folder : parser.values(u"lora-dir"_s)) {
                options.loraFolders.emplace_back(folder.toStdString());
            }
            for (const QString& folder : parser.values(u"vae-dir"_s)) {
                options.vaeFolders.emplace_back(folder.toStdString());
            }
            for (const QString& folder : parser.values(u"embeddings-dir"_s)) {
                options.embeddingFolders.emplace_back(folder.toStdString());
            }
            options.token = takeToken(parser.value(u"token-fd"_s));
            return options;
        }

        ModelPlacement placementFor(const ServeOptions& options)
        {
            at::Device device = at::kCPU;
            if (options.device.kind == DeviceSpec::Kind::Cuda) {
                device = at::Device(at::kCUDA, static_cast<c10::DeviceIndex>(options.device.index));
            }
            // forDevice places the VAE: fp16 for fp16 runs on CUDA (decodeImage retries an overflow in float32),
            // float32 otherwise. The precision's name was checked when the options were parsed.
            return ModelPlacement::forDevice(device,
                                             Engine::parsePrecision(options.dtype.toStdString()).value_or(at::kFloat));
        }

        /// The file whose hash names the model, as A1111 hashes the checkpoint it loads: the file itself, or for a
        /// diffusers folder the UNet's weights (the part that makes one fine-tune differ from another).
        QString hashedWeightsFile(const QString& model)
        {
            const QFileInfo info(model);
            if (!info.isDir()) {
                return info.absoluteFilePath();
            }
            const QDir unet(QDir(model).filePath(u"unet"_s));
            if (unet.exists(u"diffusion_pytorch_model.safetensors"_s)) {
                return unet.filePath(u"diffusion_pytorch_model.safetensors"_s);
            }
            const QStringList candidates = unet.entryList({u"*.safetensors"_s}, QDir::Files, QDir::Name);
            return candidates.isEmpty() ? QString() : unet.filePath(candidates.first());
        }

        /// One thread that runs tasks in order: model loading and rendering, so the event loop (heartbeats,
        /// Cancel, Shutdown) never waits for LibTorch.
        class EngineThread
        {
        public:
            EngineThread()
                : m_thread([this] { run(); })
            { }
            ~EngineThread() { stop(); }
            EngineThread(const EngineThread&) = delete;
            EngineThread& operator=(const EngineThread&) = delete;

            void post(std::function<void()> task)
            {
                {
                    const std::lock_guard lock(m_mutex);
                    m_tasks.push_back(std::move(task));
                }
                m_wake.notify_one();
            }

            /// Lets the running task finish (callers cancel it first), drops the queued ones and joins.
            void stop()
            {
                {
                    const std::lock_guard lock(m_mutex);
                    m_stopping = true;
                    m_tasks.clear();
                }
                m_wake.notify_one();
                if (m_thread.joinable()) {
                    m_thread.join();
                }
            }

        private:
            void run()
            {
                // Inference mode is per thread: every tensor the engine makes here skips autograd bookkeeping.
                c10::InferenceMode inference;
                for (;;) {
                    std::function<void()> task;
                    {
                        std::unique_lock lock(m_mutex);
                        m_wake.wait(lock, [this] { return m_stopping || !m_tasks.empty(); });
                        if (m_stopping) {
                            return;
                        }
                        task = std::move(m_tasks.front());
                        m_tasks.pop_front();
                    }
                    task();
                }
            }

            std::mutex m_mutex;
            std::condition_variable m_wake;
            std::deque<std::function<void()>> m_tasks;
            bool m_stopping = false;
            std::thread m_thread; // last: started once the members above exist
        };

        /// How one job ended, computed on the engine thread and sent from the main thread.
        struct JobOutcome
        {
            std::optional<Ipc::Result> result;
            Ipc::Error error;
        };

        /// The serve mode's state. Lives on the main thread; the engine thread reaches it only through post().
        class WorkerServer
        {
        public:
            WorkerServer(ServeOptions options, TestHooks hooks)
                : m_options(std::move(options))
                , m_hooks(std::move(hooks))
                , m_decoder(Ipc::MaxFrameSize)
            { }

            /// Connects, says Hello and starts loading the model. Returns false (with the message printed) when
            /// the socket cannot be reached.
            bool start()
            {
                m_socket.connectToServer(m_options.socketPath);
                if (!m_socket.waitForConnected(10000)) {
                    printError(u"cannot connect to %1: %2"_s.arg(m_options.socketPath, m_socket.errorString()));
                    return false;
                }
                QObject::connect(&m_socket, &QLocalSocket::readyRead, &m_context, [this] { readFrames(); });
                QObject::connect(&m_socket, &QLocalSocket::disconnected, &m_context, [this] { stop(ServeExit::Ok); });

                Ipc::Hello hello;
                hello.token = m_options.token;
                hello.rank = m_options.rank;
                hello.device = QString::fromStdString(m_options.device.toString());
                hello.pid = QCoreApplication::applicationPid();
                hello.capabilities = {u"fp32"_s};
                // What the coordinator may send as one batch; the worker splits it further if memory says so.
                const bool cuda = m_options.device.kind == DeviceSpec::Kind::Cuda;
                hello.capabilities.append(
                    u"batch=%1"_s.arg(m_options.maxBatch > 0 ? m_options.maxBatch : (cuda ? 8 : 1)));
                for (const auto& device : listDevices()) {
                    if (device.spec == m_options.device) {
                        hello.deviceName = QString::fromStdString(device.name);
                        m_deviceMemory = static_cast<qint64>(device.totalMemory);
                        if (device.spec.kind == DeviceSpec::Kind::Cuda) {
                            hello.capabilities.append(u"fp16"_s);
                            // bf16 arithmetic needs Ampere (compute capability 8.0) or newer.
                            if (device.computeCapabilityMajor >= 8) {
                                hello.capabilities.append(u"bf16"_s);
                            }
                        }
                    }
                }
                m_deviceName = hello.deviceName;
                send(hello);

                m_heartbeat.setInterval(1000);
                // Each heartbeat says how much memory the worker holds, for the window's device board. Both readings
                // are host-side bookkeeping: they never wait for the engine or the device.
                QObject::connect(&m_heartbeat, &QTimer::timeout, &m_context, [this] {
                    const bool onCuda = m_options.device.kind == DeviceSpec::Kind::Cuda;
                    const qint64 used
                        = onCuda ? static_cast<qint64>(reservedCudaMemory(m_options.device.index)) : residentBytes();
                    send(Ipc::Heartbeat{QDeadlineTimer::current().deadline(), used, m_deviceMemory});
                });
                m_heartbeat.start();

                // Loading takes seconds to minutes for real models; it runs on the engine thread so heartbeats
                // flow meanwhile, and Ready tells the coordinator when jobs may come.
                joinGroupInBackground();
                m_engine.post([this] { loadModel(); });
                // Anything that arrived with the connection is handled once the event loop runs.
                QTimer::singleShot(0, &m_context, [this] { readFrames(); });
                return true;
            }

            /// Whether a process group is still being joined (its thread runs on).
            bool groupStillForming() const
            {
                if (m_options.worldSize <= 1) {
                    return false;
                }
                const std::lock_guard lock(m_group->mutex);
                return !m_group->result && !m_group->givenUp;
            }

            /// Ends the event loop with @p exitCode once any running job has stopped.
            void stop(int exitCode)
            {
                if (m_stopping) {
                    return;
                }
                m_stopping = true;
                m_cancel = true;
                m_heartbeat.stop();
                m_engine.stop();
                if (m_socket.state() == QLocalSocket::ConnectedState) {
                    m_socket.flush();
                }
                QCoreApplication::exit(exitCode);
            }

        private:
            /// Runs @p function on the main thread (called from the engine thread).
            void post(std::function<void()> function)
            {
                QMetaObject::invokeMethod(&m_context, std::move(function), Qt::QueuedConnection);
            }

            void send(const Ipc::Message& message)
            {
                if (m_socket.state() == QLocalSocket::ConnectedState) {
                    m_socket.write(Ipc::encodeFrame(Ipc::encodeMessage(message)));
                }
            }

            void protocolError(const QString& problem)
            {
                printError(u"protocol error: %1"_s.arg(problem));
                stop(ServeExit::ProtocolError);
            }

            void readFrames()
            {
                // Bounded reads: the decoder caps each frame, and reading in chunks keeps a flood from being
                // buffered whole before the cap is checked. readyRead carries no message boundaries, so drain.
                constexpr qint64 Chunk = 64 * 1024;
                while (!m_stopping && m_socket.bytesAvailable() > 0) {
                    m_decoder.feed(m_socket.read(Chunk));
                    for (;;) {
                        Ipc::FrameResult frame = m_decoder.next();
                        if (frame.status == Ipc::FrameStatus::Incomplete) {
                            break;
                        }
                        if (frame.status == Ipc::FrameStatus::Invalid) {
                            protocolError(frame.error);
                            return;
                        }
                        Ipc::DecodeResult decoded = Ipc::decodeMessage(frame.payload);
                        if (!decoded.message) {
                            protocolError(decoded.error);
                            return;
                        }
                        handle(*decoded.message);
                        if (m_stopping) {
                            return;
                        }
                    }
                }
            }

            void handle(const Ipc::Message& message)
            {
                if (const auto* job = std::get_if<Ipc::Job>(&message)) {
                    accept(*job);
                } else if (const auto* cancel = std::get_if<Ipc::Cancel>(&message)) {
                    // A batch renders as one: cancelling any of its jobs stops all of them.
                    if (m_activeJobs.contains(cancel->jobId)) {
                        m_cancel = true;
                    }
                } else if (std::holds_alternative<Ipc::Shutdown>(message)) {
                    stop(ServeExit::Ok);
                } else if (std::holds_alternative<Ipc::Heartbeat>(message)) {
                    // The coordinator may probe us; our own heartbeats already answer.
                } else {
                    protocolError(u"a worker does not accept \"%1\" messages"_s.arg(Ipc::messageType(message)));
                }
            }

            void accept(const Ipc::Job& job)
            {
                if (!m_hooks.crashOnPrompt.isEmpty() && job.prompt.contains(m_hooks.crashOnPrompt)) {
                    // Test hook: a worker that dies of a segfault. Restore the default action first so a sanitizer's
                    // handler does not turn the crash into an orderly exit.
                    std::signal(SIGSEGV, SIG_DFL);
                    std::raise(SIGSEGV);
                }
                if (!m_hooks.hangOnPrompt.isEmpty() && job.prompt.contains(m_hooks.hangOnPrompt)) {
                    // Test hook: a hung worker, silent and deaf, as a deadlocked driver would leave it.
                    m_heartbeat.stop();
                    m_socket.flush();
                    for (;;) {
                        ::pause();
                    }
                }
                // A batch arrives as consecutive jobs; anything out of order means the coordinator lost track.
                if (job.batchIndex != m_collecting.size()) {
                    protocolError(u"job %1 is number %2 of its batch, but number %3 was due"_s.arg(job.jobId)
                                      .arg(job.batchIndex + 1)
                                      .arg(m_collecting.size() + 1));
                    return;
                }
                if (!m_collecting.isEmpty()
                    && (job.batchCount != m_collecting.constFirst().batchCount
                        || !Ipc::canShareBatch(m_collecting.constFirst(), job))) {
                    protocolError(
                        u"job %1 does not share its batch's size, steps, sampler and guidance"_s.arg(job.jobId));
                    return;
                }
                m_collecting.append(job);
                if (m_collecting.size() < job.batchCount) {
                    return;
                }
                const QList<Ipc::Job> batch = std::exchange(m_collecting, {});
                QList<Ipc::Job> runnable;
                for (const Ipc::Job& j : batch) {
                    if (!m_activeJobs.isEmpty()) {
                        send(Ipc::Error{j.jobId, u"busy"_s,
                                        u"worker %1 is still rendering; send the next batch once it reports"_s.arg(
                                            m_options.rank)});
                    } else if (j.outputPath.isEmpty()) {
                        send(Ipc::Error{j.jobId, u"bad-job"_s, u"the job names no output path"_s});
                    } else {
                        runnable.append(j);
                    }
                }
                if (runnable.isEmpty()) {
                    return;
                }
                for (const Ipc::Job& j : runnable) {
                    m_activeJobs.insert(j.jobId);
                }
                // Reset here, not when the task starts: a Cancel may arrive while the batch waits for the model.
                m_cancel = false;
                m_engine.post([this, runnable] { renderBatch(runnable); });
            }

            // ---- engine thread ----

            /// Joins the workers' process group on a thread of its own: a peer that is slow to come (or never comes)
            /// must not hold up the model load or any render. The group only describes the peers in the provenance,
            /// so images rendered before it forms simply say "no group" there.
            void joinGroupInBackground()
            {
                if (m_options.worldSize <= 1) {
                    return;
                }
                DeviceInfo self{m_options.device, m_deviceName.toStdString(), 0, 0, 0};
                for (const auto& device : listDevices()) {
                    if (device.spec == m_options.device) {
                        self = device;
                    }
                }
                // Detached, and sharing only `group`: a worker told to shut down exits at once instead of waiting
                // out the rendezvous timeout, and the thread dies with the process.
                std::thread([group = m_group, options = m_options, self] {
                    try {
                        ProcessGroupResult joined
                            = joinProcessGroup(options.rendezvous.toStdString(), options.rank, options.worldSize, self,
                                               options.groupBackend == u"nccl"_s, std::chrono::seconds(60));
                        std::fprintf(stderr, "atelier-worker %d: joined a %s process group of %d\n", options.rank,
                                     joined.backend.c_str(), options.worldSize);
                        const std::lock_guard lock(group->mutex);
                        group->result = std::move(joined);
                    } catch (const std::exception& e) {
                        std::fprintf(stderr, "atelier-worker %d: no process group: %s\n", options.rank, e.what());
                        const std::lock_guard lock(group->mutex);
                        group->givenUp = true;
                    }
                }).detach();
            }

            void loadModel()
            {
                try {
                    const ModelPlacement placement = placementFor(m_options);
                    m_model = StableDiffusionModel::load(
                        m_options.model.toStdString(),
                        QDir(dataDirectory()).filePath(u"models/atelier-tiny/tokenizer"_s).toStdString(), placement);
                    m_ownVae.model = m_model;
                    chooseBatchSize();
                    if (m_options.device.kind == DeviceSpec::Kind::Cuda) {
                        configureCudaMath(placement.dtype, /*tuneConvolutions=*/false);
                    }
                    // Hashed only once the model proved loadable: a bad multi-GB file fails in seconds, not after
                    // being read whole.
                    m_modelHash = FileHashes::modelHash(hashedWeightsFile(m_options.model));
                    m_embeddings = std::make_shared<const EmbeddingLibrary>(
                        m_model->tokenizer, m_model->textEncoder.config().hiddenSize, m_options.embeddingFolders);
                    post([this] { send(Ipc::Ready{}); });
                } catch (const std::exception& e) {
                    const QString message = QString::fromUtf8(e.what());
                    post([this, message] {
                        printError(u"cannot load %1: %2"_s.arg(m_options.model, message));
                        send(Ipc::Error{-1, u"model"_s, message});
                        if (m_socket.state() == QLocalSocket::ConnectedState) {
                            m_socket.waitForBytesWritten(2000);
                        }
                        stop(ServeExit::ModelFailed);
                    });
                }
            }

            QJsonValue groupDescription() const
            {
                std::optional<ProcessGroupResult> group;
                {
                    const std::lock_guard lock(m_group->mutex);
                    group = m_group->result;
                }
                if (!group) {
                    return QJsonValue::Null;
                }
                QJsonArray peers;
                for (const PeerInfo& peer : group->peers) {
                    peers.append(QJsonObject{{u"rank"_s, peer.rank},
                                             {u"device"_s, QString::fromStdString(peer.device)},
                                             {u"deviceName"_s, QString::fromStdString(peer.deviceName)}});
                }
                return QJsonObject{{u"backend"_s, QString::fromStdString(group->backend)},
                                   {u"worldSize"_s, static_cast<int>(group->peers.size())},
                                   {u"peers"_s, peers}};
            }

            /// What @p job rendered with: its settings, with the sampler that ran (the model's own when it named none)
            /// and the VAE by its file name (@p vaeName; empty: the model's own).
            static RenderSettings renderedSettings(const Ipc::Job& job, const QString& scheduler,
                                                   const QString& vaeName)
            {
                RenderSettings rendered{job.prompt, job.negativePrompt, job.seed,  job.steps,   job.cfgScale,
                                        job.width,  job.height,         scheduler, job.clipSkip};
                if (!job.initImage.isEmpty()) {
                    rendered.initImage = job.initImage;
                }
                if (job.denoisingStrength > 0) {
                    rendered.denoisingStrength = job.denoisingStrength;
                }
                if (job.hiresScale > RenderLimits::MinHiresScale) {
                    rendered.hiresScale = job.hiresScale;
                    rendered.hiresSteps = job.hiresSteps;
                    rendered.hiresUpscaler = job.hiresUpscaler;
                }
                if (!vaeName.isEmpty()) {
                    rendered.vae = vaeName;
                }
                return rendered;
            }

            /// The model with the VAE @p vae names (a name in the VAE folders or a path; empty: the model's own).
            /// The last VAE stays loaded, so a queue that names one VAE loads it once. Throws EngineError when the
            /// VAE cannot be found or read.
            const LoadedVae& vaeFor(const QString& vae)
            {
                if (vae.isEmpty()) {
                    return m_ownVae;
                }
                if (m_otherVae.key != vae) {
                    const std::filesystem::path path = findVae(vae.toStdString(), m_options.vaeFolders);
                    LoadedVae loaded;
                    loaded.model = StableDiffusionModel::withVae(m_model, path);
                    const QString file = QString::fromStdString(path.string());
                    std::tie(loaded.name, loaded.hash) = vaeInfotext(file);
                    loaded.key = vae;
                    m_otherVae = std::move(loaded);
                }
                return m_otherVae;
            }

            QJsonObject provenance(const Ipc::Job& job, const RenderSettings& rendered, int unetEvaluations,
                                   double totalSeconds, const QJsonArray& stepSeconds, double decodeSeconds) const
            {
                QJsonObject versions{{u"atelier"_s, BuildInfo::atelierVersion()},
                                     {u"libtorch"_s, BuildInfo::torchVersion()}};
                if (!BuildInfo::cudaVersion().isEmpty()) {
                    versions.insert(u"cuda"_s, BuildInfo::cudaVersion());
                }
                Provenance provenance;
                provenance.queueItemId = job.itemId;
                provenance.settings = rendered;
                provenance.unetEvaluations = unetEvaluations;
                provenance.model = infotextModelName(m_options.model);
                provenance.modelHash = m_modelHash;
                provenance.device = QString::fromStdString(m_options.device.toString());
                provenance.deviceName = m_deviceName;
                provenance.precision = m_options.dtype;
                provenance.extra = QJsonObject{
                    {u"rank"_s, m_options.rank},
                    {u"attempt"_s, job.attempt},
                    {u"timings"_s,
                     QJsonObject{{u"totalSeconds"_s, totalSeconds},
                                 // One entry per UNet evaluation; the first also holds the text encoding and the
                                 // initial noise.
                                 {u"stepSeconds"_s, stepSeconds},
                                 {u"decodeSeconds"_s, decodeSeconds}}},
                    {u"versions"_s, versions},
                    {u"processGroup"_s, groupDescription()},
                };
                return provenance.toJson();
            }

            /// Sends how @p job ended (from the engine thread); the worker is idle once every job has reported.
            void finish(const Ipc::Job& job, const JobOutcome& outcome)
            {
                post([this, jobId = job.jobId, outcome] {
                    m_activeJobs.remove(jobId);
                    if (outcome.result) {
                        send(*outcome.result);
                    } else {
                        send(outcome.error);
                    }
                });
            }

            void fail(const QList<Ipc::Job>& jobs, const QString& code, const QString& message)
            {
                for (const Ipc::Job& job : jobs) {
                    finish(job, JobOutcome{std::nullopt, Ipc::Error{job.jobId, code, message}});
                }
            }

            /// How many 512×512 images' worth of memory one image of @p job takes, inverted: 4 for 256², ¼ for 1024².
            /// A hires fix counts at its larger size.
            static double imagesPer512(const Ipc::Job& job)
            {
                const double scale = std::max(1.0, job.hiresScale);
                return 512.0 * 512.0 / (static_cast<double>(job.width) * job.height * scale * scale);
            }

            /// Jobs like @p job rendered together: the batch for 512×512, scaled by image area.
            int capacityFor(const Ipc::Job& job) const
            {
                return std::clamp(static_cast<int>(m_batchAt512 * imagesPer512(job)), 1, Ipc::MaxBatch);
            }

            /// The batch size for 512×512 images: as asked, else 1 on the CPU (a batch there is no faster, and
            /// artists see their first image sooner), else what the GPU's free memory holds, up to 8.
            void chooseBatchSize()
            {
                if (m_options.maxBatch > 0) {
                    m_batchAt512 = m_options.maxBatch;
                    return;
                }
                if (m_options.device.kind != DeviceSpec::Kind::Cuda) {
                    m_batchAt512 = 1;
                    return;
                }
                // Measured by hand on SD 1.5 at 512×512 with guidance, this is a safe upper bound of the memory each
                // image adds (activations of a UNet batch of 2, one VAE decode at a time); fp32 doubles it.
                const double perImage = (m_options.dtype == u"fp32"_s ? 2.4 : 1.2) * 1024.0 * 1024.0 * 1024.0;
                const double usable = 0.8 * static_cast<double>(freeCudaMemory(m_options.device.index));
                m_batchAt512 = std::clamp(static_cast<int>(usable / perImage), 1, 8);
            }

            /// Renders @p jobs (one batch from the coordinator, all with the same settings). Jobs whose prompts pad
            /// to different token chunk counts are rendered apart, and a batch larger than the device holds is
            /// split, so every image is the one it would be alone.
            void renderBatch(const QList<Ipc::Job>& jobs)
            {
                if (!m_model) {
                    // Only reached after a failed load, while the main thread is already exiting.
                    fail(jobs, u"model"_s, u"no model is loaded"_s);
                    return;
                }
                const Pipeline pipeline(m_model, m_cache, m_runner, m_embeddings);
                // Jobs whose LoRAs, embeddings, VAE or init image cannot be had fail alone, before any step; the rest
                // render in groups of one VAE, one LoRA set and one chunk count each.
                std::map<std::tuple<QString, std::string, std::size_t>, QList<PreparedJob>> groups;
                for (const Ipc::Job& job : jobs) {
                    try {
                        PreparedJob prepared{job, m_loras.prepare(job.prompt), {}};
                        for (const UsedEmbedding& used : pipeline.embeddingsOf(requestFor(prepared))) {
                            prepared.embeddingHashes.append(
                                {QString::fromStdString(used.name), m_embeddingHashes.hashOf(used.file)});
                        }
                        if (!job.initImage.isEmpty()) {
                            prepared.initImage
                                = readInitImage(job.initImage, u"init_image"_s, std::pair{job.width, job.height});
                        }
                        vaeFor(job.vae);
                        const std::size_t chunks = pipeline.chunkCount(requestFor(prepared));
                        groups[{job.vae, loraSetKey(prepared.prompt.loras), chunks}].append(std::move(prepared));
                    } catch (const std::exception& e) {
                        fail({job}, u"bad-job"_s, QString::fromUtf8(e.what()));
                    }
                }
                for (const auto& [key, group] : groups) {
                    const LoadedVae* vae = nullptr;
                    try {
                        vae = &vaeFor(std::get<0>(key));
                    } catch (const std::exception& e) {
                        // Only when the jobs named several VAEs and this one's file went away meanwhile.
                        for (const PreparedJob& prepared : group) {
                            fail({prepared.job}, u"bad-job"_s, QString::fromUtf8(e.what()));
                        }
                        continue;
                    }
                    const Pipeline withVae(vae->model, m_cache, m_runner, m_embeddings);
                    const int capacity = capacityFor(group.constFirst().job);
                    for (qsizetype start = 0; start < group.size(); start += capacity) {
                        renderGroup(withVae, *vae, group.mid(start, capacity));
                    }
                }
            }

            /// Renders @p jobs together; when the device runs out of memory, halves the batch (and remembers the
            /// smaller size) until a single image that still does not fit is reported as "oom".
            void renderGroup(const Pipeline& pipeline, const LoadedVae& vae, const QList<PreparedJob>& jobs)
            {
                QString code;
                QString message;
                try {
                    renderTogether(pipeline, vae, jobs);
                    return;
                } catch (const GenerationCancelled&) {
                    code = u"cancelled"_s;
                    message = u"cancelled"_s;
                } catch (const c10::OutOfMemoryError& e) {
                    // Every tensor of the failed attempt is gone by now, so the caching allocator has its memory
                    // back before the smaller batches run.
                    if (jobs.size() > 1) {
                        const auto half = jobs.size() / 2;
                        m_batchAt512 = std::min(
                            m_batchAt512, std::max(1, static_cast<int>(half / imagesPer512(jobs.constFirst().job))));
                        std::fprintf(stderr, "atelier-worker %d: out of memory at a batch of %d; retrying as %d + %d\n",
                                     m_options.rank, static_cast<int>(jobs.size()), static_cast<int>(half),
                                     static_cast<int>(jobs.size() - half));
                        renderGroup(pipeline, vae, jobs.mid(0, half));
                        renderGroup(pipeline, vae, jobs.mid(half));
                        return;
                    }
                    // The coordinator decides whether to retry, and where.
                    code = u"oom"_s;
                    message = QString::fromUtf8(e.what_without_backtrace());
                } catch (const c10::Error& e) {
                    code = u"engine"_s;
                    message = QString::fromUtf8(e.what_without_backtrace());
                } catch (const std::exception& e) {
                    code = u"engine"_s;
                    message = QString::fromUtf8(e.what());
                }
                for (const PreparedJob& prepared : jobs) {
                    fail({prepared.job}, code, message);
                }
            }

            static ImageRequest requestFor(const PreparedJob& prepared)
            {
                const Ipc::Job& job = prepared.job;
                ImageRequest request;
                request.prompt = prepared.prompt.prompt;
                request.negativePrompt = job.negativePrompt.toStdString();
                request.seed = job.seed;
                if (prepared.initImage) {
                    request.initImage = fromUint8Image(*prepared.initImage);
                }
                return request;
            }

            void simulateOutOfMemory(const QList<PreparedJob>& jobs) const
            {
                const bool tooLarge = m_hooks.oomAboveBatch > 0 && jobs.size() > m_hooks.oomAboveBatch;
                const bool poisoned = !m_hooks.oomOnPrompt.isEmpty()
                    && std::any_of(jobs.begin(), jobs.end(),
                                   [&](const PreparedJob& j) { return j.job.prompt.contains(m_hooks.oomOnPrompt); });
                TORCH_CHECK_WITH(OutOfMemoryError, !tooLarge && !poisoned,
                                 "CUDA out of memory (simulated by ATELIER_TEST_OOM_*) at a batch of ", jobs.size());
            }

            /// One forward pass for all of @p jobs, then one PNG per job. Throws what the pipeline throws.
            void renderTogether(const Pipeline& pipeline, const LoadedVae& vae, const QList<PreparedJob>& prepared)
            {
                if (m_cancel) {
                    throw GenerationCancelled();
                }
                simulateOutOfMemory(prepared);
                QList<Ipc::Job> jobs;
                for (const PreparedJob& p : prepared) {
                    jobs.append(p.job);
                }
                const Ipc::Job& first = jobs.constFirst();
                const QString scheduler
                    = first.scheduler.isEmpty() ? QString::fromStdString(m_model->defaultScheduler) : first.scheduler;
                GenerationSettings settings;
                settings.scheduler = scheduler.toStdString();
                settings.steps = first.steps;
                settings.guidanceScale = first.cfgScale;
                settings.width = first.width;
                settings.height = first.height;
                settings.loras = prepared.constFirst().prompt.loras;
                settings.clipSkip = first.clipSkip;
                if (!first.initImage.isEmpty()) {
                    settings.strength = first.denoisingStrength;
                }
                if (first.hiresScale > RenderLimits::MinHiresScale) {
                    HiresSettings hires;
                    hires.scale = first.hiresScale;
                    hires.steps = first.hiresSteps;
                    hires.strength = first.denoisingStrength;
                    hires.upscaler
                        = first.hiresUpscaler == u"Lanczos"_s ? HiresUpscaler::Lanczos : HiresUpscaler::Latent;
                    settings.hires = hires;
                }
                std::vector<ImageRequest> requests;
                for (const PreparedJob& p : prepared) {
                    requests.push_back(requestFor(p));
                }

                const auto start = std::chrono::steady_clock::now();
                auto stepStart = start;
                auto lastProgress = start - std::chrono::hours(1);
                auto lastPreview = lastProgress;
                QJsonArray stepSeconds;
                const GenerationResult result
                    = pipeline.generate(requests, settings, [&](const StepProgress& progress) {
                          if (m_hooks.stepDelayMs > 0) {
                              std::this_thread::sleep_for(std::chrono::milliseconds(m_hooks.stepDelayMs));
                          }
                          const auto now = std::chrono::steady_clock::now();
                          stepSeconds.append(std::chrono::duration<double>(now - stepStart).count());
                          stepStart = now;
                          if (m_cancel) {
                              return false;
                          }
                          // At most 10 progress messages a second per job, but always the last step.
                          if (now - lastProgress >= std::chrono::milliseconds(100) || progress.step == progress.total) {
                              lastProgress = now;
                              const double elapsed = std::chrono::duration<double>(now - start).count();
                              const double rate = elapsed > 0 ? progress.step / elapsed : 0.0;
                              for (const Ipc::Job& job : jobs) {
                                  post([this, p = Ipc::Progress{job.jobId, progress.step, progress.total, rate}] {
                                      send(p);
                                  });
                              }
                          }
                          // A preview every other step, at most 5 a second; reading latents synchronises with the
                          // device, so not more often than someone can look at it.
                          if (progress.step % 2 == 0 && progress.step < progress.total
                              && now - lastPreview >= std::chrono::milliseconds(200)) {
                              lastPreview = now;
                              for (qsizetype b = 0; b < jobs.size(); ++b) {
                                  sendPreview(jobs.at(b).jobId, progress.latents.narrow(0, b, 1));
                              }
                          }
                          return true;
                      });
                const double generateSeconds = secondsSince(start);
                double stepTotal = 0;
                for (const auto& seconds : stepSeconds) {
                    stepTotal += seconds.toDouble();
                }
                if (m_cancel) {
                    // Cancelled after the last step: the coordinator no longer wants these images.
                    throw GenerationCancelled();
                }

                for (qsizetype b = 0; b < jobs.size(); ++b) {
                    const Ipc::Job& job = jobs.at(b);
                    const RenderSettings rendered = renderedSettings(job, scheduler, vae.name);
                    Infotext infotext{rendered, m_modelHash, infotextModelName(m_options.model)};
                    infotext.loraHashes = prepared.at(b).prompt.hashes;
                    infotext.embeddingHashes = prepared.at(b).embeddingHashes;
                    infotext.vaeHash = vae.hash;
                    const QString a1111 = infotext.toString();
                    // The sampler calls back once per UNet evaluation, which for PNDM is one more than the steps.
                    QJsonObject meta = provenance(job, rendered, static_cast<int>(stepSeconds.size()), generateSeconds,
                                                  stepSeconds, generateSeconds - stepTotal);
                    meta.insert(u"batchSize"_s, static_cast<int>(jobs.size()));
                    const at::Tensor image = result.images.narrow(0, b, 1).contiguous();
                    bool nameTaken = false;
                    const QString writeError = writeRgbPng(
                        job.outputPath, image.const_data_ptr<std::uint8_t>(), static_cast<int>(image.size(2)),
                        static_cast<int>(image.size(1)),
                        {{u"parameters"_s, a1111},
                         {u"atelier"_s, QString::fromUtf8(QJsonDocument(meta).toJson(QJsonDocument::Compact))}},
                        &nameTaken);
                    if (!writeError.isEmpty()) {
                        // "exists": the coordinator gives the job another name; nothing is ever replaced.
                        finish(job,
                               JobOutcome{std::nullopt,
                                          Ipc::Error{job.jobId, nameTaken ? u"exists"_s : u"io"_s, writeError}});
                        continue;
                    }
                    QJsonObject timings = meta[u"timings"_s].toObject();
                    timings.insert(u"totalSeconds"_s, secondsSince(start));
                    meta.insert(u"timings"_s, timings);
                    finish(job, JobOutcome{Ipc::Result{job.jobId, job.outputPath, QCborMap::fromJsonObject(meta)}, {}});
                }
            }

            void sendPreview(qint64 jobId, const at::Tensor& latents)
            {
                // Latents above MaxPreviewSide per side (images over 2048 px) are subsampled, not scaled: a
                // preview only needs to show where the image is going.
                at::Tensor sampled = latents.narrow(0, 0, 1);
                const std::int64_t side = std::max(sampled.size(2), sampled.size(3));
                const std::int64_t stride = (side + Ipc::MaxPreviewSide - 1) / Ipc::MaxPreviewSide;
                if (stride > 1) {
                    sampled = sampled.slice(2, 0, sampled.size(2), stride).slice(3, 0, sampled.size(3), stride);
                }
                const at::Tensor rgb = latentPreview(sampled, 1);
                Ipc::Preview preview;
                preview.jobId = jobId;
                preview.height = static_cast<int>(rgb.size(1));
                preview.width = static_cast<int>(rgb.size(2));
                preview.rgb = QByteArray(reinterpret_cast<const char*>(rgb.const_data_ptr<std::uint8_t>()),
                                         static_cast<qsizetype>(rgb.numel()));
                post([this, preview = std::move(preview)] { send(preview); });
            }

            ServeOptions m_options;
            TestHooks m_hooks;
            QObject m_context; ///< receiver of the engine thread's posts and of socket/timer signals
            QLocalSocket m_socket;
            QTimer m_heartbeat;
            qint64 m_deviceMemory = 0; ///< the device's total memory (system RAM for the CPU)
            Ipc::FrameDecoder m_decoder;
            QString m_deviceName;
            QList<Ipc::Job> m_collecting; ///< main thread: the batch being received
            QSet<qint64> m_activeJobs; ///< main thread: jobs sent to the engine that have not reported yet
            std::atomic<bool> m_cancel = false;
            bool m_stopping = false;
            // Engine thread only (written by loadModel, read by render, both on that thread).
            std::shared_ptr<const StableDiffusionModel> m_model;
            QString m_modelHash;
            LoadedVae m_ownVae; ///< the model as loaded (set with m_model)
            LoadedVae m_otherVae; ///< the last VAE a job named, with the model it makes
            std::shared_ptr<PromptEmbeddingCache> m_cache = std::make_shared<PromptEmbeddingCache>();
            /// Keeps the UNet's CUDA graphs across jobs: a queue of same-size prompts captures once.
            std::shared_ptr<GraphRunner> m_runner = std::make_shared<GraphRunner>();
            PromptLoras m_loras{m_options.loraFolders, {}};
            std::shared_ptr<const EmbeddingLibrary> m_embeddings;
            FileHashCache m_embeddingHashes{FileHashes::embeddingHash};
            int m_batchAt512 = 1; ///< engine thread: chosen after the model loads, lowered by out-of-memory errors
            /// Set by the group's own thread once it forms; read when an image's provenance is written.
            struct GroupSlot
            {
                std::mutex mutex;
                std::optional<ProcessGroupResult> result;
                bool givenUp = false; ///< the join failed: the thread has ended
            };
            std::shared_ptr<GroupSlot> m_group = std::make_shared<GroupSlot>();
            EngineThread m_engine; ///< last: destroyed (joined) first, while everything it uses still exists
        };
    } // namespace

    int runServe(const QStringList& arguments)
    {
#ifdef Q_OS_LINUX
        // Die with the coordinator. The parent may have died before prctl took effect; then we were reparented
        // and getppid() changed.
        const pid_t parent = getppid();
        ::prctl(PR_SET_PDEATHSIG, SIGTERM);
        if (getppid() != parent) {
            printError(u"the coordinator is gone"_s);
            return ServeExit::ConnectFailed;
        }
#endif
        ServeOptions options;
        try {
            options = parseOptions(arguments);
        } catch (const UsageError& e) {
            printError(e.message + u" (see atelier-worker serve --help)"_s);
            return ServeExit::Usage;
        }
        if (options.threads > 0) {
            at::set_num_threads(options.threads);
        }
        WorkerServer server(std::move(options), TestHooks::fromEnvironment());
        if (!server.start()) {
            return ServeExit::ConnectFailed;
        }
        const int code = QCoreApplication::exec();
        if (server.groupStillForming()) {
            // The group's thread may sit in the rendezvous for a minute, or inside NCCL; exit()'s destructors must
            // not run under it. Everything worth keeping was sent and flushed before the event loop ended.
            std::fflush(stdout);
            std::fflush(stderr);
            std::_Exit(code);
        }
        return code;
    }
} // namespace Atelier::Worker
