// SPDX-License-Identifier: GPL-3.0-or-later
#include "JsonConfig.h"

#include <cmath>

#include "ConfigParsing.h"
#include "EngineError.h"
#include "ModelFiles.h"

namespace Atelier::Engine
{
    struct JsonConfig::Data
    {
        nlohmann::json json;
        std::string origin;
    };

    JsonConfig::JsonConfig(std::unique_ptr<Data> data)
        : m_data(std::move(data))
    { }

    JsonConfig::~JsonConfig() = default;
    JsonConfig::JsonConfig(JsonConfig&&) noexcept = default;
    JsonConfig& JsonConfig::operator=(JsonConfig&&) noexcept = default;

    JsonConfig JsonConfig::fromFile(const std::filesystem::path& path)
    {
        std::error_code error;
        if (!std::filesystem::exists(path, error)) {
            throw EngineError(path.string() + ": cannot read the file (is the model folder complete?)");
        }
        return fromText(readTextFile(path), path.string());
    }

    JsonConfig JsonConfig::fromText(const std::string& text, const std::string& origin)
    {
        auto data = std::make_unique<Data>();
        data->origin = origin;
        try {
            data->json = parsePythonJson(text);
        } catch (const nlohmann::json::exception& e) {
            throw EngineError(origin + ": not valid JSON (" + e.what() + ")");
        }
        if (!data->json.is_object()) {
            throw EngineError(origin + ": not a JSON object");
        }
        return JsonConfig(std::move(data));
    }

    const std::string& JsonConfig::origin() const
    {
        return m_data->origin;
    }

    void JsonConfig::fail(const std::string& key, const std::string& problem) const
    {
        throw EngineError(m_data->origin + ": \"" + key + "\" " + problem);
    }

    bool JsonConfig::has(const std::string& key) const
    {
        const auto it = m_data->json.find(key);
        return it != m_data->json.end() && !it->is_null();
    }

    std::int64_t JsonConfig::integer(const std::string& key) const
    {
        if (!has(key)) {
            fail(key, "is missing");
        }
        const auto& value = m_data->json[key];
        if (!value.is_number_integer()) {
            fail(key, "must be an integer");
        }
        return value.get<std::int64_t>();
    }

    std::int64_t JsonConfig::integer(const std::string& key, std::int64_t fallback) const
    {
        return has(key) ? integer(key) : fallback;
    }

    double JsonConfig::number(const std::string& key) const
    {
        if (!has(key)) {
            fail(key, "is missing");
        }
        const auto& value = m_data->json[key];
        if (!value.is_number()) {
            fail(key, "must be a number");
        }
        return value.get<double>();
    }

    double JsonConfig::number(const std::string& key, double fallback) const
    {
        return has(key) ? number(key) : fallback;
    }

    bool JsonConfig::boolean(const std::string& key, bool fallback) const
    {
        if (!has(key)) {
            return fallback;
        }
        const auto& value = m_data->json[key];
        if (!value.is_boolean()) {
            fail(key, "must be true or false");
        }
        return value.get<bool>();
    }

    std::string JsonConfig::string(const std::string& key) const
    {
        if (!has(key)) {
            fail(key, "is missing");
        }
        const auto& value = m_data->json[key];
        if (!value.is_string()) {
            fail(key, "must be a string");
        }
        return value.get<std::string>();
    }

    std::string JsonConfig::string(const std::string& key, const std::string& fallback) const
    {
        return has(key) ? string(key) : fallback;
    }

    std::vector<std::int64_t> JsonConfig::integers(const std::string& key) const
    {
        if (!has(key)) {
            fail(key, "is missing");
        }
        const auto& value = m_data->json[key];
        if (!value.is_array()) {
            fail(key, "must be a list of integers");
        }
        std::vector<std::int64_t> result;
        for (const auto& item : value) {
            if (!item.is_number_integer()) {
                fail(key, "must be a list of integers");
            }
            result.push_back(item.get<std::int64_t>());
        }
        return result;
    }

    std::vector<std::string> JsonConfig::strings(const std::string& key) const
    {
        if (!has(key)) {
            fail(key, "is missing");
        }
        const auto& value = m_data->json[key];
        if (!value.is_array()) {
            fail(key, "must be a list of strings");
        }
        std::vector<std::string> result;
        for (const auto& item : value) {
            if (!item.is_string()) {
                fail(key, "must be a list of strings");
            }
            result.push_back(item.get<std::string>());
        }
        return result;
    }

    std::vector<std::int64_t> JsonConfig::integerPerBlock(const std::string& key, std::size_t blocks,
                                                          std::int64_t minimum) const
    {
        if (has(key) && m_data->json[key].is_array()) {
            auto values = integersAtLeast(key, minimum);
            if (values.size() != blocks) {
                fail(key, "must have one entry per block (" + std::to_string(blocks) + ")");
            }
            return values;
        }
        return std::vector<std::int64_t>(blocks, integerAtLeast(key, minimum));
    }

    namespace
    {
        std::string integerRequirement(std::int64_t minimum)
        {
            return minimum == 1 ? std::string("a positive integer")
                                : "an integer of at least " + std::to_string(minimum);
        }
    } // namespace

    std::int64_t JsonConfig::integerAtLeast(const std::string& key, std::int64_t minimum) const
    {
        const std::int64_t value = integer(key);
        if (value < minimum) {
            refuse(key, integerRequirement(minimum), std::to_string(value));
        }
        return value;
    }

    std::int64_t JsonConfig::integerAtLeast(const std::string& key, std::int64_t minimum, std::int64_t fallback) const
    {
        return has(key) ? integerAtLeast(key, minimum) : fallback;
    }

    std::vector<std::int64_t> JsonConfig::integersAtLeast(const std::string& key, std::int64_t minimum) const
    {
        std::vector<std::int64_t> values = integers(key);
        for (std::size_t i = 0; i < values.size(); ++i) {
            if (values[i] < minimum) {
                refuse(key + "[" + std::to_string(i) + "]", integerRequirement(minimum), std::to_string(values[i]));
            }
        }
        return values;
    }

    double JsonConfig::positiveNumber(const std::string& key, double fallback) const
    {
        const double value = number(key, fallback);
        // Written so that NaN fails too.
        if (!(std::isfinite(value) && value > 0)) {
            refuse(key, "a positive number", formatConfigNumber(value));
        }
        return value;
    }

    double JsonConfig::finiteNumber(const std::string& key, double fallback) const
    {
        const double value = number(key, fallback);
        if (!std::isfinite(value)) {
            refuse(key, "a finite number", formatConfigNumber(value));
        }
        return value;
    }

    void JsonConfig::refuse(const std::string& field, const std::string& requirement, const std::string& value) const
    {
        refuseConfigValue(m_data->origin, field, requirement, value);
    }
} // namespace Atelier::Engine
