"""Model upscalers through spandrel, tiled, and the upscale engine: what a user notices (sizes, seams,
refused files and their messages, memory, progress per tile, cancel, what the saved file records)."""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys

import numpy as np
import pytest
import tiny_upscalers as T
from PIL import Image

from t2i_studio.core import jobs
from t2i_studio.core.engine import Cancelled, CancelToken, Engine, EngineError
from t2i_studio.core.project import Project
from t2i_studio.core.requests import RunOptions, Upscale, UpscaleRequest
from t2i_studio.engines import upscalers
from t2i_studio.engines.registry import local_registry
from t2i_studio.engines.upscale_engine import UpscaleEngine


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("upscalers")
    T.picture(150, 100).save(folder / "picture.png")
    return {
        "picture": str(folder / "picture.png"),
        "compact": str(T.compact(folder / "compact-4x.safetensors", convs=4, features=16)),
        "esrgan": str(T.esrgan(folder / "esrgan-2x.safetensors", scale=2)),
        "pickle": str(T.compact(folder / "old-4x.pth")),
        "unknown": str(T.not_an_upscaler(folder / "mystery.safetensors")),
        "denoiser": str(T.restoration(folder / "denoise-1x.safetensors")),
    }


@pytest.fixture(autouse=True)
def _cold_model():
    yield
    upscalers.release_upscalers()


def _pixels(image: Image.Image) -> np.ndarray:
    return np.asarray(image, np.float32)


@pytest.mark.parametrize("model, target", [("compact", (600, 400)), ("compact", (450, 300)),
                                           ("esrgan", (331, 207)), ("lanczos", (451, 301))])
def test_the_result_has_exactly_the_size_asked_for(files, model, target):
    upscaler = files.get(model, model)
    assert upscalers.upscale_image(Image.open(files["picture"]), upscaler, target, tile=64).size == target


@pytest.mark.parametrize("model", ["compact", "esrgan"])
def test_tiled_equals_untiled_within_a_level_or_two(files, model):
    picture = Image.open(files["picture"])
    scale = upscalers.describe_upscaler(files[model])["scale"]
    target = (150 * scale, 100 * scale)
    whole = _pixels(upscalers.upscale_image(picture, files[model], target, tile=0))
    tiled = _pixels(upscalers.upscale_image(picture, files[model], target, tile=64, overlap=16))
    difference = np.abs(whole - tiled)
    assert difference.mean() < 0.1 and difference.max() <= 2  # 8-bit levels: no seam to see
    nearest = _pixels(picture.resize(target, Image.Resampling.NEAREST))
    assert np.abs(whole - nearest).mean() > 1  # the model did something


def test_a_model_smaller_than_the_enlargement_runs_again(files):
    ticks: list[tuple[int, int]] = []
    image = upscalers.upscale_image(Image.open(files["picture"]), files["compact"], (1200, 800), tile=64,
                                    overlap=16, on_tile=lambda done, total: ticks.append((done, total)))
    assert image.size == (1200, 800)
    # 4x (3x2 tiles of the 150x100 picture), then 4x again from 300x200 (6x4 tiles)
    assert ticks == [(k, 30) for k in range(1, 31)]


def test_sd_upscale_tiles_put_back_together_give_the_picture(files):
    picture = Image.open(files["picture"]).convert("RGB").resize((300, 200))
    boxes = upscalers.tile_boxes(picture.size, (128, 96), 16)
    assert {(r - x, b - y) for x, y, r, b in boxes} == {(128, 96)}  # every tile the size the model makes
    blended = upscalers.blend_tiles([picture.crop(box) for box in boxes], boxes, picture.size)
    assert np.abs(_pixels(blended) - _pixels(picture)).max() <= 1


def test_transparency_is_kept(files):
    rgba = Image.open(files["picture"]).convert("RGBA")
    rgba.putalpha(Image.linear_gradient("L").resize(rgba.size))
    out = upscalers.upscale_image(rgba, files["compact"], (600, 400), tile=0)
    assert out.mode == "RGBA"
    alpha = rgba.getchannel("A").resize((600, 400), Image.Resampling.LANCZOS)
    assert out.getchannel("A").tobytes() == alpha.tobytes()


