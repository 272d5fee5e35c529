"""``t2i-studio xyz`` on the tiny SD pipeline: each cell's path printed as it is saved, the grid last,
--json, and a wrong axis refused in one line (exit 2) before anything loads."""

from __future__ import annotations

import json

import pytest
from PIL import Image

from t2i_studio.cli import main
from t2i_studio.core.metadata import read_metadata
from t2i_studio.core.project import Project
from t2i_studio.core.settings import Settings

pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(autouse=True)
def own_home(tmp_path, monkeypatch):
    """Settings of this test's own: the plot's model is remembered there."""
    monkeypatch.setenv("T2I_STUDIO_HOME", str(tmp_path / "home"))


def _base(model, project) -> list[str]:
    return ["xyz", "a cat in a hat", "--model", str(model), "--width", "64", "--height", "64", "--seed", "5",
            "--dtype", "fp32", "--device", "cpu", "--project", str(project)]


def test_a_plot_prints_each_cell_then_the_grid(tiny_sd_path, tmp_path, capsys):
    project = tmp_path / "proj"
    code = main(_base(tiny_sd_path, project) + ["--x", "steps=1-3", "--y", "scheduler=Euler, DDIM"])
    out = capsys.readouterr()
    assert code == 0, out.err
    *cells, grid = out.out.split()
    assert len(cells) == 6 and all(Image.open(p).size == (64, 64) for p in cells)
    assert [read_metadata(p).request.sampling.steps for p in cells] == [1, 2, 3, 1, 2, 3]
    assert [read_metadata(p).request.sampling.scheduler for p in cells] == ["Euler"] * 3 + ["DDIM"] * 3
    meta = read_metadata(grid)
    assert meta.data["kind"] == "grid" and meta.width > 3 * 64 and meta.height > 2 * 64
    with Project.open(project, read_only=True) as opened:
        [entry] = opened.query(kind="grid")
        assert str(entry.path) == grid
        assert entry.params["lineage"]["cells"] == [e.id for e in sorted(opened.query(kind="generate"),
                                                                         key=lambda e: e.id)]
    assert Settings.load().last_generation["model"]["id"] == str(tiny_sd_path)  # the next run's default


def test_json_and_a_z_axis(tiny_sd_path, tmp_path, capsys):
    code = main(_base(tiny_sd_path, tmp_path / "p") + ["--x", "seed=1,2", "--y", "steps=1", "--z", "cfg=3, 6",
                                                       "--z-stacked", "--json"])
    out = capsys.readouterr()
    assert code == 0, out.err
    data = json.loads(out.out)
    assert data["shape"] == [2, 1, 2] and len(data["cells"]) == 4 and data["grid"].endswith(".png")
    assert data["axes"] == ["Seed: 1, 2", "Steps: 1", "CFG scale: 3, 6"] and data["seed"] == 5
    with Image.open(data["grid"]) as grid:
        assert grid.height > grid.width  # the two Z grids one under the other


@pytest.mark.parametrize(("axes", "message"), [
    (["--x", "steps=ten"], "argument --x: Steps values must be whole numbers from 1 to 500: got 'ten'."),
    (["--x", "lora=0-1 [3]"], "sweeps LoRA #1, but the request has no LoRAs"),
    (["--x", "prompt_sr=dog, fox"], "'dog', but it is not in the prompt"),
    (["--x", "steps=1", "--batch-count", "2"], "one image per cell"),
    (["--x", "scheduler=Euler, LMS"], "Scheduler values must be scheduler names"),
    (["--y", "steps=1"], "the following arguments are required: --x"),
])
def test_a_wrong_axis_exits_2_with_one_line(tiny_sd_path, tmp_path, capsys, axes, message):
    try:
        code = main(_base(tiny_sd_path, tmp_path / "p") + axes)
    except SystemExit as exited:  # argparse's own checks
        code = exited.code
    err = capsys.readouterr().err.strip()
    assert code == 2 and err.startswith("error: ") and message in err and "\n" not in err, err
    assert not (tmp_path / "p").exists()  # nothing saved, no project made
