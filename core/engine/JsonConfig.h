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
    /// The text is JSON as Python writes it: NaN, Infinity and -Infinity read as those doubles, for the checked
    /// getters below to refuse by name.
    class JsonConfig
    {
    public:
        /// Reads and parses @p path; throws EngineError if it is missing, not a regular file, larger than
        /// MaxTextFileBytes, unreadable or not a JSON object.
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
        /// An integer, or a list of integers with one entry per block (diffusers allows both forms), each at least
        /// @p minimum.
        std::vector<std::int64_t> integerPerBlock(const std::string& key, std::size_t blocks,
                                                  std::int64_t minimum) const;

        // Getters for values that must lie in a range: a model with a zero channel count or a negative scaling
        // factor loads, then renders black. They throw EngineError "ORIGIN: KEY must be …, got VALUE".

        /// An integer of at least @p minimum (channel counts, layer counts, sizes).
        std::int64_t integerAtLeast(const std::string& key, std::int64_t minimum) const;
        std::int64_t integerAtLeast(const std::string& key, std::int64_t minimum, std::int64_t fallback) const;
        /// A list of integers, each at least @p minimum; errors name the entry ("block_out_channels[1]").
        std::vector<std::int64_t> integersAtLeast(const std::string& key, std::int64_t minimum) const;
        /// A finite number greater than zero (scaling factors, norm epsilons).
        double positiveNumber(const std::string& key, double fallback) const;
        /// A finite number.
        double finiteNumber(const std::string& key, double fallback) const;
        /// Throws EngineError "ORIGIN: FIELD must be REQUIREMENT, got VALUE", for checks that span several keys.
        [[noreturn]] void refuse(const std::string& field, const std::string& requirement,
                                 const std::string& value) const;

        const std::string& origin() const;

    private:
        struct Data;
        explicit JsonConfig(std::unique_ptr<Data> data);
        [[noreturn]] void fail(const std::string& key, const std::string& problem) const;
        std::unique_ptr<Data> m_data;
    };
} // namespace Atelier::Engine
