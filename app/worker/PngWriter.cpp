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

#include "render/OutputNaming.h"

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

        /// Reads back what the file @p fd holds: its size and the bytes at both ends must be @p png's. Empty, or
        /// what is wrong.
        QString checkWritten(int fd, const QByteArray& png)
        {
            struct stat status
            {
            };
            if (::fstat(fd, &status) != 0) {
                return QString::fromLocal8Bit(std::strerror(errno));
            }
            if (status.st_size != png.size()) {
                return u"%1 of %2 bytes reached the disk"_s.arg(status.st_size).arg(png.size());
            }
            const qsizetype edge = std::min<qsizetype>(png.size(), 64);
            QByteArray head(edge, Qt::Uninitialized);
            QByteArray tail(edge, Qt::Uninitialized);
            if (::pread(fd, head.data(), edge, 0) != edge
                || ::pread(fd, tail.data(), edge, png.size() - edge) != edge) {
                return u"cannot read it back: %1"_s.arg(QString::fromLocal8Bit(std::strerror(errno)));
            }
            if (head != png.first(edge) || tail != png.last(edge)) {
                return u"the bytes on disk differ from those written"_s;
            }
            return {};
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
        QTemporaryFile temporary(temporaryImageTemplate(path));
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
        // Only what is on disk counts: a file system that accepted the writes but kept fewer bytes (a full disk
        // that some file systems report late, a quota) must fail the job, not commit a truncated image.
        if (const QString wrong = checkWritten(temporary.handle(), png); !wrong.isEmpty()) {
            return u"%1: cannot write: %2"_s.arg(path, wrong);
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
        // The new name is an entry of the folder: flushed too, so that a power cut cannot take back a reported image.
        if (const int dir
            = ::open(QFile::encodeName(target.absolutePath()).constData(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
            dir >= 0) {
            const bool synced = ::fsync(dir) == 0 || errno == EINVAL; // some file systems cannot sync a folder
            const int syncError = errno;
            ::close(dir);
            if (!synced) {
                return u"%1: cannot write: %2"_s.arg(path, QString::fromLocal8Bit(std::strerror(syncError)));
            }
        }
        return {}; // the temporary name is removed when `temporary` goes
    }
} // namespace Atelier
