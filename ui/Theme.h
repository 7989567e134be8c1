// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QPalette>

#include "AppSettings.h"

namespace Atelier
{
    /// Gives the whole application @p theme at once; every window repaints. Theme::System is the style and palette
    /// the application had at the first call (remembered then, so call this once the QApplication exists, before
    /// changing its look elsewhere); Light and Dark are the Fusion style with themePalette(). Can be called again at
    /// any time, any number of times. Qt 6.4 cannot ask the platform for its light or dark scheme
    /// (QStyleHints::setColorScheme() came in 6.8), hence the palettes of our own.
    void applyTheme(Theme theme);

    /// The palette applyTheme() gives with @p theme: Fusion's light colours, or a dark palette with the same
    /// contrast; for Theme::System, the palette the application started with.
    QPalette themePalette(Theme theme);
} // namespace Atelier
