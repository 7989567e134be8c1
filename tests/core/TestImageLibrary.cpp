// SPDX-License-Identifier: GPL-3.0-or-later
#include <QDir>
#include <QFile>
#include <QImage>
#include <QJsonDocument>
#include <QSqlDatabase>
#include <QSqlQuery>
#include <QTemporaryDir>
#include <QTest>
#include <QThread>
#include <QTimeZone>

#include <limits>

#include "GuiTestSupport.h"
#include "TestSupport.h"
#include "library/ImageLibrary.h"
#include "render/ImageMetadata.h"

using namespace Atelier;
using namespace Qt::StringLiterals;

namespace
{
    const QDateTime Day1 = QDateTime(QDate(2024, 5, 1), QTime(12, 0), QTimeZone::utc());

    RenderSettings settings(const QString& prompt, const QString& negative = {}, quint64 seed = 42)
    {
        return RenderSettings{prompt, negative, seed, 20, 7.5, 512, 512, u"euler_a"_s};
    }

    bool setModified(const QString& path, const QDateTime& when)
    {
        QFile file(path);
        return file.open(QIODevice::ReadWrite) && file.setFileTime(when, QFileDevice::FileModificationTime);
    }

    QStringList promptsOf(const QList<LibraryImage>& images)
    {
        QStringList prompts;
        for (const LibraryImage& image : images) {
            prompts.append(image.settings.prompt);
        }
        return prompts;
    }

    LibraryImage record(const QString& path, const QString& prompt, const QString& negative, const QString& model,
                        int day, bool starred)
    {
        LibraryImage image;
        image.path = path;
        image.settings = settings(prompt, negative);
        image.modelName = model;
        image.created = Day1.addDays(day - 1).toMSecsSinceEpoch();
        image.fileSize = 100;
        image.fileModified = image.created;
        image.starred = starred;
        return image;
    }
} // namespace

class TestImageLibrary final : public QObject
{
    Q_OBJECT

private slots:
    void indexesAtelierMetadata();
    void indexesImagesWithoutMetadata();
    void readdingAnUnchangedFileWritesNothing();
    void aChangedFileUpdatesItsRow();
    void scanFolderIndexesAndNoticesGoneFiles();
    void scanFolderRefusesAMissingFolder();
    void aScanAndTheWindowShareTheLibrary();
    void searchWordsAreNeverSyntax_data();
    void searchWordsAreNeverSyntax();
    void filters_data();
    void filters();
    void pagesNewestFirst();
    void starsRemovesAndLooksUp();
    void keepsImagesAcrossReopening();
    void rebuildsTheSearchIndexWhenItWasNotKept();
    void migratesAnOlderSchema();
    void refusesANewerSchemaAndNonFiles();
};

void TestImageLibrary::indexesAtelierMetadata()
{
    QTemporaryDir dir;
    const QString path = dir.filePath(u"00001-42-a-lighthouse.png"_s);
    RenderSettings rendered{u"a lighthouse, 灯台\nat dusk"_s,
                            u"blurry"_s,
                            std::numeric_limits<quint64>::max(),
                            31,
                            6.25,
                            768,
                            512,
                            u"dpmpp_2m_karras"_s};
    QVERIFY(Test::writeRenderedPng(path, rendered, u"v1-5-pruned"_s, 1234, {24, 16}));
    QVERIFY(setModified(path, Day1));

    ImageLibrary library;
    QCOMPARE(library.open(u":memory:"_s), QString());
    const std::optional<qint64> id = library.addFile(path);
    QVERIFY2(id, qPrintable(library.error()));
    const std::optional<LibraryImage> image = library.image(*id);
    QVERIFY(image);
    QCOMPARE(image->path, path);
    QCOMPARE(image->settings, rendered);
    QCOMPARE(image->modelName, u"v1-5-pruned"_s);
    QCOMPARE(image->modelHash, u"0123456789"_s);
    QCOMPARE(image->device, u"cuda:1"_s);
    QCOMPARE(image->queueItemId, 1234);
    QCOMPARE(image->pixelWidth, 24);
    QCOMPARE(image->pixelHeight, 16);
    QCOMPARE(image->created, Day1.toMSecsSinceEpoch());
    QCOMPARE(image->fileModified, Day1.toMSecsSinceEpoch());
    QCOMPARE(image->fileSize, QFileInfo(path).size());
    QVERIFY(!image->starred);
    QVERIFY(!image->missing);
    QVERIFY(image->infotext().startsWith(u"a lighthouse, 灯台\nat dusk\nNegative prompt: blurry\nSteps: 31"_s));
    QCOMPARE(library.imageByPath(dir.filePath(u"./sub/../00001-42-a-lighthouse.png"_s))->id, *id);
}

