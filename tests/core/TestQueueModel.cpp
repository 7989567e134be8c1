// SPDX-License-Identifier: GPL-3.0-or-later
#include <QAbstractItemModelTester>
#include <QMimeData>
#include <QPersistentModelIndex>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>

#include <memory>

#include "queue/QueueModel.h"

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

    QList<RenderSettings> jobs(const QStringList& prompts)
    {
        QList<RenderSettings> list;
        for (const QString& p : prompts) {
            list.append(job(p));
        }
        return list;
    }

    /// The prompts, row by row, as the table shows them.
    QStringList prompts(const QueueModel& model)
    {
        QStringList list;
        for (int row = 0; row < model.rowCount(); ++row) {
            list.append(model.index(row, QueueModel::PromptColumn).data().toString());
        }
        return list;
    }

    QList<qint64> idsOf(const QueueModel& model, const QStringList& wanted)
    {
        QList<qint64> ids;
        for (const QString& prompt : wanted) {
            for (int row = 0; row < model.rowCount(); ++row) {
                if (model.itemAt(row).settings.prompt == prompt) {
                    ids.append(model.itemAt(row).id);
                }
            }
        }
        return ids;
    }

    /// A store in memory with a model over it, checked by QAbstractItemModelTester for every change.
    struct Fixture
    {
        QueueStore store;
        std::unique_ptr<QueueModel> model;
        std::unique_ptr<QAbstractItemModelTester> tester;

        explicit Fixture(const QStringList& prompts = {})
        {
            if (!store.open(u":memory:"_s).isEmpty()) {
                return;
            }
            model = std::make_unique<QueueModel>(&store);
            tester = std::make_unique<QAbstractItemModelTester>(model.get(),
                                                                QAbstractItemModelTester::FailureReportingMode::QtTest);
            model->add(jobs(prompts));
        }
    };
} // namespace

class TestQueueModel final : public QObject
{
    Q_OBJECT

private slots:
    void addRefusesBlankPrompts_data();
    void addRefusesBlankPrompts();
    void addToTheFront();
    void keepsEverySettingThroughTheStore();
    void runningFirstThenWaitingThenFinished();
    void moves_data();
    void moves();
    void dragAndDrop_data();
    void dragAndDrop();
    void onlyWaitingItemsAreDragged();
    void editsAWaitingItemOnly();
    void duplicatesRightAfterTheOriginal();
    void removesWaitingAndFinishedButNotRunning();
    void retriesFailedAndCanceled();
    void showsLiveProgressWhileRunning();
    void selectionFollowsItsItem();
    void seesChangesOfAnotherProcess();
};

void TestQueueModel::addRefusesBlankPrompts_data()
{
    QTest::addColumn<QString>("prompt");
    QTest::addColumn<bool>("accepted");
    QTest::newRow("empty") << QString() << false;
    QTest::newRow("spaces and newlines") << u"  \n\t "_s << false;
    QTest::newRow("text") << u"a castle"_s << true;
    QTest::newRow("padded text") << u"  a castle  "_s << true;
    QTest::newRow("CJK") << u"山水画"_s << true;
}

void TestQueueModel::addRefusesBlankPrompts()
{
    QFETCH(QString, prompt);
    QFETCH(bool, accepted);
    Fixture f;
    QSignalSpy waiting(f.model.get(), &QueueModel::waitingChanged);
    QCOMPARE(f.model->add({job(prompt)}).size(), accepted ? 1 : 0);
    QCOMPARE(f.model->rowCount(), accepted ? 1 : 0);
    QCOMPARE(f.model->waitingCount(), accepted ? 1 : 0);
    QCOMPARE(waiting.count(), accepted ? 1 : 0);
}

void TestQueueModel::addToTheFront()
{
    Fixture f({u"a"_s, u"b"_s});
    f.model->add(jobs({u"x"_s, u"y"_s}), /*atFront=*/true);
    QCOMPARE(prompts(*f.model), (QStringList{u"x"_s, u"y"_s, u"a"_s, u"b"_s}));
    QCOMPARE(f.model->claim()->settings.prompt, u"x"_s);
}

