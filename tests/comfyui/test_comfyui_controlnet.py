"""ControlNets on a real ComfyUI server: the control map made here steers the picture there, several
chain, and the saved image keeps the graph that ran and the control pictures; a ControlNet the
server lacks is refused before anything is sent."""

from __future__ import annotations

import json
import urllib.request
from io import BytesIO
from urllib.parse import urlencode

import numpy as np
import pytest
from comfyui.helpers import comfy_request, pixels, registry_for, run
from comfyui.sd15_files import CONTROLNET
from PIL import Image, ImageDraw

from t2i_studio.core import jobs
from t2i_studio.core.control_maps import map_for
from t2i_studio.core.requests import Control, GenerationRequest, ImageInputs

pytestmark = pytest.mark.slow


@pytest.fixture
def edges(tmp_path) -> str:
    """A picture with clear edges (a light box on dark), for the canny preprocessor."""
    path = tmp_path / "box.png"
    image = Image.new("RGB", (64, 64), (20, 20, 20))
    ImageDraw.Draw(image).rectangle((16, 12, 47, 51), fill=(230, 230, 230))
    image.save(path)
    return str(path)


def with_controls(request: GenerationRequest, *controls: Control) -> GenerationRequest:
    return request.replace(images=request.images.replace(controls=controls))


def saved_graph(path) -> dict:
    """The graph in the PNG's ``prompt`` chunk, where ComfyUI looks when the image is dropped on it."""
    with Image.open(path) as image:
        return json.loads(image.text["prompt"])


def control_chain(graph: dict) -> list[tuple]:
    """The ControlNets the sampler's positive prompt went through, last applied first:
    (strength, start, end, ControlNet name, uploaded map) each."""
    sampler = next(n for n in graph.values() if n["class_type"] == "KSampler")["inputs"]
    chain, link, negative = [], sampler["positive"], sampler["negative"]
    while graph[link[0]]["class_type"] == "ControlNetApplyAdvanced":
        assert negative == [link[0], 1]  # the negative prompt is steered by the same ControlNet
        apply = graph[link[0]]["inputs"]
        net = graph[apply["control_net"][0]]["inputs"]["control_net_name"]
        chain.append((apply["strength"], apply["start_percent"], apply["end_percent"], net,
                      graph[apply["image"][0]]["inputs"]["image"]))
        link, negative = apply["positive"], apply["negative"]
    return chain


def uploaded(url: str, name: str) -> np.ndarray:
    with urllib.request.urlopen(f"{url}/view?{urlencode({'filename': name, 'type': 'input'})}", timeout=30) as answer:
        return pixels(BytesIO(answer.read()))


def test_a_control_steers_the_picture_and_the_saved_image_keeps_its_graph_and_picture(comfy_server, edges,
                                                                                        tmp_path):
    registry = registry_for(comfy_server.url)
    plain, _ = run(comfy_request(seed=11), registry, tmp_path / "p")
    control = Control(edges, CONTROLNET, "canny", weight=1.5, end=0.6)
    steered, _ = run(with_controls(comfy_request(seed=11), control), registry, tmp_path / "p")
    assert plain.state == steered.state == jobs.FINISHED, steered.message
    entry = steered.entries[0]
    assert np.abs(pixels(plain.entries[0].path) - pixels(entry.path)).mean() > 1  # same seed, another picture

    [(strength, start, end, net, control_map)] = control_chain(saved_graph(entry.path))
    assert (strength, start, end, net) == (1.5, 0.0, 0.6, CONTROLNET)
    with Image.open(edges) as picture:  # the server was sent the canny edges made here
        made_here = np.asarray(map_for(control, picture), dtype=np.float32)
    assert (uploaded(comfy_server.url, control_map) == made_here).all()
    lineage = entry.params["lineage"]
    assert lineage["control_images"] == [edges]
    assert (pixels(tmp_path / "p" / lineage["controls_stored"][0]) == pixels(edges)).all()  # kept in the project


def test_two_controls_chain_on_an_inpainting_job_matched_by_file_name(comfy_server, edges, tmp_path):
    source, mask, ramp = tmp_path / "photo.png", tmp_path / "mask.png", tmp_path / "ramp.png"
    Image.new("RGB", (80, 64), (40, 120, 200)).save(source)
    drawn = Image.new("L", (80, 64), 0)
    ImageDraw.Draw(drawn).rectangle((24, 16, 55, 47), fill=255)
    drawn.save(mask)
    Image.linear_gradient("L").resize((64, 64)).convert("RGB").save(ramp)
    controls = (Control(edges, f"/my/controlnets/{CONTROLNET}", "canny", weight=0.5, start=0.2),  # a path here
                Control(str(ramp), CONTROLNET.removesuffix(".safetensors"), weight=1.2, end=0.8))  # no extension
    request = comfy_request(seed=3).replace(mode="inpaint", images=ImageInputs(
        str(source), 1.0, mask=str(mask), mask_blur=0, inpaint_area="masked", padding=8, controls=controls))
    outcome, _ = run(request, registry_for(comfy_server.url), tmp_path / "p")
    assert outcome.state == jobs.FINISHED, outcome.message
    entry = outcome.entries[0]
    assert (pixels(entry.path)[np.asarray(drawn) == 0] == (40, 120, 200)).all()  # outside the mask: untouched

    chain = control_chain(saved_graph(entry.path))
    assert [c[:4] for c in chain] == [(1.2, 0.0, 0.8, CONTROLNET), (0.5, 0.2, 1.0, CONTROLNET)]
    assert entry.params["lineage"]["control_images"] == [edges, str(ramp)]


def test_a_controlnet_the_server_lacks_is_refused_naming_what_it_has(comfy_server, edges, tmp_path):
    registry = registry_for(comfy_server.url)
    with pytest.raises(ValueError, match="No ComfyUI server can run this job") as caught:
        registry.check(with_controls(comfy_request(), Control(edges, "/models/control_v11p_sd15_canny.safetensors")))
    assert (f"no ControlNet 'control_v11p_sd15_canny.safetensors' (it has: {CONTROLNET}; to add one, put its file "
            "into the server's models/controlnet folder)") in str(caught.value)
    gone = str(tmp_path / "gone.png")
    with pytest.raises(ValueError, match=f"Control image not found: {gone}"):  # its map is made here
        registry.check(with_controls(comfy_request(), Control(gone, CONTROLNET)))
