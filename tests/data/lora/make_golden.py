#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Writes the LoRA test data for the tiny-sd15 fixture (computed on CPU in float32; index.json lists every tensor,
its meaning and all the parameters):

- lora_a.safetensors, lora_b.safetensors: kohya / AUTOMATIC1111 LoRAs with seeded random weights. Keys are
  lora_unet_<diffusers module path, . -> _> and lora_te_text_model_<CLIPTextModel path, . -> _>, each with
  .lora_down.weight, .lora_up.weight and a 0-dim .alpha. Linear: down [r, in], up [out, r]; 1x1 conv (proj_in/out,
  use_linear_projection is false): down [r, in, 1, 1], up [out, r, 1, 1]; LoCon 3x3 conv: down [r, in, 3, 3], up
  [out, r, 1, 1]. A: rank 4, alpha 2, every attention to_q/k/v/out_0, ff_net_0_proj, ff_net_2, proj_in/out,
  resnet conv1/conv2, down/upsampler conv, and every text-encoder q/k/v/out_proj, mlp_fc1/fc2. B: rank 8, alpha 8,
  attn2 to_k/to_v, text-encoder mlp_fc1/fc2 and mid_block_resnets_0_time_emb_proj. Stored in float16, as most
  LoRA files are: A's targets at rank 4 take over 1 MB in float32. The goldens use the stored values.
