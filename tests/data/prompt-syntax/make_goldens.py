#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Writes attention.json: AUTOMATIC1111's prompt-attention parse of tricky prompts, for TestPromptAttention; and
chunks.json: how A1111 lays those prompts (and long ones) into CLIP's 77-token chunks with a weight per token, for
TestPromptChunks (this part needs transformers, pinned in scripts/versions.env; `scripts/setup --with-bench`).

A reference written from A1111's documented behaviour (its wiki, "Attention/emphasis"; its parse_prompt_attention
contract): the tokens below, in this order of preference, ( and [ open, ) and ] close multiplying by 1.1 and 1/1.1,
(text:N) sets the factor, escapes are literal, unbalanced brackets are text or apply to the end, BREAK outside
brackets is an entry of weight -1, equal neighbours merge. One deviation, where A1111 raises an exception: a factor
that is not a number (`(a:1.2.3)`) leaves its text as written.

Chunks follow A1111's documented tokenize_line: each parsed run tokenized alone (no BOS/EOS), 75 ids a chunk,
BREAK ends one, and when a chunk fills with a comma at most 20 ids back, the ids after the comma move on.

Run: .venv/bin/python tests/data/prompt-syntax/make_goldens.py   (rewrites attention.json and chunks.json beside it)
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


CHUNK_IDS = 75
BACKTRACK = 20


def chunks_of(tokenizer, text):
    comma = tokenizer.get_vocab().get(",</w>")
    bos, eos = tokenizer.bos_token_id, tokenizer.eos_token_id
    done, ids, weights = [], [], []
    last_comma = -1

    def next_chunk():
        nonlocal ids, weights, last_comma
        pad = CHUNK_IDS - len(ids)
        done.append({"ids": [bos] + ids + [eos] * pad + [eos], "weights": [1.0] + weights + [1.0] * pad + [1.0]})
        ids, weights, last_comma = [], [], -1

    parsed = parse(text)
    for run_text, weight in parsed:
        if run_text == "BREAK" and weight == -1:
            next_chunk()
            continue
        for token in tokenizer(run_text, add_special_tokens=False)["input_ids"]:
            if token == comma:
                last_comma = len(ids)
            elif len(ids) == CHUNK_IDS and last_comma != -1 and len(ids) - last_comma <= BACKTRACK:
                cut = last_comma + 1
                moved_ids, moved_weights = ids[cut:], weights[cut:]
                ids, weights = ids[:cut], weights[:cut]
                next_chunk()
                ids, weights = moved_ids, moved_weights
            if len(ids) == CHUNK_IDS:
                next_chunk()
            ids.append(token)
            weights.append(weight)
    if ids or not done:
        next_chunk()
    return done


def long_prompts():
    words = "lighthouse cliff dusk oil painting portrait fox forest river night rain snow castle dragon".split()
    out = []
    # 74, 75, 76 and 150 ids without a comma: the chunk edges.
    for n in (74, 75, 76, 150):
        out.append(" ".join(words[i % len(words)] for i in range(n)))
    # Phrases of 3 words and a comma: a comma within 20 ids of every edge, so phrases move whole.
    out.append(", ".join(" ".join(words[(i + j) % len(words)] for j in range(3)) for i in range(40)))
    # A comma 21 ids before the edge: too far back, the chunk is cut where it fills; then exactly 20 back: the
    # words after it move on.
    for before in (54, 55):
        out.append(" ".join(words[i % len(words)] for i in range(before)) + ", "
                   + " ".join(words[i % len(words)] for i in range(40)))
    # Weights across the edge, a BREAK at it and one just after.
    out.append(" ".join(words[i % len(words)] for i in range(70)) + " (strong words here:1.4) and more [faint]")
    out.append(" ".join(words[i % len(words)] for i in range(75)) + " BREAK after")
    out.append(" ".join(words[i % len(words)] for i in range(76)) + " BREAK after")
    out.append("((masterpiece)), best quality, " * 12)
    return out


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    cases = [{"prompt": p, "parsed": [{"text": t, "weight": w} for t, w in parse(p)]} for p in PROMPTS]
    with open(os.path.join(here, "attention.json"), "w", encoding="utf-8") as f:
        json.dump({"generator": "make_goldens.py", "cases": cases}, f, ensure_ascii=False, indent=1)
        f.write("\n")

    from transformers import CLIPTokenizer  # only here: attention.json needs nothing but the standard library

    vocabulary = os.path.join(here, "..", "..", "..", "resources", "models", "atelier-tiny", "tokenizer")
    tokenizer = CLIPTokenizer.from_pretrained(vocabulary)
    cases = [{"prompt": p, "chunks": chunks_of(tokenizer, p)} for p in PROMPTS + long_prompts()]
    with open(os.path.join(here, "chunks.json"), "w", encoding="utf-8") as f:
        json.dump({"generator": "make_goldens.py", "tokenizer": "resources/models/atelier-tiny/tokenizer",
                   "cases": cases}, f, ensure_ascii=False, separators=(",", ":"))
        f.write("\n")


if __name__ == "__main__":
    main()
