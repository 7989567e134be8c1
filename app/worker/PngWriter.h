// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QList>
#include <QPair>
#include <QString>

#include <cstdint>

namespace Atelier
{
    /// Writes an 8-bit RGB PNG without ever replacing anything: the image goes to a temporary file in the same
    /// folder, is flushed to disk, and is then linked to @p path, which fails if anything (a file, a symlink) is
    /// there already; so a reader never sees half an image, a crash leaves no partial file under the name, and a
    /// symlink planted at the name is not followed. @p rgb holds height × width × 3 bytes, row-major. Each pair in
    /// @p textChunks becomes a PNG tEXt/iTXt chunk. Returns an empty string on success, else a sentence naming the
    /// file and the problem; @p nameTaken (when given) tells whether the problem was that @p path exists.
    QString writeRgbPng(const QString& path, const std::uint8_t* rgb, int width, int height,
                        const QList<QPair<QString, QString>>& textChunks = {}, bool* nameTaken = nullptr);
} // namespace Atelier
