// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

// Command-line numbers for the engine-only benchmarks (no Qt there).

#include <charconv>
#include <optional>
#include <string_view>
#include <system_error>

namespace Atelier::Bench
{
    /// The number @p text spells, all of it (std::from_chars rules: no sign for unsigned types, no spaces), or
    /// std::nullopt.
    template <typename T> std::optional<T> parseNumber(std::string_view text)
    {
        T value{};
        const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
        if (error != std::errc{} || end != text.data() + text.size()) {
            return std::nullopt;
        }
        return value;
    }
} // namespace Atelier::Bench
