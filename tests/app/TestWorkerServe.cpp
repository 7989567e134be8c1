// SPDX-License-Identifier: GPL-3.0-or-later
// `atelier-worker serve` end to end: the test plays the coordinator on a QLocalServer and runs the real worker.
#include <QCryptographicHash>
#include <QDeadlineTimer>
#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QImage>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLocalServer>
#include <QLocalSocket>
#include <QProcess>
#include <QRandomGenerator>
#include <QTemporaryDir>
#include <QTest>

#include <ATen/TensorOperators.h>
#include <ATen/ops/empty.h>

#include <fcntl.h>
#include <functional>
#include <optional>
#include <unistd.h>

#include "EngineTestSupport.h"
#include "ImageTestSupport.h"
#include "TestSupport.h"
#include "ipc/FrameCodec.h"
#include "ipc/Protocol.h"

using namespace Atelier;
using namespace Qt::StringLiterals;

namespace
{

    // Spins the event loop until @p done holds or @p timeoutMs passed; every wait in this test is bounded.
    bool waitUntil(const std::function<bool()>& done, int timeoutMs = 60000)
    {
        const QDeadlineTimer deadline(timeoutMs);
        while (!done()) {
            if (deadline.hasExpired()) {
                return false;
            }
            QTest::qWait(10);
        }
        return true;
    }

    QString sha256Prefix(const QString& path)
    {
        QFile file(path);
        if (!file.open(QIODevice::ReadOnly)) {
            return {};
        }
        QCryptographicHash hash(QCryptographicHash::Sha256);
        hash.addData(&file);
        return QString::fromLatin1(hash.result().toHex().left(10));
    }

    constexpr int Rank = 3;
} // namespace

class TestWorkerServe final : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void init();
    void cleanup();
    void helloComesFirst();
    void jobMatchesTheGoldenImageAndInfotext();
    void heartbeatsContinueDuringASlowJob();
    void cancelStopsTheJobAndLeavesNoPng();
    void shutdownExitsWithZero();
    void exitsWhenTheSocketCloses();
    void badTokenIsRefused_data();
    void badTokenIsRefused();
    void unreachableSocketExitsWithThree();
    void modelFailureIsReported();
    void crashHookNeedsTestHooks_data();
    void crashHookNeedsTestHooks();
    void hangHookStopsHeartbeats();
    void batchGivesEveryImageAsAlone_data();
    void batchGivesEveryImageAsAlone();
    void outOfMemoryForOneImageIsReported();
    void batchOutOfOrderIsAProtocolError();

private:
    QProcessEnvironment environment(const QHash<QString, QString>& extra = {}) const;
    /// Starts `atelier-worker serve`, handing it @p secret (by default the right token) through an inherited pipe
    /// as the coordinator does; without @p withSecret, no --token-fd at all.
    void startWorker(const QProcessEnvironment& env, const QString& model = {}, const QString& socket = {},
                     const QStringList& extraArguments = {}, std::optional<QByteArray> secret = {},
                     bool withSecret = true);
    bool acceptWorker();
    bool waitForHello();
    void send(const Ipc::Message& message);
    void readFrames();
    Ipc::Job job(qint64 id, const QString& prompt, int steps) const;
    template <typename T> QList<T> received() const
    {
        QList<T> list;
        for (const auto& m : m_messages) {
            if (const T* t = std::get_if<T>(&m)) {
                list.append(*t);
            }
        }
        return list;
    }
    // The first Result or Error about @p jobId, once it arrived.
    std::optional<Ipc::Message> outcomeOf(qint64 jobId) const;
    bool waitForOutcome(qint64 jobId, int timeoutMs = 120000) const
    {
        return waitUntil([&] { return outcomeOf(jobId).has_value(); }, timeoutMs);
    }

    std::unique_ptr<QTemporaryDir> m_dir;
    std::unique_ptr<QLocalServer> m_server;
    std::unique_ptr<QProcess> m_worker;
    QLocalSocket* m_connection = nullptr;
    std::unique_ptr<Ipc::FrameDecoder> m_decoder;
    QList<Ipc::Message> m_messages;
    QList<qint64> m_arrivalsMs; // when each of m_messages arrived, on m_clock
    QElapsedTimer m_clock;
    QByteArray m_token;
    QString m_outDir;
    bool m_streamBroken = false;
};

