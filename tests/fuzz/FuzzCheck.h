// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

// What every fuzz target shares: the way an invariant fails. A fuzzer only notices crashes, so a broken invariant
// must become one; abort() is what both libFuzzer and tests/fuzz/FuzzDriver.cpp catch and save the input for.

#include <cstdio>
#include <cstdlib>
#include <string>

namespace Atelier::Fuzz
{
    /// Prints what broke, with the source line, and aborts.
    [[noreturn]] inline void fail(const char* file, int line, const char* condition, const std::string& detail)
    {
        std::fprintf(stderr, "%s:%d: fuzz invariant broken: %s\n", file, line, condition);
        if (!detail.empty()) {
            std::fprintf(stderr, "  %s\n", detail.c_str());
        }
        std::fflush(stderr);
        std::abort();
    }
} // namespace Atelier::Fuzz

/// Aborts with @p detail (a std::string, built only on failure) unless @p condition holds. Qt-free, for the targets
/// that are (the safetensors header); Qt targets pass QString::toStdString().
#define ATELIER_FUZZ_CHECK(condition, detail)                                                                          \
    do {                                                                                                               \
        if (!(condition)) {                                                                                            \
            ::Atelier::Fuzz::fail(__FILE__, __LINE__, #condition, (detail));                                           \
        }                                                                                                              \
    } while (false)
