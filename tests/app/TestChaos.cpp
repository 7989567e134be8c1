// SPDX-License-Identifier: GPL-3.0-or-later
// Process-level chaos: seeded rounds of a two-worker `atelier --batch` on the CPU with the tiny model, each hit at a
// random moment by one fault (kill -9 of a worker, kill -9 of the coordinator then --resume, or SIGINT then
// --resume). After every round each prompt has exactly one PNG, no temporary file is left, no worker outlives its
// coordinator and no private socket folder outlives the run. Bounded: every wait has a deadline, and the whole test
// stays under three minutes. ATELIER_TEST_SEED=N replays from seed N; ATELIER_CHAOS_ROUNDS sets the rounds.
#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QProcess>
#include <QRandomGenerator>
#include <QTemporaryDir>
#include <QTest>

#include <csignal>

#include "TestSupport.h"
#include "render/OutputNaming.h"

using namespace Atelier;
using namespace Qt::StringLiterals;

namespace
{
    constexpr int RoundDeadlineMs = 60000; ///< one run, from start to exit
    const QStringList Prompts{u"a red fox"_s, u"a blue kite"_s, u"a green door"_s, u"a white owl"_s};

    enum class Fault
    {
        KillWorker,
        KillCoordinator,
        Interrupt
    };

    QString faultName(Fault fault)
    {
        switch (fault) {
        case Fault::KillWorker:
            return u"kill -9 of a worker"_s;
        case Fault::KillCoordinator:
            return u"kill -9 of the coordinator"_s;
        case Fault::Interrupt:
            return u"SIGINT"_s;
        }
        return {};
    }
} // namespace

class TestChaos final : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase();
    void everyPromptEndsWithExactlyOneImage();

private:
    /// Starts `atelier --batch` for the round; @p resume adds --resume.
    void start(QProcess& atelier, bool resume) const;

    QTemporaryDir m_home; ///< data folder (the queue store) and runtime folder (the sockets) of every run
    QString m_file;
    QString m_out;
};

void TestChaos::initTestCase()
{
    QVERIFY(m_home.isValid());
    QDir().mkpath(m_home.filePath(u"runtime"_s));
    QFile::setPermissions(m_home.filePath(u"runtime"_s), QFile::ReadOwner | QFile::WriteOwner | QFile::ExeOwner);
    m_file = m_home.filePath(u"prompts.txt"_s);
    QFile file(m_file);
    QVERIFY(file.open(QIODevice::WriteOnly));
    file.write(Prompts.join(u'\n').toUtf8() + '\n');
}

void TestChaos::start(QProcess& atelier, bool resume) const
{
    QProcessEnvironment environment = QProcessEnvironment::systemEnvironment();
    environment.insert(u"XDG_DATA_HOME"_s, m_home.filePath(u"data"_s));
    environment.insert(u"XDG_CONFIG_HOME"_s, m_home.filePath(u"config"_s));
    environment.insert(u"XDG_RUNTIME_DIR"_s, m_home.filePath(u"runtime"_s));
    environment.insert(u"ATELIER_TEST_HOOKS"_s, u"1"_s);
    environment.insert(u"ATELIER_TEST_STEP_DELAY_MS"_s, u"40"_s);
    atelier.setProcessEnvironment(environment);
    atelier.setProcessChannelMode(QProcess::MergedChannels);
    QStringList arguments{u"--batch"_s,  m_file,  u"--model"_s,   Test::fixturePath(u"tiny-sd15"_s),
                          u"--out"_s,    m_out,   u"--devices"_s, u"cpu,cpu"_s,
                          u"--steps"_s,  u"3"_s,  u"--width"_s,   u"64"_s,
                          u"--height"_s, u"64"_s, u"--threads"_s, u"1"_s};
    if (resume) {
        arguments << u"--resume"_s;
    }
    atelier.start(Test::executablePath(u"atelier"_s), arguments);
}