void TestWorkerServe::init()
{
    m_dir = std::make_unique<QTemporaryDir>();
    QVERIFY(m_dir->isValid());
    m_server = std::make_unique<QLocalServer>();
    m_server->setSocketOptions(QLocalServer::UserAccessOption);
    QVERIFY(m_server->listen(m_dir->filePath(u"coordinator.sock"_s)));
    m_outDir = m_dir->filePath(u"out"_s);
    QVERIFY(QDir().mkpath(m_outDir));
    m_token.resize(Ipc::TokenSize);
    QRandomGenerator::system()->generate(m_token.begin(), m_token.end());
    m_connection = nullptr;
    m_decoder = std::make_unique<Ipc::FrameDecoder>(Ipc::MaxFrameSize);
    m_messages.clear();
    m_arrivalsMs.clear();
    m_streamBroken = false;
    m_clock.start();
}

void TestWorkerServe::cleanup()
{
    if (m_worker) {
        if (m_worker->state() != QProcess::NotRunning) {
            m_worker->kill();
            m_worker->waitForFinished(10000);
        }
        if (QTest::currentTestFailed()) {
            qWarning("worker stderr:\n%s", m_worker->readAllStandardError().constData());
        }
        m_worker.reset();
    }
    m_server.reset(); // also deletes the accepted connection
    m_connection = nullptr;
    m_dir.reset();
}

QProcessEnvironment TestWorkerServe::environment(const QHash<QString, QString>& extra) const
{
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    // Start from a clean slate: a developer's shell must not turn hooks on.
    for (const QString& name : env.keys()) {
        if (name.startsWith(u"ATELIER_TEST_"_s)) {
            env.remove(name);
        }
    }
    for (auto it = extra.begin(); it != extra.end(); ++it) {
        env.insert(it.key(), it.value());
    }
    return env;
}

void TestWorkerServe::startWorker(const QProcessEnvironment& env, const QString& model, const QString& socket,
                                  const QStringList& extraArguments, std::optional<QByteArray> secret, bool withSecret)
{
    const bool passSecret = withSecret;
    const QByteArray bytes = secret.value_or(m_token);
    int pipe[2] = {-1, -1};
    QStringList tokenArguments;
    if (passSecret) {
        QVERIFY(::pipe2(pipe, O_CLOEXEC) == 0);
        QCOMPARE(::write(pipe[1], bytes.constData(), static_cast<size_t>(bytes.size())), bytes.size());
        ::close(pipe[1]);
        tokenArguments << u"--token-fd"_s << QString::number(pipe[0]);
    }
    m_worker = std::make_unique<QProcess>();
    m_worker->setProcessEnvironment(env);
    const int fd = pipe[0];
    m_worker->setChildProcessModifier([fd] {
        if (fd >= 0) {
            ::fcntl(fd, F_SETFD, 0);
        }
    });
    m_worker->start(Test::executablePath(u"atelier-worker"_s),
                    QStringList{u"serve"_s, u"--socket"_s, socket.isEmpty() ? m_server->fullServerName() : socket,
                                u"--rank"_s, QString::number(Rank), u"--device"_s, u"cpu"_s, u"--model"_s,
                                model.isEmpty() ? Test::fixturePath(u"tiny-sd15"_s) : model}
                        + tokenArguments + extraArguments);
    if (fd >= 0) {
        ::close(fd);
    }
    QVERIFY2(m_worker->waitForStarted(10000), qPrintable(m_worker->errorString()));
}

