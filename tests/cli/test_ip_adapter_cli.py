"""``t2i-studio generate --ip-image --ip-adapter``: reference pictures steer the tiny model, the
references are saved with the image and kept in the project, and bad input is one error line."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest
import tiny_ip_adapter
from PIL import Image

from t2i_studio.cli import main
from t2i_studio.core.metadata import read_metadata
from t2i_studio.core.requests import Reference

pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def adapter(tmp_path_factory, tiny_sd_path):
    return tiny_ip_adapter.build_ip_adapter(tiny_sd_path, tmp_path_factory.mktemp("ip-adapter") / "ipa")


@pytest.fixture
def pictures(tmp_path):
    Image.new("RGB", (40, 40), (230, 40, 40)).save(tmp_path / "red.png")
    Image.new("RGB", (40, 40), (30, 60, 230)).save(tmp_path / "blue.png")
    return str(tmp_path / "red.png"), str(tmp_path / "blue.png")


def _generate(model, project, *extra: str) -> list[str]:
    return ["generate", "a cat", "--model", str(model), "--width", "64", "--height", "64", "--steps", "2",
            "--seed", "5", "--dtype", "fp32", "--project", str(project), "--json", *extra]


def test_reference_pictures_steer_and_are_saved_with_the_image(tiny_sd_path, adapter, pictures, tmp_path, capsys):
    project = tmp_path / "p"
    assert main(_generate(tiny_sd_path, project)) == 0
    plain = json.loads(capsys.readouterr().out)["images"][0]
    assert main(_generate(tiny_sd_path, project, "--ip-image", pictures[0], "--ip-image", pictures[1],
                          "--ip-adapter", str(adapter), "--ip-scale", "1.2", "--ip-scale", "0.5",
                          "--ip-mode", "style")) == 0
    steered = json.loads(capsys.readouterr().out)["images"][0]
    made = read_metadata(steered)
    assert made.request.images.references == (Reference(pictures[0], str(adapter), 1.2, "style"),
                                               Reference(pictures[1], str(adapter), 0.5, "style"))
    assert np.abs(np.asarray(Image.open(steered), np.int16) - np.asarray(Image.open(plain), np.int16)).mean() > 1
    stored = [project / rel for rel in made.data["lineage"]["references_stored"]]
    assert [s.parent.name for s in stored] == ["inputs", "inputs"] and stored[0] != stored[1]
    assert "Module: ip-adapter-auto, Model: ip-adapter, Weight: 1.2" in made.parameters


@pytest.mark.parametrize("extra, message", [
    (["--ip-adapter", "ADAPTER"], "--ip-adapter needs a reference picture: add --ip-image FILE"),
    (["--ip-image", "RED"], "Choose an IP-Adapter model for the reference picture"),
    (["--ip-image", "RED", "--ip-image", "BLUE", "--ip-adapter", "ADAPTER", "--ip-scale", "1", "--ip-scale", "1",
      "--ip-scale", "1"], "Give --ip-scale once for all 2 --ip-image pictures, or once each \\(got 3\\)"),
    (["--ip-image", "RED", "--ip-adapter", "ADAPTER", "--ip-scale", "3"], "IP-Adapter scale must be from 0 to 2"),
    (["--ip-image", "RED", "--ip-adapter", "ADAPTER", "--ip-encoder", "/nowhere/encoder"],
     "needs its CLIP image encoder, and there is none at /nowhere/encoder"),
    (["--ip-image", "/nowhere/red.png", "--ip-adapter", "ADAPTER"], "Reference image not found: /nowhere/red.png"),
])
def test_bad_reference_options_are_one_error_line(tiny_sd_path, adapter, pictures, tmp_path, capsys, extra, message):
    named = {"ADAPTER": str(adapter), "RED": pictures[0], "BLUE": pictures[1]}
    assert main(_generate(tiny_sd_path, tmp_path / "p", *(named.get(a, a) for a in extra))) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and len(err.strip().splitlines()) == 1, err
    assert re.search(message, err), err
