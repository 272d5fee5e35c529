"""Schedulers by the names artists know (A1111's), built from the loaded model's own config.

Changing scheduler only swaps this small object: the weights stay where they are.
"""

from __future__ import annotations

from typing import Any

from t2i_studio.core.engine import EngineError

# name -> (diffusers class, config overrides)
SCHEDULERS: dict[str, tuple[str, dict[str, Any]]] = {
    "Euler": ("EulerDiscreteScheduler", {}),
    "Euler a": ("EulerAncestralDiscreteScheduler", {}),
    "DPM++ 2M": ("DPMSolverMultistepScheduler", {"algorithm_type": "dpmsolver++", "use_karras_sigmas": False}),
    "DPM++ 2M Karras": ("DPMSolverMultistepScheduler",
                        {"algorithm_type": "dpmsolver++", "use_karras_sigmas": True}),
    # A1111's DPM++ SDE needs torchsde; the multistep SDE variant gives the same look without it.
    "DPM++ SDE Karras": ("DPMSolverMultistepScheduler",
                         {"algorithm_type": "sde-dpmsolver++", "use_karras_sigmas": True}),
    "DDIM": ("DDIMScheduler", {}),
    "UniPC": ("UniPCMultistepScheduler", {}),
    "LCM": ("LCMScheduler", {}),
    "Heun": ("HeunDiscreteScheduler", {}),
}
FLOW_SCHEDULERS: dict[str, tuple[str, dict[str, Any]]] = {
    "Euler": ("FlowMatchEulerDiscreteScheduler", {}),
}


def is_flow_matching(config: dict[str, Any]) -> bool:
    return "FlowMatch" in str(config.get("_class_name", "")) or "shift" in config and "beta_start" not in config


def names_for(config: dict[str, Any]) -> list[str]:
    """The scheduler names that apply to a model whose original scheduler config is ``config``."""
    return list(FLOW_SCHEDULERS if is_flow_matching(config) else SCHEDULERS)


def build(name: str, base_config: dict[str, Any]) -> Any:
    """A new scheduler called ``name`` from the model's original scheduler config."""
    import diffusers

    table = FLOW_SCHEDULERS if is_flow_matching(base_config) else SCHEDULERS
    if name not in table:
        raise EngineError(f"Scheduler {name!r} does not apply to this model; use one of "
                          f"{', '.join(table)}.")
    class_name, overrides = table[name]
    cls = getattr(diffusers, class_name)
    config = {k: v for k, v in base_config.items() if not k.startswith("_")}
    if class_name == "DDIMScheduler":
        config.setdefault("clip_sample", False)
        config["set_alpha_to_one"] = False
    return cls.from_config({**config, **overrides})


def describe(name: str, scheduler: Any) -> dict[str, Any]:
    """The fingerprint's scheduler entry."""
    return {"name": name, "class": type(scheduler).__name__, "config": _plain(dict(scheduler.config))}


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return str(value)
