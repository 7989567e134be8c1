// SPDX-License-Identifier: GPL-3.0-or-later
// The farm's shared folder: the plan every process agrees on, and what the folder says is left to render.
#include <QDir>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTemporaryDir>
#include <QTest>

#include "TestSupport.h"
#include "farm/FarmFolder.h"
#include "render/OutputNaming.h"

using namespace Atelier;
using namespace Qt::StringLiterals;

namespace
{
    QList<RenderSettings> jobs(int count)
    {
        QList<RenderSettings> list;
        for (int i = 0; i < count; ++i) {
            RenderSettings job;
            job.prompt = u"prompt %1"_s.arg(i);
            if (i % 2 == 0) {
                job.seed = 1000 + i;
            }
            list.append(job);
        }
        return list;
    }

    /// A file that passes for a whole PNG (signature … IEND), as isCompleteImage() reads one.
    void writeImage(const QString& path)
    {
        QFile file(path);
        QVERIFY(file.open(QIODevice::WriteOnly));
        file.write(QByteArray::fromHex("89504e470d0a1a0a"));
        file.write(QByteArray(16, '\0'));
        file.write(QByteArray::fromHex("0000000049454e44ae426082"));
    }

    void writeFile(const QString& path, const QByteArray& bytes)
    {
        QDir().mkpath(QFileInfo(path).absolutePath());
        QFile file(path);
        QVERIFY(file.open(QIODevice::WriteOnly));
        file.write(bytes);
    }
} // namespace

class TestFarmFolder final : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void shardsAreParsed_data();
    void shardsAreParsed();
    void shardsDealItemsRoundRobin();
    void aPlanFixesSeedsNamesAndDefaults();
    void theFirstPlanPublishedWins();
    void aPlanRoundTrips();
    void badManifestsAreNamed_data();
    void badManifestsAreNamed();
    void shardedRunsAgreeOnTheirId();
    void whatIsMissingIsWhatTheFolderLacks();
    void leftoversOfCommittedImagesAreRemoved();
    void theTokenIsPrivateAndMadeOnce();
    void theAddressAndTheCurrentRunRoundTrip();
};

void TestFarmFolder::shardsAreParsed_data()
{
    QTest::addColumn<QString>("text");
    QTest::addColumn<int>("index");
    QTest::addColumn<int>("count");
    QTest::addColumn<QString>("mention"); // empty: accepted
    QTest::newRow("first of one") << u"0/1"_s << 0 << 1 << QString();
    QTest::newRow("last of eight") << u"7/8"_s << 7 << 8 << QString();
    QTest::newRow("spaces") << u" 2 / 4 "_s << 2 << 4 << QString();
    QTest::newRow("K equals N") << u"4/4"_s << 0 << 0 << u"--array=0-3"_s;
    QTest::newRow("no shards") << u"0/0"_s << 0 << 0 << u"at least one"_s;
    QTest::newRow("negative") << u"-1/4"_s << 0 << 0 << u"K/N"_s;
    QTest::newRow("no slash") << u"3"_s << 0 << 0 << u"\"3\""_s;
    QTest::newRow("words") << u"one/two"_s << 0 << 0 << u"K/N"_s;
    QTest::newRow("too long") << u"1/99999999999"_s << 0 << 0 << u"K/N"_s;
}

void TestFarmFolder::shardsAreParsed()
{
    QFETCH(QString, text);
    QFETCH(int, index);
    QFETCH(int, count);
    QFETCH(QString, mention);
    int k = -1;
    int n = -1;
    const QString problem = parseShard(text, &k, &n);
    if (mention.isEmpty()) {
        QCOMPARE(problem, QString());
        QCOMPARE(k, index);
        QCOMPARE(n, count);
    } else {
        QVERIFY2(problem.contains(u"--shard"_s) && problem.contains(mention), qPrintable(problem));
        QCOMPARE(k, -1);
    }
}

void TestFarmFolder::shardsDealItemsRoundRobin()
{
    // Every item in exactly one shard, and shards within one item of each other.
    for (int shards = 1; shards <= 5; ++shards) {
        QList<int> sizes(shards, 0);
        for (qint64 item = 0; item < 23; ++item) {
            int owners = 0;
            for (int shard = 0; shard < shards; ++shard) {
                if (inShard(item, shard, shards)) {
                    ++owners;
                    ++sizes[shard];
                }
            }
            QCOMPARE(owners, 1);
        }
        QVERIFY(*std::max_element(sizes.begin(), sizes.end()) - *std::min_element(sizes.begin(), sizes.end()) <= 1);
    }
}

void TestFarmFolder::aPlanFixesSeedsNamesAndDefaults()
{
    RenderSettings defaults;
    defaults.steps = 7;
    QList<RenderSettings> input = jobs(3);
    input[1].steps = 12;
    const FarmManifest plan = FarmFolder::plan(u"abc"_s, u"p.txt"_s, input, 40, QString(), u"tiny"_s, defaults);
    QCOMPARE(plan.items.size(), 3);
    QCOMPARE(plan.items[0].settings.seed, std::optional<quint64>(1000));
    QVERIFY(plan.items[1].settings.seed.has_value()); // drawn once, here
    QCOMPARE(plan.items[0].settings.steps, std::optional<int>(7)); // the run's default
    QCOMPARE(plan.items[1].settings.steps, std::optional<int>(12)); // its own
    QCOMPARE(plan.items[0].imageName, imageFileName(40, 1000, u"prompt 0"_s));
    QCOMPARE(plan.items[2].imageName, imageFileName(42, 1002, u"prompt 2"_s));
    QCOMPARE(plan.items[2].index, 2);
}

