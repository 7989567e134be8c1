#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Writes clip_skip.safetensors: the tiny-sd15 fixture's text-encoder output at each "Clip skip", for
TestClipTextEncoder. Clip skip N (AUTOMATIC1111's count) is hidden_states[-N] through the final layer norm;
diffusers calls N = 2 `clip_skip=1`. Taken from the model directly: diffusers 0.40's own clip_skip path fails with
transformers 5 (CLIPTextModel has no `text_model` attribute there).

Run: .venv/bin/python tests/data/clip-skip/make_golden.py   (needs torch and transformers, pinned in
scripts/versions.env; the fixture is ../shared/fixtures/tiny-sd15)
"""
import os

import torch
from safetensors.torch import save_file
from transformers import CLIPTextModel, CLIPTokenizer

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURE = os.path.join(HERE, "..", "..", "..", "..", "shared", "fixtures", "tiny-sd15")
PROMPTS = ["a lighthouse at dusk, oil painting", "", "portrait of an old sailor, charcoal sketch, dramatic light"]


def main():
    tokenizer = CLIPTokenizer.from_pretrained(os.path.join(FIXTURE, "tokenizer"))
    model = CLIPTextModel.from_pretrained(os.path.join(FIXTURE, "text_encoder")).eval()
    norm = model.get_submodule("final_layer_norm")
    tensors = {}
    with torch.no_grad():
        for i, prompt in enumerate(PROMPTS):
            ids = tokenizer(prompt, padding="max_length", max_length=77, truncation=True,
                            return_tensors="pt").input_ids
            out = model(ids, output_hidden_states=True)
            tensors[f"ids_{i}"] = ids.to(torch.int64).contiguous()
            for skip in range(1, model.config.num_hidden_layers + 1):
                tensors[f"skip{skip}_{i}"] = norm(out.hidden_states[-skip]).contiguous()
    save_file(tensors, os.path.join(HERE, "clip_skip.safetensors"))


if __name__ == "__main__":
    main()
