// SPDX-License-Identifier: GPL-3.0-or-later
#include "GalleryPanel.h"

#include <QAction>
#include <QApplication>
#include <QClipboard>
#include <QComboBox>
#include <QDesktopServices>
#include <QDir>
#include <QEvent>
#include <QFile>
#include <QFileInfo>
#include <QFileSystemWatcher>
#include <QHBoxLayout>
#include <QInputDialog>
#include <QLabel>
#include <QLineEdit>
#include <QListView>
#include <QMenu>
#include <QRandomGenerator>
#include <QTimer>
#include <QToolButton>
#include <QUrl>
#include <QVBoxLayout>

#include "ActionText.h"
#include "ImageViewer.h"
#include "LibraryModel.h"
#include "ThumbnailCache.h"
#include "library/LibraryIndexer.h"

using namespace Qt::StringLiterals;

namespace Atelier
{
    namespace
    {
        /// Most variations one "requeue with new seeds" makes of each image.
        constexpr int MaxVariations = 100;
    } // namespace

    GalleryPanel::GalleryPanel(const QString& libraryPath, ThumbnailCache* thumbnails, QWidget* parent)
        : QWidget(parent)
        , m_library(std::make_unique<ImageLibrary>())
        , m_indexer(new LibraryIndexer(libraryPath, this))
        , m_thumbnails(thumbnails)
        , m_watcher(new QFileSystemWatcher(this))
        , m_rescanTimer(new QTimer(this))
        , m_filterTimer(new QTimer(this))
    {
        // Opening creates the file and brings its schema up to date before the indexer's connection uses it.
        m_libraryError = m_library->open(libraryPath);
        m_model = new LibraryModel(*m_library, *m_thumbnails, this);

        m_label = new QLabel(this);
        m_searchEdit = new QLineEdit(this);
        m_searchEdit->setObjectName(u"gallerySearch"_s);
        m_searchEdit->setClearButtonEnabled(true);
        m_starredButton = new QToolButton(this);
        m_starredButton->setObjectName(u"galleryStarredOnly"_s);
        m_starredButton->setCheckable(true);
        m_modelCombo = new QComboBox(this);
        m_modelCombo->setObjectName(u"galleryModelFilter"_s);
        m_modelCombo->setSizeAdjustPolicy(QComboBox::AdjustToContents);
        m_dateCombo = new QComboBox(this);
        m_dateCombo->setObjectName(u"galleryDateFilter"_s);
        for (const DateRange range :
             {DateRange::Any, DateRange::Today, DateRange::Week, DateRange::Month, DateRange::Year}) {
            m_dateCombo->addItem(QString(), QVariant::fromValue(range));
        }
        m_countLabel = new QLabel(this);
        m_countLabel->setObjectName(u"galleryCount"_s);

        m_view = new QListView(this);
        m_view->setObjectName(u"galleryView"_s);
        m_view->setModel(m_model);
        m_view->setViewMode(QListView::IconMode);
        m_view->setResizeMode(QListView::Adjust);
        m_view->setMovement(QListView::Static);
        // Uniform sizes: the view asks one row for its size, not every row (which would make every thumbnail).
        m_view->setUniformItemSizes(true);
        m_view->setWordWrap(true);
        m_view->setSelectionMode(QAbstractItemView::ExtendedSelection);
        // A QImage decoration is drawn at its own size, so the tiles are the thumbnails' size.
        const int side = m_thumbnails->side();
        m_view->setIconSize(QSize(side, side));
        m_view->setGridSize(QSize(side + 24, side + 48));
        m_view->setContextMenuPolicy(Qt::ActionsContextMenu);
        m_label->setBuddy(m_view);

        buildActions();

        auto* bar = new QHBoxLayout;
        bar->addWidget(m_label);
        bar->addWidget(m_searchEdit, 1);
        bar->addWidget(m_starredButton);
        bar->addWidget(m_modelCombo);
        bar->addWidget(m_dateCombo);
        bar->addWidget(m_countLabel);
        auto* column = new QVBoxLayout(this);
        column->setContentsMargins(0, 0, 0, 0);
        column->addLayout(bar);
        column->addWidget(m_view, 1);

        // A search per keystroke costs milliseconds, but a fast typist's intermediate words are not worth a reset
        // of the view each.
        m_filterTimer->setSingleShot(true);
        m_filterTimer->setInterval(120);
        connect(m_filterTimer, &QTimer::timeout, this, &GalleryPanel::applyFilter);
        connect(m_searchEdit, &QLineEdit::textChanged, m_filterTimer, qOverload<>(&QTimer::start));
        connect(m_starredButton, &QToolButton::toggled, this, &GalleryPanel::applyFilter);
        connect(m_modelCombo, &QComboBox::activated, this, &GalleryPanel::applyFilter);
        connect(m_dateCombo, &QComboBox::activated, this, &GalleryPanel::applyFilter);

        connect(m_view, &QListView::activated, this, &GalleryPanel::openViewer);
        connect(m_view->selectionModel(), &QItemSelectionModel::selectionChanged, this, &GalleryPanel::updateActions);
        connect(m_model, &QAbstractItemModel::modelReset, this, &GalleryPanel::updateActions);
        connect(m_model, &QAbstractItemModel::rowsRemoved, this, &GalleryPanel::updateCount);
        connect(m_model, &QAbstractItemModel::rowsInserted, this, &GalleryPanel::updateCount);
        connect(m_model, &QAbstractItemModel::modelReset, this, &GalleryPanel::updateCount);
        connect(m_model, &LibraryModel::libraryError, this, &GalleryPanel::message);

        connect(m_indexer, &LibraryIndexer::indexed, this, [this](qint64 id, const QString&) {
            // Shown (the usual case): its row has the model name; filtered out, the library is asked.
            const QString model = m_model->addImage(id) ? m_model->imageAt(m_model->rowOf(id)).modelName
                                                        : m_library->image(id).value_or(LibraryImage{}).modelName;
            if (!model.isEmpty() && m_modelCombo->findData(model) < 0) {
                refreshModels();
            }
        });
        connect(m_indexer, &LibraryIndexer::scanned, this, &GalleryPanel::scanned);
        connect(m_indexer, &LibraryIndexer::starredChanged, this, [this](const QList<qint64>& ids, bool) {
            for (const qint64 id : ids) {
                m_model->refreshImage(id);
            }
            updateActions();
        });
        connect(m_indexer, &LibraryIndexer::failed, this, &GalleryPanel::message);

        // Folders change in bursts (a batch writes an image every second, each through a temporary file): one
        // scan a moment after the last change.
        m_rescanTimer->setSingleShot(true);
        m_rescanTimer->setInterval(1500);
        connect(m_watcher, &QFileSystemWatcher::directoryChanged, this, &GalleryPanel::folderChanged);
        connect(m_rescanTimer, &QTimer::timeout, this, [this] {
            for (const QString& folder : std::exchange(m_changedFolders, {})) {
                m_indexer->scanFolder(folder);
            }
        });

        refreshModels();
        retranslate();
    }