void TestFarmFolder::theFirstPlanPublishedWins()
{
    QTemporaryDir out;
    const FarmFolder folder(out.path());
    FarmManifest first = FarmFolder::plan(u"run1"_s, u"p.txt"_s, jobs(4), 0, QString(), {}, {});
    FarmManifest second = FarmFolder::plan(u"run1"_s, u"p.txt"_s, jobs(4), 9, QString(), {}, {});
    QVERIFY(first.items[1].settings.seed != second.items[1].settings.seed
            || first.items[1].imageName != second.items[1].imageName);
    bool created = false;
    QCOMPARE(folder.publish(first, &created), QString());
    QVERIFY(created);
    const FarmManifest published = first;
    QCOMPARE(folder.publish(second, &created), QString());
    QVERIFY(!created);
    QCOMPARE(second.items, published.items); // the latecomer renders the first plan
    QStringList leftovers = QDir(folder.runDirectory(u"run1"_s)).entryList(QDir::Files | QDir::Hidden);
    QCOMPARE(leftovers, QStringList{u"manifest.json"_s});
}

void TestFarmFolder::aPlanRoundTrips()
{
    QTemporaryDir out;
    const FarmFolder folder(out.path());
    QList<RenderSettings> input = jobs(2);
    input[0].negativePrompt = u"blurry, \"quoted\"\nnew line"_s;
    input[0].scheduler = u"euler_a"_s;
    input[0].cfgScale = 6.5;
    input[1].clipSkip = 2;
    input[1].hiresScale = 2.0;
    input[1].hiresSteps = 3;
    input[1].vae = u"soft.safetensors"_s;
    FarmManifest plan = FarmFolder::plan(u"r"_s, u"p.txt"_s, input, 3, QString(), {}, {});
    const FarmManifest planned = plan;
    QCOMPARE(folder.publish(plan), QString());
    FarmManifest read;
    QCOMPARE(folder.load(u"r"_s, &read), QString());
    QCOMPARE(read.items, planned.items);
    QCOMPARE(read.file, u"p.txt"_s);
    QCOMPARE(read.created, planned.created);
}

void TestFarmFolder::badManifestsAreNamed_data()
{
    QTest::addColumn<QByteArray>("bytes");
    QTest::addColumn<QString>("mention");
    const auto manifest = [](const QJsonArray& items, int version = 1) {
        return QJsonDocument(QJsonObject{{u"version"_s, version}, {u"run"_s, u"r"_s}, {u"items"_s, items}}).toJson();
    };
    const auto item = [](const QString& image, const QString& settings) {
        return QJsonObject{{u"image"_s, image}, {u"settings"_s, settings}};
    };
    QTest::newRow("not JSON") << QByteArray("{items") << u"not a farm manifest"_s;
    QTest::newRow("newer version") << manifest({}, 2) << u"version 2"_s;
    QTest::newRow("image name with a folder")
        << manifest({item(u"../x.png"_s, u"{\"prompt\": \"a\"}"_s)}) << u"item 0"_s;
    QTest::newRow("hidden image name") << manifest({item(u".x.png"_s, u"{\"prompt\": \"a\"}"_s)}) << u"item 0"_s;
    QTest::newRow("not a png") << manifest({item(u"x.jpg"_s, u"{\"prompt\": \"a\"}"_s)}) << u"item 0"_s;
    QTest::newRow("bad settings") << manifest({item(u"00001-x.png"_s, u"{\"prompt\": \"a\"}"_s),
                                               item(u"00002-x.png"_s, u"{\"prompt\": \"b\", \"steps\": 0}"_s)})
                                  << u"steps"_s;
    QTest::newRow("no settings") << manifest({item(u"00001-x.png"_s, QString())}) << u"item 0"_s;
}

void TestFarmFolder::badManifestsAreNamed()
{
    QFETCH(QByteArray, bytes);
    QFETCH(QString, mention);
    QTemporaryDir out;
    const FarmFolder folder(out.path());
    const QString path = QDir(folder.runDirectory(u"r"_s)).filePath(u"manifest.json"_s);
    writeFile(path, bytes);
    FarmManifest read;
    const QString problem = folder.load(u"r"_s, &read);
    QVERIFY2(problem.contains(path) && problem.contains(mention), qPrintable(problem));
    QVERIFY(read.items.isEmpty());
}

