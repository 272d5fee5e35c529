"""The X/Y/Z plot: values typed as A1111 takes them, each cell a complete request, the grid image
(its size, its labels), and the plot run through the job loop into a project: every cell saved as
its own entry, then the grid, whose JSON holds the plot and whose lineage lists the cells."""

from __future__ import annotations

import pytest
from fake_engine import FakeEngine, FakeProject, registry_of
from PIL import Image
from request_builder import gen_request, with_

from t2i_studio.core import jobs
from t2i_studio.core.engine import CancelToken
from t2i_studio.core.engine_registry import EngineEntry, EngineRegistry
from t2i_studio.core.metadata import read_metadata
from t2i_studio.core.requests import Adapter, GenerationRequest, Hires, ModelRef
from t2i_studio.core.xyz import Plot, cells
from t2i_studio.core.xyz_axes import Axis, choices, parse_axis
from t2i_studio.core.xyz_grid import EMPTY, grid_image

BASE = gen_request("a cat in a hat", model="m", negative_prompt="blurry cat", steps=4, seed=11, width=64,
                   height=64)


@pytest.mark.parametrize(("kind", "text", "values"), [
    ("steps", "10,20, 30", (10, 20, 30)),
    ("steps", "1-5", (1, 2, 3, 4, 5)),
    ("steps", "1-10 (+2)", (1, 3, 5, 7, 9)),
    ("steps", "30-10 (-10)", (30, 20, 10)),
    ("steps", "20-16", (20, 19, 18, 17, 16)),  # a range down counts down
    ("steps", "10-20 [3]", (10, 15, 20)),
    ("steps", "1-3, 10, 20-30 (+10)", (1, 2, 3, 10, 20, 30)),
    ("steps", "1,2,", (1, 2)),  # an empty item means nothing
    ("cfg", "4-8 [3]", (4.0, 6.0, 8.0)),
    ("cfg", "3-5 (+0.5)", (3.0, 3.5, 4.0, 4.5, 5.0)),
    ("cfg", "0.1-0.3 (+0.1)", (0.1, 0.2, 0.3)),  # no float drift drops the end or adds 0.30000000000000004
    ("strength", "0.5-1 [3]", (0.5, 0.75, 1.0)),
    ("lora", "-1-1 [3]", (-1.0, 0.0, 1.0)),
    ("seed", "5-7, 100", (5, 6, 7, 100)),
    ("scheduler", "euler a, DPM++ 2M karras", ("Euler a", "DPM++ 2M Karras")),
    ("prompt_sr", 'cat, "dog, big", fox', ("cat", "dog, big", "fox")),
    ("prompt_sr", "cat, ", ("cat", "")),  # an S/R's empty value removes the searched text
])
def test_values_are_read_as_a1111_types_them(kind, text, values):
    axis = Axis.parse(kind, text)
    assert axis.values == values
    assert Axis.parse(kind, axis.text()).values == values  # what text() writes reads back the same


def test_names_and_the_cli_form():
    assert parse_axis("CFG=4, 6") == Axis("cfg", (4.0, 6.0))
    assert parse_axis("sampler=Euler") == Axis("scheduler", ("Euler",))
    assert parse_axis("lora2=0.5") == Axis("lora", (0.5,), lora=1)
    assert parse_axis("denoising=0.4") == Axis("strength", (0.4,))
    seeds = parse_axis("seed=-1, -1").values  # -1: a random seed, drawn once when read
    assert len(seeds) == 2 and all(isinstance(s, int) and s >= 0 for s in seeds)
    assert Axis.parse("prompt_sr", 'cat, "dog, big"').labels() == ["cat", "dog, big"]
    assert Axis.parse("prompt_sr", "cat,").labels() == ["cat", "(removed)"]
    assert Axis.parse("cfg", "7, 7.5").labels() == ["7", "7.5"]


