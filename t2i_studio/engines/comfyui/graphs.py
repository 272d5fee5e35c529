"""A request as a ComfyUI API graph (the app builds it; no workflow files), and what a graph needs.

One graph makes one image: ComfyUI's ``batch_size`` draws a whole batch from one seed, while image
k of our requests uses ``seed + k``, so each image is its own prompt (which also lets the images of
a batch run on different servers at once). Inpainting uploads the picture to redo with its mask as
the transparency (what ComfyUI's LoadImage reads as a mask) and sets it as the latent noise mask;
the engine pastes the result back locally (``core.inpaint_plan``). A hires fix is a second
KSampler after an upscale of the latents, or of the decoded picture (Lanczos, or the server's own
upscaler model). Each ControlNet is a ControlNetApplyAdvanced on the prompt's conditioning, chained
in the request's order, fed its control map (made here, uploaded like the init image) and the
server's ControlNet model; every pass, the hires one too, samples with the controlled conditioning,
as the local engine steers each pass.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from t2i_studio.core.prompt_syntax import strip_networks
from t2i_studio.core.requests import LANCZOS, LATENT_UPSCALER, Control, GenerationRequest

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
INPAINT_MODES = ("inpaint", "outpaint")
MODES = ("txt2img", "img2img", *INPAINT_MODES)
CONTROL_NODES = frozenset({"LoadImage", "ControlNetLoader", "ControlNetApplyAdvanced"})


@dataclass(frozen=True)
class Needs:
    """What a request asks of a server: node types, and names in those nodes' option lists."""

    nodes: frozenset[str]
    checkpoint: str
    loras: tuple[str, ...]
    sampler: str
    scheduler: str
    upscaler: str | None = None  # an upscaler model of the server's (UpscaleModelLoader)
    controlnets: tuple[str, ...] = ()  # the request's ControlNet models, found by file name (ControlNetLoader)


def needs(request: GenerationRequest) -> Needs:
    nodes = {"CheckpointLoaderSimple", "CLIPTextEncode", "KSampler", "VAEDecode", "PreviewImage"}
    nodes |= {"LoadImage", "VAEEncode"} if request.mode != "txt2img" else {"EmptyLatentImage"}
    if request.mode in INPAINT_MODES:
        nodes.add("SetLatentNoiseMask")
    if request.sampling.clip_skip > 1:
        nodes.add("CLIPSetLastLayer")
    controlnets = tuple(c.model for c in request.images.controls)
    if controlnets:
        nodes |= CONTROL_NODES
    loras = tuple(a.source for a in request.model.adapters)
    if loras:
        nodes.add("LoraLoader")
    upscaler = None
    hires = request.hires
    if hires is not None:
        if hires.upscaler == LATENT_UPSCALER:
            nodes.add("LatentUpscale")
        else:
            nodes |= {"ImageScale", "VAEEncode"}
        if hires.upscaler not in (LATENT_UPSCALER, LANCZOS):
            nodes |= {"UpscaleModelLoader", "ImageUpscaleWithModel"}
            upscaler = hires.upscaler
    sampler, scheduler = SAMPLERS[request.sampling.scheduler]
    return Needs(frozenset(nodes), request.model.id, loras, sampler, scheduler, upscaler, controlnets)


