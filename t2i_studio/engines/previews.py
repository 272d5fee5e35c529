"""Live previews: latents -> an approximate RGB image, cheap enough to draw every few steps.

A fixed linear projection per family (the widely used latent-to-RGB factors) costs a few
microseconds per latent pixel; TAESD (a tiny VAE decoder) gives a truer picture when its weights
are present in the app's weights folder (``taesd/`` for SD 1.x/2.x, ``taesdxl/`` for SDXL).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

# (factors: latent channel -> RGB rows, bias) per family.
FACTORS: dict[str, tuple[list[list[float]], list[float]]] = {
    "sd": ([[0.3512, 0.2297, 0.3227], [0.3250, 0.4974, 0.2350], [-0.2829, 0.1762, 0.2721],
            [-0.2120, -0.2616, -0.7177]], [0.0, 0.0, 0.0]),
    "sdxl": ([[0.3651, 0.4232, 0.4341], [-0.2533, -0.0042, 0.1068], [0.1076, 0.1111, -0.0362],
              [-0.3165, -0.2492, -0.2188]], [0.1084, -0.0175, -0.0011]),
}
TAESD_FOLDERS = {"sd": "taesd", "sdxl": "taesdxl", "sd3": "taesd3", "flux": "taef1"}


class Previewer:
    """Turns the first image's latents of a step into a small PIL image."""

    def __init__(self, family: str, latent_channels: int, taesd_dir: Path | None = None) -> None:
        import torch

        self.family = family
        self.taesd = self._load_taesd(family, taesd_dir) if taesd_dir else None
        factors, bias = FACTORS.get(family, (None, None))
        if factors is None or len(factors) != latent_channels:
            # Unknown layout: show the first three channels, which still tracks the composition.
            factors = [[1.0 if i == j else 0.0 for j in range(3)] for i in range(latent_channels)]
            bias = [0.0, 0.0, 0.0]
        self.factors = torch.tensor(factors, dtype=torch.float32)
        self.bias = torch.tensor(bias, dtype=torch.float32)

    @staticmethod
    def _load_taesd(family: str, weights_dir: Path) -> Any:
        folder = weights_dir / TAESD_FOLDERS.get(family, "")
        if not (folder / "config.json").is_file():
            return None
        try:
            from diffusers import AutoencoderTiny

            return AutoencoderTiny.from_pretrained(str(folder), local_files_only=True,
                                                   use_safetensors=True).eval()
        except Exception as exc:  # noqa: BLE001 - previews are optional
            log.warning("TAESD weights in %s unusable (%s); using the linear preview", folder, exc)
            return None

    def __call__(self, latents: Any) -> Any:
        """``latents`` (B, C, h, w) on any device -> PIL image of the first one (h x w, upscaled x2)."""
        import torch
        from PIL import Image

        with torch.no_grad():
            first = latents[:1].detach().to("cpu", torch.float32)
            if first.dim() != 4:
                return None
            if self.taesd is not None:
                rgb = self.taesd.decode(first).sample[0].clamp(-1, 1).add(1).mul(127.5)
                array = rgb.permute(1, 2, 0).to(torch.uint8).numpy()
                return Image.fromarray(array)
            rgb = torch.einsum("chw,cr->hwr", first[0], self.factors) + self.bias
            array = rgb.add(1).mul(127.5).clamp(0, 255).to(torch.uint8).numpy()
        image = Image.fromarray(array)
        return image.resize((image.width * 2, image.height * 2), Image.Resampling.BILINEAR)
