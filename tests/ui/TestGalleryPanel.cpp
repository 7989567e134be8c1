// SPDX-License-Identifier: GPL-3.0-or-later
// The gallery as an artist uses it: the library outlives the window, search as you type, stars and the starred
// filter, model and date filters, requeue, copy, and the trash with its undo.
#include <QApplication>
#include <QClipboard>
#include <QComboBox>
#include <QDir>
#include <QFile>
#include <QLabel>
#include <QLineEdit>
#include <QListView>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>
#include <QToolButton>

#include <memory>

#include "GalleryPanel.h"
#include "GuiTestSupport.h"
#include "ImageViewer.h"
#include "LibraryModel.h"
#include "ThumbnailCache.h"
#include "Translations.h"
#include "library/ImageLibrary.h"
#include "library/LibraryIndexer.h"

using namespace Atelier;
using namespace Qt::StringLiterals;

namespace
{
    constexpr int Timeout = 10000;

    RenderSettings settings(const QString& prompt, quint64 seed)
    {
        return RenderSettings{prompt, u"blurry"_s, seed, 20, 7.5, 512, 512, u"euler_a"_s};
    }

    bool setModified(const QString& path, const QDateTime& when)
    {
        QFile file(path);
        return file.open(QIODevice::ReadWrite) && file.setFileTime(when, QFileDevice::FileModificationTime);
    }
} // namespace

class TestGalleryPanel final : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase();
    void init();
    void cleanup();
    void theLibraryOutlivesTheWindow();
    void searchFiltersAsYouType_data();
    void searchFiltersAsYouType();
    void starsAndTheStarredFilter();
    void filtersByModelAndDate();
    void aFinishedRenderShowsFirst();
    void newAndDeletedFilesInAWatchedFolderAreNoticed();
    void requeuesAsIsAndWithNewSeeds();
    void copiesAndUsesTheSettings();
    void movesToTheTrashAndUndoes();
    void theViewerStepsAndActsOnTheImageItShows();

private:
    /// A panel on the test's library, watching the images folder, with every image indexed.
    void openPanel(bool watch = true);
    void selectRows(const QList<int>& rows);
    QStringList shownPrompts() const;

    std::unique_ptr<QTemporaryDir> m_dir;
    QString m_images;
    QString m_libraryPath;
    std::unique_ptr<ThumbnailCache> m_thumbnails;
    std::unique_ptr<GalleryPanel> m_panel;
};

void TestGalleryPanel::initTestCase()
{
    // The trash goes to the test's own data folder (on the same disk as its images), never the developer's.
    QVERIFY(qputenv("XDG_DATA_HOME", QDir::temp().filePath(u"atelier-gallery-test-data"_s).toUtf8()));
}

void TestGalleryPanel::init()
{
    installTranslations(QLocale(QLocale::English));
    m_dir = std::make_unique<QTemporaryDir>();
    QVERIFY(m_dir->isValid());
    QVERIFY(qputenv("XDG_DATA_HOME", m_dir->filePath(u"data"_s).toUtf8()));
    m_images = m_dir->filePath(u"images"_s);
    QVERIFY(QDir().mkpath(m_images));
    m_libraryPath = m_dir->filePath(u"data/library.sqlite"_s);
    // Oldest first: "a lighthouse at dusk" is the newest, shown first.
    const QStringList prompts{u"a cat in the rain"_s, u"portrait of an old sailor"_s, u"a lighthouse at dusk"_s};
    for (int i = 0; i < prompts.size(); ++i) {
        const QString path = QDir(m_images).filePath(u"%1.png"_s.arg(i));
        QVERIFY(Test::writeRenderedPng(path, settings(prompts.at(i), 100 + i), i == 1 ? u"tiny"_s : u"sd15"_s));
        QVERIFY(setModified(path, QDateTime::currentDateTime().addSecs(-60 * (prompts.size() - i))));
    }
    m_thumbnails = std::make_unique<ThumbnailCache>(m_dir->filePath(u"thumbnails"_s), 64);
}

void TestGalleryPanel::cleanup()
{
    m_panel.reset();
    m_thumbnails.reset();
    m_dir.reset();
}

void TestGalleryPanel::openPanel(bool watch)
{
    m_panel = std::make_unique<GalleryPanel>(m_libraryPath, m_thumbnails.get());
    QCOMPARE(m_panel->libraryError(), QString());
    m_panel->resize(900, 600);
    m_panel->show();
    QVERIFY(QTest::qWaitForWindowExposed(m_panel.get()));
    if (watch) {
        QSignalSpy scanned(m_panel->indexer(), &LibraryIndexer::scanned);
        m_panel->setWatchedFolders({m_images});
        QVERIFY(scanned.wait(Timeout));
    }
}

