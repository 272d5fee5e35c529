"""A control input's canny thresholds: checked with clear messages, kept in the request's JSON (older
requests without them read with the defaults) and written as the A1111 extension's Threshold A/B;
reusing an image takes its control pictures from the project's stored copies."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image
from request_builder import gen_request, with_

from t2i_studio.core.a1111 import build_parameters, parse_parameters
from t2i_studio.core.engine import Result
from t2i_studio.core.project import Project
from t2i_studio.core.requests import Control, Reference, request_from_dict
from t2i_studio.core.stored_inputs import with_stored_inputs


@pytest.mark.parametrize("fields, message", [
    ({"canny_low": -1}, "Canny low threshold must be a whole number from 0 to 255, got -1"),
    ({"canny_high": 300}, "Canny high threshold must be a whole number from 0 to 255, got 300"),
    ({"canny_low": 150, "canny_high": 90}, r"low threshold \(150\) must not be above the high one \(90\)"),
])
def test_bad_canny_thresholds_say_what_to_change(fields, message):
    with pytest.raises(ValueError, match=message):
        Control("edges.png", "/nets/canny", "canny", **fields).validate()


def test_thresholds_round_trip_and_older_requests_read_with_the_defaults():
    control = Control("edges.png", "/nets/canny", "canny", 0.7, canny_low=40, canny_high=120)
    request = with_(gen_request("a harbour", model="m"), controls=(control,))
    data = request.to_dict()
    assert request_from_dict(data).images.controls == (control,)
    for key in ("canny_low", "canny_high"):  # as a file from before the thresholds holds it
        del data["images"]["controls"][0][key]
    assert request_from_dict(data).images.controls == (control.replace(canny_low=100, canny_high=200),)


def test_a1111_text_says_the_thresholds_where_they_are_not_the_defaults():
    def key(control: Control) -> str:
        request = with_(gen_request("x", model="m"), controls=(control,))
        return parse_parameters(build_parameters(request, 1, {}))["params"]["ControlNet 0"]

    canny = Control("e.png", "/nets/control_canny", "canny", 0.8, 0.1, 0.9, canny_low=40, canny_high=120)
    assert key(canny) == ("Module: canny, Model: control_canny, Weight: 0.8, Threshold A: 40, Threshold B: 120, "
                          "Guidance Start: 0.1, Guidance End: 0.9")
    assert "Threshold" not in key(canny.replace(canny_low=100, canny_high=200))
    assert "Threshold" not in key(canny.replace(preprocessor="scribble"))  # canny's only


def test_reuse_takes_the_control_and_reference_pictures_the_project_stored(tmp_path):
    sketch, style = tmp_path / "sketch.png", tmp_path / "style.png"
    Image.new("RGB", (16, 16), (255, 255, 255)).save(sketch)
    Image.new("RGB", (16, 16), (10, 200, 30)).save(style)
    lost = Control(str(tmp_path / "gone.png"), "/nets/canny", "scribble")
    reference = Reference(str(style), "/adapters/ip.safetensors", 0.5, "style")
    request = with_(gen_request("x", model="m"), controls=(Control(str(sketch), "/nets/canny", "scribble"), lost),
                    references=(reference,))
    with Project.open(tmp_path / "p", create=True) as project:
        [entry] = project.save_result(request, Result([Image.new("RGB", (8, 8))], [1], lineage={
            "control_images": [str(sketch), lost.image], "reference_images": [str(style)]}))
        sketch.unlink()  # the pad's picture is drawn over, the other file was never readable
        style.unlink()
        reused = with_stored_inputs(request, entry.params["lineage"], project.folder)
    first, second = reused.images.controls
    assert first.image.startswith(str(tmp_path / "p" / "inputs")) and first.replace(image=str(sketch)) == \
        request.images.controls[0]
    assert np.asarray(Image.open(first.image)).min() == 255  # the very pixels it was made with
    assert second == lost  # no copy: the original stays named, and the check says it is missing
    [kept] = reused.images.references
    assert kept.replace(image=str(style)) == reference
    assert Image.open(kept.image).getpixel((3, 3)) == (10, 200, 30)