void TestImageLibrary::indexesImagesWithoutMetadata()
{
    QTemporaryDir dir;
    ImageLibrary library;
    QCOMPARE(library.open(u":memory:"_s), QString());

    const QString plain = dir.filePath(u"plain.png"_s);
    QVERIFY(Test::writeRenderedPng(plain, std::nullopt));
    const std::optional<qint64> id = library.addFile(plain);
    QVERIFY2(id, qPrintable(library.error()));
    QCOMPARE(library.image(*id)->settings, RenderSettings{});
    QCOMPARE(library.image(*id)->queueItemId, -1);

    // A "parameters" text without a parameter line is all prompt, as AUTOMATIC1111 reads it.
    QImage image(8, 8, QImage::Format_RGB888);
    image.fill(Qt::black);
    image.setText(u"parameters"_s, u"just a prompt"_s);
    const QString promptOnly = dir.filePath(u"prompt-only.png"_s);
    QVERIFY(image.save(promptOnly));
    QCOMPARE(library.image(*library.addFile(promptOnly))->settings.prompt, u"just a prompt"_s);

    const QString notPng = dir.filePath(u"fake.png"_s);
    QFile fake(notPng);
    QVERIFY(fake.open(QIODevice::WriteOnly));
    fake.write("GIF89a, not a PNG at all");
    fake.close();
    QVERIFY(!library.addFile(notPng));
    QCOMPARE(library.error(), notPng + u": not a PNG"_s);
    QVERIFY(!library.addFile(dir.filePath(u"gone.png"_s)));
    QVERIFY(library.error().contains(u"gone.png: no such file"_s));
}

void TestImageLibrary::readdingAnUnchangedFileWritesNothing()
{
    QTemporaryDir dir;
    const QString databasePath = dir.filePath(u"library.sqlite"_s);
    const QString path = dir.filePath(u"a.png"_s);
    QVERIFY(Test::writeRenderedPng(path, settings(u"a fox"_s)));
    ImageLibrary library;
    QCOMPARE(library.open(databasePath), QString());
    const std::optional<qint64> id = library.addFile(path);
    QVERIFY(id);
    // Edited behind its back: a re-read would put "a fox" back.
    QVERIFY(Test::runSql(databasePath, u"UPDATE images SET prompt = 'edited'"_s));
    QCOMPARE(library.addFile(path), id);
    QCOMPARE(library.image(*id)->settings.prompt, u"edited"_s);

    LibraryImage same = *library.image(*id);
    same.settings.prompt = u"from the window"_s;
    QCOMPARE(library.add(same), id);
    QCOMPARE(library.image(*id)->settings.prompt, u"edited"_s);
}

