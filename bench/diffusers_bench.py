#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""diffusers' side of bench/compare-diffusers: the same measurements as atelier-bench, taken the same way.

Prints one JSON line with the same keys as build/bin/atelier-bench: model load, text encoding (prompt and negative
prompt, via pipe.encode_prompt), one standalone UNet forward at the classifier-free-guidance batch, the denoising
loop's time per step (from callback_on_step_end timestamps), VAE decoding, one whole pipe() call, and peak memory.
Runs offline: the model is a local diffusers folder, or a single .safetensors file together with
--diffusers-config DIR (a local diffusers folder of the same architecture, whose configs diffusers then reads
instead of fetching them from the Hub).
"""

import argparse
import json
import os
import resource
import sys
import time

# Never reach for the Hub: every file comes from the model folder.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("DIFFUSERS_VERBOSITY", "error")
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")

import torch  # noqa: E402

# Atelier's sampler names → diffusers scheduler classes and the config overrides that make them the same sampler.
SCHEDULERS = {
    "pndm": ("PNDMScheduler", {}),
    "ddim": ("DDIMScheduler", {}),
    "euler": ("EulerDiscreteScheduler", {}),
    "euler_a": ("EulerAncestralDiscreteScheduler", {}),
    "dpmpp_2m": ("DPMSolverMultistepScheduler", {}),
    "dpmpp_2m_karras": ("DPMSolverMultistepScheduler", {"use_karras_sigmas": True}),
    "lms": ("LMSDiscreteScheduler", {}),
}
DTYPES = {"fp32": torch.float32, "fp16": torch.float16, "bf16": torch.bfloat16}


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", required=True)
    p.add_argument("--width", type=int, default=512)
    p.add_argument("--height", type=int, default=512)
    p.add_argument("--steps", type=int, default=20)
    p.add_argument("--batch", type=int, default=1)
    p.add_argument("--device", default="cpu")
    p.add_argument("--dtype", default="fp32", choices=sorted(DTYPES))
    p.add_argument("--scheduler", default="", help="Atelier's sampler name; empty: the model's own")
    p.add_argument("--threads", type=int, default=0, help="torch.set_num_threads; 0 leaves torch's default")
    p.add_argument("--warmup", type=int, default=1)
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--guidance", type=float, default=7.5)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--prompt", default="a photograph of an astronaut riding a horse")
    p.add_argument("--negative-prompt", default="")
    p.add_argument(
        "--diffusers-config",
        default=None,
        help="for a single .safetensors file: a local diffusers folder whose configs describe it (diffusers would "
        "otherwise fetch them from the Hub, which an offline run cannot)",
    )
    p.add_argument(
        "--profile-out",
        default=None,
        help="after the measurements, profile --profile-runs eager UNet forwards and write the time per kernel "
        "(CUDA) or per aten operator (CPU, inclusive) as JSON, as atelier-bench does",
    )
    p.add_argument("--profile-runs", type=int, default=5)
    return p.parse_args()


def profile_by_name(device, runs, work):
    """Where runs calls of work spend their time, by name: the counterpart of atelier-bench's profileByName."""
    from torch.profiler import ProfilerActivity, profile

    activities = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if device.type == "cuda" else [])
    synchronize(device)
    start = time.perf_counter()
    with profile(activities=activities) as prof:
        for _ in range(runs):
            work()
        synchronize(device)
    wall_ms = (time.perf_counter() - start) * 1000.0
    totals = {}
    busy_ns = 0.0
    for event in prof.events():
        on_gpu = event.device_type == torch.autograd.DeviceType.CUDA
        if device.type == "cuda" and not on_gpu:
            continue
        if device.type != "cuda" and (on_gpu or not event.name.startswith("aten::")):
            continue
        # FunctionEvent times are in microseconds.
        duration_ns = (event.time_range.end - event.time_range.start) * 1000.0
        total = totals.setdefault(event.name, [0.0, 0])
        total[0] += duration_ns
        total[1] += 1
        busy_ns += duration_ns
    whole_ms = busy_ns / 1e6 if device.type == "cuda" else wall_ms
    ranked = sorted(totals.items(), key=lambda item: item[1][0], reverse=True)[:40]
    return {
        "runs": runs,
        "wall_ms_per_run": round(wall_ms / runs, 3),
        "gpu_busy_ms_per_run": round(busy_ns / 1e6 / runs, 3) if device.type == "cuda" else None,
        "counted": "GPU kernels and copies" if device.type == "cuda" else "aten operators, inclusive",
        "top": [
            {
                "name": name,
                "calls_per_run": calls / runs,
                "ms_per_run": round(ns / 1e6 / runs, 3),
                "share": round(ns / 1e6 / whole_ms, 4) if whole_ms > 0 else 0.0,
            }
            for name, (ns, calls) in ranked
        ],
    }