@pytest.mark.parametrize(("spec", "message"), [
    ("steps=ten", "Steps values must be whole numbers from 1 to 500: got 'ten'."),
    ("steps=0", "Steps values must be whole numbers from 1 to 500: got '0'."),
    ("steps=1.5", "Steps values must be whole numbers from 1 to 500: got '1.5'."),
    ("steps=400-600 (+100)", "Steps values must be whole numbers from 1 to 500: got '400-600 (+100)'."),
    ("cfg=60", "CFG scale values must be numbers from 0 to 50: got '60'."),
    ("cfg=nan", "CFG scale values must be numbers from 0 to 50: got 'nan'."),
    ("strength=1.5", "Denoising strength values must be numbers from 0 to 1: got '1.5'."),
    ("seed=x", "Seed values must be whole numbers from 0 to 18446744073709551615 (or -1 for a random one)"),
    ("scheduler=Euler b", "Scheduler values must be scheduler names (Euler, Euler a,"),
    ("cfg=1-5 (-1)", "CFG scale range '1-5 (-1)' never gets from 1 to 5: give a step such as (+1)."),
    ("cfg=1-2 (+0)", "never gets from 1 to 2"),
    ("steps=1-3 [0]", "asks for 0 values: give a count from 1 to 500."),
    ("steps=1-100000", "Steps range '1-100000' gives 100,000 values; a plot takes at most 500 images in all."),
    ("steps=", "Give at least one Steps value."),
    ("colour=red", "Unknown axis 'colour': use one of seed, steps, cfg, scheduler, lora, prompt_sr, strength."),
    ("steps 10", "Give an axis as KIND=VALUES (such as steps=10,20,30), got 'steps 10'."),
    ("lora0=1", "LoRAs count from 1"),
])
def test_a_wrong_value_is_named(spec, message):
    with pytest.raises(ValueError) as caught:
        parse_axis(spec)
    assert message in str(caught.value)


def test_each_cell_is_a_complete_request_x_fastest():
    plot = Plot(BASE, (Axis.parse("steps", "10,20,30"), Axis.parse("cfg", "4, 6")))
    made = plot.cells()
    assert [coords for coords, _r in made] == [(0, 0), (1, 0), (2, 0), (0, 1), (1, 1), (2, 1)]
    assert [(r.sampling.steps, r.sampling.guidance) for _c, r in made] == [
        (10, 4.0), (20, 4.0), (30, 4.0), (10, 6.0), (20, 6.0), (30, 6.0)]
    # everything else is the base's: each cell reproduces alone
    assert made[4][1] == with_(BASE, steps=20, guidance=6.0)
    assert plot.validate() is plot and plot.image_count == 7 and plot.shape == (3, 2)


def test_the_other_axes_change_what_they_name():
    loras = ModelRef("m", adapters=(Adapter("style.safetensors", weight=0.8), Adapter("cat-ti", "embedding"),
                                    Adapter("detail.safetensors", weight=1.0)))
    base = BASE.replace(model=loras)
    [(_c, swept)] = cells(base, (Axis.parse("lora2", "0.3"),))
    assert [a.weight for a in swept.model.adapters] == [0.8, 1.0, 0.3]  # the 2nd LoRA; the embedding is no LoRA
    sr = [r for _c, r in cells(base, (Axis.parse("prompt_sr", "cat, dog"),))]
    assert [(r.prompt, r.negative_prompt) for r in sr] == [("a cat in a hat", "blurry cat"),
                                                          ("a dog in a hat", "blurry dog")]
    img2img = with_(BASE, init_image="init.png")
    assert [r.images.strength for _c, r in cells(img2img, (Axis.parse("strength", "0.3, 0.6"),))] == [0.3, 0.6]
    hires = BASE.replace(hires=Hires(scale=2.0))
    assert [r.hires.strength for _c, r in cells(hires, (Axis.parse("strength", "0.2"),))] == [0.2]
    assert [r.sampling.scheduler for _c, r in cells(BASE, (Axis.parse("scheduler", "ddim"),))] == ["DDIM"]
    assert [key for key, _label in choices(base)] == ["seed", "steps", "cfg", "scheduler", "lora1", "lora2",
                                                       "prompt_sr"]
    assert "strength" in [key for key, _label in choices(img2img)]