bool TestWorkerServe::acceptWorker()
{
    if (!waitUntil([this] { return m_server->hasPendingConnections(); }, 30000)) {
        return false;
    }
    m_connection = m_server->nextPendingConnection();
    connect(m_connection, &QLocalSocket::readyRead, this, &TestWorkerServe::readFrames);
    readFrames();
    return true;
}

bool TestWorkerServe::waitForHello()
{
    return acceptWorker() && waitUntil([this] { return !m_messages.isEmpty(); }, 30000);
}

void TestWorkerServe::readFrames()
{
    while (m_connection && m_connection->bytesAvailable() > 0) {
        m_decoder->feed(m_connection->read(64 * 1024));
        for (auto frame = m_decoder->next(); frame.status != Ipc::FrameStatus::Incomplete; frame = m_decoder->next()) {
            if (frame.status == Ipc::FrameStatus::Invalid) {
                qWarning("invalid frame from the worker: %s", qPrintable(frame.error));
                m_streamBroken = true;
                return;
            }
            auto decoded = Ipc::decodeMessage(frame.payload);
            if (!decoded.message) {
                qWarning("undecodable message from the worker: %s", qPrintable(decoded.error));
                m_streamBroken = true;
                return;
            }
            m_messages.append(*decoded.message);
            m_arrivalsMs.append(m_clock.elapsed());
        }
    }
}

void TestWorkerServe::send(const Ipc::Message& message)
{
    QVERIFY(m_connection);
    m_connection->write(Ipc::encodeFrame(Ipc::encodeMessage(message)));
    m_connection->flush();
}

Ipc::Job TestWorkerServe::job(qint64 id, const QString& prompt, int steps) const
{
    Ipc::Job j;
    j.jobId = id;
    j.prompt = prompt;
    j.seed = 7;
    j.steps = steps;
    j.width = 64;
    j.height = 64;
    j.scheduler = u"euler"_s;
    j.outputPath = QDir(m_outDir).filePath(u"job-%1.png"_s.arg(id));
    return j;
}

std::optional<Ipc::Message> TestWorkerServe::outcomeOf(qint64 jobId) const
{
    for (const auto& m : m_messages) {
        if (const auto* r = std::get_if<Ipc::Result>(&m); r && r->jobId == jobId) {
            return m;
        }
        if (const auto* e = std::get_if<Ipc::Error>(&m); e && e->jobId == jobId) {
            return m;
        }
    }
    return std::nullopt;
}

void TestWorkerServe::helloComesFirst()
{
    startWorker(environment());
    QVERIFY(waitForHello());
    const auto* hello = std::get_if<Ipc::Hello>(&m_messages.first());
    QVERIFY2(hello, qPrintable(Ipc::messageType(m_messages.first())));
    QCOMPARE(hello->protocolVersion, Ipc::ProtocolVersion);
    QCOMPARE(hello->token, m_token);
    QCOMPARE(hello->rank, Rank);
    QCOMPARE(hello->device, u"cpu"_s);
    QVERIFY(!hello->deviceName.isEmpty());
    QCOMPARE(hello->pid, m_worker->processId());
    // Heartbeats follow within a second or so, and Ready once the model is loaded.
    QVERIFY(waitUntil([this] { return !received<Ipc::Heartbeat>().isEmpty(); }, 10000));
    QVERIFY(waitUntil([this] { return !received<Ipc::Ready>().isEmpty(); }, 30000));
    QVERIFY(!m_streamBroken);
}

