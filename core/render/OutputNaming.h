// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QString>

namespace Atelier
{
    /// `00012-<seed>-<words>.png` as AUTOMATIC1111 names its images: a running number of at least five digits, the
    /// seed, and the prompt's first words (lower case, accents folded, ASCII letters and digits joined by '-', at
    /// most 48 characters; "image" when nothing is left).
    QString imageFileName(qint64 number, quint64 seed, const QString& prompt);
    /// The number the next image in @p directory gets: one past the highest leading number of any file name of the
    /// form `<digits>-…` there (0 for an empty or missing folder), so a second run continues and never replaces.
    qint64 nextImageNumber(const QString& directory);
} // namespace Atelier
