// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QAbstractTableModel>
#include <QElapsedTimer>
#include <QList>

#include "orchestration/JobLedger.h"

namespace Atelier
{
    /// The device board: one row per device Atelier can render on, with a check box to use it, and while a run
    /// goes on what its worker does: state, the item it renders, step k/n, speed, memory, images made, the time
    /// its current image still needs, and the error that stopped it. The window feeds it from the coordinator's
    /// signals; it keeps no process of its own.
    class DeviceBoardModel final : public QAbstractTableModel
    {
        Q_OBJECT
        Q_DISABLE_COPY_MOVE(DeviceBoardModel)

    public:
        enum Column
        {
            DeviceColumn, ///< checkable: use it or not
            StateColumn,
            ItemColumn,
            ProgressColumn, ///< "k/n", with ProgressRole for a bar
            SpeedColumn,
            MemoryColumn,
            ImagesColumn,
            EtaColumn,
            ColumnCount
        };
        enum Role
        {
            DeviceIdRole = Qt::UserRole + 1,
            ProgressRole, ///< 0…1 while rendering, else -1
            ErrorRole
        };

        explicit DeviceBoardModel(QObject* parent = nullptr);

        /// Adds a device (or updates its description); @p use is its check box.
        void addDevice(const QString& id, const QString& description, bool use);
        /// The ids of the checked devices, in board order.
        QStringList devicesInUse() const;
        /// The device a row's worker runs on: its id, less a "#N" that tells extra workers on one device apart
        /// ("cpu#2" is a second CPU worker).
        static QString workerDevice(const QString& id);
        /// The rank of the worker of row @p id in this run, or -1.
        int rankOfDevice(const QString& id) const;
        QString deviceAt(int row) const { return m_rows.at(row).id; }
        int rowOfDevice(const QString& id) const;
        /// The row the worker of rank @p rank runs on, or -1.
        int rowOfRank(int rank) const;
        void setUse(const QString& id, bool use);

        /// A run starts: device row → its worker's rank; the counters start from zero.
        void runStarted(const QHash<QString, int>& ranks);
        /// A worker was added to the running run.
        void setRank(const QString& id, int rank);
        void runFinished();

        void workerState(int rank, WorkerState state, const QString& note);
        void jobStarted(int rank, qint64 itemId, const QString& prompt, int steps);
        void jobProgress(int rank, int step, int total, double iterationsPerSecond);
        void jobEnded(int rank, bool made);
        void memory(int rank, qint64 used, qint64 total);

        /// Steps per second of every device at work together (the sum of their measured speeds).
        double totalIterationsPerSecond() const;
        /// Steps the running images still need, on every device.
        qint64 stepsLeftRunning() const;
        int imagesMade() const;

        int rowCount(const QModelIndex& parent = {}) const override;
        int columnCount(const QModelIndex& parent = {}) const override;
        QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
        bool setData(const QModelIndex& index, const QVariant& value, int role = Qt::EditRole) override;
        QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;
        Qt::ItemFlags flags(const QModelIndex& index) const override;

        /// "1.2 GiB", "512 MiB".
        static QString bytesText(qint64 bytes);
        /// "2 min 05 s", "45 s", "1 h 02 min".
        static QString durationText(double seconds);

    signals:
        /// The artist checked or unchecked a device.
        void useChanged(const QString& id, bool use);

    private:
        struct Row
        {
            QString id;
            QString description;
            bool use = false;
            int rank = -1;
            std::optional<WorkerState> state;
            QString note; ///< why it is disabled or restarting
            qint64 itemId = -1;
            QString item;
            int step = 0;
            int total = 0;
            double iterationsPerSecond = 0;
            qint64 memoryUsed = 0;
            qint64 memoryTotal = 0;
            int imagesMade = 0;
        };

        void changed(int row);
        QString stateText(const Row& row) const;

        QList<Row> m_rows;
    };
} // namespace Atelier
