// SPDX-License-Identifier: GPL-3.0-or-later
#include "QueueTableModel.h"

#include <QImage>

#include "ThumbnailCache.h"

namespace Atelier
{
    QueueTableModel::QueueTableModel(QueueStore* store, ThumbnailCache* thumbnails, QObject* parent)
        : QueueModel(store, QueueStore::windowQueue(), parent)
        , m_thumbnails(thumbnails)
    {
        connect(m_thumbnails, &ThumbnailCache::ready, this, [this](const QString& path) {
            for (int row = 0; row < rowCount(); ++row) {
                if (itemAt(row).imagePath == path) {
                    const QModelIndex cell = index(row, PromptColumn);
                    emit dataChanged(cell, cell, {Qt::DecorationRole});
                }
            }
        });
    }

    QVariant QueueTableModel::data(const QModelIndex& index, int role) const
    {
        if (role != Qt::DecorationRole || index.column() != PromptColumn || !index.isValid()) {
            return QueueModel::data(index, role);
        }
        const QueueItem& item = itemAt(index.row());
        QImage picture;
        if (item.state == ItemState::Running) {
            const LiveProgress* now = live(item.id);
            if (now && now->previewWidth > 0
                && now->previewRgb.size() == qsizetype(now->previewWidth) * now->previewHeight * 3) {
                picture = QImage(reinterpret_cast<const uchar*>(now->previewRgb.constData()), now->previewWidth,
                                 now->previewHeight, now->previewWidth * 3, QImage::Format_RGB888);
            }
        } else if (item.state == ItemState::Done && !item.imagePath.isEmpty()) {
            // Asked only for the rows a view paints; made once, off the UI thread.
            picture = m_thumbnails->request(item.imagePath);
        }
        if (picture.isNull()) {
            return {};
        }
        // Scaled (and so copied) here: the preview's bytes belong to the model and change with the next one.
        return picture.scaled(PictureSide, PictureSide, Qt::KeepAspectRatio, Qt::SmoothTransformation);
    }
} // namespace Atelier
