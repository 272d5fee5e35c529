"""The graphs the app sends read back as the request that made them (through the reader that any
ComfyUI image goes through), for every scheduler: our names map to ComfyUI's pairs and back."""

from __future__ import annotations

import json

import pytest

from t2i_studio.core import schedulers
from t2i_studio.core.foreign_metadata import from_comfyui
from t2i_studio.core.requests import Control
from t2i_studio.engines.comfyui import graphs

from comfyui.helpers import comfy_request
from comfyui.sd15_files import CHECKPOINT, CONTROLNET, LORA


@pytest.mark.parametrize("scheduler", schedulers.NAMES)
def test_a_graph_reads_back_as_its_request(scheduler):
    request = comfy_request("a quiet harbour", seed=1234, steps=9, scheduler=scheduler, loras=((LORA, 0.7),))
    request = request.replace(negative_prompt="fog", width=96, height=64)
    found = from_comfyui(json.dumps(graphs.build(request, seed=1234)))
    assert found is not None
    back, seed, _raw = found
    assert seed == 1234
    assert (back.prompt, back.negative_prompt, back.width, back.height) == ("a quiet harbour", "fog", 96, 64)
    assert (back.sampling.scheduler, back.sampling.steps, back.sampling.guidance) == (scheduler, 9, 5.0)
    assert back.model.id == CHECKPOINT



def test_a_graph_with_controlnets_reads_back_its_prompts_through_them():
    request = comfy_request("a quiet harbour", seed=5, init_image="start.png", loras=((LORA, 0.7),))
    request = request.replace(negative_prompt="fog", images=request.images.replace(controls=(
        Control("edges.png", CONTROLNET, "canny"), Control("depth.png", CONTROLNET, weight=0.4))))
    graph = graphs.build(request, 5, "t2i-init.png", (("t2i-control-a.png", CONTROLNET),
                                                       ("t2i-control-b.png", CONTROLNET)))
    back, seed, _raw = from_comfyui(json.dumps(graph))
    assert (back.prompt, back.negative_prompt, seed, back.model.id) == ("a quiet harbour", "fog", 5, CHECKPOINT)
