"""ControlNets on the tiny SD and SDXL pipelines (tiny ControlNets made from their UNets): a control
picture changes the result and weight 0 equals no control; start/end limit the steps it acts on; two
at once; img2img and inpainting; bad input refused before any work; metadata and lineage."""

from __future__ import annotations

import numpy as np
import pytest
import tiny_models
from engine_runs import checked_run, first_pixels
from PIL import Image, ImageDraw
from request_builder import gen_request, with_

from t2i_studio.core.a1111 import build_parameters, parse_parameters
from t2i_studio.core.requests import Control
from t2i_studio.engines.registry import local_registry
from t2i_studio.engines.text2image import Text2ImageEngine

pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def nets(tmp_path_factory, tiny_sd_path, tiny_sdxl_path):
    root = tmp_path_factory.mktemp("controlnets")
    return {"sd": tiny_models.build_controlnet(tiny_sd_path, root / "sd-edges"),
            "sd2": tiny_models.build_controlnet(tiny_sd_path, root / "sd-lines", seed=2),
            "sdxl": tiny_models.build_controlnet(tiny_sdxl_path, root / "sdxl-edges")}


@pytest.fixture(scope="module")
def sketch(tmp_path_factory):
    path = tmp_path_factory.mktemp("sketch") / "sketch.png"
    image = Image.new("RGB", (64, 64), "white")
    ImageDraw.Draw(image).rectangle((12, 12, 50, 50), outline="black", width=4)
    image.save(path)
    return str(path)


def _base(model, **fields):
    return gen_request("a house", model=str(model), width=64, height=64, steps=4, seed=9, scheduler="Euler",
                       dtype="fp32", **fields)


@pytest.mark.parametrize("family", ["sd", "sdxl"])
def test_a_control_picture_steers_and_weight_zero_is_no_control(engines, family, nets, sketch, tiny_sd_path,
                                                               tiny_sdxl_path):
    model = tiny_sd_path if family == "sd" else tiny_sdxl_path
    engine = engines.setdefault(family, Text2ImageEngine())
    plain = first_pixels(checked_run(engine, _base(model)))
    control = Control(sketch, str(nets[family]), "lineart")
    steered = checked_run(engine, _base(model, controls=(control,)))
    assert np.abs(first_pixels(steered) - plain).mean() > 1
    assert "ControlNet" in steered.fingerprint["pipeline"]
    off = first_pixels(checked_run(engine, _base(model, controls=(control.replace(weight=0.0),))))
    assert np.abs(off - plain).max() <= 1  # a ControlNet at weight 0 adds nothing


def test_start_and_end_limit_the_steps_it_acts_on_and_two_work_at_once(engines, nets, sketch, tiny_sd_path):
    engine = engines.setdefault("sd", Text2ImageEngine())
    control = Control(sketch, str(nets["sd"]), "lineart")
    full = first_pixels(checked_run(engine, _base(tiny_sd_path, controls=(control,))))
    late = first_pixels(checked_run(engine, _base(tiny_sd_path, controls=(control.replace(start=0.5),))))
    plain = first_pixels(checked_run(engine, _base(tiny_sd_path)))
    assert np.abs(late - full).mean() > 0.5 and np.abs(late - plain).mean() > 0.5  # in between both
    two = checked_run(engine, _base(tiny_sd_path, controls=(control, Control(sketch, str(nets["sd2"]), "canny"))))
    assert np.abs(first_pixels(two) - full).mean() > 0.5
    assert "Multi" in type(engine._pipeline("txt2img", _base(tiny_sd_path, controls=(control, control.replace(
        model=str(nets["sd2"]))))).controlnet).__name__