void TestImageLibrary::aChangedFileUpdatesItsRow()
{
    QTemporaryDir dir;
    const QString path = dir.filePath(u"a.png"_s);
    QVERIFY(Test::writeRenderedPng(path, settings(u"a fox"_s)));
    QVERIFY(setModified(path, Day1));
    ImageLibrary library;
    QCOMPARE(library.open(u":memory:"_s), QString());
    const std::optional<qint64> id = library.addFile(path);
    QVERIFY(id);
    QVERIFY(library.setStarred({*id}, true));

    QVERIFY(QFile::remove(path));
    QVERIFY(Test::writeRenderedPng(path, settings(u"a wolf"_s, {}, 7), u"other"_s));
    QVERIFY(setModified(path, Day1.addSecs(60)));
    QCOMPARE(library.addFile(path), id);
    const LibraryImage image = *library.image(*id);
    QCOMPARE(image.settings.prompt, u"a wolf"_s);
    QCOMPARE(image.settings.seed, std::optional<quint64>(7));
    QCOMPARE(image.modelName, u"other"_s);
    QCOMPARE(image.fileModified, Day1.addSecs(60).toMSecsSinceEpoch());
    QVERIFY(image.starred); // the artist's star stays
    LibraryFilter wolves;
    wolves.search = u"wolf"_s;
    QCOMPARE(library.count(wolves), 1);
    wolves.search = u"fox"_s;
    QCOMPARE(library.count(wolves), 0);

    // add() updates too, given a changed size or mtime.
    LibraryImage edited = image;
    edited.settings.prompt = u"a bear"_s;
    edited.fileModified += 1000;
    QCOMPARE(library.add(edited), id);
    QCOMPARE(library.image(*id)->settings.prompt, u"a bear"_s);
}

void TestImageLibrary::scanFolderIndexesAndNoticesGoneFiles()
{
    QTemporaryDir dir;
    for (int i = 0; i < 5; ++i) {
        QVERIFY(Test::writeRenderedPng(dir.filePath(u"%1.png"_s.arg(i)), settings(u"prompt %1"_s.arg(i))));
    }
    // Left out: a worker's temporary file, other files, a subfolder's images, a symlink; counted: a broken PNG.
    QVERIFY(Test::writeRenderedPng(dir.filePath(u".5.png.1234.AbCdEf.part"_s), settings(u"half written"_s)));
    QVERIFY(Test::writeRenderedPng(dir.filePath(u"image.jpg"_s), settings(u"jpeg"_s)));
    QVERIFY(QDir(dir.path()).mkdir(u"sub"_s));
    QVERIFY(Test::writeRenderedPng(dir.filePath(u"sub/deep.png"_s), settings(u"deep"_s)));
    QVERIFY(QFile::link(dir.filePath(u"0.png"_s), dir.filePath(u"link.png"_s)));
    QFile broken(dir.filePath(u"broken.png"_s));
    QVERIFY(broken.open(QIODevice::WriteOnly));
    broken.write("\x89PNG\r\n\x1a\n\0\0", 10);
    broken.close();

    ImageLibrary library;
    QCOMPARE(library.open(dir.filePath(u"library.sqlite"_s)), QString());
    std::optional<LibraryScan> scan = library.scanFolder(dir.path() + u"/"_s);
    QVERIFY2(scan, qPrintable(library.error()));
    QCOMPARE(scan->added, 5);
    QCOMPARE(scan->failed, 1);
    QCOMPARE(scan->errors.size(), 1);
    QVERIFY2(scan->errors.first().startsWith(dir.filePath(u"broken.png"_s)), qPrintable(scan->errors.first()));
    QCOMPARE(library.count({}), 5);

    scan = library.scanFolder(dir.path());
    QCOMPARE(scan->added, 0);
    QCOMPARE(scan->unchanged, 5);

    // One deleted: missing, and left out of queries unless asked for.
    const QString gone = dir.filePath(u"3.png"_s);
    const QByteArray kept = [&] {
        QFile f(gone);
        return f.open(QIODevice::ReadOnly) ? f.readAll() : QByteArray();
    }();
    const QDateTime modified = QFileInfo(gone).lastModified();
    QVERIFY(QFile::remove(gone));
    scan = library.scanFolder(dir.path());
    QCOMPARE(scan->missing, 1);
    QCOMPARE(scan->unchanged, 4);
    QCOMPARE(library.count({}), 4);
    LibraryFilter all;
    all.includeMissing = true;
    QCOMPARE(library.count(all), 5);
    QVERIFY(library.imageByPath(gone)->missing);

    // Back, as it was: present again.
    QFile back(gone);
    QVERIFY(back.open(QIODevice::WriteOnly));
    back.write(kept);
    back.close();
    QVERIFY(setModified(gone, modified));
    scan = library.scanFolder(dir.path());
    QCOMPARE(scan->missing, 0);
    QCOMPARE(scan->updated, 1);
    QCOMPARE(library.count({}), 5);
    QVERIFY(!library.imageByPath(gone)->missing);
}