def test_describe_names_the_architecture_and_factor(files):
    assert upscalers.describe_upscaler(files["compact"]) | {"tags": []} == {
        "name": "compact-4x", "path": files["compact"], "architecture": "RealESRGAN Compact", "scale": 4,
        "channels": 3, "tags": []}
    assert upscalers.describe_upscaler(files["esrgan"])["architecture"] == "ESRGAN"


def test_pickle_upscalers_are_refused_unless_allowed(files):
    picture = Image.open(files["picture"])
    with pytest.raises(EngineError, match="pickle") as refused:
        upscalers.upscale_image(picture, files["pickle"], (600, 400))
    assert "--allow-unsafe-checkpoint" in refused.value.user_message()
    allowed = upscalers.upscale_image(picture, files["pickle"], (600, 400), allow_unsafe=True)
    assert allowed.size == (600, 400)


@pytest.mark.parametrize("name, message", [
    ("unknown", "mystery.safetensors is not an upscaler model this app knows (ESRGAN, Real-ESRGAN, SwinIR"),
    ("denoiser", "is a RealESRGAN Compact restoration model: it does not enlarge pictures"),
])
def test_files_that_are_no_upscaler_say_so(files, name, message):
    with pytest.raises(EngineError, match=re.escape(message)):
        upscalers.describe_upscaler(files[name])


def test_an_unknown_name_lists_the_library(files):
    with pytest.raises(ValueError, match="No upscaler called 'nope'.*upscalers add"):
        upscalers.upscale_image(Image.open(files["picture"]), "nope", (300, 200))


def test_cancel_stops_between_tiles(files):
    cancel, ticks = CancelToken(), []

    def on_tile(done: int, total: int) -> None:
        ticks.append(done)
        if done == 2:
            cancel.cancel()

    with pytest.raises(Cancelled):
        upscalers.upscale_image(Image.open(files["picture"]), files["compact"], (600, 400), tile=64,
                                overlap=16, on_tile=on_tile, cancel=cancel)
    assert ticks == [1, 2]


def test_the_model_stays_warm_between_pictures(files):
    first = upscalers.load_upscaler(upscalers.check_upscaler(files["compact"]), "cpu")
    assert upscalers.load_upscaler(upscalers.check_upscaler(files["compact"]), "cpu") is first
    upscalers.release_upscalers()
    assert upscalers.load_upscaler(upscalers.check_upscaler(files["compact"]), "cpu") is not first


def test_spandrel_loads_without_torchvision_and_leaves_no_stand_in():
    spandrel = upscalers.import_spandrel()
    if importlib.util.find_spec("torchvision") is not None:
        pytest.skip("torchvision is installed here: spandrel uses it as it is")
    assert "torchvision" not in sys.modules and "torchvision.transforms.functional" not in sys.modules
    lama = sys.modules["spandrel.architectures.LaMa.__arch.LaMa"]  # an inpainting architecture
    with pytest.raises(EngineError, match="needs torchvision.*not an upscaler"):
        lama.rotate(None, 0)
    assert spandrel.ModelLoader is not None


