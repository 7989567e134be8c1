// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QFutureWatcher>
#include <QImage>
#include <QList>
#include <QThreadPool>
#include <QWidget>

#include <array>

#include "library/ImageLibrary.h"

class QAction;
class QGridLayout;
class QLabel;
class QPlainTextEdit;
class QScrollArea;
class QSplitter;
class QStackedWidget;
class QToolBar;

namespace Atelier
{
    class ImageCanvas;
    class LibraryModel;

    /// The gallery's full-size viewer: one image of a LibraryModel at a time, in its own (non-modal) window, with
    /// its generation parameters beside it. The artist steps through the gallery's rows (Left/Right, PageUp/
    /// PageDown, Home/End; stepping on past the loaded rows pages in the next ones), zooms (F: fit, 1 or Ctrl+0:
    /// 100 %, +/- and Ctrl+wheel: by ZoomStep) and pans by dragging; Escape closes it.
    ///
    /// Files are read on a thread of the viewer's own, never on the UI thread; only the image asked for last is
    /// shown, and one that cannot be read is replaced by a message naming it. The viewer follows the model: it
    /// keeps its image when rows come or go around it or the model is reset (a new filter) and still has it, shows
    /// the image that took its place when it goes, and closes when the model is empty. While it is closed it does
    /// not follow the model; showRow() (or showing it again) brings it back in step.
    class ImageViewer final : public QWidget
    {
        Q_OBJECT
        Q_DISABLE_COPY_MOVE(ImageViewer)

    public:
        static constexpr double ZoomStep = 1.25; ///< each zoom in / out multiplies / divides by this
        static constexpr double MinZoom = 0.05; ///< 5 %; a window smaller than that still fits the image
        static constexpr double MaxZoom = 32.0; ///< 3200 %

        /// A window (Qt::Window) showing the rows of @p model, which must outlive it.
        explicit ImageViewer(LibraryModel* model, QWidget* parent = nullptr);
        /// Waits for the files being read, if any (a decode or two); those waiting are dropped.
        ~ImageViewer() override;

        /// Shows the image in @p row (a row the model has loaded; others are ignored) and starts reading its file.
        void showRow(int row);
        /// The row shown; -1 when none, or for a moment after the model was reset (until its rows are back).
        int currentRow() const { return m_row; }
        /// The id of the image shown (LibraryImage::id); -1 when none.
        qint64 currentId() const { return m_image.id; }
        /// The image shown, as the model had it when it was shown or last changed.
        const LibraryImage& currentImage() const { return m_image; }

        /// Puts @p actions (the window's per-image actions: star, copy prompt, requeue, trash, …) in the viewer's
        /// tool bar and context menu, and their shortcuts in its window. They act on the gallery's current image,
        /// which the caller keeps on currentRow() through currentRowChanged().
        void addImageActions(const QList<QAction*>& actions);

        void showPrevious();
        /// Shows the next row, paging in the next rows first when the shown one is the last loaded.
        void showNext();
        void showFirst();
        /// Shows the last image, paging in every row the model has not loaded yet.
        void showLast();

        /// Whether the image is scaled to fit the window (the default), and stays so as the window is resized.
        /// Fit never enlarges: a small image is shown at 100 %.
        bool isFit() const { return m_fit; }
        /// Screen pixels per image pixel (1: actual pixels); in fit mode, what fitting gave.
        double zoomFactor() const { return m_zoom; }
        void fitToWindow();
        /// Shows the image at @p factor (clamped to MinZoom…MaxZoom), leaving fit mode, keeping the image point at
        /// the viewport's centre where it is.
        void setZoomFactor(double factor);
        void zoomIn();
        void zoomOut();

        /// Whether the shown image's file is still being read (a preview stands in for it meanwhile).
        bool isLoading() const { return m_loading; }
        /// The pixel size of the image read; empty while it is being read, or when it could not be read.
        QSize imageSize() const;
        /// What is shown instead of the image when its file could not be read (it names the file); empty otherwise.
        QString errorMessage() const;

    signals:
        /// The row shown changed: another image, or the same one at another row (rows came or went above it).
        void currentRowChanged(int row);

    protected:
        void changeEvent(QEvent* event) override;
        void showEvent(QShowEvent* event) override;
        void closeEvent(QCloseEvent* event) override;
        bool eventFilter(QObject* watched, QEvent* event) override;

    private:
        enum Field
        {
            PromptField,
            NegativePromptField,
            SeedField,
            StepsField,
            CfgScaleField,
            SamplerField,
            SizeField,
            ModelField,
            DeviceField,
            CreatedField,
            PathField,
            FieldCount
        };

        /// A file read on the pool: the image, or why not.
        struct Decoded
        {
            quint64 generation = 0;
            QImage image;
            QString error; ///< QImageReader's reason
            bool missing = false; ///< the file is not there
        };
        static Decoded decode(const QString& path, quint64 generation);

        void buildActions();
        void retranslate();
        void updateTitle();
        void updatePanel();
        void updateZoomLabel();
        void updateCursor();
        /// Starts reading the current image's file (dropping any read under way) and shows its preview meanwhile.
        void load();
        void cancelLoad();
        void decoded();
        void showMessage();
        void applyFit();
        /// Zooms to @p factor, keeping the image point under @p anchor (viewport coordinates) where it is.
        void zoomAt(double factor, QPoint anchor);
        double fitFactor() const;
        void contextMenu(const QPoint& globalPos);

        // Following the model.
        void dataChanged(const QModelIndex& topLeft, const QModelIndex& bottomRight, const QList<int>& roles);
        /// Finds the current image again after rows came or went; when it is gone, settles on @p place, its row.
        void followCurrent(int place);
        /// Shows the image now at @p row, or the last one when @p row is past the end; closes when there is none.
        void settleAt(int row);
        /// Finds the current image again, or settles on @p place, from the event loop: rows that a change of the
        /// model dropped (a reset) are paged in again after it, never inside it.
        void resyncLater(int place);
        void resync();

        LibraryModel* m_model;
        LibraryImage m_image;
        int m_row = -1;
        bool m_fit = true;
        double m_zoom = 1;
        bool m_pending = false; ///< resync() will find the row: currentRow() is -1 until then
        int m_pendingPlace = -1;
        bool m_panning = false;
        QPoint m_panFrom; ///< global position of the last drag event

        qint64 m_loadedId = -1; ///< the image read or being read; -1: none (the viewer was closed)
        bool m_loading = false;
        quint64 m_generation = 0; ///< of the last read asked for: results of earlier ones are dropped
        Decoded m_failure; ///< the last read when it failed
        QThreadPool m_pool;
        QFutureWatcher<Decoded> m_watcher;

        QToolBar* m_toolBar;
        QAction* m_imageActionsSeparator;
        QList<QAction*> m_imageActions;
        QSplitter* m_splitter;
        QStackedWidget* m_stack;
        QScrollArea* m_scroll;
        ImageCanvas* m_canvas;
        QLabel* m_message;
        QLabel* m_zoomLabel;
        QGridLayout* m_fields;
        std::array<QLabel*, FieldCount> m_names{};
        std::array<QLabel*, FieldCount> m_values{};
        QLabel* m_infotextLabel;
        QPlainTextEdit* m_infotext;

        QAction* m_previousAction;
        QAction* m_nextAction;
        QAction* m_firstAction;
        QAction* m_lastAction;
        QAction* m_fitAction;
        QAction* m_actualSizeAction;
        QAction* m_zoomInAction;
        QAction* m_zoomOutAction;
        QAction* m_closeAction;
    };
} // namespace Atelier