void TestWorkerServe::jobMatchesTheGoldenImageAndInfotext()
{
    const Test::GoldenCase golden(u"tiny-sd15"_s, u"seed_cases"_s, 0);
    const QJsonObject& g = golden.json();
    QCOMPARE(g[u"name"_s].toString(), u"seed_pndm"_s);

    startWorker(environment());
    QVERIFY(waitForHello());
    Ipc::Job j;
    j.jobId = 11;
    j.itemId = 4711; // the queue item, which the provenance names (not the run's job number)
    j.prompt = g[u"prompts"_s][0].toString();
    j.seed = static_cast<quint64>(g[u"seeds"_s][0].toInteger());
    j.steps = g[u"num_inference_steps"_s].toInt();
    j.cfgScale = g[u"guidance_scale"_s].toDouble();
    j.width = g[u"width"_s].toInt();
    j.height = g[u"height"_s].toInt();
    j.scheduler = u"pndm"_s;
    j.outputPath = QDir(m_outDir).filePath(u"harbor.png"_s);
    QCOMPARE(j.steps, 8);
    send(j);
    QVERIFY(waitForOutcome(j.jobId));
    const auto outcome = *outcomeOf(j.jobId);
    if (const auto* e = std::get_if<Ipc::Error>(&outcome)) {
        QFAIL(qPrintable(e->code + u": "_s + e->message));
    }
    const auto result = std::get<Ipc::Result>(outcome);
    QCOMPARE(result.imagePath, j.outputPath);

    // Progress: strictly increasing steps, ending at the last one. PNDM runs one sampler step more than asked
    // for (diffusers' 8 PLMS steps are 9 UNet evaluations), so the total is the sampler's.
    const auto progress = received<Ipc::Progress>();
    QVERIFY(!progress.isEmpty());
    const int total = progress.first().total;
    QVERIFY(total >= j.steps);
    for (qsizetype i = 0; i < progress.size(); ++i) {
        QCOMPARE(progress[i].jobId, j.jobId);
        QCOMPARE(progress[i].total, total);
        QVERIFY(progress[i].iterationsPerSecond > 0);
        if (i > 0) {
            QVERIFY(progress[i].step > progress[i - 1].step);
        }
    }
    QCOMPARE(progress.last().step, total);

    // Previews: at least one, all the same size, the latents' (64 / 8 = 8 pixels a side).
    const auto previews = received<Ipc::Preview>();
    QVERIFY(!previews.isEmpty());
    for (const auto& p : previews) {
        QCOMPARE(p.jobId, j.jobId);
        QCOMPARE(p.width, 8);
        QCOMPARE(p.height, 8);
        QCOMPARE(p.rgb.size(), qsizetype{8 * 8 * 3});
    }

    // The image: diffusers' within ±1.
    const at::Tensor expected = golden.tensor("image_uint8");
    const at::Tensor actual = Atelier::Test::pngPixels(result.imagePath);
    QCOMPARE(actual.sizes().vec(), expected.sizes().vec());
    const double difference = (actual.to(at::kInt) - expected.to(at::kInt)).abs().max().item<double>();
    QVERIFY2(difference <= 1, qPrintable(QString::number(difference)));
    QCOMPARE(QDir(m_outDir).entryList(QDir::Files), QStringList{u"harbor.png"_s});

    // The text chunks: A1111's infotext exactly, and Atelier's provenance.
    const QImage image(result.imagePath);
    const QString hash = sha256Prefix(Test::fixturePath(u"tiny-sd15/unet/diffusion_pytorch_model.safetensors"_s));
    QCOMPARE(hash.size(), 10);
    QCOMPARE(image.text(u"parameters"_s),
             u"a quiet harbor at dawn\nSteps: 8, Sampler: PLMS, CFG scale: 7.5, Seed: 42, Size: 64x64, "
             u"Model hash: %1, Model: tiny-sd15"_s.arg(hash));
    QJsonParseError error;
    const QJsonObject provenance = QJsonDocument::fromJson(image.text(u"atelier"_s).toUtf8(), &error).object();
    QCOMPARE(error.error, QJsonParseError::NoError);
    QCOMPARE(provenance[u"device"_s].toString(), u"cpu"_s);
    QCOMPARE(provenance[u"dtype"_s].toString(), u"fp32"_s);
    QCOMPARE(provenance[u"rank"_s].toInt(), Rank);
    QCOMPARE(provenance[u"scheduler"_s].toString(), u"pndm"_s);
    QCOMPARE(provenance[u"seed"_s].toString(), u"42"_s);
    // The steps asked for, as the infotext says (8), and apart from them the UNet evaluations that ran (9).
    QCOMPARE(provenance[u"steps"_s].toInt(), j.steps);
    QCOMPARE(provenance[u"unetEvaluations"_s].toInt(), total);
    QCOMPARE(provenance[u"queueItemId"_s].toInteger(), j.itemId);
    QCOMPARE(provenance[u"attempt"_s].toInt(), 1);
    QCOMPARE(provenance[u"timings"_s][u"stepSeconds"_s].toArray().size(), total);
    QVERIFY(provenance[u"timings"_s][u"totalSeconds"_s].toDouble() > 0);
    QVERIFY(!provenance[u"versions"_s][u"libtorch"_s].toString().isEmpty());
    // The Result carries the same provenance.
    QCOMPARE(result.metadata.value(u"device"_s).toString(), u"cpu"_s);
    QCOMPARE(result.metadata.value(u"modelHash"_s).toString(), hash);
    QVERIFY(!m_streamBroken);
}