void TestImageLibrary::scanFolderRefusesAMissingFolder()
{
    QTemporaryDir dir;
    const QString folder = dir.filePath(u"out"_s);
    QVERIFY(QDir().mkpath(folder));
    QVERIFY(Test::writeRenderedPng(folder + u"/a.png"_s, settings(u"a fox"_s)));
    ImageLibrary library;
    QCOMPARE(library.open(u":memory:"_s), QString());
    QVERIFY(library.scanFolder(folder));
    // An unmounted disk looks like this: its images keep their state until it is back.
    QVERIFY(QDir(folder).removeRecursively());
    QVERIFY(!library.scanFolder(folder));
    QVERIFY2(library.error().contains(folder + u": not a folder"_s), qPrintable(library.error()));
    QCOMPARE(library.count({}), 1);
}

void TestImageLibrary::aScanAndTheWindowShareTheLibrary()
{
    // The window adds what it renders while a scan of the same folder runs on another thread: each with its own
    // connection, neither fails and no image is indexed twice.
    QTemporaryDir dir;
    const QString folder = dir.filePath(u"out"_s);
    QVERIFY(QDir().mkpath(folder));
    QStringList paths;
    for (int i = 0; i < 200; ++i) {
        paths.append(folder + u"/%1.png"_s.arg(i));
        QVERIFY(Test::writeRenderedPng(paths.last(), settings(u"prompt %1"_s.arg(i))));
    }
    const QString database = dir.filePath(u"library.sqlite"_s);
    std::optional<LibraryScan> scan;
    QString scanError;
    QThread* scanner = QThread::create([&] {
        ImageLibrary library;
        if (scanError = library.open(database); scanError.isEmpty()) {
            scan = library.scanFolder(folder);
            scanError = library.error();
        }
    });
    ImageLibrary window;
    QCOMPARE(window.open(database), QString());
    scanner->start();
    for (auto it = paths.crbegin(); it != paths.crend(); ++it) {
        QVERIFY2(window.addFile(*it), qPrintable(window.error()));
    }
    QVERIFY(scanner->wait(60000));
    delete scanner;
    QVERIFY2(scan, qPrintable(scanError));
    QCOMPARE(scan->added + scan->updated + scan->unchanged, 200);
    QCOMPARE(window.count({}), 200);
}

void TestImageLibrary::searchWordsAreNeverSyntax_data()
{
    QTest::addColumn<QString>("search");
    QTest::addColumn<QString>("query");

    QTest::newRow("words") << u"light dus"_s << u"\"light\"* \"dus\"*"_s;
    QTest::newRow("operators") << u"fox OR NOT cat AND NEAR(a b)"_s
                               << u"\"fox\"* \"OR\"* \"NOT\"* \"cat\"* \"AND\"* \"NEAR\"* \"a\"* \"b\"*"_s;
    QTest::newRow("quotes and stars") << u"\"oil painting\"* -blurry ^start"_s
                                      << u"\"oil\"* \"painting\"* \"blurry\"* \"start\"*"_s;
    QTest::newRow("a column filter") << u"prompt:fox {negative}"_s << u"\"prompt\"* \"fox\"* \"negative\"*"_s;
    QTest::newRow("unicode") << u"灯台 café"_s << u"\"灯台\"* \"café\"*"_s;
    QTest::newRow("no word") << u" \" * ( - "_s << QString();
}

void TestImageLibrary::searchWordsAreNeverSyntax()
{
    QFETCH(QString, search);
    QFETCH(QString, query);
    QCOMPARE(fullTextQuery(search), query);
}

