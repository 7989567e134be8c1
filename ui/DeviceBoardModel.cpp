// SPDX-License-Identifier: GPL-3.0-or-later
#include "DeviceBoardModel.h"

#include <cmath>

using namespace Qt::StringLiterals;

namespace Atelier
{
    DeviceBoardModel::DeviceBoardModel(QObject* parent)
        : QAbstractTableModel(parent)
    { }

    void DeviceBoardModel::addDevice(const QString& id, const QString& description, bool use)
    {
        if (const int row = rowOfDevice(id); row >= 0) {
            m_rows[row].description = description;
            changed(row);
            return;
        }
        const int row = static_cast<int>(m_rows.size());
        beginInsertRows({}, row, row);
        Row added;
        added.id = id;
        added.description = description;
        added.use = use;
        m_rows.append(added);
        endInsertRows();
    }

    QStringList DeviceBoardModel::devicesInUse() const
    {
        QStringList ids;
        for (const Row& row : m_rows) {
            if (row.use) {
                ids.append(row.id);
            }
        }
        return ids;
    }

    int DeviceBoardModel::rowOfDevice(const QString& id) const
    {
        for (int row = 0; row < m_rows.size(); ++row) {
            if (m_rows.at(row).id == id) {
                return row;
            }
        }
        return -1;
    }

    QString DeviceBoardModel::workerDevice(const QString& id)
    {
        return id.section(u'#', 0, 0);
    }

    int DeviceBoardModel::rankOfDevice(const QString& id) const
    {
        const int row = rowOfDevice(id);
        return row >= 0 ? m_rows.at(row).rank : -1;
    }

    int DeviceBoardModel::rowOfRank(int rank) const
    {
        for (int row = 0; row < m_rows.size(); ++row) {
            if (rank >= 0 && m_rows.at(row).rank == rank) {
                return row;
            }
        }
        return -1;
    }

    void DeviceBoardModel::setUse(const QString& id, bool use)
    {
        const int row = rowOfDevice(id);
        if (row < 0 || m_rows.at(row).use == use) {
            return;
        }
        m_rows[row].use = use;
        changed(row);
        emit useChanged(id, use);
    }

    void DeviceBoardModel::runStarted(const QHash<QString, int>& ranks)
    {
        for (int row = 0; row < m_rows.size(); ++row) {
            Row& r = m_rows[row];
            const std::optional<WorkerState> noState;
            r = Row{r.id, r.description, r.use, ranks.value(r.id, -1), noState, {}, -1, {}, 0, 0, 0, 0, 0, 0};
            changed(row);
        }
    }

    void DeviceBoardModel::setRank(const QString& id, int rank)
    {
        if (const int row = rowOfDevice(id); row >= 0) {
            m_rows[row].rank = rank;
            changed(row);
        }
    }

    void DeviceBoardModel::runFinished()
    {
        for (int row = 0; row < m_rows.size(); ++row) {
            Row& r = m_rows[row];
            r.rank = -1;
            r.state.reset();
            r.itemId = -1;
            r.item.clear();
            r.step = r.total = 0;
            r.iterationsPerSecond = 0;
            changed(row);
        }
    }

    void DeviceBoardModel::workerState(int rank, WorkerState state, const QString& note)
    {
        const int row = rowOfRank(rank);
        if (row < 0) {
            return;
        }
        Row& r = m_rows[row];
        r.state = state;
        if (!note.isEmpty()) {
            r.note = note;
        }
        if (state != WorkerState::Busy) {
            r.itemId = -1;
            r.item.clear();
            r.step = r.total = 0;
        }
        changed(row);
    }

    void DeviceBoardModel::jobStarted(int rank, qint64 itemId, const QString& prompt, int steps)
    {
        const int row = rowOfRank(rank);
        if (row < 0) {
            return;
        }
        Row& r = m_rows[row];
        r.state = WorkerState::Busy;
        r.note.clear();
        r.itemId = itemId;
        r.item = prompt.simplified();
        r.step = 0;
        r.total = steps;
        changed(row);
    }

    void DeviceBoardModel::jobProgress(int rank, int step, int total, double iterationsPerSecond)
    {
        const int row = rowOfRank(rank);
        if (row < 0) {
            return;
        }
        Row& r = m_rows[row];
        r.step = step;
        r.total = total;
        if (iterationsPerSecond > 0) {
            r.iterationsPerSecond = iterationsPerSecond;
        }
        changed(row);
    }

    void DeviceBoardModel::jobEnded(int rank, bool made)
    {
        const int row = rowOfRank(rank);
        if (row < 0) {
            return;
        }
        Row& r = m_rows[row];
        r.imagesMade += made ? 1 : 0;
        r.itemId = -1;
        r.item.clear();
        r.step = r.total = 0;
        changed(row);
    }

    void DeviceBoardModel::memory(int rank, qint64 used, qint64 total)
    {
        const int row = rowOfRank(rank);
        if (row < 0) {
            return;
        }
        m_rows[row].memoryUsed = used;
        m_rows[row].memoryTotal = total;
        changed(row);
    }

    double DeviceBoardModel::totalIterationsPerSecond() const
    {
        double total = 0;
        for (const Row& r : m_rows) {
            const bool working = r.state && *r.state != WorkerState::Disabled && *r.state != WorkerState::Exited;
            total += working ? r.iterationsPerSecond : 0;
        }
        return total;
    }

    qint64 DeviceBoardModel::stepsLeftRunning() const
    {
        qint64 steps = 0;
        for (const Row& r : m_rows) {
            steps += r.itemId >= 0 ? std::max(0, r.total - r.step) : 0;
        }
        return steps;
    }

