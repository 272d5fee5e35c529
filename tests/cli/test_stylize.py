"""``t2i-studio stylize``: saves into a project, --out, --json, one-line errors with exit 2."""

from __future__ import annotations

import json

import pytest
from PIL import Image

import style_helpers as H
from t2i_studio.cli import main


@pytest.fixture
def images(tmp_path):
    return (H.save(H.content_image(64), tmp_path / "content.png"),
            H.save(H.style_image(64), tmp_path / "style.png"))


def test_stylize_saves_into_the_project_and_out(images, tmp_path, capsys):
    project, out = tmp_path / "proj", tmp_path / "copy.jpg"
    code = main(["stylize", *images, "--size", "40", "--iterations", "3", "--vgg-weights", "random",
                 "--project", str(project), "--out", str(out), "--json", "--seed", "5"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    data = json.loads(captured.out)
    assert len(data["images"]) == 1 and data["out"] == str(out) and data["lower_quality"] is True
    saved = Image.open(data["images"][0])
    assert saved.size == (40, 40) and str(project) in data["images"][0]
    assert Image.open(out).size == (40, 40)
    assert "lower quality" in captured.err
    from t2i_studio.core.project import Project

    with Project.open(project) as proj:
        entry = proj.get(data["entries"][0])
    assert entry is not None and entry.kind == "stylize" and entry.seed == 5
    lineage = entry.params["lineage"]
    assert lineage["source_image"] == images[0] and lineage["styles"][0]["path"] == images[1]


@pytest.mark.parametrize("args, message", [
    (["missing.png", "STYLE"], "not found"),
    (["CONTENT", "NOTIMAGE"], "not an image"),
    (["CONTENT", "STYLE", "--size", "0"], "Output size"),
    (["CONTENT", "STYLE", "--size", "100000"], "Output size"),
    (["CONTENT", "STYLE", "--style-strength", "1.5"], "Style strength"),
    (["CONTENT", "STYLE", "--style-strength", "-0.1"], "Style strength"),
    (["CONTENT", "STYLE", "--style-weights", "1", "2"], "one style weight per style"),
])
def test_bad_input_is_a_one_line_error_with_exit_2(images, tmp_path, capsys, args, message):
    bad = tmp_path / "not-image.png"
    bad.write_text("hello")
    subst = {"CONTENT": images[0], "STYLE": images[1], "NOTIMAGE": str(bad),
             "missing.png": str(tmp_path / "missing.png")}
    code = main(["stylize", *[subst.get(a, a) for a in args], "--vgg-weights", "random",
                 "--project", str(tmp_path / "proj")])
    err = capsys.readouterr().err.strip()
    assert code == 2
    assert err.startswith("error:") and message in err and "\n" not in err
    assert not (tmp_path / "proj").exists()


def test_offline_imagenet_without_weights_says_how_to_get_them(images, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("T2I_STUDIO_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    code = main(["stylize", *images, "--size", "40", "--iterations", "1", "--project", str(tmp_path / "p")])
    err = capsys.readouterr().err
    assert code == 2 and "--vgg-weights random" in err and "not on this computer" in err
