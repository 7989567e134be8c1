// SPDX-License-Identifier: GPL-3.0-or-later
#include "FileHashes.h"

#include <QCryptographicHash>
#include <QFile>
#include <QtEndian>

namespace Atelier::FileHashes
{
    namespace
    {
        /// The SHA-256 of @p file from its current position to its end, or empty on a read error.
        QByteArray sha256OfRest(QFile& file)
        {
            QCryptographicHash hash(QCryptographicHash::Sha256);
            QByteArray chunk(4 * 1024 * 1024, Qt::Uninitialized);
            for (;;) {
                const qint64 n = file.read(chunk.data(), chunk.size());
                if (n < 0) {
                    return {};
                }
                if (n == 0) {
                    break;
                }
                hash.addData(QByteArrayView(chunk.constData(), n));
            }
            return hash.result().toHex();
        }
    } // namespace

    QString modelHash(const QString& path)
    {
        QFile file(path);
        if (path.isEmpty() || !file.open(QIODevice::ReadOnly)) {
            return {};
        }
        return QString::fromLatin1(sha256OfRest(file).left(10));
    }

    QString embeddingHash(const QString& path)
    {
        QFile file(path);
        if (path.isEmpty() || !file.open(QIODevice::ReadOnly)) {
            return {};
        }
        return QString::fromLatin1(sha256OfRest(file).left(12));
    }

    QString loraHash(const QString& path)
    {
        QFile file(path);
        if (path.isEmpty() || !file.open(QIODevice::ReadOnly)) {
            return {};
        }
        // A safetensors file starts with the header's length, 8 bytes little-endian, then the header.
        const QByteArray length = file.read(8);
        if (length.size() != 8) {
            return {};
        }
        const quint64 headerBytes = qFromLittleEndian<quint64>(length.constData());
        if (headerBytes > static_cast<quint64>(file.size()) - 8 || !file.seek(static_cast<qint64>(8 + headerBytes))) {
            return {};
        }
        return QString::fromLatin1(sha256OfRest(file).left(12));
    }
} // namespace Atelier::FileHashes
