// SPDX-License-Identifier: GPL-3.0-or-later
#include <QRegularExpression>
#include <QTest>

#include "BuildInfo.h"
#include "TestConfig.h"
#include "TestSupport.h"

using namespace Atelier;
using namespace Qt::StringLiterals;

class TestBuildInfo final : public QObject
{
    Q_OBJECT

private slots:
    void reportNamesEveryDependency();
    void executablesPrintTheirVersion_data();
    void executablesPrintTheirVersion();
};

void TestBuildInfo::reportNamesEveryDependency()
{
    const QStringList lines = BuildInfo::versionReport(u"atelier"_s).split(u'\n', Qt::SkipEmptyParts);
    QCOMPARE(lines.size(), 6);
    QCOMPARE(lines[0], u"atelier "_s + BuildInfo::atelierVersion());
    QVERIFY(QRegularExpression(u"^\\d+\\.\\d+\\.\\d+$"_s).match(BuildInfo::atelierVersion()).hasMatch());
    QVERIFY2(lines[1].startsWith(u"Qt 6."_s), qPrintable(lines[1]));
    QVERIFY2(QRegularExpression(u"^QCoro \\d+\\.\\d+"_s).match(lines[2]).hasMatch(), qPrintable(lines[2]));
    // The LibTorch we built against is the one scripts/versions.env pins.
    QVERIFY2(lines[3].startsWith(u"LibTorch "_s + QStringLiteral(ATELIER_PIN_TORCH)), qPrintable(lines[3]));
    const QRegularExpression cuda(u"^(CUDA \\d+\\.\\d+.*|CUDA: not built with CUDA)$"_s);
    QVERIFY2(cuda.match(lines[4]).hasMatch(), qPrintable(lines[4]));
    const QRegularExpression nccl(u"^(NCCL \\d+\\.\\d+\\.\\d+|NCCL: not built with NCCL)$"_s);
    QVERIFY2(nccl.match(lines[5]).hasMatch(), qPrintable(lines[5]));
    QCOMPARE(lines[4].startsWith(u"CUDA "_s), !BuildInfo::cudaVersion().isEmpty());
}

void TestBuildInfo::executablesPrintTheirVersion_data()
{
    QTest::addColumn<QString>("program");
    QTest::newRow("atelier") << u"atelier"_s;
    QTest::newRow("atelier-worker") << u"atelier-worker"_s;
}

void TestBuildInfo::executablesPrintTheirVersion()
{
    QFETCH(QString, program);
    // No display is needed for --version: run it with a platform plugin that does not exist to prove it.
    qputenv("QT_QPA_PLATFORM", "no-such-platform");
    const Test::ProcessResult result = Test::runProcess(Test::executablePath(program), {u"--version"_s});
    qputenv("QT_QPA_PLATFORM", "offscreen");
    QVERIFY2(!result.crashed && result.exitCode == 0, qPrintable(result.standardError));
    const QString expected = BuildInfo::versionReport(program);
    QVERIFY2(result.standardOutput.startsWith(expected), qPrintable(result.standardOutput));
    if (program == u"atelier-worker"_s) {
        // The worker also says how many GPUs LibTorch sees at run time.
        QVERIFY2(QRegularExpression(u"CUDA devices visible: \\d+\\n$"_s).match(result.standardOutput).hasMatch(),
                 qPrintable(result.standardOutput));
    } else {
        QCOMPARE(result.standardOutput, expected);
    }
}

QTEST_GUILESS_MAIN(TestBuildInfo)
#include "TestBuildInfo.moc"
