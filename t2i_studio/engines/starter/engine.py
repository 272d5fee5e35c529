"""The starter engine: the built-in GAN behind the same ``Engine`` protocol as diffusers.

What a request means to it: the prompt (words outside the starter vocabulary are ignored), the
seed (picture k of a batch from seed + k), batch size, variation seed and strength (slerp between
the two seeds' noise vectors), and guidance, which sets the truncation of the noise: more guidance,
less noise, more typical pictures (threshold = 14 / guidance; 0: untruncated). Steps, scheduler and
negative prompt mean nothing to a one-pass GAN and are ignored; it draws 128 px squares on the CPU,
resized to the requested side. It does text-to-image only; ``check`` refuses the rest up front.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PIL import Image

from t2i_studio import __version__
from t2i_studio.core.engine import CancelToken, Progress, ProgressCallback, Result
from t2i_studio.core.requests import GenerationRequest, Request
from t2i_studio.engines.starter import ENGINE, MODEL_ID, NAME, WEIGHTS

GUIDANCE_TO_TRUNCATION = 14.0


def truncation(guidance: float) -> float:
    return GUIDANCE_TO_TRUNCATION / guidance if guidance > 0 else float("inf")


def check(request: Request, weights: Path = WEIGHTS) -> None:
    """What the starter model cannot do, said before anything loads (no weights read)."""
    assert isinstance(request, GenerationRequest)
    if request.mode != "txt2img":
        raise ValueError(f"The starter model only draws from text; it cannot do {request.mode}. "
                         "Clear the init image, or choose a diffusers model.")
    if request.model.adapters:
        raise ValueError("The starter model cannot apply LoRAs or other adapters: remove them, "
                         "or choose a diffusers model.")
    if request.model.id != MODEL_ID:
        raise ValueError(f"The {ENGINE} engine runs only the built-in model {MODEL_ID!r}, "
                         f"not {request.model.id!r}.")
    if request.width != request.height:
        raise ValueError(f"The starter model draws square pictures; {request.width}x{request.height} "
                         "would distort its shapes. Choose a square size.")
    if not weights.is_file():
        raise ValueError(f"The starter model's weights are missing ({weights}): reinstall T2I Studio.")


class StarterEngine:
    def __init__(self, weights: Path = WEIGHTS) -> None:
        self._path = weights
        self._model: Any = None
        self._hash: str | None = None

    def run(self, request: Request, on_progress: ProgressCallback, cancel: CancelToken) -> Result:
        assert isinstance(request, GenerationRequest)
        if request.sampling.batch_count != 1:
            raise ValueError("An engine run makes one batch: run the request through core.jobs.run_job.")
        check(request, self._path)
        cancel.raise_if_cancelled()
        import torch

        from t2i_studio.engines.noise import slerp
        from t2i_studio.engines.starter.sampling import generate, seed_noise

        model = self._load(on_progress)
        sampling, seeds = request.sampling, request.sampling.seeds()
        tau = truncation(sampling.guidance)
        rows = []
        for k, seed in enumerate(seeds):
            cancel.raise_if_cancelled()
            vector = seed_noise(seed, model.cfg.noise, tau)
            if sampling.variation_seed is not None and sampling.variation_strength > 0:
                other = seed_noise(sampling.variation_seed, model.cfg.noise, tau)
                vector = slerp(sampling.variation_strength, vector, other)
            rows.append(vector)
            on_progress(Progress(k, len(seeds) + 1, None, "Drawing"))
        cancel.raise_if_cancelled()
        pictures = generate(model, [request.prompt] * len(seeds), torch.stack(rows))
        cancel.raise_if_cancelled()
        side = request.width
        images = [Image.fromarray(p) if side == p.shape[0] else
                  Image.fromarray(p).resize((side, side), Image.Resampling.LANCZOS) for p in pictures]
        on_progress(Progress(len(seeds) + 1, len(seeds) + 1, images[-1]))
        return Result(images=images, seeds=seeds, fingerprint=self._fingerprint(torch.__version__, tau))

    def _load(self, on_progress: ProgressCallback) -> Any:
        if self._model is None:
            from t2i_studio.engines.starter.weights import file_hash, load

            on_progress(Progress(0, 1, None, f"Loading {NAME}"))
            self._model, self._hash = load(self._path), file_hash(self._path)[:10]
        return self._model

    def _fingerprint(self, torch_version: str, tau: float) -> dict[str, Any]:
        return {"app": __version__, "torch": torch_version, "device": "cpu", "dtype": "fp32",
                "pipeline": "StarterGAN", "family": "starter",
                "truncation": None if tau == float("inf") else round(tau, 4),
                "model": {"id": MODEL_ID, "name": NAME, "revision": None, "hash": self._hash}}

    def close(self) -> None:
        self._model = self._hash = None

    def status(self) -> dict[str, Any]:
        return {"device": "cpu", "model": NAME if self._model is not None else None, "memory_mb": 0.0}