def build(request: GenerationRequest, seed: int, init_image: str | None = None,
          controls: tuple[tuple[str, str], ...] = ()) -> dict[str, Any]:
    """The graph of one image of ``request`` with ``seed``; ``init_image`` is its uploaded name and
    ``controls`` holds, for each of the request's controls, its uploaded control map and the server's
    name of its ControlNet."""
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
    if request.sampling.clip_skip > 1:  # A1111's clip skip N is ComfyUI's last layer -N
        graph["1c"] = {"class_type": "CLIPSetLastLayer",
                       "inputs": {"clip": clip, "stop_at_clip_layer": -request.sampling.clip_skip}}
        clip = ["1c", 0]
    # <lora:…> tags name local files; the server's LoRAs are the LoraLoader chain above
    graph["2"] = {"class_type": "CLIPTextEncode", "inputs": {"text": strip_networks(request.prompt), "clip": clip}}
    graph["3"] = {"class_type": "CLIPTextEncode", "inputs": {"text": request.negative_prompt, "clip": clip}}
    positive, negative = ["2", 0], ["3", 0]
    for k, (control, (control_map, controlnet)) in enumerate(zip(request.images.controls, controls, strict=True)):
        positive, negative = _control_nodes(graph, f"cn{k}", control, control_map, controlnet, positive, negative)
    latent: list[Any] = ["4", 0]
    if init_image is None:
        graph["4"] = {"class_type": "EmptyLatentImage",
                      "inputs": {"width": request.width, "height": request.height, "batch_size": 1}}
        denoise = 1.0
    else:
        graph["5"] = {"class_type": "LoadImage", "inputs": {"image": init_image}}
        graph["4"] = {"class_type": "VAEEncode", "inputs": {"pixels": ["5", 0], "vae": ["1", 2]}}
        denoise = float(request.images.strength)
        if request.mode in INPAINT_MODES:  # LoadImage's second output: the upload's transparency
            graph["4m"] = {"class_type": "SetLatentNoiseMask", "inputs": {"samples": latent, "mask": ["5", 1]}}
            latent = ["4m", 0]
    s = request.sampling

    def sampler_node(node: str, latent_in: list[Any], steps: int, strength: float) -> list[Any]:
        graph[node] = {"class_type": "KSampler", "inputs": {
            "model": model, "positive": positive, "negative": negative, "latent_image": latent_in,
            "seed": seed, "steps": steps, "cfg": s.guidance, "sampler_name": sampler,
            "scheduler": scheduler, "denoise": strength}}
        return [node, 0]

    latent = sampler_node("6", latent, s.steps, denoise)
    if request.hires is not None:
        latent = sampler_node("16", _hires_start(graph, request, latent), request.hires.steps or s.steps,
                              float(request.hires.strength))
    graph["7"] = {"class_type": "VAEDecode", "inputs": {"samples": latent, "vae": ["1", 2]}}
    graph[OUTPUT_NODE] = {"class_type": "PreviewImage", "inputs": {"images": ["7", 0]}}
    return graph


def _control_nodes(graph: dict[str, Any], node: str, control: Control, control_map: str, controlnet: str,
                   positive: list[Any], negative: list[Any]) -> tuple[list[Any], list[Any]]:
    """One ControlNet applied to the conditioning so far; the controlled (positive, negative)."""
    graph[f"{node}i"] = {"class_type": "LoadImage", "inputs": {"image": control_map}}
    graph[f"{node}m"] = {"class_type": "ControlNetLoader", "inputs": {"control_net_name": controlnet}}
    graph[node] = {"class_type": "ControlNetApplyAdvanced", "inputs": {
        "positive": positive, "negative": negative, "control_net": [f"{node}m", 0], "image": [f"{node}i", 0],
        "strength": control.weight, "start_percent": control.start, "end_percent": control.end,
        "vae": ["1", 2]}}  # unused by SD 1.x/SDXL ControlNets; those of SD3/FLUX take their maps as latents
    return [node, 0], [node, 1]


def _hires_start(graph: dict[str, Any], request: GenerationRequest, latent: list[Any]) -> list[Any]:
    """The nodes that enlarge the first pass for the hires pass; the latent the second KSampler takes."""
    hires = request.hires
    assert hires is not None
    width, height = hires.target(request.width, request.height)
    if hires.upscaler == LATENT_UPSCALER:
        graph["12"] = {"class_type": "LatentUpscale", "inputs": {
            "samples": latent, "upscale_method": "bilinear", "width": width, "height": height, "crop": "disabled"}}
        return ["12", 0]
    graph["11"] = {"class_type": "VAEDecode", "inputs": {"samples": latent, "vae": ["1", 2]}}
    image: list[Any] = ["11", 0]
    if hires.upscaler != LANCZOS:
        graph["13"] = {"class_type": "UpscaleModelLoader", "inputs": {"model_name": hires.upscaler}}
        graph["14"] = {"class_type": "ImageUpscaleWithModel", "inputs": {"upscale_model": ["13", 0], "image": image}}
        image = ["14", 0]
    graph["12"] = {"class_type": "ImageScale", "inputs": {
        "image": image, "upscale_method": "lanczos", "width": width, "height": height, "crop": "disabled"}}
    graph["15"] = {"class_type": "VAEEncode", "inputs": {"pixels": ["12", 0], "vae": ["1", 2]}}
    return ["15", 0]

