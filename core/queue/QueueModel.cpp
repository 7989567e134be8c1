// SPDX-License-Identifier: GPL-3.0-or-later
#include "QueueModel.h"

#include <QFileInfo>

#include <QMimeData>
#include <QSet>

#include <algorithm>

#include "render/Samplers.h"

using namespace Qt::StringLiterals;

namespace Atelier
{
    namespace
    {
        const QString ItemsMimeType = u"application/x-atelier-queue-items"_s;

        /// Running first (what happens now), then what waits (in the order it will run), then what is finished.
        int displayGroup(ItemState state)
        {
            switch (state) {
            case ItemState::Running:
                return 0;
            case ItemState::Queued:
                return 1;
            default:
                return 2;
            }
        }

        void sortForDisplay(QList<QueueItem>& items)
        {
            // The store gives queue order; within the finished ones, the newest first.
            std::stable_sort(items.begin(), items.end(), [](const QueueItem& a, const QueueItem& b) {
                const int ga = displayGroup(a.state);
                const int gb = displayGroup(b.state);
                if (ga != gb) {
                    return ga < gb;
                }
                if (ga == 2) {
                    return a.updated != b.updated ? a.updated > b.updated : a.id > b.id;
                }
                return false;
            });
        }

        QList<RenderSettings> withoutBlankPrompts(const QList<RenderSettings>& items)
        {
            QList<RenderSettings> kept;
            std::copy_if(items.begin(), items.end(), std::back_inserter(kept),
                         [](const RenderSettings& item) { return !item.prompt.trimmed().isEmpty(); });
            return kept;
        }
    } // namespace

    QueueModel::QueueModel(QueueStore* store, QString name, QObject* parent)
        : QAbstractTableModel(parent)
        , m_store(store)
        , m_name(std::move(name))
    {
        refresh();
    }

    bool QueueModel::change(bool written)
    {
        if (!written) {
            emit storeFailed(m_store->error());
        }
        refresh();
        return written;
    }

    QList<qint64> QueueModel::add(const QList<RenderSettings>& items, bool atFront)
    {
        const QList<RenderSettings> kept = withoutBlankPrompts(items);
        if (kept.isEmpty()) {
            return {};
        }
        const std::optional<QList<qint64>> ids = m_store->add(m_name, kept, atFront);
        change(ids.has_value());
        return ids.value_or(QList<qint64>{});
    }

    bool QueueModel::update(qint64 id, const RenderSettings& settings)
    {
        if (settings.prompt.trimmed().isEmpty()) {
            return false;
        }
        return change(m_store->update(id, settings));
    }

    QList<qint64> QueueModel::duplicate(const QList<qint64>& ids)
    {
        QList<qint64> copies;
        bool written = true;
        for (const QueueItem& original : QList<QueueItem>(m_items)) {
            if (!ids.contains(original.id)) {
                continue;
            }
            const std::optional<QList<qint64>> added = m_store->add(m_name, {original.settings});
            if (!added) {
                written = false;
                break;
            }
            copies.append(added->constFirst());
            if (original.state != ItemState::Queued) {
                continue; // a copy of a finished item waits at the end
            }
            // Right after the original: before the waiting item that follows it.
            const int row = rowOf(original.id);
            qint64 next = -1;
            for (int r = row + 1; r < m_items.size(); ++r) {
                if (m_items.at(r).state == ItemState::Queued) {
                    next = m_items.at(r).id;
                    break;
                }
            }
            if (!m_store->move(added->constFirst(), next)) {
                written = false;
                break;
            }
        }
        change(written);
        return copies;
    }

    bool QueueModel::remove(const QList<qint64>& ids)
    {
        return ids.isEmpty() || change(m_store->remove(ids));
    }

    bool QueueModel::removeFinished()
    {
        QList<qint64> ids;
        for (const QueueItem& item : std::as_const(m_items)) {
            if (displayGroup(item.state) == 2) {
                ids.append(item.id);
            }
        }
        return remove(ids);
    }

    QList<qint64> QueueModel::waitingInOrder(const QList<qint64>& ids) const
    {
        QList<qint64> waiting;
        for (const QueueItem& item : m_items) {
            if (item.state == ItemState::Queued && ids.contains(item.id)) {
                waiting.append(item.id);
            }
        }
        return waiting;
    }

    bool QueueModel::moveBefore(const QList<qint64>& ids, qint64 beforeId)
    {
        const QList<qint64> moving = waitingInOrder(ids);
        if (moving.isEmpty()) {
            return true;
        }
        // Dropped onto one of the moved items: they go before the first waiting item after it that stays.
        if (moving.contains(beforeId)) {
            const int from = rowOf(beforeId);
            beforeId = -1;
            for (int r = from + 1; r < m_items.size(); ++r) {
                const QueueItem& item = m_items.at(r);
                if (item.state == ItemState::Queued && !moving.contains(item.id)) {
                    beforeId = item.id;
                    break;
                }
            }
        }
        bool written = true;
        for (const qint64 id : moving) {
            if (!m_store->move(id, beforeId)) {
                written = false;
                break;
            }
        }
        return change(written);
    }

