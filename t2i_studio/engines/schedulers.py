"""Schedulers (named in ``core.schedulers``) built from the loaded model's own config.

Changing scheduler only swaps this small object: the weights stay where they are.
"""

from __future__ import annotations

from typing import Any

from t2i_studio.core import schedulers as core_schedulers
from t2i_studio.core.engine import EngineError


def is_flow_matching(config: dict[str, Any]) -> bool:
    return "FlowMatch" in str(config.get("_class_name", "")) or "shift" in config and "beta_start" not in config


def build(name: str, base_config: dict[str, Any]) -> Any:
    """A new scheduler called ``name`` from the model's original scheduler config."""
    import diffusers

    table = core_schedulers.FLOW if is_flow_matching(base_config) else core_schedulers.DENOISING
    specs = {spec.name: spec for spec in table}
    if name not in specs:
        raise EngineError(f"Scheduler {name!r} does not apply to this model; use one of "
                          f"{', '.join(specs)}.")
    class_name, overrides = specs[name].diffusers_class, specs[name].overrides
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
