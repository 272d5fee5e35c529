"""The axes of an X/Y/Z plot (``core.xyz``): which setting each sweeps, and its values as typed.

Values are typed as A1111 takes them: comma lists (a quoted value keeps its commas), ranges
``1-5``, with a step ``1-10 (+2)`` or a count ``0.5-1 [3]``; a seed of -1 is a random one. Each
value is checked as it is read, and a wrong one named: "Steps values must be whole numbers from 1
to 500: got 'ten'."
"""

from __future__ import annotations

import csv
import math
import re
from dataclasses import dataclass
from typing import Any

from t2i_studio.core import schedulers
from t2i_studio.core.requests import IMAGE_MODES, MAX_SEED, GenerationRequest, random_seed

MAX_CELLS = 500  # a plot's images, all axes together
RANDOM = -1  # a seed value of -1 draws a random seed (once, when the values are read)


@dataclass(frozen=True)
class _Kind:
    label: str
    number: type | None = None  # int or float: the values are numbers (ranges allowed) in low..high
    low: float = 0
    high: float = 0
    rule: str = ""  # what its values must be, when not numbers


KINDS: dict[str, _Kind] = {
    "seed": _Kind("Seed", int, 0, MAX_SEED),
    "steps": _Kind("Steps", int, 1, 500),
    "cfg": _Kind("CFG scale", float, 0, 50),
    "scheduler": _Kind("Scheduler", rule=f"scheduler names ({', '.join(schedulers.NAMES)})"),
    "lora": _Kind("LoRA weight", float, -4, 4),
    "prompt_sr": _Kind("Prompt S/R"),
    "strength": _Kind("Denoising strength", float, 0, 1),
}
_ALIASES = {"guidance": "cfg", "sampler": "scheduler", "sr": "prompt_sr", "prompt": "prompt_sr",
            "denoising": "strength", "lora_weight": "lora"}
_NUMBER = r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)"
_RANGE = re.compile(rf"^\s*({_NUMBER})\s*-\s*({_NUMBER})\s*(?:\(\s*({_NUMBER})\s*\)|\[\s*(\d+)\s*\])?\s*$")


def kind_name(name: str) -> tuple[str, int]:
    """(kind, LoRA index) of a name as typed: ``steps``, ``CFG``, ``sampler``, ``lora2`` (the 2nd LoRA)."""
    key = name.strip().lower().replace(" ", "_").replace("-", "_")
    match = re.fullmatch(r"lora(?:_weight)?_?(\d*)", key)
    if match:
        number = int(match.group(1) or 1)
        if number < 1:
            raise ValueError(f"LoRAs count from 1: use lora or lora1 for the first, got {name!r}.")
        return "lora", number - 1
    key = _ALIASES.get(key, key)
    if key not in KINDS:
        raise ValueError(f"Unknown axis {name!r}: use one of {', '.join(KINDS)}.")
    return key, 0


@dataclass(frozen=True)
class Axis:
    """One swept setting and its values, typed (ints, floats, names or prompt texts)."""

    kind: str
    values: tuple[Any, ...]
    lora: int = 0  # a "lora" axis: which of the request's LoRAs (0: the first)

    @classmethod
    def parse(cls, name: str, text: str) -> Axis:
        """An axis from values typed as A1111 takes them (``name`` as ``kind_name`` reads it);
        ``ValueError`` says which value is wrong."""
        kind, lora = kind_name(name)
        spec = KINDS[kind]
        items = [item.strip() for item in next(csv.reader([text], skipinitialspace=True), [])]
        # an empty item ("1,2,") means nothing, but in a prompt S/R it removes the searched text
        items = [item for k, item in enumerate(items) if item or (kind == "prompt_sr" and k)]
        if not items:
            raise ValueError(f"Give at least one {spec.label} value.")
        values: list[Any] = []
        for item in items:
            values += _expand(kind, item)
            if len(values) > MAX_CELLS:
                raise ValueError(f"{spec.label} has more than {MAX_CELLS} values; a plot takes at most "
                                 f"{MAX_CELLS} images in all.")
        axis = cls(kind, tuple(values), lora)
        axis.validate()
        return axis

    def validate(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"Unknown axis {self.kind!r}: use one of {', '.join(KINDS)}.")
        if not self.values:
            raise ValueError(f"Give at least one {KINDS[self.kind].label} value.")
        for value in self.values:
            _check_value(self.kind, value, value)
        if self.kind == "prompt_sr" and not self.values[0]:
            raise ValueError("Prompt S/R searches for its first value: it cannot be empty.")

    def text(self) -> str:
        """The values as they can be typed again."""
        if self.kind == "prompt_sr":
            return ", ".join(f'"{v}"' if "," in v or '"' in v or v != v.strip() else v
                             for v in (str(v).replace('"', '""') for v in self.values))
        return ", ".join(_shown(v) for v in self.values)

    def labels(self) -> list[str]:
        """The grid's header of each value."""
        if self.kind == "prompt_sr":
            return [v if v.strip() else "(removed)" for v in self.values]
        return [_shown(v) for v in self.values]

    def title(self, base: GenerationRequest) -> str:
        spec = KINDS[self.kind]
        if self.kind == "lora":
            found = loras(base)
            name = found[self.lora][1].source if self.lora < len(found) else f"#{self.lora + 1}"
            return f"{spec.label}: {stem(name)}"
        if self.kind == "prompt_sr":
            return f"{spec.label}: {self.values[0]}"
        return spec.label

    def applies_to(self, base: GenerationRequest) -> None:
        """``ValueError`` when ``base`` has nothing this axis can change."""
        label = KINDS[self.kind].label
        if self.kind == "lora" and self.lora >= len(loras(base)):
            have = len(loras(base))
            raise ValueError(f"The {label} axis sweeps LoRA #{self.lora + 1}, but the request has "
                             f"{have or 'no'} LoRA{'s' if have != 1 else ''}: add one in the Generate panel "
                             "(or --lora).")
        if self.kind == "prompt_sr":
            search = self.values[0]
            if search not in base.prompt and search not in base.negative_prompt:
                raise ValueError(f"Prompt S/R replaces its first value, {search!r}, but it is not in the "
                                 "prompt or the negative prompt: make the first value a word of the prompt.")
        if self.kind == "strength" and not _redraws(base):
            raise ValueError(f"{label} changes how much of an init image is redrawn (or the hires fix's second "
                             "pass): it does nothing in text-to-image; choose an init image or the hires fix.")


