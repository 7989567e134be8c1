// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <stdexcept>
#include <string>

namespace Atelier::Engine
{
    /// Every failure the engine reports to its caller: bad model files, missing configs, bad arguments.
    /// The message is a complete sentence for the artist; it names the file, key or field at fault.
    class EngineError : public std::runtime_error
    {
    public:
        using std::runtime_error::runtime_error;
    };
} // namespace Atelier::Engine