def test_the_check_needs_neither_torch_nor_spandrel(files):
    request = f"UpscaleRequest({files['picture']!r}, Upscale(upscaler={files['compact']!r}))"
    code = ("import sys; from t2i_studio.core.requests import Upscale, UpscaleRequest; "
            f"from t2i_studio.engines import upscalers; upscalers.check_upscale({request}); "
            "print(sorted(m for m in ('torch', 'spandrel') if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


# -- the registry's check (no weights read) --------------------------------------------------------

def _request(files, **upscale):
    return UpscaleRequest(files["picture"], Upscale(**upscale))


def test_the_check_refuses_a_size_this_computer_cannot_hold(files, monkeypatch):
    monkeypatch.setattr(upscalers, "_available_bytes", lambda: int(1.2e9))
    registry = local_registry()
    with pytest.raises(ValueError) as refused:
        registry.check(_request(files, width=7016, height=9921, upscaler=files["compact"]))  # A3, 600 dpi
    expected = (r"An upscale to 7016x9921 needs about \d+\.\d GB of memory; this computer has 1\.2 GB free: "
                r"choose a lower dpi or a smaller paper size\.")
    assert re.fullmatch(expected, str(refused.value)), refused.value
    registry.check(_request(files, scale=4, upscaler=files["compact"]))  # a small one still fits


@pytest.mark.parametrize("upscale, message", [
    ({"upscaler": "PICKLE"}, "--allow-unsafe-checkpoint"),
    ({"upscaler": "UNKNOWN_MISSING"}, "No upscaler called"),
    ({"width": 7016, "height": 9921, "upscaler": "lanczos"}, None),
    ({"width": 9921, "height": 14031, "upscaler": "lanczos"}, "(139 megapixels) is more than this app opens"),
])
def test_the_check_names_the_problem(files, tmp_path, upscale, message):
    upscale = {k: {"PICKLE": files["pickle"], "UNKNOWN_MISSING": str(tmp_path / "gone.pth")}.get(v, v)
               for k, v in upscale.items()}
    if message is None:
        local_registry().check(_request(files, **upscale))  # Lanczos to the largest size the app opens
        return
    with pytest.raises(ValueError, match=re.escape(message)):
        local_registry().check(_request(files, **upscale))


def test_the_check_refuses_a_missing_source(files, tmp_path):
    with pytest.raises(ValueError, match="Source image not found"):
        local_registry().check(UpscaleRequest(str(tmp_path / "gone.png"), Upscale()))


# -- the engine, through the job loop into a project -----------------------------------------------

def test_an_upscale_job_reports_each_tile_and_saves_print_ready(files, tmp_path):
    engine = UpscaleEngine()
    assert isinstance(engine, Engine)
    registry = local_registry()
    upscale = Upscale(width=600, height=400, upscaler=files["compact"], tile=64, overlap=16, dpi=300)
    request = UpscaleRequest(files["picture"], upscale, run=RunOptions(device="cpu"))
    registry.check(request)
    events: list[jobs.JobEvent] = []
    with Project.open(tmp_path / "project", create=True) as project:
        outcome = jobs.run_job(request, registry, project.save_result, on_event=events.append)
        registry.close()
        assert outcome.state == jobs.FINISHED, outcome.message
        (entry,) = outcome.entries
        saved = Image.open(entry.path)
        assert saved.size == (600, 400) and round(saved.info["dpi"][0]) == 300
        lineage = entry.params["lineage"]
        assert lineage["source_image"] == files["picture"]
        assert (project.folder / lineage["source_stored"]).is_file()
        assert lineage["source_stored"].startswith("inputs/")
        fingerprint = entry.params["fingerprint"]
    assert fingerprint["upscaler"]["architecture"] == "RealESRGAN Compact"
    assert fingerprint["upscaler"]["scale"] == 4 and len(fingerprint["upscaler"]["hash"]) == 10
    assert {"torch", "spandrel", "app"} <= set(fingerprint) and fingerprint["tile"] == 64
    messages = [e.text for e in events if e.kind == jobs.MESSAGE]
    assert messages[-6:] == [f"Upscaling: tile {k}/6" for k in range(1, 7)]


def test_a_cancelled_upscale_saves_nothing(files, tmp_path):
    registry, cancel = local_registry(), CancelToken()

    def on_event(event: jobs.JobEvent) -> None:
        if event.text == "Upscaling: tile 2/6":
            cancel.cancel()

    request = UpscaleRequest(files["picture"], Upscale(scale=4, upscaler=files["compact"], tile=64, overlap=16))
    with Project.open(tmp_path / "project", create=True) as project:
        outcome = jobs.run_job(request, registry, project.save_result, on_event=on_event, cancel=cancel)
        registry.close()
        assert outcome.state == jobs.CANCELLED and not outcome.entries
    assert not list((tmp_path / "project").rglob("*.png"))


def test_a_lanczos_upscale_needs_no_model(files):
    engine = UpscaleEngine()
    result = engine.run(_request(files, scale=2), lambda p: None, CancelToken())
    assert result.images[0].size == (300, 200) and result.fingerprint["upscaler"] == {"name": "lanczos"}
    assert engine.status()["model"] is None
    engine.close()