void TestQueueModel::keepsEverySettingThroughTheStore()
{
    Fixture f;
    RenderSettings modelsOwnSampler = job(u"a"_s);
    modelsOwnSampler.scheduler = u""_s; // the window's "Model default": not the same as unset
    modelsOwnSampler.seed = 18446744073709551615ULL;
    modelsOwnSampler.steps = 1;
    modelsOwnSampler.cfgScale = 0.5;
    modelsOwnSampler.width = 64;
    modelsOwnSampler.height = 2048;
    RenderSettings unset = job(u"b"_s);
    const QList<qint64> ids = f.model->add({modelsOwnSampler, unset});
    QCOMPARE(ids.size(), 2);
    QCOMPARE(f.model->item(ids.at(0))->settings, modelsOwnSampler);
    QCOMPARE(f.model->item(ids.at(1))->settings, unset);
    QCOMPARE(f.model->item(ids.at(0))->state, ItemState::Queued);
}

void TestQueueModel::runningFirstThenWaitingThenFinished()
{
    Fixture f({u"a"_s, u"b"_s, u"c"_s, u"d"_s, u"e"_s});
    const std::optional<QueueItem> a = f.model->claim();
    QVERIFY(f.model->markDone(a->id, u"/out/a.png"_s));
    const std::optional<QueueItem> b = f.model->claim();
    QVERIFY(f.model->markFailed(b->id, u"engine: out of memory"_s, true));
    const std::optional<QueueItem> c = f.model->claim();
    QCOMPARE(f.model->waitingCount(), 2);
    QCOMPARE(prompts(*f.model).mid(0, 3), (QStringList{u"c"_s, u"d"_s, u"e"_s}));
    QCOMPARE(prompts(*f.model).mid(3).size(), 2); // b and a; their order depends on the clock's second
    const QModelIndex state = f.model->index(f.model->rowOf(b->id), QueueModel::StateColumn);
    QCOMPARE(state.data().toString(), u"failed: engine: out of memory"_s);
    QCOMPARE(f.model->index(f.model->rowOf(a->id), QueueModel::StateColumn).data().toString(), u"done"_s);
    QCOMPARE(f.model->index(0, QueueModel::StateColumn).data(QueueModel::StateRole).toInt(), int(ItemState::Running));
    QCOMPARE(f.model->index(1, QueueModel::StateColumn).data().toString(), u"queued"_s);
    QVERIFY(c);
}

void TestQueueModel::moves_data()
{
    QTest::addColumn<QStringList>("selected");
    QTest::addColumn<QString>("operation");
    QTest::addColumn<QStringList>("expected");
    const QStringList abcde{u"a"_s, u"b"_s, u"c"_s, u"d"_s, u"e"_s};
    QTest::newRow("one to the top") << QStringList{u"d"_s} << u"top"_s
                                    << QStringList{u"d"_s, u"a"_s, u"b"_s, u"c"_s, u"e"_s};
    QTest::newRow("two to the top keep their order")
        << QStringList{u"e"_s, u"c"_s} << u"top"_s << QStringList{u"c"_s, u"e"_s, u"a"_s, u"b"_s, u"d"_s};
    QTest::newRow("the first to the top") << QStringList{u"a"_s} << u"top"_s << abcde;
    QTest::newRow("one to the bottom") << QStringList{u"b"_s} << u"bottom"_s
                                       << QStringList{u"a"_s, u"c"_s, u"d"_s, u"e"_s, u"b"_s};
    QTest::newRow("two to the bottom keep their order")
        << QStringList{u"b"_s, u"a"_s} << u"bottom"_s << QStringList{u"c"_s, u"d"_s, u"e"_s, u"a"_s, u"b"_s};
    QTest::newRow("all to the top") << abcde << u"top"_s << abcde;
    QTest::newRow("before c") << QStringList{u"e"_s, u"a"_s} << u"before c"_s
                              << QStringList{u"b"_s, u"a"_s, u"e"_s, u"c"_s, u"d"_s};
    QTest::newRow("before one of the moved")
        << QStringList{u"b"_s, u"c"_s} << u"before c"_s << QStringList{u"a"_s, u"b"_s, u"c"_s, u"d"_s, u"e"_s};
}

