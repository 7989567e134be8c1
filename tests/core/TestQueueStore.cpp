// SPDX-License-Identifier: GPL-3.0-or-later
#include <QCoreApplication>
#include <QFile>
#include <QProcess>
#include <QSet>
#include <QTemporaryDir>
#include <QTest>
#include <QThread>

#include <cstdio>

#include "TestSupport.h"
#include "import/PromptImport.h"
#include "queue/QueueStore.h"

using namespace Atelier;
using namespace Qt::StringLiterals;

namespace
{
    QList<RenderSettings> prompts(int count, const QString& stem = u"prompt"_s)
    {
        QList<RenderSettings> list;
        for (int i = 0; i < count; ++i) {
            list.append(RenderSettings{u"%1 %2"_s.arg(stem).arg(i), {}, {}, {}, {}, {}, {}, {}});
        }
        return list;
    }

    QStringList promptsOf(const QList<QueueItem>& items)
    {
        QStringList texts;
        for (const QueueItem& item : items) {
            texts.append(item.settings.prompt);
        }
        return texts;
    }

    /// A process identity that names no running process: a pid far above any real one.
    QString deadOwner()
    {
        const QStringList mine = QueueStore::processIdentity().split(u':');
        return u"%1:%2:%3"_s.arg(mine.at(0)).arg(4194304 + 17).arg(mine.at(2));
    }
} // namespace

class TestQueueStore final : public QObject
{
    Q_OBJECT

private slots:
    void keepsItemsAcrossReopening();
    void claimsInQueueOrderAndKeepsQueuesApart();
    void settingsRoundTripExactly();
    void dispatchIsRecordedBeforeTheResult();
    void releasePutsItemsFirst();
    void recoverRequeuesWhatADeadProcessRan_data();
    void recoverRequeuesWhatADeadProcessRan();
    void recoverLeavesLiveOwnersAlone();
    void aKilledProcessesItemComesBackFirst_data();
    void aKilledProcessesItemComesBackFirst();
    void concurrentClaimersNeverShareAnItem();
    void refusesANewerSchemaAndNonFiles();
    void importsTheOldQueueFileOnce();
};

void TestQueueStore::keepsItemsAcrossReopening()
{
    QTemporaryDir dir;
    const QString path = dir.filePath(u"data/queue.sqlite"_s);
    {
        QueueStore store;
        QCOMPARE(store.open(path), QString());
        QVERIFY2(store.add(u"window"_s, prompts(3)), qPrintable(store.error()));
    }
    QueueStore again;
    QCOMPARE(again.open(path), QString());
    QCOMPARE(promptsOf(again.items(u"window"_s)), (QStringList{u"prompt 0"_s, u"prompt 1"_s, u"prompt 2"_s}));
    QCOMPARE(again.count(u"window"_s, ItemState::Queued), 3);
}

void TestQueueStore::claimsInQueueOrderAndKeepsQueuesApart()
{
    QueueStore store;
    QCOMPARE(store.open(u":memory:"_s), QString());
    QVERIFY(store.add(u"window"_s, prompts(2)));
    QVERIFY(store.add(u"batch:x"_s, prompts(1, u"batch"_s)));
    QVERIFY(store.add(u"window"_s, prompts(1, u"urgent"_s), /*atFront=*/true));
    const auto first = store.claim(u"window"_s);
    QVERIFY(first);
    QCOMPARE(first->settings.prompt, u"urgent 0"_s);
    QCOMPARE(first->state, ItemState::Running);
    QCOMPARE(first->owner, QueueStore::processIdentity());
    QCOMPARE(store.claim(u"window"_s)->settings.prompt, u"prompt 0"_s);
    QCOMPARE(store.claim(u"window"_s)->settings.prompt, u"prompt 1"_s);
    QVERIFY(!store.claim(u"window"_s));
    QCOMPARE(store.error(), QString()); // empty is not a failure
    QCOMPARE(store.claim(u"batch:x"_s)->settings.prompt, u"batch 0"_s);
}

void TestQueueStore::settingsRoundTripExactly()
{
    QueueStore store;
    QCOMPARE(store.open(u":memory:"_s), QString());
    const RenderSettings full{u"a \"quoted\"\nlighthouse, 灯台"_s,
                              u"blurry"_s,
                              std::numeric_limits<quint64>::max(),
                              30,
                              6.5,
                              768,
                              512,
                              u"dpmpp_2m_karras"_s};
    const RenderSettings bare{u"a fox"_s, {}, {}, {}, {}, {}, {}, {}};
    QVERIFY(store.add(u"window"_s, {full, bare}, false, {u"k1"_s, u"k2"_s}));
    const QList<QueueItem> items = store.items(u"window"_s);
    QCOMPARE(items.size(), 2);
    QCOMPARE(items.at(0).settings, full);
    QCOMPARE(items.at(1).settings, bare);
    QCOMPARE(items.at(1).key, u"k2"_s);
}

