// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "queue/QueueModel.h"

namespace Atelier
{
    class ThumbnailCache;

    /// The window's queue table: QueueModel with pictures. A running item shows its latest latent preview, a done
    /// one the thumbnail of its image (made off the UI thread by @p thumbnails; the row updates when it is ready).
    class QueueTableModel final : public QueueModel
    {
        Q_OBJECT
        Q_DISABLE_COPY_MOVE(QueueTableModel)

    public:
        QueueTableModel(QueueStore* store, ThumbnailCache* thumbnails, QObject* parent = nullptr);

        /// Side of the pictures in the prompt column, in pixels.
        static constexpr int PictureSide = 48;

        QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;

    private:
        ThumbnailCache* m_thumbnails;
    };
} // namespace Atelier
