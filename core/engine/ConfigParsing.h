// SPDX-License-Identifier: GPL-3.0-or-later
// The engine's own helpers for reading model configs. Internal: it exposes nlohmann, which only the engine links.
#pragma once

#include <nlohmann/json.hpp>

#include <string>

namespace Atelier::Engine
{
    /// Parses @p text as Python's json module writes it: standard JSON plus the bare words NaN, Infinity and
    /// -Infinity (json.dumps writes non-finite floats that way; diffusers saves DPM-Solver's default
    /// lambda_min_clipped as -Infinity). Outside strings they become the double they stand for, so a reader sees
    /// the value itself and can refuse it by name instead of failing on the syntax. Throws
    /// nlohmann::json::parse_error.
    nlohmann::json parsePythonJson(const std::string& text);

    /// @p value as a config spells it: the shortest decimal that reads back the same double ("0.00085", "-1"),
    /// or Python's NaN, Infinity and -Infinity.
    std::string formatConfigNumber(double value);

    /// Throws EngineError "ORIGIN: FIELD must be REQUIREMENT, got VALUE", the engine's one form for a config value
    /// that cannot work (e.g. "scheduler/scheduler_config.json: beta_start must be a number in (0, 1), got -1").
    [[noreturn]] void refuseConfigValue(const std::string& origin, const std::string& field,
                                        const std::string& requirement, const std::string& value);
} // namespace Atelier::Engine