void TestQueueStore::dispatchIsRecordedBeforeTheResult()
{
    QueueStore store;
    QCOMPARE(store.open(u":memory:"_s), QString());
    QVERIFY(store.add(u"window"_s, prompts(1)));
    const qint64 id = store.claim(u"window"_s)->id;
    QVERIFY(store.recordDispatch(id, 1234, u"/out/00007-1234-prompt-0.png"_s, 1, u"cuda:1"_s));
    QueueItem item = *store.item(id);
    QCOMPARE(item.settings.seed, std::optional<quint64>(1234));
    QCOMPARE(item.imagePath, u"/out/00007-1234-prompt-0.png"_s);
    QCOMPARE(item.attempts, 1);
    QCOMPARE(item.device, u"cuda:1"_s);
    QVERIFY(store.markFailed(id, u"oom: out of memory"_s, /*final=*/false));
    QCOMPARE(store.item(id)->state, ItemState::Running); // retried within the run
    QVERIFY(store.markDone(id, item.imagePath));
    item = *store.item(id);
    QCOMPARE(item.state, ItemState::Done);
    QCOMPARE(item.owner, QString());
}

void TestQueueStore::releasePutsItemsFirst()
{
    QueueStore store;
    QCOMPARE(store.open(u":memory:"_s), QString());
    QVERIFY2(store.add(u"window"_s, prompts(3)), qPrintable(store.error()));
    const qint64 id = store.claim(u"window"_s)->id;
    QVERIFY(store.release(id, u"stopped"_s));
    const QList<QueueItem> items = store.items(u"window"_s, ItemState::Queued);
    QCOMPARE(promptsOf(items), (QStringList{u"prompt 0"_s, u"prompt 1"_s, u"prompt 2"_s}));
    QCOMPARE(items.first().lastError, u"stopped"_s);
    QCOMPARE(items.first().attempts, 0);
}

void TestQueueStore::recoverRequeuesWhatADeadProcessRan_data()
{
    QTest::addColumn<int>("attempts");
    QTest::addColumn<bool>("imageOnDisk");
    QTest::addColumn<ItemState>("expected");
    QTest::newRow("first attempt, no image") << 1 << false << ItemState::Queued;
    QTest::newRow("image written, never reported") << 1 << true << ItemState::Done;
    QTest::newRow("out of attempts") << DefaultMaxAttempts << false << ItemState::Failed;
    QTest::newRow("out of attempts but the image is there") << DefaultMaxAttempts << true << ItemState::Done;
}

void TestQueueStore::recoverRequeuesWhatADeadProcessRan()
{
    QFETCH(int, attempts);
    QFETCH(bool, imageOnDisk);
    QFETCH(ItemState, expected);
    QTemporaryDir dir;
    const QString path = dir.filePath(u"queue.sqlite"_s);
    QueueStore store;
    QCOMPARE(store.open(path), QString());
    QVERIFY2(store.add(u"window"_s, prompts(3)), qPrintable(store.error()));
    const qint64 id = store.claim(u"window"_s)->id;
    QVERIFY(store.recordDispatch(id, 5, u"/out/00000-5-prompt-0.png"_s, attempts, u"cpu"_s));
    // What a crashed process leaves: its claim, under an identity that no longer runs.
    QVERIFY(Test::runSql(path, u"UPDATE items SET owner = '%1' WHERE id = %2"_s.arg(deadOwner()).arg(id)));
    const int recovered = store.recover(
        u"window"_s, [imageOnDisk](const QueueItem& item) { return imageOnDisk && item.id >= 0; }, DefaultMaxAttempts);
    QCOMPARE(recovered, 1);
    const QueueItem after = *store.item(id);
    QCOMPARE(after.state, expected);
    QCOMPARE(after.attempts, attempts); // counted at dispatch, not again
    if (expected == ItemState::Queued) {
        // First in line again, ahead of what never started.
        QCOMPARE(store.items(u"window"_s, ItemState::Queued).first().id, id);
        QCOMPARE(after.imagePath, u"/out/00000-5-prompt-0.png"_s); // the retry writes the same name
    }
}