void TestGalleryPanel::selectRows(const QList<int>& rows)
{
    QListView* view = m_panel->view();
    view->setFocus();
    view->clearSelection();
    for (const int row : rows) {
        QTest::mouseClick(view->viewport(), Qt::LeftButton, Qt::ControlModifier,
                          view->visualRect(m_panel->model()->index(row)).center());
    }
    QCOMPARE(m_panel->selectedImages().size(), rows.size());
}

QStringList TestGalleryPanel::shownPrompts() const
{
    QStringList prompts;
    for (int row = 0; row < m_panel->model()->rowCount(); ++row) {
        prompts.append(m_panel->model()->index(row).data(LibraryModel::PromptRole).toString());
    }
    return prompts;
}

void TestGalleryPanel::theLibraryOutlivesTheWindow()
{
    openPanel();
    const QStringList expected{u"a lighthouse at dusk"_s, u"portrait of an old sailor"_s, u"a cat in the rain"_s};
    QTRY_COMPARE_WITH_TIMEOUT(shownPrompts(), expected, Timeout);
    QCOMPARE(m_panel->findChild<QLabel*>(u"galleryCount"_s)->text(), u"3 images"_s);
    m_panel.reset();

    // Next start, before (and without) any scan: the images are there, from the library alone.
    openPanel(false);
    QCOMPARE(shownPrompts(), expected);
    QCOMPARE(m_panel->model()->index(0).data(LibraryModel::SeedRole).toULongLong(), 102u);
    QCOMPARE(m_panel->model()->index(0).data(LibraryModel::PathRole).toString(), QDir(m_images).filePath(u"2.png"_s));
}

void TestGalleryPanel::searchFiltersAsYouType_data()
{
    QTest::addColumn<QString>("typed");
    QTest::addColumn<QStringList>("shown");
    QTest::newRow("a word's start") << u"light"_s << QStringList{u"a lighthouse at dusk"_s};
    QTest::newRow("two words, any case") << u"SAIL OLD"_s << QStringList{u"portrait of an old sailor"_s};
    QTest::newRow("the negative prompt too")
        << u"blur"_s << QStringList{u"a lighthouse at dusk"_s, u"portrait of an old sailor"_s, u"a cat in the rain"_s};
    QTest::newRow("not inside a word") << u"house"_s << QStringList{};
    QTest::newRow("punctuation is no syntax") << u"\"cat\" OR (rain"_s << QStringList{};
}

void TestGalleryPanel::searchFiltersAsYouType()
{
    QFETCH(QString, typed);
    QFETCH(QStringList, shown);
    openPanel();
    QTRY_COMPARE_WITH_TIMEOUT(m_panel->model()->rowCount(), 3, Timeout);
    auto* search = m_panel->findChild<QLineEdit*>(u"gallerySearch"_s);
    QVERIFY(search);
    QTest::keyClicks(search, typed);
    QTRY_COMPARE_WITH_TIMEOUT(shownPrompts(), shown, Timeout);
    // Clearing the box shows everything again.
    search->clear();
    QTRY_COMPARE_WITH_TIMEOUT(m_panel->model()->rowCount(), 3, Timeout);
}

void TestGalleryPanel::starsAndTheStarredFilter()
{
    openPanel();
    QTRY_COMPARE_WITH_TIMEOUT(m_panel->model()->rowCount(), 3, Timeout);
    selectRows({1});
    QTest::keyClick(m_panel->view(), Qt::Key_S);
    QTRY_VERIFY_WITH_TIMEOUT(m_panel->model()->index(1).data(LibraryModel::StarredRole).toBool(), Timeout);
    QVERIFY(m_panel->model()->index(1).data(Qt::DisplayRole).toString().startsWith(u"★"_s));

    auto* starred = m_panel->findChild<QToolButton*>(u"galleryStarredOnly"_s);
    QTest::mouseClick(starred, Qt::LeftButton);
    QTRY_COMPARE_WITH_TIMEOUT(shownPrompts(), QStringList{u"portrait of an old sailor"_s}, Timeout);

    // The star is in the library: after a restart the filter still finds it.
    m_panel.reset();
    openPanel(false);
    m_panel->setStarredOnly(true);
    QTRY_COMPARE_WITH_TIMEOUT(shownPrompts(), QStringList{u"portrait of an old sailor"_s}, Timeout);
    // Pressed again on a starred image: unstarred, and gone from the starred view.
    selectRows({0});
    QTest::keyClick(m_panel->view(), Qt::Key_S);
    QTRY_COMPARE_WITH_TIMEOUT(m_panel->model()->rowCount(), 0, Timeout);
}

