// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QByteArray>
#include <QHash>
#include <QString>

class QIODevice;

namespace Atelier
{
    /// Bounds on what readPngText() accepts, so that a hostile file costs little memory and time.
    namespace PngTextLimits
    {
        /// The largest chunk before the image data; real text chunks are a few KiB, an ICC profile well under 1 MiB.
        inline constexpr qint64 MaxChunkBytes = 16 * 1024 * 1024;
        /// Chunks before the first IDAT; real images have a handful.
        inline constexpr int MaxChunks = 1000;
        /// A compressed text, once inflated: a zlib stream can inflate a thousandfold, so this is checked as it grows.
        inline constexpr qsizetype MaxTextBytes = 16 * 1024 * 1024;
    } // namespace PngTextLimits

    /// The text chunks of a PNG and the size its header gives.
    struct PngText
    {
        /// Keyword → text, from tEXt (Latin-1), zTXt (Latin-1, compressed) and iTXt (UTF-8, compressed or not)
        /// chunks before the image data. A keyword that appears twice keeps its first text.
        QHash<QString, QString> text;
        int width = 0; ///< from IHDR
        int height = 0;
        /// Empty when the file was read; otherwise why not, naming the file. Text read before the problem is kept.
        QString error;

        bool ok() const { return error.isEmpty(); }
    };

    /// Reads the text chunks of the PNG at @p path without decoding any pixel: the signature, IHDR, and every chunk
    /// up to the first IDAT (text after the image data is not read; Atelier, AUTOMATIC1111 and Qt write theirs
    /// before). CRCs of the chunks it reads are checked, other chunks are skipped unread. Never throws; a file that
    /// breaks PngTextLimits, is truncated or is not a PNG gives an error.
    PngText readPngText(const QString& path);
    /// The same for a PNG held in @p bytes; @p name is what errors call it.
    PngText readPngText(const QByteArray& bytes, const QString& name);
    /// The same for a PNG read from @p device (open, at the signature); @p name is what errors call it.
    PngText readPngText(QIODevice& device, const QString& name);
} // namespace Atelier