void TestWorkerServe::heartbeatsContinueDuringASlowJob()
{
    startWorker(environment({{u"ATELIER_TEST_HOOKS"_s, u"1"_s}, {u"ATELIER_TEST_STEP_DELAY_MS"_s, u"300"_s}}));
    QVERIFY(waitForHello());
    send(job(1, u"a slow lighthouse"_s, 10));
    QVERIFY(waitForOutcome(1));
    QVERIFY(std::holds_alternative<Ipc::Result>(*outcomeOf(1)));

    // Between the first progress and the result (≥ 3 s of steps) heartbeats kept coming, never 2.5 s apart
    // (they are sent every second; the slack is for a loaded test machine).
    qint64 firstProgressMs = -1;
    qint64 resultMs = -1;
    QList<qint64> heartbeatsMs;
    for (qsizetype i = 0; i < m_messages.size(); ++i) {
        if (std::holds_alternative<Ipc::Progress>(m_messages[i]) && firstProgressMs < 0) {
            firstProgressMs = m_arrivalsMs[i];
        } else if (std::holds_alternative<Ipc::Result>(m_messages[i])) {
            resultMs = m_arrivalsMs[i];
        } else if (std::holds_alternative<Ipc::Heartbeat>(m_messages[i])) {
            heartbeatsMs.append(m_arrivalsMs[i]);
        }
    }
    QVERIFY(firstProgressMs >= 0 && resultMs > firstProgressMs);
    QVERIFY2(resultMs - firstProgressMs >= 2500, qPrintable(QString::number(resultMs - firstProgressMs)));
    const auto during = std::count_if(heartbeatsMs.begin(), heartbeatsMs.end(),
                                      [&](qint64 t) { return t > firstProgressMs && t < resultMs; });
    QVERIFY2(during >= 2, qPrintable(QString::number(during)));
    for (qsizetype i = 1; i < heartbeatsMs.size(); ++i) {
        QVERIFY2(heartbeatsMs[i] - heartbeatsMs[i - 1] < 2500, qPrintable(QString::number(heartbeatsMs[i])));
    }
}

