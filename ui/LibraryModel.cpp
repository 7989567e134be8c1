// SPDX-License-Identifier: GPL-3.0-or-later
#include "LibraryModel.h"

#include <QFileInfo>
#include <QLocale>
#include <QPainter>
#include <QScopedValueRollback>

#include "ThumbnailCache.h"
#include "render/Samplers.h"

using namespace Qt::StringLiterals;

namespace Atelier
{
    namespace
    {
        constexpr int CaptionLength = 40;

        /// A square tile of @p side pixels in a grey that reads on light and dark themes alike.
        QImage tile(int side, bool broken)
        {
            QImage image(side, side, QImage::Format_ARGB32_Premultiplied);
            image.fill(QColor(128, 128, 128, 48));
            if (broken) {
                QPainter painter(&image);
                painter.setRenderHint(QPainter::Antialiasing);
                painter.setPen(QPen(QColor(128, 128, 128, 160), std::max(2, side / 32)));
                const int inset = side / 3;
                painter.drawLine(inset, inset, side - inset, side - inset);
                painter.drawLine(side - inset, inset, inset, side - inset);
            }
            return image;
        }
    } // namespace

    LibraryModel::LibraryModel(ImageLibrary& library, ThumbnailCache& thumbnails, QObject* parent)
        : QAbstractListModel(parent)
        , m_library(library)
        , m_thumbnails(thumbnails)
        , m_placeholder(tile(thumbnails.side(), false))
        , m_broken(tile(thumbnails.side(), true))
    {
        connect(&m_thumbnails, &ThumbnailCache::ready, this, &LibraryModel::thumbnailChanged);
        connect(&m_thumbnails, &ThumbnailCache::failed, this, &LibraryModel::thumbnailChanged);
        reload();
    }

    void LibraryModel::setFilter(const LibraryFilter& filter)
    {
        m_filter = filter;
        reload();
    }

    void LibraryModel::reload()
    {
        const QScopedValueRollback<bool> changing(m_changing, true);
        beginResetModel();
        m_rows.clear();
        m_atEnd = false;
        m_total = m_library.count(m_filter);
        if (m_total < 0) {
            m_total = 0;
            m_atEnd = true;
            emit libraryError(m_library.error());
        }
        // Thumbnails asked for rows that are no longer shown would only delay the new ones.
        m_thumbnails.cancelWaiting();
        endResetModel();
    }

    bool LibraryModel::canFetchMore(const QModelIndex& parent) const
    {
        return !parent.isValid() && !m_atEnd;
    }

    void LibraryModel::fetchMore(const QModelIndex& parent)
    {
        if (parent.isValid() || m_atEnd) {
            return;
        }
        if (m_changing) {
            // Asked from a handler of one of our own changes (modelReset, rowsAboutToBeInserted, …): rows inserted
            // now would nest in that change, so the page comes from the event loop.
            if (!m_fetchQueued) {
                m_fetchQueued = true;
                QMetaObject::invokeMethod(
                    this,
                    [this] {
                        m_fetchQueued = false;
                        fetchMore({});
                    },
                    Qt::QueuedConnection);
            }
            return;
        }
        // After the last row rather than at an offset, so a row added or removed above does not shift the page.
        const QList<LibraryImage> page = m_rows.isEmpty() ? m_library.query(m_filter, 0, PageSize)
                                                          : m_library.queryAfter(m_filter, m_rows.last(), PageSize);
        if (!m_library.error().isEmpty()) {
            m_atEnd = true;
            emit libraryError(m_library.error());
            return;
        }
        m_atEnd = page.size() < PageSize;
        if (page.isEmpty()) {
            return;
        }
        const QScopedValueRollback<bool> changing(m_changing, true);
        beginInsertRows({}, int(m_rows.size()), int(m_rows.size() + page.size() - 1));
        m_rows.append(page);
        endInsertRows();
    }

    bool LibraryModel::addImage(qint64 id)
    {
        if (rowOf(id) >= 0) {
            refreshImage(id);
            return rowOf(id) >= 0;
        }
        if (!m_library.matches(m_filter, id)) {
            if (!m_library.error().isEmpty()) {
                emit libraryError(m_library.error());
            }
            return false;
        }
        const std::optional<LibraryImage> image = m_library.image(id);
        if (!image) {
            return false;
        }
        const QScopedValueRollback<bool> changing(m_changing, true);
        beginInsertRows({}, 0, 0);
        m_rows.prepend(*image);
        ++m_total;
        endInsertRows();
        return true;
    }

    void LibraryModel::refreshImage(qint64 id)
    {
        const int row = rowOf(id);
        if (row < 0) {
            return;
        }
        const std::optional<LibraryImage> image = m_library.image(id);
        if (!image || !m_library.matches(m_filter, id)) {
            if (!m_library.error().isEmpty()) {
                emit libraryError(m_library.error());
                return;
            }
            const QScopedValueRollback<bool> changing(m_changing, true);
            beginRemoveRows({}, row, row);
            m_rows.removeAt(row);
            --m_total;
            endRemoveRows();
            return;
        }
        if (image->fileSize != m_rows.at(row).fileSize || image->fileModified != m_rows.at(row).fileModified
            || image->missing != m_rows.at(row).missing) {
            m_thumbnails.invalidate(image->path);
        }
        m_rows[row] = *image;
        emit dataChanged(index(row), index(row));
    }

