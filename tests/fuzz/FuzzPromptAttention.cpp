// SPDX-License-Identifier: GPL-3.0-or-later
// Fuzzes parsePromptAttention, which reads every prompt an artist pastes (from anywhere). Input: the prompt as
// bytes. The parse must end, never grow the text (syntax only ever removes characters), never leave two neighbours
// of equal weight, and give back the prompt itself when it holds none of the syntax's characters.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "FuzzCheck.h"
#include "engine/PromptAttention.h"

using namespace Atelier;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    const std::string_view prompt(reinterpret_cast<const char*>(data), size);
    const std::vector<Engine::WeightedText> parsed = Engine::parsePromptAttention(prompt);
    ATELIER_FUZZ_CHECK(!parsed.empty(), "at least one run");
    std::size_t bytes = 0;
    for (std::size_t i = 0; i < parsed.size(); ++i) {
        bytes += parsed[i].text.size();
        ATELIER_FUZZ_CHECK(i == 0 || parsed[i].weight != parsed[i - 1].weight, "neighbours of equal weight merge");
    }
    ATELIER_FUZZ_CHECK(bytes <= prompt.size(), "the text never grows");
    if (prompt.find_first_of("\\()[]") == std::string_view::npos && prompt.find("BREAK") == std::string_view::npos) {
        ATELIER_FUZZ_CHECK(parsed.size() == 1 && parsed.front().text == prompt && parsed.front().weight == 1.0,
                           "a prompt without syntax is itself");
    }
    return 0;
}