void TestGalleryPanel::filtersByModelAndDate()
{
    QVERIFY(setModified(QDir(m_images).filePath(u"0.png"_s), QDateTime::currentDateTime().addDays(-40)));
    openPanel();
    QTRY_COMPARE_WITH_TIMEOUT(m_panel->model()->rowCount(), 3, Timeout);
    auto* models = m_panel->findChild<QComboBox*>(u"galleryModelFilter"_s);
    QCOMPARE(models->count(), 3); // all, sd15, tiny
    m_panel->setModelFilter(u"tiny"_s);
    QTRY_COMPARE_WITH_TIMEOUT(shownPrompts(), QStringList{u"portrait of an old sailor"_s}, Timeout);
    m_panel->setModelFilter({});
    m_panel->setDateRange(GalleryPanel::DateRange::Month);
    QTRY_COMPARE_WITH_TIMEOUT(shownPrompts(), (QStringList{u"a lighthouse at dusk"_s, u"portrait of an old sailor"_s}),
                              Timeout);
    m_panel->setDateRange(GalleryPanel::DateRange::Year);
    QTRY_COMPARE_WITH_TIMEOUT(m_panel->model()->rowCount(), 3, Timeout);
}

void TestGalleryPanel::aFinishedRenderShowsFirst()
{
    openPanel();
    QTRY_COMPARE_WITH_TIMEOUT(m_panel->model()->rowCount(), 3, Timeout);
    const QString path = QDir(m_images).filePath(u"3.png"_s);
    QVERIFY(Test::writeRenderedPng(path, settings(u"just rendered"_s, 7)));
    m_panel->imageFinished(path);
    QTRY_COMPARE_WITH_TIMEOUT(m_panel->model()->rowCount(), 4, Timeout);
    QCOMPARE(shownPrompts().constFirst(), u"just rendered"_s);
    QCOMPARE(m_panel->model()->index(0).data(LibraryModel::ImageRole).value<LibraryImage>().device, u"cuda:1"_s);
}

void TestGalleryPanel::newAndDeletedFilesInAWatchedFolderAreNoticed()
{
    openPanel();
    QTRY_COMPARE_WITH_TIMEOUT(m_panel->model()->rowCount(), 3, Timeout);
    // Another process (atelier --batch) writes into the folder, and the artist deletes a file in a file manager.
    QVERIFY(Test::writeRenderedPng(QDir(m_images).filePath(u"4.png"_s), settings(u"from a batch"_s, 9)));
    QVERIFY(QFile::remove(QDir(m_images).filePath(u"1.png"_s)));
    QTRY_COMPARE_WITH_TIMEOUT(
        shownPrompts(), (QStringList{u"from a batch"_s, u"a lighthouse at dusk"_s, u"a cat in the rain"_s}), Timeout);
}

void TestGalleryPanel::requeuesAsIsAndWithNewSeeds()
{
    openPanel();
    QTRY_COMPARE_WITH_TIMEOUT(m_panel->model()->rowCount(), 3, Timeout);
    QSignalSpy requeued(m_panel.get(), &GalleryPanel::requeueRequested);
    selectRows({0, 2});
    QTest::keyClick(m_panel->view(), Qt::Key_R);
    QCOMPARE(requeued.size(), 1);
    const auto asIs = requeued.at(0).at(0).value<QList<RenderSettings>>();
    QCOMPARE(asIs,
             (QList<RenderSettings>{settings(u"a lighthouse at dusk"_s, 102), settings(u"a cat in the rain"_s, 100)}));

    m_panel->requeue(3);
    QCOMPARE(requeued.size(), 2);
    const auto variations = requeued.at(1).at(0).value<QList<RenderSettings>>();
    QCOMPARE(variations.size(), 6);
    QSet<quint64> seeds;
    for (int i = 0; i < variations.size(); ++i) {
        RenderSettings expected = settings(i < 3 ? u"a lighthouse at dusk"_s : u"a cat in the rain"_s, 0);
        RenderSettings got = variations.at(i);
        QVERIFY(got.seed.has_value());
        seeds.insert(*got.seed);
        got.seed = 0;
        QCOMPARE(got, expected);
    }
    QCOMPARE(seeds.size(), 6);
}

