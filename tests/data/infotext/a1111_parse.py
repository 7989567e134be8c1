#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""How AUTOMATIC1111's stable-diffusion-webui reads an infotext, for Atelier's tests (TestA1111Infotext).

This is a stand-alone model of `parse_generation_parameters()` in A1111's modules/infotext_utils.py, written for tests
from A1111's documented behaviour and read against its source as of v1.10 (the master branch at commit c19d044); A1111
1.9 splits and reads the text the same way, with a slightly shorter list of filled-in defaults. No A1111 code is
copied, and nothing beyond the Python 3.11 standard library is needed. It reproduces:

- the split of the text: the whole text stripped, then cut at "\\n"; the last line holds the settings only when it
  has at least three "Key: value" pairs, otherwise it is one more prompt line; every other line is stripped; lines
  from the first one starting with "Negative prompt:" on are the negative prompt (that prefix is cut from every
  line that starts with it);
- the pairs of the last line: a key is a word character followed by one or more word characters, spaces, "-" or
  "/"; a value is either a JSON string in double quotes (at least one character inside; decoded with json, and kept
  as written if it does not decode) or everything up to the next comma, spaces kept; an empty value is reported
  and dropped; a value of the form <digits>x<digits> (after unquoting, whatever the key) becomes "<Key>-1" and
  "<Key>-2", so "Size: 512x768" gives "Size-1": "512" and "Size-2": "768"; a repeated key keeps its last value;
  every value stays a string;
- what A1111 fills in when the text does not name it (DEFAULTS_* below: "Clip skip" "1", "Hires resize-1/-2" 0,
  "Hires sampler" "Use same sampler", "Schedule type" "Automatic", ...), "Emphasis": "Original" when a prompt uses
  a weight ("(word:1.2)", "(word)", "[word]"), a "Hypernet" appended to the prompt as a tag, the old hires fix's
  "First pass size", and the compatibility flags that an old "Version" turns on (modules/infotext_versions.py).

A1111's settings are taken at their defaults on a fresh install: no saved styles (so none is taken out of the
prompts), nothing in "infotext_skip_pasting", "use_old_hires_fix_width_height" off, "auto_backcompat" on.

With --paste it prints instead what pasting the text into the txt2img tab derives from that dict beyond it:
- "Sampler" and "Schedule type" as the tab's two drop-downs get them (modules/sd_samplers.py
  get_sampler_and_scheduler): a scheduler's name at the end of the sampler's ("DPM++ 2M Karras") moves to the
  schedule type; an unknown sampler becomes the first one, DPM++ 2M; a schedule type that is the sampler's own
  default becomes "Automatic". "Hires sampler" and "Hires schedule type" likewise (get_hr_sampler_and_scheduler);
- "Lora hashes" as the built-in Lora extension reads them when a text is pasted (scripts/lora_script.py
  infotext_pasted): the value cut at every comma, each part cut at its first colon into name and hash; null (and
  "Lora hashes error") when a part has no colon, where A1111's callback fails and maps no LoRA.