    bool QueueModel::moveToTop(const QList<qint64>& ids)
    {
        for (const QueueItem& item : std::as_const(m_items)) {
            if (item.state == ItemState::Queued && !ids.contains(item.id)) {
                return moveBefore(ids, item.id);
            }
        }
        return true; // every waiting item moves: they are first already
    }

    bool QueueModel::moveToBottom(const QList<qint64>& ids)
    {
        return moveBefore(ids, -1);
    }

    bool QueueModel::retry(const QList<qint64>& ids)
    {
        return ids.isEmpty() || change(m_store->requeue(ids));
    }

    std::optional<QueueItem> QueueModel::claim()
    {
        std::optional<QueueItem> item = m_store->claim(m_name);
        if (!item && !m_store->error().isEmpty()) {
            emit storeFailed(m_store->error());
        }
        refresh();
        return item;
    }

    bool QueueModel::recordDispatch(qint64 id, quint64 seed, const QString& imagePath, int attempts,
                                    const QString& device)
    {
        return change(m_store->recordDispatch(id, seed, imagePath, attempts, device));
    }

    bool QueueModel::markDone(qint64 id, const QString& imagePath)
    {
        return change(m_store->markDone(id, imagePath));
    }

    bool QueueModel::markFailed(qint64 id, const QString& error, bool final)
    {
        return change(m_store->markFailed(id, error, final));
    }

    bool QueueModel::release(qint64 id, const QString& reason)
    {
        return change(m_store->release(id, reason));
    }

    bool QueueModel::cancel(const QList<qint64>& ids, const QString& reason)
    {
        return ids.isEmpty() || change(m_store->cancel(ids, reason));
    }

    void QueueModel::setLive(qint64 id, const LiveProgress& live)
    {
        const int row = rowOf(id);
        if (row < 0 || m_items.at(row).state != ItemState::Running) {
            return;
        }
        m_live.insert(id, live);
        emit dataChanged(index(row, 0), index(row, ColumnCount - 1));
    }

    const LiveProgress* QueueModel::live(qint64 id) const
    {
        const auto found = m_live.constFind(id);
        return found == m_live.constEnd() ? nullptr : &found.value();
    }

    qsizetype QueueModel::countIn(ItemState state) const
    {
        return std::count_if(m_items.begin(), m_items.end(), [state](const QueueItem& i) { return i.state == state; });
    }

    int QueueModel::rowOf(qint64 id) const
    {
        for (int row = 0; row < m_items.size(); ++row) {
            if (m_items.at(row).id == id) {
                return row;
            }
        }
        return -1;
    }

    std::optional<QueueItem> QueueModel::item(qint64 id) const
    {
        const int row = rowOf(id);
        return row < 0 ? std::nullopt : std::optional<QueueItem>(m_items.at(row));
    }

