"""A VAE in place of a model's own (``ModelRef.vae``): a ``.safetensors`` file in the original layout
A1111 uses (or diffusers'), or a diffusers VAE folder, loaded with diffusers' ``AutoencoderKL`` and put
into the loaded pipeline and every pipeline made from it, so only the VAE changes: the model is not
reloaded, and going back puts the model's own VAE back as it was. A single file takes the model's own
VAE config (its architecture and scaling factor; nothing is looked up on the hub). Pickle files are
refused unless allowed, as checkpoints are.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

from t2i_studio.core.engine import EngineError
from t2i_studio.core.settings import vae_dir
from t2i_studio.engines import checkpoints

# where an original-layout file keeps the encoder's last conv: alone, or inside a whole checkpoint
_CONV_OUT = tuple(f"{prefix}encoder.conv_out.weight" for prefix in ("", "first_stage_model.", "vae."))
_LATENTS = {"sd": 4, "sdxl": 4, "sd3": 16, "flux": 16}
_FAMILIES = {4: "SD 1.x/2.x and SDXL", 16: "SD3 and FLUX"}


def locate(source: str, allow_unsafe: bool = False) -> Path:
    """The VAE file or diffusers folder ``source`` names; ``EngineError`` when it is not one."""
    path = Path(source).expanduser()
    if path.is_dir():
        for folder in (path, path / "vae"):  # a VAE folder, or a whole diffusers model's
            if (folder / "config.json").is_file():
                return folder.resolve()
        raise EngineError(f"{path} is not a diffusers VAE folder (no config.json).",
                          hint="Give the VAE's .safetensors file, or a folder holding its config.json.")
    if not path.is_file():
        raise EngineError(f"VAE not found: {source}",
                          hint=f"Give a .safetensors file or a diffusers VAE folder, or put one in "
                               f"{vae_dir()}.")
    checkpoints.check_checkpoint(path, allow_unsafe)
    return path.resolve()


def latent_channels(path: Path) -> int | None:
    """The latent channels of a VAE file or folder, from its header or config alone (None: a pickle,
    or no VAE in it)."""
    if path.is_dir():
        try:
            return int(json.loads((path / "config.json").read_text(encoding="utf-8"))["latent_channels"])
        except (OSError, ValueError, KeyError, TypeError):
            return None
    if checkpoints.sniff(path) != "safetensors":
        return None
    header = checkpoints.safetensors_header(path)
    shape = next((header[k].get("shape") for k in _CONV_OUT if isinstance(header.get(k), dict)), None)
    return int(shape[0]) // 2 if shape else None  # the conv gives mean and variance


def check(source: str, model_family: str | None, allow_unsafe: bool = False) -> None:
    """The VAE is there, safe to read, a VAE, and of the latent size the model's family uses."""
    path = locate(source, allow_unsafe)
    channels = latent_channels(path)
    if channels is None and path.is_file() and checkpoints.sniff(path) == "safetensors":
        raise EngineError(f"{path.name} is not a VAE: it has no encoder weights (encoder.conv_out).",
                          hint="Choose a VAE file, such as vae-ft-mse-840000-ema-pruned.safetensors for "
                               "SD 1.5.")
    wanted = _LATENTS.get(model_family or "")
    if channels and wanted and channels != wanted:
        made_for = _FAMILIES.get(channels, f"{channels}-channel")
        raise EngineError(f"{path.name} is a VAE for {made_for} models, and the chosen model needs one for "
                          f"{_FAMILIES[wanted]}.",
                          hint="Choose a VAE made for this model's family, or the model's own.")


def load(path: Path, like: Any, allow_unsafe: bool = False) -> Any:
    """The VAE at ``path`` in ``like``'s dtype, on the CPU; ``like`` (the model's own) gives a single
    file its config."""
    from diffusers import AutoencoderKL

    try:
        if path.is_dir():
            vae = AutoencoderKL.from_pretrained(str(path), dtype=like.dtype, local_files_only=True,
                                                use_safetensors=None if allow_unsafe else True)
        else:
            with tempfile.TemporaryDirectory(prefix="t2i-vae-") as config:
                like.save_config(config)
                vae = AutoencoderKL.from_single_file(str(path), config=config, dtype=like.dtype,
                                                     local_files_only=True)
    except Exception as exc:  # diffusers raises many types for weights that do not fit
        from t2i_studio.engines.devices import is_out_of_memory

        if is_out_of_memory(exc):
            raise
        text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise EngineError(f"Could not load the VAE {path.name}: {text}",
                          hint="Use a VAE made for this model's family.", details=repr(exc)) from exc
    empty = [name for name, tensor in vae.state_dict().items() if tensor.is_meta]
    if empty:
        raise EngineError(f"The VAE {path.name} has no weights for {empty[0]}"
                          f"{f' (and {len(empty) - 1} more)' if len(empty) > 1 else ''}.",
                          hint="The file is incomplete, or not a VAE of this model's architecture.")
    return vae.eval()


class VaeChoice:
    """Which VAE one loaded pipeline decodes with: its own, or an override (``ModelRef.vae``)."""

    def __init__(self) -> None:
        self._own: Any = None  # the model's own VAE while an override is in
        self._path: Path | None = None
        self.fingerprint: dict[str, Any] | None = None  # name and A1111 hash of the override

    def apply(self, pipes: dict[str, Any], source: str | None, allow_unsafe: bool,
              offload: Any = None) -> None:
        """Put the VAE ``source`` names (None: the model's own) into ``pipes`` (the loaded pipeline
        first, then those made from it); ``offload``: the device of a CPU-offloaded pipeline."""
        path = locate(source, allow_unsafe) if source else None
        if path == self._path:
            return
        main = next(iter(pipes.values()))
        own = self._own if self._own is not None else main.vae
        vae = own if path is None else load(path, own, allow_unsafe).to(own.device)
        for pipe in pipes.values():
            pipe.vae = vae
        if offload is not None:
            main.enable_model_cpu_offload(device=offload)  # the hooks move the new VAE too
        self._own = None if path is None else own
        self._path = path
        self.fingerprint = None if path is None else {
            "name": path.name, "source": source,
            "hash": checkpoints.model_hash(path) if path.is_file() else None}

    def forget(self) -> None:
        """The pipeline is gone: its VAE with it."""
        self._own = self._path = self.fingerprint = None