void TestWorkerServe::cancelStopsTheJobAndLeavesNoPng()
{
    startWorker(environment({{u"ATELIER_TEST_HOOKS"_s, u"1"_s}, {u"ATELIER_TEST_STEP_DELAY_MS"_s, u"300"_s}}));
    QVERIFY(waitForHello());
    send(job(1, u"a cancelled cat"_s, 20));
    // One job at a time: a second one while the first runs is refused, not queued.
    send(job(2, u"an impatient dog"_s, 2));
    QVERIFY(waitForOutcome(2, 30000));
    const auto busy = *outcomeOf(2);
    QVERIFY(std::holds_alternative<Ipc::Error>(busy));
    QCOMPARE(std::get<Ipc::Error>(busy).code, u"busy"_s);

    QVERIFY(waitUntil([this] { return !received<Ipc::Progress>().isEmpty(); }));
    send(Ipc::Cancel{1});
    QVERIFY(waitForOutcome(1, 30000));
    const auto cancelled = *outcomeOf(1);
    QVERIFY(std::holds_alternative<Ipc::Error>(cancelled));
    QCOMPARE(std::get<Ipc::Error>(cancelled).code, u"cancelled"_s);
    QVERIFY(received<Ipc::Progress>().last().step < 20);
    QCOMPARE(QDir(m_outDir).entryList(QDir::Files | QDir::Hidden), QStringList());

    // The worker serves the next job as usual.
    send(job(3, u"a second chance"_s, 2));
    QVERIFY(waitForOutcome(3));
    QVERIFY(std::holds_alternative<Ipc::Result>(*outcomeOf(3)));
    QVERIFY(QFile::exists(job(3, {}, 2).outputPath));
}

void TestWorkerServe::shutdownExitsWithZero()
{
    startWorker(environment());
    QVERIFY(waitForHello());
    send(Ipc::Shutdown{});
    QVERIFY(m_worker->waitForFinished(30000));
    QCOMPARE(m_worker->exitStatus(), QProcess::NormalExit);
    QCOMPARE(m_worker->exitCode(), 0);
}

void TestWorkerServe::exitsWhenTheSocketCloses()
{
    startWorker(environment({{u"ATELIER_TEST_HOOKS"_s, u"1"_s}, {u"ATELIER_TEST_STEP_DELAY_MS"_s, u"300"_s}}));
    QVERIFY(waitForHello());
    // Even in the middle of a job.
    send(job(1, u"an abandoned boat"_s, 50));
    QVERIFY(waitUntil([this] { return !received<Ipc::Progress>().isEmpty(); }));
    m_connection->abort();
    QVERIFY(m_worker->waitForFinished(30000));
    QCOMPARE(m_worker->exitStatus(), QProcess::NormalExit);
    QCOMPARE(m_worker->exitCode(), 0);
    QCOMPARE(QDir(m_outDir).entryList(QDir::Files | QDir::Hidden), QStringList());
}

void TestWorkerServe::badTokenIsRefused_data()
{
    QTest::addColumn<bool>("set");
    QTest::addColumn<QByteArray>("token");
    QTest::newRow("no --token-fd") << false << QByteArray();
    QTest::newRow("empty pipe") << true << ""_ba;
    QTest::newRow("short") << true << "\x00\xff"_ba;
    QTest::newRow("too long") << true << QByteArray(Ipc::TokenSize + 1, 'a');
}

void TestWorkerServe::badTokenIsRefused()
{
    QFETCH(bool, set);
    QFETCH(QByteArray, token);
    // A worker without a valid secret could only be turned away; it says why and exits without connecting.
    startWorker(environment(), {}, {}, {}, token, set);
    QVERIFY(m_worker->waitForFinished(30000));
    QCOMPARE(m_worker->exitStatus(), QProcess::NormalExit);
    QCOMPARE(m_worker->exitCode(), 2);
    QVERIFY(m_worker->readAllStandardError().contains("--token-fd"));
    QTest::qWait(50);
    QVERIFY(!m_server->hasPendingConnections());
}

void TestWorkerServe::unreachableSocketExitsWithThree()
{
    startWorker(environment(), {}, m_dir->filePath(u"nobody-listens.sock"_s));
    QVERIFY(m_worker->waitForFinished(30000));
    QCOMPARE(m_worker->exitStatus(), QProcess::NormalExit);
    QCOMPARE(m_worker->exitCode(), 3);
    QVERIFY(m_worker->readAllStandardError().contains("cannot connect"));
}

