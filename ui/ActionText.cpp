// SPDX-License-Identifier: GPL-3.0-or-later
#include "ActionText.h"

#include <QAction>

using namespace Qt::StringLiterals;

namespace Atelier
{
    QString withShortcut(const QString& text, const QAction* action)
    {
        return action->shortcut().isEmpty()
            ? text
            : u"%1 (%2)"_s.arg(text, action->shortcut().toString(QKeySequence::NativeText));
    }
} // namespace Atelier
