// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace Atelier::Engine
{
    /// A model's config.json, read with errors that name the file and the key. Keeps nlohmann out of headers.
    class JsonConfig
    {
    public:
        /// Reads and parses @p path; throws EngineError if it is missing, unreadable or not a JSON object.
        static JsonConfig fromFile(const std::filesystem::path& path);
        /// Parses @p text; @p origin names it in errors.
        static JsonConfig fromText(const std::string& text, const std::string& origin);
        ~JsonConfig();
        JsonConfig(JsonConfig&&) noexcept;
        JsonConfig& operator=(JsonConfig&&) noexcept;

        bool has(const std::string& key) const; ///< present and not null
        std::int64_t integer(const std::string& key) const;
        std::int64_t integer(const std::string& key, std::int64_t fallback) const;
        double number(const std::string& key) const;
        double number(const std::string& key, double fallback) const;
        bool boolean(const std::string& key, bool fallback) const;
        std::string string(const std::string& key) const;
        std::string string(const std::string& key, const std::string& fallback) const;
        std::vector<std::int64_t> integers(const std::string& key) const;
        std::vector<std::string> strings(const std::string& key) const;
        /// An integer, or a list of integers with one entry per block (diffusers allows both forms).
        std::vector<std::int64_t> integerPerBlock(const std::string& key, std::size_t blocks) const;
        const std::string& origin() const;

    private:
        struct Data;
        explicit JsonConfig(std::unique_ptr<Data> data);
        [[noreturn]] void fail(const std::string& key, const std::string& problem) const;
        std::unique_ptr<Data> m_data;
    };
} // namespace Atelier::Engine
