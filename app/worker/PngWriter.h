// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QList>
#include <QPair>
#include <QString>

#include <cstdint>

namespace Atelier
{
    /// Writes an 8-bit RGB PNG atomically (a temporary file in the same folder, renamed over @p path once
    /// complete), so a reader never sees half an image and a crash leaves no partial file. @p rgb holds
    /// height × width × 3 bytes, row-major. Each pair in @p textChunks becomes a PNG tEXt/iTXt chunk.
    /// Returns an empty string on success, else a sentence naming the file and the problem.
    QString writeRgbPng(const QString& path, const std::uint8_t* rgb, int width, int height,
                        const QList<QPair<QString, QString>>& textChunks = {});
} // namespace Atelier
