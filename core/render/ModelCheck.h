// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QString>

namespace Atelier
{
    /// Checks, before any worker starts, that @p path can be a Stable Diffusion 1.x model: an existing regular
    /// `.safetensors` file (with a plausible header: an 8-byte length that fits the file, then '{') or a folder
    /// with `model_index.json` or a `unet/` folder. FIFOs, devices, sockets and pickle files are refused without
    /// being opened for reading. Symlinks are followed and their targets checked. Returns an empty string, or the
    /// problem, naming the path.
    QString checkModelPath(const QString& path);

    /// Creates @p directory when missing and proves it writable by creating and removing a file in it. Returns
    /// an empty string, or the problem, naming the folder.
    QString prepareOutputDirectory(const QString& directory);
} // namespace Atelier