void TestQueueModel::moves()
{
    QFETCH(QStringList, selected);
    QFETCH(QString, operation);
    QFETCH(QStringList, expected);
    Fixture f({u"a"_s, u"b"_s, u"c"_s, u"d"_s, u"e"_s});
    const QList<qint64> ids = idsOf(*f.model, selected);
    if (operation == u"top"_s) {
        QVERIFY(f.model->moveToTop(ids));
    } else if (operation == u"bottom"_s) {
        QVERIFY(f.model->moveToBottom(ids));
    } else {
        QVERIFY(f.model->moveBefore(ids, idsOf(*f.model, {u"c"_s}).constFirst()));
    }
    QCOMPARE(prompts(*f.model), expected);
    // The store has the same order: it is what runs next, and what a restart shows.
    QueueModel reread(&f.store);
    QCOMPARE(prompts(reread), expected);
    QCOMPARE(f.model->claim()->settings.prompt, expected.constFirst());
}

void TestQueueModel::dragAndDrop_data()
{
    QTest::addColumn<QStringList>("dragged");
    QTest::addColumn<int>("row"); ///< dropped between rows, before this one (-1: past the end)
    QTest::addColumn<bool>("onto"); ///< dropped onto the row instead
    QTest::addColumn<QStringList>("expected");
    // Rows: r (running), a, b, c, d (waiting).
    QTest::newRow("between b and c") << QStringList{u"d"_s} << 2 << false
                                     << QStringList{u"r"_s, u"a"_s, u"d"_s, u"b"_s, u"c"_s};
    QTest::newRow("onto a") << QStringList{u"c"_s} << 1 << true << QStringList{u"r"_s, u"c"_s, u"a"_s, u"b"_s, u"d"_s};
    QTest::newRow("past the end") << QStringList{u"a"_s, u"b"_s} << -1 << false
                                  << QStringList{u"r"_s, u"c"_s, u"d"_s, u"a"_s, u"b"_s};
    QTest::newRow("onto the running one: first")
        << QStringList{u"d"_s} << 0 << true << QStringList{u"r"_s, u"d"_s, u"a"_s, u"b"_s, u"c"_s};
}

void TestQueueModel::dragAndDrop()
{
    QFETCH(QStringList, dragged);
    QFETCH(int, row);
    QFETCH(bool, onto);
    QFETCH(QStringList, expected);
    Fixture f({u"r"_s, u"a"_s, u"b"_s, u"c"_s, u"d"_s});
    QVERIFY(f.model->claim());
    QModelIndexList indexes;
    for (const qint64 id : idsOf(*f.model, dragged)) {
        indexes.append(f.model->index(f.model->rowOf(id), QueueModel::PromptColumn));
        indexes.append(f.model->index(f.model->rowOf(id), QueueModel::StateColumn)); // a row: several cells
    }
    std::unique_ptr<QMimeData> data(f.model->mimeData(indexes));
    QVERIFY(data);
    QVERIFY(f.model->canDropMimeData(data.get(), Qt::MoveAction, row, 0, {}));
    const QModelIndex parent = onto ? f.model->index(row, 0) : QModelIndex();
    QVERIFY(f.model->dropMimeData(data.get(), Qt::MoveAction, onto ? -1 : row, onto ? -1 : 0, parent));
    QCOMPARE(prompts(*f.model), expected);
}

void TestQueueModel::onlyWaitingItemsAreDragged()
{
    Fixture f({u"r"_s, u"a"_s});
    QVERIFY(f.model->claim());
    QVERIFY(!(f.model->flags(f.model->index(0, 0)) & Qt::ItemIsDragEnabled));
    QVERIFY(f.model->flags(f.model->index(1, 0)) & Qt::ItemIsDragEnabled);
    QCOMPARE(f.model->mimeData({f.model->index(0, 0)}), nullptr);
    QMimeData other;
    other.setText(u"a"_s);
    QVERIFY(!f.model->canDropMimeData(&other, Qt::MoveAction, 0, 0, {}));
}

