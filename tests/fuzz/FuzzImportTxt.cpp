// SPDX-License-Identifier: GPL-3.0-or-later
// Fuzzes importPromptData for .txt prompt files; the checks are in FuzzImport.h.

#include "FuzzImport.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    Atelier::Fuzz::fuzzImport(data, size, QStringLiteral("txt"));
    return 0;
}
