#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Writes the text embeddings AUTOMATIC1111 makes of every prompt in chunks.json with its default "Original"
emphasis, for the tiny-sd15 fixture's text encoder: embeddings.safetensors, embeddings_long.safetensors and
embeddings.json. Computed on the CPU in float32 with one thread.

A reference written from A1111's documented behaviour (modules/sd_hijack_clip.py, process_tokens, and
modules/sd_emphasis.py, EmphasisOriginal), checking only the encoder and the emphasis: the ids and weights of each
chunk are taken as they are from chunks.json (written by make_goldens.py, which this script leaves alone). For each
77-id chunk [BOS, 75 ids, EOS / padding], encoded alone:
    z = CLIPTextModel(ids [1, 77]).last_hidden_state        (after the final layer norm, no attention mask:
                                                              clip skip 1, what SD 1.x's UNet gets)
    original_mean = z.mean()                                  (over the whole [1, 77, hidden] tensor)
    z = z * weights                                           (weights [1, 77, 1] float32, from chunks.json)
    new_mean = z.mean()
    z = z * (original_mean / new_mean)
all in float32; the prompt's embedding is its chunks' z concatenated along the tokens: [1, 77 * chunks, hidden].
A chunk whose weights are all 1 comes out exactly as the encoder gave it (the factor is exactly 1).

Keys: prompt_<i>, i the case's index in chunks.json. The prompts of attention.json (the attention-syntax cases) are in
embeddings.safetensors, the others (long prompts, made for the chunk edges) in embeddings_long.safetensors, so that
each file stays under 1 MB; embeddings.json lists every index with its prompt, file, key, shape and, per chunk,
original_mean, new_mean and their ratio.

chunks.json's ids come from resources/models/atelier-tiny/tokenizer; the script checks that the fixture's tokenizer has
the same vocab.json and merges.txt, byte for byte, and fails otherwise. It also checks the encoder against the
fixture's own text-encoder goldens wherever a chunk has the same ids (and all weights 1).

Run: .venv/bin/python tests/data/prompt-syntax/make_embeddings.py   (torch and transformers, pinned in
scripts/versions.env; the fixture is ../shared/fixtures/tiny-sd15, read only)
"""
import hashlib
import json
import os

import torch
import transformers
from safetensors.torch import load_file, save_file
from transformers import CLIPTextModel

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(HERE, "..", "..", "..")
FIXTURE = os.path.join(ROOT, "..", "shared", "fixtures", "tiny-sd15")
VOCABULARY = os.path.join(ROOT, "resources", "models", "atelier-tiny", "tokenizer")
FILES = {True: "embeddings.safetensors", False: "embeddings_long.safetensors"}  # keyed by "in attention.json"


def sha256(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def check_vocabulary():
    out = {}
    for name in ("vocab.json", "merges.txt"):
        ours, fixture = sha256(os.path.join(VOCABULARY, name)), sha256(os.path.join(FIXTURE, "tokenizer", name))
        assert ours == fixture, f"{name}: the fixture's tokenizer differs from resources/models/atelier-tiny's"
        out[name] = {"sha256": ours, "identical": True}
    return out


def emphasis(model, ids, weights):
    """A1111's process_tokens + EmphasisOriginal.after_transformers for one chunk."""
    z = model(input_ids=ids).last_hidden_state
    original_mean = z.mean()
    z = z * weights.reshape(weights.shape + (1,)).expand(z.shape)
    new_mean = z.mean()
    z = z * (original_mean / new_mean)
    return z, original_mean.item(), new_mean.item()


def main():
    torch.set_num_threads(1)  # as the fixture goldens were made
    vocabulary = check_vocabulary()
    with open(os.path.join(HERE, "chunks.json"), encoding="utf-8") as f:
        chunks = json.load(f)
    with open(os.path.join(HERE, "attention.json"), encoding="utf-8") as f:
        attention_prompts = {case["prompt"] for case in json.load(f)["cases"]}
    model = CLIPTextModel.from_pretrained(os.path.join(FIXTURE, "text_encoder")).eval()

    # The fixture's text-encoder goldens: ids -> last_hidden_state, to check the encoder where the ids agree.
    fixture_goldens = load_file(os.path.join(FIXTURE, "goldens", "text_encoder.safetensors"))
    fixture_cases = [(fixture_goldens[k], fixture_goldens[k.replace("input_ids", "last_hidden_state")])
                     for k in sorted(fixture_goldens) if k.endswith(".input_ids")]
    fixture_checks = []

    tensors = {name: {} for name in FILES.values()}
    cases = []
    max_abs = 0.0
    with torch.no_grad():
        for i, case in enumerate(chunks["cases"]):
            zs, chunk_info = [], []
            for chunk in case["chunks"]:
                ids = torch.tensor([chunk["ids"]], dtype=torch.int64)
                weights = torch.tensor([chunk["weights"]], dtype=torch.float32)
                z, original_mean, new_mean = emphasis(model, ids, weights)
                zs.append(z)
                chunk_info.append({"original_mean": original_mean, "new_mean": new_mean,
                                   "factor": original_mean / new_mean})
                if all(w == 1.0 for w in chunk["weights"]):
                    for fixture_ids, fixture_z in fixture_cases:
                        if torch.equal(fixture_ids, ids):
                            diff = (fixture_z - z).abs().max().item()
                            assert diff < 1e-5, f"prompt {i}: the encoder differs from the fixture's golden by {diff}"
                            fixture_checks.append({"prompt_index": i, "max_abs_diff": diff})
            embedding = torch.cat(zs, dim=1).contiguous()
            file = FILES[case["prompt"] in attention_prompts]
            tensors[file][f"prompt_{i}"] = embedding
            max_abs = max(max_abs, embedding.abs().max().item())
            cases.append({"index": i, "prompt": case["prompt"], "file": file, "key": f"prompt_{i}",
                          "shape": list(embedding.shape), "dtype": "float32", "chunks": chunk_info})
    for file, content in tensors.items():
        save_file(content, os.path.join(HERE, file))
        os.chmod(os.path.join(HERE, file), 0o644)

    index = {
        "description": __doc__.split("\n\nRun:")[0],
        "generator": "tests/data/prompt-syntax/make_embeddings.py",
        "environment": {"torch": torch.__version__, "transformers": transformers.__version__,
                        "torch_num_threads": torch.get_num_threads(), "device": "cpu", "dtype": "float32"},
        "fixture": "../shared/fixtures/tiny-sd15 (text_encoder)",
        "chunks": "chunks.json (ids and weights taken as they are)",
        "tokenizer_vocabulary_vs_fixture": vocabulary,
        "fixture_text_encoder_checks": fixture_checks,
        "max_abs": max_abs,
        "cases": cases,
    }
    with open(os.path.join(HERE, "embeddings.json"), "w", encoding="utf-8") as f:
        json.dump(index, f, ensure_ascii=False, indent=1, allow_nan=False)
        f.write("\n")


if __name__ == "__main__":
    main()