def choices(base: GenerationRequest) -> list[tuple[str, str]]:
    """(name as ``Axis.parse`` takes it, label) of each setting ``base`` can sweep: a weight per LoRA,
    the denoising strength only with an init image or the hires fix."""
    out = []
    for kind, spec in KINDS.items():
        if kind == "lora":
            out += [(f"lora{n + 1}", f"{spec.label}: {stem(adapter.source)}")
                    for n, (_index, adapter) in enumerate(loras(base))]
        elif kind != "strength" or _redraws(base):
            out.append((kind, spec.label))
    return out


def _redraws(base: GenerationRequest) -> bool:
    """Whether ``base`` has a denoising strength that counts: an init image's, or the hires fix's."""
    return base.mode in IMAGE_MODES or base.hires is not None


def parse_axis(spec: str) -> Axis:
    """``KIND=VALUES`` as the CLI takes it: ``steps=10,20,30``, ``cfg=4-8 [3]``, ``lora2=0-1 (+0.25)``."""
    name, sep, text = spec.partition("=")
    if not sep:
        raise ValueError(f"Give an axis as KIND=VALUES (such as steps=10,20,30), got {spec!r}.")
    return Axis.parse(name, text)


def _expand(kind: str, item: str) -> list[Any]:
    """One typed item: a value, or a range of them."""
    spec = KINDS[kind]
    if kind == "scheduler":
        name = next((n for n in schedulers.NAMES if n.lower() == item.lower()), None)
        return [_check_value(kind, name, item)]
    if spec.number is None:
        return [item]
    match = _RANGE.match(item)
    if match is None:
        value = _number(spec, item)
        return [random_seed() if kind == "seed" and value == RANDOM else _check_value(kind, value, item)]
    start, end, step, count = match.groups()
    first, last = _number(spec, start), _number(spec, end)
    if first is None or last is None or (step is not None and _number(spec, step) is None):
        _check_value(kind, None, item)
    if count is not None:
        values = _counted(spec, first, last, int(count), item)
    else:
        by = _number(spec, step) if step else (1 if last >= first else -1)  # "30-10" counts down
        values = _stepped(spec, first, last, by, item)
    return [_check_value(kind, value, item) for value in values]


def _counted(spec: _Kind, first: float, last: float, count: int, item: str) -> list[Any]:
    if not 1 <= count <= MAX_CELLS:
        raise ValueError(f"{spec.label} range {item!r} asks for {count} values: give a count from 1 to "
                         f"{MAX_CELLS}.")
    if count == 1:
        return [first]
    values = [first + (last - first) * k / (count - 1) for k in range(count)]
    return [round(v) for v in values] if spec.number is int else [round(v, 10) for v in values]


def _stepped(spec: _Kind, first: float, last: float, step: float, item: str) -> list[Any]:
    if step == 0 or (last - first) * step < 0:
        sign = "+" if last >= first else "-"
        raise ValueError(f"{spec.label} range {item!r} never gets from {_shown(first)} to {_shown(last)}: "
                         f"give a step such as ({sign}{_shown(abs(step) or 1)}).")
    count = math.floor((last - first) / step + 1e-9) + 1
    if count > MAX_CELLS:
        raise ValueError(f"{spec.label} range {item!r} gives {count:,} values; a plot takes at most "
                         f"{MAX_CELLS} images in all.")
    values = [first + k * step for k in range(count)]
    return values if spec.number is int else [round(v, 10) for v in values]


def _number(spec: _Kind, text: str) -> int | float | None:
    try:
        return int(text) if spec.number is int else float(text)
    except ValueError:
        return None


def _check_value(kind: str, value: Any, typed: Any) -> Any:
    """``value`` when it is one the axis takes, else ``ValueError`` showing it as ``typed``."""
    spec = KINDS[kind]
    if spec.number is not None:
        ok = (isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
              and spec.low <= value <= spec.high and (spec.number is float or isinstance(value, int)))
        whole = "whole numbers" if spec.number is int else "numbers"
        rule = f"{whole} from {_shown(spec.low)} to {_shown(spec.high)}"
        rule += " (or -1 for a random one)" if kind == "seed" else ""
    elif kind == "prompt_sr":
        ok, rule = isinstance(value, str), "text"
    else:
        ok, rule = value in schedulers.NAMES, spec.rule
    if not ok:
        raise ValueError(f"{spec.label} values must be {rule}: got {typed!r}.")
    return value


def _shown(value: Any) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def stem(path: str) -> str:
    name = path.replace("\\", "/").rstrip("/").rsplit("/", 1)[-1]
    return name.rsplit(".", 1)[0] if "." in name else name


def loras(request: GenerationRequest) -> list[tuple[int, Any]]:
    """(index among all adapters, adapter) of each LoRA (embeddings are adapters too, with no weight)."""
    return [(k, a) for k, a in enumerate(request.model.adapters) if a.kind == "lora"]