- golden.safetensors: StableDiffusionPipeline outputs with no LoRA (base_*), with A at 1.0 (a_*), and with A at 0.7
  plus B at -0.4 (ab_*): float image [1,3,64,64] in [0,1], final latents, prompt embeds of PROMPT; and the UNet's
  noise prediction for a seeded sample at t=500 given the case's prompt embeds (base_, a_noise_pred). PROMPT, seed
  1234, 8 steps, CFG 7.5, 64x64, EulerDiscreteScheduler.from_config(the fixture's scheduler config).
- loha.safetensors, lokr.safetensors, sdxl.safetensors: LyCORIS LoHa / LoKr files and an SDXL kohya LoRA, a few
  tensors each, for the loader's refusals (not loaded here).

How the goldens are computed: diffusers itself, pipe.load_lora_weights(state_dict, adapter_name=...) and
pipe.set_adapters(names, adapter_weights=...), i.e. PEFT LoRA layers (W x + weight * alpha/rank * up(down(x))).
diffusers 0.40 applies every UNet key of both files, LoCon 3x3 convs and time_emb_proj included (checked below:
the number of PEFT-wrapped modules equals the number of LoRA modules in the file). One workaround: with
transformers 5.12.1, CLIPTextModel has no `text_model` level (its modules are encoder.layers.N...), so diffusers'
kohya path for lora_te_text_model_* keys finds no module ranks and load_lora_weights raises IndexError in
get_peft_kwargs. The text-encoder keys are therefore handed to load_lora_weights renamed lora_te_text_model_* ->
lora_te_* (the files keep the standard names). As a cross-check, every output is recomputed by merging the
files' deltas into the weights of a fresh pipeline (W += weight * alpha/rank * (up @ down) reshaped to W) and
running the unmodified pipeline; the two must agree to float32 rounding (the differences go into index.json).

Run: .venv/bin/python tests/data/lora/make_golden.py   (needs torch, diffusers, transformers, peft and accelerate,
pinned in scripts/versions.env; the fixture is ../shared/fixtures/tiny-sd15, read only)
"""
import json
import os

import diffusers
import peft
import torch
import transformers
from diffusers import EulerDiscreteScheduler, StableDiffusionPipeline
from safetensors.torch import load_file, save_file

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURE = os.path.join(HERE, "..", "..", "..", "..", "shared", "fixtures", "tiny-sd15")
PROMPT, NEGATIVE, SEED, STEPS, GUIDANCE, SIZE = "a lighthouse at dusk, oil painting", "", 1234, 8, 7.5, 64
NOISE_PRED_SEED, NOISE_PRED_TIMESTEP = 4321, 500
UP_SCALE = 0.15  # std of up@down relative to the base weights' 1/sqrt(fan_in): a clear but not absurd change
CASES = {"a": (["a"], [1.0]), "ab": (["a", "b"], [0.7, -0.4])}


def load_pipeline():
    pipe = StableDiffusionPipeline.from_pretrained(FIXTURE, dtype=torch.float32)
    pipe.scheduler = EulerDiscreteScheduler.from_config(pipe.scheduler.config)
    pipe.set_progress_bar_config(disable=True)
    return pipe


def module_names(pipe):
    """Kohya LoRA name -> (component, module path) for every module of the UNet and the text encoder."""
    names = {"lora_unet_" + n.replace(".", "_"): ("unet", n) for n, _ in pipe.unet.named_modules() if n}
    # Kohya names keep transformers 4's CLIPTextModel.text_model level; transformers 5 dropped it.
    names.update({"lora_te_text_model_" + n.replace(".", "_"): ("text_encoder", n)
                  for n, _ in pipe.text_encoder.named_modules() if n})
    return names


def make_lora(pipe, wanted, rank, alpha, seed):
    """Seeded random kohya LoRA on every module whose path `wanted` accepts, in sorted key order."""
    g = torch.Generator().manual_seed(seed)
    sd = {}
    for key, (component, path) in sorted(module_names(pipe).items()):
        if not wanted(component, path):
            continue
        w = getattr(pipe, component).get_submodule(path).weight
        down = (rank, *w.shape[1:])  # linear [r, in]; conv [r, in, k, k] (LoCon keeps the kernel in down)
        up = (w.shape[0], rank) + (1, 1) * (w.ndim == 4)
        fan_in = torch.Size(down[1:]).numel()
        sd[key + ".lora_down.weight"] = torch.randn(down, generator=g) / fan_in ** 0.5
        # up@down then has std UP_SCALE * rank/alpha / sqrt(fan_in), so the applied delta is UP_SCALE times the
        # base weights' scale whatever the rank and alpha.
        sd[key + ".lora_up.weight"] = torch.randn(up, generator=g) * (UP_SCALE * rank / alpha / rank ** 0.5)
        sd[key + ".alpha"] = torch.tensor(float(alpha))
    # float16 as most LoRA files are stored; in float32, A's targets at rank 4 take over 1 MB.
    return {k: v.half() for k, v in sd.items()}


def wanted_a(component, path):
    if component == "text_encoder":
        return path.endswith(("q_proj", "k_proj", "v_proj", "out_proj", "fc1", "fc2"))
    return (path.endswith(("to_q", "to_k", "to_v", "to_out.0", "ff.net.0.proj", "ff.net.2", "proj_in", "proj_out",
                           "samplers.0.conv"))
            or (".resnets." in path and path.endswith(("conv1", "conv2"))))


def wanted_b(component, path):
    if component == "text_encoder":
        return path.endswith(("fc1", "fc2"))
    return path.endswith(("attn2.to_k", "attn2.to_v")) or path == "mid_block.resnets.0.time_emb_proj"


def run(pipe):
    """Pipeline outputs: final latents, float image [1,3,H,W] in [0,1], prompt embeds, UNet noise prediction."""
    out = {}

    def keep_latents(p, i, t, kw):
        out["latents"] = kw["latents"].clone()
        return kw

    with torch.no_grad():
        out["image"] = pipe(PROMPT, negative_prompt=NEGATIVE, height=SIZE, width=SIZE, num_inference_steps=STEPS,
                            guidance_scale=GUIDANCE, generator=torch.Generator("cpu").manual_seed(SEED),
                            output_type="pt", callback_on_step_end=keep_latents).images
        out["prompt_embeds"] = pipe.encode_prompt(PROMPT, "cpu", 1, False)[0]
        sample = noise_pred_sample(pipe)
        out["noise_pred"] = pipe.unet(sample, NOISE_PRED_TIMESTEP, encoder_hidden_states=out["prompt_embeds"]).sample
    return out


def noise_pred_sample(pipe):
    shape = (1, pipe.unet.config.in_channels, SIZE // pipe.vae_scale_factor, SIZE // pipe.vae_scale_factor)
    return torch.randn(shape, generator=torch.Generator("cpu").manual_seed(NOISE_PRED_SEED))


def count_wrapped(model, adapter):
    return sum(1 for m in model.modules() if adapter in getattr(m, "lora_A", {}))


def merge(pipe, loras, names, weights):
    """W += weight * alpha/rank * (up @ down) for each LoRA module, straight from the kohya files."""
    table = module_names(pipe)
    with torch.no_grad():
        for name, weight in zip(names, weights):
            sd = loras[name]
            for key in [k[: -len(".alpha")] for k in sd if k.endswith(".alpha")]:
                down, up, alpha = sd[key + ".lora_down.weight"], sd[key + ".lora_up.weight"], sd[key + ".alpha"]
                component, path = table[key]
                w = getattr(pipe, component).get_submodule(path).weight
                delta = (up.float().flatten(1) @ down.float().flatten(1)).reshape(w.shape)
                w += weight * alpha.float() / down.shape[0] * delta


def refusal_fixtures():
    """LoHa, LoKr and SDXL files the SD 1.x loader must refuse (seeded; shapes as real files have them)."""
    g = torch.Generator().manual_seed(7)
    q = "lora_unet_down_blocks_0_attentions_0_transformer_blocks_0_attn1_to_q"
    k = "lora_unet_down_blocks_0_attentions_0_transformer_blocks_0_attn1_to_k"
    loha, lokr = {}, {}
    for key in (q, k):  # tiny-sd15's attn1 projections are 32 x 32
        for part in ("hada_w1_a", "hada_w2_a"):  # [out, r]
            loha[f"{key}.{part}"] = torch.randn(32, 4, generator=g) * 0.1
        for part in ("hada_w1_b", "hada_w2_b"):  # [r, in]
            loha[f"{key}.{part}"] = torch.randn(4, 32, generator=g) * 0.1
        loha[f"{key}.alpha"] = torch.tensor(4.0)
        lokr[f"{key}.lokr_w1"] = torch.randn(4, 4, generator=g) * 0.1  # kron(w1, w2) is [32, 32]
        lokr[f"{key}.lokr_w2"] = torch.randn(8, 8, generator=g) * 0.1
        lokr[f"{key}.alpha"] = torch.tensor(4.0)
    sdxl = {}
    # SDXL kohya keys at SDXL widths: the UNet in sgm naming (input_blocks_4_1 is a 640-wide level with two
    # transformer blocks; SD 1.x blocks have one), and both SDXL text encoders (lora_te1_ 768 wide, lora_te2_ 1280).
    for key, out_f, in_f in (("lora_unet_input_blocks_4_1_transformer_blocks_0_attn1_to_q", 640, 640),
                             ("lora_unet_input_blocks_4_1_transformer_blocks_1_attn1_to_q", 640, 640),
                             ("lora_te1_text_model_encoder_layers_0_self_attn_q_proj", 768, 768),
                             ("lora_te2_text_model_encoder_layers_0_self_attn_q_proj", 1280, 1280)):
        sdxl[f"{key}.lora_down.weight"] = torch.randn(4, in_f, generator=g) * 0.1
        sdxl[f"{key}.lora_up.weight"] = torch.randn(out_f, 4, generator=g) * 0.1
        sdxl[f"{key}.alpha"] = torch.tensor(4.0)
    return {"loha": loha, "lokr": lokr, "sdxl": sdxl}


def main():
    torch.set_num_threads(1)  # as the fixture goldens were made
    pipe = load_pipeline()
    loras = {"a": make_lora(pipe, wanted_a, 4, 2.0, 101), "b": make_lora(pipe, wanted_b, 8, 8.0, 102)}
    for name, sd in {**loras, **refusal_fixtures()}.items():
        save_file(sd, os.path.join(HERE, f"lora_{name}.safetensors" if name in loras else f"{name}.safetensors"))
    # From here on the weights are the files' (float16) values, widened to float32 where they are used.
    loras = {name: load_file(os.path.join(HERE, f"lora_{name}.safetensors")) for name in loras}

    base = run(pipe)
    golden = {"base_image": base["image"], "base_latents": base["latents"], "base_prompt_embeds": base["prompt_embeds"],
              "base_noise_pred": base["noise_pred"], "a_noise_pred_sample": noise_pred_sample(pipe)}

    for name, sd in loras.items():
        # The rename works around diffusers 0.40 + transformers 5 (see the docstring); load_lora_weights pops keys.
        # transformers prints a "LOAD REPORT" listing the text encoder's base weights as MISSING: only the adapter's
        # weights are loaded there, the base ones are untouched (the merged-weights check below would catch it).
        pipe.load_lora_weights({k.replace("lora_te_text_model_", "lora_te_"): v.clone() for k, v in sd.items()},
                               adapter_name=name)
        for component, prefix in (("unet", "lora_unet_"), ("text_encoder", "lora_te_")):
            in_file = sum(1 for k in sd if k.startswith(prefix) and k.endswith(".alpha"))
            wrapped = count_wrapped(getattr(pipe, component), name)
            assert wrapped == in_file, f"LoRA {name}: {component} has {wrapped} LoRA modules, the file {in_file}"
    merged_diff = {}
    for case, (names, weights) in CASES.items():
        pipe.set_adapters(names, adapter_weights=weights)
        out = run(pipe)
        golden.update({f"{case}_image": out["image"], f"{case}_latents": out["latents"],
                       f"{case}_prompt_embeds": out["prompt_embeds"]})
        if case == "a":
            golden["a_noise_pred"] = out["noise_pred"]
        merged = load_pipeline()
        merge(merged, loras, names, weights)
        check = run(merged)
        # max |difference| / max(1, max |value|): the final latents reach ~100, so the bound is relative there.
        merged_diff[case] = {k: ((out[k] - check[k]).abs().max() / out[k].abs().max().clamp(min=1)).item()
                             for k in out}
        assert all(d < 1e-4 for d in merged_diff[case].values()), merged_diff[case]
    golden = {k: v.contiguous() for k, v in golden.items()}
    save_file(golden, os.path.join(HERE, "golden.safetensors"))
    write_index(pipe, loras, golden, merged_diff)


def write_index(pipe, loras, golden, merged_diff):
    meaning = {
        "image": "pipeline(...).images with output_type='pt': float [1,3,H,W] in [0,1]",
        "latents": "final latents (callback_on_step_end after the last step), before the VAE: the image is "
                   "vae.decode(latents / scaling_factor) post-processed",
        "prompt_embeds": "pipe.encode_prompt(PROMPT, 'cpu', 1, do_classifier_free_guidance=False)[0]",
        "noise_pred": f"unet(a_noise_pred_sample, timestep {NOISE_PRED_TIMESTEP}, encoder_hidden_states="
                      "<same case>_prompt_embeds).sample",
    }
    lora_of = {"base": "no LoRA", "a": "LoRA A at 1.0", "ab": "LoRA A at 0.7 and LoRA B at -0.4 together"}
    tensors = {}
    for key, v in golden.items():
        case, what = key.split("_", 1)
        text = (f"torch.randn(shape, generator=torch.Generator('cpu').manual_seed({NOISE_PRED_SEED}))"
                if key == "a_noise_pred_sample" else f"{lora_of[case]}: {meaning[what]}")
        tensors[key] = {"shape": list(v.shape), "dtype": "float32", "meaning": text}
    image_diff = {c: (golden[f"{c}_image"] - golden["base_image"]).abs().mean().item() for c in CASES}
    index = {
        "description": __doc__.split("\n\nRun:")[0],
        "environment": {"torch": torch.__version__, "diffusers": diffusers.__version__,
                        "transformers": transformers.__version__, "peft": peft.__version__,
                        "torch_num_threads": torch.get_num_threads(), "device": "cpu", "dtype": "float32"},
        "fixture": "../shared/fixtures/tiny-sd15",
        "pipeline": {"class": "StableDiffusionPipeline", "prompt": PROMPT, "negative_prompt": NEGATIVE,
                     "generator": f"torch.Generator('cpu').manual_seed({SEED})", "num_inference_steps": STEPS,
                     "guidance_scale": GUIDANCE, "height": SIZE, "width": SIZE,
                     "scheduler_class": "EulerDiscreteScheduler",
                     "scheduler": "EulerDiscreteScheduler.from_config(<fixture's scheduler/scheduler_config.json>)",
                     # _use_default_values comes from a set: sorted, so the file is the same every run
                     "scheduler_config": {k: sorted(v) if k == "_use_default_values" else v
                                          for k, v in pipe.scheduler.config.items()},
                     "timesteps": pipe.scheduler.timesteps.tolist()},
        "loras": {name: {"file": f"lora_{name}.safetensors", "dtype": "float16",
                         "rank": sd[next(k for k in sd if k.endswith(".lora_down.weight"))].shape[0],
                         "alpha": sd[next(k for k in sd if k.endswith(".alpha"))].item(),
                         "modules": sorted(k[: -len(".alpha")] for k in sd if k.endswith(".alpha"))}
                  for name, sd in loras.items()},
        "cases": {c: {"adapters": n, "adapter_weights": w} for c, (n, w) in CASES.items()},
        "tensors": {"file": "golden.safetensors", **tensors},
        "mean_abs_image_diff_vs_base_0_1_units": image_diff,
        "peft_vs_merged_weights_max_abs_diff_over_max(1,max_abs)": merged_diff,
        "refusal_fixtures": {"loha.safetensors": "LyCORIS LoHa (hada_w1_a/b, hada_w2_a/b, alpha) on two attn1 "
                                                 "projections", "lokr.safetensors": "LyCORIS LoKr (lokr_w1, "
                             "lokr_w2, alpha) on the same two", "sdxl.safetensors": "kohya SDXL LoRA: sgm UNet "
                             "names input_blocks_4_1_transformer_blocks_0 (also an SD 1.x name in LDM naming, 640 "
                             "wide as in SD 1.5, 32 in tiny-sd15) and _1 (SD 1.x has one transformer block), and "
                             "SDXL's two text encoders lora_te1_ (768 wide) and lora_te2_ (1280)"},
    }
    with open(os.path.join(HERE, "index.json"), "w") as f:
        json.dump(index, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
