// SPDX-License-Identifier: GPL-3.0-or-later
// The render farm as processes on this machine: `atelier farm serve` on 127.0.0.1 and simulated nodes
// (`atelier-worker farm --node NAME --devices cpu,cpu`) sharing one output folder.
#include <QDir>
#include <QImage>
#include <QProcess>
#include <QRandomGenerator>
#include <QTemporaryDir>
#include <QTest>

#include <csignal>
#include <memory>

#include "TestSupport.h"

using namespace Atelier;
using namespace Qt::StringLiterals;

namespace
{
    constexpr int HardTimeoutMs = 150000;

    QString writePrompts(const QTemporaryDir& folder, int count)
    {
        const QString path = folder.filePath(u"prompts.jsonl"_s);
        QFile file(path);
        if (!file.open(QIODevice::WriteOnly)) {
            return {};
        }
        for (int i = 0; i < count; ++i) {
            file.write(u"{\"prompt\": \"item%1\", \"seed\": %2}\n"_s.arg(i, 2, 10, QChar(u'0')).arg(500 + i).toUtf8());
        }
        return path;
    }

    QStringList renderArguments(const QString& out)
    {
        return {u"--model"_s,  Test::fixturePath(u"tiny-sd15"_s),
                u"--out"_s,    out,
                u"--steps"_s,  u"3"_s,
                u"--width"_s,  u"64"_s,
                u"--height"_s, u"64"_s};
    }

    /// The images in @p directory by their prompt word; fails (through the returned flag) on a prompt made twice.
    QMap<QString, QString> imagesByPrompt(const QString& directory, bool* twice)
    {
        QMap<QString, QString> images;
        *twice = false;
        for (const QString& name : QDir(directory).entryList({u"*.png"_s}, QDir::Files)) {
            const QString word = name.section(u'-', 2).chopped(4);
            *twice = *twice || images.contains(word);
            images.insert(word, QDir(directory).filePath(name));
        }
        return images;
    }

    QStringList temporaries(const QString& directory)
    {
        return QDir(directory).entryList({u"*.part"_s}, QDir::Files | QDir::Hidden);
    }

    std::unique_ptr<QProcess> start(const QString& program, const QStringList& arguments,
                                    const QProcessEnvironment& environment = QProcessEnvironment::systemEnvironment())
    {
        auto process = std::make_unique<QProcess>();
        process->setProcessEnvironment(environment);
        process->start(program, arguments);
        return process;
    }

    std::unique_ptr<QProcess> serve(const QString& file, const QString& out, const QStringList& extra = {})
    {
        return start(Test::executablePath(u"atelier"_s),
                     QStringList{u"farm"_s, u"serve"_s, file, u"--listen"_s, u"127.0.0.1:0"_s} + renderArguments(out)
                         + extra);
    }

    std::unique_ptr<QProcess> node(const QString& out, const QString& name,
                                   const QProcessEnvironment& environment = QProcessEnvironment::systemEnvironment())
    {
        return start(
            Test::executablePath(u"atelier-worker"_s),
            {u"farm"_s, u"--out"_s, out, u"--node"_s, name, u"--devices"_s, u"cpu,cpu"_s, u"--threads"_s, u"1"_s},
            environment);
    }
} // namespace

class TestFarm final : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void twoNodesMakeEveryImageOnceAsBatchDoes();
    void killedNodesAndARestartedCoordinatorLoseNothing();

private:
    QTemporaryDir m_data;
};

void TestFarm::initTestCase()
{
    QVERIFY(m_data.isValid());
    qputenv("XDG_DATA_HOME", QFile::encodeName(m_data.path()));
    qputenv("XDG_CONFIG_HOME", QFile::encodeName(m_data.filePath(u"config"_s)));
}

