// SPDX-License-Identifier: GPL-3.0-or-later
// `atelier --batch`, run as a user would: the real executables, the tiny model, CPU workers.
#include <QDir>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QTemporaryDir>
#include <QTest>

#include <csignal>

#include "TestSupport.h"

using namespace Atelier;
using namespace Qt::StringLiterals;

namespace
{
    constexpr int HardTimeoutMs = 120000;

    QStringList baseArguments(const QString& file, const QString& out)
    {
        return {u"--batch"_s,   file,    u"--model"_s,  Test::fixturePath(u"tiny-sd15"_s),
                u"--out"_s,     out,     u"--steps"_s,  u"3"_s,
                u"--width"_s,   u"64"_s, u"--height"_s, u"64"_s,
                u"--threads"_s, u"1"_s};
    }

    QList<QJsonObject> events(const QString& output)
    {
        QList<QJsonObject> list;
        for (const QString& line : output.split(u'\n', Qt::SkipEmptyParts)) {
            list.append(QJsonDocument::fromJson(line.toUtf8()).object());
        }
        return list;
    }

    QStringList files(const QString& directory)
    {
        return QDir(directory).entryList(QDir::Files | QDir::NoDotAndDotDot, QDir::Name);
    }
} // namespace

class TestBatchMode final : public QObject
{
    Q_OBJECT

private slots:
    void rendersEveryPromptWithJsonEvents();
    void badLinesAreNamedAndTheRestRendered();
    void strictRendersNothingFromABadFile();
    void baseSeedNumbersPromptsWithoutOne();
    void interruptStopsCleanly();
    void badOptionsAreNamed();
};

void TestBatchMode::rendersEveryPromptWithJsonEvents()
{
    QTemporaryDir out;
    const auto result = Test::runProcess(Test::executablePath(u"atelier"_s),
                                         baseArguments(Test::dataPath(u"prompts/crlf.txt"_s), out.path())
                                             + QStringList{u"--json"_s, u"--devices"_s, u"cpu,cpu"_s},
                                         HardTimeoutMs);
    QVERIFY2(result.exitCode == 0 && !result.crashed, qPrintable(result.standardError));
    const auto all = events(result.standardOutput);
    int done = 0;
    for (const QJsonObject& e : all) {
        QVERIFY2(!e.isEmpty(), "every stdout line is one JSON object");
        done += e[u"event"_s] == u"done"_s ? 1 : 0;
    }
    QCOMPARE(done, 2);
    QCOMPARE(all.last()[u"event"_s].toString(), u"summary"_s);
    QCOMPARE(all.last()[u"images"_s].toInt(), 2);
    QCOMPARE(files(out.path()).size(), 2);
}

void TestBatchMode::badLinesAreNamedAndTheRestRendered()
{
    QTemporaryDir out;
    const QString file = Test::dataPath(u"prompts/outpath.txt"_s);
    const auto result
        = Test::runProcess(Test::executablePath(u"atelier"_s), baseArguments(file, out.path()), HardTimeoutMs);
    QCOMPARE(result.exitCode, 1); // not every line became an image
    QVERIFY2(result.standardError.contains(file + u":2:"_s), qPrintable(result.standardError));
    QVERIFY(result.standardError.contains(u"2 of 2 images written"_s));
    QCOMPARE(files(out.path()).size(), 2);
    QVERIFY(!QDir(u"/tmp/evil"_s).exists());
}

void TestBatchMode::strictRendersNothingFromABadFile()
{
    QTemporaryDir out;
    const auto result = Test::runProcess(Test::executablePath(u"atelier"_s),
                                         baseArguments(Test::dataPath(u"prompts/outpath.txt"_s), out.path())
                                             + QStringList{u"--strict"_s},
                                         HardTimeoutMs);
    QCOMPARE(result.exitCode, 2);
    QVERIFY(result.standardError.contains(u"nothing rendered"_s));
    QCOMPARE(files(out.path()).size(), 0);
}

void TestBatchMode::baseSeedNumbersPromptsWithoutOne()
{
    QTemporaryDir out;
    const auto result = Test::runProcess(Test::executablePath(u"atelier"_s),
                                         baseArguments(Test::dataPath(u"prompts/crlf.txt"_s), out.path())
                                             + QStringList{u"--seed"_s, u"1000"_s},
                                         HardTimeoutMs);
    QCOMPARE(result.exitCode, 0);
    QCOMPARE(files(out.path()), (QStringList{u"0-1000-one.png"_s, u"1-1001-two.png"_s}));
}

void TestBatchMode::interruptStopsCleanly()
{
    QTemporaryDir out;
    QProcess atelier;
    QProcessEnvironment environment = QProcessEnvironment::systemEnvironment();
    environment.insert(u"ATELIER_TEST_HOOKS"_s, u"1"_s); // workers inherit it: 300 ms a step
    environment.insert(u"ATELIER_TEST_STEP_DELAY_MS"_s, u"300"_s);
    atelier.setProcessEnvironment(environment);
    atelier.start(Test::executablePath(u"atelier"_s),
                  baseArguments(Test::dataPath(u"prompts/a1111-all-options.txt"_s), out.path())
                      + QStringList{u"--json"_s, u"--steps"_s, u"6"_s});
    QVERIFY(atelier.waitForStarted());
    // Interrupt once the first job is under way.
    QVERIFY(QTest::qWaitFor([&] { return atelier.readAllStandardOutput().contains("\"progress\""); }, HardTimeoutMs));
    ::kill(static_cast<pid_t>(atelier.processId()), SIGINT);
    QVERIFY(atelier.waitForFinished(HardTimeoutMs));
    QCOMPARE(atelier.exitStatus(), QProcess::NormalExit);
    QCOMPARE(atelier.exitCode(), 130);
    const QString errors = QString::fromUtf8(atelier.readAllStandardError());
    QVERIFY2(errors.contains(u"not made"_s), qPrintable(errors));
    for (const QString& f : files(out.path())) {
        QVERIFY2(f.endsWith(u".png"_s), qPrintable(f)); // no half-written files
    }
}

void TestBatchMode::badOptionsAreNamed()
{
    const QString file = Test::dataPath(u"prompts/crlf.txt"_s);
    for (const QStringList& extra : {QStringList{u"--steps"_s, u"0"_s}, QStringList{u"--width"_s, u"100"_s},
                                     QStringList{u"--devices"_s, u"gpu7"_s}, QStringList{u"--cfg"_s, u"x"_s}}) {
        QTemporaryDir out;
        const auto result = Test::runProcess(Test::executablePath(u"atelier"_s),
                                             QStringList{u"--batch"_s, file, u"--out"_s, out.path()} + extra);
        QCOMPARE(result.exitCode, 2);
        QVERIFY2(result.standardError.contains(extra.first()), qPrintable(result.standardError));
    }
    const auto missing = Test::runProcess(Test::executablePath(u"atelier"_s),
                                          {u"--batch"_s, u"/nonexistent/prompts.txt"_s, u"--strict"_s});
    QCOMPARE(missing.exitCode, 2);
    QVERIFY(missing.standardError.contains(u"/nonexistent/prompts.txt"_s));
}

QTEST_GUILESS_MAIN(TestBatchMode)
#include "TestBatchMode.moc"