    void QueueModel::refresh()
    {
        QList<QueueItem> fresh = m_store->items(m_name);
        if (fresh.isEmpty() && !m_store->error().isEmpty()) {
            emit storeFailed(m_store->error());
            return;
        }
        sortForDisplay(fresh);
        QSet<qint64> freshIds;
        for (const QueueItem& item : std::as_const(fresh)) {
            freshIds.insert(item.id);
        }

        // Rows are changed in place, not reset, so that a view keeps its selection and scroll position while
        // items start and finish. First what is gone, in blocks from the bottom.
        for (int last = static_cast<int>(m_items.size()) - 1; last >= 0; --last) {
            if (freshIds.contains(m_items.at(last).id)) {
                continue;
            }
            int first = last;
            while (first > 0 && !freshIds.contains(m_items.at(first - 1).id)) {
                --first;
            }
            beginRemoveRows({}, first, last);
            m_items.remove(first, last - first + 1);
            endRemoveRows();
            last = first;
        }

        // Then the survivors into their new order.
        QSet<qint64> surviving;
        for (const QueueItem& item : std::as_const(m_items)) {
            surviving.insert(item.id);
        }
        QHash<qint64, int> newRow;
        for (const QueueItem& item : std::as_const(fresh)) {
            if (surviving.contains(item.id)) {
                newRow.insert(item.id, static_cast<int>(newRow.size()));
            }
        }
        bool reordered = false;
        for (int row = 0; row < m_items.size() && !reordered; ++row) {
            reordered = newRow.value(m_items.at(row).id) != row;
        }
        if (reordered) {
            emit layoutAboutToBeChanged({}, QAbstractItemModel::VerticalSortHint);
            QList<QueueItem> sorted(m_items.size());
            for (const QueueItem& item : std::as_const(m_items)) {
                sorted[newRow.value(item.id)] = item;
            }
            const QModelIndexList before = persistentIndexList();
            QModelIndexList after;
            for (const QModelIndex& index : before) {
                after.append(this->index(newRow.value(m_items.at(index.row()).id), index.column()));
            }
            m_items = std::move(sorted);
            changePersistentIndexList(before, after);
            emit layoutChanged({}, QAbstractItemModel::VerticalSortHint);
        }

        // Then the new ones: with the survivors in order, each mismatch is an insertion.
        for (int row = 0; row < fresh.size(); ++row) {
            if (row < m_items.size() && m_items.at(row).id == fresh.at(row).id) {
                continue;
            }
            int last = row;
            while (last + 1 < fresh.size() && !surviving.contains(fresh.at(last + 1).id)) {
                ++last;
            }
            beginInsertRows({}, row, last);
            for (int r = row; r <= last; ++r) {
                m_items.insert(r, fresh.at(r));
            }
            endInsertRows();
            row = last;
        }

        // Then what changed.
        for (int row = 0; row < m_items.size(); ++row) {
            if (!(m_items.at(row) == fresh.at(row))) {
                m_items[row] = fresh.at(row);
                emit dataChanged(index(row, 0), index(row, ColumnCount - 1));
            }
        }

        for (auto it = m_live.begin(); it != m_live.end();) {
            const int row = rowOf(it.key());
            it = row < 0 || m_items.at(row).state != ItemState::Running ? m_live.erase(it) : std::next(it);
        }
        const qsizetype waiting = countIn(ItemState::Queued);
        if (std::exchange(m_waiting, waiting) != waiting) {
            emit waitingChanged(waiting);
        }
    }

    int QueueModel::rowCount(const QModelIndex& parent) const
    {
        return parent.isValid() ? 0 : static_cast<int>(m_items.size());
    }

    int QueueModel::columnCount(const QModelIndex& parent) const
    {
        return parent.isValid() ? 0 : ColumnCount;
    }

    QString QueueModel::settingsSummary(const RenderSettings& s)
    {
        QStringList parts;
        if (s.width || s.height) {
            parts.append(u"%1×%2"_s.arg(s.width ? QString::number(*s.width) : u"–"_s,
                                        s.height ? QString::number(*s.height) : u"–"_s));
        }
        if (s.steps) {
            parts.append(tr("steps %1").arg(*s.steps)); // no plural: the window's catalogue is not loaded here
        }
        if (s.cfgScale) {
            parts.append(tr("CFG %1").arg(*s.cfgScale));
        }
        if (s.scheduler && !s.scheduler->isEmpty()) {
            parts.append(a1111SamplerName(*s.scheduler));
        }
        if (s.clipSkip && *s.clipSkip != RenderDefaults::ClipSkip) {
            parts.append(tr("clip skip %1").arg(*s.clipSkip));
        }
        if (s.initImage && !s.initImage->isEmpty()) {
            parts.append(tr("from %1").arg(QFileInfo(*s.initImage).fileName()));
        }
        if (s.hiresEnabled()) {
            parts.append(tr("hires ×%1").arg(*s.hiresScale));
        }
        if (const std::optional<double> strength = s.effectiveDenoisingStrength()) {
            parts.append(tr("denoising %1").arg(*strength));
        }
        if (s.vae && !s.vae->isEmpty()) {
            parts.append(tr("VAE %1").arg(QFileInfo(*s.vae).fileName()));
        }
        if (s.seed) {
            parts.append(tr("seed %1").arg(*s.seed));
        }
        return parts.isEmpty() ? tr("default settings") : parts.join(u" · "_s);
    }

    QString QueueModel::stateText(const QueueItem& item) const
    {
        switch (item.state) {
        case ItemState::Queued:
            return tr("queued");
        case ItemState::Running: {
            const LiveProgress* now = live(item.id);
            const QString device = now && !now->device.isEmpty() ? now->device : item.device;
            if (now && !now->note.isEmpty()) {
                return tr("waiting for a retry: %1").arg(now->note);
            }
            if (now && now->total > 0) {
                return tr("running on %1, step %2/%3").arg(device).arg(now->step).arg(now->total);
            }
            return device.isEmpty() ? tr("starting") : tr("starting on %1").arg(device);
        }
        case ItemState::Done:
            return tr("done");
        case ItemState::Failed:
            return item.lastError.isEmpty() ? tr("failed") : tr("failed: %1").arg(item.lastError);
        case ItemState::Canceled:
            return tr("canceled");
        }
        return {};
    }

