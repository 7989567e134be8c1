// SPDX-License-Identifier: GPL-3.0-or-later
#include "PngText.h"

#include <QBuffer>
#include <QFile>
#include <QFileInfo>

#include <optional>

#include <zlib.h>

using namespace Qt::StringLiterals;

namespace Atelier
{
    namespace
    {
        constexpr char Signature[] = "\x89PNG\r\n\x1a\n";
        constexpr qint64 SignatureBytes = 8;
        constexpr qint64 MaxKeywordBytes = 79; // the PNG specification's limit

        quint32 bigEndian32(const char* bytes)
        {
            const auto* b = reinterpret_cast<const uchar*>(bytes);
            return (quint32(b[0]) << 24) | (quint32(b[1]) << 16) | (quint32(b[2]) << 8) | quint32(b[3]);
        }

        bool isChunkType(const QByteArray& type)
        {
            for (const char c : type) {
                if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'))) {
                    return false;
                }
            }
            return true;
        }

        /// Inflates the zlib stream @p compressed, growing the output only as far as PngTextLimits::MaxTextBytes.
        std::optional<QByteArray> inflateBounded(QByteArrayView compressed)
        {
            z_stream stream{};
            if (inflateInit(&stream) != Z_OK) {
                return std::nullopt;
            }
            stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(compressed.data()));
            stream.avail_in = static_cast<uInt>(compressed.size()); // a chunk is far below 4 GiB
            QByteArray out;
            char buffer[16 * 1024];
            int status = Z_OK;
            while (status == Z_OK) {
                stream.next_out = reinterpret_cast<Bytef*>(buffer);
                stream.avail_out = sizeof buffer;
                status = inflate(&stream, Z_NO_FLUSH);
                if (status != Z_OK && status != Z_STREAM_END) {
                    break; // corrupt, or the input ended before the stream did (Z_BUF_ERROR)
                }
                out.append(buffer, static_cast<qsizetype>(sizeof buffer - stream.avail_out));
                if (out.size() > PngTextLimits::MaxTextBytes) {
                    status = Z_MEM_ERROR;
                }
            }
            inflateEnd(&stream);
            if (status != Z_STREAM_END) {
                return std::nullopt;
            }
            return out;
        }

        /// Splits @p data at its first NUL: the part before (a keyword, 1 to 79 bytes) and where the rest starts.
        std::optional<std::pair<QString, qsizetype>> keywordOf(const QByteArray& data)
        {
            const qsizetype end = data.indexOf('\0');
            if (end < 1 || end > MaxKeywordBytes) {
                return std::nullopt;
            }
            return std::pair{QString::fromLatin1(data.first(end)), end + 1};
        }

        /// The keyword and text of a tEXt, zTXt or iTXt chunk; nothing for a malformed one, which is skipped as any
        /// PNG decoder skips a broken ancillary chunk.
        std::optional<std::pair<QString, QString>> textOf(const QByteArray& type, const QByteArray& data)
        {
            const auto keyword = keywordOf(data);
            if (!keyword) {
                return std::nullopt;
            }
            const auto& [key, rest] = *keyword;
            if (type == "tEXt") {
                return std::pair{key, QString::fromLatin1(data.sliced(rest))};
            }
            if (type == "zTXt") {
                if (rest >= data.size() || data.at(rest) != 0) { // 0 is the only compression method
                    return std::nullopt;
                }
                const auto text = inflateBounded(QByteArrayView(data).sliced(rest + 1));
                return text ? std::optional{std::pair{key, QString::fromLatin1(*text)}} : std::nullopt;
            }
            // iTXt: flag, method, language tag\0, translated keyword\0, text.
            if (rest + 2 > data.size()) {
                return std::nullopt;
            }
            const char compressed = data.at(rest);
            const char method = data.at(rest + 1);
            const qsizetype languageEnd = data.indexOf('\0', rest + 2);
            const qsizetype translatedEnd = languageEnd < 0 ? -1 : data.indexOf('\0', languageEnd + 1);
            if (translatedEnd < 0 || (compressed != 0 && compressed != 1)) {
                return std::nullopt;
            }
            const QByteArrayView body = QByteArrayView(data).sliced(translatedEnd + 1);
            if (compressed == 0) {
                return std::pair{key, QString::fromUtf8(body)};
            }
            if (method != 0) {
                return std::nullopt;
            }
            const auto text = inflateBounded(body);
            return text ? std::optional{std::pair{key, QString::fromUtf8(*text)}} : std::nullopt;
        }
    } // namespace

    PngText readPngText(QIODevice& device, const QString& name)
    {
        PngText result;
        auto fail = [&](const QString& why) {
            result.error = u"%1: %2"_s.arg(name, why);
            return result;
        };
        const QByteArray signature = device.read(SignatureBytes);
        if (signature != QByteArrayView(Signature, SignatureBytes)) {
            return fail(signature.size() < SignatureBytes ? u"too short for a PNG"_s : u"not a PNG"_s);
        }
        const qint64 fileSize = device.isSequential() ? -1 : device.size();
        for (int chunks = 0;; ++chunks) {
            if (chunks >= PngTextLimits::MaxChunks) {
                return fail(u"more than %1 chunks before the image data"_s.arg(PngTextLimits::MaxChunks));
            }
            const QByteArray header = device.read(8);
            if (header.size() < 8) {
                return fail(u"truncated before the image data"_s);
            }
            const quint32 length = bigEndian32(header.constData());
            const QByteArray type = header.sliced(4);
            if (!isChunkType(type)) {
                return fail(u"a damaged chunk (not a chunk type) at byte %1"_s.arg(device.pos() - 8));
            }
            if (type == "IDAT" || type == "IEND") {
                break;
            }
            if (chunks == 0 && (type != "IHDR" || length != 13)) {
                return fail(u"the first chunk is not a PNG header (IHDR)"_s);
            }
            if (length > PngTextLimits::MaxChunkBytes) {
                return fail(u"the %1 chunk of %2 bytes is over the limit of %3"_s.arg(QString::fromLatin1(type))
                                .arg(length)
                                .arg(PngTextLimits::MaxChunkBytes));
            }
            if (fileSize >= 0 && device.pos() + length + 4 > fileSize) {
                return fail(u"truncated in its %1 chunk"_s.arg(QString::fromLatin1(type)));
            }
            const bool wanted = type == "IHDR" || type == "tEXt" || type == "zTXt" || type == "iTXt";
            if (!wanted) {
                if (device.skip(qint64(length) + 4) != qint64(length) + 4) {
                    return fail(u"truncated in its %1 chunk"_s.arg(QString::fromLatin1(type)));
                }
                continue;
            }
            const QByteArray data = device.read(length);
            const QByteArray crc = device.read(4);
            if (data.size() != qsizetype(length) || crc.size() != 4) {
                return fail(u"truncated in its %1 chunk"_s.arg(QString::fromLatin1(type)));
            }
            uLong computed = crc32(0L, reinterpret_cast<const Bytef*>(type.constData()), 4);
            computed = crc32(computed, reinterpret_cast<const Bytef*>(data.constData()), length);
            const bool intact = computed == bigEndian32(crc.constData());
            if (type == "IHDR") {
                if (!intact) {
                    return fail(u"its header (IHDR) is damaged (CRC mismatch)"_s);
                }
                const quint32 width = bigEndian32(data.constData());
                const quint32 height = bigEndian32(data.constData() + 4);
                if (width == 0 || height == 0 || width > 0x7fffffffU || height > 0x7fffffffU) {
                    return fail(u"its header gives an impossible size, %1×%2"_s.arg(width).arg(height));
                }
                result.width = static_cast<int>(width);
                result.height = static_cast<int>(height);
                continue;
            }
            if (!intact) {
                continue; // a damaged text chunk is dropped, as libpng drops damaged ancillary chunks
            }
            if (auto text = textOf(type, data); text && !result.text.contains(text->first)) {
                result.text.insert(text->first, text->second);
            }
        }
        if (result.width == 0) {
            return fail(u"no PNG header (IHDR) before the image data"_s);
        }
        return result;
    }

    PngText readPngText(const QString& path)
    {
        // Checked before opening: opening a FIFO would block, and a folder is not an image.
        if (const QFileInfo info(path); !info.isFile()) {
            PngText result;
            result.error = u"%1: %2"_s.arg(path, info.exists() ? u"not a regular file"_s : u"no such file"_s);
            return result;
        }
        QFile file(path);
        if (!file.open(QIODevice::ReadOnly)) {
            PngText result;
            result.error = u"%1: cannot read: %2"_s.arg(path, file.errorString());
            return result;
        }
        return readPngText(file, path);
    }

    PngText readPngText(const QByteArray& bytes, const QString& name)
    {
        QByteArray copy = bytes; // shared, not copied: QBuffer wants a non-const array
        QBuffer buffer(&copy);
        buffer.open(QIODevice::ReadOnly);
        return readPngText(buffer, name);
    }
} // namespace Atelier
