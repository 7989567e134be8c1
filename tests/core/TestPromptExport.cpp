// SPDX-License-Identifier: GPL-3.0-or-later
#include <QFile>
#include <QFileInfo>
#include <QTemporaryDir>
#include <QTest>

#include "import/PromptImport.h"
#include "queue/PromptExport.h"

using namespace Atelier;
using namespace Qt::StringLiterals;

Q_DECLARE_METATYPE(QList<Atelier::RenderSettings>)

class TestPromptExport final : public QObject
{
    Q_OBJECT

private slots:
    void roundTripsThroughTheImporter_data();
    void roundTripsThroughTheImporter();
    void unwritablePlaceIsReported();
};

void TestPromptExport::roundTripsThroughTheImporter_data()
{
    QTest::addColumn<QList<RenderSettings>>("jobs");
    RenderSettings full{u"a lighthouse at dusk, \"oil\" painting\non two lines"_s,
                        u"blurry, 低质量"_s,
                        std::numeric_limits<quint64>::max(),
                        30,
                        6.5,
                        768,
                        512,
                        u"dpmpp_2m_karras"_s,
                        2};
    RenderSettings plain{u"山水画"_s, {}, 0, {}, {}, {}, {}, {}};
    RenderSettings bigSeed{u"a fox"_s, {}, (quint64(1) << 53) + 1, {}, {}, {}, {}, u"euler_a"_s};
    QTest::newRow("every field") << QList<RenderSettings>{full};
    RenderSettings image = full;
    image.initImage = u"/art/山水/fox, \"1\".png"_s;
    image.denoisingStrength = 0.45;
    image.vae = u"vae-ft-mse-840000-ema-pruned.safetensors"_s;
    RenderSettings hires = full;
    hires.hiresScale = 1.5;
    hires.hiresSteps = 0;
    hires.hiresUpscaler = u"Lanczos"_s;
    hires.vae = u""_s; // the model's own, even where the run names another
    RenderSettings hiresOff{u"x"_s};
    hiresOff.hiresScale = 1; // off, even where the run turns it on
    QTest::newRow("image to image, hires fix, VAE") << QList<RenderSettings>{image, hires, hiresOff};
    QTest::newRow("seed above 2^53 stays exact") << QList<RenderSettings>{bigSeed};
    QTest::newRow("several, in order") << QList<RenderSettings>{plain, full, bigSeed};
    QTest::newRow("empty queue") << QList<RenderSettings>{};
}

void TestPromptExport::roundTripsThroughTheImporter()
{
    QFETCH(QList<RenderSettings>, jobs);
    QTemporaryDir dir;
    const QString path = dir.filePath(u"queue.jsonl"_s);
    QCOMPARE(savePromptFile(jobs, path), QString());
    if (jobs.isEmpty()) {
        // Nothing to restore: an empty file, which the window skips rather than report as a bad prompt file.
        QCOMPARE(QFileInfo(path).size(), 0);
        return;
    }
    const ImportResult back = importPromptFile(path);
    QVERIFY2(back.issues.isEmpty(), back.issues.isEmpty() ? "" : qPrintable(back.issues.first().toString()));
    QCOMPARE(back.jobs, jobs);
}

void TestPromptExport::unwritablePlaceIsReported()
{
    QTemporaryDir dir;
    // A file where the folder should be: the folder cannot be made.
    QFile blocker(dir.filePath(u"blocked"_s));
    QVERIFY(blocker.open(QIODevice::WriteOnly));
    blocker.close();
    const QString error = savePromptFile({RenderSettings{u"a cat"_s, {}, 1, {}, {}, {}, {}, {}}},
                                         dir.filePath(u"blocked/queue.jsonl"_s));
    QVERIFY2(error.contains(u"blocked"_s), qPrintable(error));
}

QTEST_GUILESS_MAIN(TestPromptExport)
#include "TestPromptExport.moc"
