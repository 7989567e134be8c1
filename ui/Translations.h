// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QLocale>

namespace Atelier
{
    /// Installs Atelier's and Qt's translations for @p locale on the running application.
    /// Returns true when an Atelier translation for that locale exists and was installed; otherwise the English
    /// catalogue is installed (for its plural forms) and false is returned.
    bool installTranslations(const QLocale& locale);
} // namespace Atelier
