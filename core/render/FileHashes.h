// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QString>

namespace Atelier
{
    /// The hashes AUTOMATIC1111 writes into infotexts, so that its tools (and Atelier) can find the file an image was
    /// made with. Each reads the file in chunks: multi-GB checkpoints never sit in memory whole. Empty when the file
    /// cannot be read.
    namespace FileHashes
    {
        /// "Model hash": the first 10 hex digits of the whole file's SHA-256.
        QString modelHash(const QString& path);
        /// The hash in "Lora hashes" (A1111's network "shorthash"): the first 12 hex digits of the SHA-256 of a
        /// safetensors file's data after its header (the "addnet" hash, which ignores metadata edits). Empty too when
        /// the file is not safetensors.
        QString loraHash(const QString& path);
        /// The hash in "TI hashes": the first 12 hex digits of the whole file's SHA-256.
        QString embeddingHash(const QString& path);
    } // namespace FileHashes
} // namespace Atelier