def synchronize(device):
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def fastest_of(repeat, device, work):
    """Fastest wall-clock time of `repeat` runs, in ms: the run least disturbed by other processes."""
    best = float("inf")
    for _ in range(repeat):
        synchronize(device)
        start = time.perf_counter()
        work()
        synchronize(device)
        best = min(best, (time.perf_counter() - start) * 1000.0)
    return best


def peak_rss_mib():
    # VmHWM, as atelier-bench reads it; ru_maxrss (KiB on Linux) is the same number.
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def load_pipeline(args, dtype, device):
    import diffusers

    kwargs = dict(torch_dtype=dtype, safety_checker=None, feature_extractor=None, requires_safety_checker=False)
    if os.path.isdir(args.model):
        # atelier-make-model writes no VAE encoder (text-to-image never runs it). With accelerate installed,
        # diffusers would leave those missing weights on the meta device and pipe.to() would then fail; loading
        # eagerly gives them random values instead. Loading is not part of what is timed.
        pipe = diffusers.StableDiffusionPipeline.from_pretrained(
            args.model, local_files_only=True, low_cpu_mem_usage=False, **kwargs
        )
    else:
        if not args.diffusers_config:
            sys.exit("diffusers_bench: a single-file model needs --diffusers-config DIR to load offline")
        pipe = diffusers.StableDiffusionPipeline.from_single_file(
            args.model, config=args.diffusers_config, local_files_only=True, **kwargs
        )
    if args.scheduler:
        class_name, overrides = SCHEDULERS[args.scheduler]
        pipe.scheduler = getattr(diffusers, class_name).from_config(pipe.scheduler.config, **overrides)
    pipe = pipe.to(device)
    pipe.set_progress_bar_config(disable=True)
    return pipe


def scheduler_name(pipe):
    config = pipe.scheduler.config
    for name, (class_name, overrides) in SCHEDULERS.items():
        if type(pipe.scheduler).__name__ == class_name and all(config.get(k) == v for k, v in overrides.items()):
            if class_name == "DPMSolverMultistepScheduler" and not overrides and config.get("use_karras_sigmas"):
                continue
            return name
    return type(pipe.scheduler).__name__