Usage: a1111_parse.py [--paste] < infotext.txt    (UTF-8 in; JSON with sorted keys out, ASCII-escaped)
"""

from __future__ import annotations

import json
import math
import re
import sys
from dataclasses import dataclass

# ---------------------------------------------------------------------------------------------------------------------
# The parameter line

# One pair; findall() is used, so text that fits no pair is skipped.
PAIR = re.compile(
    r"""
    \s*
    ( \w [\w \-/]+ )              # the key (a class keeps its space under re.VERBOSE)
    : \s*
    ( " (?: \\. | [^\\"] )+ "     # a quoted value, escapes as JSON writes them
    | [^,]*                       # or a plain one: up to the next comma
    )
    (?: , | $ )
    """,
    re.VERBOSE,
)

# Any value of this form is split into "<Key>-1" and "<Key>-2" ("$" also matches before a final "\n").
IMAGE_SIZE = re.compile(r"^(\d+)x(\d+)$")

NEGATIVE_PREFIX = "Negative prompt:"


def unquote(value: str) -> str:
    """A value in double quotes decoded as the JSON string it is; any other value, or one that fails to decode, as
    is."""
    if not value or value[0] != '"' or value[-1] != '"':
        return value
    try:
        return json.loads(value)
    except ValueError:
        return value


def add_line(block: str, line: str) -> str:
    """A1111 joins prompt lines with "\\n", but never puts one in front of an empty block: leading empty lines go."""
    return line if block == "" else block + "\n" + line


# ---------------------------------------------------------------------------------------------------------------------
# Weights in a prompt, as far as "Emphasis" needs them (modules/prompt_parser.py parse_prompt_attention)

ATTENTION_TOKEN = re.compile(
    r"""
      \\\( | \\\) | \\\[ | \\\] | \\\\   # an escaped bracket or backslash: literal text
    | \\                                 # a lone backslash: nothing
    | \( | \[                            # opening brackets
    | : ( [+-]? [.\d]+ ) \)              # ":1.2)" closes a "(" with that weight
    | \) | \]                            # closing brackets
    | [^\\()\[\]:]+                      # plain text
    | :                                  # a colon that gives no weight
    """,
    re.VERBOSE,
)
BREAK = re.compile(r"\s*\bBREAK\b\s*", re.S)


def attention_chunks(text: str) -> list[list]:
    """[text, weight] pieces; "BREAK" pieces have weight -1. "(…)" multiplies by 1.1, "[…]" by 1/1.1, "(…:w)" by
    w, and brackets still open at the end apply as if closed there."""
    chunks: list[list] = []
    open_round: list[int] = []
    open_square: list[int] = []

    def scale_from(start: int, factor: float) -> None:
        for chunk in chunks[start:]:
            chunk[1] *= factor

    for match in ATTENTION_TOKEN.finditer(text):
        token, weight = match.group(0), match.group(1)
        if token.startswith("\\"):
            chunks.append([token[1:], 1.0])
        elif token == "(":
            open_round.append(len(chunks))
        elif token == "[":
            open_square.append(len(chunks))
        elif weight is not None and open_round:
            scale_from(open_round.pop(), float(weight))
        elif token == ")" and open_round:
            scale_from(open_round.pop(), 1.1)
        elif token == "]" and open_square:
            scale_from(open_square.pop(), 1 / 1.1)
        else:
            for index, part in enumerate(BREAK.split(token)):
                if index:
                    chunks.append(["BREAK", -1])
                chunks.append([part, 1.0])
    for start in open_round:
        scale_from(start, 1.1)
    for start in open_square:
        scale_from(start, 1 / 1.1)
    return chunks


def uses_emphasis(*prompts: str) -> bool:
    return any(text != "BREAK" and weight != 1.0 for prompt in prompts for text, weight in attention_chunks(prompt))


# ---------------------------------------------------------------------------------------------------------------------
# "Version" (modules/infotext_versions.py), compared as Python's packaging.version compares these forms

VERSION = re.compile(
    r"""
    v? (?P<release> \d+ (?: \. \d+ )* )
    (?: [-_.]? (?P<pre> alpha | beta | preview | pre | rc | a | b | c ) [-_.]? (?P<pre_n> \d* ) )?
    (?: - (?P<post_implicit> \d+ ) | [-_.]? (?: post | rev | r ) [-_.]? (?P<post_n> \d* ) )?
    (?: [-_.]? (?P<dev> dev ) [-_.]? (?P<dev_n> \d* ) )?
    (?: \+ [a-z0-9]+ (?: [-_.] [a-z0-9]+ )* )?
    """,
    re.VERBOSE | re.IGNORECASE,
)
PRE_RANK = {"a": 0, "alpha": 0, "b": 1, "beta": 1, "c": 2, "pre": 2, "preview": 2, "rc": 2}


def version_key(text: str):
    """A sort key for a PEP 440 version, or None when @p text is not one."""
    match = VERSION.fullmatch(text.strip())
    if match is None:
        return None
    release = [int(part) for part in match["release"].split(".")]
    while len(release) > 1 and release[-1] == 0:
        release.pop()
    post = match["post_implicit"] or match["post_n"]
    has_post = match["post_implicit"] is not None or match["post_n"] is not None
    has_dev = match["dev"] is not None
    if match["pre"] is not None:
        pre = (1, PRE_RANK[match["pre"].lower()], int(match["pre_n"] or 0))
    elif has_dev and not has_post:
        pre = (0,)  # 1.0.dev1 sorts before 1.0a1
    else:
        pre = (2,)
    post_key = (1, int(post or 0)) if has_post else (0,)
    dev_key = (0, int(match["dev_n"] or 0)) if has_dev else (1,)
    return (tuple(release), pre, post_key, dev_key)


def parse_version(text):
    """As infotext_versions.parse_version: only the first two "-" separated parts count ("v1.7.0-225-gabc" is
    1.7.0.post225); None when absent or not a version (a Forge "f2.0.1v1.10.1-…" is not)."""
    if text is None:
        return None
    match = re.match(r"([^-]+-[^-]+)-.*", text)
    if match:
        text = match.group(1)
    return version_key(text)


V160 = version_key("1.6.0")
V170_TSNR = version_key("v1.7.0-225")
V180 = version_key("1.8.0")
V180_HR_STYLES = version_key("1.8.0-139")


# ---------------------------------------------------------------------------------------------------------------------
# parse_generation_parameters

# Filled in, in this order, when the text does not name them ("Clip skip" first, then these). Ints stay ints.
DEFAULTS_BEFORE_OLD_HIRES = [
    ("Hires sampler", "Use same sampler"),
    ("Hires schedule type", "Use same scheduler"),
    ("Hires checkpoint", "Use same checkpoint"),
    ("Hires prompt", ""),
    ("Hires negative prompt", ""),
    ("Mask mode", "Inpaint masked"),
    ("Masked content", "original"),
    ("Inpaint area", "Whole picture"),
    ("Masked area padding", 32),
]
DEFAULTS_AFTER_OLD_HIRES = [
    ("RNG", "GPU"),
    ("Schedule type", "Automatic"),
    ("Schedule max sigma", 0),
    ("Schedule min sigma", 0),
    ("Schedule rho", 0),
    ("VAE Encoder", "Full"),
    ("VAE Decoder", "Full"),
    ("FP8 weight", "Disable"),
]


def old_hires_first_pass(width: int, height: int) -> tuple[int, int]:
    """The first pass size the hires fix of before v1.0 chose itself: about 512 x 512 pixels, sides in 64s."""
    scale = math.sqrt(512 * 512 / (width * height))
    return math.ceil(scale * width / 64) * 64, math.ceil(scale * height / 64) * 64


def restore_old_hires_fix(res: dict) -> None:
    """An old infotext's "First pass size" becomes the size, and its "Size" the hires target ("Hires resize")."""
    first_w, first_h = res.get("First pass size-1"), res.get("First pass size-2")
    if first_w is None or first_h is None:
        return
    first_w, first_h = int(first_w), int(first_h)
    width, height = int(res.get("Size-1", 512)), int(res.get("Size-2", 512))
    if first_w == 0 or first_h == 0:
        first_w, first_h = old_hires_first_pass(width, height)
    res["Size-1"], res["Size-2"] = first_w, first_h
    res["Hires resize-1"], res["Hires resize-2"] = width, height


