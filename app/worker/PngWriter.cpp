// SPDX-License-Identifier: GPL-3.0-or-later
#include "PngWriter.h"

#include <QBuffer>
#include <QDir>
#include <QFileInfo>
#include <QImage>
#include <QTemporaryFile>

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

using namespace Qt::StringLiterals;

namespace Atelier
{
    namespace
    {
        mode_t currentUmask()
        {
            // umask() can only be read by setting it; done once, before any other thread of ours makes files.
            static const mode_t mask = [] {
                const mode_t old = ::umask(0022);
                ::umask(old);
                return old;
            }();
            return mask;
        }

        /// Writes @p bytes to a new file @p path (never an existing one, never through a symlink); 0 or errno.
        /// A failure removes what it created.
        int writeExclusively(const QByteArray& path, const QByteArray& bytes)
        {
            const int fd = ::open(path.constData(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0666);
            if (fd < 0) {
                return errno;
            }
            qsizetype written = 0;
            int error = 0;
            while (written < bytes.size() && error == 0) {
                const ssize_t n = ::write(fd, bytes.constData() + written, static_cast<size_t>(bytes.size() - written));
                if (n < 0 && errno != EINTR) {
                    error = errno;
                } else if (n > 0) {
                    written += n;
                }
            }
            if (error == 0 && ::fsync(fd) != 0) {
                error = errno;
            }
            if (::close(fd) != 0 && error == 0) {
                error = errno;
            }
            if (error != 0) {
                ::unlink(path.constData());
            }
            return error;
        }
    } // namespace

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
        // QTemporaryFile makes its files private; an image is as readable as any file the user makes.
        if (::fchmod(temporary.handle(), 0666 & ~currentUmask()) != 0 || ::fsync(temporary.handle()) != 0) {
            return u"%1: cannot write: %2"_s.arg(path, QString::fromLocal8Bit(std::strerror(errno)));
        }
        // link() fails with EEXIST whatever is at the name, and never follows a symlink there.
        const QByteArray encodedPath = QFile::encodeName(path);
        int error = 0;
        if (::link(QFile::encodeName(temporary.fileName()).constData(), encodedPath.constData()) != 0) {
            error = errno;
            if (error == EPERM || error == EOPNOTSUPP || error == ENOSYS) {
                // No hard links here (FAT, exFAT, some network shares): create the name exclusively and write it.
                error = writeExclusively(encodedPath, png);
            }
        }
        if (error == EEXIST && nameTaken) {
            *nameTaken = true;
        }
        if (error == EEXIST) {
            return u"%1: a file of that name exists; it is not replaced"_s.arg(path);
        }
        if (error != 0) {
            return u"%1: cannot write: %2"_s.arg(path, QString::fromLocal8Bit(std::strerror(error)));
        }
        return {}; // the temporary name is removed when `temporary` goes
    }
} // namespace Atelier