def main():
    args = parse_args()
    if args.scheduler and args.scheduler not in SCHEDULERS:
        sys.exit(f"diffusers_bench: unknown scheduler {args.scheduler!r} (one of {', '.join(SCHEDULERS)})")
    if args.threads > 0:
        torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    dtype = DTYPES[args.dtype]
    if device.type == "cuda":
        device_name = torch.cuda.get_device_name(device)
    else:
        device_name = cpu_model_name()

    load_at_start = os.getloadavg()[0]
    start = time.perf_counter()
    pipe = load_pipeline(args, dtype, device)
    synchronize(device)
    load_s = time.perf_counter() - start

    prompts = [args.prompt] * args.batch
    negatives = [args.negative_prompt] * args.batch
    guidance = args.guidance > 1.0

    def generators():
        # One CPU generator per image, seeded seed + index, as atelier-bench's requests are.
        return [torch.Generator("cpu").manual_seed(args.seed + b) for b in range(args.batch)]

    def call(steps, callback=None):
        return pipe(
            prompt=prompts,
            negative_prompt=negatives,
            height=args.height,
            width=args.width,
            num_inference_steps=steps,
            guidance_scale=args.guidance,
            generator=generators(),
            output_type="np",
            callback_on_step_end=callback,
        )

    with torch.inference_mode():
        for _ in range(args.warmup):
            call(min(args.steps, 2))

        step_times = []
        final_latents = {}

        def on_step_end(pipeline, step, timestep, callback_kwargs):
            synchronize(device)
            step_times.append(time.perf_counter())
            final_latents["latents"] = callback_kwargs["latents"]
            return callback_kwargs

        synchronize(device)
        start = time.perf_counter()
        call(args.steps, on_step_end)
        synchronize(device)
        end = time.perf_counter()
        # What rendering needs (load, warm-up and the timed call), before the standalone measurements below.
        generation_peak = torch.cuda.max_memory_allocated(device) if device.type == "cuda" else None
        end_to_end_ms = (end - start) * 1000.0
        loop_step_ms = (step_times[-1] - step_times[0]) * 1000.0 / (len(step_times) - 1) if len(step_times) > 1 else None
        # The fastest single step as well: on a shared machine the mean absorbs every stall of other processes.
        intervals = [(b - a) * 1000.0 for a, b in zip(step_times, step_times[1:])]
        loop_step_min_ms = min(intervals) if intervals else None
        after_loop_ms = (end - step_times[-1]) * 1000.0

        context = {}

        def encode():
            cond, uncond = pipe.encode_prompt(prompts, device, 1, guidance, negatives)
            context["embeds"] = torch.cat([uncond, cond]) if guidance else cond

        def tokenize():
            for texts in (prompts, negatives):
                pipe.tokenizer(texts, padding="max_length", max_length=pipe.tokenizer.model_max_length, truncation=True)

        # Each stage's own peak (the weights included), as atelier-bench reports them.
        stage_peaks = {}

        def stage(name, work):
            if device.type == "cuda":
                torch.cuda.reset_peak_memory_stats(device)
            result = fastest_of(args.repeat, device, work)
            if device.type == "cuda":
                stage_peaks[name] = torch.cuda.max_memory_allocated(device)
            return result

        tokenize_ms = fastest_of(args.repeat, device, tokenize)
        text_encode_ms = stage("text_encode", encode)

        factor = pipe.vae_scale_factor
        cfg_batch = 2 * args.batch if guidance else args.batch
        sample = torch.randn(
            cfg_batch, pipe.unet.config.in_channels, args.height // factor, args.width // factor, dtype=dtype
        ).to(device)
        # A mid-schedule timestep as a 0-d tensor, as atelier-bench passes it.
        timestep = torch.tensor(500.0, dtype=torch.float64, device=device)
        embeds = context["embeds"].to(dtype)
        unet_step_ms = stage(
            "unet_step", lambda: pipe.unet(sample, timestep, encoder_hidden_states=embeds, return_dict=False)
        )

        latents = final_latents["latents"].to(pipe.vae.dtype) / pipe.vae.config.scaling_factor
        vae_decode_ms = stage("vae_decode", lambda: pipe.vae.decode(latents, return_dict=False))


    line = {
        "impl": "diffusers",
        "model": args.model,
        "device": str(device) if device.type == "cpu" else f"cuda:{device.index or 0}",
        "device_name": device_name,
        "dtype": args.dtype,
        "vae_dtype": {v: k for k, v in DTYPES.items()}[pipe.vae.dtype],
        "width": args.width,
        "height": args.height,
        "steps": args.steps,
        "steps_run": len(step_times),
        "batch": args.batch,
        "cfg_batch": cfg_batch,
        "scheduler": args.scheduler or scheduler_name(pipe),
        "guidance": args.guidance,
        "threads": torch.get_num_threads(),
        "torch": torch.__version__.split("+")[0],
        "diffusers": __import__("diffusers").__version__,
        "warmup": args.warmup,
        "repeat": args.repeat,
        "load_s": round(load_s, 2),
        "tokenize_ms": round(tokenize_ms, 2),
        "text_encode_ms": round(text_encode_ms, 2),
        "unet_step_ms": round(unet_step_ms, 2),
        "loop_step_ms": round(loop_step_ms, 2) if loop_step_ms is not None else None,
        "loop_step_min_ms": round(loop_step_min_ms, 2) if loop_step_min_ms is not None else None,
        "vae_decode_ms": round(vae_decode_ms, 2),
        "after_loop_ms": round(after_loop_ms, 2),
        "end_to_end_ms": round(end_to_end_ms, 2),
        "images_per_s": round(args.batch / (end_to_end_ms / 1000.0), 4),
        "peak_rss_mib": round(peak_rss_mib(), 2),
        "load_avg_start": load_at_start,
        "load_avg_end": os.getloadavg()[0],
        "peak_device_mib": round(generation_peak / 2**20, 2) if device.type == "cuda" else None,
        "peak_device_all_mib": round(max([generation_peak, *stage_peaks.values()]) / 2**20, 2)
        if device.type == "cuda"
        else None,
        **{
            f"peak_device_{name}_mib": round(stage_peaks[name] / 2**20, 2) if name in stage_peaks else None
            for name in ("text_encode", "unet_step", "vae_decode")
        },
    }
    print(json.dumps(line), flush=True)
    if not args.profile_out:
        return
    # Extra to the measurements, which are already out: a profiler that fails costs only itself.
    try:
        with torch.inference_mode():
            profile = profile_by_name(
                device,
                max(1, args.profile_runs),
                lambda: pipe.unet(sample, timestep, encoder_hidden_states=embeds, return_dict=False),
            )
        profile.update(
            impl="diffusers",
            what=f"UNet forward, eager, batch {cfg_batch}, {args.width}x{args.height}, {args.dtype}",
            device_name=device_name,
        )
        with open(args.profile_out, "w") as out:
            json.dump(profile, out, indent=1)
            out.write("\n")
    except Exception as error:  # noqa: BLE001 - any failure of the profiler is reported, not fatal
        print(f"diffusers_bench: no profile: {error}", file=sys.stderr)


def cpu_model_name():
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "cpu"


if __name__ == "__main__":
    main()