    GalleryPanel::~GalleryPanel()
    {
        // The viewer reads the model: it goes first.
        delete m_viewer;
    }

    void GalleryPanel::buildActions()
    {
        auto action = [this](const char* name, const QKeySequence& shortcut = {}) {
            auto* a = new QAction(this);
            a->setObjectName(QString::fromLatin1(name));
            a->setShortcut(shortcut);
            // Where the images are (the gallery, the viewer) and not in the search box, where letters are typed.
            a->setShortcutContext(Qt::WidgetWithChildrenShortcut);
            m_view->addAction(a);
            return a;
        };
        m_openAction = action("galleryOpenAction", QKeySequence(Qt::Key_Space));
        m_starAction = action("galleryStarAction", QKeySequence(Qt::Key_S));
        m_copyPromptAction = action("galleryCopyPromptAction", QKeySequence::Copy);
        m_copySeedAction = action("galleryCopySeedAction", QKeySequence(Qt::CTRL | Qt::ALT | Qt::Key_C));
        m_copyParametersAction = action("galleryCopyParametersAction", QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_C));
        m_useSettingsAction = action("galleryUseSettingsAction", QKeySequence(Qt::Key_U));
        m_requeueAction = action("galleryRequeueAction", QKeySequence(Qt::Key_R));
        m_requeueSeedsAction = action("galleryRequeueSeedsAction", QKeySequence(Qt::SHIFT | Qt::Key_R));
        m_openFolderAction = action("galleryOpenFolderAction");
        m_trashAction = action("galleryTrashAction", QKeySequence::Delete);
        m_rescanAction = new QAction(this);
        m_rescanAction->setObjectName(u"galleryRescanAction"_s);
        // Undo is the window's: the artist may have moved on to another part of it.
        m_undoTrashAction = new QAction(this);
        m_undoTrashAction->setObjectName(u"galleryUndoTrashAction"_s);
        m_undoTrashAction->setShortcut(QKeySequence::Undo);
        m_undoTrashAction->setShortcutContext(Qt::WindowShortcut);
        addAction(m_undoTrashAction);

