#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Writes the test data for loading a separate VAE ("SD VAE" / --vae) over the tiny-sd15 fixture (computed on CPU
in float32; index.json lists every tensor, its meaning and all the parameters):

- other-vae.safetensors: a single-file VAE as artists download them (vae-ft-mse-840000-ema-pruned.safetensors):
  tiny-sd15's VAE architecture with changed weights, under the original CompVis/LDM key names without the
  "first_stage_model." prefix (encoder.conv_in.weight, encoder.down.0.block.0.norm1.weight, decoder.up.3.block.2.
  conv2.weight, decoder.mid.attn_1.q.weight as a 1x1 conv [c, c, 1, 1], quant_conv.weight, post_quant_conv.weight).
- other-vae/: the same VAE as a diffusers folder (config.json + diffusion_pytorch_model.safetensors), written by
  AutoencoderKL.save_pretrained.
- broken-vae.safetensors: a VAE the tiny-sd15 model must refuse: the tiny-sd fixture's VAE (block_out_channels
  [32, 64], 2 levels, so decoder.up.1 is 64 wide where tiny-sd15's is 32, and there is no decoder.up.2/up.3),
  converted to LDM names the same way, decoder only (decoder.* and post_quant_conv.*).
- golden.safetensors: diffusers outputs with the changed VAE (and the same with the fixture's own VAE, base_*).

The changed weights: the fixture VAE's parameters, each plus seeded Gaussian noise of NOISE times that tensor's std
(sorted parameter order, one generator seeded WEIGHT_SEED), then rounded to float16. Both VAE files store float16
(the tiny-sd15 VAE has 1.4 M parameters: 5.6 MB in float32, 2.8 MB in float16), so the changed model is defined as
those float16 values, and every golden uses them widened to float32.

How the LDM names are made: to_ldm() below is diffusers' scripts/convert_diffusers_to_original_stable_diffusion.py
VAE mapping (convert_vae_state_dict: encoder.down_blocks.i.resnets.j -> encoder.down.i.block.j, decoder.up_blocks.i
-> decoder.up.(levels-1-i) with three resnets each, mid_block.resnets.i -> mid.block_(i+1), mid_block.attentions.0
-> mid.attn_1 with group_norm/to_q/to_k/to_v/to_out.0 -> norm/q/k/v/proj_out and the 2-D attention weights reshaped
to [c, c, 1, 1], conv_shortcut -> nin_shortcut, conv_norm_out -> norm_out), written for any number of levels (the
script hard-codes SD's four). It is checked against the fixture: converting tiny-sd15's own diffusers VAE must give
exactly the first_stage_model.* tensors of single-file/tiny-sd15.safetensors, which that script wrote (same names,
shapes and values). The written files are checked by loading them back with diffusers' own single-file loader,
AutoencoderKL.from_single_file(file, config=<fixture>, subfolder="vae"), and AutoencoderKL.from_pretrained for the
folder: every parameter must equal the changed model's.

golden.safetensors: StableDiffusionPipeline.from_pretrained(fixture, vae=<changed VAE>) and the same with the
fixture's VAE: PROMPT, NEGATIVE, generator=torch.Generator("cpu").manual_seed(SEED), STEPS steps, CFG GUIDANCE,
SIZE x SIZE, EulerDiscreteScheduler.from_config(the fixture's scheduler config), output_type "pt". The VAE does not
touch the latents, so both runs' final latents must be identical (asserted). Also the decoder and the encoder alone:
decoded = vae.decode(decode_latents_in / scaling_factor).sample for seeded latents, and encoded_mean =
vae.encode(encode_image_in).latent_dist.mean for a seeded image in [-1, 1].

Run: .venv/bin/python tests/data/vae/make_golden.py   (needs torch, diffusers and transformers, pinned in
scripts/versions.env; the fixtures are ../shared/fixtures/tiny-sd15 and tiny-sd, read only; no network)
"""
import json
import os
import shutil
import tempfile

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # everything comes from the fixtures

import diffusers  # noqa: E402
import torch  # noqa: E402
import transformers  # noqa: E402
from diffusers import AutoencoderKL, EulerDiscreteScheduler, StableDiffusionPipeline  # noqa: E402
from safetensors.torch import load_file, save_file  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.path.join(HERE, "..", "..", "..", "..", "shared", "fixtures")
FIXTURE = os.path.join(FIXTURES, "tiny-sd15")
BROKEN_FIXTURE = os.path.join(FIXTURES, "tiny-sd")
PROMPT, NEGATIVE, SEED, STEPS, GUIDANCE, SIZE = "a lighthouse at dusk, oil painting", "", 1234, 6, 7.5, 64
WEIGHT_SEED = 2024
NOISE = 0.2  # noise std / the tensor's std. 0.1 changes the decoded image by only ~0.046 on average in [0, 1].
DECODE_SEED, ENCODE_SEED = 11, 12
OTHER_FILE, OTHER_DIR, BROKEN_FILE = "other-vae.safetensors", "other-vae", "broken-vae.safetensors"


def conversion_map(levels, layers):
    """(LDM, diffusers) name fragments, in the order diffusers' convert_vae_state_dict replaces them."""
    pairs = [("nin_shortcut", "conv_shortcut"), ("norm_out", "conv_norm_out"),
             ("mid.attn_1.", "mid_block.attentions.0.")]
    for i in range(levels):
        for j in range(layers):
            pairs.append((f"encoder.down.{i}.block.{j}.", f"encoder.down_blocks.{i}.resnets.{j}."))
        if i < levels - 1:
            pairs.append((f"down.{i}.downsample.", f"down_blocks.{i}.downsamplers.0."))
            pairs.append((f"up.{levels - 1 - i}.upsample.", f"up_blocks.{i}.upsamplers.0."))
        for j in range(layers + 1):  # decoder levels have one resnet more; up_blocks count from the deepest level
            pairs.append((f"decoder.up.{levels - 1 - i}.block.{j}.", f"decoder.up_blocks.{i}.resnets.{j}."))
    for i in range(2):
        pairs.append((f"mid.block_{i + 1}.", f"mid_block.resnets.{i}."))
    return pairs


ATTENTION_MAP = [("norm.", "group_norm."), ("q.", "to_q."), ("k.", "to_k."), ("v.", "to_v."),
                 ("proj_out.", "to_out.0.")]


def to_ldm(state_dict, config):
    """A diffusers AutoencoderKL state dict under LDM names (no first_stage_model. prefix)."""
    pairs = conversion_map(len(config["block_out_channels"]), config["layers_per_block"])
    out = {}
    for name, tensor in state_dict.items():
        ldm = name
        for sd_part, hf_part in pairs:
            ldm = ldm.replace(hf_part, sd_part)
        if "attentions" in name:
            for sd_part, hf_part in ATTENTION_MAP:
                ldm = ldm.replace(hf_part, sd_part)
            if tensor.ndim == 2:  # linear [c, c] -> 1x1 conv [c, c, 1, 1], as the LDM files store them
                tensor = tensor.reshape(*tensor.shape, 1, 1)
        assert ldm not in out, ldm
        out[ldm] = tensor.contiguous()
    return out


def check_mapping_against_fixture():
    """to_ldm(tiny-sd15's diffusers VAE) must be exactly the first_stage_model.* part of its single-file checkpoint."""
    vae = AutoencoderKL.from_pretrained(FIXTURE, subfolder="vae")
    ours = to_ldm(vae.state_dict(), vae.config)
    prefix = "first_stage_model."
    checkpoint = load_file(os.path.join(FIXTURE, "single-file", "tiny-sd15.safetensors"))
    single = {k[len(prefix):]: v for k, v in checkpoint.items() if k.startswith(prefix)}
    assert sorted(ours) == sorted(single), set(ours) ^ set(single)
    for k, v in ours.items():
        assert v.dtype == single[k].dtype and torch.equal(v, single[k]), k
    return single


def changed_vae():
    """The fixture VAE plus seeded noise of NOISE x each tensor's std, rounded to float16 (held in float32)."""
    vae = AutoencoderKL.from_pretrained(FIXTURE, subfolder="vae").eval()
    g = torch.Generator().manual_seed(WEIGHT_SEED)
    with torch.no_grad():
        for _, p in sorted(vae.named_parameters()):
            p += torch.randn(p.shape, generator=g) * (NOISE * p.std())
            p.copy_(p.half().float())
    assert not list(vae.buffers())
    return vae


def assert_same_parameters(a, b, what):
    sa, sb = a.state_dict(), b.state_dict()
    assert sorted(sa) == sorted(sb), f"{what}: {set(sa) ^ set(sb)}"
    for k in sa:
        assert sb[k].dtype == torch.float32 and torch.equal(sa[k], sb[k]), f"{what}: {k} differs"


def write_vae_files(vae, fixture_single):
    """other-vae.safetensors and other-vae/, both float16, each loaded back and compared with @p vae."""
    ldm = {k: v.half() for k, v in to_ldm(vae.state_dict(), vae.config).items()}
    assert {k: tuple(v.shape) for k, v in ldm.items()} == {k: tuple(v.shape) for k, v in fixture_single.items()}
    save_file(ldm, os.path.join(HERE, OTHER_FILE))
    folder = os.path.join(HERE, OTHER_DIR)
    shutil.rmtree(folder, ignore_errors=True)
    # A fresh model from the config minus _name_or_path (from_pretrained put this machine's path there).
    half = AutoencoderKL.from_config({k: v for k, v in vae.config.items() if k != "_name_or_path"}).eval()
    half.load_state_dict(vae.state_dict())
    half.half().save_pretrained(folder)
    with open(os.path.join(folder, "config.json")) as f:
        assert not any("/" in str(v) for v in json.load(f).values()), "a local path in other-vae/config.json"

    single = AutoencoderKL.from_single_file(os.path.join(HERE, OTHER_FILE), config=FIXTURE, subfolder="vae",
                                            local_files_only=True, torch_dtype=torch.float32)
    assert_same_parameters(vae, single, "from_single_file(" + OTHER_FILE + ")")
    pretrained = AutoencoderKL.from_pretrained(folder, torch_dtype=torch.float32)
    assert_same_parameters(vae, pretrained, "from_pretrained(" + OTHER_DIR + ")")
    return ldm


def write_broken_vae():
    """tiny-sd's VAE under LDM names, decoder only; the full conversion is first checked with from_single_file."""
    vae = AutoencoderKL.from_pretrained(BROKEN_FIXTURE, subfolder="vae").eval()
    ldm = {k: v.half() for k, v in to_ldm(vae.state_dict(), vae.config).items()}
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "full.safetensors")
        save_file(ldm, path)
        back = AutoencoderKL.from_single_file(path, config=BROKEN_FIXTURE, subfolder="vae", local_files_only=True,
                                              torch_dtype=torch.float32)
    want = AutoencoderKL.from_config(vae.config)
    want.load_state_dict({k: v.half().float() for k, v in vae.state_dict().items()})
    assert_same_parameters(want, back, "from_single_file(tiny-sd VAE)")
    broken = {k: v for k, v in ldm.items() if k.startswith(("decoder.", "post_quant_conv."))}
    save_file(broken, os.path.join(HERE, BROKEN_FILE))
    return vae.config, broken


def load_pipeline(vae=None):
    extra = {"vae": vae} if vae is not None else {}
    pipe = StableDiffusionPipeline.from_pretrained(FIXTURE, dtype=torch.float32, **extra)
    pipe.scheduler = EulerDiscreteScheduler.from_config(pipe.scheduler.config)
    pipe.set_progress_bar_config(disable=True)
    return pipe


def run(pipe):
    """Final latents and the float image [1,3,H,W] in [0,1]."""
    out = {}

    def keep_latents(p, i, t, kw):
        out["latents"] = kw["latents"].clone()
        return kw

    with torch.no_grad():
        out["image"] = pipe(PROMPT, negative_prompt=NEGATIVE, height=SIZE, width=SIZE, num_inference_steps=STEPS,
                            guidance_scale=GUIDANCE, generator=torch.Generator("cpu").manual_seed(SEED),
                            output_type="pt", callback_on_step_end=keep_latents).images
    return out


def vae_alone(vae, latents, image):
    with torch.no_grad():
        decoded = vae.decode(latents / vae.config.scaling_factor).sample
        encoded_mean = vae.encode(image).latent_dist.mean
    return decoded, encoded_mean


def main():
    torch.set_num_threads(1)  # as the fixture goldens were made
    fixture_single = check_mapping_against_fixture()
    vae = changed_vae()
    ldm = write_vae_files(vae, fixture_single)
    broken_config, broken = write_broken_vae()

    base_pipe = load_pipeline()
    pipe = load_pipeline(vae)
    assert pipe.vae is vae
    base, other = run(base_pipe), run(pipe)
    assert torch.equal(base["latents"], other["latents"]), "the VAE changed the latents"

    shape = (1, vae.config.latent_channels, SIZE // pipe.vae_scale_factor, SIZE // pipe.vae_scale_factor)
    decode_in = torch.randn(shape, generator=torch.Generator("cpu").manual_seed(DECODE_SEED))
    encode_in = torch.rand((1, 3, SIZE, SIZE), generator=torch.Generator("cpu").manual_seed(ENCODE_SEED)) * 2 - 1
    decoded, encoded_mean = vae_alone(vae, decode_in, encode_in)
    base_decoded, base_encoded_mean = vae_alone(base_pipe.vae, decode_in, encode_in)
    golden = {"image": other["image"], "latents": other["latents"], "base_image": base["image"],
              "decode_latents_in": decode_in, "decoded": decoded, "base_decoded": base_decoded,
              "encode_image_in": encode_in, "encoded_mean": encoded_mean, "base_encoded_mean": base_encoded_mean}
    golden = {k: v.contiguous() for k, v in golden.items()}
    diff = {"image_vs_base_image": (golden["image"] - golden["base_image"]).abs().mean().item(),
            "decoded_vs_base_decoded_in_0_1": ((decoded - base_decoded) / 2).abs().mean().item(),
            "encoded_mean_vs_base_encoded_mean": (encoded_mean - base_encoded_mean).abs().mean().item()}
    assert diff["image_vs_base_image"] >= 0.05 and diff["decoded_vs_base_decoded_in_0_1"] >= 0.05, diff
    save_file(golden, os.path.join(HERE, "golden.safetensors"))
    write_index(pipe, vae, ldm, broken_config, broken, golden, diff)


def write_index(pipe, vae, ldm, broken_config, broken, golden, diff):
    meaning = {
        "image": "changed VAE: pipeline(...).images with output_type='pt', float [1,3,H,W] in [0,1]",
        "latents": "final latents (callback_on_step_end after the last step), before the VAE; the same with either "
                   "VAE (asserted)",
        "base_image": "as image, with the fixture's own VAE",
        "decode_latents_in": f"torch.randn(shape, generator=torch.Generator('cpu').manual_seed({DECODE_SEED})): "
                             "latents as the pipeline's final latents are, before / scaling_factor",
        "decoded": "changed VAE: vae.decode(decode_latents_in / 0.18215).sample, in [-1,1] before clamping (the "
                   "pipeline's image is (decoded / 2 + 0.5).clamp(0, 1))",
        "base_decoded": "as decoded, with the fixture's own VAE",
        "encode_image_in": f"torch.rand(shape, generator=torch.Generator('cpu').manual_seed({ENCODE_SEED})) * 2 - 1: "
                           "an image in [-1,1]",
        "encoded_mean": "changed VAE: vae.encode(encode_image_in).latent_dist.mean (quant_conv output's first 4 "
                        "channels; not multiplied by scaling_factor)",
        "base_encoded_mean": "as encoded_mean, with the fixture's own VAE",
    }
    example_keys = ["encoder.conv_in.weight", "encoder.down.0.block.0.norm1.weight",
                    "encoder.down.0.downsample.conv.weight", "encoder.down.2.block.0.nin_shortcut.weight",
                    "encoder.mid.attn_1.q.weight", "encoder.norm_out.weight", "quant_conv.weight",
                    "post_quant_conv.weight", "decoder.mid.block_1.conv1.weight", "decoder.mid.attn_1.q.weight",
                    "decoder.mid.attn_1.proj_out.weight", "decoder.up.3.block.2.conv2.weight",
                    "decoder.up.3.upsample.conv.weight", "decoder.up.1.block.0.nin_shortcut.weight",
                    "decoder.norm_out.weight", "decoder.conv_out.weight"]
    decoder_keys = [k for k in ldm if k.startswith(("decoder.", "post_quant_conv."))]

    def widths(sd, levels):
        return {f"decoder.up.{i}": sd[f"decoder.up.{i}.block.0.conv2.weight"].shape[0] for i in range(levels)}

    index = {
        "description": __doc__.split("\n\nRun:")[0],
        "environment": {"torch": torch.__version__, "diffusers": diffusers.__version__,
                        "transformers": transformers.__version__, "torch_num_threads": torch.get_num_threads(),
                        "device": "cpu", "dtype": "float32"},
        "fixture": "../shared/fixtures/tiny-sd15",
        "changed_vae": {"from": "../shared/fixtures/tiny-sd15/vae", "weight_seed": WEIGHT_SEED,
                        "noise_over_tensor_std": NOISE, "stored_dtype": "float16",
                        "config": {k: v for k, v in vae.config.items() if not k.startswith("_")}},
        "files": {
            OTHER_FILE: {"format": "LDM single-file VAE, no prefix, float16", "tensors": len(ldm),
                         "examples": {k: list(ldm[k].shape) for k in example_keys}},
            OTHER_DIR: {"format": "diffusers AutoencoderKL folder (save_pretrained), float16"},
            BROKEN_FILE: {"format": "LDM single-file VAE, no prefix, float16, decoder.* and post_quant_conv.* only",
                          "from": "../shared/fixtures/tiny-sd/vae",
                          "block_out_channels": broken_config["block_out_channels"],
                          "layers_per_block": broken_config["layers_per_block"], "tensors": len(broken),
                          "decoder_level_widths": widths(broken, len(broken_config["block_out_channels"])),
                          "tiny_sd15_decoder_level_widths": widths(ldm, len(vae.config["block_out_channels"])),
                          "shape_mismatches_vs_tiny_sd15": sorted(k for k in broken
                                                                  if k in ldm and broken[k].shape != ldm[k].shape),
                          "tiny_sd15_decoder_keys_missing": len([k for k in decoder_keys if k not in broken])},
        },
        "pipeline": {"class": "StableDiffusionPipeline", "prompt": PROMPT, "negative_prompt": NEGATIVE,
                     "generator": f"torch.Generator('cpu').manual_seed({SEED})", "num_inference_steps": STEPS,
                     "guidance_scale": GUIDANCE, "height": SIZE, "width": SIZE,
                     "scheduler_class": "EulerDiscreteScheduler",
                     "scheduler": "EulerDiscreteScheduler.from_config(<fixture's scheduler/scheduler_config.json>)",
                     # _use_default_values comes from a set: sorted, so the file is the same every run
                     "scheduler_config": {k: sorted(v) if k == "_use_default_values" else v
                                          for k, v in pipe.scheduler.config.items()},
                     "timesteps": pipe.scheduler.timesteps.tolist()},
        "tensors": {"file": "golden.safetensors",
                    **{k: {"shape": list(v.shape), "dtype": "float32", "meaning": meaning[k]}
                       for k, v in golden.items()}},
        "mean_abs_diff": diff,
    }
    with open(os.path.join(HERE, "index.json"), "w") as f:
        json.dump(index, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
