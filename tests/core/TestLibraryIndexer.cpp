// SPDX-License-Identifier: GPL-3.0-or-later
// The library's writer thread: each request answers once, in order, and work asked for before the indexer goes is
// done.
#include <QDir>
#include <QFile>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>

#include <memory>

#include "GuiTestSupport.h"
#include "library/ImageLibrary.h"
#include "library/LibraryIndexer.h"

using namespace Atelier;
using namespace Qt::StringLiterals;

namespace
{
    constexpr int Timeout = 10000;

    RenderSettings settings(const QString& prompt, quint64 seed = 42)
    {
        return RenderSettings{prompt, u"blurry"_s, seed, 20, 7.5, 512, 512, u"euler_a"_s};
    }
} // namespace

class TestLibraryIndexer final : public QObject
{
    Q_OBJECT

private slots:
    void init();
    void indexesAFileAndAnswersWithItsId();
    void anUnreadableFileFailsNamingIt();
    void scansStarsAndRemovesInOrder();
    void addImageKeepsTheStar();
    void workAskedForIsDoneBeforeItGoes();
    void aLibraryThatCannotOpenFailsEveryRequest();

private:
    std::unique_ptr<QTemporaryDir> m_dir;
    QString m_libraryPath;
};

void TestLibraryIndexer::init()
{
    m_dir = std::make_unique<QTemporaryDir>();
    QVERIFY(m_dir->isValid());
    m_libraryPath = m_dir->filePath(u"library.sqlite"_s);
}

void TestLibraryIndexer::indexesAFileAndAnswersWithItsId()
{
    const QString path = m_dir->filePath(u"00001-42-a-lighthouse.png"_s);
    QVERIFY(Test::writeRenderedPng(path, settings(u"a lighthouse"_s)));
    LibraryIndexer indexer(m_libraryPath);
    QSignalSpy indexed(&indexer, &LibraryIndexer::indexed);
    QSignalSpy idle(&indexer, &LibraryIndexer::idle);
    indexer.addFile(path);
    QCOMPARE(indexer.pendingCount(), 1);
    QTRY_COMPARE_WITH_TIMEOUT(indexed.size(), 1, Timeout);
    QCOMPARE(indexed.at(0).at(1).toString(), path);
    QCOMPARE(idle.size(), 1);
    QCOMPARE(indexer.pendingCount(), 0);

    // Another connection (the gallery's) sees it at once.
    ImageLibrary reader;
    QCOMPARE(reader.open(m_libraryPath), QString());
    const std::optional<LibraryImage> image = reader.image(indexed.at(0).at(0).toLongLong());
    QVERIFY(image);
    QCOMPARE(image->settings.prompt, u"a lighthouse"_s);
    QCOMPARE(image->device, u"cuda:1"_s);
}

void TestLibraryIndexer::anUnreadableFileFailsNamingIt()
{
    const QString path = m_dir->filePath(u"fake.png"_s);
    QFile fake(path);
    QVERIFY(fake.open(QIODevice::WriteOnly));
    fake.write("GIF89a");
    fake.close();
    LibraryIndexer indexer(m_libraryPath);
    QSignalSpy failed(&indexer, &LibraryIndexer::failed);
    QSignalSpy indexed(&indexer, &LibraryIndexer::indexed);
    indexer.addFile(path);
    indexer.addFile(m_dir->filePath(u"gone.png"_s));
    QTRY_COMPARE_WITH_TIMEOUT(failed.size(), 2, Timeout);
    QVERIFY2(failed.at(0).at(0).toString().contains(path), qPrintable(failed.at(0).at(0).toString()));
    QVERIFY(failed.at(1).at(0).toString().contains(u"gone.png"_s));
    QCOMPARE(indexed.size(), 0);
}

