// SPDX-License-Identifier: GPL-3.0-or-later
#include "ConfigParsing.h"

#include <array>
#include <charconv>
#include <cmath>
#include <limits>
#include <string_view>

#include "EngineError.h"

namespace Atelier::Engine
{
    namespace
    {
        struct NonFinite
        {
            std::string_view word; ///< as Python writes it
            std::string_view placeholder; ///< the JSON string that stands in for it while nlohmann parses
            double value;
        };

        // A NUL opens each placeholder, which no config's own strings hold.
        constexpr std::array<NonFinite, 3> NonFiniteWords{
            NonFinite{"-Infinity", "\"\\u0000-Infinity\"", -std::numeric_limits<double>::infinity()},
            NonFinite{"Infinity", "\"\\u0000Infinity\"", std::numeric_limits<double>::infinity()},
            NonFinite{"NaN", "\"\\u0000NaN\"", std::numeric_limits<double>::quiet_NaN()},
        };

        /// @p text with the non-finite words outside strings replaced by their placeholders.
        std::string replaceNonFiniteWords(const std::string& text)
        {
            std::string result;
            result.reserve(text.size());
            bool inString = false;
            for (std::size_t i = 0; i < text.size(); ++i) {
                const char c = text[i];
                if (inString) {
                    result += c;
                    if (c == '\\' && i + 1 < text.size()) {
                        result += text[++i];
                    } else if (c == '"') {
                        inString = false;
                    }
                    continue;
                }
                if (c == '"') {
                    inString = true;
                    result += c;
                    continue;
                }
                bool replaced = false;
                for (const NonFinite& nonFinite : NonFiniteWords) {
                    if (text.compare(i, nonFinite.word.size(), nonFinite.word) == 0) {
                        result += nonFinite.placeholder;
                        i += nonFinite.word.size() - 1;
                        replaced = true;
                        break;
                    }
                }
                if (!replaced) {
                    result += c;
                }
            }
            return result;
        }

        void restoreNonFinite(nlohmann::json& value)
        {
            if (value.is_string()) {
                const auto& text = value.get_ref<const std::string&>();
                if (text.starts_with('\0')) {
                    for (const NonFinite& nonFinite : NonFiniteWords) {
                        if (std::string_view(text).substr(1) == nonFinite.word) {
                            value = nonFinite.value;
                            return;
                        }
                    }
                }
            } else if (value.is_structured()) {
                for (auto& item : value) {
                    restoreNonFinite(item);
                }
            }
        }
    } // namespace

    nlohmann::json parsePythonJson(const std::string& text)
    {
        nlohmann::json json = nlohmann::json::parse(replaceNonFiniteWords(text));
        restoreNonFinite(json);
        return json;
    }

    std::string formatConfigNumber(double value)
    {
        if (std::isnan(value)) {
            return "NaN";
        }
        if (std::isinf(value)) {
            return value > 0 ? "Infinity" : "-Infinity";
        }
        std::array<char, 32> buffer{};
        const auto result = std::to_chars(buffer.data(), buffer.data() + buffer.size(), value);
        return {buffer.data(), result.ptr};
    }

    void refuseConfigValue(const std::string& origin, const std::string& field, const std::string& requirement,
                           const std::string& value)
    {
        throw EngineError(origin + ": " + field + " must be " + requirement + ", got " + value);
    }
} // namespace Atelier::Engine
