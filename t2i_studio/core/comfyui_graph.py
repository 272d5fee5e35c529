"""ComfyUI's API graph (the ``prompt`` text) read as the settings of one generation.

The graph maps node ids to ``{"class_type", "inputs"}``; an input is a literal or a link
``[node_id, output_index]``. Links are followed by the output they use: a node with several outputs
(``ControlNetApplyAdvanced``, ``InpaintModelConditioning``: positive, negative, ...) gives the
positive prompt on output 0 and the negative on output 1, never one for the other. Read here:
``KSampler``, ``KSamplerAdvanced``, ``SamplerCustom`` and ``SamplerCustomAdvanced`` (ComfyUI's
default Flux graph: ``RandomNoise``, ``CFGGuider``/``BasicGuider``, ``FluxGuidance``,
``KSamplerSelect``, ``BasicScheduler``); ``ConditioningCombine`` (prompts joined by ``AND``, as
A1111 writes composable prompts), ``ConditioningConcat`` (``BREAK``) and the pass-through
conditioning nodes; LoRA, model-merge and common loader nodes. Odd input gives empty fields, never
an exception.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

SAMPLERS = ("KSampler", "KSamplerAdvanced", "SamplerCustom", "SamplerCustomAdvanced")
_MAX_DEPTH = 24
# Where each output of a multi-output conditioning node comes from.
_PAIR_OUTPUTS = ("positive", "negative")
_JOINS = {"ConditioningCombine": " AND ", "ConditioningConcat": " BREAK "}
_TEXT_KEYS = ("text", "t5xxl", "text_g", "clip_l", "text_l", "prompt", "string", "value", "text_positive")
_PASS_CONDITIONING = ("conditioning", "conditioning_to", "conditioning_1", "cond")
_MODEL_KEYS = ("ckpt_name", "unet_name", "model_name", "model_path")
_MODEL_THROUGH = ("model", "model1", "base_model")
_LATENT_THROUGH = ("samples", "latent", "pixels", "image", "latent_image")


@dataclass
class ComfyFields:
    prompt: str = ""
    negative: str = ""
    seed: Any = None
    steps: Any = None
    cfg: Any = None
    sampler: Any = None
    schedule: Any = None
    denoise: Any = None
    width: Any = None
    height: Any = None
    model: Any = None


def _linked(graph: dict, value: Any) -> tuple[dict, int] | None:
    """The node a link points at and the output index it uses, or None for a literal."""
    if not (isinstance(value, list) and len(value) == 2 and isinstance(value[0], (str, int))):
        return None
    node = graph.get(str(value[0]))
    if not isinstance(node, dict) or not isinstance(node.get("inputs"), dict):
        return None
    return node, value[1] if isinstance(value[1], int) else 0


def _inputs(node: dict) -> dict:
    return node.get("inputs") or {}


def literal(graph: dict, value: Any, keys: tuple[str, ...] = ("value", "seed", "noise_seed", "int", "float"),
            depth: int = 0) -> Any:
    """A literal input, following links into primitive nodes (``PrimitiveNode``, seed nodes ...)."""
    found = _linked(graph, value)
    if found is None:
        return None if isinstance(value, (list, dict)) else value
    if depth > _MAX_DEPTH:
        return None
    inputs = _inputs(found[0])
    for key in keys:
        if key in inputs:
            return literal(graph, inputs[key], keys, depth + 1)
    return None


def _text(graph: dict, value: Any, depth: int = 0) -> str:
    """The prompt text a conditioning (or string) input resolves to."""
    if isinstance(value, str):
        return value
    found = _linked(graph, value)
    if found is None or depth > _MAX_DEPTH:
        return ""
    node, output = found
    inputs, kind = _inputs(node), str(node.get("class_type", ""))
    if kind in _JOINS:  # Combine: conditioning_1, _2 ...; Concat: "from" appended to "to"
        keys = sorted((k for k in inputs if k.startswith("conditioning")), key=lambda k: (k != "conditioning_to", k))
        parts = [_text(graph, inputs[k], depth + 1) for k in keys]
        return _JOINS[kind].join(p for p in parts if p)
    if all(k in inputs for k in _PAIR_OUTPUTS):  # ControlNet/inpaint conditioning, guiders
        return _text(graph, inputs[_PAIR_OUTPUTS[min(output, 1)]], depth + 1)
    for key in _TEXT_KEYS + _PASS_CONDITIONING:
        if key in inputs:
            text = _text(graph, inputs[key], depth + 1)
            if text:
                return text
    return ""


def _follow(graph: dict, value: Any, want: tuple[str, ...], through: tuple[str, ...], depth: int = 0) -> dict | None:
    """The first node, following ``through`` inputs, that has one of ``want`` as an input."""
    found = _linked(graph, value)
    if found is None or depth > _MAX_DEPTH:
        return None
    inputs = _inputs(found[0])
    if any(k in inputs for k in want):
        return found[0]
    for key in through:
        if key in inputs:
            node = _follow(graph, inputs[key], want, through, depth + 1)
            if node is not None:
                return node
    return None


def _node_input(graph: dict, value: Any, key: str, through: tuple[str, ...] = ()) -> Any:
    node = _follow(graph, value, (key,), through)
    return literal(graph, _inputs(node).get(key), (key, "value")) if node is not None else None


def _feeds_another_sampler(graph: dict, node: dict) -> bool:
    """True for a second pass (hires fix, refiner): its latent comes out of another sampler."""
    value, depth = _inputs(node).get("latent_image"), 0
    while (found := _linked(graph, value)) is not None and depth < _MAX_DEPTH:
        if found[0].get("class_type") in SAMPLERS:
            return True
        inputs = _inputs(found[0])
        value = next((inputs[k] for k in _LATENT_THROUGH if k in inputs), None)
        depth += 1
    return False


def read_graph(graph: dict) -> ComfyFields | None:
    """The first pass's settings of a ComfyUI API graph, or None when it has no sampler."""
    samplers = [n for n in graph.values() if isinstance(n, dict) and n.get("class_type") in SAMPLERS
                and isinstance(n.get("inputs"), dict)]
    if not samplers:
        return None
    node = next((n for n in samplers if not _feeds_another_sampler(graph, n)), samplers[0])
    inputs = _inputs(node)
    out = ComfyFields(denoise=literal(graph, inputs.get("denoise")))
    positive, negative = inputs.get("positive"), inputs.get("negative")
    out.seed = literal(graph, inputs.get("seed", inputs.get("noise_seed")))
    out.steps, out.cfg = literal(graph, inputs.get("steps")), literal(graph, inputs.get("cfg"))
    out.sampler = literal(graph, inputs.get("sampler_name"), ("sampler_name", "value"))
    out.schedule = literal(graph, inputs.get("scheduler"), ("scheduler", "value"))
    model = inputs.get("model")
    guider = _linked(graph, inputs.get("guider"))
    if guider is not None:  # SamplerCustomAdvanced: CFGGuider (cfg, positive, negative) or BasicGuider
        g = _inputs(guider[0])
        positive, negative = g.get("positive", g.get("conditioning")), g.get("negative")
        out.cfg, model = literal(graph, g.get("cfg")), g.get("model", model)
        if out.cfg is None:  # BasicGuider: a distilled model (Flux) steered by FluxGuidance
            out.cfg = _node_input(graph, positive, "guidance", _PASS_CONDITIONING)
    if out.seed is None:  # RandomNoise
        out.seed = _node_input(graph, inputs.get("noise"), "noise_seed")
    if out.sampler is None:  # KSamplerSelect
        out.sampler = _node_input(graph, inputs.get("sampler"), "sampler_name")
    sigmas = _linked(graph, inputs.get("sigmas"))
    if sigmas is not None:  # BasicScheduler (scheduler, steps, denoise), KarrasScheduler, ...
        s, kind = _inputs(sigmas[0]), str(sigmas[0].get("class_type", ""))
        out.steps = literal(graph, s.get("steps"), ("steps", "value"))
        out.schedule = literal(graph, s.get("scheduler"), ("scheduler", "value")) or (
            kind.removesuffix("Scheduler").lower() if kind != "BasicScheduler" else None)
        out.denoise = literal(graph, s.get("denoise")) if out.denoise is None else out.denoise
        model = model if model is not None else s.get("model")
    out.prompt, out.negative = _text(graph, positive), _text(graph, negative)
    loader = _follow(graph, model, _MODEL_KEYS, _MODEL_THROUGH)
    if loader is not None:
        out.model = next(literal(graph, _inputs(loader)[k]) for k in _MODEL_KEYS if k in _inputs(loader))
    latent = inputs.get("latent_image")
    out.width = _node_input(graph, latent, "width", _LATENT_THROUGH)
    out.height = _node_input(graph, latent, "height", _LATENT_THROUGH)
    return out