    void LibraryModel::removeImages(const QList<qint64>& ids)
    {
        for (const qint64 id : ids) {
            if (const int row = rowOf(id); row >= 0) {
                const QScopedValueRollback<bool> changing(m_changing, true);
                beginRemoveRows({}, row, row);
                m_rows.removeAt(row);
                --m_total;
                endRemoveRows();
            }
        }
    }

    int LibraryModel::rowOf(qint64 id) const
    {
        for (qsizetype row = 0; row < m_rows.size(); ++row) {
            if (m_rows.at(row).id == id) {
                return int(row);
            }
        }
        return -1;
    }

    LibraryImage LibraryModel::imageAt(int row) const
    {
        return row >= 0 && row < m_rows.size() ? m_rows.at(row) : LibraryImage{};
    }

    int LibraryModel::rowCount(const QModelIndex& parent) const
    {
        return parent.isValid() ? 0 : int(m_rows.size());
    }

    void LibraryModel::thumbnailChanged(const QString& path)
    {
        for (qsizetype row = 0; row < m_rows.size(); ++row) {
            if (m_rows.at(row).path == path) {
                const QModelIndex changed = index(int(row));
                emit dataChanged(changed, changed, {Qt::DecorationRole});
            }
        }
    }

    QString LibraryModel::caption(const LibraryImage& image) const
    {
        const QString prompt = image.settings.prompt.simplified();
        const QString text = prompt.isEmpty() ? QFileInfo(image.path).fileName()
            : prompt.size() > CaptionLength   ? prompt.left(CaptionLength - 1).trimmed() + u"…"_s
                                              : prompt;
        return image.starred ? u"★ "_s + text : text;
    }

    QString LibraryModel::toolTip(const LibraryImage& image) const
    {
        const RenderSettings& s = image.settings;
        QStringList lines;
        if (!s.prompt.isEmpty()) {
            lines.append(s.prompt);
        }
        if (!s.negativePrompt.isEmpty()) {
            lines.append(tr("Negative prompt: %1").arg(s.negativePrompt));
        }
        QStringList settings;
        if (s.seed) {
            settings.append(tr("Seed: %1").arg(*s.seed));
        }
        if (s.steps) {
            settings.append(tr("Steps: %1").arg(*s.steps));
        }
        if (s.scheduler && !s.scheduler->isEmpty()) {
            settings.append(tr("Sampler: %1").arg(a1111SamplerName(*s.scheduler)));
        }
        if (s.cfgScale) {
            settings.append(tr("CFG scale: %1").arg(*s.cfgScale));
        }
        if (s.width && s.height) {
            settings.append(tr("Size: %1×%2").arg(*s.width).arg(*s.height));
        }
        if (!settings.isEmpty()) {
            lines.append(settings.join(u", "_s));
        }
        if (!image.modelName.isEmpty()) {
            lines.append(tr("Model: %1").arg(image.modelName));
        }
        lines.append(QLocale().toString(QDateTime::fromMSecsSinceEpoch(image.created), QLocale::ShortFormat));
        lines.append(image.missing ? tr("%1 (missing)").arg(image.path) : image.path);
        return lines.join(u'\n');
    }

    QVariant LibraryModel::data(const QModelIndex& index, int role) const
    {
        if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid)) {
            return {};
        }
        const LibraryImage& image = m_rows.at(index.row());
        switch (role) {
        case Qt::DisplayRole:
            return caption(image);
        case Qt::ToolTipRole:
            return toolTip(image);
        case Qt::DecorationRole: {
            if (image.missing) {
                return m_broken;
            }
            const QImage thumbnail = m_thumbnails.request(image.path);
            if (!thumbnail.isNull()) {
                return thumbnail;
            }
            return m_thumbnails.state(image.path) == ThumbnailCache::State::Failed ? m_broken : m_placeholder;
        }
        case IdRole:
            return image.id;
        case PathRole:
            return image.path;
        case PromptRole:
            return image.settings.prompt;
        case NegativePromptRole:
            return image.settings.negativePrompt;
        case SeedRole:
            return image.settings.seed ? QVariant::fromValue(*image.settings.seed) : QVariant();
        case StarredRole:
            return image.starred;
        case ModelRole:
            return image.modelName;
        case SettingsRole:
            return QVariant::fromValue(image.settings);
        case InfotextRole:
            return image.infotext();
        case CreatedRole:
            return QDateTime::fromMSecsSinceEpoch(image.created);
        case MissingRole:
            return image.missing;
        case ImageRole:
            return QVariant::fromValue(image);
        default:
            return {};
        }
    }

    QHash<int, QByteArray> LibraryModel::roleNames() const
    {
        QHash<int, QByteArray> names = QAbstractListModel::roleNames();
        const std::pair<int, QByteArray> custom[] = {{IdRole, "imageId"},        {PathRole, "path"},
                                                     {PromptRole, "prompt"},     {NegativePromptRole, "negativePrompt"},
                                                     {SeedRole, "seed"},         {StarredRole, "starred"},
                                                     {ModelRole, "model"},       {SettingsRole, "settings"},
                                                     {InfotextRole, "infotext"}, {CreatedRole, "created"},
                                                     {MissingRole, "missing"},   {ImageRole, "image"}};
        for (const auto& [role, name] : custom) {
            names.insert(role, name);
        }
        return names;
    }
} // namespace Atelier
