// SPDX-License-Identifier: GPL-3.0-or-later
#include "PromptQueue.h"

#include <algorithm>

using namespace Qt::StringLiterals;

namespace Atelier
{
    PromptQueue::PromptQueue(QObject* parent)
        : QAbstractListModel(parent)
    { }

    bool PromptQueue::enqueue(const RenderSettings& job)
    {
        if (job.prompt.trimmed().isEmpty()) {
            return false;
        }
        const int row = static_cast<int>(m_jobs.size());
        beginInsertRows({}, row, row);
        m_jobs.append(job);
        endInsertRows();
        emit sizeChanged(m_jobs.size());
        return true;
    }

    void PromptQueue::prepend(const QList<RenderSettings>& jobs)
    {
        QList<RenderSettings> kept;
        std::copy_if(jobs.begin(), jobs.end(), std::back_inserter(kept),
                     [](const RenderSettings& job) { return !job.prompt.trimmed().isEmpty(); });
        if (kept.isEmpty()) {
            return;
        }
        beginInsertRows({}, 0, static_cast<int>(kept.size()) - 1);
        m_jobs = kept + m_jobs;
        endInsertRows();
        emit sizeChanged(m_jobs.size());
    }

    std::optional<RenderSettings> PromptQueue::takeFirst()
    {
        if (m_jobs.isEmpty()) {
            return std::nullopt;
        }
        beginRemoveRows({}, 0, 0);
        RenderSettings job = m_jobs.takeFirst();
        endRemoveRows();
        emit sizeChanged(m_jobs.size());
        return job;
    }

    void PromptQueue::removeRows(QList<int> rows)
    {
        std::sort(rows.begin(), rows.end(), std::greater<>());
        rows.erase(std::unique(rows.begin(), rows.end()), rows.end());
        bool removed = false;
        // Descending order keeps the remaining row numbers valid while we remove.
        for (const int row : std::as_const(rows)) {
            if (row < 0 || row >= m_jobs.size()) {
                continue;
            }
            beginRemoveRows({}, row, row);
            m_jobs.removeAt(row);
            endRemoveRows();
            removed = true;
        }
        if (removed) {
            emit sizeChanged(m_jobs.size());
        }
    }

    void PromptQueue::clear()
    {
        if (m_jobs.isEmpty()) {
            return;
        }
        beginResetModel();
        m_jobs.clear();
        endResetModel();
        emit sizeChanged(0);
    }

    qsizetype PromptQueue::size() const
    {
        return m_jobs.size();
    }

    bool PromptQueue::isEmpty() const
    {
        return m_jobs.isEmpty();
    }

    RenderSettings PromptQueue::at(qsizetype row) const
    {
        return m_jobs.at(row);
    }

    int PromptQueue::rowCount(const QModelIndex& parent) const
    {
        return parent.isValid() ? 0 : static_cast<int>(m_jobs.size());
    }

    QVariant PromptQueue::data(const QModelIndex& index, int role) const
    {
        if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid)) {
            return {};
        }
        const RenderSettings& job = m_jobs.at(index.row());
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
        return names;
    }
} // namespace Atelier