void TestChaos::everyPromptEndsWithExactlyOneImage()
{
    bool seedGiven = false;
    const int givenSeed = qEnvironmentVariableIntValue("ATELIER_TEST_SEED", &seedGiven);
    const quint32 firstSeed = seedGiven ? quint32(givenSeed) : QRandomGenerator::global()->generate() % 100000;
    bool roundsGiven = false;
    const int rounds = std::max(1, qEnvironmentVariableIntValue("ATELIER_CHAOS_ROUNDS", &roundsGiven));
    qInfo("chaos: seeds %u to %u (replay with ATELIER_TEST_SEED=%u)", firstSeed,
          firstSeed + quint32(roundsGiven ? rounds : 20) - 1, firstSeed);
    QElapsedTimer total;
    total.start();
    for (quint32 seed = firstSeed; seed < firstSeed + quint32(roundsGiven ? rounds : 20); ++seed) {
        QRandomGenerator random(seed);
        QTemporaryDir out;
        m_out = out.path();
        const auto fault = static_cast<Fault>(random.bounded(3));
        const int afterMs = random.bounded(100, 2500); // a run takes about two seconds here
        const QString round = u"seed %1 (%2 after %3 ms)"_s.arg(seed).arg(faultName(fault)).arg(afterMs);

        QProcess atelier;
        start(atelier, false);
        QVERIFY2(atelier.waitForStarted(), qPrintable(round));
        QElapsedTimer clock;
        clock.start();
        QSet<qint64> workers;
        // Workers are collected while the run goes, so that those of a killed coordinator can be checked.
        while (clock.elapsed() < afterMs && atelier.state() != QProcess::NotRunning) {
            for (const qint64 pid : Test::childrenOf(atelier.processId())) {
                workers.insert(pid);
            }
            QTest::qWait(20);
        }
        bool resume = false;
        if (atelier.state() != QProcess::NotRunning) {
            const QList<qint64> now = Test::childrenOf(atelier.processId());
            switch (fault) {
            case Fault::KillWorker:
                if (!now.isEmpty()) {
                    ::kill(static_cast<pid_t>(now.at(random.bounded(int(now.size())))), SIGKILL);
                }
                break;
            case Fault::KillCoordinator:
                ::kill(static_cast<pid_t>(atelier.processId()), SIGKILL);
                resume = true;
                break;
            case Fault::Interrupt:
                ::kill(static_cast<pid_t>(atelier.processId()), SIGINT);
                resume = true;
                break;
            }
        }
        // (waitForFinished() is false for a process that has already ended.)
        QVERIFY2(atelier.state() == QProcess::NotRunning || atelier.waitForFinished(RoundDeadlineMs),
                 qPrintable(round + u": the run did not end"_s));
        const QString log = QString::fromUtf8(atelier.readAll());
        if (!resume) {
            QVERIFY2(atelier.exitStatus() == QProcess::NormalExit && atelier.exitCode() == 0,
                     qPrintable(round + u": exit %1\n"_s.arg(atelier.exitCode()) + log));
        }
        // No worker outlives its coordinator: they are told (SIGTERM on its death, or a stop) and go at once.
        QVERIFY2(QTest::qWaitFor(
                     [&] {
                         return std::none_of(workers.begin(), workers.end(),
                                             [](qint64 p) { return Test::isRunning(p); });
                     },
                     10000),
                 qPrintable(round + u": a worker outlived its coordinator"_s));
        if (resume) {
            QProcess again;
            start(again, true);
            QVERIFY2(again.waitForStarted(), qPrintable(round));
            QVERIFY2(again.state() == QProcess::NotRunning || again.waitForFinished(RoundDeadlineMs),
                     qPrintable(round + u": the resumed run did not end"_s));
            const QString resumedLog = QString::fromUtf8(again.readAll());
            QVERIFY2(again.exitStatus() == QProcess::NormalExit && again.exitCode() == 0,
                     qPrintable(round + u": resumed run exit %1\n"_s.arg(again.exitCode()) + log + resumedLog));
        }
        // Exactly one whole image per prompt, and nothing else.
        QStringList made;
        for (const QString& name : QDir(m_out).entryList(QDir::Files | QDir::Hidden, QDir::Name)) {
            const QString path = QDir(m_out).filePath(name);
            QVERIFY2(name.endsWith(u".png"_s) && isCompleteImage(path), qPrintable(round + u": "_s + name));
            made.append(name.section(u'-', 2).chopped(4));
        }
        made.sort();
        QStringList expected;
        for (const QString& prompt : Prompts) {
            expected.append(QString(prompt).replace(u' ', u'-'));
        }
        expected.sort();
        QVERIFY2(made == expected, qPrintable(round + u": made "_s + made.join(u", "_s)));
        // No private socket folder outlives its run (a killed coordinator's is removed by the next start).
        const QStringList sockets
            = QDir(m_home.filePath(u"runtime"_s)).entryList({u"atelier-*"_s}, QDir::Dirs | QDir::NoDotAndDotDot);
        QVERIFY2(sockets.isEmpty(), qPrintable(round + u": left "_s + sockets.join(u", "_s)));
    }
    qInfo("chaos: %d rounds in %lld ms", roundsGiven ? rounds : 20, static_cast<long long>(total.elapsed()));
}

QTEST_GUILESS_MAIN(TestChaos)
#include "TestChaos.moc"
