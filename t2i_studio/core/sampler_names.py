"""Other tools' sampler and schedule names mapped to our schedulers, or reported as not supported.

A1111/Forge write a sampler ("DPM++ 2M", "DPM++ 2M Karras") and a "Schedule type" ("Karras");
ComfyUI a ``sampler_name`` ("dpmpp_2m", "uni_pc_bh2") and a ``scheduler`` ("karras", "normal");
InvokeAI one scheduler ("dpmpp_2m_k", "euler_a"); Fooocus ComfyUI's names. Every known name is in
one of the tables below: mapped to ours, or known to have no equivalent here. A name we cannot map
comes back with a note saying so, and reuse takes the default - never silently.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from t2i_studio.core.schedulers import DEFAULT, NAMES

# Sampler keys (lower case, "++" as "pp", "ancestral" as "a", no separators) -> our base name.
_SAMPLERS = {
    "euler": "Euler", "eulera": "Euler a", "heun": "Heun", "dpm2m": "DPM++ 2M", "dpmpp2m": "DPM++ 2M",
    "dpmppsde": "DPM++ SDE", "dpmpp2msde": "DPM++ SDE", "dpm2msde": "DPM++ SDE", "dpmsde": "DPM++ SDE",
    "ddim": "DDIM", "ddimv3": "DDIM", "unipc": "UniPC", "unipcbh2": "UniPC", "lcm": "LCM",
}
# Samplers other tools have and we do not (the CFG++ ones need their own low guidance).
_NOT_HERE = {
    "lms", "dpm2", "dpm2a", "dpmpp2sa", "dpmpp3msde", "dpmpp2msdeheun", "dpmfast", "dpmadaptive", "plms",
    "restart", "ddpm", "heunpp2", "ipndm", "ipndmv", "deis", "resmultistep", "gradientestimation", "ersde",
    "seeds2", "seeds3", "eulercfgpp", "euleracfgpp", "dpmpp2mcfgpp", "dpmpp2sacfgpp", "tcd", "sasolver",
    "sasolverpece", "resmultistepcfgpp", "resmultistepa", "resmultistepacfgpp", "gradientestimationcfgpp",
    "kdpm2", "kdpm2a", "dpmpp2s", "dpmpp3m", "pndm",  # InvokeAI's
}
_DEFAULT_SCHEDULES = {"", "automatic", "normal", "simple", "default", "uniform", "native"}  # native: NovelAI's
_KNOWN_SCHEDULES = _DEFAULT_SCHEDULES | {
    "karras", "exponential", "polyexponential", "sgmuniform", "kloptimal", "alignyoursteps", "beta",
    "ddimuniform", "linearquadratic", "turbo",
}
_SUFFIXES = (("karras", "karras"), ("k", "karras"), ("exponential", "exponential"), ("gpu", ""))


@dataclass(frozen=True)
class SamplerMatch:
    name: str | None  # ours, or None (reuse takes the default)
    note: str | None  # what could not be matched, for the user


def _key(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", text.lower().replace("++", "pp").replace("ancestral", "a"))


def _split(key: str) -> tuple[str, str]:
    """A sampler key and the schedule written into it ("dpmpp2mkarras", InvokeAI's "dpmpp2mk")."""
    for suffix, schedule in _SUFFIXES:
        base = key.removesuffix(suffix)
        if base != key and (base in _SAMPLERS or base in _NOT_HERE):
            return (_split(base)[0], schedule) if schedule else _split(base)
    return key, ""


def map_sampler(sampler: str | None, schedule: str | None = None) -> SamplerMatch:
    """Our scheduler for another tool's sampler and schedule names, or None with a note."""
    if not sampler:
        return SamplerMatch(None, None)
    key, built_in = _split(_key(re.sub(r"^k_", "", str(sampler).lower())))  # NovelAI's "k_euler"
    sched = _key(str(schedule or "")) or built_in
    if key not in _SAMPLERS:
        what = "is not available here" if key in _NOT_HERE else "is not one we know"
        return SamplerMatch(None, f"Sampler {sampler!r} {what}; reusing these settings uses {DEFAULT}.")
    base = _SAMPLERS[key]
    if base == "DPM++ SDE":  # ours is the Karras one only
        name = "DPM++ SDE Karras"
        return SamplerMatch(name, None if sched in ("", "automatic", "karras") else _schedule_note(schedule, name))
    if sched == "karras" and f"{base} Karras" in NAMES:
        return SamplerMatch(f"{base} Karras", None)
    if sched in _DEFAULT_SCHEDULES or (sched == "ddimuniform" and base == "DDIM") or (
            sched == "sgmuniform" and base == "LCM"):
        return SamplerMatch(base, None)
    return SamplerMatch(base, _schedule_note(schedule or built_in, base))


def _schedule_note(schedule: str | None, name: str) -> str:
    known = "is not available" if _key(str(schedule or "")) in _KNOWN_SCHEDULES else "is not one we know"
    return f"Schedule {schedule!r} {known} with {name} here; reusing these settings uses {name}'s own."
