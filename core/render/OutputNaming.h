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
    /// Whether a whole PNG is at @p path: a regular file (not a symlink) that starts with the PNG signature and ends
    /// with the IEND chunk. A worker writes images whole (temporary file, fsync, link), so this tells a committed
    /// image from a missing one without decoding it.
    bool isCompleteImage(const QString& path);
    /// Removes the temporary files (`.NAME.PID.XXXXXX.part`) that workers which no longer run left in @p directory
    /// when they were killed while writing. Returns how many it removed.
    int removeStaleTemporaryImages(const QString& directory);
    /// The temporary name a worker (this process) writes @p path's image under before committing it: hidden, in
    /// the same folder, with the pid, so that removeStaleTemporaryImages() can tell whose it is.
    QString temporaryImageTemplate(const QString& path);
} // namespace Atelier
