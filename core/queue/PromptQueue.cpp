// SPDX-License-Identifier: GPL-3.0-or-later
#include "PromptQueue.h"

#include <algorithm>

using namespace Qt::StringLiterals;

namespace Atelier
{
    namespace
    {
        QList<RenderSettings> withoutBlankPrompts(const QList<RenderSettings>& jobs)
        {
            QList<RenderSettings> kept;
            std::copy_if(jobs.begin(), jobs.end(), std::back_inserter(kept),
                         [](const RenderSettings& job) { return !job.prompt.trimmed().isEmpty(); });
            return kept;
        }
    } // namespace

    PromptQueue::PromptQueue(QueueStore* store, QString name, QObject* parent)
        : QAbstractListModel(parent)
        , m_store(store)
        , m_name(std::move(name))
    {
        m_items = m_store->items(m_name, ItemState::Queued);
    }

    bool PromptQueue::enqueue(const RenderSettings& job)
    {
        return enqueue(QList<RenderSettings>{job}) == 1;
    }

    qsizetype PromptQueue::enqueue(const QList<RenderSettings>& jobs)
    {
        const QList<RenderSettings> kept = withoutBlankPrompts(jobs);
        if (kept.isEmpty()) {
            return 0;
        }
        if (!m_store->add(m_name, kept)) {
            emit storeFailed(m_store->error());
            return 0;
        }
        reload();
        return kept.size();
    }

    void PromptQueue::prepend(const QList<RenderSettings>& jobs)
    {
        const QList<RenderSettings> kept = withoutBlankPrompts(jobs);
        if (kept.isEmpty()) {
            return;
        }
        if (!m_store->add(m_name, kept, /*atFront=*/true)) {
            emit storeFailed(m_store->error());
            return;
        }
        reload();
    }

    std::optional<QueueItem> PromptQueue::claim()
    {
        std::optional<QueueItem> item = m_store->claim(m_name);
        if (!item && !m_store->error().isEmpty()) {
            emit storeFailed(m_store->error());
        }
        reload();
        return item;
    }

    void PromptQueue::removeAt(QList<int> rows)
    {
        QList<qint64> ids;
        for (const int row : std::as_const(rows)) {
            if (row >= 0 && row < m_items.size()) {
                ids.append(m_items.at(row).id);
            }
        }
        if (ids.isEmpty()) {
            return;
        }
        if (!m_store->remove(ids)) {
            emit storeFailed(m_store->error());
        }
        reload();
    }

    void PromptQueue::clear()
    {
        QList<qint64> ids;
        for (const QueueItem& item : std::as_const(m_items)) {
            ids.append(item.id);
        }
        if (!ids.isEmpty() && !m_store->remove(ids)) {
            emit storeFailed(m_store->error());
        }
        reload();
    }

    void PromptQueue::reload()
    {
        const qsizetype before = m_items.size();
        beginResetModel();
        m_items = m_store->items(m_name, ItemState::Queued);
        endResetModel();
        if (m_items.size() != before) {
            emit sizeChanged(m_items.size());
        }
    }

    qsizetype PromptQueue::size() const
    {
        return m_items.size();
    }

    QList<RenderSettings> PromptQueue::jobs() const
    {
        QList<RenderSettings> jobs;
        for (const QueueItem& item : m_items) {
            jobs.append(item.settings);
        }
        return jobs;
    }

    bool PromptQueue::isEmpty() const
    {
        return m_items.isEmpty();
    }

    RenderSettings PromptQueue::at(qsizetype row) const
    {
        return m_items.at(row).settings;
    }

    int PromptQueue::rowCount(const QModelIndex& parent) const
    {
        return parent.isValid() ? 0 : static_cast<int>(m_items.size());
    }

    QVariant PromptQueue::data(const QModelIndex& index, int role) const
    {
        if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid)) {
            return {};
        }
        const QueueItem& item = m_items.at(index.row());
        const RenderSettings& job = item.settings;
        switch (role) {
        case Qt::DisplayRole:
        case Qt::ToolTipRole:
            return job.prompt;
        case JobRole:
            return QVariant::fromValue(job);
        case NegativePromptRole:
            return job.negativePrompt;
        case SeedRole:
            return job.seed ? QVariant::fromValue(*job.seed) : QVariant();
        case ItemIdRole:
            return item.id;
        default:
            return {};
        }
    }

    QHash<int, QByteArray> PromptQueue::roleNames() const
    {
        QHash<int, QByteArray> names = QAbstractListModel::roleNames();
        names.insert(JobRole, "job"_ba);
        names.insert(NegativePromptRole, "negativePrompt"_ba);
        names.insert(SeedRole, "seed"_ba);
        names.insert(ItemIdRole, "itemId"_ba);
        return names;
    }
} // namespace Atelier
