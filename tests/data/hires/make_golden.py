#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Writes the hires-fix goldens for the tiny-sd15 fixture: AUTOMATIC1111's "Hires. fix" (a txt2img pass, an upscale,
an img2img pass at the larger size) composed from diffusers 0.40 pieces, so each stage can be checked on its own.
Computed on the CPU in float32 with one thread; index.json lists every tensor, its meaning and all the parameters.

Files written here (re-running rewrites them; the same versions give the same bytes):
- hires_euler_a.safetensors: both passes with EulerAncestralDiscreteScheduler.from_config(<fixture's scheduler config>).
- hires_dpmpp_2m.safetensors: the same with DPMSolverMultistepScheduler.from_config(<fixture's scheduler config>),
  no overrides, as the fixture's goldens build DPM++ 2M (dpmsolver++, order 2, final_sigmas_type "zero").
- resize.safetensors: a stand-alone check of PIL's Lanczos resize (uint8 RGB), for the C++ resampler.
- index.json.

How each case is computed (PROMPT, NEGATIVE, SEED, CFG 7.5, the same scheduler class for both passes):
1. First pass: StableDiffusionPipeline (the fixture) at 64 x 64, 6 steps, generator=torch.Generator("cpu")
   .manual_seed(SEED), output_type="latent" -> first_latents [1,4,8,8], as the pipeline returns them (in the UNet's
   latent space, NOT divided by the VAE scaling factor); first_step_latents [6,1,4,8,8] (callback_on_step_end).
2a. "Latent" upscaler: latent_upscaled = F.interpolate(first_latents, size=(16, 16), mode="bilinear",
   align_corners=False, antialias=False). Second pass: StableDiffusionImg2ImgPipeline (same components, a fresh
   scheduler of the same class) with image=latent_upscaled, strength 0.6, 5 steps, a fresh generator from SEED
   (A1111 draws the second pass's noise from the same seed again), output_type="pt". diffusers 0.40 passes a
   4-channel tensor through untouched: VaeImageProcessor.preprocess returns it as is (channels ==
   vae_latent_channels: no resize, no [-1,1] normalisation) and prepare_latents takes init_latents = image with no
   VAE encode, no generator draw and no multiplication by scaling_factor. So the generator's first draw is the
   add_noise noise (torch.randn([1,4,16,16])), then scheduler.add_noise(latent_upscaled, noise, timesteps[0]).
2b. "Lanczos" upscaler: the first pass run again with output_type="pil" (its latents are checked to equal
   first_latents bit for bit) -> first_image_uint8 [64,64,3]; PIL Image.resize((128, 128), Image.LANCZOS) ->
   lanczos_uint8 [128,128,3]; img2img with image=<that PIL image>, the same settings and a fresh generator from
   SEED. Here the generator first draws the VAE posterior's sample (vae.encode(preprocessed).latent_dist.sample,
   randn [1,4,16,16]), the pipeline multiplies it by scaling_factor (lanczos_encoded), then draws the add_noise
   noise. preprocess resizes the PIL image to a multiple of 8 (128 already is: a pixel-exact no-op) and maps
   uint8 p to p / 255 * 2 - 1.
Second-pass tensors, <mode> = latent or lanczos: <mode>_image [1,3,128,128] in [0,1] (output_type="pt");
<mode>_step_latents [k,1,4,16,16] after each step (callback_on_step_end), <mode>_final_latents = the last of them;
<mode>_noise: the add_noise noise; <mode>_noised: what add_noise returned (the first step's input latents).
Euler a only: <mode>_step_noise [k,1,4,16,16], the noise EulerAncestralDiscreteScheduler.step drew at each step
(it draws one every step, the last included, where sigma_up is 0 and the noise is multiplied by 0).
The script asserts the generator order above by replaying a generator from SEED against what the pipeline drew.

img2img's step count: diffusers runs int(5 * 0.6) = 3 steps, the last 3 timesteps of a 5-step schedule (begin index
2 via scheduler.set_begin_index, so add_noise uses sigmas[2] / timesteps[2]). AUTOMATIC1111 counts differently (its
hires pass, unless "img2img_fix_steps" says otherwise, makes a schedule of int(5 / 0.6) = 8 steps and runs 5 of
them): these goldens follow diffusers.

Run: .venv/bin/python tests/data/hires/make_golden.py   (torch, diffusers 0.40.0, transformers 5.12.1, pinned in
scripts/versions.env, and the Pillow diffusers installs; the fixture is ../shared/fixtures/tiny-sd15, read only)
"""
import json
import os

import numpy as np
import PIL
import torch
import torch.nn.functional as F
from PIL import Image
from safetensors.torch import save_file

import diffusers
import diffusers.schedulers.scheduling_euler_ancestral_discrete as euler_a_module
import transformers
from diffusers import (DPMSolverMultistepScheduler, EulerAncestralDiscreteScheduler, StableDiffusionImg2ImgPipeline,
                       StableDiffusionPipeline)

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURE = os.path.join(HERE, "..", "..", "..", "..", "shared", "fixtures", "tiny-sd15")
PROMPT, NEGATIVE, SEED, GUIDANCE = "a lighthouse at dusk, oil painting", "blurry", 4321, 7.5
BASE_SIZE, HIRES_SCALE = 64, 2
FIRST_STEPS, HIRES_STEPS, HIRES_STRENGTH = 6, 5, 0.6
SCHEDULERS = {
    "euler_a": (EulerAncestralDiscreteScheduler, {}),
    "dpmpp_2m": (DPMSolverMultistepScheduler, {}),
}
RESIZE_SEED, RESIZE_IN, RESIZE_UP, RESIZE_DOWN = 2024, (37, 23), (80, 51), (16, 9)  # PIL sizes: (width, height)

_randn_tensor = euler_a_module.randn_tensor
STEP_NOISE = []  # what EulerAncestralDiscreteScheduler.step draws, in order


def recording_randn_tensor(*args, **kwargs):
    noise = _randn_tensor(*args, **kwargs)
    STEP_NOISE.append(noise.clone())
    return noise


euler_a_module.randn_tensor = recording_randn_tensor


def scheduler_config(scheduler):
    # _use_default_values comes from a set: sorted, so the file is the same every run. Python's json would write
    # DPM-Solver's lambda_min_clipped (-inf) as -Infinity, which is not JSON (QJsonDocument refuses it): non-finite
    # numbers are written as the strings "-inf", "inf", "nan".
    def value(v):
        return str(v) if isinstance(v, float) and not np.isfinite(v) else v

    return {k: sorted(v) if k == "_use_default_values" else value(v) for k, v in scheduler.config.items()}


def first_pass(base, cls, overrides, output_type):
    pipe = StableDiffusionPipeline(**{**base.components, "scheduler": cls.from_config(base.scheduler.config,
                                                                                     **overrides)},
                                   requires_safety_checker=False)
    pipe.set_progress_bar_config(disable=True)
    steps, timesteps = [], []

    def on_step_end(_pipe, _i, t, kwargs):
        steps.append(kwargs["latents"].clone())
        timesteps.append(t.item())
        return kwargs

    with torch.no_grad():
        out = pipe(PROMPT, negative_prompt=NEGATIVE, height=BASE_SIZE, width=BASE_SIZE,
                   num_inference_steps=FIRST_STEPS, guidance_scale=GUIDANCE,
                   generator=torch.Generator("cpu").manual_seed(SEED), output_type=output_type,
                   callback_on_step_end=on_step_end)
    return out.images, torch.stack(steps), timesteps, pipe.scheduler


def second_pass(base, cls, overrides, image):
    pipe = StableDiffusionImg2ImgPipeline(**{**base.components, "scheduler": cls.from_config(base.scheduler.config,
                                                                                            **overrides)},
                                          requires_safety_checker=False)
    pipe.set_progress_bar_config(disable=True)
    recorded = {}
    add_noise = pipe.scheduler.add_noise

    def recording_add_noise(original, noise, timesteps):
        noised = add_noise(original, noise, timesteps)
        recorded.update(encoded=original.clone(), noise=noise.clone(), noised=noised.clone(),
                        noise_timestep=timesteps[0].item(), begin_index=pipe.scheduler.begin_index)
        return noised

    pipe.scheduler.add_noise = recording_add_noise
    steps, timesteps = [], []

    def on_step_end(_pipe, _i, t, kwargs):
        steps.append(kwargs["latents"].clone())
        timesteps.append(t.item())
        return kwargs

    STEP_NOISE.clear()
    with torch.no_grad():
        out = pipe(PROMPT, negative_prompt=NEGATIVE, image=image, strength=HIRES_STRENGTH,
                   num_inference_steps=HIRES_STEPS, guidance_scale=GUIDANCE,
                   generator=torch.Generator("cpu").manual_seed(SEED), output_type="pt",
                   callback_on_step_end=on_step_end)
    recorded.update(image=out.images, step_latents=torch.stack(steps), timesteps=timesteps,
                    step_noise=list(STEP_NOISE), scheduler=pipe.scheduler, pipe=pipe)
    return recorded


def check_generator(pipe, rec, pil_image):
    """Replays a generator from SEED in the order the pipeline must have drawn from it."""
    g = torch.Generator("cpu").manual_seed(SEED)
    with torch.no_grad():
        if pil_image is not None:
            processed = pipe.image_processor.preprocess(pil_image)
            expected = (torch.from_numpy(np.array(pil_image)).permute(2, 0, 1)[None].float() / 255) * 2 - 1
            assert torch.equal(processed, expected), "preprocess is not p / 255 * 2 - 1"
            encoded = pipe.vae.encode(processed).latent_dist.sample(g) * pipe.vae.config.scaling_factor
            assert torch.equal(encoded, rec["encoded"]), "the VAE sample is not the generator's first draw"
        noise = torch.randn(rec["encoded"].shape, generator=g)
        assert torch.equal(noise, rec["noise"]), "the add_noise noise is not the generator's next draw"
        for drawn in rec["step_noise"]:
            assert torch.equal(drawn, torch.randn(drawn.shape, generator=g)), "step noise out of order"


def main():
    torch.set_num_threads(1)  # as the fixture goldens were made
    base = StableDiffusionPipeline.from_pretrained(FIXTURE, dtype=torch.float32)
    scaling = base.vae.config.scaling_factor
    hires = BASE_SIZE * HIRES_SCALE
    latent_size = hires // base.vae_scale_factor
    index = {
        "description": __doc__.split("\n\nRun:")[0],
        "generator": "tests/data/hires/make_golden.py",
        "environment": {"torch": torch.__version__, "diffusers": diffusers.__version__,
                        "transformers": transformers.__version__, "pillow": PIL.__version__,
                        "numpy": np.__version__, "torch_num_threads": torch.get_num_threads(), "device": "cpu",
                        "dtype": "float32"},
        "fixture": "../shared/fixtures/tiny-sd15",
        "parameters": {
            "prompt": PROMPT, "negative_prompt": NEGATIVE, "seed": SEED,
            "generator": f"torch.Generator('cpu').manual_seed({SEED}), a fresh one for each pass",
            "guidance_scale": GUIDANCE, "base_height": BASE_SIZE, "base_width": BASE_SIZE,
            "first_pass_steps": FIRST_STEPS, "hires_scale": HIRES_SCALE, "hires_height": hires,
            "hires_width": hires, "hires_steps": HIRES_STEPS, "hires_denoising_strength": HIRES_STRENGTH,
            "vae_scaling_factor": scaling, "vae_scale_factor": base.vae_scale_factor,
            "latent_upscale": f"torch.nn.functional.interpolate(first_latents, size=({latent_size}, {latent_size}), "
                              "mode='bilinear', align_corners=False, antialias=False)",
            "lanczos_upscale": f"PIL.Image.fromarray(first_image_uint8).resize(({hires}, {hires}), "
                               "PIL.Image.LANCZOS)",
        },
        "cases": {},
    }

    for name, (cls, overrides) in SCHEDULERS.items():
        tensors = {}
        first_latents, first_steps, first_timesteps, first_scheduler = first_pass(base, cls, overrides, "latent")
        assert torch.equal(first_steps[-1], first_latents)
        tensors.update(first_latents=first_latents, first_step_latents=first_steps)

        # 2a. Latent upscaler.
        latent_upscaled = F.interpolate(first_latents, size=(latent_size, latent_size), mode="bilinear",
                                        align_corners=False, antialias=False)
        tensors["latent_upscaled"] = latent_upscaled
        latent = second_pass(base, cls, overrides, latent_upscaled)
        assert torch.equal(latent["encoded"], latent_upscaled), "the 4-channel image was changed before add_noise"
        check_generator(latent["pipe"], latent, None)

        # 2b. Lanczos upscaler.
        pil_images, pil_steps, _, _ = first_pass(base, cls, overrides, "pil")
        assert torch.equal(pil_steps[-1], first_latents), "the output_type='pil' run took other latents"
        first_image = np.array(pil_images[0])
        lanczos_pil = Image.fromarray(first_image).resize((hires, hires), Image.LANCZOS)
        tensors["first_image_uint8"] = torch.from_numpy(first_image)
        tensors["lanczos_uint8"] = torch.from_numpy(np.array(lanczos_pil))
        lanczos = second_pass(base, cls, overrides, lanczos_pil)
        check_generator(lanczos["pipe"], lanczos, lanczos_pil)
        tensors["lanczos_encoded"] = lanczos["encoded"]

        for mode, rec in (("latent", latent), ("lanczos", lanczos)):
            tensors.update({f"{mode}_image": rec["image"], f"{mode}_final_latents": rec["step_latents"][-1].clone(),
                            f"{mode}_step_latents": rec["step_latents"], f"{mode}_noise": rec["noise"],
                            f"{mode}_noised": rec["noised"]})
            if rec["step_noise"]:
                tensors[f"{mode}_step_noise"] = torch.stack(rec["step_noise"])
        tensors = {k: v.contiguous() for k, v in tensors.items()}
        file = f"hires_{name}.safetensors"
        save_file(tensors, os.path.join(HERE, file))
        os.chmod(os.path.join(HERE, file), 0o644)

        diff = (latent["image"] - lanczos["image"]).abs()
        index["cases"][name] = {
            "file": file,
            "scheduler_class": cls.__name__,
            "scheduler": f"{cls.__name__}.from_config(<fixture's scheduler/scheduler_config.json>"
                         + "".join(f", {k}={v!r}" for k, v in overrides.items()) + ")",
            "scheduler_config": scheduler_config(first_scheduler),
            "first_pass": {"pipeline": "StableDiffusionPipeline", "output_type": "latent",
                           "num_inference_steps": FIRST_STEPS, "timesteps": first_timesteps,
                           "schedule_timesteps": first_scheduler.timesteps.tolist()},
            "second_pass": {
                "pipeline": "StableDiffusionImg2ImgPipeline", "output_type": "pt",
                "num_inference_steps": HIRES_STEPS, "strength": HIRES_STRENGTH,
                "schedule_timesteps": latent["scheduler"].timesteps.tolist(),
                "begin_index": latent["begin_index"], "timesteps": latent["timesteps"],
                "noise_timestep": latent["noise_timestep"],
                "noise_sigma": (latent["scheduler"].sigmas[latent["begin_index"]].item()
                                if hasattr(latent["scheduler"], "sigmas") else None),
                "generator_draws": {
                    "latent": "add_noise noise" + (", then one per step" if latent["step_noise"] else ""),
                    "lanczos": "VAE posterior sample, add_noise noise"
                               + (", then one per step" if lanczos["step_noise"] else ""),
                },
            },
            "latent_vs_lanczos_image": {"mean_abs_diff": diff.mean().item(), "max_abs_diff": diff.max().item()},
            "tensors": {k: {"shape": list(v.shape), "dtype": str(v.dtype)[6:]} for k, v in tensors.items()},
        }
        assert latent["timesteps"] == lanczos["timesteps"]

    # Stand-alone Lanczos check.
    g = torch.Generator().manual_seed(RESIZE_SEED)
    resize_in = torch.randint(0, 256, (RESIZE_IN[1], RESIZE_IN[0], 3), generator=g, dtype=torch.uint8)
    src = Image.fromarray(resize_in.numpy(), "RGB")
    resize = {"resize_in": resize_in,
              "resize_up": torch.from_numpy(np.array(src.resize(RESIZE_UP, Image.LANCZOS))),
              "resize_down": torch.from_numpy(np.array(src.resize(RESIZE_DOWN, Image.LANCZOS)))}
    resize = {k: v.contiguous() for k, v in resize.items()}
    save_file(resize, os.path.join(HERE, "resize.safetensors"))
    os.chmod(os.path.join(HERE, "resize.safetensors"), 0o644)
    index["resize"] = {
        "file": "resize.safetensors",
        "what": f"resize_in: torch.randint(0, 256, ({RESIZE_IN[1]}, {RESIZE_IN[0]}, 3), dtype=uint8, "
                f"generator=torch.Generator().manual_seed({RESIZE_SEED})), an RGB image {RESIZE_IN[0]} wide, "
                f"{RESIZE_IN[1]} high; resize_up / resize_down: np.array(Image.fromarray(resize_in).resize(size, "
                "Image.LANCZOS)), HWC uint8",
        "sizes_width_height": {"resize_in": list(RESIZE_IN), "resize_up": list(RESIZE_UP),
                               "resize_down": list(RESIZE_DOWN)},
        "tensors": {k: {"shape": list(v.shape), "dtype": "uint8"} for k, v in resize.items()},
    }
    with open(os.path.join(HERE, "index.json"), "w", encoding="utf-8") as f:
        json.dump(index, f, indent=1, allow_nan=False)
        f.write("\n")


if __name__ == "__main__":
    main()