void TestFarm::twoNodesMakeEveryImageOnceAsBatchDoes()
{
    QTemporaryDir folder;
    const QString file = writePrompts(folder, 24);
    QTemporaryDir shared;
    auto coordinator = serve(file, shared.path());
    QVERIFY(coordinator->waitForStarted());
    // A node may start before the coordinator has published its address: it then waits for it.
    QTRY_VERIFY_WITH_TIMEOUT(QFileInfo::exists(shared.filePath(u".atelier-farm/current"_s)), 30000);
    auto a = node(shared.path(), u"nodeA"_s);
    auto b = node(shared.path(), u"nodeB"_s);
    QVERIFY2(coordinator->waitForFinished(HardTimeoutMs), "the farm did not finish");
    const QString log = QString::fromUtf8(coordinator->readAllStandardError());
    QVERIFY2(coordinator->exitCode() == 0, qPrintable(log));
    for (auto* process : {a.get(), b.get()}) {
        QVERIFY(process->waitForFinished(30000));
        const QByteArray output = process->readAllStandardError();
        QVERIFY2(process->exitStatus() == QProcess::NormalExit && process->exitCode() == 0, output.constData());
    }
    QVERIFY2(log.contains(u"24 of 24 images written"_s), qPrintable(log));
    // Both nodes took part.
    QVERIFY2(log.contains(u"worker nodeA"_s) && log.contains(u"worker nodeB"_s), qPrintable(log));
    bool twice = false;
    const QMap<QString, QString> farmed = imagesByPrompt(shared.path(), &twice);
    QVERIFY(!twice);
    QCOMPARE(farmed.size(), 24);
    QVERIFY(temporaries(shared.path()).isEmpty());

    // The images one --batch process makes, pixel for pixel.
    QTemporaryDir alone;
    const auto batch = Test::runProcess(
        Test::executablePath(u"atelier"_s),
        QStringList{u"--batch"_s, file, u"--threads"_s, u"1"_s} + renderArguments(alone.path()), HardTimeoutMs);
    QVERIFY2(batch.exitCode == 0, qPrintable(batch.standardError));
    const QMap<QString, QString> single = imagesByPrompt(alone.path(), &twice);
    QCOMPARE(single.keys(), farmed.keys());
    for (auto it = single.cbegin(); it != single.cend(); ++it) {
        QVERIFY2(QImage(it.value()) == QImage(farmed.value(it.key())), qPrintable(it.key()));
    }
}

void TestFarm::killedNodesAndARestartedCoordinatorLoseNothing()
{
    // One bounded round: nodes render slowly; a random node is killed with SIGKILL mid-run, the coordinator is
    // killed and started again, and a node joins late. Every image is made once and no temporary file is left.
    const quint32 seed = QRandomGenerator::global()->generate();
    qInfo("seed %u", seed);
    QRandomGenerator random(seed);
    QTemporaryDir folder;
    const QString file = writePrompts(folder, 12);
    QTemporaryDir shared;
    QProcessEnvironment slow = QProcessEnvironment::systemEnvironment();
    slow.insert(u"ATELIER_TEST_HOOKS"_s, u"1"_s);
    slow.insert(u"ATELIER_TEST_STEP_DELAY_MS"_s, u"150"_s);
    const QStringList fastLeases{u"--lease-timeout"_s, u"1500"_s};
    auto coordinator = serve(file, shared.path(), fastLeases);
    QTRY_VERIFY_WITH_TIMEOUT(QFileInfo::exists(shared.filePath(u".atelier-farm/current"_s)), 30000);
    std::vector<std::unique_ptr<QProcess>> nodes;
    nodes.push_back(node(shared.path(), u"nodeA"_s, slow));
    nodes.push_back(node(shared.path(), u"nodeB"_s, slow));
    const auto images = [&] {
        bool twice = false;
        return imagesByPrompt(shared.path(), &twice).size();
    };
    QTRY_VERIFY_WITH_TIMEOUT(images() >= 2, 60000);
    QProcess* victim = nodes.at(random.bounded(2)).get();
    ::kill(pid_t(victim->processId()), SIGKILL);
    QTRY_VERIFY_WITH_TIMEOUT(images() >= 4, 60000);
    ::kill(pid_t(coordinator->processId()), SIGKILL);
    QVERIFY(coordinator->waitForFinished(10000));
    coordinator = serve(file, shared.path(), fastLeases);
    nodes.push_back(node(shared.path(), u"nodeC"_s, slow));
    QVERIFY2(coordinator->waitForFinished(HardTimeoutMs), "the farm did not finish");
    const QString log = QString::fromUtf8(coordinator->readAllStandardError());
    QVERIFY2(coordinator->exitCode() == 0, qPrintable(log));
    QVERIFY2(log.contains(u"continuing farm run"_s), qPrintable(log));
    for (auto& process : nodes) {
        if (process.get() != victim) {
            QVERIFY2(process->waitForFinished(60000), "a node did not leave once the run was over");
        }
    }
    bool twice = false;
    QCOMPARE(imagesByPrompt(shared.path(), &twice).size(), 12);
    QVERIFY2(!twice, qPrintable(u"seed %1"_s.arg(seed)));
    QVERIFY2(temporaries(shared.path()).isEmpty(), qPrintable(temporaries(shared.path()).join(u", "_s)));
}

QTEST_GUILESS_MAIN(TestFarm)
#include "TestFarm.moc"
