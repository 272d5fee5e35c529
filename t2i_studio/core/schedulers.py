"""Schedulers by the names artists know (A1111's), per model family: the one list of them.

Requests are checked against it when they are made, the UI offers only the names of the chosen
model's family, and ``engines.schedulers`` builds the diffusers class named here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class SchedulerSpec:
    name: str
    diffusers_class: str
    overrides: dict[str, Any] = field(default_factory=dict)


# Denoising (epsilon / v-prediction) models: SD 1.x/2.x, SD-Turbo, SDXL.
DENOISING = (
    SchedulerSpec("Euler", "EulerDiscreteScheduler"),
    SchedulerSpec("Euler a", "EulerAncestralDiscreteScheduler"),
    SchedulerSpec("DPM++ 2M", "DPMSolverMultistepScheduler",
                  {"algorithm_type": "dpmsolver++", "use_karras_sigmas": False}),
    SchedulerSpec("DPM++ 2M Karras", "DPMSolverMultistepScheduler",
                  {"algorithm_type": "dpmsolver++", "use_karras_sigmas": True}),
    # A1111's DPM++ SDE needs torchsde; the multistep SDE variant gives the same look without it.
    SchedulerSpec("DPM++ SDE Karras", "DPMSolverMultistepScheduler",
                  {"algorithm_type": "sde-dpmsolver++", "use_karras_sigmas": True}),
    SchedulerSpec("DDIM", "DDIMScheduler"),
    SchedulerSpec("UniPC", "UniPCMultistepScheduler"),
    SchedulerSpec("LCM", "LCMScheduler"),
    SchedulerSpec("Heun", "HeunDiscreteScheduler"),
)
# Flow-matching models (SD3, FLUX) have one sampler that fits them.
FLOW = (SchedulerSpec("Euler", "FlowMatchEulerDiscreteScheduler"),)

FLOW_FAMILIES = ("sd3", "flux")
NAMES = tuple(spec.name for spec in DENOISING)  # every name a request may carry
DEFAULT = "Euler a"


def specs_for(family: str | None) -> tuple[SchedulerSpec, ...]:
    """The schedulers of a model family (None or unknown: the denoising ones)."""
    return FLOW if family in FLOW_FAMILIES else DENOISING


def names_for(family: str | None) -> tuple[str, ...]:
    return tuple(spec.name for spec in specs_for(family))


def check(name: str, family: str | None) -> None:
    """``ValueError`` when ``name`` is no scheduler of ``family``, naming the ones that are."""
    names = names_for(family)
    if name not in names:
        what = f"{family.upper()} models" if family in FLOW_FAMILIES else "this model"
        raise ValueError(f"Scheduler {name!r} does not apply to {what}; use one of {', '.join(names)}.")