@pytest.mark.parametrize(("axes", "base", "message"), [
    ((Axis("lora", (0.5,)),), BASE, "sweeps LoRA #1, but the request has no LoRAs"),
    ((Axis("prompt_sr", ("dog", "fox")),), BASE, "Prompt S/R replaces its first value, 'dog', but it is not"),
    ((Axis("strength", (0.5,)),), BASE, "it does nothing in text-to-image"),
    ((Axis("steps", (1,)), Axis("steps", (2,))), BASE, "Steps is on two axes"),
    ((), BASE, "one to three axes, got 0"),
    ((Axis("steps", (1,)),) * 4, BASE, "one to three axes, got 4"),
    ((Axis("steps", (1,)),), with_(BASE, batch_count=2), "one image per cell: set the batch size and batch"),
    ((Axis("seed", tuple(range(300))), Axis("steps", (1, 2))), BASE, "This plot has 300 × 2 = 600 cells"),
    ((Axis("steps", (0,)),), BASE, "Steps values must be whole numbers from 1 to 500: got 0."),
    ((Axis("steps", (1,)),), with_(BASE, prompt=" "), "The prompt is empty"),
])
def test_a_plot_that_cannot_be_made_says_why(axes, base, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        Plot(base, axes).validate()


def test_the_registry_checks_every_cell_against_its_engine():
    registry = EngineRegistry([EngineEntry("diffusers", "Local", "generate", ("txt2img",), FakeEngine,
                                           schedulers=("Euler", "Euler a"))])
    registry.check(Plot(BASE, (Axis.parse("scheduler", "Euler, Euler a"),)))
    with pytest.raises(ValueError, match="no scheduler 'DDIM'"):
        registry.check(Plot(BASE, (Axis.parse("scheduler", "Euler, DDIM"),)))


# --------------------------------------------------------------------------- the grid image

def _dark(image: Image.Image, box: tuple[int, int, int, int]) -> int:
    """How many dark (text) pixels ``box`` holds."""
    return sum(image.crop(box).convert("L").histogram()[:110])


def test_a_3x2_grid_has_the_cells_the_headers_and_the_titles():
    colours = [(200, 40, 40), (40, 200, 40), (40, 40, 200), (200, 200, 40), (40, 200, 200), (200, 40, 200)]
    images = [Image.new("RGB", (128, 96), c) for c in colours]
    grid = grid_image(images, ["Steps", "CFG scale"], [["10", "20", "30"], ["4", "6"]])
    cells_x = [x for x in range(grid.width) if grid.getpixel((x, grid.height - 20)) == colours[3]]
    cells_y = [y for y in range(grid.height) if grid.getpixel((cells_x[0], y)) == colours[0]]
    left, top = cells_x[0], cells_y[0]
    assert len(cells_x) == 128 and len(cells_y) == 96  # a cell at full size
    assert grid.getpixel((left + 128 + 4, top + 10)) == colours[1]  # the next column, after a thin gap
    assert grid.getpixel((left + 10, top + 96 + 4)) == colours[3]  # the next row
    assert grid.width > 3 * 128 and grid.height > 2 * 96
    assert grid.getpixel((2, 2)) == (255, 255, 255)  # white margins
    for k in range(3):  # each column's header, above its cell
        column = left + k * (128 + 2) + 40
        assert _dark(grid, (column, top - 20, column + 48, top - 2)) > 5, k
    for k in range(2):  # each row's header, left of its row
        assert _dark(grid, (left - 40, top + k * 98 + 30, left - 2, top + k * 98 + 66)) > 5, k
    assert _dark(grid, (left, 0, grid.width, top // 2)) > 20  # the X title
    assert _dark(grid, (0, top, 25, grid.height)) > 20  # the Y title, read bottom to top


def test_z_grids_go_side_by_side_or_stacked_and_missing_cells_are_grey():
    images = [Image.new("RGB", (64, 64), (10 * k, 100, 100)) for k in range(8)]
    images[7] = None  # a plot stopped early
    args = (["Seed", "Steps", "Scheduler"], [["1", "2"], ["10", "20"], ["Euler", "DDIM"]])
    side, stacked = grid_image(images, *args), grid_image(images, *args, stacked=True)
    one = grid_image(images[:4], args[0][:2], args[1][:2])
    assert side.width > 2 * one.width and side.height > one.height  # each Z grid has its heading
    assert stacked.height > 2 * one.height and stacked.width < side.width
    assert EMPTY in [side.getpixel((x, side.height - 30)) for x in range(side.width)]


def test_long_headers_wrap_and_end_in_an_ellipsis():
    text = "a very long prompt replacement " * 8 + "supercalifragilisticexpialidocious" * 3
    grid = grid_image([Image.new("RGB", (96, 96), "gray")] * 2, ["Prompt S/R: cat " * 20], [[text, "x"]])
    assert grid.width < 400 and grid.height < 300  # wrapped and cut, not stretched
    with pytest.raises(ValueError, match="needs as many images"):
        grid_image([None], ["Steps"], [["1", "2"]])


# --------------------------------------------------------------------------- running a plot

def _registry(engine: FakeEngine):
    return registry_of({"generate": lambda: engine})


def test_a_plot_saves_each_cell_then_the_grid(project):
    plot = Plot(BASE, (Axis.parse("steps", "1-3"), Axis.parse("cfg", "4, 6")))
    events: list[jobs.JobEvent] = []
    engine = FakeEngine(step_s=0.0)
    outcome = jobs.run_job(plot, _registry(engine), project.save_result, job_id=3, on_event=events.append)
    assert outcome.state == jobs.FINISHED and len(outcome.entries) == 7
    *made, grid = outcome.entries
    assert [e.kind for e in made] == ["generate"] * 6 and grid.kind == "grid"
    assert [read_metadata(e.path).request.sampling.steps for e in made] == [1, 2, 3, 1, 2, 3]
    assert [read_metadata(e.path).request.sampling.guidance for e in made] == [4.0] * 3 + [6.0] * 3
    meta = read_metadata(grid.path)
    assert meta.data["kind"] == "grid" and meta.data["lineage"]["cells"] == [e.id for e in made]
    assert meta.data["request"]["plot"]["axes"] == [{"kind": "steps", "values": [1, 2, 3], "lora": 0},
                                                    {"kind": "cfg", "values": [4.0, 6.0], "lora": 0}]
    assert isinstance(meta.request, GenerationRequest)
    assert meta.request == read_metadata(made[0].path).request  # the grid carries its first cell's settings
    assert "Steps: 1," in meta.parameters and grid.prompt == "a cat in a hat" and grid.model == "m"
    assert (meta.width, meta.height) > (3 * 64, 2 * 64)
    kinds = [e.kind for e in events if e.kind not in (jobs.PROGRESS, jobs.MESSAGE)]
    assert kinds == ["started"] + ["saved"] * 7 + ["finished"]  # one job, whatever its cells
    steps = [(e.step, e.total) for e in events if e.kind == jobs.PROGRESS]
    assert steps[-1] == (12, 12) and [s for s, _t in steps] == sorted(s for s, _t in steps)
    assert any(e.text == "Cell 5 of 6: Steps 2, CFG scale 6" for e in events if e.kind == jobs.MESSAGE)
    project.rebuild()  # from the files alone, the grid is still a grid
    assert project.get(grid.id).kind == "grid" and project.count(kind="grid") == 1


def test_cancel_mid_plot_keeps_the_finished_cells_and_makes_no_grid():
    cancel = CancelToken()
    engine = FakeEngine(step_s=0.0)
    original = engine.run

    def run_then_cancel(request, on_progress, token):
        if len(engine.runs) == 2:
            cancel.cancel()  # during the third cell
        return original(request, on_progress, token)

    engine.run = run_then_cancel
    project, events = FakeProject(), []
    plot = Plot(BASE, (Axis.parse("seed", "1-5"),))
    outcome = jobs.run_job(plot, _registry(engine), project.save_result, on_event=events.append, cancel=cancel)
    assert outcome.state == jobs.CANCELLED and len(outcome.entries) == 2
    assert [result.seeds for _r, result in project.saved] == [[1], [2]]
    assert events[-1].kind == jobs.CANCELLED and len(events[-1].entries) == 2


def test_a_failed_cell_ends_the_plot_keeping_the_cells_before_it():
    project = FakeProject()
    plot = Plot(BASE, (Axis.parse("prompt_sr", "cat, fox, fail"),))  # the fake engine fails on "fail"
    outcome = jobs.run_job(plot, _registry(FakeEngine(step_s=0.0)), project.save_result)
    assert outcome.state == jobs.FAILED and len(outcome.entries) == 2
    assert "not a diffusers pipeline" in outcome.message.text


def test_stop_after_the_current_cell_makes_the_grid_of_what_was_made():
    engine, project = FakeEngine(step_s=0.0), FakeProject()
    plot = Plot(BASE, (Axis.parse("steps", "1, 2"), Axis.parse("cfg", "4, 6")))
    outcome = jobs.run_job(plot, _registry(engine), project.save_result,
                           stop_requested=lambda: len(engine.runs) >= 3)
    assert outcome.state == jobs.FINISHED and len(outcome.entries) == 4
    grid_request, grid = project.saved[-1]
    assert grid_request is plot and grid.lineage == {"cells": [1, 2, 3, None]}
    image = grid.images[0]
    assert EMPTY in [image.getpixel((x, image.height - 20)) for x in range(image.width)]  # the cell not made