def apply_backcompat(res: dict) -> None:
    version = parse_version(res.get("Version"))
    if version is None:
        return
    if version < V160 and "[" in res.get("Prompt", ""):
        res["Old prompt editing timelines"] = True
    if version < V160 and res.get("Sampler", "") in ("DDIM", "PLMS"):
        res["Pad conds v0"] = True
    if version < V170_TSNR:
        res["Downcast alphas_cumprod"] = True
    if version < V180 and res.get("Refiner"):
        res["Refiner switch by sampling steps"] = True


def parse_generation_parameters(text: str) -> dict:
    lines = text.strip().split("\n")
    parameter_line = lines.pop()
    if len(PAIR.findall(parameter_line)) < 3:
        lines.append(parameter_line)
        parameter_line = ""

    prompt = negative = ""
    in_negative = False
    for line in lines:
        line = line.strip()
        if line.startswith(NEGATIVE_PREFIX):
            in_negative = True
            line = line[len(NEGATIVE_PREFIX):].strip()
        if in_negative:
            negative = add_line(negative, line)
        else:
            prompt = add_line(prompt, line)

    res: dict = {}
    for key, value in PAIR.findall(parameter_line):
        if value == "":
            # A1111 fails on value[0] here, prints this and goes on without the key.
            print(f'Error parsing "{key}: {value}"', file=sys.stderr)
            continue
        value = unquote(value)
        size = IMAGE_SIZE.match(value)
        if size:
            res[f"{key}-1"], res[f"{key}-2"] = size.group(1), size.group(2)
        else:
            res[key] = value

    # Styles: with none saved, nothing is taken out of the prompts; a hires prompt equal to the main one reads as "".
    if "Hires prompt" in res or "Hires negative prompt" in res:
        version = parse_version(res.get("Version"))
        if version is None or version > V180_HR_STYLES:
            hires_prompt = res.get("Hires prompt", prompt)
            hires_negative = res.get("Hires negative prompt", negative)
            res["Hires prompt"] = "" if hires_prompt == prompt else hires_prompt
            res["Hires negative prompt"] = "" if hires_negative == negative else hires_negative

    res["Prompt"] = prompt
    res["Negative prompt"] = negative

    res.setdefault("Clip skip", "1")  # a missing clip skip was 1
    if "Hypernet" in res:
        res["Prompt"] += f"<hypernet:{res['Hypernet']}:{res.get('Hypernet strength', '1.0')}>"
    if "Hires resize-1" not in res:
        res["Hires resize-1"] = 0
        res["Hires resize-2"] = 0
    for key, value in DEFAULTS_BEFORE_OLD_HIRES:
        res.setdefault(key, value)
    restore_old_hires_fix(res)
    for key, value in DEFAULTS_AFTER_OLD_HIRES:
        res.setdefault(key, value)
    if "Cache FP16 weight for LoRA" not in res and res["FP8 weight"] != "Disable":
        res["Cache FP16 weight for LoRA"] = False
    if "Emphasis" not in res and uses_emphasis(prompt, negative):
        res["Emphasis"] = "Original"
    res.setdefault("Refiner switch by sampling steps", False)
    apply_backcompat(res)
    return res


