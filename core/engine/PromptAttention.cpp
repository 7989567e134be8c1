// SPDX-License-Identifier: GPL-3.0-or-later
#include "PromptAttention.h"

#include <charconv>
#include <optional>

namespace Atelier::Engine
{
    namespace
    {
        constexpr double RoundFactor = 1.1;
        constexpr double SquareFactor = 1 / 1.1;

        /// Python's `\s` for the ASCII range, which is all a prompt's syntax uses.
        bool isSpace(char c)
        {
            return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
        }

        bool isWordChar(char c)
        {
            const auto u = static_cast<unsigned char>(c);
            // Python's \w on str is Unicode-aware: any byte of a multi-byte UTF-8 character is part of a letter,
            // digit or mark far more often than not, and treating them as word characters keeps "éBREAK" whole.
            return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || u >= 0x80;
        }

        /// `:\s*([+-]?[.\d]+)\s*\)` at @p pos: the factor and the length matched, or nothing.
        std::optional<std::pair<double, std::size_t>> factorAt(std::string_view s, std::size_t pos)
        {
            std::size_t i = pos + 1;
            while (i < s.size() && isSpace(s[i])) {
                ++i;
            }
            const std::size_t numberStart = i;
            if (i < s.size() && (s[i] == '+' || s[i] == '-')) {
                ++i;
            }
            const std::size_t digitsStart = i;
            while (i < s.size() && (s[i] == '.' || (s[i] >= '0' && s[i] <= '9'))) {
                ++i;
            }
            if (i == digitsStart) {
                return std::nullopt;
            }
            const std::size_t numberEnd = i;
            while (i < s.size() && isSpace(s[i])) {
                ++i;
            }
            if (i >= s.size() || s[i] != ')') {
                return std::nullopt;
            }
            // Python's float(): a leading '+' is allowed, from_chars does not take it.
            std::string_view number = s.substr(numberStart, numberEnd - numberStart);
            if (number.front() == '+') {
                number.remove_prefix(1);
            }
            double value = 0;
            const auto [end, error] = std::from_chars(number.data(), number.data() + number.size(), value);
            if (error != std::errc() || end != number.data() + number.size()) {
                return std::nullopt;
            }
            return std::pair{value, i + 1 - pos};
        }

        /// re.split(r"\s*\bBREAK\b\s*", text): the parts between whole-word BREAKs, with the spaces around them.
        std::vector<std::string_view> splitBreaks(std::string_view text)
        {
            std::vector<std::string_view> parts;
            std::size_t partStart = 0;
            std::size_t from = 0;
            while (true) {
                const std::size_t at = text.find("BREAK", from);
                if (at == std::string_view::npos) {
                    break;
                }
                const std::size_t after = at + 5;
                const bool wordStart = at == 0 || !isWordChar(text[at - 1]);
                const bool wordEnd = after == text.size() || !isWordChar(text[after]);
                if (!wordStart || !wordEnd) {
                    from = at + 1;
                    continue;
                }
                std::size_t begin = at;
                while (begin > partStart && isSpace(text[begin - 1])) {
                    --begin;
                }
                std::size_t end = after;
                while (end < text.size() && isSpace(text[end])) {
                    ++end;
                }
                parts.push_back(text.substr(partStart, begin - partStart));
                partStart = end;
                from = end;
            }
            parts.push_back(text.substr(partStart));
            return parts;
        }
    } // namespace

    std::vector<WeightedText> parsePromptAttention(std::string_view prompt)
    {
        std::vector<WeightedText> result;
        std::vector<std::size_t> round;
        std::vector<std::size_t> square;
        auto multiply = [&result](std::size_t from, double factor) {
            for (std::size_t i = from; i < result.size(); ++i) {
                result[i].weight *= factor;
            }
        };
        auto appendText = [&result](std::string_view text) {
            const std::vector<std::string_view> parts = splitBreaks(text);
            for (std::size_t i = 0; i < parts.size(); ++i) {
                if (i > 0) {
                    result.push_back({"BREAK", -1.0});
                }
                result.push_back({std::string(parts[i]), 1.0});
            }
        };

        std::size_t pos = 0;
        while (pos < prompt.size()) {
            const char c = prompt[pos];
            if (c == '\\') {
                // An escaped bracket or backslash is that character; a lone backslash is nothing.
                const bool escape = pos + 1 < prompt.size()
                    && std::string_view("()[]\\").find(prompt[pos + 1]) != std::string_view::npos;
                result.push_back({escape ? std::string(1, prompt[pos + 1]) : std::string(), 1.0});
                pos += escape ? 2 : 1;
            } else if (c == '(') {
                round.push_back(result.size());
                ++pos;
            } else if (c == '[') {
                square.push_back(result.size());
                ++pos;
            } else if (c == ':') {
                const std::optional<std::pair<double, std::size_t>> factor = factorAt(prompt, pos);
                if (factor && !round.empty()) {
                    multiply(round.back(), factor->first);
                    round.pop_back();
                    pos += factor->second;
                } else if (factor) {
                    appendText(prompt.substr(pos, factor->second));
                    pos += factor->second;
                } else {
                    appendText(prompt.substr(pos, 1));
                    ++pos;
                }
            } else if (c == ')' && !round.empty()) {
                multiply(round.back(), RoundFactor);
                round.pop_back();
                ++pos;
            } else if (c == ']' && !square.empty()) {
                multiply(square.back(), SquareFactor);
                square.pop_back();
                ++pos;
            } else if (c == ')' || c == ']') {
                appendText(prompt.substr(pos, 1));
                ++pos;
            } else {
                const std::size_t end = prompt.find_first_of("\\()[]:", pos);
                const std::size_t stop = end == std::string_view::npos ? prompt.size() : end;
                appendText(prompt.substr(pos, stop - pos));
                pos = stop;
            }
        }
        // Brackets left open apply to the end, innermost first as the reference pops nothing: in the order opened.
        for (const std::size_t from : round) {
            multiply(from, RoundFactor);
        }
        for (const std::size_t from : square) {
            multiply(from, SquareFactor);
        }
        if (result.empty()) {
            result.push_back({std::string(), 1.0});
        }
        for (std::size_t i = 0; i + 1 < result.size();) {
            if (result[i].weight == result[i + 1].weight) {
                result[i].text += result[i + 1].text;
                result.erase(result.begin() + static_cast<std::ptrdiff_t>(i + 1));
            } else {
                ++i;
            }
        }
        return result;
    }
} // namespace Atelier::Engine
