"""``t2i-studio generate`` on the tiny SD pipeline: saved paths, --json, and one-line errors (exit 2)."""

from __future__ import annotations

import json

import pytest
from PIL import Image

from t2i_studio.cli import main
from t2i_studio.core.project import Project


pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _base(model, project) -> list[str]:
    return ["generate", "a cat", "--model", str(model), "--width", "64", "--height", "64",
            "--steps", "2", "--seed", "5", "--dtype", "fp32", "--project", str(project)]


def test_generate_saves_into_the_project_and_prints_paths(tiny_sd_path, tmp_path, capsys):
    project = tmp_path / "proj"
    code = main(_base(tiny_sd_path, project) + ["--batch-size", "2", "--negative", "blurry"])
    out = capsys.readouterr()
    assert code == 0, out.err
    paths = out.out.split()
    assert len(paths) == 2
    for path in paths:
        assert path.startswith(str(project)) and Image.open(path).size == (64, 64)
    with Project.open(project, read_only=True) as opened:
        entries = opened.query()
        assert sorted(e.seed for e in entries) == [5, 6]
        params = entries[0].params
        assert params["fingerprint"]["scheduler"]["name"] == "Euler a"
        assert params["fingerprint"]["model"]["id"] == str(tiny_sd_path)


def test_generate_json(tiny_sd_path, tmp_path, capsys):
    code = main(_base(tiny_sd_path, tmp_path / "p") + ["--json", "--scheduler", "DPM++ 2M Karras"])
    out = capsys.readouterr()
    assert code == 0, out.err
    data = json.loads(out.out)
    assert set(data) == {"images", "seed", "elapsed_s"}
    assert data["seed"] == 5 and len(data["images"]) == 1 and data["elapsed_s"] > 0


def _pickle(tmp_path):
    from t2i_checkpoints import write_pickle_checkpoint

    return write_pickle_checkpoint(tmp_path / "model.safetensors")  # name lies; bytes decide


@pytest.mark.parametrize("change, message", [
    (["--model", "/nowhere/model.safetensors"], "Model not found"),
    (["--width", "65"], "multiple of 8"),
    (["--steps", "0"], "Steps must be"),
    (["--init-image", "NOTIMG"], "not an image this app can read"),
    (["--model", "PICKLE"], "pickle checkpoint"),
    (["--model", "EMPTYDIR"], "not a diffusers model folder"),
])
def test_bad_inputs_exit_2_with_one_line(tiny_sd_path, tmp_path, capsys, change, message):
    notimg = tmp_path / "notes.png"
    notimg.write_text("hello")
    (tmp_path / "empty").mkdir()
    subst = {"NOTIMG": str(notimg), "PICKLE": str(_pickle(tmp_path)), "EMPTYDIR": str(tmp_path / "empty")}
    args = _base(tiny_sd_path, tmp_path / "p") + [subst.get(a, a) for a in change]
    code = main(args)
    err = capsys.readouterr().err.strip()
    assert code == 2
    assert err.startswith("error: ") and message in err and "\n" not in err, err
    assert "Traceback" not in err
    assert not (tmp_path / "p" / "images").exists()  # nothing saved


def test_a_project_open_elsewhere_stops_the_run_before_it_starts(tiny_sd_path, tmp_path, capsys, monkeypatch):
    from t2i_studio.core.project import Project
    from t2i_studio.engines.text2image import Text2ImageEngine

    def must_not_run(*args, **kwargs):
        raise AssertionError("the engine ran although the project could not be saved into")

    monkeypatch.setattr(Text2ImageEngine, "run", must_not_run)
    with Project.create(tmp_path / "p"):  # as the app holding the project would
        code = main(_base(tiny_sd_path, tmp_path / "p"))
    err = capsys.readouterr().err
    assert code == 2 and "already open" in err, err


def test_global_options_without_a_command_start_the_app_with_them(monkeypatch):
    import importlib

    seen = {}
    fake_app = type("FakeApp", (), {"run": staticmethod(lambda project=None, files=None: seen.update(
        project=project, files=files) or 0)})
    real_import = importlib.import_module
    monkeypatch.setattr(importlib, "import_module",
                        lambda name, *a: fake_app if name == "t2i_studio.app" else real_import(name, *a))
    assert main(["-v"]) == 0
    assert seen == {"project": None, "files": []}


def test_negative_prompt_is_also_spelled_as_diffusers_and_a1111_do():
    from t2i_studio.cli import build_parser
    from t2i_studio.cli.generate import build_request

    args = build_parser().parse_args(["generate", "a cat", "--model", "m", "--negative-prompt", "blurry, dark"])
    assert build_request(args).negative_prompt == "blurry, dark"