# ---------------------------------------------------------------------------------------------------------------------
# Pasting into the txt2img tab


@dataclass(frozen=True)
class Scheduler:
    name: str
    label: str
    aliases: tuple = ()


@dataclass(frozen=True)
class Sampler:
    name: str
    default_scheduler: str | None = None  # the scheduler "Automatic" stands for


# modules/sd_schedulers.py, in A1111's order ("Automatic" first).
SCHEDULERS = [
    Scheduler("automatic", "Automatic"),
    Scheduler("uniform", "Uniform"),
    Scheduler("karras", "Karras"),
    Scheduler("exponential", "Exponential"),
    Scheduler("polyexponential", "Polyexponential"),
    Scheduler("sgm_uniform", "SGM Uniform", ("SGMUniform",)),
    Scheduler("kl_optimal", "KL Optimal"),
    Scheduler("align_your_steps", "Align Your Steps"),
    Scheduler("simple", "Simple"),
    Scheduler("normal", "Normal"),
    Scheduler("ddim", "DDIM"),
    Scheduler("beta", "Beta"),
]
# Looked up by name or label (not by alias) when the text names a schedule type.
SCHEDULER_BY_KEY = {**{s.name: s for s in SCHEDULERS}, **{s.label: s for s in SCHEDULERS}}

