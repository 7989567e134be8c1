// SPDX-License-Identifier: GPL-3.0-or-later
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QLocalSocket>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>
#include <QtEndian>

#include "ipc/FrameCodec.h"
#include "ipc/Protocol.h"
#include "orchestration/WorkerListener.h"
#include "queue/QueueStore.h"

using namespace Atelier;
using namespace Atelier::Ipc;
using namespace Qt::StringLiterals;
using namespace std::chrono_literals;

namespace
{
    // Every wait in these tests ends within this, whatever happens.
    constexpr int HardTimeoutMs = 5000;

    Hello helloFor(int rank, const QByteArray& token)
    {
        return Hello{ProtocolVersion, token, rank, u"cpu"_s, u"CPU"_s, QCoreApplication::applicationPid(), {}};
    }
} // namespace

class TestWorkerListener final : public QObject
{
    Q_OBJECT

private slots:
    void init();
    void cleanup();
    void listensInAPrivateDirectory();
    void admitsAWorkerWithItsToken();
    void rejects_data();
    void rejects();
    void aCopiedTokenDoesNotAdmitAnotherProcess();
    void removesPrivateFoldersOfDeadCoordinators();
    void rejectsASilentClientAfterTheTimeout();
    void aTokenAdmitsOnce();

private:
    QByteArray expect(int rank, qint64 pid = 0);
    std::unique_ptr<QLocalSocket> connectClient();
    std::unique_ptr<WorkerListener> m_listener;
};

void TestWorkerListener::init()
{
    qRegisterMetaType<QLocalSocket*>();
    m_listener = std::make_unique<WorkerListener>();
    m_listener->setHandshakeTimeout(1000ms);
    QCOMPARE(m_listener->listen(), QString());
}

void TestWorkerListener::cleanup()
{
    m_listener.reset();
}

QByteArray TestWorkerListener::expect(int rank, qint64 pid)
{
    // The test's own process plays the worker: it is the process "started" for the rank unless told otherwise.
    m_listener->expectProcess(rank, pid > 0 ? pid : QCoreApplication::applicationPid());
    return m_listener->expectWorker(rank);
}

std::unique_ptr<QLocalSocket> TestWorkerListener::connectClient()
{
    auto socket = std::make_unique<QLocalSocket>();
    socket->connectToServer(m_listener->socketPath());
    if (!socket->waitForConnected(HardTimeoutMs)) {
        return nullptr;
    }
    return socket;
}

void TestWorkerListener::listensInAPrivateDirectory()
{
    const QFileInfo socket(m_listener->socketPath());
    QVERIFY(socket.exists());
    const QFileInfo directory(socket.absolutePath());
    QCOMPARE(directory.permissions()
                 & (QFile::ReadGroup | QFile::WriteGroup | QFile::ExeGroup | QFile::ReadOther | QFile::WriteOther
                    | QFile::ExeOther),
             QFile::Permissions());
    QVERIFY(directory.fileName().startsWith(u"atelier-"_s));
}

void TestWorkerListener::admitsAWorkerWithItsToken()
{
    const QByteArray token = expect(2);
    QSignalSpy admitted(m_listener.get(), &WorkerListener::workerAdmitted);
    auto client = connectClient();
    QVERIFY(client);
    // The hello and the first heartbeat arrive in one write: the heartbeat must not be lost.
    client->write(encodeFrame(encodeMessage(helloFor(2, token))) + encodeFrame(encodeMessage(Heartbeat{77})));
    QVERIFY(admitted.wait(HardTimeoutMs));
    QCOMPARE(admitted.first().at(0).toInt(), 2);
    const auto hello = admitted.first().at(2).value<Hello>();
    QCOMPARE(hello.token, token);
    const QByteArray pending = admitted.first().at(3).toByteArray();
    FrameDecoder rest(MaxFrameSize);
    rest.feed(pending);
    auto* socket = admitted.first().at(1).value<QLocalSocket*>();
    QVERIFY(socket);
    FrameResult next;
    QVERIFY(QTest::qWaitFor(
        [&] {
            rest.feed(socket->readAll());
            next = rest.next();
            return next.status == FrameStatus::Complete;
        },
        HardTimeoutMs));
    QVERIFY(decodeMessage(next.payload).message.value() == Message(Heartbeat{77}));
}

void TestWorkerListener::rejects_data()
{
    QTest::addColumn<QByteArray>("bytes");
    QTest::addColumn<QString>("reason");
    const QByteArray token(TokenSize, 'x'); // not the token the listener made
    QByteArray huge(4, '\0');
    qToBigEndian<quint32>(0xFFFFFFFFu, huge.data());
    Hello wrongPid = helloFor(0, {});
    wrongPid.pid = QCoreApplication::applicationPid() + 100000;
    Hello oldProtocol = helloFor(0, {});
    oldProtocol.protocolVersion = ProtocolVersion + 1;

    QTest::newRow("wrong token") << encodeFrame(encodeMessage(helloFor(0, token))) << u"wrong or unexpected token"_s;
    QTest::newRow("unexpected rank") << encodeFrame(encodeMessage(helloFor(9, token))) << u"rank 9"_s;
    QTest::newRow("garbage") << "GET / HTTP/1.1\r\n\r\n"_ba << u"bad frame"_s;
    QTest::newRow("huge length prefix") << huge + QByteArray(100, 'z') << u"exceeds the limit"_s;
    QTest::newRow("not CBOR") << encodeFrame("\xff\xfe\xfd"_ba) << u"bad hello"_s;
    QTest::newRow("first message not a hello")
        << encodeFrame(encodeMessage(Heartbeat{1})) << u"first message was not a hello"_s;
    // These carry the right token (filled in by the test): other checks must stop them.
    QTest::newRow("pid of another process") << encodeFrame(encodeMessage(wrongPid)) << u"comes from pid"_s;
    QTest::newRow("other protocol version") << encodeFrame(encodeMessage(oldProtocol)) << u"protocol"_s;
}

