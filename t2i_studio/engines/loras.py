"""LoRAs on a loaded pipeline through diffusers' ``load_lora_weights``/``set_adapters``/``fuse_lora``.

Both layouts load: diffusers/peft (``lora_A``/``lora_B``) and kohya/A1111 (``lora_unet_…``,
``lora_down``/``lora_up``, ``alpha``, ``lora_te_…``), which ``load_lora_weights`` converts. The set in
use is fused into the weights (``fuse_lora``), so a step costs what the base model's does; while the
next job asks for the same LoRAs at the same weights nothing is done. A change unfuses and writes back
the exact weights saved before fusing (``W + d - d`` is not ``W`` in floating point), then sets and
fuses the new set: the base model is never reloaded, and with no LoRA (or weight 0) it is the base
model exactly. A LoRA left out of the set is unloaded; files are read again when they come back.
Files are safetensors (pickle refused unless allowed, as for checkpoints); a folder holding
``pytorch_lora_weights.safetensors`` and a hub id work too.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from t2i_studio.core.engine import EngineError
from t2i_studio.core.lora_library import lora_hash
from t2i_studio.core.lora_syntax import lora_name
from t2i_studio.core.requests import Adapter
from t2i_studio.engines import checkpoints

DIFFUSERS_FILE = "pytorch_lora_weights.safetensors"
_HUB_ID = re.compile(r"^[\w.\-]+/[\w.\-]+$")
# the width a LoRA's cross-attention key projection reads: the text encoder the UNet was made for
_CONTEXT_FAMILY = {768: "sd", 1024: "sd", 2048: "sdxl"}


@dataclass(frozen=True)
class LoraFile:
    source: str  # as the request names it
    path: Path | None  # None: a hub id, fetched by diffusers
    name: str  # what a prompt's tag and A1111's "Lora hashes" call it

    @property
    def key(self) -> str:
        return str(self.path) if self.path is not None else self.source


def locate(adapter: Adapter, allow_unsafe: bool = False) -> LoraFile:
    """Where ``adapter``'s weights are; ``EngineError`` when they are not there or not safe to read."""
    path = Path(adapter.source).expanduser()
    name = lora_name(adapter.source)
    if path.is_dir():
        path = path / DIFFUSERS_FILE
        if not path.is_file():
            raise EngineError(f"LoRA folder {adapter.source} has no {DIFFUSERS_FILE}.",
                              hint="Pass the .safetensors file itself.")
    if path.is_file():
        checkpoints.check_checkpoint(path, allow_unsafe)
        return LoraFile(adapter.source, path.resolve(), name)
    if _HUB_ID.match(adapter.source) and not adapter.source.startswith((".", "~")):
        return LoraFile(adapter.source, None, name)
    raise EngineError(f"LoRA not found: {adapter.source}",
                      hint="Give a .safetensors file, a folder with one, or a Hugging Face id.")


def family(lora: LoraFile) -> str | None:
    """The model family a LoRA file was trained for, from a cross-attention shape (None: unknown)."""
    if lora.path is None or checkpoints.sniff(lora.path) != "safetensors":
        return None
    for key, info in checkpoints.safetensors_header(lora.path).items():
        if "attn2" in key and "to_k" in key and ("lora_A" in key or "lora_down" in key or "lora.down" in key):
            shape = info.get("shape") if isinstance(info, dict) else None
            if shape and len(shape) == 2:
                return _CONTEXT_FAMILY.get(int(shape[1]))
    return None