void TestImageLibrary::filters_data()
{
    QTest::addColumn<bool>("fullText");
    QTest::addColumn<LibraryFilter>("filter");
    QTest::addColumn<QStringList>("expected");

    const QString a = u"a lighthouse at dusk, oil painting"_s;
    const QString b = u"an orange fox in the snow"_s;
    const QString c = u"portrait of a cat, 灯台"_s;
    const QString d = u"café at night"_s;
    const QString e = u"a lighthouse ghost"_s; // missing
    auto search = [](const QString& words) {
        LibraryFilter filter;
        filter.search = words;
        return filter;
    };
    struct Row
    {
        const char* name;
        LibraryFilter filter;
        QStringList expected;
    };
    LibraryFilter starred;
    starred.starredOnly = true;
    LibraryFilter tiny;
    tiny.modelName = u"tiny"_s;
    LibraryFilter days;
    days.createdFrom = Day1.addDays(1);
    days.createdBefore = Day1.addDays(3);
    LibraryFilter withMissing = search(u"ghost"_s);
    withMissing.includeMissing = true;
    LibraryFilter combined = search(u"CAT"_s);
    combined.starredOnly = true;
    combined.modelName = u"tiny"_s;
    const QList<Row> rows{
        {"everything, newest first", {}, {d, c, b, a}},
        {"starred", starred, {c, a}},
        {"model", tiny, {d, c}},
        {"dates", days, {c, b}},
        {"a word's start", search(u"light"_s), {a}},
        {"any case, two words", search(u"LIGHT dus"_s), {a}},
        {"every word must match", search(u"light fox"_s), {}},
        {"the negative prompt", search(u"worst"_s), {b}},
        {"a short word", search(u"a"_s), {d, c, b, a}},
        {"CJK", search(u"灯"_s), {c}},
        {"accent", search(u"caf"_s), {d}},
        {"a quote", search(u"\"lighthouse"_s), {a}},
        {"a lone quote", search(u"\""_s), {d, c, b, a}},
        {"a star", search(u"lighthouse*"_s), {a}},
        {"a lone star", search(u"*"_s), {d, c, b, a}},
        {"a parenthesis", search(u"(worst"_s), {b}},
        {"a minus", search(u"-fox"_s), {b}},
        {"a colon", search(u"prompt:fox"_s), {}},
        {"OR is a word", search(u"fox OR"_s), {b}},
        {"NEAR is a word", search(u"NEAR(fox"_s), {}},
        {"percent and underscore", search(u"100% _"_s), {}},
        {"missing ones when asked", withMissing, {e}},
        {"all together", combined, {c}},
    };
    for (const bool fullText : {true, false}) {
        for (const Row& row : rows) {
            QTest::addRow("%s, %s", fullText ? "FTS5" : "LIKE", row.name) << fullText << row.filter << row.expected;
        }
    }
}

void TestImageLibrary::filters()
{
    QFETCH(bool, fullText);
    QFETCH(LibraryFilter, filter);
    QFETCH(QStringList, expected);

    QTemporaryDir dir;
    const QString path = dir.filePath(u"library.sqlite"_s);
    ImageLibrary library;
    QCOMPARE(library.open(path, fullText), QString());
    QCOMPARE(library.hasFullTextSearch(), fullText);
    QVERIFY(
        library.add(record(u"/out/a.png"_s, u"a lighthouse at dusk, oil painting"_s, u"blurry"_s, u"sd15"_s, 1, true)));
    QVERIFY(library.add(
        record(u"/out/b.png"_s, u"an orange fox in the snow"_s, u"lowres, (worst quality)"_s, u"sd15"_s, 2, false)));
    QVERIFY(library.add(record(u"/out/c.png"_s, u"portrait of a cat, 灯台"_s, {}, u"tiny"_s, 3, true)));
    QVERIFY(library.add(record(u"/out/d.png"_s, u"café at night"_s, {}, u"tiny"_s, 4, false)));
    QVERIFY(library.add(record(u"/gone/e.png"_s, u"a lighthouse ghost"_s, {}, u"gone"_s, 5, false)));
    QVERIFY(Test::runSql(path, u"UPDATE images SET missing = 1 WHERE path = '/gone/e.png'"_s));

    const QList<LibraryImage> found = library.query(filter, 0, 100);
    QCOMPARE(library.error(), QString());
    QCOMPARE(promptsOf(found), expected);
    QCOMPARE(library.count(filter), expected.size());
    for (const LibraryImage& image : found) {
        QVERIFY(library.matches(filter, image.id));
    }
    QCOMPARE(library.models(), (QStringList{u"sd15"_s, u"tiny"_s}));
}

