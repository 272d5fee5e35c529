"""LoRAs on a loaded pipeline through diffusers' ``load_lora_weights``/``set_adapters`` (peft).

A LoRA is read once per pipeline and kept: a later job with other LoRAs or other weights only
changes which adapters are active and how strongly, never the base weights (no reload). No LoRA, or
weight 0, runs the base model exactly. Files are safetensors (pickle refused unless allowed, as for
checkpoints); a folder holding ``pytorch_lora_weights.safetensors`` and a hub id work too.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from t2i_studio.core.engine import EngineError
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
    name: str  # what A1111's "Lora hashes" calls it: the file's stem

    @property
    def key(self) -> str:
        return str(self.path) if self.path is not None else self.source


def locate(adapter: Adapter, allow_unsafe: bool = False) -> LoraFile:
    """Where ``adapter``'s weights are; ``EngineError`` when they are not there or not safe to read."""
    path = Path(adapter.source).expanduser()
    if path.is_dir():
        path = path / DIFFUSERS_FILE
        if not path.is_file():
            raise EngineError(f"LoRA folder {adapter.source} has no {DIFFUSERS_FILE}.",
                              hint="Pass the .safetensors file itself.")
    if path.is_file():
        checkpoints.check_checkpoint(path, allow_unsafe)
        return LoraFile(adapter.source, path.resolve(), path.stem)
    if _HUB_ID.match(adapter.source) and not adapter.source.startswith((".", "~")):
        return LoraFile(adapter.source, None, adapter.source.rsplit("/", 1)[-1])
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
    """The LoRAs loaded into one pipeline (by file), and which are active at what weight."""

    def __init__(self) -> None:
        self._names: dict[str, str] = {}  # LoraFile.key -> adapter name in the pipeline
        self._hashes: dict[str, str | None] = {}

    def apply(self, pipe: Any, adapters: tuple[Adapter, ...], allow_unsafe: bool) -> list[dict[str, Any]]:
        """Make exactly ``adapters`` active on ``pipe``; returns their fingerprint entries."""
        wanted = [(locate(a, allow_unsafe), a.weight) for a in adapters if a.kind == "lora"]
        for lora, _weight in wanted:
            if lora.key not in self._names:
                name = f"lora{len(self._names)}"
                try:
                    pipe.load_lora_weights(str(lora.path) if lora.path else lora.source, adapter_name=name)
                except (ValueError, KeyError, RuntimeError, OSError) as exc:
                    raise EngineError(f"The LoRA {lora.name} does not fit this model ({type(exc).__name__}).",
                                      hint="Use a LoRA made for this model's family.", details=str(exc)) from exc
                self._names[lora.key] = name
                self._hashes[lora.key] = checkpoints.model_hash(lora.path) if lora.path else None
        if wanted:
            pipe.enable_lora()
            pipe.set_adapters([self._names[lora.key] for lora, _w in wanted],
                              adapter_weights=[float(w) for _l, w in wanted])
        elif self._names:
            pipe.disable_lora()  # loaded but unused: the base model exactly
        return [{"name": lora.name, "source": lora.source, "weight": weight, "hash": self._hashes[lora.key]}
                for lora, weight in wanted]

    def forget(self) -> None:
        """The pipeline is gone (unloaded): nothing of it is loaded any more."""
        self._names.clear()
        self._hashes.clear()
