// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QList>
#include <QStringList>
#include <QWidget>

#include <memory>

#include "library/ImageLibrary.h"

class QAction;
class QComboBox;
class QFileSystemWatcher;
class QLabel;
class QLineEdit;
class QListView;
class QTimer;
class QToolButton;

namespace Atelier
{
    class ImageViewer;
    class LibraryIndexer;
    class LibraryModel;
    class ThumbnailCache;

    /// The gallery: every image in the image library (Atelier's renders, and the PNGs of the folders it watches),
    /// newest first, with search as you type, filters (starred, model, date), a full-size viewer and the actions an
    /// artist takes on an image. Reads go through its own library connection on the UI thread (indexed pages of
    /// milliseconds); every write (indexing, folder scans, stars, removals) goes through a LibraryIndexer thread.
    class GalleryPanel final : public QWidget
    {
        Q_OBJECT
        Q_DISABLE_COPY_MOVE(GalleryPanel)

    public:
        /// Which images the date filter keeps: made today, in the last 7 / 30 / 365 days, or any.
        enum class DateRange
        {
            Any,
            Today,
            Week,
            Month,
            Year
        };
        Q_ENUM(DateRange)

        /// The library at @p libraryPath (created when missing); thumbnails from @p thumbnails, which must outlive
        /// the panel. A library that cannot be opened leaves the gallery empty and libraryError() says why.
        GalleryPanel(const QString& libraryPath, ThumbnailCache* thumbnails, QWidget* parent = nullptr);
        ~GalleryPanel() override;

        LibraryModel* model() const { return m_model; }
        QListView* view() const { return m_view; }
        LibraryIndexer* indexer() const { return m_indexer; }
        /// Why the library could not be opened; empty when it is open.
        const QString& libraryError() const { return m_libraryError; }

        /// Indexes a finished render; it shows first once indexed (when the filter selects it).
        void imageFinished(const QString& path);
        /// Folders whose PNGs are in the library too (an output folder `atelier --batch` writes to): scanned now,
        /// and again whenever their contents change.
        void setWatchedFolders(const QStringList& folders);
        const QStringList& watchedFolders() const { return m_watched; }
        /// Scans every watched folder again.
        void rescan();

        void setSearch(const QString& text);
        void setStarredOnly(bool starredOnly);
        /// Only images of model @p name; empty: any model.
        void setModelFilter(const QString& name);
        void setDateRange(DateRange range);

        /// The ids of the selected images, in gallery order.
        QList<qint64> selectedImages() const;
        /// Selects the images @p ids that are loaded; the first becomes current.
        void selectImages(const QList<qint64>& ids);

        /// Shows the current image in the full-size viewer.
        void openViewer();
        ImageViewer* viewer() const { return m_viewer; }
        /// Stars the selected images, or unstars them when all are starred already.
        void toggleStar();
        void copyPrompt();
        void copySeed();
        /// The selected images' generation parameters as AUTOMATIC1111 infotext, one block each.
        void copyParameters();
        /// Asks the window to fill its editor with the current image's prompt and settings (seed included).
        void useSettings();
        /// Queues the selected images again: as they were (@p variations 0), or @p variations times each with
        /// new random seeds.
        void requeue(int variations = 0);
        /// requeue() with a count the artist is asked for.
        void requeueWithNewSeeds();
        void openContainingFolder();
        /// Moves the selected images' files to the desktop's trash and drops them from the library; undoTrash()
        /// brings the last batch back (while the window is open). Returns how many were moved.
        int trashSelected();
        /// Restores the files of the last trashTrashed() batch to where they were and indexes them again, with their
        /// stars. False when there is nothing to undo or a file could not be put back (it is named).
        bool undoTrash();
        bool canUndoTrash() const { return !m_trashed.isEmpty(); }

        /// Opening, starring, copying, requeueing, trashing: for the window's menu and the viewer.
        QList<QAction*> imageActions() const;
        QAction* undoTrashAction() const { return m_undoTrashAction; }
        QAction* rescanAction() const { return m_rescanAction; }

    signals:
        void useSettingsRequested(const Atelier::RenderSettings& settings);
        void requeueRequested(const QList<Atelier::RenderSettings>& items);
        /// Something for the status bar.
        void message(const QString& text);

    protected:
        void changeEvent(QEvent* event) override;

    private:
        struct Trashed
        {
            LibraryImage image; ///< as the library had it, star included
            QString trashPath; ///< where the file went
        };

        void buildActions();
        void retranslate();
        void updateActions();
        void applyFilter();
        void refreshModels();
        void updateCount();
        void folderChanged(const QString& folder);
        void scanned(const QString& folder, const LibraryScan& scan);
        /// Reads the rows again from the first page, then selects those of @p ids that are on it.
        void reloadSelecting(const QList<qint64>& ids);
        /// The selected images, in gallery order.
        QList<LibraryImage> selection() const;
        /// The current image (the one the viewer shows, or the selection's focus).
        LibraryImage current() const;

        std::unique_ptr<ImageLibrary> m_library; ///< reads, on this thread
        QString m_libraryError;
        LibraryIndexer* m_indexer;
        ThumbnailCache* m_thumbnails;
        LibraryModel* m_model;
        ImageViewer* m_viewer = nullptr;
        QStringList m_watched;
        QFileSystemWatcher* m_watcher;
        QStringList m_changedFolders; ///< waiting for m_rescanTimer
        QTimer* m_rescanTimer;
        QTimer* m_filterTimer;
        QList<QList<Trashed>> m_trashed; ///< batches, the last one first undone

        QLabel* m_label;
        QLineEdit* m_searchEdit;
        QToolButton* m_starredButton;
        QComboBox* m_modelCombo;
        QComboBox* m_dateCombo;
        QLabel* m_countLabel;
        QListView* m_view;

        QAction* m_openAction;
        QAction* m_starAction;
        QAction* m_copyPromptAction;
        QAction* m_copySeedAction;
        QAction* m_copyParametersAction;
        QAction* m_useSettingsAction;
        QAction* m_requeueAction;
        QAction* m_requeueSeedsAction;
        QAction* m_openFolderAction;
        QAction* m_trashAction;
        QAction* m_undoTrashAction;
        QAction* m_rescanAction;
    };
} // namespace Atelier
