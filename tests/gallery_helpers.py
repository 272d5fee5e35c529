"""Temp projects for the gallery and dialog tests: real Project.save_result with PIL images and
hand-built engine Results (no torch), and an A1111-style PNG from another tool."""

from __future__ import annotations

from pathlib import Path

from PIL import Image, PngImagePlugin
from request_builder import gen_request

from t2i_studio.core.engine import Result
from t2i_studio.core.project import Entry, Project
from t2i_studio.core.requests import StyleRequest

FINGERPRINT = {"app": "0.1.0", "device": "cpu", "dtype": "float32", "family": "sd",
               "pipeline": "StableDiffusionPipeline",
               "model": {"id": "org/model-a", "name": "model-a", "revision": None, "hash": None}}


def add_generated(project: Project, prompt: str, *, model: str = "org/model-a", seed: int = 1,
                  color: tuple[int, int, int] = (200, 40, 40), size: int = 64) -> Entry:
    request = gen_request(prompt=prompt, negative_prompt="blurry", model=model, seed=seed,
                                width=size, height=size, steps=4)
    image = Image.new("RGB", (size, size), color)
    fingerprint = {**FINGERPRINT, "model": {**FINGERPRINT["model"], "id": model}}
    return project.save_result(request, Result(images=[image], seeds=[seed], fingerprint=fingerprint))[0]


def add_stylized(project: Project, content: Entry, style_file: Path, *, seed: int = 7) -> Entry:
    request = StyleRequest(content=str(content.path), styles=(str(style_file),), seed=seed, size=64,
                           content_entry_id=content.id)
    lineage = {"source_image": str(content.path), "source_entry": content.id, "source_sha256": "0" * 64,
               "styles": [{"path": str(style_file), "sha256": "1" * 64, "weight": 1.0}]}
    image = Image.new("RGB", (64, 64), (30, 90, 200))
    return project.save_result(request, Result(images=[image], seeds=[seed], lineage=lineage,
                                               fingerprint={"app": "0.1.0", "device": "cpu"}))[0]


def populate(project: Project, tmp: Path) -> dict[str, Entry]:
    """Five entries: three generated with model a/b, one stylized, all with distinct prompts."""
    entries = {
        "fox": add_generated(project, "a red fox in the snow", seed=11, color=(220, 60, 20)),
        "whale": add_generated(project, "a blue whale under the sea", seed=22, color=(20, 60, 220)),
        "barn": add_generated(project, "an old red barn at dusk", model="org/model-b", seed=33,
                              color=(150, 30, 30)),
        "cat": add_generated(project, "portrait of a grey cat", model="org/model-b", seed=44,
                             color=(128, 128, 128)),
    }
    style = tmp / "ink-style.png"
    Image.new("RGB", (32, 32), (10, 10, 10)).save(style)
    entries["styled"] = add_stylized(project, entries["fox"], style)
    return entries


def a1111_png(path: Path, prompt: str = "a lighthouse on a cliff, oil painting", seed: int = 1234) -> Path:
    """A PNG as AUTOMATIC1111 writes it: the settings in a ``parameters`` text chunk."""
    info = PngImagePlugin.PngInfo()
    info.add_text("parameters", f"{prompt}\nNegative prompt: fog\nSteps: 20, Sampler: Euler a, CFG scale: 7, "
                                f"Seed: {seed}, Size: 64x64, Model hash: abcdef1234, Model: sd15")
    Image.new("RGB", (64, 64), (90, 160, 90)).save(path, pnginfo=info)
    return path
