// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QAbstractListModel>
#include <QList>

#include "queue/QueueStore.h"
#include "render/RenderSettings.h"

namespace Atelier
{
    /// The items of one durable queue (see QueueStore) that wait to be rendered, in order, as a list model for
    /// views. Every change goes to the store first and shows here once it is committed, so what the view shows is
    /// what a crash keeps.
    ///
    /// Qt::DisplayRole is the prompt text; JobRole gives the whole RenderSettings, ItemIdRole the store's id.
    class PromptQueue final : public QAbstractListModel
    {
        Q_OBJECT
        Q_DISABLE_COPY_MOVE(PromptQueue)

    public:
        enum Role
        {
            JobRole = Qt::UserRole + 1,
            NegativePromptRole,
            SeedRole,
            ItemIdRole
        };

        /// The queue @p name of @p store (which must be open and outlive this model).
        PromptQueue(QueueStore* store, QString name = QueueStore::windowQueue(), QObject* parent = nullptr);

        /// Appends a job. Prompts that are empty after trimming are refused (returns false): they would render
        /// nothing the artist asked for. False too when the store cannot be written (storeFailed() says why).
        bool enqueue(const RenderSettings& job);
        /// Appends many at once, in one transaction; blank prompts are skipped. Returns how many were queued.
        qsizetype enqueue(const QList<RenderSettings>& jobs);
        /// Puts @p jobs at the front, in their order. Blank prompts are skipped, as in enqueue().
        void prepend(const QList<RenderSettings>& jobs);
        /// Claims the first waiting item for this process (it leaves the list: it is running); std::nullopt when
        /// none waits. Another process on the same store never gets the same item.
        std::optional<QueueItem> claim();
        /// Removes the items at the given rows (any order, duplicates ignored).
        void removeAt(QList<int> rows);
        void clear();
        /// Reads the queue again from the store (another process, or a recovery, changed it).
        void reload();

        qsizetype size() const;
        /// Every waiting job, in order.
        QList<RenderSettings> jobs() const;
        bool isEmpty() const;
        RenderSettings at(qsizetype row) const;
        QueueStore* store() const { return m_store; }
        const QString& name() const { return m_name; }

        int rowCount(const QModelIndex& parent = {}) const override;
        QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
        QHash<int, QByteArray> roleNames() const override;

    signals:
        /// Emitted after any change of the number of waiting jobs.
        void sizeChanged(qsizetype size);
        /// The store could not be read or written; @p reason names the file. What the view shows is unchanged.
        void storeFailed(const QString& reason);

    private:
        QueueStore* m_store;
        QString m_name;
        QList<QueueItem> m_items;
    };
} // namespace Atelier
