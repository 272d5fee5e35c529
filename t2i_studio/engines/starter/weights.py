"""The starter model's weights file: text encoder + generator in one safetensors file, the model
config in its metadata (discriminators are training-only and not shipped)."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from safetensors.torch import load_file, save_file

from t2i_studio.core.engine import EngineError
from t2i_studio.engines.starter import WEIGHTS as SHIPPED
from t2i_studio.engines.starter.model import Config, Generator, TextEncoder


@dataclass
class StarterModel:
    cfg: Config
    text: TextEncoder
    generator: Generator

    @classmethod
    def fresh(cls, cfg: Config) -> StarterModel:
        return cls(cfg, TextEncoder(cfg), Generator(cfg))

    def eval(self) -> StarterModel:
        self.text.eval()
        self.generator.eval()
        return self


def save(model: StarterModel, path: Path, info: dict | None = None) -> None:
    tensors = {f"text.{k}": v for k, v in model.text.state_dict().items()}
    tensors |= {f"generator.{k}": v for k, v in model.generator.state_dict().items()}
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    save_file({k: v.detach().contiguous() for k, v in tensors.items()}, str(tmp),
              metadata={"config": json.dumps(model.cfg.to_json()), "info": json.dumps(info or {})})
    tmp.replace(path)


def load(path: Path = SHIPPED) -> StarterModel:
    """The model in eval mode; EngineError when the file is missing or not starter weights."""
    if not path.is_file():
        raise EngineError(f"The starter model's weights are missing: {path}.",
                          hint="Reinstall T2I Studio, or train them with scripts/train_starter.py.")
    try:
        from safetensors import safe_open

        with safe_open(str(path), "pt") as handle:
            cfg = Config(**json.loads(handle.metadata()["config"]))
        tensors = load_file(str(path))
        model = StarterModel.fresh(cfg)
        model.text.load_state_dict({k[5:]: v for k, v in tensors.items() if k.startswith("text.")})
        model.generator.load_state_dict({k[10:]: v for k, v in tensors.items() if k.startswith("generator.")})
    except (KeyError, TypeError, ValueError, RuntimeError, OSError) as exc:
        raise EngineError(f"{path.name} is not a usable starter model file: {exc}") from exc
    return model.eval()


def file_hash(path: Path = SHIPPED) -> str:
    """The SHA-256 of the weights file (its first 10 hex digits are the A1111 "Model hash")."""
    return hashlib.sha256(path.read_bytes()).hexdigest()

