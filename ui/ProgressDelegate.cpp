// SPDX-License-Identifier: GPL-3.0-or-later
#include "ProgressDelegate.h"

#include <QApplication>
#include <QPainter>
#include <QStyleOptionProgressBar>

#include <cmath>

namespace Atelier
{
    ProgressDelegate::ProgressDelegate(int progressRole, QObject* parent)
        : QStyledItemDelegate(parent)
        , m_progressRole(progressRole)
    { }

    void ProgressDelegate::paint(QPainter* painter, const QStyleOptionViewItem& option, const QModelIndex& index) const
    {
        const double progress = index.data(m_progressRole).toDouble();
        if (!index.data(m_progressRole).isValid() || progress < 0) {
            QStyledItemDelegate::paint(painter, option, index);
            return;
        }
        QStyleOptionProgressBar bar;
        bar.rect = option.rect.adjusted(1, 1, -1, -1);
        bar.minimum = 0;
        bar.maximum = 1000;
        bar.progress = static_cast<int>(std::lround(std::clamp(progress, 0.0, 1.0) * 1000));
        bar.text = index.data(Qt::DisplayRole).toString();
        bar.textVisible = true;
        bar.textAlignment = Qt::AlignCenter;
        bar.state = option.state | QStyle::State_Horizontal;
        bar.palette = option.palette;
        bar.fontMetrics = option.fontMetrics;
        const QWidget* widget = option.widget;
        QStyle* style = widget ? widget->style() : QApplication::style();
        style->drawControl(QStyle::CE_ProgressBar, &bar, painter, widget);
    }
} // namespace Atelier
