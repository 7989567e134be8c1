// SPDX-License-Identifier: GPL-3.0-or-later
#include <QAbstractItemModelTester>
#include <QImage>
#include <QSet>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>
#include <QTimeZone>

#include <memory>

#include "LibraryModel.h"
#include "ThumbnailCache.h"
#include "library/ImageLibrary.h"

using namespace Atelier;
using namespace Qt::StringLiterals;

namespace
{
    constexpr int Timeout = 10000;
    const qint64 Start = QDateTime(QDate(2024, 5, 1), QTime(12, 0), QTimeZone::utc()).toMSecsSinceEpoch();

    LibraryImage record(const QString& path, const QString& prompt, qint64 minute, const QString& model = u"sd15"_s)
    {
        LibraryImage image;
        image.path = path;
        image.settings = RenderSettings{prompt, u"blurry"_s, 1000 + quint64(minute), 20, 7.5, 512, 512, u"euler_a"_s};
        image.modelName = model;
        image.created = Start + minute * 60000;
        image.fileSize = 100;
        image.fileModified = image.created;
        return image;
    }
} // namespace

class TestLibraryModel final : public QObject
{
    Q_OBJECT

private slots:
    void init();
    void cleanup();
    void pagesRowsInNewestFirst();
    void pagingIsNotShiftedByNewImages();
    void rolesCarryTheImage();
    void thumbnailsOnlyForRowsAskedFor();
    void setFilterResets();
    void addsAJustMadeImageFirst();
    void refreshesAStarredRow();
    void removesRows();

private:
    /// @p count images, image i made at minute i, with prompt "prompt i" and every third one by model "tiny".
    /// The model is checked by a QAbstractItemModelTester unless @p tested is false (the tester asks row 0 for
    /// its decoration).
    void fill(int count, bool tested = true);
    void fetchAll();

    std::unique_ptr<QTemporaryDir> m_dir;
    std::unique_ptr<ImageLibrary> m_library;
    std::unique_ptr<ThumbnailCache> m_thumbnails;
    std::unique_ptr<LibraryModel> m_model;
    std::unique_ptr<QAbstractItemModelTester> m_tester;
};

void TestLibraryModel::init()
{
    m_dir = std::make_unique<QTemporaryDir>();
    m_library = std::make_unique<ImageLibrary>();
    QCOMPARE(m_library->open(m_dir->filePath(u"library.sqlite"_s)), QString());
    m_thumbnails = std::make_unique<ThumbnailCache>(m_dir->filePath(u"thumbnails"_s), 128);
}

void TestLibraryModel::cleanup()
{
    m_tester.reset();
    m_model.reset();
    m_thumbnails.reset();
    m_library.reset();
    m_dir.reset();
}

void TestLibraryModel::fill(int count, bool tested)
{
    for (int i = 0; i < count; ++i) {
        QVERIFY(m_library->add(
            record(u"/out/%1.png"_s.arg(i), u"prompt %1"_s.arg(i), i, i % 3 == 0 ? u"tiny"_s : u"sd15"_s)));
    }
    m_model = std::make_unique<LibraryModel>(*m_library, *m_thumbnails);
    if (!tested) {
        return;
    }
    m_tester = std::make_unique<QAbstractItemModelTester>(m_model.get(),
                                                          QAbstractItemModelTester::FailureReportingMode::Fatal);
}

void TestLibraryModel::fetchAll()
{
    while (m_model->canFetchMore({})) {
        m_model->fetchMore({});
    }
}

void TestLibraryModel::pagesRowsInNewestFirst()
{
    fill(450, false); // a tester fetches pages itself
    QCOMPARE(m_model->totalCount(), 450);
    QCOMPARE(m_model->rowCount(), 0);
    QVERIFY(m_model->canFetchMore({}));
    QSignalSpy inserted(m_model.get(), &QAbstractItemModel::rowsInserted);
    for (const int rows : {200, 400, 450}) {
        m_model->fetchMore({});
        QCOMPARE(m_model->rowCount(), rows);
    }
    QVERIFY(!m_model->canFetchMore({}));
    QCOMPARE(inserted.count(), 3);
    QCOMPARE(inserted.at(1).at(1).toInt(), 200);
    QCOMPARE(inserted.at(1).at(2).toInt(), 399);
    for (int row = 0; row < 450; ++row) {
        QCOMPARE(m_model->index(row).data(LibraryModel::PromptRole).toString(), u"prompt %1"_s.arg(449 - row));
    }
    QAbstractItemModelTester tester(m_model.get(), QAbstractItemModelTester::FailureReportingMode::Fatal);
}

