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

    /// Resolves the LoRAs of prompts: tags (`<lora:NAME:W>`) and the run's own `--lora` list, found by name in the
    /// LoRA folders. Remembers each file's hash (by path, size and modification time), so a LoRA used by every job
    /// is hashed once.
    class PromptLoras
    {
    public:
        PromptLoras(std::vector<std::filesystem::path> folders, std::vector<Engine::LoraTag> extra);

        /// @p prompt ready to render. Throws Engine::EngineError naming every tag that cannot be honoured and every
        /// LoRA not found (with the folders searched), before anything renders.
        PreparedPrompt prepare(const QString& prompt);

    private:
        QString hashOf(const std::filesystem::path& file);

        std::vector<std::filesystem::path> m_folders;
        std::vector<Engine::LoraTag> m_extra;
        struct Hash
        {
            std::filesystem::file_time_type modified;
            std::uintmax_t size = 0;
            QString hash;
        };
        std::map<std::filesystem::path, Hash> m_hashes;
    };

    /// The text of @p loras that tells LoRA sets apart: jobs with different sets never share a batch.
    std::string loraSetKey(const std::vector<Engine::LoraSpec>& loras);
} // namespace Atelier