void TestFarmFolder::shardedRunsAgreeOnTheirId()
{
    RenderSettings defaults;
    const QString id = FarmFolder::runIdFor(jobs(3), QString(), defaults);
    QCOMPARE(id.size(), 16);
    QCOMPARE(FarmFolder::runIdFor(jobs(3), QString(), defaults), id);
    QVERIFY(FarmFolder::runIdFor(jobs(4), QString(), defaults) != id);
    QVERIFY(FarmFolder::runIdFor(jobs(3), u"/models/a.safetensors"_s, defaults) != id);
    defaults.steps = 30;
    QVERIFY(FarmFolder::runIdFor(jobs(3), QString(), defaults) != id);
}

void TestFarmFolder::whatIsMissingIsWhatTheFolderLacks()
{
    QTemporaryDir out;
    const FarmFolder folder(out.path());
    const FarmManifest plan = FarmFolder::plan(u"r"_s, u"p.txt"_s, jobs(6), 0, QString(), {}, {});
    QCOMPARE(folder.missing(plan), (QList<qint64>{0, 1, 2, 3, 4, 5}));
    writeImage(folder.imagePath(plan.items[1]));
    writeImage(folder.imagePath(plan.items[4]));
    // Half an image (a writer died before the link) is not an image.
    writeFile(folder.imagePath(plan.items[2]), QByteArray::fromHex("89504e470d0a1a0a0000"));
    QCOMPARE(folder.missing(plan), (QList<qint64>{0, 2, 3, 5}));
    QCOMPARE(folder.missing(plan, 1, 3), (QList<qint64>{}));
    QCOMPARE(folder.missing(plan, 2, 3), (QList<qint64>{2, 5}));
    QVERIFY(folder.isCommitted(plan.items[4]));
}

void TestFarmFolder::leftoversOfCommittedImagesAreRemoved()
{
    QTemporaryDir out;
    const FarmFolder folder(out.path());
    const FarmManifest plan = FarmFolder::plan(u"r"_s, u"p.txt"_s, jobs(2), 0, QString(), {}, {});
    writeImage(folder.imagePath(plan.items[0]));
    // Another node's temporaries: one for a committed image (garbage whoever wrote it), one still being written.
    const QString committed = u".%1.77@node7.aBc123.part"_s.arg(plan.items[0].imageName);
    const QString inFlight = u".%1.77@node7.xYz789.part"_s.arg(plan.items[1].imageName);
    writeFile(out.filePath(committed), "partial");
    writeFile(out.filePath(inFlight), "partial");
    QCOMPARE(folder.removeLeftovers(plan), 1);
    QVERIFY(!QFileInfo::exists(out.filePath(committed)));
    QVERIFY(QFileInfo::exists(out.filePath(inFlight)));
}

void TestFarmFolder::theTokenIsPrivateAndMadeOnce()
{
    QTemporaryDir out;
    const FarmFolder folder(out.path());
    QByteArray first;
    QByteArray second;
    QCOMPARE(folder.ensureToken(u"r"_s, &first), QString());
    QCOMPARE(folder.ensureToken(u"r"_s, &second), QString());
    QCOMPARE(second, first); // a restarted coordinator keeps the run's token
    QCOMPARE(first.size(), 64);
    const QFileInfo file(QDir(folder.runDirectory(u"r"_s)).filePath(u"token"_s));
    QCOMPARE(file.permissions() & (QFile::ReadGroup | QFile::ReadOther | QFile::WriteGroup | QFile::WriteOther),
             QFile::Permissions());
    // The proof differs per worker and per token, and never shows the token.
    const QString proof = FarmFolder::joinProof(first, u"nodeA-1-ab"_s);
    QCOMPARE(proof.size(), 64);
    QVERIFY(proof != FarmFolder::joinProof(first, u"nodeB-1-ab"_s));
    QVERIFY(proof != FarmFolder::joinProof(QByteArray(64, 'a'), u"nodeA-1-ab"_s));
    QVERIFY(!proof.contains(QString::fromLatin1(first)));
    // A token file someone edited is refused, naming it.
    writeFile(file.filePath(), "not hex");
    QByteArray read;
    QVERIFY(folder.readToken(u"r"_s, &read).contains(file.filePath()));
}

void TestFarmFolder::theAddressAndTheCurrentRunRoundTrip()
{
    QTemporaryDir out;
    const FarmFolder folder(out.path());
    QString run;
    QVERIFY(folder.currentRun(&run).contains(u"farm coordinator"_s));
    QDir().mkpath(folder.runDirectory(u"0123456789abcdef"_s));
    QCOMPARE(folder.writeAddress(u"0123456789abcdef"_s, u"10.0.0.7:29400"_s), QString());
    QCOMPARE(folder.setCurrentRun(u"0123456789abcdef"_s), QString());
    QCOMPARE(folder.currentRun(&run), QString());
    QCOMPARE(run, u"0123456789abcdef"_s);
    QString address;
    QCOMPARE(folder.readAddress(run, &address), QString());
    QCOMPARE(address, u"10.0.0.7:29400"_s);
    QCOMPARE(folder.setCurrentRun(u"../../etc"_s), QString());
    QVERIFY(folder.currentRun(&run).contains(u"does not name a farm run"_s));
}

QTEST_GUILESS_MAIN(TestFarmFolder)
#include "TestFarmFolder.moc"
