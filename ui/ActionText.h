// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QString>

class QAction;

namespace Atelier
{
    /// A tooltip that names the action's shortcut, as every tooltip in Atelier does: "Queue this prompt
    /// (Ctrl+Return)"; @p text alone when the action has none.
    QString withShortcut(const QString& text, const QAction* action);
} // namespace Atelier
