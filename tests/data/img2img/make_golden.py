#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Writes the image-to-image goldens for TestImg2Img: diffusers 0.40's StableDiffusionImg2ImgPipeline on the tiny-sd15
fixture, and AutoencoderKL.encode alone on tiny-sd and tiny-sd15.

Files written here (re-running rewrites them; the same versions give the same bytes):
- init_image.png: the init image, a smooth deterministic RGB gradient of the fixture's image size (64 x 64).
- golden.safetensors: the tensors below (float32 unless noted).
- golden.json: every case, what it was rendered with, and which tensors hold its results.

Tensors:
- init_image_uint8 [1, 64, 64, 3] uint8: the PNG's pixels.
- init_image [1, 3, 64, 64]: what diffusers' VaeImageProcessor.preprocess makes of the PNG (float32(p) / 255, then
  2x - 1), the image every case starts from.
- encoder.<fixture>.mean, encoder.<fixture>.logvar [1, 4, h, w]: vae.encode(init_image).latent_dist's mean and logvar
  (logvar clamped to [-30, 20], as DiagonalGaussianDistribution does).
- <case>.encoded [B, 4, 8, 8]: the VAE sample times scaling_factor, i.e. what the pipeline passes to
  scheduler.add_noise (recorded there).
- <case>.noise [B, 4, 8, 8]: the noise the pipeline drew for add_noise; <case>.noised: what add_noise returned.
- <case>.step_latents [n, B, 4, 8, 8]: the latents after each denoising step (callback_on_step_end);
  <case>.final_latents = step_latents[-1].
- <case>.image_float [B, 64, 64, 3] in [0, 1] (output_type="np"); <case>.image_uint8 = round(image_float * 255).

Each case calls the pipeline with generator=torch.Generator("cpu").manual_seed(seed) (a list of them, one per
prompt, for the batch case), guidance 7.5 and the negative prompt "" unless the case names one. The generator first
draws the VAE's sample (retrieve_latents(..., sample_mode="sample")), then the add_noise noise, then (Euler
ancestral) one noise tensor per step.

