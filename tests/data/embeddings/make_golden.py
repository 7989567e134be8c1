#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Writes the textual-inversion test data for the tiny-sd15 fixture (computed on CPU in float32; index.json lists
every tensor, its meaning, the prompts, their token ids and all the parameters):

- Embedding files, seeded random float32 vectors scaled to the std of the fixture's token embedding table
  (text_model.embeddings.token_embedding.weight, [49408, 48]). The file stem is the embedding's name, as
  AUTOMATIC1111 uses it in prompts.
  - inkemb.safetensors: AUTOMATIC1111 format, one key `emb_params` [2, 48]: a 2-vector embedding.
  - softglow.safetensors: diffusers learned_embeds.safetensors format, one key `<softglow>` [48]: one vector.
  - sdxl_emb.safetensors: SDXL format, `clip_l` [1, 768] and `clip_g` [1, 1280], for a refusal test.
  - wrongdim.safetensors: AUTOMATIC1111 format, `emb_params` [1, 64] (48 + 16), for a refusal test.
- golden.safetensors, for each prompt i of PROMPTS: embeds_i, what StableDiffusionPipeline.encode_prompt returns
  (text encoder output after the final layer norm, clip skip 1: [1, 77, 48]); ids_i, the input ids diffusers fed
  the text encoder ([1, 77] int64, captured by a forward pre-hook on it); plain_ids_i, the prompt tokenized by
  the fixture's unmodified CLIP tokenizer (what an engine's own tokenizer produces). a1111_ids_4 / a1111_embeds_4:
  AUTOMATIC1111's rule for the one prompt where it differs from diffusers (below). And the full pipeline for
  PIPE: "a red fox, inkemb, in the snow", negative "softglow", seed 77, 6 steps, CFG 7.5, 64x64,
  EulerDiscreteScheduler.from_config(the fixture's scheduler config): image (output_type "pt", [1,3,64,64] in
  [0,1]) and latents (final latents, callback_on_step_end after the last step).

How the goldens are computed: diffusers itself, pipe.load_textual_inversion(file, token=NAME) for inkemb and
softglow; it works as is with diffusers 0.40.0 + transformers 5.12.1 (no workaround; the text encoder is called
without clip_skip, so the broken `text_encoder.text_model` clip-skip path is not used). What it does: a one-key
file is taken as diffusers format whatever the key (so `emb_params` works like `<softglow>`); the `token` argument
replaces the key's name. An [n, 48] tensor with n > 1 becomes n added tokens NAME, NAME_1 ... NAME_{n-1}; [48] or
[1, 48] one token NAME. resize_token_embeddings grows the table and the vectors are written into the new rows:
inkemb -> id 49408, inkemb_1 -> 49409, softglow -> 49410. The SDXL file (two keys, no string_to_param) and the
wrong-width file raise ValueError in load_textual_inversion (checked below, on a fresh pipeline).

