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
    QCOMPARE(lines.size(), 7);
    QCOMPARE(lines[0], u"atelier "_s + BuildInfo::atelierVersion());
    QVERIFY(QRegularExpression(u"^\\d+\\.\\d+\\.\\d+$"_s).match(BuildInfo::atelierVersion()).hasMatch());
    // A package says its flavour; the tests run in a development build.
    QCOMPARE(lines[1],
             BuildInfo::packageFlavour().isEmpty() ? u"Build: development"_s
                                                   : u"Package: %1 flavour"_s.arg(BuildInfo::packageFlavour()));
    QVERIFY2(lines[2].startsWith(u"Qt 6."_s), qPrintable(lines[2]));
    QVERIFY2(QRegularExpression(u"^QCoro \\d+\\.\\d+"_s).match(lines[3]).hasMatch(), qPrintable(lines[3]));
    // The LibTorch we built against is the one scripts/versions.env pins, and the report says where it is loaded
    // from.
    QVERIFY2(lines[4].startsWith(u"LibTorch "_s + QStringLiteral(ATELIER_PIN_TORCH)), qPrintable(lines[4]));
    QVERIFY2(lines[4].contains(u", from "_s + BuildInfo::torchOrigin()), qPrintable(lines[4]));
    if (BuildInfo::packageFlavour().isEmpty()) {
        QVERIFY2(BuildInfo::torchOrigin().contains(u"development build"_s), qPrintable(BuildInfo::torchOrigin()));
    }
    const QRegularExpression cuda(u"^(CUDA \\d+\\.\\d+.*|CUDA: not built with CUDA)$"_s);
    QVERIFY2(cuda.match(lines[5]).hasMatch(), qPrintable(lines[5]));
    const QRegularExpression nccl(u"^(NCCL \\d+\\.\\d+\\.\\d+|NCCL: not built with NCCL)$"_s);
    QVERIFY2(nccl.match(lines[6]).hasMatch(), qPrintable(lines[6]));
    QCOMPARE(lines[5].startsWith(u"CUDA "_s), !BuildInfo::cudaVersion().isEmpty());
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
