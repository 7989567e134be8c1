// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QAbstractTableModel>
#include <QHash>
#include <QList>

#include <optional>

#include "queue/QueueStore.h"
#include "render/RenderSettings.h"

namespace Atelier
{
    /// What a running item is doing now: known to the process that renders it, never stored.
    struct LiveProgress
    {
        QString device; ///< "cuda:0", "cpu"
        int step = 0;
        int total = 0;
        double iterationsPerSecond = 0;
        QString note; ///< e.g. why the last attempt failed while a retry waits
        int previewWidth = 0;
        int previewHeight = 0;
        QByteArray previewRgb; ///< previewWidth × previewHeight × 3 bytes, or empty
    };

    /// Every item of one durable queue (see QueueStore), whatever its state, as a table for the window: running
    /// items first, then those that wait in the order they will run, then the finished ones, newest first. Every
    /// change is written to the store first and shows here once it is committed, so the table is what a crash
    /// keeps. Rows are updated in place (inserted, removed, moved, changed), so views keep their selection.
    ///
    /// Waiting items can be reordered (also by drag and drop: the mime type carries item ids), edited, duplicated
    /// and removed; failed and canceled ones retried. The coordinator claims from it and reports through it.
    class QueueModel : public QAbstractTableModel
    {
        Q_OBJECT
        Q_DISABLE_COPY_MOVE(QueueModel)

    public:
        enum Column
        {
            PromptColumn,
            SettingsColumn,
            StateColumn,
            AttemptsColumn,
            ColumnCount
        };
        enum Role
        {
            ItemIdRole = Qt::UserRole + 1,
            SettingsRole, ///< RenderSettings, as queued (the seed once drawn)
            StateRole, ///< ItemState, as int
            ProgressRole, ///< 0…1 while running with a known step count, else -1
            DeviceRole, ///< where it runs or last ran
            ImagePathRole,
            LastErrorRole
        };

        /// The queue @p name of @p store (which must be open and outlive this model).
        explicit QueueModel(QueueStore* store, QString name = QueueStore::windowQueue(), QObject* parent = nullptr);

        /// Adds items at the end (or first, in their order). Blank prompts are skipped: they would render nothing
        /// the artist asked for. Returns the new ids (empty on failure: storeFailed() says why).
        QList<qint64> add(const QList<RenderSettings>& items, bool atFront = false);
        /// Replaces a waiting item's settings; false (and storeFailed()) when it started meanwhile or the prompt is
        /// blank.
        bool update(qint64 id, const RenderSettings& settings);
        /// Copies each item (its settings, seed included) to just after it, waiting. Returns the new ids.
        QList<qint64> duplicate(const QList<qint64>& ids);
        /// Removes waiting and finished items; running ones stay (cancel them first).
        bool remove(const QList<qint64>& ids);
        /// Removes every finished item.
        bool removeFinished();
        /// Moves waiting items, in their current order, to the front of what waits, or to its end.
        bool moveToTop(const QList<qint64>& ids);
        bool moveToBottom(const QList<qint64>& ids);
        /// Moves waiting items, in their current order, to just before the waiting item @p beforeId (-1: the end).
        bool moveBefore(const QList<qint64>& ids, qint64 beforeId);
        /// Failed and canceled items wait again, attempts reset.
        bool retry(const QList<qint64>& ids);

        /// The coordinator's side: claims the first waiting item for this process (nothing while none waits).
        std::optional<QueueItem> claim();
        bool recordDispatch(qint64 id, quint64 seed, const QString& imagePath, int attempts, const QString& device);
        bool markDone(qint64 id, const QString& imagePath);
        bool markFailed(qint64 id, const QString& error, bool final);
        /// A running item goes back first in line (a stop).
        bool release(qint64 id, const QString& reason);
        /// A waiting or running item is not wanted any more.
        bool cancel(const QList<qint64>& ids, const QString& reason);
        /// What a running item is doing now; cleared when it leaves Running.
        void setLive(qint64 id, const LiveProgress& live);
        const LiveProgress* live(qint64 id) const;

        /// Reads the queue again from the store (another process, or a recovery, changed it).
        void refresh();

        QueueStore* store() const { return m_store; }
        const QString& name() const { return m_name; }
        /// Items waiting to run.
        qsizetype waitingCount() const { return m_waiting; }
        qsizetype countIn(ItemState state) const;
        const QueueItem& itemAt(int row) const { return m_items.at(row); }
        /// The row of item @p id, or -1.
        int rowOf(qint64 id) const;
        /// The item @p id as this model last read it.
        std::optional<QueueItem> item(qint64 id) const;

        int rowCount(const QModelIndex& parent = {}) const override;
        int columnCount(const QModelIndex& parent = {}) const override;
        QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
        QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;
        Qt::ItemFlags flags(const QModelIndex& index) const override;
        Qt::DropActions supportedDropActions() const override;
        QStringList mimeTypes() const override;
        QMimeData* mimeData(const QModelIndexList& indexes) const override;
        bool canDropMimeData(const QMimeData* data, Qt::DropAction action, int row, int column,
                             const QModelIndex& parent) const override;
        bool dropMimeData(const QMimeData* data, Qt::DropAction action, int row, int column,
                          const QModelIndex& parent) override;

        /// The settings column's text for @p settings: "512×512 · steps 20 · CFG 7.5 · Euler a · seed 42".
        static QString settingsSummary(const RenderSettings& settings);

    signals:
        /// The number of waiting items changed.
        void waitingChanged(qsizetype waiting);
        /// The store could not be read or written; @p reason names the file. The table is unchanged.
        void storeFailed(const QString& reason);

    private:
        /// Runs a store change, then shows it; reports a failure.
        bool change(bool written);
        /// The ids among @p ids that wait, in table order.
        QList<qint64> waitingInOrder(const QList<qint64>& ids) const;
        QString stateText(const QueueItem& item) const;

        QueueStore* m_store;
        QString m_name;
        QList<QueueItem> m_items;
        QHash<qint64, LiveProgress> m_live;
        qsizetype m_waiting = 0;
    };
} // namespace Atelier