void TestWorkerServe::modelFailureIsReported()
{
    startWorker(environment(), m_dir->filePath(u"no-such-model"_s));
    QVERIFY(waitForHello());
    QVERIFY(std::holds_alternative<Ipc::Hello>(m_messages.first()));
    QVERIFY(waitForOutcome(-1, 30000));
    const auto error = std::get<Ipc::Error>(*outcomeOf(-1));
    QCOMPARE(error.code, u"model"_s);
    QVERIFY(!error.message.isEmpty());
    QVERIFY(received<Ipc::Ready>().isEmpty()); // never claims to be ready
    QVERIFY(m_worker->waitForFinished(30000));
    QCOMPARE(m_worker->exitStatus(), QProcess::NormalExit);
    QCOMPARE(m_worker->exitCode(), 5);
}

void TestWorkerServe::crashHookNeedsTestHooks_data()
{
    QTest::addColumn<bool>("hooks");
    QTest::newRow("ATELIER_TEST_HOOKS=1") << true;
    QTest::newRow("hooks off") << false;
}

void TestWorkerServe::crashHookNeedsTestHooks()
{
    QFETCH(bool, hooks);
    QHash<QString, QString> extra{{u"ATELIER_TEST_CRASH_ON_PROMPT"_s, u"boom"_s}};
    if (hooks) {
        extra.insert(u"ATELIER_TEST_HOOKS"_s, u"1"_s);
    }
    startWorker(environment(extra));
    QVERIFY(waitForHello());
    send(job(1, u"a boom box"_s, 2));
    if (hooks) {
        QVERIFY(m_worker->waitForFinished(30000));
        QCOMPARE(m_worker->exitStatus(), QProcess::CrashExit);
    } else {
        QVERIFY(waitForOutcome(1));
        QVERIFY(std::holds_alternative<Ipc::Result>(*outcomeOf(1)));
    }
}

void TestWorkerServe::hangHookStopsHeartbeats()
{
    startWorker(environment({{u"ATELIER_TEST_HOOKS"_s, u"1"_s}, {u"ATELIER_TEST_HANG_ON_PROMPT"_s, u"freeze"_s}}));
    QVERIFY(waitForHello());
    QVERIFY(waitUntil([this] { return !received<Ipc::Heartbeat>().isEmpty(); }, 10000));
    send(job(1, u"a freeze frame"_s, 2));
    // A heartbeat already on its way may still land; after that, silence, and the process stays alive.
    const qint64 sentMs = m_clock.elapsed() + 500;
    QTest::qWait(3000);
    QCOMPARE(m_worker->state(), QProcess::Running);
    for (qsizetype i = 0; i < m_messages.size(); ++i) {
        QVERIFY2(m_arrivalsMs[i] <= sentMs, qPrintable(Ipc::messageType(m_messages[i])));
    }
}

QTEST_GUILESS_MAIN(TestWorkerServe)
void TestWorkerServe::batchGivesEveryImageAsAlone_data()
{
    QTest::addColumn<QString>("oomAboveBatch");
    QTest::addColumn<QList<int>>("batchSizes");
    // The long prompt pads to two token chunks, so it is rendered apart from the two short ones.
    QTest::newRow("one pass") << u""_s << QList<int>{2, 2, 1};
    QTest::newRow("halved after running out of memory") << u"1"_s << QList<int>{1, 1, 1};
}