void TestQueueModel::editsAWaitingItemOnly()
{
    Fixture f({u"a"_s, u"b"_s});
    const qint64 a = idsOf(*f.model, {u"a"_s}).constFirst();
    const qint64 b = idsOf(*f.model, {u"b"_s}).constFirst();
    RenderSettings edited = job(u"a, oil painting"_s);
    edited.negativePrompt = u"blurry"_s;
    edited.seed = 42;
    edited.steps = 30;
    edited.cfgScale = 5;
    edited.width = 768;
    edited.height = 512;
    edited.scheduler = u"euler_a"_s;
    QVERIFY(f.model->update(a, edited));
    QCOMPARE(f.model->item(a)->settings, edited);
    QCOMPARE(f.store.item(a)->settings, edited);
    QCOMPARE(f.model->index(f.model->rowOf(a), QueueModel::SettingsColumn).data().toString(),
             u"768×512 · steps 30 · CFG 5 · Euler a · seed 42"_s);
    QVERIFY(!f.model->update(a, job(u"  "_s))); // blank: refused
    // Claimed meanwhile: the edit is refused and said so; what runs is what was queued.
    QCOMPARE(f.model->claim()->id, a);
    QSignalSpy failed(f.model.get(), &QueueModel::storeFailed);
    QVERIFY(!f.model->update(a, job(u"too late"_s)));
    QCOMPARE(failed.count(), 1);
    QCOMPARE(f.model->item(a)->settings, edited);
    QVERIFY(f.model->update(b, job(u"b2"_s)));
}

void TestQueueModel::duplicatesRightAfterTheOriginal()
{
    Fixture f({u"a"_s, u"b"_s, u"c"_s});
    RenderSettings seeded = job(u"b"_s);
    seeded.seed = 7;
    QVERIFY(f.model->update(idsOf(*f.model, {u"b"_s}).constFirst(), seeded));
    const QList<qint64> copies = f.model->duplicate(idsOf(*f.model, {u"b"_s, u"c"_s}));
    QCOMPARE(copies.size(), 2);
    QCOMPARE(prompts(*f.model), (QStringList{u"a"_s, u"b"_s, u"b"_s, u"c"_s, u"c"_s}));
    QCOMPARE(f.model->item(copies.first())->settings, seeded);
    QCOMPARE(f.model->waitingCount(), 5);
}

void TestQueueModel::removesWaitingAndFinishedButNotRunning()
{
    Fixture f({u"done"_s, u"running"_s, u"a"_s, u"b"_s});
    const std::optional<QueueItem> done = f.model->claim();
    QVERIFY(f.model->markDone(done->id, u"/out/x.png"_s));
    const std::optional<QueueItem> running = f.model->claim();
    QVERIFY(f.model->remove(idsOf(*f.model, {u"running"_s, u"a"_s})));
    QCOMPARE(prompts(*f.model), (QStringList{u"running"_s, u"b"_s, u"done"_s}));
    QVERIFY(f.model->removeFinished());
    QCOMPARE(prompts(*f.model), (QStringList{u"running"_s, u"b"_s}));
    QVERIFY(running);
}

void TestQueueModel::retriesFailedAndCanceled()
{
    Fixture f({u"failed"_s, u"canceled"_s, u"waiting"_s});
    const std::optional<QueueItem> failed = f.model->claim();
    QVERIFY(f.model->recordDispatch(failed->id, 5, u"/out/f.png"_s, 3, u"cpu"_s));
    QVERIFY(f.model->markFailed(failed->id, u"engine: broke"_s, true));
    QVERIFY(f.model->cancel(idsOf(*f.model, {u"canceled"_s}), u"canceled"_s));
    QCOMPARE(f.model->waitingCount(), 1);
    QVERIFY(f.model->retry({failed->id, idsOf(*f.model, {u"canceled"_s}).constFirst()}));
    QCOMPARE(f.model->waitingCount(), 3);
    QCOMPARE(f.model->item(failed->id)->attempts, 0);
    QCOMPARE(f.model->item(failed->id)->settings.seed, std::optional<quint64>(5)); // same seed: the same image
}