void TestImageLibrary::pagesNewestFirst()
{
    ImageLibrary library;
    QCOMPARE(library.open(u":memory:"_s), QString());
    for (int i = 0; i < 25; ++i) {
        // Pairs share a creation time: the id decides between them.
        QVERIFY(library.add(record(u"/out/%1.png"_s.arg(i), u"p%1"_s.arg(i), {}, {}, 1 + i / 2, false)));
    }
    QStringList byOffset;
    QStringList byCursor;
    for (int offset = 0; offset < 25; offset += 10) {
        byOffset += promptsOf(library.query({}, offset, 10));
    }
    QList<LibraryImage> page = library.query({}, 0, 10);
    while (!page.isEmpty()) {
        byCursor += promptsOf(page);
        page = library.queryAfter({}, page.last(), 10);
    }
    QStringList expected;
    for (int i = 24; i >= 0; --i) {
        expected.append(u"p%1"_s.arg(i));
    }
    QCOMPARE(byOffset, expected);
    QCOMPARE(byCursor, expected);
}

void TestImageLibrary::starsRemovesAndLooksUp()
{
    ImageLibrary library;
    QCOMPARE(library.open(u":memory:"_s), QString());
    const qint64 a = *library.add(record(u"/out/a.png"_s, u"a"_s, {}, u"m"_s, 1, false));
    const qint64 b = *library.add(record(u"/out/b.png"_s, u"b"_s, {}, u"m"_s, 2, false));
    const qint64 c = *library.add(record(u"/out/c.png"_s, u"c"_s, {}, u"n"_s, 3, false));
    QVERIFY(library.setStarred({a, c}, true));
    LibraryFilter starred;
    starred.starredOnly = true;
    QCOMPARE(promptsOf(library.query(starred, 0, 10)), (QStringList{u"c"_s, u"a"_s}));
    QVERIFY(library.setStarred({c}, false));
    QCOMPARE(promptsOf(library.query(starred, 0, 10)), QStringList{u"a"_s});

    QVERIFY(library.remove({b, c}));
    QCOMPARE(promptsOf(library.query({}, 0, 10)), QStringList{u"a"_s});
    QVERIFY(!library.image(b));
    QCOMPARE(library.error(), QString()); // not there is not a failure
    QVERIFY(!library.imageByPath(u"/out/c.png"_s));
    QCOMPARE(library.imageByPath(u"/out/a.png"_s)->id, a);
    QCOMPARE(library.models(), QStringList{u"m"_s});
    LibraryFilter search;
    search.search = u"c"_s;
    QCOMPARE(library.count(search), 0); // the search index forgot it too
}

void TestImageLibrary::keepsImagesAcrossReopening()
{
    QTemporaryDir dir;
    const QString path = dir.filePath(u"data/library.sqlite"_s);
    {
        ImageLibrary library;
        QCOMPARE(library.open(path), QString());
        const qint64 id = *library.add(record(u"/out/a.png"_s, u"a lighthouse"_s, u"blurry"_s, u"sd15"_s, 1, false));
        QVERIFY(library.setStarred({id}, true));
    }
    ImageLibrary again;
    QCOMPARE(again.open(path), QString());
    LibraryFilter filter;
    filter.starredOnly = true;
    filter.search = u"lig"_s;
    const QList<LibraryImage> found = again.query(filter, 0, 10);
    QCOMPARE(found.size(), 1);
    QCOMPARE(found.first().settings, settings(u"a lighthouse"_s, u"blurry"_s));
    QCOMPARE(found.first().modelName, u"sd15"_s);
    QCOMPARE(found.first().created, Day1.toMSecsSinceEpoch());
}

