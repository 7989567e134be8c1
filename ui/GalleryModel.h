// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QAbstractListModel>
#include <QImage>
#include <QList>
#include <QSize>

namespace Atelier
{
    /// The images of this session, newest last: one entry per job from the moment a worker starts it, showing its
    /// live preview and progress, then its finished image (or why it failed). Entries are keyed by a caller-chosen
    /// id that is unique for the session.
    ///
    /// Qt::DisplayRole is a short caption, Qt::DecorationRole a thumbnail, Qt::ToolTipRole the prompt, seed and
    /// state in full.
    class GalleryModel final : public QAbstractListModel
    {
        Q_OBJECT
        Q_DISABLE_COPY_MOVE(GalleryModel)

    public:
        enum class State
        {
            Rendering,
            Done,
            Failed,
            Stopped ///< the run was stopped first; the job went back to the queue
        };
        Q_ENUM(State)

        enum Role
        {
            StateRole = Qt::UserRole + 1,
            ImagePathRole,
            ProgressRole, ///< 0..1
            PromptRole,
            SeedRole,
        };

        explicit GalleryModel(QObject* parent = nullptr);

        /// Side of the square thumbnails, in pixels.
        void setThumbnailSize(int side);
        int thumbnailSize() const { return m_thumbnailSide; }

        /// A job started (again, after a retry: its entry is reused).
        void jobStarted(quint64 key, const QString& prompt, quint64 seed);
        void jobProgress(quint64 key, int step, int total);
        /// A latent preview: @p rgb holds width × height × 3 bytes.
        void jobPreview(quint64 key, int width, int height, const QByteArray& rgb);
        /// The image is written: its thumbnail is read from @p imagePath.
        void jobFinished(quint64 key, const QString& imagePath);
        /// @p willRetry: the job waits for another attempt and keeps its place.
        void jobFailed(quint64 key, const QString& reason, bool willRetry);
        void jobStopped(quint64 key);

        int rowOf(quint64 key) const;
        int countIn(State state) const;

        int rowCount(const QModelIndex& parent = {}) const override;
        QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;

    private:
        struct Entry
        {
            quint64 key = 0;
            QString prompt;
            quint64 seed = 0;
            State state = State::Rendering;
            int step = 0;
            int total = 0;
            QString imagePath;
            QString error;
            QImage picture; ///< the preview while rendering, then the thumbnail
            QImage tile; ///< picture centred on a square tile, made once per picture (views ask on every paint)
        };

        Entry* find(quint64 key);
        void changed(const Entry& entry);
        void setPicture(Entry& entry, QImage picture) const;
        QImage fitted(const QImage& image) const;

        QList<Entry> m_entries;
        int m_thumbnailSide = 160;
        QImage m_placeholder; ///< the tile of a job with nothing to show yet
    };
} // namespace Atelier
