// SPDX-License-Identifier: GPL-3.0-or-later
#include "GalleryModel.h"

#include <QColor>
#include <QImageReader>
#include <QPainter>
#include <QPixmap>

namespace Atelier
{
    GalleryModel::GalleryModel(QObject* parent)
        : QAbstractListModel(parent)
        , m_placeholder(fitted({}))
    { }

    void GalleryModel::setThumbnailSize(int side)
    {
        m_thumbnailSide = std::max(16, side);
        m_placeholder = fitted({});
        for (Entry& entry : m_entries) {
            setPicture(entry, entry.picture);
        }
        if (!m_entries.isEmpty()) {
            emit dataChanged(index(0), index(static_cast<int>(m_entries.size()) - 1), {Qt::DecorationRole});
        }
    }

    void GalleryModel::jobStarted(quint64 key, const QString& prompt, quint64 seed)
    {
        if (Entry* entry = find(key)) {
            entry->state = State::Rendering;
            entry->step = 0;
            entry->error.clear();
            changed(*entry);
            return;
        }
        const int row = static_cast<int>(m_entries.size());
        beginInsertRows({}, row, row);
        Entry entry;
        entry.key = key;
        entry.prompt = prompt;
        entry.seed = seed;
        m_entries.append(entry);
        endInsertRows();
    }

    void GalleryModel::jobProgress(quint64 key, int step, int total)
    {
        if (Entry* entry = find(key); entry && entry->state == State::Rendering) {
            entry->step = step;
            entry->total = total;
            changed(*entry);
        }
    }

    void GalleryModel::jobPreview(quint64 key, int width, int height, const QByteArray& rgb)
    {
        Entry* entry = find(key);
        if (!entry || entry->state != State::Rendering || width <= 0 || height <= 0
            || rgb.size() != qsizetype(width) * height * 3) {
            return;
        }
        const QImage preview(reinterpret_cast<const uchar*>(rgb.constData()), width, height, width * 3,
                             QImage::Format_RGB888);
        // Nearest-neighbour: the preview is a handful of latent pixels, and blurring them hides the composition.
        setPicture(*entry,
                   preview.scaled(m_thumbnailSide, m_thumbnailSide, Qt::KeepAspectRatio, Qt::FastTransformation));
        changed(*entry);
    }

    void GalleryModel::jobFinished(quint64 key, const QString& imagePath)
    {
        Entry* entry = find(key);
        if (!entry) {
            return;
        }
        entry->state = State::Done;
        entry->imagePath = imagePath;
        entry->step = entry->total;
        // Decode at thumbnail size: a 2048² image read whole for a 160 px tile wastes memory and time.
        QImageReader reader(imagePath);
        const QSize full = reader.size();
        if (full.isValid()) {
            reader.setScaledSize(full.scaled(m_thumbnailSide, m_thumbnailSide, Qt::KeepAspectRatio));
        }
        const QImage thumbnail = reader.read();
        if (thumbnail.isNull()) {
            entry->error = tr("The image was written but cannot be read: %1").arg(reader.errorString());
        } else {
            setPicture(*entry, thumbnail);
        }
        changed(*entry);
    }

    void GalleryModel::jobFailed(quint64 key, const QString& reason, bool willRetry)
    {
        Entry* entry = find(key);
        if (!entry) {
            return;
        }
        entry->error = reason;
        if (!willRetry) {
            entry->state = State::Failed;
        }
        changed(*entry);
    }

    void GalleryModel::jobStopped(quint64 key)
    {
        if (Entry* entry = find(key); entry && entry->state == State::Rendering) {
            entry->state = State::Stopped;
            changed(*entry);
        }
    }

    int GalleryModel::rowOf(quint64 key) const
    {
        for (qsizetype i = 0; i < m_entries.size(); ++i) {
            if (m_entries.at(i).key == key) {
                return static_cast<int>(i);
            }
        }
        return -1;
    }

    int GalleryModel::countIn(State state) const
    {
        return static_cast<int>(
            std::count_if(m_entries.begin(), m_entries.end(), [state](const Entry& e) { return e.state == state; }));
    }

    int GalleryModel::rowCount(const QModelIndex& parent) const
    {
        return parent.isValid() ? 0 : static_cast<int>(m_entries.size());
    }

    QVariant GalleryModel::data(const QModelIndex& index, int role) const
    {
        if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid)) {
            return {};
        }
        const Entry& entry = m_entries.at(index.row());
        switch (role) {
        case Qt::DisplayRole: {
            const QString caption = entry.prompt.size() > 40 ? entry.prompt.left(39) + QChar(0x2026) : entry.prompt;
            switch (entry.state) {
            case State::Rendering:
                return entry.total > 0 ? tr("%1/%2 · %3").arg(entry.step).arg(entry.total).arg(caption)
                                       : tr("Starting · %1").arg(caption);
            case State::Done:
                return caption;
            case State::Failed:
                return tr("Failed · %1").arg(caption);
            case State::Stopped:
                return tr("Stopped · %1").arg(caption);
            }
            return caption;
        }
        case Qt::DecorationRole:
            return entry.tile.isNull() ? m_placeholder : entry.tile;
        case Qt::ToolTipRole: {
            QString tip = tr("%1\nSeed: %2").arg(entry.prompt).arg(entry.seed);
            if (!entry.imagePath.isEmpty()) {
                tip += u'\n' + entry.imagePath;
            }
            if (!entry.error.isEmpty()) {
                tip += u'\n' + entry.error;
            }
            return tip;
        }
        case StateRole:
            return QVariant::fromValue(entry.state);
        case ImagePathRole:
            return entry.imagePath;
        case ProgressRole:
            return entry.total > 0 ? double(entry.step) / entry.total : 0.0;
        case PromptRole:
            return entry.prompt;
        case SeedRole:
            return entry.seed;
        default:
            return {};
        }
    }

    GalleryModel::Entry* GalleryModel::find(quint64 key)
    {
        const int row = rowOf(key);
        return row < 0 ? nullptr : &m_entries[row];
    }

    void GalleryModel::changed(const Entry& entry)
    {
        const QModelIndex at = index(rowOf(entry.key));
        emit dataChanged(at, at);
    }

    void GalleryModel::setPicture(Entry& entry, QImage picture) const
    {
        entry.picture = std::move(picture);
        entry.tile = entry.picture.isNull() ? QImage() : fitted(entry.picture);
    }

    QImage GalleryModel::fitted(const QImage& picture) const
    {
        // Every tile the same size, so the grid stays regular while previews and images of any shape arrive.
        QImage tile(m_thumbnailSide, m_thumbnailSide, QImage::Format_ARGB32_Premultiplied);
        tile.fill(Qt::transparent);
        QPainter painter(&tile);
        if (picture.isNull()) {
            painter.fillRect(tile.rect(), QColor(128, 128, 128, 48));
        } else {
            // A picture already fitted to the tile (a preview) comes back unchanged from scaled().
            const QImage scaled
                = picture.scaled(m_thumbnailSide, m_thumbnailSide, Qt::KeepAspectRatio, Qt::SmoothTransformation);
            painter.drawImage((m_thumbnailSide - scaled.width()) / 2, (m_thumbnailSide - scaled.height()) / 2, scaled);
        }
        return tile;
    }
} // namespace Atelier