# modules/sd_samplers_kdiffusion.py, sd_samplers_timesteps.py and sd_samplers_lcm.py, in A1111's order: the first is
# the fallback for an unknown name. Only the names count here, not the aliases ("k_euler").
SAMPLERS = [
    Sampler("DPM++ 2M", "karras"),
    Sampler("DPM++ SDE", "karras"),
    Sampler("DPM++ 2M SDE", "exponential"),
    Sampler("DPM++ 2M SDE Heun", "exponential"),
    Sampler("DPM++ 2S a", "karras"),
    Sampler("DPM++ 3M SDE", "exponential"),
    Sampler("Euler a"),
    Sampler("Euler"),
    Sampler("LMS"),
    Sampler("Heun"),
    Sampler("DPM2", "karras"),
    Sampler("DPM2 a", "karras"),
    Sampler("DPM fast"),
    Sampler("DPM adaptive"),
    Sampler("Restart", "karras"),
    Sampler("DDIM"),
    Sampler("DDIM CFG++"),
    Sampler("PLMS"),
    Sampler("UniPC"),
    Sampler("LCM"),
]
SAMPLER_BY_NAME = {s.name: s for s in SAMPLERS}


def sampler_and_scheduler(sampler_name, scheduler_name, convert_automatic=True) -> tuple[str, str]:
    scheduler = SCHEDULER_BY_KEY.get(scheduler_name, SCHEDULERS[0])
    name = sampler_name or SAMPLERS[0].name
    # Every scheduler in turn may take a " <label|name|alias>" off the end of what is left of the name.
    for candidate in SCHEDULERS:
        for spelling in (candidate.label, candidate.name, *candidate.aliases):
            if name.endswith(" " + spelling):
                scheduler = candidate
                name = name[: -(len(spelling) + 1)]
                break
    sampler = SAMPLER_BY_NAME.get(name, SAMPLERS[0])
    if convert_automatic and sampler.default_scheduler == scheduler.name:
        scheduler = SCHEDULERS[0]
    return sampler.name, scheduler.label


def hires_sampler_and_scheduler(res: dict) -> tuple[str, str]:
    hires_sampler = res.get("Hires sampler", "Use same sampler")
    hires_scheduler = res.get("Hires schedule type", "Use same scheduler")
    sampler = res.get("Sampler") if hires_sampler == "Use same sampler" else hires_sampler
    scheduler = res.get("Schedule type") if hires_scheduler == "Use same scheduler" else hires_scheduler
    sampler, scheduler = sampler_and_scheduler(sampler, scheduler)
    return (
        sampler if sampler != res.get("Sampler") else "Use same sampler",
        scheduler if scheduler != res.get("Schedule type") else "Use same scheduler",
    )


def lora_hashes(res: dict) -> tuple[dict | None, str | None]:
    """The Lora extension's reading of "Lora hashes": ({name: hash}, None), or (None, why) where it fails."""
    text = res.get("Lora hashes")
    if not text:
        return None, None
    hashes = {}
    for part in text.split(","):
        name, colon, short_hash = part.strip().partition(":")
        if not colon:
            return None, f'"{part.strip()}" has no ":" (A1111 fails on it and maps no LoRA)'
        hashes[name.strip().replace(",", "")] = short_hash.strip()
    return hashes, None


def paste(res: dict) -> dict:
    sampler, scheduler = sampler_and_scheduler(res.get("Sampler"), res.get("Schedule type"))
    hires_sampler, hires_scheduler = hires_sampler_and_scheduler(res)
    hashes, error = lora_hashes(res)
    pasted = {
        "Sampler": sampler,
        "Schedule type": scheduler,
        "Hires sampler": hires_sampler,
        "Hires schedule type": hires_scheduler,
        "Lora hashes": hashes,
    }
    if error:
        pasted["Lora hashes error"] = error
    return pasted


def main(argv: list[str]) -> int:
    options = argv[1:]
    if options not in ([], ["--paste"]):
        print(__doc__, file=sys.stderr)
        return 2
    text = sys.stdin.buffer.read().decode("utf-8")
    res = parse_generation_parameters(text)
    if options == ["--paste"]:
        res = paste(res)
    sys.stdout.write(json.dumps(res, sort_keys=True, ensure_ascii=True) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
