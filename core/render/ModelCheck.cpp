// SPDX-License-Identifier: GPL-3.0-or-later
#include "ModelCheck.h"

#include <QFileInfo>
#include <QTemporaryFile>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <system_error>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

using namespace Qt::StringLiterals;

namespace Atelier
{
    namespace
    {
        QString errnoText(int error)
        {
            return QString::fromLocal8Bit(std::strerror(error));
        }

        /// What a non-regular, non-folder file is, in words.
        QString kindOf(mode_t mode)
        {
            if (S_ISFIFO(mode)) {
                return u"a FIFO"_s;
            }
            if (S_ISCHR(mode)) {
                return u"a character device"_s;
            }
            if (S_ISBLK(mode)) {
                return u"a block device"_s;
            }
            if (S_ISSOCK(mode)) {
                return u"a socket"_s;
            }
            return u"not a regular file"_s;
        }

        bool statFollowing(const QString& path, struct stat* info)
        {
            return ::stat(QFile::encodeName(path).constData(), info) == 0;
        }

        QString checkFolder(const QString& path)
        {
            struct stat info = {};
            const bool hasIndex = statFollowing(path + u"/model_index.json"_s, &info) && S_ISREG(info.st_mode);
            const bool hasUnet = statFollowing(path + u"/unet"_s, &info) && S_ISDIR(info.st_mode);
            if (!hasIndex && !hasUnet) {
                return u"%1 is a folder without model_index.json or unet/, so not a diffusers model"_s.arg(path);
            }
            return {};
        }

        /// A safetensors file starts with the little-endian length of its JSON header, then the header's '{'. Reads
        /// those 9 bytes only: checkpoints are gigabytes.
        QString checkSafetensorsHeader(const QString& path)
        {
            // O_NONBLOCK: should the file have been swapped for a FIFO since stat(), open() must not wait for a writer.
            const int fd = ::open(QFile::encodeName(path).constData(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
            if (fd < 0) {
                return u"cannot open %1: %2"_s.arg(path, errnoText(errno));
            }
            struct stat info = {};
            unsigned char head[9] = {};
            ssize_t got = 0;
            QString problem;
            if (::fstat(fd, &info) != 0) {
                problem = u"cannot read %1: %2"_s.arg(path, errnoText(errno));
            } else if (!S_ISREG(info.st_mode)) {
                problem = u"%1 is %2, not a model file"_s.arg(path, kindOf(info.st_mode));
            } else {
                while (got < ssize_t(sizeof head)) {
                    const ssize_t n = ::read(fd, head + got, sizeof head - size_t(got));
                    if (n < 0 && errno == EINTR) {
                        continue;
                    }
                    if (n <= 0) {
                        break;
                    }
                    got += n;
                }
            }
            ::close(fd);
            if (!problem.isEmpty()) {
                return problem;
            }
            if (got < ssize_t(sizeof head)) {
                return u"%1 is too short (%2 bytes) to be a safetensors file; is it truncated?"_s.arg(path).arg(
                    qint64(info.st_size));
            }
            quint64 headerSize = 0;
            for (int i = 7; i >= 0; --i) {
                headerSize = (headerSize << 8) | head[i];
            }
            const quint64 fileSize = quint64(info.st_size);
            if (headerSize < 2) {
                return u"%1 is not a valid safetensors file: its header claims %2 bytes, too few for JSON"_s.arg(path)
                    .arg(headerSize);
            }
            if (headerSize > fileSize - 8) {
                return u"%1 is not a valid safetensors file: its header claims %2 bytes, but the file has %3; is it "
                       "truncated?"_s.arg(path)
                           .arg(headerSize)
                           .arg(fileSize);
            }
            if (head[8] != '{') {
                return u"%1 is not a valid safetensors file: its header is not JSON"_s.arg(path);
            }
            return {};
        }
    } // namespace

    QString checkModelPath(const QString& path)
    {
        if (path.trimmed().isEmpty()) {
            return u"no model is given"_s;
        }
        // stat() follows symlinks and never opens the file, so a FIFO or a device is recognised without blocking
        // on it or reading from it.
        struct stat info = {};
        if (!statFollowing(path, &info)) {
            const int error = errno;
            struct stat link = {};
            if (::lstat(QFile::encodeName(path).constData(), &link) == 0 && S_ISLNK(link.st_mode)) {
                return u"%1 is a symbolic link to %2, which does not exist"_s.arg(path,
                                                                                  QFileInfo(path).symLinkTarget());
            }
            return error == ENOENT ? u"%1 does not exist"_s.arg(path)
                                   : u"cannot read %1: %2"_s.arg(path, errnoText(error));
        }
        if (S_ISDIR(info.st_mode)) {
            return checkFolder(path);
        }
        if (!S_ISREG(info.st_mode)) {
            return u"%1 is %2, not a model file"_s.arg(path, kindOf(info.st_mode));
        }
        const QString suffix = QFileInfo(path).suffix().toLower();
        static const QStringList pickle{u"ckpt"_s, u"pt"_s, u"pth"_s, u"bin"_s};
        if (pickle.contains(suffix)) {
            return u"%1 is a pickle checkpoint (.%2); Atelier never loads pickle files, because loading one runs code "
                   "stored in it: convert it to .safetensors"_s.arg(path, suffix);
        }
        if (suffix != u"safetensors") {
            return u"%1 is neither a .safetensors file nor a diffusers model folder"_s.arg(path);
        }
        return checkSafetensorsHeader(path);
    }

    QString prepareOutputDirectory(const QString& directory)
    {
        if (directory.trimmed().isEmpty()) {
            return u"no output folder is given"_s;
        }
        std::error_code error;
        const std::filesystem::path path(QFile::encodeName(directory).toStdString());
        std::filesystem::create_directories(path, error);
        if (error) {
            return u"cannot create the output folder %1: %2"_s.arg(directory, QString::fromLocal8Bit(error.message()));
        }
        if (!std::filesystem::is_directory(path, error)) {
            return u"the output folder %1 is not a folder"_s.arg(directory);
        }
        // Permissions alone do not tell (read-only mounts, ACLs, root); creating a file does.
        QTemporaryFile probe(directory + u"/.atelier-write-test-XXXXXX"_s);
        if (!probe.open()) {
            return u"cannot write to the output folder %1: %2"_s.arg(directory, probe.errorString());
        }
        return {};
    }
} // namespace Atelier