void TestQueueStore::recoverLeavesLiveOwnersAlone()
{
    QueueStore store;
    QCOMPARE(store.open(u":memory:"_s), QString());
    QVERIFY(store.add(u"window"_s, prompts(1)));
    const qint64 id = store.claim(u"window"_s)->id;
    // This process owns it and runs: another Atelier starting now must not take it back.
    QCOMPARE(store.recover(u"window"_s, {}, DefaultMaxAttempts), 0);
    QCOMPARE(store.item(id)->state, ItemState::Running);
    QVERIFY(QueueStore::isProcessAlive(QueueStore::processIdentity()));
    QVERIFY(!QueueStore::isProcessAlive(deadOwner()));
    QVERIFY(!QueueStore::isProcessAlive(QString()));
}

void TestQueueStore::aKilledProcessesItemComesBackFirst_data()
{
    QTest::addColumn<bool>("imageWritten");
    QTest::newRow("killed while rendering") << false;
    QTest::newRow("killed after writing the image") << true;
}

// The window's crash, with a real process: a child claims the first item, records its dispatch as the coordinator
// does, and is killed with SIGKILL. The next start (openQueueStore) puts the item back first, the attempt counted,
// or, when its image is whole on disk, marks it done: made once.
void TestQueueStore::aKilledProcessesItemComesBackFirst()
{
    QFETCH(bool, imageWritten);
    QTemporaryDir dir;
    const QString path = dir.filePath(u"queue.sqlite"_s);
    const QString image = dir.filePath(u"00000-9-prompt-0.png"_s);
    {
        QueueStore store;
        QCOMPARE(store.open(path), QString());
        QVERIFY(store.add(QueueStore::windowQueue(), prompts(3)));
    }
    QProcess child;
    QProcessEnvironment environment = QProcessEnvironment::systemEnvironment();
    environment.insert(u"ATELIER_TEST_CLAIM_AND_WAIT"_s, path);
    environment.insert(u"ATELIER_TEST_IMAGE"_s, image);
    child.setProcessEnvironment(environment);
    child.start(QCoreApplication::applicationFilePath(), {});
    QVERIFY(QTest::qWaitFor([&] { return child.canReadLine() || child.state() == QProcess::NotRunning; }, 30000));
    QCOMPARE(child.readLine().trimmed(), "claimed"_ba);
    if (imageWritten) {
        QFile png(image);
        QVERIFY(png.open(QIODevice::WriteOnly));
        png.write(QByteArray::fromHex("89504e470d0a1a0a") + QByteArray(64, 'x')
                  + QByteArray::fromHex("0000000049454e44ae426082"));
    }
    {
        QueueStore meanwhile; // another Atelier starting while it still runs must leave its item alone
        QCOMPARE(openQueueStore(meanwhile, path), QString());
        QCOMPARE(meanwhile.items(QueueStore::windowQueue(), ItemState::Running).size(), 1);
    }
    child.kill();
    QVERIFY(child.waitForFinished(30000));

    QueueStore restarted;
    QCOMPARE(openQueueStore(restarted, path), QString());
    const QList<QueueItem> items = restarted.items(QueueStore::windowQueue());
    QCOMPARE(items.size(), 3);
    if (imageWritten) {
        QCOMPARE(restarted.count(QueueStore::windowQueue(), ItemState::Done), 1);
        QCOMPARE(promptsOf(restarted.items(QueueStore::windowQueue(), ItemState::Queued)),
                 (QStringList{u"prompt 1"_s, u"prompt 2"_s}));
    } else {
        QCOMPARE(promptsOf(restarted.items(QueueStore::windowQueue(), ItemState::Queued)),
                 (QStringList{u"prompt 0"_s, u"prompt 1"_s, u"prompt 2"_s}));
        QCOMPARE(items.first().attempts, 1);
        QCOMPARE(items.first().settings.seed, std::optional<quint64>(9));
    }
}