class LoraSet:
    """The LoRAs loaded into one pipeline (by file), and the set fused into its weights."""

    def __init__(self) -> None:
        self._names: dict[str, str] = {}  # LoraFile.key -> adapter name in the pipeline
        self._hashes: dict[str, str | None] = {}
        self._loaded = 0  # adapter names are never reused (peft remembers a deleted one's config)
        # (key, weight) of the set the pipeline runs with now; None: unsettled (a change failed half-way)
        self._state: tuple[tuple[str, float], ...] | None = ()
        self._saved: list[tuple[Any, Any]] | None = None  # (parameter, its exact values before fusing)

    def apply(self, pipe: Any, adapters: tuple[Adapter, ...], allow_unsafe: bool) -> list[dict[str, Any]]:
        """Make exactly ``adapters`` active on ``pipe``; returns their fingerprint entries."""
        wanted = [(locate(a, allow_unsafe), float(a.weight)) for a in adapters if a.kind == "lora"]
        keys = [lora.key for lora, _weight in wanted]
        twice = {lora.name for lora, _w in wanted if keys.count(lora.key) > 1}
        if twice:
            raise EngineError(f"The LoRA {', '.join(sorted(twice))} is given twice.", hint="Keep one.")
        state = tuple((lora.key, weight) for lora, weight in wanted)
        if state != self._state:
            self._state = None
            self._unfuse(pipe)
            self._drop(pipe, set(keys))
            for lora, _weight in wanted:
                self._load(pipe, lora)
            if wanted:
                names = [self._names[key] for key in keys]
                pipe.set_adapters(names, adapter_weights=[weight for _lora, weight in wanted])
                self._fuse(pipe, names)
            self._state = state
        return [{"name": lora.name, "source": lora.source, "weight": weight, "hash": self._hashes[lora.key]}
                for lora, weight in wanted]

    def forget(self) -> None:
        """The pipeline is gone (unloaded): nothing of it is loaded any more."""
        self._names.clear()
        self._hashes.clear()
        self._state = ()
        self._saved = None

    def _load(self, pipe: Any, lora: LoraFile) -> None:
        if lora.key in self._names:
            return
        name = f"lora{self._loaded}"
        self._loaded += 1
        try:
            pipe.load_lora_weights(str(lora.path) if lora.path else lora.source, adapter_name=name)
        except (ValueError, KeyError, RuntimeError, OSError) as exc:
            pipe.unload_lora_weights()  # nothing half-loaded stays active: the next job loads what it names
            self._names.clear()
            self._hashes.clear()
            raise EngineError(f"The LoRA {lora.name} does not fit this model ({type(exc).__name__}).",
                              hint="Use a LoRA made for this model's family.", details=str(exc)) from exc
        self._names[lora.key] = name
        self._hashes[lora.key] = lora_hash(lora.path) if lora.path else None

    def _drop(self, pipe: Any, keep: set[str]) -> None:
        """Unload the LoRAs not in ``keep`` (all of them: the pipeline without any LoRA layer)."""
        gone = [key for key in self._names if key not in keep]
        if not gone:
            return
        if keep & set(self._names):
            pipe.delete_adapters([self._names[key] for key in gone])
        else:
            pipe.unload_lora_weights()
        for key in gone:
            del self._names[key], self._hashes[key]

    def _fuse(self, pipe: Any, names: list[str]) -> None:
        import torch

        self._saved = [(param, param.detach().to("cpu", copy=True)) for layer in _layers_of(pipe, names)
                       for param in _base_parameters(layer)]
        with torch.no_grad():
            pipe.fuse_lora(adapter_names=names)

    def _unfuse(self, pipe: Any) -> None:
        import torch

        if self._saved is None:
            return
        with torch.no_grad():
            pipe.unfuse_lora()  # peft's bookkeeping; the values come from what was saved
            for param, saved in self._saved:
                param.copy_(saved)
        self._saved = None


def _layers_of(pipe: Any, names: list[str]) -> list[Any]:
    """The LoRA layers in ``pipe``'s models that hold any of the adapters ``names``."""
    import torch
    from peft.tuners.tuners_utils import BaseTunerLayer

    return [layer for model in pipe.components.values() if isinstance(model, torch.nn.Module)
            for layer in model.modules() if isinstance(layer, BaseTunerLayer)
            and any(name in getattr(layer, attr) for attr in layer.adapter_layer_names for name in names)]


def _base_parameters(layer: Any) -> list[Any]:
    """What fusing changes: the wrapped layer's weight, and its bias (LoRAs with a bias term)."""
    base = layer.get_base_layer()
    return [p for p in (getattr(base, "weight", None), getattr(base, "bias", None)) if p is not None]