void TestQueueModel::showsLiveProgressWhileRunning()
{
    Fixture f({u"a"_s, u"b"_s});
    const std::optional<QueueItem> a = f.model->claim();
    QVERIFY(f.model->recordDispatch(a->id, 1, u"/out/a.png"_s, 1, u"cuda:1"_s));
    const QModelIndex state = f.model->index(f.model->rowOf(a->id), QueueModel::StateColumn);
    QCOMPARE(state.data().toString(), u"starting on cuda:1"_s);
    QCOMPARE(state.data(QueueModel::ProgressRole).toDouble(), -1.0);
    QSignalSpy changed(f.model.get(), &QAbstractItemModel::dataChanged);
    f.model->setLive(a->id, LiveProgress{u"cuda:1"_s, 5, 20, 3.5, {}, 0, 0, {}});
    QCOMPARE(changed.count(), 1);
    QCOMPARE(state.data().toString(), u"running on cuda:1, step 5/20"_s);
    QCOMPARE(state.data(QueueModel::ProgressRole).toDouble(), 0.25);
    // Only a running item has live progress; done, it is gone.
    f.model->setLive(idsOf(*f.model, {u"b"_s}).constFirst(), LiveProgress{u"cpu"_s, 1, 2, 1, {}, 0, 0, {}});
    QCOMPARE(f.model->live(idsOf(*f.model, {u"b"_s}).constFirst()), nullptr);
    QVERIFY(f.model->markDone(a->id, u"/out/a.png"_s));
    QCOMPARE(f.model->live(a->id), nullptr);
    QCOMPARE(f.model->index(f.model->rowOf(a->id), QueueModel::StateColumn).data(QueueModel::ProgressRole).toDouble(),
             -1.0);
}

void TestQueueModel::selectionFollowsItsItem()
{
    Fixture f({u"a"_s, u"b"_s, u"c"_s, u"d"_s});
    const QPersistentModelIndex c = f.model->index(2, QueueModel::PromptColumn);
    const QPersistentModelIndex a = f.model->index(0, QueueModel::PromptColumn);
    QVERIFY(f.model->remove(idsOf(*f.model, {u"b"_s})));
    QCOMPARE(c.data().toString(), u"c"_s);
    QVERIFY(f.model->moveToTop(idsOf(*f.model, {u"d"_s})));
    QCOMPARE(c.data().toString(), u"c"_s);
    QCOMPARE(c.row(), 2);
    const std::optional<QueueItem> d = f.model->claim();
    QVERIFY(f.model->markDone(d->id, u"/out/d.png"_s)); // d moves down among the finished
    QCOMPARE(a.data().toString(), u"a"_s);
    QCOMPARE(a.row(), 0);
    QCOMPARE(c.row(), 1);
}

void TestQueueModel::seesChangesOfAnotherProcess()
{
    QTemporaryDir dir;
    const QString path = dir.filePath(u"queue.sqlite"_s);
    QueueStore mine;
    QCOMPARE(mine.open(path), QString());
    QueueModel model(&mine);
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    model.add(jobs({u"a"_s, u"b"_s}));
    QueueStore theirs;
    QCOMPARE(theirs.open(path), QString());
    QVERIFY(theirs.add(QueueStore::windowQueue(), {job(u"c"_s)}));
    QVERIFY(theirs.claim(QueueStore::windowQueue()));
    model.refresh();
    QCOMPARE(prompts(model), (QStringList{u"a"_s, u"b"_s, u"c"_s}));
    QCOMPARE(model.index(0, QueueModel::StateColumn).data(QueueModel::StateRole).toInt(), int(ItemState::Running));
    QCOMPARE(model.waitingCount(), 2);
}

QTEST_GUILESS_MAIN(TestQueueModel)
#include "TestQueueModel.moc"
