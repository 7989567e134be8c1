// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace Atelier::Engine
{
    /// One run of prompt text and the attention weight AUTOMATIC1111's syntax gives it.
    struct WeightedText
    {
        std::string text; ///< UTF-8, as written (escapes resolved)
        double weight = 1.0;

        /// A `BREAK` (weight exactly -1): the text after it starts a new 75-token chunk. A `BREAK` inside brackets
        /// is multiplied like any text there, so it is no break but the word "BREAK" (as in AUTOMATIC1111).
        bool isBreak() const { return text == "BREAK" && weight == -1.0; }

        friend bool operator==(const WeightedText&, const WeightedText&) = default;
    };

    /// Parses AUTOMATIC1111's prompt-attention syntax, with its semantics (its `parse_prompt_attention`):
    /// `(text)` multiplies the weight of text by 1.1, `[text]` divides it by 1.1, `(text:1.3)` sets the factor
    /// (any number of the form [+-][0-9.]+; a malformed one such as `1.2.3` leaves the text as written), brackets
    /// nest and multiply, `\(` `\)` `\[` `\]` `\\` are literal characters, a bracket without its partner is text
    /// (an opening one left open applies to everything after it, as if closed at the end), and `BREAK` (a whole
    /// word, outside brackets) becomes its own entry. Adjacent runs of equal weight are merged. An empty prompt
    /// gives one empty run of weight 1; a prompt without any syntax gives itself, weight 1.
    ///
    /// The weights are computed in the same order as the reference, so they are bit-exact with it.
    std::vector<WeightedText> parsePromptAttention(std::string_view prompt);
} // namespace Atelier::Engine
