// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QList>
#include <QString>

#include <filesystem>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "engine/ExtraNetworks.h"
#include "engine/Lora.h"

namespace Atelier
{
    /// A prompt made ready for the engine: its LoRA tags taken out and resolved to files.
    struct PreparedPrompt
    {
        std::string prompt; ///< without the tags
        std::vector<Engine::LoraSpec> loras; ///< the prompt's tags in order, then the run's --lora ones
        /// For the infotext's "Lora hashes": each LoRA's name as its tag gives it, with its A1111 short hash.
        QList<std::pair<QString, QString>> hashes;
        /// The prompt as the infotext gives it: as written, with the run's --lora LoRAs added as tags (by file
        /// name), so that the image's settings render it again here or in AUTOMATIC1111.
        QString infotextPrompt;
    };

    /// Remembers the hashes of files by path, size and modification time, so a file used by every job is hashed once.
    class FileHashCache
    {
    public:
        using HashFunction = QString (*)(const QString& path);
        explicit FileHashCache(HashFunction hash)
            : m_hash(hash)
        { }
        QString hashOf(const std::filesystem::path& file);

    private:
        struct Entry
        {
            std::filesystem::file_time_type modified;
            std::uintmax_t size = 0;
            QString hash;
        };
        HashFunction m_hash;
        std::map<std::filesystem::path, Entry> m_entries;
    };

    /// Resolves the LoRAs of prompts: tags (`<lora:NAME:W>`) and the run's own `--lora` list, found by name in the
    /// LoRA folders. Each file's hash is kept (FileHashCache).
    class PromptLoras
    {
    public:
        PromptLoras(std::vector<std::filesystem::path> folders, std::vector<Engine::LoraTag> extra);

        /// @p prompt ready to render. Throws Engine::EngineError naming every tag that cannot be honoured and every
        /// LoRA not found (with the folders searched), before anything renders.
        PreparedPrompt prepare(const QString& prompt);

    private:
        std::vector<std::filesystem::path> m_folders;
        std::vector<Engine::LoraTag> m_extra;
        FileHashCache m_hashes;
    };

    /// A1111's "VAE" and "VAE hash" for the VAE at @p path: the file's name (a folder's name for a diffusers vae/
    /// folder, whose weights file is hashed).
    std::pair<QString, QString> vaeInfotext(const QString& path);

    /// The text of @p loras that tells LoRA sets apart: jobs with different sets never share a batch.
    std::string loraSetKey(const std::vector<Engine::LoraSpec>& loras);
} // namespace Atelier
