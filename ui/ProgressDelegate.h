// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QStyledItemDelegate>

namespace Atelier
{
    /// Paints a cell as a progress bar, with the cell's text on it, while the model's @p progressRole holds a
    /// value from 0 to 1; as a plain cell otherwise.
    class ProgressDelegate final : public QStyledItemDelegate
    {
        Q_OBJECT

    public:
        ProgressDelegate(int progressRole, QObject* parent = nullptr);
        void paint(QPainter* painter, const QStyleOptionViewItem& option, const QModelIndex& index) const override;

    private:
        int m_progressRole;
    };
} // namespace Atelier