Schedulers are Class.from_config(<the fixture's scheduler config>, **overrides), as the fixture's own goldens make
them. LMSDiscreteScheduler needs scipy.integrate.quad for its coefficients; scipy is not in the project's venv, so
the class is taken from its module and given a stand-in `integrate` whose quad() is 16-point Gauss-Legendre
quadrature, exact (to rounding) for the cubic Lagrange polynomials LMS integrates, as quad is.

Run: .venv/bin/python tests/data/img2img/make_golden.py   (torch, diffusers 0.40.0 and transformers 5.12.1, pinned
in scripts/versions.env; the fixtures are ../shared/fixtures)
"""
import json
import os

import numpy as np
import torch
from PIL import Image
from safetensors.torch import save_file

import diffusers
import diffusers.schedulers.scheduling_lms_discrete as lms_module
import transformers
from diffusers import (AutoencoderKL, DDIMScheduler, DPMSolverMultistepScheduler, EulerAncestralDiscreteScheduler,
                       EulerDiscreteScheduler, PNDMScheduler, StableDiffusionImg2ImgPipeline)

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.path.join(HERE, "..", "..", "..", "..", "shared", "fixtures")
FIXTURE = os.path.join(FIXTURES, "tiny-sd15")
SIZE = 64
STEPS = 10
GUIDANCE = 7.5


class GaussLegendre:
    """Stands in for scipy.integrate (only quad() is used, by LMSDiscreteScheduler.get_lms_coefficient)."""

    nodes, weights = np.polynomial.legendre.leggauss(16)

    @classmethod
    def quad(cls, f, a, b, **_):
        a, b = float(a), float(b)
        half, mid = (b - a) / 2, (b + a) / 2
        return float(sum(w * float(f(mid + half * x)) for x, w in zip(cls.nodes, cls.weights)) * half), 0.0


lms_module.integrate = GaussLegendre

SCHEDULERS = {
    "pndm": (PNDMScheduler, {}),
    "ddim": (DDIMScheduler, {}),
    "euler": (EulerDiscreteScheduler, {}),
    "euler_a": (EulerAncestralDiscreteScheduler, {}),
    "dpmpp_2m": (DPMSolverMultistepScheduler, {}),
    "dpmpp_2m_karras": (DPMSolverMultistepScheduler, {"use_karras_sigmas": True}),
    "lms": (lms_module.LMSDiscreteScheduler, {}),
}

# name, Atelier sampler, strength, seeds, prompts, negative prompts (None: "")
CASES = [
    ("pndm_0.6", "pndm", 0.6, [42], ["a lighthouse on a cliff, watercolor"], None),
    ("ddim_0.6", "ddim", 0.6, [43], ["a lighthouse on a cliff, watercolor"], None),
    ("euler_0.6", "euler", 0.6, [44], ["a lighthouse on a cliff, watercolor"], None),
    ("euler_a_0.6", "euler_a", 0.6, [45], ["a lighthouse on a cliff, watercolor"], None),
    ("dpmpp_2m_0.6", "dpmpp_2m", 0.6, [46], ["portrait of a robot, ink drawing"], ["blurry"]),
    ("dpmpp_2m_karras_0.6", "dpmpp_2m_karras", 0.6, [47], ["portrait of a robot, ink drawing"], None),
    # LMS starts at step 4 with one derivative but order min(4 + 1, 4): diffusers zips the coefficients with the
    # derivatives it has.
    ("lms_0.6", "lms", 0.6, [48], ["a lighthouse on a cliff, watercolor"], None),
    # Strength 1: every step, but the noise is still added to the encoded image.
    ("euler_a_1.0", "euler_a", 1.0, [49], ["a quiet harbor at dawn"], None),
    # int(10 * 0.1) = 1: one denoising step (PNDM's repeated timestep makes it two model evaluations).
    ("dpmpp_2m_0.1", "dpmpp_2m", 0.1, [50], ["a quiet harbor at dawn"], None),
    ("pndm_0.1", "pndm", 0.1, [51], ["a quiet harbor at dawn"], None),
    # One generator per image: each draws its own VAE sample and noise, as alone.
    ("euler_a_batch_0.75", "euler_a", 0.75, [5, 6], ["a red bicycle", "a blue kite over a beach"], ["", "blurry"]),
]


def init_image():
    """A smooth gradient: red across, green down, blue along the diagonal, with a soft bright disc."""
    y, x = np.mgrid[0:SIZE, 0:SIZE].astype(np.float64)
    disc = np.clip(1 - np.hypot(x - 40, y - 24) / 20, 0, 1) * 90
    red = 30 + x * 3 + disc
    green = 20 + y * 3.2 + disc * 0.5
    blue = 200 - (x + y) * 1.2 + disc * 0.3
    rgb = np.stack([red, green, blue], axis=-1)
    return Image.fromarray(np.clip(np.round(rgb), 0, 255).astype(np.uint8), "RGB")


def tensor_ref(key, tensor):
    return {"file": "golden.safetensors", "key": key, "shape": list(tensor.shape), "dtype": str(tensor.dtype)[6:]}


def main():
    torch.set_num_threads(1)
    png = os.path.join(HERE, "init_image.png")
    init_image().save(png)
    image = Image.open(png).convert("RGB")

    base = StableDiffusionImg2ImgPipeline.from_pretrained(FIXTURE, safety_checker=None, requires_safety_checker=False)
    base.set_progress_bar_config(disable=True)
    processed = base.image_processor.preprocess(image)
    tensors = {
        "init_image_uint8": torch.from_numpy(np.array(image)).unsqueeze(0).contiguous(),
        "init_image": processed.contiguous(),
    }
    index = {
        "description": __doc__,
        "generator": "tests/data/img2img/make_golden.py",
        "environment": {"torch": torch.__version__, "diffusers": diffusers.__version__,
                        "transformers": transformers.__version__, "numpy": np.__version__,
                        "torch_num_threads": torch.get_num_threads(), "device": "cpu"},
        "init_image_png": "init_image.png",
        "init_image": tensor_ref("init_image", processed),
        "init_image_uint8": tensor_ref("init_image_uint8", tensors["init_image_uint8"]),
        "encoder": [],
        "cases": [],
    }

    with torch.no_grad():
        for fixture in ("tiny-sd", "tiny-sd15"):
            vae = AutoencoderKL.from_pretrained(os.path.join(FIXTURES, fixture, "vae")).eval()
            posterior = vae.encode(processed).latent_dist
            entry = {"fixture": fixture, "what": "vae.encode(init_image).latent_dist, float32 on the CPU"}
            for part in ("mean", "logvar"):
                key = f"encoder.{fixture}.{part}"
                tensors[key] = getattr(posterior, part).contiguous()
                entry[part] = tensor_ref(key, tensors[key])
            index["encoder"].append(entry)

    for name, sampler, strength, seeds, prompts, negatives in CASES:
        cls, overrides = SCHEDULERS[sampler]
        scheduler = cls.from_config(base.scheduler.config, **overrides)
        pipe = StableDiffusionImg2ImgPipeline(**{**base.components, "scheduler": scheduler},
                                              requires_safety_checker=False)
        pipe.set_progress_bar_config(disable=True)
        recorded = {}
        add_noise = pipe.scheduler.add_noise

        def recording_add_noise(original, noise, timesteps, add_noise=add_noise, recorded=recorded):
            noised = add_noise(original, noise, timesteps)
            recorded.update(encoded=original.clone(), noise=noise.clone(), noised=noised.clone(),
                            timestep=timesteps[0].item())
            return noised

        pipe.scheduler.add_noise = recording_add_noise
        steps = []
        timesteps = []

        def on_step_end(_pipe, _i, t, kwargs, steps=steps, timesteps=timesteps):
            steps.append(kwargs["latents"].clone())
            timesteps.append(t.item())
            return kwargs

        generators = [torch.Generator("cpu").manual_seed(seed) for seed in seeds]
        with torch.no_grad():
            out = pipe(prompt=prompts if len(prompts) > 1 else prompts[0],
                       negative_prompt=(negatives if len(prompts) > 1 else negatives[0]) if negatives else None,
                       image=image, strength=strength, num_inference_steps=STEPS, guidance_scale=GUIDANCE,
                       generator=generators if len(generators) > 1 else generators[0], output_type="np",
                       callback_on_step_end=on_step_end)
        image_float = torch.from_numpy(out.images).contiguous()
        case_tensors = {
            "encoded": recorded["encoded"],
            "noise": recorded["noise"],
            "noised": recorded["noised"],
            "step_latents": torch.stack(steps),
            "final_latents": steps[-1],
            "image_float": image_float,
            "image_uint8": torch.from_numpy(np.round(out.images * 255).astype(np.uint8)).contiguous(),
        }
        entry = {
            "name": name,
            "sampler": sampler,
            "scheduler_class": cls.__name__,
            "scheduler_overrides": overrides,
            "strength": strength,
            "num_inference_steps": STEPS,
            "guidance_scale": GUIDANCE,
            "height": SIZE,
            "width": SIZE,
            "seeds": seeds,
            "prompts": prompts,
            "negative_prompts": negatives,
            "timesteps": timesteps,
            "noise_timestep": recorded["timestep"],
        }
        for key, value in case_tensors.items():
            tensors[f"{name}.{key}"] = value.contiguous()
            entry[key] = tensor_ref(f"{name}.{key}", value)
        index["cases"].append(entry)

    save_file(tensors, os.path.join(HERE, "golden.safetensors"))
    os.chmod(os.path.join(HERE, "golden.safetensors"), 0o644)
    with open(os.path.join(HERE, "golden.json"), "w", encoding="utf-8") as f:
        json.dump(index, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
