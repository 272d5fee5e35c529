"""The graphs the app sends read back as the request that made them (through the reader that any
ComfyUI image goes through), for every scheduler: our names map to ComfyUI's pairs and back."""

from __future__ import annotations

import json

import pytest

from t2i_studio.core import schedulers
from t2i_studio.core.foreign_metadata import from_comfyui
from t2i_studio.engines.comfyui import graphs

from comfyui.helpers import comfy_request
from comfyui.sd15_files import CHECKPOINT, LORA


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