    int DeviceBoardModel::imagesMade() const
    {
        int made = 0;
        for (const Row& r : m_rows) {
            made += r.imagesMade;
        }
        return made;
    }

    void DeviceBoardModel::changed(int row)
    {
        emit dataChanged(index(row, 0), index(row, ColumnCount - 1));
    }

    int DeviceBoardModel::rowCount(const QModelIndex& parent) const
    {
        return parent.isValid() ? 0 : static_cast<int>(m_rows.size());
    }

    int DeviceBoardModel::columnCount(const QModelIndex& parent) const
    {
        return parent.isValid() ? 0 : ColumnCount;
    }

    QString DeviceBoardModel::bytesText(qint64 bytes)
    {
        constexpr double MiB = 1024.0 * 1024.0;
        const double mib = double(bytes) / MiB;
        return mib >= 1024 ? tr("%1 GiB").arg(mib / 1024, 0, 'f', 1) : tr("%1 MiB").arg(std::lround(mib));
    }

    QString DeviceBoardModel::durationText(double seconds)
    {
        const qint64 s = std::llround(std::max(0.0, seconds));
        if (s >= 3600) {
            return tr("%1 h %2 min").arg(s / 3600).arg((s % 3600) / 60, 2, 10, QChar(u'0'));
        }
        if (s >= 60) {
            return tr("%1 min %2 s").arg(s / 60).arg(s % 60, 2, 10, QChar(u'0'));
        }
        return tr("%1 s").arg(s);
    }

    QString DeviceBoardModel::stateText(const Row& r) const
    {
        if (!r.state) {
            return r.use ? tr("ready to start") : tr("not used");
        }
        switch (*r.state) {
        case WorkerState::Starting:
            return tr("starting");
        case WorkerState::Loading:
            return tr("loading the model");
        case WorkerState::Idle:
            return tr("idle");
        case WorkerState::Busy:
            return tr("rendering");
        case WorkerState::Stopping:
        case WorkerState::Killed:
            return tr("stopping");
        case WorkerState::Backoff:
            return tr("restarting: %1").arg(r.note);
        case WorkerState::Disabled:
            return tr("disabled: %1").arg(r.note);
        case WorkerState::Exited:
            return tr("off");
        }
        return {};
    }

    QVariant DeviceBoardModel::data(const QModelIndex& index, int role) const
    {
        if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid)) {
            return {};
        }
        const Row& r = m_rows.at(index.row());
        const bool rendering = r.itemId >= 0 && r.total > 0;
        switch (role) {
        case Qt::DisplayRole:
            switch (index.column()) {
            case DeviceColumn:
                return r.description.isEmpty() ? r.id : u"%1 — %2"_s.arg(r.id, r.description);
            case StateColumn:
                return stateText(r);
            case ItemColumn:
                return r.item;
            case ProgressColumn:
                return rendering ? u"%1/%2"_s.arg(r.step).arg(r.total) : QString();
            case SpeedColumn:
                return r.iterationsPerSecond > 0 ? tr("%1 it/s").arg(r.iterationsPerSecond, 0, 'f', 2) : QString();
            case MemoryColumn:
                return r.memoryTotal > 0 ? u"%1 / %2"_s.arg(bytesText(r.memoryUsed), bytesText(r.memoryTotal))
                                         : (r.memoryUsed > 0 ? bytesText(r.memoryUsed) : QString());
            case ImagesColumn:
                return r.state ? QVariant(r.imagesMade) : QVariant();
            case EtaColumn:
                return rendering && r.iterationsPerSecond > 0 ? durationText((r.total - r.step) / r.iterationsPerSecond)
                                                              : QString();
            default:
                return {};
            }
        case Qt::CheckStateRole:
            return index.column() == DeviceColumn ? QVariant(r.use ? Qt::Checked : Qt::Unchecked) : QVariant();
        case Qt::ToolTipRole:
            return index.column() == StateColumn ? stateText(r) : data(index, Qt::DisplayRole);
        case DeviceIdRole:
            return r.id;
        case ProgressRole:
            return rendering ? double(r.step) / r.total : -1.0;
        case ErrorRole:
            return r.state && (*r.state == WorkerState::Disabled || *r.state == WorkerState::Backoff) ? r.note
                                                                                                      : QString();
        default:
            return {};
        }
    }

    bool DeviceBoardModel::setData(const QModelIndex& index, const QVariant& value, int role)
    {
        if (!checkIndex(index, CheckIndexOption::IndexIsValid) || index.column() != DeviceColumn
            || role != Qt::CheckStateRole) {
            return false;
        }
        setUse(m_rows.at(index.row()).id, value.value<Qt::CheckState>() == Qt::Checked);
        return true;
    }

    QVariant DeviceBoardModel::headerData(int section, Qt::Orientation orientation, int role) const
    {
        if (orientation != Qt::Horizontal || role != Qt::DisplayRole) {
            return QAbstractTableModel::headerData(section, orientation, role);
        }
        switch (section) {
        case DeviceColumn:
            return tr("Device");
        case StateColumn:
            return tr("State");
        case ItemColumn:
            return tr("Rendering");
        case ProgressColumn:
            return tr("Step");
        case SpeedColumn:
            return tr("Speed");
        case MemoryColumn:
            return tr("Memory");
        case ImagesColumn:
            return tr("Images");
        case EtaColumn:
            return tr("Left");
        default:
            return {};
        }
    }

    Qt::ItemFlags DeviceBoardModel::flags(const QModelIndex& index) const
    {
        Qt::ItemFlags flags = QAbstractTableModel::flags(index);
        if (index.isValid() && index.column() == DeviceColumn) {
            flags |= Qt::ItemIsUserCheckable;
        }
        return flags;
    }
} // namespace Atelier