void TestImageLibrary::rebuildsTheSearchIndexWhenItWasNotKept()
{
    QTemporaryDir dir;
    const QString path = dir.filePath(u"library.sqlite"_s);
    {
        ImageLibrary library;
        QCOMPARE(library.open(path), QString());
        QVERIFY(library.add(record(u"/out/a.png"_s, u"a lighthouse"_s, {}, {}, 1, false)));
    }
    // As an SQLite without FTS5 leaves it: no triggers, rows the index never saw.
    QVERIFY(Test::runSql(path, u"DROP TRIGGER images_text_insert"_s));
    QVERIFY(Test::runSql(path,
                         u"INSERT INTO images (path, folder, prompt, created, file_size, file_mtime) "
                         "VALUES ('/out/b.png', '/out', 'an orange fox', 2, 1, 1)"_s));
    ImageLibrary library;
    QCOMPARE(library.open(path), QString());
    LibraryFilter filter;
    filter.search = u"fox"_s;
    QCOMPARE(promptsOf(library.query(filter, 0, 10)), QStringList{u"an orange fox"_s});
    QVERIFY(library.add(record(u"/out/c.png"_s, u"a fox cub"_s, {}, {}, 3, false)));
    QCOMPARE(library.count(filter), 2);
}

void TestImageLibrary::migratesAnOlderSchema()
{
    // Version 0: a database without Atelier's tables, such as an empty file another program made.
    QTemporaryDir dir;
    const QString path = dir.filePath(u"library.sqlite"_s);
    QVERIFY(Test::runSql(path, u"CREATE TABLE notes (text TEXT)"_s));
    ImageLibrary library;
    QCOMPARE(library.open(path), QString());
    QVERIFY(library.add(record(u"/out/a.png"_s, u"a fox"_s, {}, {}, 1, false)));
    {
        QSqlDatabase db = QSqlDatabase::addDatabase(u"QSQLITE"_s, u"check"_s);
        db.setDatabaseName(path);
        QVERIFY(db.open());
        QSqlQuery query(db);
        QVERIFY(query.exec(u"PRAGMA user_version"_s) && query.next());
        QCOMPARE(query.value(0).toInt(), ImageLibrary::SchemaVersion);
        QVERIFY(query.exec(u"SELECT COUNT(*) FROM notes"_s)); // what was there is left alone
    }
    QSqlDatabase::removeDatabase(u"check"_s);
}

void TestImageLibrary::refusesANewerSchemaAndNonFiles()
{
    QTemporaryDir dir;
    const QString path = dir.filePath(u"library.sqlite"_s);
    {
        ImageLibrary library;
        QCOMPARE(library.open(path), QString());
    }
    QVERIFY(Test::runSql(path, u"PRAGMA user_version = %1"_s.arg(ImageLibrary::SchemaVersion + 1)));
    ImageLibrary newer;
    QCOMPARE(newer.open(path), u"%1: made by a newer Atelier (schema 2; this one reads 1)"_s.arg(path));
    QVERIFY(!newer.isOpen());

    ImageLibrary folder;
    QCOMPARE(folder.open(dir.path()), dir.path() + u": not a regular file"_s);

    const QString text = dir.filePath(u"text.sqlite"_s);
    QFile file(text);
    QVERIFY(file.open(QIODevice::WriteOnly));
    file.write(QByteArray(4096, 'x'));
    file.close();
    ImageLibrary garbage;
    const QString error = garbage.open(text);
    QVERIFY2(error.startsWith(text + u": "_s), qPrintable(error));
}

QTEST_GUILESS_MAIN(TestImageLibrary)
#include "TestImageLibrary.moc"
