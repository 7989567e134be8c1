// SPDX-License-Identifier: GPL-3.0-or-later
#include "PngWriter.h"

#include <QBuffer>
#include <QDir>
#include <QFileInfo>
#include <QImage>
#include <QTemporaryFile>

#include <cerrno>
#include <cstring>
#include <unistd.h>

using namespace Qt::StringLiterals;

namespace Atelier
{
    QString writeRgbPng(const QString& path, const std::uint8_t* rgb, int width, int height,
                        const QList<QPair<QString, QString>>& textChunks, bool* nameTaken)
    {
        if (nameTaken) {
            *nameTaken = false;
        }
        // QImage rows are padded to 4 bytes; copy row by row rather than trusting the stride.
        QImage image(width, height, QImage::Format_RGB888);
        for (int y = 0; y < height; ++y) {
            std::copy_n(rgb + static_cast<std::size_t>(y) * width * 3, static_cast<std::size_t>(width) * 3,
                        image.scanLine(y));
        }
        for (const auto& [key, value] : textChunks) {
            image.setText(key, value);
        }
        QByteArray png;
        QBuffer buffer(&png);
        buffer.open(QIODevice::WriteOnly);
        if (!image.save(&buffer, "PNG")) {
            return u"%1: PNG encoding failed"_s.arg(path);
        }
        const QFileInfo target(path);
        if (target.exists() || target.isSymLink()) {
            if (nameTaken) {
                *nameTaken = true;
            }
            return u"%1: a file of that name exists; it is not replaced"_s.arg(path);
        }
        // Hidden, in the same folder (so the link below stays on one file system), removed on every failure path.
        QTemporaryFile temporary(QDir(target.absolutePath()).filePath(u".%1.XXXXXX.part"_s.arg(target.fileName())));
        if (!temporary.open()) {
            return u"%1: cannot write: %2"_s.arg(path, temporary.errorString());
        }
        if (temporary.write(png) != png.size() || !temporary.flush()) {
            return u"%1: cannot write: %2"_s.arg(path, temporary.errorString());
        }
        if (::fsync(temporary.handle()) != 0) {
            return u"%1: cannot write: %2"_s.arg(path, QString::fromLocal8Bit(std::strerror(errno)));
        }
        // link() fails with EEXIST whatever is at the name, and never follows a symlink there.
        if (::link(QFile::encodeName(temporary.fileName()).constData(), QFile::encodeName(path).constData()) != 0) {
            const int error = errno;
            if (error == EEXIST && nameTaken) {
                *nameTaken = true;
            }
            return error == EEXIST ? u"%1: a file of that name exists; it is not replaced"_s.arg(path)
                                   : u"%1: cannot write: %2"_s.arg(path, QString::fromLocal8Bit(std::strerror(error)));
        }
        return {}; // the temporary name is removed when `temporary` goes
    }
} // namespace Atelier
