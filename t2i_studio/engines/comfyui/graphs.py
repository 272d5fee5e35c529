"""A request as a ComfyUI API graph (the app builds it; no workflow files), and what a graph needs.

One graph makes one image: ComfyUI's ``batch_size`` draws a whole batch from one seed, while image
k of our requests uses ``seed + k``, so each image is its own prompt (which also lets the images of
a batch run on different servers at once).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from t2i_studio.core.requests import GenerationRequest

# Our scheduler names (core.schedulers) as ComfyUI (sampler_name, scheduler) pairs.
SAMPLERS: dict[str, tuple[str, str]] = {
    "Euler": ("euler", "normal"),
    "Euler a": ("euler_ancestral", "normal"),
    "DPM++ 2M": ("dpmpp_2m", "normal"),
    "DPM++ 2M Karras": ("dpmpp_2m", "karras"),
    # locally the multistep SDE variant stands in for A1111's DPM++ SDE: ComfyUI's 2M SDE is that one
    "DPM++ SDE Karras": ("dpmpp_2m_sde", "karras"),
    "DDIM": ("ddim", "ddim_uniform"),
    "UniPC": ("uni_pc", "normal"),
    "LCM": ("lcm", "sgm_uniform"),
    "Heun": ("heun", "normal"),
}
OUTPUT_NODE = "9"


@dataclass(frozen=True)
class Needs:
    """What a request asks of a server: node types, and names in those nodes' option lists."""

    nodes: frozenset[str]
    checkpoint: str
    loras: tuple[str, ...]
    sampler: str
    scheduler: str


def needs(request: GenerationRequest) -> Needs:
    nodes = {"CheckpointLoaderSimple", "CLIPTextEncode", "KSampler", "VAEDecode", "PreviewImage"}
    nodes |= {"LoadImage", "VAEEncode"} if request.mode == "img2img" else {"EmptyLatentImage"}
    loras = tuple(a.source for a in request.model.adapters)
    if loras:
        nodes.add("LoraLoader")
    sampler, scheduler = SAMPLERS[request.sampling.scheduler]
    return Needs(frozenset(nodes), request.model.id, loras, sampler, scheduler)


def build(request: GenerationRequest, seed: int, init_image: str | None = None) -> dict[str, Any]:
    """The graph of one image of ``request`` with ``seed``; ``init_image`` is its uploaded name."""
    sampler, scheduler = SAMPLERS[request.sampling.scheduler]
    graph: dict[str, Any] = {
        "1": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": request.model.id}},
    }
    model, clip = ["1", 0], ["1", 1]
    for k, adapter in enumerate(request.model.adapters):  # a LoraLoader chain, in the request's order
        node = f"lora{k}"
        graph[node] = {"class_type": "LoraLoader", "inputs": {
            "model": model, "clip": clip, "lora_name": adapter.source,
            "strength_model": adapter.weight, "strength_clip": adapter.weight}}
        model, clip = [node, 0], [node, 1]
    graph["2"] = {"class_type": "CLIPTextEncode", "inputs": {"text": request.prompt, "clip": clip}}
    graph["3"] = {"class_type": "CLIPTextEncode", "inputs": {"text": request.negative_prompt, "clip": clip}}
    if init_image is None:
        graph["4"] = {"class_type": "EmptyLatentImage",
                      "inputs": {"width": request.width, "height": request.height, "batch_size": 1}}
        denoise = 1.0
    else:
        graph["5"] = {"class_type": "LoadImage", "inputs": {"image": init_image}}
        graph["4"] = {"class_type": "VAEEncode", "inputs": {"pixels": ["5", 0], "vae": ["1", 2]}}
        denoise = float(request.images.strength)
    s = request.sampling
    graph["6"] = {"class_type": "KSampler", "inputs": {
        "model": model, "positive": ["2", 0], "negative": ["3", 0], "latent_image": ["4", 0],
        "seed": seed, "steps": s.steps, "cfg": s.guidance, "sampler_name": sampler,
        "scheduler": scheduler, "denoise": denoise}}
    graph["7"] = {"class_type": "VAEDecode", "inputs": {"samples": ["6", 0], "vae": ["1", 2]}}
    graph[OUTPUT_NODE] = {"class_type": "PreviewImage", "inputs": {"images": ["7", 0]}}
    return graph