void TestWorkerServe::batchGivesEveryImageAsAlone()
{
    QFETCH(QString, oomAboveBatch);
    QFETCH(QList<int>, batchSizes);
    startWorker(environment({{u"ATELIER_TEST_HOOKS"_s, u"1"_s}, {u"ATELIER_TEST_OOM_ABOVE_BATCH"_s, oomAboveBatch}}),
                {}, {}, {u"--max-batch"_s, u"4"_s});
    QVERIFY(waitForHello());
    QVERIFY(std::get<Ipc::Hello>(m_messages.first()).capabilities.contains(u"batch=4"_s));

    QString longPrompt;
    for (int i = 0; i < 90; ++i) {
        longPrompt += u"word "_s;
    }
    const QStringList prompts{u"a red bicycle"_s, u"a blue kite over a beach"_s, longPrompt};
    QList<Ipc::Job> batch;
    for (int i = 0; i < 3; ++i) {
        Ipc::Job j = job(100 + i, prompts.at(i), 3);
        j.seed = 40 + i;
        j.negativePrompt = i == 1 ? u"blurry"_s : QString();
        j.batchIndex = i;
        j.batchCount = 3;
        batch.append(j);
    }
    for (const Ipc::Job& j : batch) {
        send(j);
    }
    for (const Ipc::Job& j : batch) {
        QVERIFY(waitForOutcome(j.jobId));
        const auto outcome = *outcomeOf(j.jobId);
        if (const auto* e = std::get_if<Ipc::Error>(&outcome)) {
            QFAIL(qPrintable(e->code + u": "_s + e->message));
        }
        const auto result = std::get<Ipc::Result>(outcome);
        QCOMPARE(result.metadata.value(u"batchSize"_s).toInteger(), batchSizes.at(j.batchIndex));
        // Every job of the batch had its progress reported.
        const auto progress = received<Ipc::Progress>();
        QVERIFY(std::any_of(progress.begin(), progress.end(),
                            [&](const Ipc::Progress& p) { return p.jobId == j.jobId && p.step == p.total; }));
    }
    // The same jobs one at a time: the same images.
    for (const Ipc::Job& j : batch) {
        Ipc::Job alone = j;
        alone.jobId = j.jobId + 100;
        alone.batchIndex = 0;
        alone.batchCount = 1;
        alone.outputPath = QDir(m_outDir).filePath(u"alone-%1.png"_s.arg(j.jobId));
        send(alone);
        QVERIFY(waitForOutcome(alone.jobId));
        QVERIFY(std::holds_alternative<Ipc::Result>(*outcomeOf(alone.jobId)));
        const at::Tensor together = Atelier::Test::pngPixels(j.outputPath).to(at::kInt);
        const at::Tensor single = Atelier::Test::pngPixels(alone.outputPath).to(at::kInt);
        QCOMPARE(together.sizes().vec(), single.sizes().vec());
        QVERIFY((together - single).abs().max().item<int>() <= 1);
    }
    QVERIFY(!m_streamBroken);
}

void TestWorkerServe::outOfMemoryForOneImageIsReported()
{
    startWorker(environment({{u"ATELIER_TEST_HOOKS"_s, u"1"_s}, {u"ATELIER_TEST_OOM_ON_PROMPT"_s, u"enormous"_s}}));
    QVERIFY(waitForHello());
    send(job(1, u"an enormous cathedral"_s, 2));
    QVERIFY(waitForOutcome(1));
    const auto outcome = *outcomeOf(1);
    const auto* error = std::get_if<Ipc::Error>(&outcome);
    QVERIFY(error);
    QCOMPARE(error->code, u"oom"_s);
    QVERIFY(!QFile::exists(job(1, {}, 2).outputPath));
    // The worker lives on and renders the next job.
    send(job(2, u"a small chapel"_s, 2));
    QVERIFY(waitForOutcome(2));
    QVERIFY(std::holds_alternative<Ipc::Result>(*outcomeOf(2)));
}

void TestWorkerServe::batchOutOfOrderIsAProtocolError()
{
    startWorker(environment());
    QVERIFY(waitForHello());
    Ipc::Job second = job(1, u"a cat"_s, 2);
    second.batchIndex = 1;
    second.batchCount = 2;
    send(second);
    QVERIFY(m_worker->waitForFinished(30000));
    QCOMPARE(m_worker->exitCode(), 4);
}

#include "TestWorkerServe.moc"