def test_controls_with_img2img_and_inpainting(engines, nets, sketch, tiny_sd_path, tmp_path):
    engine = engines.setdefault("sd", Text2ImageEngine())
    Image.new("RGB", (64, 64), (200, 60, 60)).save(tmp_path / "init.png")
    mask = Image.new("L", (64, 64), 0)
    ImageDraw.Draw(mask).rectangle((16, 16, 47, 47), fill=255)
    mask.save(tmp_path / "mask.png")
    control = Control(sketch, str(nets["sd"]), "lineart")
    for fields in ({"init_image": str(tmp_path / "init.png"), "strength": 0.8},
                   {"init_image": str(tmp_path / "init.png"), "strength": 1.0, "mode": "inpaint",
                    "mask": str(tmp_path / "mask.png"), "mask_blur": 0}):
        plain = first_pixels(checked_run(engine, _base(tiny_sd_path, **fields)))
        steered = checked_run(engine, _base(tiny_sd_path, **fields, controls=(control,)))
        assert np.abs(first_pixels(steered) - plain).mean() > 0.5, fields
    assert (first_pixels(steered)[:8, :8] == (200, 60, 60)).all()  # inpainting still keeps the unmasked pixels
    assert steered.lineage["control_images"] == [sketch]


@pytest.mark.parametrize("change, message", [
    ({"model": "SDXL_NET"}, "is a ControlNet for SDXL models, and the chosen model is SD 1.x/2.x"),
    ({"image": "/nowhere/sketch.png"}, "Control image not found"),
    ({"model": "/nowhere/net"}, "ControlNet not found"),
    ({"weight": 3.0}, "ControlNet weight must be from 0 to 2"),
    ({"start": 0.8, "end": 0.2}, "start \\(0.8\\) must come before its end \\(0.2\\)"),
])
def test_bad_control_inputs_are_refused_before_any_work(nets, sketch, tiny_sd_path, change, message):
    control = Control(sketch, str(nets["sd"]), "lineart")
    change = {k: str(nets["sdxl"]) if v == "SDXL_NET" else v for k, v in change.items()}
    with pytest.raises(ValueError, match=message):
        local_registry().check(_base(tiny_sd_path, controls=(control.replace(**change),)))


def test_controls_are_written_with_a1111_controlnet_keys_and_kept_in_the_project(sketch, tmp_path):
    from t2i_studio.core.engine import Result
    from t2i_studio.core.metadata import read_metadata
    from t2i_studio.core.project import Project
    from t2i_studio.core.requests import request_from_dict

    control = Control(sketch, "/nets/control_canny", "canny", 0.8, 0.1, 0.9)
    request = with_(gen_request("x", model="m"), controls=(control,))
    params = parse_parameters(build_parameters(request, 1, {}))["params"]
    assert params["ControlNet 0"] == ("Module: canny, Model: control_canny, Weight: 0.8, Guidance Start: 0.1, "
                                      "Guidance End: 0.9")
    with Project.open(tmp_path / "p", create=True) as project:
        entry = project.save_result(request, Result([Image.new("RGB", (8, 8))], [1],
                                                    lineage={"control_images": [sketch]}))[0]
    data = read_metadata(entry.path).data
    assert request_from_dict(data["request"]).images.controls == (control,)
    stored = tmp_path / "p" / data["lineage"]["controls_stored"][0]
    assert np.array_equal(np.asarray(Image.open(stored).convert("RGB")), np.asarray(Image.open(sketch)))


def test_the_cli_steers_with_a_control_picture(nets, sketch, tiny_sd_path, tmp_path, capsys):
    from t2i_studio.cli import main
    from t2i_studio.core.metadata import read_metadata

    base = ["generate", "a house", "--model", str(tiny_sd_path), "--width", "64", "--height", "64", "--steps",
            "2", "--seed", "3", "--dtype", "fp32", "--project", str(tmp_path / "p")]
    assert main(base + ["--control", f"{sketch}:lineart:0.9:0:0.8", "--control-model", str(nets["sd"])]) == 0
    saved = capsys.readouterr().out.split()[0]
    control = read_metadata(saved).request.images.controls[0]
    assert (control.image, control.preprocessor, control.weight, control.end) == (sketch, "lineart", 0.9, 0.8)
    with pytest.raises(SystemExit) as refused:  # argparse refuses a malformed value itself
        main(base + ["--control", f"{sketch}:depth:1"])
    assert refused.value.code == 2 and "IMAGE:PREPROCESSOR:WEIGHT" in capsys.readouterr().err
    assert main(base + ["--control", f"{sketch}:canny:1"]) == 2  # no ControlNet named
    assert "Choose a ControlNet model" in capsys.readouterr().err
