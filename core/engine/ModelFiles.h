// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>

#include <sys/types.h>

namespace Atelier::Engine
{
    /// The most the engine reads of a model's text files (configs, tokenizer vocabulary and merges). SD 1.x's
    /// largest, the CLIP vocabulary, is about 1 MiB; anything past the cap is not a model file, and reading it whole
    /// could exhaust memory.
    inline constexpr std::uint64_t MaxTextFileBytes = std::uint64_t{16} << 20;

    /// Throws EngineError ("PATH: is a FIFO, not a file") when @p path, after following symbolic links, names
    /// something other than a regular file: a FIFO, a device, a socket or a directory. Call it before opening a
    /// model file: opening a FIFO for reading blocks until a writer comes, and reading a device such as /dev/zero
    /// never ends. A path that cannot be examined at all (missing, no permission) passes, so that opening it fails
    /// and the caller reports that in its own words.
    void refuseSpecialFile(const std::filesystem::path& path);

    /// Throws EngineError like refuseSpecialFile when @p mode (a stat's st_mode for @p path) is not a regular
    /// file's.
    void refuseSpecialFile(const std::filesystem::path& path, mode_t mode);

    /// The contents of the text file @p path, read whole. Throws EngineError naming the path when it is not a
    /// regular file, cannot be opened or read, or holds more than @p maxBytes.
    std::string readTextFile(const std::filesystem::path& path, std::uint64_t maxBytes = MaxTextFileBytes);
} // namespace Atelier::Engine