void TestLibraryModel::pagingIsNotShiftedByNewImages()
{
    fill(250, false);
    m_model->fetchMore({});
    // Indexed behind the model's back (a folder scan on another connection) while the first page is shown.
    QVERIFY(m_library->add(record(u"/out/new.png"_s, u"newest"_s, 1000)));
    fetchAll();
    QCOMPARE(m_model->rowCount(), 250);
    QCOMPARE(m_model->index(200).data(LibraryModel::PromptRole).toString(), u"prompt 49"_s);
    QCOMPARE(m_model->index(249).data(LibraryModel::PromptRole).toString(), u"prompt 0"_s);
}

void TestLibraryModel::rolesCarryTheImage()
{
    fill(1);
    LibraryImage lengthy
        = record(u"/out/long.png"_s, u"a very long prompt about a lighthouse on a cliff at dusk, oil"_s, 5);
    lengthy.parameters = u"a very long prompt\nSteps: 20, Sampler: Euler a, CFG scale: 7.5, Extra: kept"_s;
    const qint64 id = *m_library->add(lengthy);
    m_model->reload();
    fetchAll();
    const QModelIndex first = m_model->index(0);
    QCOMPARE(first.data(LibraryModel::IdRole).toLongLong(), id);
    QCOMPARE(first.data(Qt::DisplayRole).toString(), u"a very long prompt about a lighthouse o…"_s);
    QCOMPARE(first.data(LibraryModel::PathRole).toString(), u"/out/long.png"_s);
    QCOMPARE(first.data(LibraryModel::NegativePromptRole).toString(), u"blurry"_s);
    QCOMPARE(first.data(LibraryModel::SeedRole).value<quint64>(), quint64(1005));
    QCOMPARE(first.data(LibraryModel::ModelRole).toString(), u"sd15"_s);
    QCOMPARE(first.data(LibraryModel::SettingsRole).value<RenderSettings>(), lengthy.settings);
    QCOMPARE(first.data(LibraryModel::InfotextRole).toString(), lengthy.parameters);
    QCOMPARE(first.data(LibraryModel::CreatedRole).toDateTime().toMSecsSinceEpoch(), lengthy.created);
    QCOMPARE(first.data(LibraryModel::StarredRole).toBool(), false);
    QCOMPARE(first.data(LibraryModel::MissingRole).toBool(), false);
    QCOMPARE(first.data(LibraryModel::ImageRole).value<LibraryImage>().id, id);
    const QString tip = first.data(Qt::ToolTipRole).toString();
    QVERIFY2(tip.contains(lengthy.settings.prompt) && tip.contains(u"Seed: 1005"_s) && tip.contains(u"Euler a"_s),
             qPrintable(tip));

    const QModelIndex second = m_model->index(1);
    QVERIFY(second.data(LibraryModel::InfotextRole).toString().startsWith(u"prompt 0\nNegative prompt: blurry\n"_s));
    QVERIFY(m_model->roleNames().value(LibraryModel::SettingsRole) == "settings");
}

void TestLibraryModel::thumbnailsOnlyForRowsAskedFor()
{
    const QString real = m_dir->filePath(u"real.png"_s);
    QImage image(64, 48, QImage::Format_RGB32);
    image.fill(Qt::darkMagenta);
    QVERIFY(image.save(real));
    QVERIFY(m_library->addFile(real)); // the newest: its mtime is now
    fill(300, false);
    fetchAll();
    for (int row = 0; row < m_model->rowCount(); ++row) {
        m_model->index(row).data(Qt::DisplayRole);
        m_model->index(row).data(Qt::ToolTipRole);
    }
    QCOMPARE(m_thumbnails->pendingCount(), 0);
    QCOMPARE(m_thumbnails->state(real), ThumbnailCache::State::None);

    QSignalSpy changed(m_model.get(), &QAbstractItemModel::dataChanged);
    const QModelIndex top = m_model->index(0);
    QCOMPARE(top.data(LibraryModel::PathRole).toString(), real);
    const QImage placeholder = top.data(Qt::DecorationRole).value<QImage>();
    QCOMPARE(placeholder.size(), QSize(128, 128));
    QCOMPARE(m_thumbnails->pendingCount(), 1);
    QTRY_VERIFY_WITH_TIMEOUT(!changed.isEmpty(), Timeout);
    QCOMPARE(changed.first().at(0).value<QModelIndex>(), top);
    QCOMPARE(changed.first().at(2).value<QList<int>>(), QList<int>{Qt::DecorationRole});
    QCOMPARE(top.data(Qt::DecorationRole).value<QImage>().size(), QSize(64, 48));

    // A row whose file is not there gets the broken tile, once the cache has tried.
    const QModelIndex gone = m_model->index(1);
    QCOMPARE(gone.data(Qt::DecorationRole).value<QImage>(), placeholder);
    QTRY_COMPARE_WITH_TIMEOUT(m_thumbnails->state(gone.data(LibraryModel::PathRole).toString()),
                              ThumbnailCache::State::Failed, Timeout);
    QVERIFY(gone.data(Qt::DecorationRole).value<QImage>() != placeholder);
    QCOMPARE(m_thumbnails->stats().generated + m_thumbnails->stats().failed, 2);
}