void TestGalleryPanel::copiesAndUsesTheSettings()
{
    openPanel();
    QTRY_COMPARE_WITH_TIMEOUT(m_panel->model()->rowCount(), 3, Timeout);
    selectRows({0});
    const LibraryImage image = m_panel->model()->imageAt(0);
    QTest::keyClick(m_panel->view(), Qt::Key_C, Qt::ControlModifier | Qt::ShiftModifier);
    QCOMPARE(QGuiApplication::clipboard()->text(), image.parameters);
    QVERIFY(image.parameters.startsWith(u"a lighthouse at dusk\nNegative prompt: blurry\n"_s));
    QTest::keyClick(m_panel->view(), Qt::Key_C, Qt::ControlModifier);
    QCOMPARE(QGuiApplication::clipboard()->text(), u"a lighthouse at dusk"_s);
    QTest::keyClick(m_panel->view(), Qt::Key_C, Qt::ControlModifier | Qt::AltModifier);
    QCOMPARE(QGuiApplication::clipboard()->text(), u"102"_s);

    QSignalSpy used(m_panel.get(), &GalleryPanel::useSettingsRequested);
    QTest::keyClick(m_panel->view(), Qt::Key_U);
    QCOMPARE(used.size(), 1);
    QCOMPARE(used.at(0).at(0).value<RenderSettings>(), settings(u"a lighthouse at dusk"_s, 102));
}

void TestGalleryPanel::movesToTheTrashAndUndoes()
{
    openPanel();
    QTRY_COMPARE_WITH_TIMEOUT(m_panel->model()->rowCount(), 3, Timeout);
    // Starred first: the undo must bring the star back too.
    selectRows({1});
    QTest::keyClick(m_panel->view(), Qt::Key_S);
    QTRY_VERIFY_WITH_TIMEOUT(m_panel->model()->index(1).data(LibraryModel::StarredRole).toBool(), Timeout);
    selectRows({0, 1});
    const QString first = QDir(m_images).filePath(u"2.png"_s);
    const QString second = QDir(m_images).filePath(u"1.png"_s);
    QTest::keyClick(m_panel->view(), Qt::Key_Delete);
    QCOMPARE(shownPrompts(), QStringList{u"a cat in the rain"_s});
    QVERIFY(!QFile::exists(first));
    QVERIFY(!QFile::exists(second));
    QVERIFY(m_panel->canUndoTrash());
    // In the desktop's trash, not deleted.
    QCOMPARE(QDir(m_dir->filePath(u"data/Trash/files"_s)).entryList(QDir::Files).size(), 2);
    QTRY_COMPARE_WITH_TIMEOUT(m_panel->indexer()->pendingCount(), 0, Timeout);
    {
        ImageLibrary reader;
        QCOMPARE(reader.open(m_libraryPath), QString());
        QCOMPARE(reader.count({}), 1);
    }

    QTest::keyClick(m_panel->view(), Qt::Key_Z, Qt::ControlModifier);
    QVERIFY(QFile::exists(first));
    QVERIFY(QFile::exists(second));
    QVERIFY(!m_panel->canUndoTrash());
    QTRY_COMPARE_WITH_TIMEOUT(
        shownPrompts(),
        (QStringList{u"a lighthouse at dusk"_s, u"portrait of an old sailor"_s, u"a cat in the rain"_s}), Timeout);
    QVERIFY(m_panel->model()->index(1).data(LibraryModel::StarredRole).toBool());
    QCOMPARE(m_panel->selectedImages().size(), 2);
}

void TestGalleryPanel::theViewerStepsAndActsOnTheImageItShows()
{
    openPanel();
    QTRY_COMPARE_WITH_TIMEOUT(m_panel->model()->rowCount(), 3, Timeout);
    selectRows({0});
    QTest::keyClick(m_panel->view(), Qt::Key_Space);
    ImageViewer* viewer = m_panel->viewer();
    QVERIFY(viewer);
    // It comes to the front, so that its keys work at once.
    QTRY_COMPARE_WITH_TIMEOUT(QApplication::activeWindow(), viewer, Timeout);
    QCOMPARE(viewer->currentId(), m_panel->model()->imageAt(0).id);
    // Stepping in the viewer moves the gallery's selection with it, so the actions act on the image shown.
    QTest::keyClick(viewer, Qt::Key_Right);
    QCOMPARE(viewer->currentRow(), 1);
    QCOMPARE(m_panel->selectedImages(), QList<qint64>{m_panel->model()->imageAt(1).id});
    QTest::keyClick(viewer, Qt::Key_S);
    QTRY_VERIFY_WITH_TIMEOUT(m_panel->model()->index(1).data(LibraryModel::StarredRole).toBool(), Timeout);
    QVERIFY(!m_panel->model()->index(0).data(LibraryModel::StarredRole).toBool());
    QSignalSpy used(m_panel.get(), &GalleryPanel::useSettingsRequested);
    QTest::keyClick(viewer, Qt::Key_U);
    QCOMPARE(used.size(), 1);
    QCOMPARE(used.at(0).at(0).value<RenderSettings>().prompt, u"portrait of an old sailor"_s);
}

QTEST_MAIN(TestGalleryPanel)
#include "TestGalleryPanel.moc"