void TestWorkerListener::rejects()
{
    QFETCH(QByteArray, bytes);
    QFETCH(QString, reason);
    const QByteArray token = expect(0);
    if (QTest::currentDataTag() == "pid of another process"_ba
        || QTest::currentDataTag() == "other protocol version"_ba) {
        auto decoded = decodeMessage(bytes.mid(FramePrefixSize));
        Hello hello = std::get<Hello>(*decoded.message);
        hello.token = token;
        bytes = encodeFrame(encodeMessage(hello));
    }
    QSignalSpy rejected(m_listener.get(), &WorkerListener::connectionRejected);
    QSignalSpy admitted(m_listener.get(), &WorkerListener::workerAdmitted);
    auto client = connectClient();
    QVERIFY(client);
    client->write(bytes);
    QVERIFY(rejected.wait(HardTimeoutMs));
    QVERIFY2(rejected.first().at(0).toString().contains(reason), qPrintable(rejected.first().at(0).toString()));
    QCOMPARE(admitted.count(), 0);
    // The connection is closed on us, and the listener still admits a proper worker afterwards.
    QTRY_COMPARE_WITH_TIMEOUT(client->state(), QLocalSocket::UnconnectedState, HardTimeoutMs);
    const QByteArray second = expect(1);
    auto good = connectClient();
    QVERIFY(good);
    good->write(encodeFrame(encodeMessage(helloFor(1, second))));
    QVERIFY(admitted.wait(HardTimeoutMs));
}

void TestWorkerListener::aCopiedTokenDoesNotAdmitAnotherProcess()
{
    // The impersonation of issue 12: a process of the same user that read a worker's secret connects with it and
    // tells the truth about its own pid. It is not the process started for the rank, so it is refused.
    const QByteArray token = expect(0, QCoreApplication::applicationPid() + 1);
    QSignalSpy rejected(m_listener.get(), &WorkerListener::connectionRejected);
    QSignalSpy admitted(m_listener.get(), &WorkerListener::workerAdmitted);
    auto client = connectClient();
    QVERIFY(client);
    client->write(encodeFrame(encodeMessage(helloFor(0, token))));
    QVERIFY(rejected.wait(HardTimeoutMs));
    QVERIFY2(rejected.first().at(0).toString().contains(u"not from the worker started for it"_s),
             qPrintable(rejected.first().at(0).toString()));
    QCOMPARE(admitted.count(), 0);
}

void TestWorkerListener::removesPrivateFoldersOfDeadCoordinators()
{
    QTemporaryDir base;
    auto folder = [&](const QString& name, const QByteArray& owner) {
        const QString path = base.filePath(name);
        QDir().mkpath(path);
        QFile(QDir(path).filePath(u"coordinator.sock"_s)).open(QIODevice::WriteOnly);
        if (!owner.isNull()) {
            QFile file(QDir(path).filePath(u"owner"_s));
            file.open(QIODevice::WriteOnly);
            file.write(owner);
        }
        return path;
    };
    const QStringList mine = QueueStore::processIdentity().split(u':');
    const QString dead
        = folder(u"atelier-aaaaaa"_s, u"%1:%2:%3"_s.arg(mine.at(0)).arg(4194321).arg(mine.at(2)).toUtf8());
    const QString alive = folder(u"atelier-bbbbbb"_s, QueueStore::processIdentity().toUtf8());
    const QString unknown = folder(u"atelier-cccccc"_s, QByteArray());
    const QString other = folder(u"unrelated-aaaaaa"_s, "nobody"_ba);
    QCOMPARE(WorkerListener::removeStalePrivateDirectories(base.path()), 1);
    QVERIFY(!QFileInfo::exists(dead));
    QVERIFY(QFileInfo::exists(alive));
    QVERIFY(QFileInfo::exists(unknown));
    QVERIFY(QFileInfo::exists(other));
    // A listener records its owner, and its folder goes with it.
    QString ours;
    {
        WorkerListener listener;
        QCOMPARE(listener.listen(), QString());
        ours = listener.privateDirectory();
        QFile owner(QDir(ours).filePath(u"owner"_s));
        QVERIFY(owner.open(QIODevice::ReadOnly));
        QCOMPARE(QString::fromUtf8(owner.readAll()), QueueStore::processIdentity());
    }
    QVERIFY(!QFileInfo::exists(ours));
}

void TestWorkerListener::rejectsASilentClientAfterTheTimeout()
{
    m_listener->setHandshakeTimeout(200ms);
    expect(0);
    QSignalSpy rejected(m_listener.get(), &WorkerListener::connectionRejected);
    auto client = connectClient();
    QVERIFY(client);
    QVERIFY(rejected.wait(HardTimeoutMs));
    QVERIFY(rejected.first().at(0).toString().contains(u"no hello within 200 ms"_s));
}

void TestWorkerListener::aTokenAdmitsOnce()
{
    const QByteArray token = expect(0);
    QSignalSpy admitted(m_listener.get(), &WorkerListener::workerAdmitted);
    QSignalSpy rejected(m_listener.get(), &WorkerListener::connectionRejected);
    auto first = connectClient();
    first->write(encodeFrame(encodeMessage(helloFor(0, token))));
    QVERIFY(admitted.wait(HardTimeoutMs));
    auto replay = connectClient();
    replay->write(encodeFrame(encodeMessage(helloFor(0, token))));
    QVERIFY(rejected.wait(HardTimeoutMs));
    QCOMPARE(admitted.count(), 1);
}

QTEST_GUILESS_MAIN(TestWorkerListener)
#include "TestWorkerListener.moc"
