// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QAbstractListModel>
#include <QList>

#include "render/RenderSettings.h"

namespace Atelier
{
    /// The artist's queue of prompts waiting to be rendered, in order, as a list model for views.
    ///
    /// Qt::DisplayRole is the prompt text; JobRole gives the whole RenderSettings.
    class PromptQueue final : public QAbstractListModel
    {
        Q_OBJECT
        Q_DISABLE_COPY_MOVE(PromptQueue)

    public:
        enum Role
        {
            JobRole = Qt::UserRole + 1,
            NegativePromptRole,
            SeedRole
        };

        explicit PromptQueue(QObject* parent = nullptr);

        /// Appends a job. Prompts that are empty after trimming are refused (returns false): they would
        /// render nothing the artist asked for.
        bool enqueue(const RenderSettings& job);
        /// Puts @p jobs back at the front, in their order (jobs a stopped run did not finish go first again).
        /// Blank prompts are skipped, as in enqueue().
        void prepend(const QList<RenderSettings>& jobs);
        /// Removes and returns the first job; std::nullopt when the queue is empty.
        std::optional<RenderSettings> takeFirst();
        /// Removes the jobs at the given rows (any order, duplicates ignored).
        void removeRows(QList<int> rows);
        void clear();

        qsizetype size() const;
        /// Every queued job, in order.
        const QList<RenderSettings>& jobs() const { return m_jobs; }
        bool isEmpty() const;
        RenderSettings at(qsizetype row) const;

        int rowCount(const QModelIndex& parent = {}) const override;
        QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
        QHash<int, QByteArray> roleNames() const override;

    signals:
        /// Emitted after any change of the number of queued jobs.
        void sizeChanged(qsizetype size);

    private:
        QList<RenderSettings> m_jobs;
    };
} // namespace Atelier
