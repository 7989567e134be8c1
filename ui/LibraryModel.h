// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QAbstractListModel>
#include <QImage>
#include <QList>

#include "library/ImageLibrary.h"

namespace Atelier
{
    class ThumbnailCache;

    /// The gallery's rows: the images of an ImageLibrary that a LibraryFilter selects, newest first, paged in as the
    /// view scrolls (canFetchMore() / fetchMore(), PageSize rows at a time, each page one indexed query).
    ///
    /// Qt::DisplayRole is a short caption (the prompt's start), Qt::ToolTipRole the prompt and settings in full,
    /// Qt::DecorationRole the thumbnail: asked of the ThumbnailCache only when a view asks for that row's
    /// decoration, which views do for the rows they paint, with a neutral tile until it is ready. (A QListView
    /// must have uniformItemSizes or a grid size set, or it asks every row for its size, and so its decoration.)
    class LibraryModel final : public QAbstractListModel
    {
        Q_OBJECT
        Q_DISABLE_COPY_MOVE(LibraryModel)

    public:
        static constexpr int PageSize = 200;

        enum Role
        {
            IdRole = Qt::UserRole + 1, ///< qint64
            PathRole,
            PromptRole,
            NegativePromptRole,
            SeedRole, ///< quint64, or invalid when the image does not say
            StarredRole,
            ModelRole,
            SettingsRole, ///< RenderSettings: prompt, negative prompt and every setting the image names
            InfotextRole, ///< AUTOMATIC1111's infotext, for "copy all parameters"
            CreatedRole, ///< QDateTime
            MissingRole,
            ImageRole, ///< the whole LibraryImage
        };
        Q_ENUM(Role)

        /// Rows of @p library (used from this thread only), thumbnails from @p thumbnails; both must outlive the
        /// model. Starts with an empty filter: every image that is not missing.
        LibraryModel(ImageLibrary& library, ThumbnailCache& thumbnails, QObject* parent = nullptr);

        /// Shows the images @p filter selects, from the first page.
        void setFilter(const LibraryFilter& filter);
        const LibraryFilter& filter() const { return m_filter; }
        /// Reads the rows again from the first page (after a folder scan).
        void reload();
        /// How many images the filter selects, loaded or not.
        qsizetype totalCount() const { return m_total; }

        /// Shows image @p id (just indexed: a finished render) first, when the filter selects it; if it is shown
        /// already, its row is refreshed. Returns whether it is shown.
        bool addImage(qint64 id);
        /// Reads image @p id again (its star was toggled, its file changed); a row the filter no longer selects
        /// (unstarred while only starred ones show) goes.
        void refreshImage(qint64 id);
        /// Drops the rows of @p ids (removed from the library, or moved to the trash).
        void removeImages(const QList<qint64>& ids);

        int rowOf(qint64 id) const;
        /// The image in @p row; an empty one (id -1) outside the rows.
        LibraryImage imageAt(int row) const;

        int rowCount(const QModelIndex& parent = {}) const override;
        QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
        QHash<int, QByteArray> roleNames() const override;
        bool canFetchMore(const QModelIndex& parent) const override;
        void fetchMore(const QModelIndex& parent) override;

    signals:
        /// A query failed; @p message names the library file.
        void libraryError(const QString& message);

    private:
        void thumbnailChanged(const QString& path);
        QString caption(const LibraryImage& image) const;
        QString toolTip(const LibraryImage& image) const;

        ImageLibrary& m_library;
        ThumbnailCache& m_thumbnails;
        LibraryFilter m_filter;
        QList<LibraryImage> m_rows;
        qsizetype m_total = 0;
        bool m_atEnd = false;
        bool m_changing = false; ///< between a begin…() and its end…(): their signals' handlers run
        bool m_fetchQueued = false;
        QImage m_placeholder; ///< while a thumbnail is made
        QImage m_broken; ///< a file that is gone or cannot be read
    };
} // namespace Atelier
