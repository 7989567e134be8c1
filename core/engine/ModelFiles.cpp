// SPDX-License-Identifier: GPL-3.0-or-later
#include "ModelFiles.h"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "EngineError.h"

namespace Atelier::Engine
{
    namespace
    {
        std::string kindOf(mode_t mode)
        {
            if (S_ISFIFO(mode)) {
                return "a FIFO";
            }
            if (S_ISDIR(mode)) {
                return "a directory";
            }
            if (S_ISCHR(mode)) {
                return "a character device";
            }
            if (S_ISBLK(mode)) {
                return "a block device";
            }
            if (S_ISSOCK(mode)) {
                return "a socket";
            }
            return "a special file";
        }

        std::string describeLimit(std::uint64_t bytes)
        {
            return bytes % (1 << 20) == 0 ? std::to_string(bytes >> 20) + " MiB" : std::to_string(bytes) + " bytes";
        }

        [[noreturn]] void tooLarge(const std::filesystem::path& path, std::uint64_t maxBytes, const std::string& size)
        {
            throw EngineError(path.string() + ": is " + size + ", over the " + describeLimit(maxBytes)
                              + " limit for a model's config and tokenizer files");
        }

        class FileDescriptor
        {
        public:
            explicit FileDescriptor(int fd)
                : m_fd(fd)
            { }
            ~FileDescriptor() { ::close(m_fd); }
            FileDescriptor(const FileDescriptor&) = delete;
            FileDescriptor& operator=(const FileDescriptor&) = delete;
            int get() const { return m_fd; }

        private:
            int m_fd;
        };
    } // namespace

    void refuseSpecialFile(const std::filesystem::path& path, mode_t mode)
    {
        if (!S_ISREG(mode)) {
            throw EngineError(path.string() + ": is " + kindOf(mode) + ", not a file");
        }
    }

    void refuseSpecialFile(const std::filesystem::path& path)
    {
        // stat, not lstat: a symbolic link to a model file is fine, one to /dev/zero is not.
        struct stat status
        {
        };
        if (::stat(path.c_str(), &status) == 0) {
            refuseSpecialFile(path, status.st_mode);
        }
    }

    std::string readTextFile(const std::filesystem::path& path, std::uint64_t maxBytes)
    {
        refuseSpecialFile(path);
        // Should a FIFO take the file's place after the check, O_NONBLOCK still lets open return, and the fstat
        // below refuses it; on a regular file the flag changes nothing.
        const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
        if (fd < 0) {
            throw EngineError(path.string() + ": cannot read the file: " + std::strerror(errno));
        }
        const FileDescriptor file(fd);
        struct stat status
        {
        };
        if (::fstat(fd, &status) != 0) {
            throw EngineError(path.string() + ": cannot read the file: " + std::strerror(errno));
        }
        refuseSpecialFile(path, status.st_mode);
        const auto size = static_cast<std::uint64_t>(status.st_size);
        if (size > maxBytes) {
            tooLarge(path, maxBytes, std::to_string(size) + " bytes");
        }

        // Read to the end rather than trusting the size, but never past the cap: the file may grow meanwhile.
        std::string text(static_cast<std::size_t>(size), '\0');
        std::size_t used = 0;
        for (;;) {
            if (used == text.size()) {
                if (text.size() > maxBytes) {
                    tooLarge(path, maxBytes, "more than " + std::to_string(maxBytes) + " bytes");
                }
                text.resize(std::min<std::size_t>(std::max<std::size_t>(text.size() * 2, 4096), maxBytes + 1));
            }
            const ssize_t n = ::read(fd, text.data() + used, text.size() - used);
            if (n < 0) {
                if (errno == EINTR) {
                    continue;
                }
                throw EngineError(path.string() + ": cannot read the file: " + std::strerror(errno));
            }
            if (n == 0) {
                break;
            }
            used += static_cast<std::size_t>(n);
        }
        text.resize(used);
        return text;
    }
} // namespace Atelier::Engine