void TestLibraryIndexer::scansStarsAndRemovesInOrder()
{
    for (int i = 0; i < 3; ++i) {
        QVERIFY(Test::writeRenderedPng(m_dir->filePath(u"%1.png"_s.arg(i)), settings(u"prompt %1"_s.arg(i))));
    }
    LibraryIndexer indexer(m_libraryPath);
    QStringList order;
    QList<qint64> scannedIds;
    connect(&indexer, &LibraryIndexer::scanned, this, [&](const QString& folder, const LibraryScan& scan) {
        order.append(u"scanned %1 %2"_s.arg(QDir(folder).dirName()).arg(scan.added));
    });
    connect(&indexer, &LibraryIndexer::starredChanged, this, [&](const QList<qint64>& ids, bool starred) {
        order.append(u"starred %1 %2"_s.arg(ids.size()).arg(starred));
    });
    connect(&indexer, &LibraryIndexer::removed, this,
            [&](const QList<qint64>& ids) { order.append(u"removed %1"_s.arg(ids.size())); });
    QSignalSpy idle(&indexer, &LibraryIndexer::idle);

    indexer.scanFolder(m_dir->path());
    QTRY_COMPARE_WITH_TIMEOUT(idle.size(), 1, Timeout);
    ImageLibrary reader;
    QCOMPARE(reader.open(m_libraryPath), QString());
    const QList<LibraryImage> all = reader.query({}, 0, 10);
    QCOMPARE(all.size(), 3);
    // Asked for one after the other without waiting: done in that order.
    indexer.setStarred({all.at(0).id, all.at(1).id}, true);
    indexer.remove({all.at(2).id});
    indexer.scanFolder(m_dir->path());
    QCOMPARE(indexer.pendingCount(), 3);
    QTRY_COMPARE_WITH_TIMEOUT(idle.size(), 2, Timeout);
    const QString folder = QDir(m_dir->path()).dirName();
    QCOMPARE(
        order,
        (QStringList{u"scanned %1 3"_s.arg(folder), u"starred 2 1"_s, u"removed 1"_s, u"scanned %1 1"_s.arg(folder)}));
    LibraryFilter starred;
    starred.starredOnly = true;
    QCOMPARE(reader.count(starred), 2);
}

void TestLibraryIndexer::addImageKeepsTheStar()
{
    const QString path = m_dir->filePath(u"back.png"_s);
    QVERIFY(Test::writeRenderedPng(path, settings(u"back from the trash"_s)));
    std::optional<LibraryImage> image = readLibraryImage(path);
    QVERIFY(image);
    image->starred = true;
    LibraryIndexer indexer(m_libraryPath);
    QSignalSpy indexed(&indexer, &LibraryIndexer::indexed);
    indexer.addImage(*image);
    QTRY_COMPARE_WITH_TIMEOUT(indexed.size(), 1, Timeout);
    ImageLibrary reader;
    QCOMPARE(reader.open(m_libraryPath), QString());
    QVERIFY(reader.image(indexed.at(0).at(0).toLongLong())->starred);
}

void TestLibraryIndexer::workAskedForIsDoneBeforeItGoes()
{
    // A render that finishes as the window closes is still in the library next time.
    QStringList paths;
    for (int i = 0; i < 20; ++i) {
        paths.append(m_dir->filePath(u"%1.png"_s.arg(i)));
        QVERIFY(Test::writeRenderedPng(paths.last(), settings(u"prompt %1"_s.arg(i))));
    }
    {
        LibraryIndexer indexer(m_libraryPath);
        for (const QString& path : std::as_const(paths)) {
            indexer.addFile(path);
        }
    }
    ImageLibrary reader;
    QCOMPARE(reader.open(m_libraryPath), QString());
    QCOMPARE(reader.count({}), 20);
}

void TestLibraryIndexer::aLibraryThatCannotOpenFailsEveryRequest()
{
    // A folder where the library file should be: it cannot be opened as a database.
    QVERIFY(QDir(m_dir->path()).mkpath(u"library.sqlite/x"_s));
    const QString path = m_dir->filePath(u"a.png"_s);
    QVERIFY(Test::writeRenderedPng(path, settings(u"a"_s)));
    LibraryIndexer indexer(m_libraryPath);
    QSignalSpy failed(&indexer, &LibraryIndexer::failed);
    indexer.addFile(path);
    indexer.setStarred({1}, true);
    QTRY_COMPARE_WITH_TIMEOUT(failed.size(), 2, Timeout);
    QVERIFY2(failed.at(0).at(0).toString().contains(m_libraryPath), qPrintable(failed.at(0).at(0).toString()));
}

QTEST_GUILESS_MAIN(TestLibraryIndexer)
#include "TestLibraryIndexer.moc"