void TestLibraryModel::setFilterResets()
{
    fill(30);
    fetchAll();
    QSignalSpy reset(m_model.get(), &QAbstractItemModel::modelReset);
    LibraryFilter filter;
    filter.modelName = u"tiny"_s;
    filter.search = u"prompt 2"_s;
    m_model->setFilter(filter);
    QCOMPARE(reset.count(), 1);
    QCOMPARE(m_model->filter(), filter);
    QCOMPARE(m_model->rowCount(), 0);
    // Of the prompts by tiny (every third), "2" begins the numbers of 21, 24 and 27.
    QCOMPARE(m_model->totalCount(), 3);
    fetchAll();
    QStringList prompts;
    for (int row = 0; row < m_model->rowCount(); ++row) {
        prompts.append(m_model->index(row).data(LibraryModel::PromptRole).toString());
    }
    QCOMPARE(prompts, (QStringList{u"prompt 27"_s, u"prompt 24"_s, u"prompt 21"_s}));
}

void TestLibraryModel::addsAJustMadeImageFirst()
{
    fill(1000);
    m_model->fetchMore({});
    const int shown = m_model->rowCount();
    QVERIFY(shown < 1000);
    QSignalSpy inserted(m_model.get(), &QAbstractItemModel::rowsInserted);
    const qint64 id = *m_library->add(record(u"/out/new.png"_s, u"just made"_s, 1000));
    QVERIFY(m_model->addImage(id));
    QCOMPARE(m_model->rowCount(), shown + 1);
    QCOMPARE(inserted.count(), 1);
    QCOMPARE(inserted.first().at(1).toInt(), 0);
    QCOMPARE(m_model->index(0).data(LibraryModel::PromptRole).toString(), u"just made"_s);
    QCOMPARE(m_model->totalCount(), 1001);
    QVERIFY(m_model->addImage(id)); // already shown: refreshed, not added twice (checked below)
    // The tester asks for more rows as rows come; the model pages them in from the event loop.
    QCoreApplication::processEvents();
    fetchAll();
    QCOMPARE(m_model->rowCount(), 1001);
    QCOMPARE(m_model->rowOf(id), 0);
    QSet<qint64> ids;
    for (int row = 0; row < m_model->rowCount(); ++row) {
        ids.insert(m_model->index(row).data(LibraryModel::IdRole).toLongLong());
    }
    QCOMPARE(ids.size(), 1001);

    LibraryFilter starred;
    starred.starredOnly = true;
    m_model->setFilter(starred);
    const qint64 other = *m_library->add(record(u"/out/other.png"_s, u"not starred"_s, 1001));
    QVERIFY(!m_model->addImage(other));
    QCOMPARE(m_model->rowCount(), 0);
}

void TestLibraryModel::refreshesAStarredRow()
{
    fill(5);
    fetchAll();
    const qint64 id = m_model->index(2).data(LibraryModel::IdRole).toLongLong();
    QSignalSpy changed(m_model.get(), &QAbstractItemModel::dataChanged);
    QVERIFY(m_library->setStarred({id}, true));
    m_model->refreshImage(id);
    QCOMPARE(changed.count(), 1);
    QCOMPARE(changed.first().at(0).value<QModelIndex>().row(), 2);
    QVERIFY(m_model->index(2).data(LibraryModel::StarredRole).toBool());

    LibraryFilter starred;
    starred.starredOnly = true;
    m_model->setFilter(starred);
    fetchAll();
    QCOMPARE(m_model->rowCount(), 1);
    // Unstarred while only starred ones show: the row goes.
    QVERIFY(m_library->setStarred({id}, false));
    m_model->refreshImage(id);
    QCOMPARE(m_model->rowCount(), 0);
    QCOMPARE(m_model->totalCount(), 0);
}

void TestLibraryModel::removesRows()
{
    fill(5);
    fetchAll();
    const qint64 a = m_model->index(1).data(LibraryModel::IdRole).toLongLong();
    const qint64 b = m_model->index(3).data(LibraryModel::IdRole).toLongLong();
    QVERIFY(m_library->remove({a, b}));
    m_model->removeImages({a, b, 12345});
    QCOMPARE(m_model->rowCount(), 3);
    QCOMPARE(m_model->rowOf(a), -1);
    QCOMPARE(m_model->imageAt(7).id, -1);
    QCOMPARE(m_model->imageAt(0).settings.prompt, u"prompt 4"_s);
}

QTEST_MAIN(TestLibraryModel)
#include "TestLibraryModel.moc"
