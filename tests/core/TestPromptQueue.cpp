// SPDX-License-Identifier: GPL-3.0-or-later
#include <QAbstractItemModelTester>
#include <QSignalSpy>
#include <QTest>

#include "queue/PromptQueue.h"

using namespace Atelier;
using namespace Qt::StringLiterals;

namespace
{
    RenderSettings job(const QString& prompt)
    {
        RenderSettings j;
        j.prompt = prompt;
        return j;
    }

    QStringList prompts(const PromptQueue& queue)
    {
        QStringList list;
        for (int row = 0; row < queue.rowCount(); ++row) {
            list.append(queue.data(queue.index(row)).toString());
        }
        return list;
    }
} // namespace

class TestPromptQueue final : public QObject
{
    Q_OBJECT

private slots:
    void enqueueRefusesBlankPrompts_data();
    void enqueueRefusesBlankPrompts();
    void keepsOrderAndTakesFromTheFront();
    void prependPutsJobsBackFirstInTheirOrder();
    void removeAt_data();
    void removeAt();
    void exposesJobFields();
};

void TestPromptQueue::enqueueRefusesBlankPrompts_data()
{
    QTest::addColumn<QString>("prompt");
    QTest::addColumn<bool>("accepted");
    QTest::newRow("empty") << QString() << false;
    QTest::newRow("spaces and newlines") << u"  \n\t "_s << false;
    QTest::newRow("text") << u"a castle"_s << true;
    QTest::newRow("padded text") << u"  a castle  "_s << true;
    QTest::newRow("CJK") << u"山水画"_s << true;
}

void TestPromptQueue::enqueueRefusesBlankPrompts()
{
    QFETCH(QString, prompt);
    QFETCH(bool, accepted);
    QueueStore store;
    QVERIFY(store.open(u":memory:"_s).isEmpty());
    PromptQueue queue(&store);
    QAbstractItemModelTester tester(&queue, QAbstractItemModelTester::FailureReportingMode::QtTest);
    QSignalSpy sizeSpy(&queue, &PromptQueue::sizeChanged);
    QCOMPARE(queue.enqueue(job(prompt)), accepted);
    QCOMPARE(queue.size(), accepted ? 1 : 0);
    QCOMPARE(sizeSpy.count(), accepted ? 1 : 0);
}

void TestPromptQueue::keepsOrderAndTakesFromTheFront()
{
    QueueStore store;
    QVERIFY(store.open(u":memory:"_s).isEmpty());
    PromptQueue queue(&store);
    QAbstractItemModelTester tester(&queue, QAbstractItemModelTester::FailureReportingMode::QtTest);
    for (const auto& p : {u"one"_s, u"two"_s, u"three"_s}) {
        QVERIFY(queue.enqueue(job(p)));
    }
    QCOMPARE(prompts(queue), (QStringList{u"one"_s, u"two"_s, u"three"_s}));
    QCOMPARE(queue.claim()->settings.prompt, u"one"_s);
    QCOMPARE(queue.claim()->settings.prompt, u"two"_s);
    QCOMPARE(queue.claim()->settings.prompt, u"three"_s);
    QVERIFY(!queue.claim().has_value());
    QVERIFY(queue.isEmpty());
}

void TestPromptQueue::prependPutsJobsBackFirstInTheirOrder()
{
    QueueStore store;
    QVERIFY(store.open(u":memory:"_s).isEmpty());
    PromptQueue queue(&store);
    QAbstractItemModelTester tester(&queue, QAbstractItemModelTester::FailureReportingMode::QtTest);
    QVERIFY(queue.enqueue(job(u"later"_s)));
    QSignalSpy sizes(&queue, &PromptQueue::sizeChanged);
    queue.prepend({job(u"first"_s), job(u"  "_s), job(u"second"_s)});
    QCOMPARE(prompts(queue), (QStringList{u"first"_s, u"second"_s, u"later"_s}));
    QCOMPARE(sizes.size(), 1);
    QCOMPARE(sizes.first().first().value<qsizetype>(), qsizetype{3});
    queue.prepend({});
    QCOMPARE(sizes.size(), 1);
}

void TestPromptQueue::removeAt_data()
{
    QTest::addColumn<QList<int>>("rows");
    QTest::addColumn<QStringList>("remaining");
    QTest::newRow("none") << QList<int>{} << QStringList{u"a"_s, u"b"_s, u"c"_s, u"d"_s};
    QTest::newRow("first") << QList<int>{0} << QStringList{u"b"_s, u"c"_s, u"d"_s};
    QTest::newRow("ascending pair") << QList<int>{1, 2} << QStringList{u"a"_s, u"d"_s};
    QTest::newRow("unsorted with duplicates") << QList<int>{3, 0, 3, 0} << QStringList{u"b"_s, u"c"_s};
    QTest::newRow("out of range ignored") << QList<int>{-1, 4, 99, 1} << QStringList{u"a"_s, u"c"_s, u"d"_s};
    QTest::newRow("all") << QList<int>{0, 1, 2, 3} << QStringList{};
}

void TestPromptQueue::removeAt()
{
    QFETCH(QList<int>, rows);
    QFETCH(QStringList, remaining);
    QueueStore store;
    QVERIFY(store.open(u":memory:"_s).isEmpty());
    PromptQueue queue(&store);
    QAbstractItemModelTester tester(&queue, QAbstractItemModelTester::FailureReportingMode::QtTest);
    for (const auto& p : {u"a"_s, u"b"_s, u"c"_s, u"d"_s}) {
        queue.enqueue(job(p));
    }
    queue.removeAt(rows);
    QCOMPARE(prompts(queue), remaining);
}

void TestPromptQueue::exposesJobFields()
{
    QueueStore store;
    QVERIFY(store.open(u":memory:"_s).isEmpty());
    PromptQueue queue(&store);
    RenderSettings j = job(u"a lighthouse"_s);
    j.negativePrompt = u"blurry"_s;
    j.seed = 1234567890123ULL;
    j.steps = 30;
    queue.enqueue(j);
    const QModelIndex index = queue.index(0);
    QCOMPARE(index.data(PromptQueue::NegativePromptRole).toString(), u"blurry"_s);
    QCOMPARE(index.data(PromptQueue::SeedRole).toULongLong(), 1234567890123ULL);
    QCOMPARE(index.data(PromptQueue::JobRole).value<RenderSettings>(), j);
    QVERIFY(!queue.index(1).isValid());
    queue.clear();
    QCOMPARE(queue.rowCount(), 0);
}

QTEST_GUILESS_MAIN(TestPromptQueue)
#include "TestPromptQueue.moc"