How diffusers finds the names in a prompt (transformers 5 CLIPTokenizer, backed by `tokenizers`): first
maybe_convert_prompt tokenizes the prompt, and for each added token found that has NAME_1, NAME_2 ... added too,
does prompt.replace(NAME, "NAME NAME_1 ...") -- a plain, case-sensitive substring replace. Then the tokenizer
splits added tokens out of the lowercased text before CLIP's word splitting, matching them ANYWHERE, not as whole
words (the added tokens have single_word=False, lstrip=rstrip=False): "inkembs" gives "inkemb" + "s</w>" and
"xinkemb" gives "x</w>" + "inkemb" (and the replace has made it "xinkemb inkemb_1" first, so both vectors).
The replace is case-sensitive but the token match is not: "INKEMB" becomes the one token inkemb, vector 0
only (not in the goldens). The rest of the text is BPE-tokenized as usual. AUTOMATIC1111 instead
tokenizes the prompt with plain CLIP BPE and looks for the name's own BPE ids (inkemb = in, ke, mb</w> = 512, 643,
3996; softglow = sof, tg, low</w> = 1571, 7665, 1042) in the prompt's ids; a match is replaced by the
embedding's vectors, so the prompt gets as many positions as the embedding has vectors. For prompts 0-3 and 5 the
two rules give the same ids (asserted: a1111 rule with the added ids standing for the vectors == ids_i). For
prompt 4, "inkembs and inkemb", they differ: the plain ids are in ke mbs</w> and in ke mb</w>
(512 643 10370 537 512 643 3996), so AUTOMATIC1111 replaces only the second "inkemb" (ids 49406 512 643 10370
537 <inkemb 0> <inkemb 1> 49407 ...), while diffusers turns the text into "inkemb inkemb_1s and inkemb inkemb_1"
and feeds 49406 49408 49409 338(s</w>) 537 49408 49409 49407 ...: both occurrences are the embedding and "s"
is a separate word. embeds_4 is diffusers' result, a1111_embeds_4 AUTOMATIC1111's (the text encoder of the
pipeline with the embeddings loaded, fed a1111_ids_4, where 49408/49409 stand for inkemb's two vectors).
Padding is <|endoftext|> (49407) in both. "a lighthouse at dusk" has no embedding: its embeds equal a fresh
pipeline's (asserted bit for bit).

Run: .venv/bin/python tests/data/embeddings/make_golden.py   (needs torch, diffusers and transformers, pinned in
scripts/versions.env; the fixture is ../shared/fixtures/tiny-sd15, read only)
"""
import json
import os

import diffusers
import torch
import transformers
from diffusers import EulerDiscreteScheduler, StableDiffusionPipeline
from safetensors.torch import load_file, save_file
from transformers import CLIPTokenizer

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURE = os.path.join(HERE, "..", "..", "..", "..", "shared", "fixtures", "tiny-sd15")
PROMPTS = ["a red fox, inkemb, in the snow", "softglow portrait of a woman", "inkemb softglow",
           "a lighthouse at dusk", "inkembs and inkemb", "softglow"]
PLAIN_PROMPT = 3  # no embedding in it
DIFFERS_FROM_A1111 = 4
PIPE = {"prompt": PROMPTS[0], "negative_prompt": PROMPTS[5], "seed": 77, "steps": 6, "guidance": 7.5, "size": 64}
USABLE = ["inkemb", "softglow"]  # loaded into diffusers, in this order
SEEDS = {"inkemb": 501, "softglow": 502, "sdxl_emb": 503, "wrongdim": 504}


def load_pipeline():
    pipe = StableDiffusionPipeline.from_pretrained(FIXTURE, dtype=torch.float32)
    pipe.scheduler = EulerDiscreteScheduler.from_config(pipe.scheduler.config)
    pipe.set_progress_bar_config(disable=True)
    return pipe


def make_embeddings(dim, std):
    """Seeded random vectors at the token embedding table's std, in each file's layout."""
    def vectors(name, *shape):
        return (torch.randn(shape, generator=torch.Generator().manual_seed(SEEDS[name])) * std).contiguous()
    return {"inkemb": {"emb_params": vectors("inkemb", 2, dim)},
            "softglow": {"<softglow>": vectors("softglow", dim)},
            "sdxl_emb": {"clip_l": vectors("sdxl_emb", 1, 768), "clip_g": vectors("sdxl_emb", 1, 1280)},
            "wrongdim": {"emb_params": vectors("wrongdim", 1, dim + 16)}}


def a1111_ids(plain, name_ids, vector_ids, length):
    """AUTOMATIC1111's rule on plain CLIP ids (BOS ... EOS): at each position, the longest embedding name whose
    BPE ids start there is replaced by the embedding's vectors (here: the ids diffusers gave them); then
    <|endoftext|> padding to `length`."""
    out, pos = [plain[0]], 1
    while pos < len(plain) - 1:
        for name in sorted(name_ids, key=lambda n: -len(name_ids[n])):
            ids = name_ids[name]
            if plain[pos:pos + len(ids)] == ids:
                out += vector_ids[name]
                pos += len(ids)
                break
        else:
            out.append(plain[pos])
            pos += 1
    out.append(plain[-1])
    assert len(out) <= length
    return out + [plain[-1]] * (length - len(out))


def main():
    torch.set_num_threads(1)  # as the fixture goldens were made
    pipe = load_pipeline()
    plain_tok = CLIPTokenizer.from_pretrained(os.path.join(FIXTURE, "tokenizer"))
    table = pipe.text_encoder.get_input_embeddings().weight
    dim, std, vocab = table.shape[1], table.std().item(), table.shape[0]
    with open(os.path.join(FIXTURE, "text_encoder", "config.json")) as f:
        assert dim == json.load(f)["hidden_size"]
    for name, sd in make_embeddings(dim, std).items():
        save_file(sd, os.path.join(HERE, f"{name}.safetensors"))
    files = {name: os.path.join(HERE, f"{name}.safetensors") for name in SEEDS}

    refusals = {}
    fresh = load_pipeline()
    for name, start in (("sdxl_emb", "Loaded state dictionary is incorrect"),
                        ("wrongdim", "Loaded embeddings are of incorrect shape")):
        try:
            fresh.load_textual_inversion(files[name], token=name)
            raise AssertionError(f"diffusers loaded {name}")
        except ValueError as e:
            assert str(e).startswith(start), str(e)[:200]
            refusals[name] = f"ValueError: {start} ..."
    plain_embeds = fresh.encode_prompt(PROMPTS[PLAIN_PROMPT], "cpu", 1, False)[0]
    del fresh

    for name in USABLE:
        pipe.load_textual_inversion(files[name], token=name)
    tok = pipe.tokenizer
    added = {t: i for t, i in tok.added_tokens_encoder.items() if i >= vocab}
    assert added == {"inkemb": vocab, "inkemb_1": vocab + 1, "softglow": vocab + 2}, added
    stored = {name: load_file(files[name]) for name in USABLE}
    vectors = {"inkemb": list(stored["inkemb"]["emb_params"]), "softglow": [stored["softglow"]["<softglow>"]]}
    vector_ids = {name: [added[name]] + [added[f"{name}_{i}"] for i in range(1, len(v))]
                  for name, v in vectors.items()}
    table = pipe.text_encoder.get_input_embeddings().weight
    for name, ids in vector_ids.items():
        assert all(torch.equal(table[i], v) for i, v in zip(ids, vectors[name]))
    name_ids = {name: plain_tok(name).input_ids[1:-1] for name in USABLE}

    fed = []
    pipe.text_encoder.register_forward_pre_hook(
        lambda m, args, kwargs: fed.append((args[0] if args else kwargs["input_ids"]).clone()), with_kwargs=True)
    golden, prompts = {}, []
    with torch.no_grad():
        for i, prompt in enumerate(PROMPTS):
            fed.clear()
            golden[f"embeds_{i}"] = pipe.encode_prompt(prompt, "cpu", 1, False)[0]
            (ids,) = fed
            golden[f"ids_{i}"] = ids.to(torch.int64)
            converted = pipe.maybe_convert_prompt(prompt, tok)
            assert torch.equal(ids, tok(converted, padding="max_length", max_length=tok.model_max_length,
                                        truncation=True, return_tensors="pt").input_ids)
            plain = plain_tok(prompt).input_ids
            golden[f"plain_ids_{i}"] = torch.tensor([plain_tok(prompt, padding="max_length", max_length=77,
                                                               truncation=True).input_ids], dtype=torch.int64)
            a1111 = a1111_ids(plain, name_ids, vector_ids, ids.shape[1])
            same = a1111 == ids[0].tolist()
            assert same == (i != DIFFERS_FROM_A1111), (prompt, a1111, ids[0].tolist())
            if not same:
                golden[f"a1111_ids_{i}"] = torch.tensor([a1111], dtype=torch.int64)
                golden[f"a1111_embeds_{i}"] = pipe.text_encoder(golden[f"a1111_ids_{i}"])[0]
            prompts.append(describe(i, prompt, converted, tok, ids[0].tolist(), plain, a1111, same, vector_ids))
        assert torch.equal(golden[f"embeds_{PLAIN_PROMPT}"], plain_embeds)

        def keep_latents(p, step, t, kw):
            golden["latents"] = kw["latents"].clone()
            return kw

        fed.clear()
        golden["image"] = pipe(PIPE["prompt"], negative_prompt=PIPE["negative_prompt"], height=PIPE["size"],
                               width=PIPE["size"], num_inference_steps=PIPE["steps"],
                               guidance_scale=PIPE["guidance"],
                               generator=torch.Generator("cpu").manual_seed(PIPE["seed"]), output_type="pt",
                               callback_on_step_end=keep_latents).images
        # The pipeline encodes the prompt then the negative prompt, with the ids checked above.
        assert [f.tolist() for f in fed] == [golden["ids_0"].tolist(), golden["ids_5"].tolist()]
    golden = {k: v.contiguous() for k, v in golden.items()}
    save_file(golden, os.path.join(HERE, "golden.safetensors"))
    write_index(pipe, golden, prompts, dim, std, name_ids, vector_ids, refusals)


def describe(i, prompt, converted, tok, ids, plain, a1111, same, vector_ids):
    vector_of = {vid: f"{name}[{k}]" for name, vids in vector_ids.items() for k, vid in enumerate(vids)}
    end = ids.index(tok.eos_token_id) + 1  # the first <|endoftext|>: padding after it
    entry = {"key": i, "prompt": prompt, "diffusers_converted_prompt": converted,
             "diffusers_tokens": tok.convert_ids_to_tokens(ids[:end]), "ids": ids[:end],
             "embedding_positions": {str(p): vector_of[t] for p, t in enumerate(ids) if t in vector_of},
             "plain_ids": plain, "a1111_matches_diffusers": same}
    if not same:
        a_end = a1111.index(tok.eos_token_id) + 1
        entry["a1111_ids"] = a1111[:a_end]
        entry["a1111_embedding_positions"] = {str(p): vector_of[t] for p, t in enumerate(a1111) if t in vector_of}
    return entry


def write_index(pipe, golden, prompts, dim, std, name_ids, vector_ids, refusals):
    n = len(PROMPTS)
    meaning = {
        "embeds": "pipe.encode_prompt(prompt, 'cpu', 1, do_classifier_free_guidance=False)[0] with inkemb and "
                  "softglow loaded: text encoder output after the final layer norm (clip skip 1)",
        "ids": "the input ids diffusers fed the text encoder in encode_prompt (after maybe_convert_prompt); "
               "49408 = inkemb vector 0, 49409 = inkemb vector 1, 49410 = softglow",
        "plain_ids": "the prompt tokenized by the fixture's unmodified CLIP tokenizer, padded with 49407 to 77",
        "a1111_ids": "AUTOMATIC1111's rule: plain ids with the name's BPE ids replaced by the embedding's vectors "
                     "(49408/49409 = inkemb's two vectors), padded with 49407 to 77",
        "a1111_embeds": "the text encoder (embeddings loaded) fed a1111_ids: AUTOMATIC1111's result",
    }
    tensors = {}
    for key, v in golden.items():
        what = key.rsplit("_", 1)[0]
        if key == "image":
            text = "pipeline(PIPE).images with output_type='pt': float [1,3,H,W] in [0,1]"
        elif key == "latents":
            text = ("final latents of PIPE (callback_on_step_end after the last step), before the VAE: the image "
                    "is vae.decode(latents / scaling_factor) post-processed")
        else:
            text = f"PROMPTS[{key.rsplit('_', 1)[1]}]: {meaning[what]}"
        tensors[key] = {"shape": list(v.shape), "dtype": str(v.dtype).replace("torch.", ""), "meaning": text}
    files = {
        "inkemb.safetensors": {"format": "AUTOMATIC1111", "keys": {"emb_params": [2, dim]}, "vectors": 2},
        "softglow.safetensors": {"format": "diffusers learned_embeds", "keys": {"<softglow>": [dim]}, "vectors": 1},
        "sdxl_emb.safetensors": {"format": "SDXL (refuse)", "keys": {"clip_l": [1, 768], "clip_g": [1, 1280]}},
        "wrongdim.safetensors": {"format": "AUTOMATIC1111, wrong width (refuse)",
                                 "keys": {"emb_params": [1, dim + 16]}},
    }
    for name, seed in SEEDS.items():
        files[f"{name}.safetensors"].update({"name": name, "dtype": "float32", "seed": seed,
                                             "values": f"torch.randn(shape, generator=torch.Generator()"
                                                       f".manual_seed({seed})) * {std!r}"})
    for name, why in refusals.items():
        files[f"{name}.safetensors"]["diffusers_load_textual_inversion"] = why
    for name in USABLE:
        files[f"{name}.safetensors"].update({"clip_bpe_ids_of_name": name_ids[name],
                                             "diffusers_added_ids": vector_ids[name]})
    index = {
        "description": __doc__.split("\n\nRun:")[0],
        "environment": {"torch": torch.__version__, "diffusers": diffusers.__version__,
                        "transformers": transformers.__version__, "torch_num_threads": torch.get_num_threads(),
                        "device": "cpu", "dtype": "float32"},
        "fixture": "../shared/fixtures/tiny-sd15",
        "text_encoder_hidden_size": dim,
        "token_embedding_std": std,
        "embeddings": files,
        "loading": "pipe.load_textual_inversion(<file>, token=<name>) for inkemb, then softglow",
        "prompts": prompts,
        "pipeline": {"class": "StableDiffusionPipeline", "prompt": PIPE["prompt"],
                     "negative_prompt": PIPE["negative_prompt"],
                     "generator": f"torch.Generator('cpu').manual_seed({PIPE['seed']})",
                     "num_inference_steps": PIPE["steps"], "guidance_scale": PIPE["guidance"],
                     "height": PIPE["size"], "width": PIPE["size"], "output_type": "pt",
                     "scheduler_class": "EulerDiscreteScheduler",
                     "scheduler": "EulerDiscreteScheduler.from_config(<fixture's scheduler/scheduler_config.json>)",
                     # _use_default_values comes from a set: sorted, so the file is the same every run
                     "scheduler_config": {k: sorted(v) if k == "_use_default_values" else v
                                          for k, v in pipe.scheduler.config.items()},
                     "timesteps": pipe.scheduler.timesteps.tolist(),
                     "prompt_ids": "ids_0", "negative_prompt_ids": "ids_5"},
        "tensors": {"file": "golden.safetensors", "count_prompts": n, **tensors},
    }
    with open(os.path.join(HERE, "index.json"), "w") as f:
        json.dump(index, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