void TestQueueStore::concurrentClaimersNeverShareAnItem()
{
    QTemporaryDir dir;
    const QString path = dir.filePath(u"queue.sqlite"_s);
    constexpr int Items = 400;
    constexpr int Claimers = 4;
    {
        QueueStore store;
        QCOMPARE(store.open(path), QString());
        QVERIFY(store.add(u"window"_s, prompts(Items)));
    }
    // Each claimer is a thread with its own connection, as two Atelier processes would have; SQLite's locking is
    // the same either way.
    QList<QList<qint64>> claimed(Claimers);
    QStringList errors(Claimers);
    std::vector<std::unique_ptr<QThread>> threads;
    for (int c = 0; c < Claimers; ++c) {
        threads.emplace_back(QThread::create([&, c] {
            QueueStore store;
            if (const QString error = store.open(path); !error.isEmpty()) {
                errors[c] = error;
                return;
            }
            while (const std::optional<QueueItem> item = store.claim(u"window"_s)) {
                claimed[c].append(item->id);
                store.markDone(item->id, {});
            }
            errors[c] = store.error();
        }));
    }
    for (auto& thread : threads) {
        thread->start();
    }
    for (auto& thread : threads) {
        QVERIFY(thread->wait(120000));
    }
    QSet<qint64> all;
    qsizetype total = 0;
    for (int c = 0; c < Claimers; ++c) {
        QVERIFY2(errors.at(c).isEmpty(), qPrintable(errors.at(c)));
        total += claimed.at(c).size();
        for (const qint64 id : claimed.at(c)) {
            all.insert(id);
        }
    }
    QCOMPARE(total, Items); // every item claimed …
    QCOMPARE(all.size(), Items); // … by exactly one claimer
    QueueStore check;
    QCOMPARE(check.open(path), QString());
    QCOMPARE(check.count(u"window"_s, ItemState::Done), Items);
}

void TestQueueStore::refusesANewerSchemaAndNonFiles()
{
    QTemporaryDir dir;
    const QString path = dir.filePath(u"queue.sqlite"_s);
    {
        QueueStore store;
        QCOMPARE(store.open(path), QString());
    }
    QVERIFY(Test::runSql(path, u"PRAGMA user_version = %1"_s.arg(QueueStore::SchemaVersion + 1)));
    QueueStore newer;
    const QString error = newer.open(path);
    QVERIFY2(error.contains(path) && error.contains(u"newer"_s), qPrintable(error));

    QueueStore folder;
    const QString folderError = folder.open(dir.path());
    QVERIFY2(folderError.contains(u"not a regular file"_s), qPrintable(folderError));

    QFile garbage(dir.filePath(u"garbage.sqlite"_s));
    QVERIFY(garbage.open(QIODevice::WriteOnly));
    garbage.write(QByteArray(4096, 'x'));
    garbage.close();
    QueueStore corrupt;
    QVERIFY(!corrupt.open(garbage.fileName()).isEmpty());
}

void TestQueueStore::importsTheOldQueueFileOnce()
{
    QTemporaryDir dir;
    QFile legacy(dir.filePath(u"queue.jsonl"_s));
    QVERIFY(legacy.open(QIODevice::WriteOnly));
    legacy.write("{\"prompt\":\"kept from before\",\"seed\":7}\n{\"prompt\":\"second\"}\n");
    legacy.close();
    const QString path = dir.filePath(u"queue.sqlite"_s);
    for (int start = 0; start < 2; ++start) {
        QueueStore store;
        QCOMPARE(openQueueStore(store, path), QString());
        const QList<QueueItem> items = store.items(QueueStore::windowQueue());
        QCOMPARE(promptsOf(items), (QStringList{u"kept from before"_s, u"second"_s}));
        QCOMPARE(items.first().settings.seed, std::optional<quint64>(7));
    }
    QVERIFY(!QFile::exists(dir.filePath(u"queue.jsonl"_s)));
    QVERIFY(QFile::exists(dir.filePath(u"queue.jsonl.imported"_s)));
}

int main(int argc, char** argv)
{
    // The child of aKilledProcessesItemComesBackFirst: claims as a coordinator would, then waits to be killed.
    if (const QString path = qEnvironmentVariable("ATELIER_TEST_CLAIM_AND_WAIT"); !path.isEmpty()) {
        QCoreApplication app(argc, argv);
        QueueStore store;
        if (!store.open(path).isEmpty()) {
            return 1;
        }
        const std::optional<QueueItem> item = store.claim(QueueStore::windowQueue());
        if (!item || !store.recordDispatch(item->id, 9, qEnvironmentVariable("ATELIER_TEST_IMAGE"), 1, u"cpu"_s)) {
            return 1;
        }
        std::fputs("claimed\n", stdout);
        std::fflush(stdout);
        QThread::sleep(120);
        return 0;
    }
    QCoreApplication app(argc, argv);
    TestQueueStore test;
    QTEST_SET_MAIN_SOURCE_PATH
    return QTest::qExec(&test, argc, argv);
}
#include "TestQueueStore.moc"
