// SPDX-License-Identifier: GPL-3.0-or-later
#include "TextualInversion.h"

#include <ATen/ops/isfinite.h>

#include <algorithm>
#include <atomic>
#include <sstream>
#include <system_error>

#include "EngineError.h"
#include "Safetensors.h"

namespace Atelier::Engine
{
    namespace
    {
        std::string shapeText(at::IntArrayRef shape)
        {
            std::ostringstream out;
            out << shape;
            return out.str();
        }
    } // namespace

    Embedding loadEmbedding(const std::filesystem::path& file, std::int64_t hidden)
    {
        const std::string origin = file.string() + ": ";
        if (hasPickleExtension(file)) {
            throw EngineError(origin
                              + "pickle embeddings are never opened, as they can run code; use the "
                                ".safetensors version");
        }
        const SafetensorsFile weights = SafetensorsFile::open(file);
        const auto& tensors = weights.header().tensors;
        if (weights.contains("clip_l") || weights.contains("clip_g")) {
            throw EngineError(origin + "an SDXL embedding (clip_l/clip_g); Atelier renders Stable Diffusion 1.x");
        }
        std::string key;
        if (weights.contains("emb_params")) {
            key = "emb_params"; // AUTOMATIC1111
        } else if (tensors.size() == 1) {
            key = tensors.front().name; // diffusers: named by its token
        } else {
            throw EngineError(origin + "not a textual-inversion embedding (no \"emb_params\" and "
                              + std::to_string(tensors.size()) + " tensors)");
        }
        at::Tensor vectors = weights.tensor(key).to(at::kFloat);
        if (vectors.dim() == 1) {
            vectors = vectors.unsqueeze(0);
        }
        if (vectors.dim() != 2 || vectors.size(0) < 1 || vectors.size(1) != hidden) {
            throw EngineError(origin + "\"" + key + "\" has shape " + shapeText(vectors.sizes())
                              + "; this model's text encoder takes vectors " + std::to_string(hidden)
                              + " wide (is the embedding for another model family, such as SD 2?)");
        }
        if (vectors.size(0) > ClipTokenizer::ContextLength - 2) {
            throw EngineError(origin + "has " + std::to_string(vectors.size(0)) + " vectors; a prompt chunk holds "
                              + std::to_string(ClipTokenizer::ContextLength - 2));
        }
        if (!at::isfinite(vectors).all().item<bool>()) {
            throw EngineError(origin + "\"" + key + "\" holds values that are not finite");
        }
        return {file.stem().string(), file, vectors.clone()};
    }

    EmbeddingLibrary::EmbeddingLibrary(const ClipTokenizer& tokenizer, std::int64_t hidden,
                                       const std::vector<std::filesystem::path>& folders)
    {
        static std::atomic<std::uint64_t> next{1};
        m_identity = next++;
        std::map<std::string, std::size_t> byName; // the first folder wins, as for LoRAs
        for (const std::filesystem::path& folder : folders) {
            std::error_code error;
            std::vector<std::filesystem::path> files;
            std::filesystem::recursive_directory_iterator it(
                folder, std::filesystem::directory_options::skip_permission_denied, error);
            for (; !error && it != std::filesystem::recursive_directory_iterator(); it.increment(error)) {
                if (it->is_regular_file(error)
                    && (hasSafetensorsExtension(it->path()) || hasPickleExtension(it->path()))) {
                    files.push_back(it->path());
                }
            }
            // Within a folder, path order; a .safetensors before a pickle of the same name.
            std::sort(files.begin(), files.end(), [](const auto& a, const auto& b) {
                return std::pair(a.parent_path() / a.stem(), hasPickleExtension(a))
                    < std::pair(b.parent_path() / b.stem(), hasPickleExtension(b));
            });
            for (const std::filesystem::path& file : files) {
                const std::string name = file.stem().string();
                if (byName.contains(name)) {
                    continue;
                }
                Entry entry;
                entry.ids = tokenizer.encode(name);
                entry.file = file;
                entry.name = name;
                if (entry.ids.empty()) {
                    continue;
                }
                try {
                    entry.embedding = loadEmbedding(file, hidden);
                } catch (const EngineError& e) {
                    entry.error = e.what();
                }
                byName.emplace(name, m_entries.size());
                m_byFirstId[entry.ids.front()].push_back(m_entries.size());
                m_entries.push_back(std::move(entry));
            }
        }
        for (auto& [id, indices] : m_byFirstId) {
            std::stable_sort(indices.begin(), indices.end(), [&](std::size_t a, std::size_t b) {
                return m_entries[a].ids.size() > m_entries[b].ids.size();
            });
        }
    }

    std::optional<EmbeddingMatch> EmbeddingLibrary::match(std::span<const std::int64_t> ids, std::size_t position) const
    {
        if (position >= ids.size()) {
            return std::nullopt;
        }
        const auto found = m_byFirstId.find(ids[position]);
        if (found == m_byFirstId.end()) {
            return std::nullopt;
        }
        for (const std::size_t index : found->second) {
            const Entry& entry = m_entries[index];
            if (position + entry.ids.size() <= ids.size()
                && std::equal(entry.ids.begin(), entry.ids.end(),
                              ids.begin() + static_cast<std::ptrdiff_t>(position))) {
                const std::size_t vectors
                    = entry.embedding ? static_cast<std::size_t>(entry.embedding->vectors.size(0)) : 1;
                return EmbeddingMatch{index, vectors, entry.ids.size()};
            }
        }
        return std::nullopt;
    }

    const Embedding& EmbeddingLibrary::embedding(std::size_t index) const
    {
        const Entry& entry = m_entries.at(index);
        if (!entry.embedding) {
            throw EngineError("embedding \"" + entry.name + "\": " + entry.error);
        }
        return *entry.embedding;
    }
} // namespace Atelier::Engine
