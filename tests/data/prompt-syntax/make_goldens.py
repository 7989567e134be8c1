#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Writes attention.json: AUTOMATIC1111's prompt-attention parse of tricky prompts, for TestPromptAttention.

A reference written from A1111's documented behaviour (its wiki, "Attention/emphasis"; its parse_prompt_attention
contract): the tokens below, in this order of preference, ( and [ open, ) and ] close multiplying by 1.1 and 1/1.1,
(text:N) sets the factor, escapes are literal, unbalanced brackets are text or apply to the end, BREAK outside
brackets is an entry of weight -1, equal neighbours merge. One deviation, where A1111 raises an exception: a factor
that is not a number (`(a:1.2.3)`) leaves its text as written.

Run: python3 tests/data/prompt-syntax/make_goldens.py   (standard library only; rewrites attention.json beside it)
"""
import json
import os
import re

TOKENS = re.compile(r"""
\\\(|\\\)|\\\[|\\]|\\\\|\\|
\(|\[|
:\s*([+-]?[.\d]+)\s*\)|
\)|]|
[^\\()\[\]:]+|
:
""", re.X)
BREAK = re.compile(r"\s*\bBREAK\b\s*", re.S)


def parse(text):
    out = []
    round_open, square_open = [], []

    def multiply(start, factor):
        for p in range(start, len(out)):
            out[p][1] *= factor

    def append_text(part_text):
        for i, part in enumerate(BREAK.split(part_text)):
            if i > 0:
                out.append(["BREAK", -1.0])
            out.append([part, 1.0])

    pos = 0
    while pos < len(text):
        m = TOKENS.match(text, pos)
        token, factor = m.group(0), m.group(1)
        if factor is not None:
            try:
                value = float(factor)
            except ValueError:
                # Not a number: only the colon is taken; what follows is read again as text.
                append_text(":")
                pos += 1
                continue
        if token.startswith("\\"):
            out.append([token[1:], 1.0])
        elif token == "(":
            round_open.append(len(out))
        elif token == "[":
            square_open.append(len(out))
        elif factor is not None and round_open:
            multiply(round_open.pop(), value)
        elif token == ")" and round_open:
            multiply(round_open.pop(), 1.1)
        elif token == "]" and square_open:
            multiply(square_open.pop(), 1 / 1.1)
        else:
            append_text(token)
        pos = m.end()
    for start in round_open:
        multiply(start, 1.1)
    for start in square_open:
        multiply(start, 1 / 1.1)
    if not out:
        out = [["", 1.0]]
    i = 0
    while i + 1 < len(out):
        if out[i][1] == out[i + 1][1]:
            out[i][0] += out[i + 1][0]
            out.pop(i + 1)
        else:
            i += 1
    return out


PROMPTS = [
    "",
    "a lighthouse at dusk",
    "(red scarf)",
    "((snow))",
    "(((very strong)))",
    "[blurry]",
    "[[faint]]",
    "(red scarf:1.3)",
    "(red scarf:0)",
    "(red scarf:2.5)",
    "(red scarf: 1.3 )",
    "(a:+1.5)",
    "(a:-0.5)",
    "(a:.5)",
    "(a:1.)",
    "(a:1.2.3)",
    "(a:.)",
    "masterpiece, (red scarf:1.3), ((snow)), [blurry] <lora:inkStyle:0.7>",
    "(outer (inner) outer)",
    "(outer [inner] outer:1.5)",
    "[outer (inner:2) outer]",
    "((a) b)",
    "\\(not weighted\\)",
    "\\[literal\\]",
    "back\\\\slash",
    "lone \\ backslash",
    "a \\(b (c) d\\) e",
    "(unclosed",
    "((unclosed twice",
    "[unclosed square",
    "closed too much)",
    "closed too much]",
    "a ) b ( c",
    "ratio 16:9 widescreen",
    "time 12:30)",
    "(a:1.3) and (b:1.3)",
    "(a) b (c)",
    "a BREAK b",
    "a BREAK",
    "BREAK a",
    "a BREAK BREAK b",
    "aBREAK b BREAKc BREAK_d",
    "a\nBREAK\nb",
    "(a BREAK b)",
    "[a BREAK b]",
    "a, (b BREAK c:1.2), d",
    "((a:1.5):1.2)",
    "café (crème brûlée:1.2), 東京 [夜景]",
    "emoji 🌸 (sakura:1.1)",
    "(:1.2)",
    "():",
    "([])",
    "a (b:1.1) (c) d",
]


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    cases = [{"prompt": p, "parsed": [{"text": t, "weight": w} for t, w in parse(p)]} for p in PROMPTS]
    with open(os.path.join(here, "attention.json"), "w", encoding="utf-8") as f:
        json.dump({"generator": "make_goldens.py", "cases": cases}, f, ensure_ascii=False, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
