// SPDX-License-Identifier: GPL-3.0-or-later
#include <QFile>
#include <QFileInfo>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>

#include "import/PromptImport.h"
#include "queue/PromptQueue.h"
#include "queue/QueueStore.h"

using namespace Atelier;
using namespace Qt::StringLiterals;

Q_DECLARE_METATYPE(QList<Atelier::RenderSettings>)

class TestQueueStore final : public QObject
{
    Q_OBJECT

private slots:
    void roundTripsThroughTheImporter_data();
    void roundTripsThroughTheImporter();
    void autosaveFollowsTheQueue();
    void unwritablePlaceIsReported();
};

void TestQueueStore::roundTripsThroughTheImporter_data()
{
    QTest::addColumn<QList<RenderSettings>>("jobs");
    RenderSettings full{u"a lighthouse at dusk, \"oil\" painting\non two lines"_s,
                        u"blurry, 低质量"_s,
                        std::numeric_limits<quint64>::max(),
                        30,
                        6.5,
                        768,
                        512,
                        u"dpmpp_2m_karras"_s};
    RenderSettings plain{u"山水画"_s, {}, 0, {}, {}, {}, {}, {}};
    RenderSettings bigSeed{u"a fox"_s, {}, (quint64(1) << 53) + 1, {}, {}, {}, {}, u"euler_a"_s};
    QTest::newRow("every field") << QList<RenderSettings>{full};
    QTest::newRow("seed above 2^53 stays exact") << QList<RenderSettings>{bigSeed};
    QTest::newRow("several, in order") << QList<RenderSettings>{plain, full, bigSeed};
    QTest::newRow("empty queue") << QList<RenderSettings>{};
}

void TestQueueStore::roundTripsThroughTheImporter()
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

void TestQueueStore::autosaveFollowsTheQueue()
{
    QTemporaryDir dir;
    const QString path = dir.filePath(u"state/queue.jsonl"_s);
    PromptQueue queue;
    {
        QueueAutosave autosave(&queue, path);
        QVERIFY(queue.enqueue(RenderSettings{u"first"_s, {}, 1, {}, {}, {}, {}, {}}));
        QVERIFY(queue.enqueue(RenderSettings{u"second"_s, {}, 2, {}, {}, {}, {}, {}}));
        // Written shortly after the change, without waiting for the autosave to go.
        QTRY_VERIFY_WITH_TIMEOUT(importPromptFile(path).jobs.size() == 2, 5000);
        queue.takeFirst();
        queue.enqueue(RenderSettings{u"third"_s, {}, 3, {}, {}, {}, {}, {}});
    } // and once more when it goes, whatever the timer said
    const ImportResult saved = importPromptFile(path);
    QCOMPARE(saved.jobs.size(), 2);
    QCOMPARE(saved.jobs.at(0).prompt, u"second"_s);
    QCOMPARE(saved.jobs.at(1).prompt, u"third"_s);
}

void TestQueueStore::unwritablePlaceIsReported()
{
    QTemporaryDir dir;
    // A file where the folder should be: the folder cannot be made.
    QFile blocker(dir.filePath(u"blocked"_s));
    QVERIFY(blocker.open(QIODevice::WriteOnly));
    blocker.close();
    PromptQueue queue;
    QueueAutosave autosave(&queue, dir.filePath(u"blocked/queue.jsonl"_s));
    QSignalSpy failed(&autosave, &QueueAutosave::saveFailed);
    QVERIFY(queue.enqueue(RenderSettings{u"a cat"_s, {}, 1, {}, {}, {}, {}, {}}));
    QTRY_COMPARE_WITH_TIMEOUT(failed.size(), 1, 5000);
    QVERIFY(failed.first().first().toString().contains(u"blocked"_s));
    // A second failure in a row is not announced again.
    QVERIFY(!autosave.saveNow().isEmpty());
    QCOMPARE(failed.size(), 1);
}

QTEST_GUILESS_MAIN(TestQueueStore)
#include "TestQueueStore.moc"