    QVariant QueueModel::data(const QModelIndex& index, int role) const
    {
        if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid)) {
            return {};
        }
        const QueueItem& item = m_items.at(index.row());
        switch (role) {
        case Qt::DisplayRole:
            switch (index.column()) {
            case PromptColumn:
                return item.settings.prompt.simplified();
            case SettingsColumn:
                return settingsSummary(item.settings);
            case StateColumn:
                return stateText(item);
            case AttemptsColumn:
                return item.attempts;
            default:
                return {};
            }
        case Qt::ToolTipRole:
            if (index.column() == PromptColumn) {
                return item.settings.negativePrompt.isEmpty()
                    ? item.settings.prompt
                    : tr("%1\nNegative: %2").arg(item.settings.prompt, item.settings.negativePrompt);
            }
            return index.column() == StateColumn ? stateText(item) : QVariant();
        case ItemIdRole:
            return item.id;
        case SettingsRole:
            return QVariant::fromValue(item.settings);
        case StateRole:
            return static_cast<int>(item.state);
        case ProgressRole: {
            const LiveProgress* now = live(item.id);
            return now && now->total > 0 ? double(now->step) / now->total : -1.0;
        }
        case DeviceRole: {
            const LiveProgress* now = live(item.id);
            return now && !now->device.isEmpty() ? now->device : item.device;
        }
        case ImagePathRole:
            return item.imagePath;
        case LastErrorRole:
            return item.lastError;
        default:
            return {};
        }
    }

    QVariant QueueModel::headerData(int section, Qt::Orientation orientation, int role) const
    {
        if (orientation != Qt::Horizontal || role != Qt::DisplayRole) {
            return QAbstractTableModel::headerData(section, orientation, role);
        }
        switch (section) {
        case PromptColumn:
            return tr("Prompt");
        case SettingsColumn:
            return tr("Settings");
        case StateColumn:
            return tr("State");
        case AttemptsColumn:
            return tr("Attempts");
        default:
            return {};
        }
    }

    Qt::ItemFlags QueueModel::flags(const QModelIndex& index) const
    {
        if (!index.isValid()) {
            return Qt::ItemIsDropEnabled; // dropped below the last row: to the end
        }
        Qt::ItemFlags flags = Qt::ItemIsEnabled | Qt::ItemIsSelectable;
        if (m_items.at(index.row()).state == ItemState::Queued) {
            flags |= Qt::ItemIsDragEnabled | Qt::ItemIsDropEnabled;
        }
        return flags;
    }

    Qt::DropActions QueueModel::supportedDropActions() const
    {
        return Qt::MoveAction;
    }

    QStringList QueueModel::mimeTypes() const
    {
        return {ItemsMimeType};
    }

    QMimeData* QueueModel::mimeData(const QModelIndexList& indexes) const
    {
        QStringList ids;
        for (const QModelIndex& index : indexes) {
            const QueueItem& item = m_items.at(index.row());
            if (item.state == ItemState::Queued && !ids.contains(QString::number(item.id))) {
                ids.append(QString::number(item.id));
            }
        }
        if (ids.isEmpty()) {
            return nullptr;
        }
        auto* data = new QMimeData;
        data->setData(ItemsMimeType, ids.join(u',').toLatin1());
        return data;
    }

    bool QueueModel::canDropMimeData(const QMimeData* data, Qt::DropAction action, int, int, const QModelIndex&) const
    {
        return data && action == Qt::MoveAction && data->hasFormat(ItemsMimeType);
    }

    bool QueueModel::dropMimeData(const QMimeData* data, Qt::DropAction action, int row, int column,
                                  const QModelIndex& parent)
    {
        if (!canDropMimeData(data, action, row, column, parent)) {
            return false;
        }
        QList<qint64> ids;
        for (const QByteArray& part : data->data(ItemsMimeType).split(',')) {
            bool ok = false;
            const qint64 id = part.toLongLong(&ok);
            if (ok) {
                ids.append(id);
            }
        }
        // Dropped onto a row: before it. Between rows: before the next. Past the last: to the end. Above the
        // waiting items (onto a running one): first.
        const int target = parent.isValid() ? parent.row() : (row >= 0 ? row : static_cast<int>(m_items.size()));
        qint64 beforeId = -1;
        for (int r = target; r < m_items.size(); ++r) {
            if (m_items.at(r).state == ItemState::Queued) {
                beforeId = m_items.at(r).id;
                break;
            }
        }
        // The move is done here; the view's own removal of the dragged rows finds nothing to remove, since this
        // model has no removeRows().
        return moveBefore(ids, beforeId);
    }
} // namespace Atelier
