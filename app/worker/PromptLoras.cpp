// SPDX-License-Identifier: GPL-3.0-or-later
#include "PromptLoras.h"

#include <QDir>
#include <QFileInfo>
#include <QLocale>

#include <cstdio>
#include <system_error>

#include "engine/EngineError.h"
#include "render/FileHashes.h"

using namespace Qt::StringLiterals;

namespace Atelier
{
    PromptLoras::PromptLoras(std::vector<std::filesystem::path> folders, std::vector<Engine::LoraTag> extra)
        : m_folders(std::move(folders))
        , m_extra(std::move(extra))
        , m_hashes(FileHashes::loraHash)
    { }

    PreparedPrompt PromptLoras::prepare(const QString& prompt)
    {
        Engine::PromptNetworks networks = Engine::extractExtraNetworks(prompt.toStdString());
        std::vector<std::string> problems = std::move(networks.errors);
        PreparedPrompt prepared;
        prepared.prompt = std::move(networks.prompt);
        prepared.infotextPrompt = prompt;
        std::vector<Engine::LoraTag> tags = std::move(networks.loras);
        const std::size_t fromPrompt = tags.size();
        tags.insert(tags.end(), m_extra.begin(), m_extra.end());
        for (std::size_t i = 0; i < tags.size(); ++i) {
            const Engine::LoraTag& tag = tags[i];
            try {
                const std::filesystem::path file = Engine::findLora(tag.name, m_folders);
                prepared.loras.push_back({file, tag.textEncoderWeight, tag.unetWeight});
                // A --lora given as a path is named by its file name, as a tag would name it.
                const QString name = QString::fromStdString(i < fromPrompt ? tag.name : file.stem().string());
                prepared.hashes.append({name, m_hashes.hashOf(file)});
                if (i >= fromPrompt) {
                    QString text = u"<lora:%1:%2>"_s.arg(
                        name, QString::number(tag.textEncoderWeight, 'g', QLocale::FloatingPointShortest));
                    if (tag.unetWeight != tag.textEncoderWeight) {
                        text.insert(text.size() - 1,
                                    u':' + QString::number(tag.unetWeight, 'g', QLocale::FloatingPointShortest));
                    }
                    prepared.infotextPrompt += (prepared.infotextPrompt.isEmpty() ? u""_s : u" "_s) + text;
                }
            } catch (const Engine::EngineError& error) {
                problems.emplace_back(error.what());
            }
        }
        if (!problems.empty()) {
            std::string message;
            for (const std::string& problem : problems) {
                message += (message.empty() ? "" : "; ") + problem;
            }
            throw Engine::EngineError(message);
        }
        return prepared;
    }

    QString FileHashCache::hashOf(const std::filesystem::path& file)
    {
        std::error_code error;
        const auto modified = std::filesystem::last_write_time(file, error);
        const auto size = std::filesystem::file_size(file, error);
        const auto found = m_entries.find(file);
        if (found != m_entries.end() && found->second.modified == modified && found->second.size == size) {
            return found->second.hash;
        }
        const QString hash = m_hash(QString::fromStdString(file.string()));
        m_entries[file] = {modified, size, hash};
        return hash;
    }

    std::pair<QString, QString> vaeInfotext(const QString& path)
    {
        const QFileInfo info(path);
        if (!info.isDir()) {
            return {info.fileName(), FileHashes::modelHash(info.absoluteFilePath())};
        }
        const QDir folder(path);
        const QString weights = folder.exists(u"diffusion_pytorch_model.safetensors"_s)
            ? folder.filePath(u"diffusion_pytorch_model.safetensors"_s)
            : folder.filePath(u"diffusion_pytorch_model.fp16.safetensors"_s);
        return {info.fileName(), FileHashes::modelHash(weights)};
    }

    std::string loraSetKey(const std::vector<Engine::LoraSpec>& loras)
    {
        std::string key;
        for (const Engine::LoraSpec& lora : loras) {
            // Every digit of the weights: sets that differ at all must not share a batch.
            char weights[64];
            std::snprintf(weights, sizeof weights, "\n%.17g\n%.17g\n", lora.textEncoderWeight, lora.unetWeight);
            key += lora.file.string() + weights;
        }
        return key;
    }
} // namespace Atelier