        connect(m_openAction, &QAction::triggered, this, &GalleryPanel::openViewer);
        connect(m_starAction, &QAction::triggered, this, &GalleryPanel::toggleStar);
        connect(m_copyPromptAction, &QAction::triggered, this, &GalleryPanel::copyPrompt);
        connect(m_copySeedAction, &QAction::triggered, this, &GalleryPanel::copySeed);
        connect(m_copyParametersAction, &QAction::triggered, this, &GalleryPanel::copyParameters);
        connect(m_useSettingsAction, &QAction::triggered, this, &GalleryPanel::useSettings);
        connect(m_requeueAction, &QAction::triggered, this, [this] { requeue(0); });
        connect(m_requeueSeedsAction, &QAction::triggered, this, &GalleryPanel::requeueWithNewSeeds);
        connect(m_openFolderAction, &QAction::triggered, this, &GalleryPanel::openContainingFolder);
        connect(m_trashAction, &QAction::triggered, this, &GalleryPanel::trashSelected);
        connect(m_undoTrashAction, &QAction::triggered, this, &GalleryPanel::undoTrash);
        connect(m_rescanAction, &QAction::triggered, this, &GalleryPanel::rescan);
    }

    QList<QAction*> GalleryPanel::imageActions() const
    {
        return {m_openAction,        m_starAction,    m_copyPromptAction,   m_copySeedAction,   m_copyParametersAction,
                m_useSettingsAction, m_requeueAction, m_requeueSeedsAction, m_openFolderAction, m_trashAction};
    }

    void GalleryPanel::imageFinished(const QString& path)
    {
        m_indexer->addFile(path);
    }

    void GalleryPanel::setWatchedFolders(const QStringList& folders)
    {
        QStringList clean;
        for (const QString& folder : folders) {
            const QString path = QDir::cleanPath(QDir(folder).absolutePath());
            if (!folder.trimmed().isEmpty() && !clean.contains(path)) {
                clean.append(path);
            }
        }
        if (clean == m_watched) {
            return;
        }
        if (!m_watcher->directories().isEmpty()) {
            m_watcher->removePaths(m_watcher->directories());
        }
        m_watched = clean;
        rescan();
    }

    void GalleryPanel::rescan()
    {
        for (const QString& folder : std::as_const(m_watched)) {
            // A folder that is not there yet (an output folder before the first render) is watched once it is.
            if (QFileInfo(folder).isDir()) {
                if (!m_watcher->directories().contains(folder)) {
                    m_watcher->addPath(folder);
                }
                m_indexer->scanFolder(folder);
            }
        }
    }

    void GalleryPanel::folderChanged(const QString& folder)
    {
        if (!m_changedFolders.contains(folder)) {
            m_changedFolders.append(folder);
        }
        m_rescanTimer->start();
    }

    void GalleryPanel::scanned(const QString& folder, const LibraryScan& scan)
    {
        if (!scan.errors.isEmpty()) {
            emit message(tr("%1: %n image(s) could not be read, e.g. %2", nullptr, scan.failed)
                             .arg(QDir::toNativeSeparators(folder), scan.errors.constFirst()));
        }
        if (scan.added == 0 && scan.updated == 0 && scan.missing == 0) {
            return;
        }
        // Rows came, changed or went: read the pages again, keeping what the artist had selected.
        reloadSelecting(selectedImages());
        refreshModels();
    }

    void GalleryPanel::setSearch(const QString& text)
    {
        m_searchEdit->setText(text);
        applyFilter();
    }

    void GalleryPanel::setStarredOnly(bool starredOnly)
    {
        m_starredButton->setChecked(starredOnly);
        applyFilter();
    }

    void GalleryPanel::setModelFilter(const QString& name)
    {
        m_modelCombo->setCurrentIndex(std::max(0, m_modelCombo->findData(name)));
        applyFilter();
    }

    void GalleryPanel::setDateRange(DateRange range)
    {
        m_dateCombo->setCurrentIndex(std::max(0, m_dateCombo->findData(QVariant::fromValue(range))));
        applyFilter();
    }

    void GalleryPanel::applyFilter()
    {
        m_filterTimer->stop();
        LibraryFilter filter;
        filter.search = m_searchEdit->text();
        filter.starredOnly = m_starredButton->isChecked();
        filter.modelName = m_modelCombo->currentData().toString();
        const QDate today = QDate::currentDate();
        switch (m_dateCombo->currentData().value<DateRange>()) {
        case DateRange::Any:
            break;
        case DateRange::Today:
            filter.createdFrom = today.startOfDay();
            break;
        case DateRange::Week:
            filter.createdFrom = today.addDays(-6).startOfDay();
            break;
        case DateRange::Month:
            filter.createdFrom = today.addDays(-29).startOfDay();
            break;
        case DateRange::Year:
            filter.createdFrom = today.addDays(-364).startOfDay();
            break;
        }
        if (filter != m_model->filter()) {
            m_model->setFilter(filter);
        }
    }

    void GalleryPanel::refreshModels()
    {
        const QString chosen = m_modelCombo->currentData().toString();
        const QStringList models = m_library->models();
        m_modelCombo->clear();
        m_modelCombo->addItem(tr("All models"), QString());
        for (const QString& name : models) {
            m_modelCombo->addItem(name, name);
        }
        m_modelCombo->setCurrentIndex(std::max(0, m_modelCombo->findData(chosen)));
    }

    void GalleryPanel::updateCount()
    {
        m_countLabel->setText(tr("%n image(s)", nullptr, int(m_model->totalCount())));
    }

    QList<qint64> GalleryPanel::selectedImages() const
    {
        QList<qint64> ids;
        for (const LibraryImage& image : selection()) {
            ids.append(image.id);
        }
        return ids;
    }

    QList<LibraryImage> GalleryPanel::selection() const
    {
        QModelIndexList rows = m_view->selectionModel()->selectedIndexes();
        std::sort(rows.begin(), rows.end(),
                  [](const QModelIndex& a, const QModelIndex& b) { return a.row() < b.row(); });
        QList<LibraryImage> images;
        for (const QModelIndex& row : std::as_const(rows)) {
            images.append(m_model->imageAt(row.row()));
        }
        return images;
    }

    LibraryImage GalleryPanel::current() const
    {
        const QModelIndex focus = m_view->currentIndex();
        if (focus.isValid() && m_view->selectionModel()->isSelected(focus)) {
            return m_model->imageAt(focus.row());
        }
        const QList<LibraryImage> images = selection();
        return images.isEmpty() ? LibraryImage{} : images.constFirst();
    }

    void GalleryPanel::selectImages(const QList<qint64>& ids)
    {
        QItemSelection rows;
        QModelIndex first;
        for (const qint64 id : ids) {
            if (const int row = m_model->rowOf(id); row >= 0) {
                rows.select(m_model->index(row), m_model->index(row));
                if (!first.isValid()) {
                    first = m_model->index(row);
                }
            }
        }
        m_view->selectionModel()->select(rows, QItemSelectionModel::ClearAndSelect);
        if (first.isValid()) {
            m_view->selectionModel()->setCurrentIndex(first, QItemSelectionModel::NoUpdate);
            m_view->scrollTo(first);
        }
    }

    void GalleryPanel::reloadSelecting(const QList<qint64>& ids)
    {
        m_model->reload();
        // The first page now rather than when the view asks for it, so that the selection can be put back.
        if (m_model->canFetchMore({})) {
            m_model->fetchMore({});
        }
        selectImages(ids);
    }

    void GalleryPanel::openViewer()
    {
        const LibraryImage image = current();
        if (image.id < 0) {
            return;
        }
        if (!m_viewer) {
            m_viewer = new ImageViewer(m_model, this);
            m_viewer->setObjectName(u"imageViewer"_s);
            m_viewer->addImageActions(imageActions().mid(1)); // all but "open": it is open
            // The viewer's image is the gallery's selection, so every action acts on what the artist sees.
            connect(m_viewer, &ImageViewer::currentRowChanged, this, [this](int row) {
                if (row >= 0) {
                    selectImages({m_model->imageAt(row).id});
                }
            });
        }
        m_viewer->showRow(m_model->rowOf(image.id));
        m_viewer->show();
        m_viewer->raise();
        m_viewer->activateWindow();
    }

    void GalleryPanel::toggleStar()
    {
        const QList<LibraryImage> images = selection();
        if (images.isEmpty()) {
            return;
        }
        const bool allStarred
            = std::all_of(images.begin(), images.end(), [](const LibraryImage& image) { return image.starred; });
        m_indexer->setStarred(selectedImages(), !allStarred);
    }

    void GalleryPanel::copyPrompt()
    {
        QStringList prompts;
        for (const LibraryImage& image : selection()) {
            prompts.append(image.settings.prompt);
        }
        if (!prompts.isEmpty()) {
            QGuiApplication::clipboard()->setText(prompts.join(u'\n'));
            emit message(tr("Copied the prompt of %n image(s).", nullptr, int(prompts.size())));
        }
    }

    void GalleryPanel::copySeed()
    {
        QStringList seeds;
        for (const LibraryImage& image : selection()) {
            if (image.settings.seed) {
                seeds.append(QString::number(*image.settings.seed));
            }
        }
        if (!seeds.isEmpty()) {
            QGuiApplication::clipboard()->setText(seeds.join(u'\n'));
            emit message(tr("Copied %n seed(s).", nullptr, int(seeds.size())));
        }
    }

    void GalleryPanel::copyParameters()
    {
        QStringList texts;
        for (const LibraryImage& image : selection()) {
            texts.append(image.infotext());
        }
        if (!texts.isEmpty()) {
            // A blank line between images, so that each block still pastes into A1111's "read parameters".
            QGuiApplication::clipboard()->setText(texts.join(u"\n\n"_s));
            emit message(tr("Copied the parameters of %n image(s).", nullptr, int(texts.size())));
        }
    }

    void GalleryPanel::useSettings()
    {
        const LibraryImage image = current();
        if (image.id >= 0) {
            emit useSettingsRequested(image.settings);
        }
    }

    void GalleryPanel::requeue(int variations)
    {
        QList<RenderSettings> items;
        for (const LibraryImage& image : selection()) {
            if (image.settings.prompt.trimmed().isEmpty()) {
                continue; // not one of ours, and nothing says what to render
            }
            if (variations <= 0) {
                items.append(image.settings);
                continue;
            }
            for (int i = 0; i < variations; ++i) {
                RenderSettings variation = image.settings;
                // 32-bit, as AUTOMATIC1111 draws them, so that seeds stay comparable across tools.
                variation.seed = QRandomGenerator::global()->generate();
                items.append(variation);
            }
        }
        if (!items.isEmpty()) {
            emit requeueRequested(items);
        }
    }

    void GalleryPanel::requeueWithNewSeeds()
    {
        if (selection().isEmpty()) {
            return;
        }
        // Non-modal: the renders and the gallery go on while the artist decides.
        auto* ask = new QInputDialog(this);
        ask->setObjectName(u"variationsDialog"_s);
        ask->setAttribute(Qt::WA_DeleteOnClose);
        ask->setInputMode(QInputDialog::IntInput);
        ask->setWindowTitle(tr("Requeue with new seeds"));
        ask->setLabelText(tr("&Variations of each image:"));
        ask->setIntRange(1, MaxVariations);
        ask->setIntValue(4);
        connect(ask, &QInputDialog::intValueSelected, this, [this](int count) { requeue(count); });
        ask->open();
    }

    void GalleryPanel::openContainingFolder()
    {
        const LibraryImage image = current();
        if (image.id >= 0) {
            QDesktopServices::openUrl(QUrl::fromLocalFile(QFileInfo(image.path).absolutePath()));
        }
    }

    int GalleryPanel::trashSelected()
    {
        QList<Trashed> batch;
        QList<qint64> gone;
        QStringList problems;
        for (const LibraryImage& image : selection()) {
            QString trashPath;
            if (QFileInfo::exists(image.path) && !QFile::moveToTrash(image.path, &trashPath)) {
                problems.append(QDir::toNativeSeparators(image.path));
                continue;
            }
            // A file already gone is only forgotten (and comes back in the library with an undo).
            batch.append({image, trashPath});
            gone.append(image.id);
        }
        if (!gone.isEmpty()) {
            m_model->removeImages(gone);
            m_indexer->remove(gone);
            m_trashed.append(batch);
            emit message(tr("Moved %n image(s) to the trash. Undo with %1.", nullptr, int(gone.size()))
                             .arg(m_undoTrashAction->shortcut().toString(QKeySequence::NativeText)));
        }
        if (!problems.isEmpty()) {
            emit message(tr("Could not move to the trash: %1").arg(problems.join(u", "_s)));
        }
        updateActions();
        return int(gone.size());
    }

    bool GalleryPanel::undoTrash()
    {
        if (m_trashed.isEmpty()) {
            return false;
        }
        const QList<Trashed> batch = m_trashed.takeLast();
        QStringList problems;
        qsizetype restored = 0;
        for (const Trashed& item : batch) {
            if (!item.trashPath.isEmpty()) {
                if (QFileInfo::exists(item.image.path)) {
                    problems.append(tr("%1 exists again").arg(QDir::toNativeSeparators(item.image.path)));
                    continue;
                }
                if (!QFile::rename(item.trashPath, item.image.path)) {
                    problems.append(
                        tr("%1 could not be put back from %2")
                            .arg(QDir::toNativeSeparators(item.image.path), QDir::toNativeSeparators(item.trashPath)));
                    continue;
                }
            }
            m_indexer->addImage(item.image);
            ++restored;
        }
        if (restored > 0) {
            // The images come back where their dates put them, not first: the pages are read again once they are
            // indexed.
            auto* once = new QObject(this);
            connect(m_indexer, &LibraryIndexer::idle, once, [this, once, batch] {
                once->deleteLater();
                QList<qint64> ids;
                for (const Trashed& item : batch) {
                    if (const std::optional<LibraryImage> back = m_library->imageByPath(item.image.path)) {
                        ids.append(back->id);
                    }
                }
                reloadSelecting(ids);
            });
        }
        if (!problems.isEmpty()) {
            emit message(tr("Could not undo: %1").arg(problems.join(u"; "_s)));
        } else {
            emit message(tr("Put %n image(s) back.", nullptr, int(restored)));
        }
        updateActions();
        return problems.isEmpty();
    }

    void GalleryPanel::updateActions()
    {
        const QList<LibraryImage> images = selection();
        const bool any = !images.isEmpty();
        const bool anyPrompt = std::any_of(images.begin(), images.end(), [](const LibraryImage& image) {
            return !image.settings.prompt.trimmed().isEmpty();
        });
        const bool anySeed = std::any_of(images.begin(), images.end(),
                                         [](const LibraryImage& image) { return image.settings.seed.has_value(); });
        m_openAction->setEnabled(any);
        m_starAction->setEnabled(any);
        m_copyPromptAction->setEnabled(anyPrompt);
        m_copySeedAction->setEnabled(anySeed);
        m_copyParametersAction->setEnabled(any);
        m_useSettingsAction->setEnabled(anyPrompt);
        m_requeueAction->setEnabled(anyPrompt);
        m_requeueSeedsAction->setEnabled(anyPrompt);
        m_openFolderAction->setEnabled(any);
        m_trashAction->setEnabled(any);
        m_undoTrashAction->setEnabled(!m_trashed.isEmpty());
        const bool allStarred
            = any && std::all_of(images.begin(), images.end(), [](const LibraryImage& image) { return image.starred; });
        m_starAction->setText(allStarred ? tr("Un&star") : tr("&Star"));
    }

    void GalleryPanel::changeEvent(QEvent* event)
    {
        if (event->type() == QEvent::LanguageChange) {
            retranslate();
        }
        QWidget::changeEvent(event);
    }

    void GalleryPanel::retranslate()
    {
        m_label->setText(tr("&Gallery"));
        m_searchEdit->setPlaceholderText(tr("Search prompts"));
        m_starredButton->setText(tr("★ Starred"));
        m_starredButton->setToolTip(tr("Show only starred images"));
        m_modelCombo->setToolTip(tr("Show only one model's images"));
        m_modelCombo->setItemText(0, tr("All models"));
        const QStringList dates{tr("Any time"), tr("Today"), tr("Last 7 days"), tr("Last 30 days"),
                                tr("Last 12 months")};
        for (int i = 0; i < dates.size(); ++i) {
            m_dateCombo->setItemText(i, dates.at(i));
        }
        const QList<std::tuple<QAction*, QString, QString>> texts{
            {m_openAction, tr("&Open"), tr("Show it full size, with its parameters")},
            {m_copyPromptAction, tr("&Copy prompt"), tr("Copy the prompt")},
            {m_copySeedAction, tr("Copy s&eed"), tr("Copy the seed")},
            {m_copyParametersAction, tr("Copy &parameters"),
             tr("Copy every generation parameter as AUTOMATIC1111 infotext")},
            {m_useSettingsAction, tr("&Use these settings"), tr("Fill the editor with its prompt and settings")},
            {m_requeueAction, tr("&Requeue"), tr("Queue it again, seed and all")},
            {m_requeueSeedsAction, tr("Requeue with &new seeds…"), tr("Queue variations of it with new seeds")},
            {m_openFolderAction, tr("Open containing &folder"), tr("Show its folder in the file manager")},
            {m_trashAction, tr("Move to &trash"), tr("Move its file to the trash (it can be undone)")},
            {m_undoTrashAction, tr("&Undo move to trash"), tr("Put the images last moved to the trash back")},
            {m_rescanAction, tr("Re&scan folders"), tr("Look for new, changed and deleted images again")},
        };
        for (const auto& [action, text, tip] : texts) {
            action->setText(text);
            action->setToolTip(withShortcut(tip, action));
        }
        m_starAction->setToolTip(
            tr("Star it, or unstar it (%1)").arg(m_starAction->shortcut().toString(QKeySequence::NativeText)));
        updateCount();
        updateActions();
    }
} // namespace Atelier
