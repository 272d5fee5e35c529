"""``t2i-studio upscale`` and ``t2i-studio upscalers``: pictures enlarged into a project with their
dpi and lineage, the upscaler library, SD upscale's request, and one-line errors (exit 2)."""

from __future__ import annotations

import json

import pytest
import tiny_upscalers as T
from PIL import Image

from t2i_studio.cli import build_parser, main
from t2i_studio.cli.upscale import build_requests
from t2i_studio.core.project import Project
from t2i_studio.core.requests import GenerationRequest, UpscaleRequest
from t2i_studio.engines.upscalers import release_upscalers


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("upscale-cli")
    T.picture(120, 80).save(folder / "wide.png")
    T.picture(80, 120, seed=1).save(folder / "tall.png")
    (folder / "notes.txt").write_text("hello")
    return {"wide": str(folder / "wide.png"), "tall": str(folder / "tall.png"),
            "text": str(folder / "notes.txt"), "model": str(T.compact(folder / "tiny-4x.safetensors")),
            "pickle": str(T.compact(folder / "old-4x.pth")),
            "unknown": str(T.not_an_upscaler(folder / "mystery.safetensors"))}


@pytest.fixture(autouse=True)
def _library(tmp_path, monkeypatch):
    """Each test its own app home, so its upscaler library starts empty."""
    monkeypatch.setenv("T2I_STUDIO_HOME", str(tmp_path / "home"))
    yield
    release_upscalers()


def _entries(project):
    with Project.open(project, read_only=True) as opened:
        return sorted(opened.query(), key=lambda e: e.id), opened.folder


def test_print_sizes_come_out_in_the_pictures_orientation_with_their_dpi(files, tmp_path, capsys):
    project = tmp_path / "proj"
    code = main(["upscale", files["wide"], files["tall"], "--print", "A5", "--dpi", "100", "--upscaler",
                 files["model"], "--tile", "64", "--project", str(project)])
    out = capsys.readouterr()
    assert code == 0, out.err
    paths = out.out.split()
    sizes = [Image.open(p).size for p in paths]
    assert sizes == [(827, 551), (551, 827)]  # A5 at 100 dpi is 583 x 827 pixels, turned to fit
    assert all(round(Image.open(p).info["dpi"][0]) == 100 for p in paths)
    entries, folder = _entries(project)
    lineage = entries[0].params["lineage"]
    assert lineage["source_image"] == files["wide"] and (folder / lineage["source_stored"]).is_file()
    request = entries[0].params["request"]
    assert request["kind"] == "upscale" and request["upscale"]["dpi"] == 100
    assert entries[0].params["fingerprint"]["upscaler"]["architecture"] == "RealESRGAN Compact"


def test_by_a_factor_or_to_a_size_with_lanczos(files, tmp_path, capsys):
    project = tmp_path / "proj"
    assert main(["upscale", files["wide"], "--scale", "2.5", "--project", str(project), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert Image.open(data["images"][0]).size == (300, 200) and "dpi" not in Image.open(data["images"][0]).info
    assert main(["upscale", files["wide"], "--size", "333x222", "--dpi", "600", "--project", str(project)]) == 0
    (path,) = capsys.readouterr().out.split()
    assert Image.open(path).size == (333, 222) and round(Image.open(path).info["dpi"][1]) == 600


def test_the_upscaler_library(files, tmp_path, capsys):
    assert main(["upscalers", "list"]) == 0
    assert "No upscalers" in capsys.readouterr().out
    assert main(["upscalers", "add", files["model"]]) == 0
    assert "Added tiny-4x (RealESRGAN Compact 4x)" in capsys.readouterr().out
    assert main(["upscalers", "list", "--json"]) == 0
    (listed,) = json.loads(capsys.readouterr().out)["upscalers"]
    assert listed["name"] == "tiny-4x" and listed["scale"] == 4
    assert main(["upscale", files["wide"], "--scale", "4", "--upscaler", "tiny-4x", "--project",
                 str(tmp_path / "p")]) == 0  # by its library name
    assert Image.open(capsys.readouterr().out.split()[0]).size == (480, 320)
    assert main(["upscalers", "add", files["model"]]) == 2
    assert "already has an upscaler called tiny-4x" in capsys.readouterr().err
    assert main(["upscalers", "remove", "tiny-4x"]) == 0
    assert "Removed tiny-4x" in capsys.readouterr().out
    assert main(["upscalers", "list", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["upscalers"] == []


@pytest.mark.parametrize("name, message", [
    ("pickle", "pickle checkpoint"),
    ("unknown", "is not an upscaler model this app knows (ESRGAN, Real-ESRGAN, SwinIR"),
    ("text", "is not an upscaler model file"),
])
def test_the_library_takes_in_only_upscalers(files, tmp_path, capsys, name, message):
    assert main(["upscalers", "add", files[name]]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error:") and message in err and "\n" not in err.strip()
    assert not (tmp_path / "home" / "data" / "upscalers").exists() or \
        not list((tmp_path / "home" / "data" / "upscalers").iterdir())


def test_a_trusted_pickle_upscaler_is_allowed_by_the_flag(files, tmp_path, capsys):
    assert main(["upscalers", "add", files["pickle"], "--allow-unsafe-checkpoint"]) == 0
    assert main(["upscale", files["wide"], "--scale", "4", "--upscaler", "old-4x", "--allow-unsafe-checkpoint",
                 "--project", str(tmp_path / "p")]) == 0
    assert Image.open(capsys.readouterr().out.split()[-1]).size == (480, 320)


@pytest.mark.parametrize("args, message", [
    (["MISSING", "--scale", "2"], "Source image not found"),
    (["MISSING", "--print", "A4"], "Source image not found"),
    (["WIDE", "--scale", "9"], "Upscale factor must be from 1 to 8"),
    (["WIDE", "--print", "B7"], "Unknown paper size 'B7'"),
    (["WIDE", "--size", "20000x100"], "Upscale width must be"),
    (["WIDE", "--scale", "2", "--upscaler", "PICKLE"], "--allow-unsafe-checkpoint"),
    (["WIDE", "--scale", "2", "--upscaler", "nothing-here"], "No upscaler called 'nothing-here'"),
    (["WIDE", "--scale", "2", "--prompt", "a cat"], "--prompt belong to SD upscale: add --sd-upscale"),
    (["WIDE", "--scale", "2", "--sd-upscale", "--model", "m"], "SD upscale needs a prompt"),
])
def test_bad_input_is_a_one_line_error_with_exit_2(files, tmp_path, capsys, args, message):
    subst = {"WIDE": files["wide"], "PICKLE": files["pickle"], "MISSING": str(tmp_path / "missing.png")}
    code = main(["upscale", *[subst.get(a, a) for a in args], "--project", str(tmp_path / "proj")])
    err = capsys.readouterr().err.strip()
    assert code == 2 and err.startswith("error:") and message in err and "\n" not in err, err
    assert not (tmp_path / "proj").exists()


def test_size_options_are_one_of_three():
    with pytest.raises(SystemExit):
        build_parser().parse_args(["upscale", "x.png", "--scale", "2", "--print", "A4"])


@pytest.mark.usefixtures("one_torch_thread")
def test_sd_upscale_redraws_with_the_pictures_own_prompt_and_model(tiny_sd_path, files, tmp_path, capsys):
    project = tmp_path / "proj"
    assert main(["generate", "a lighthouse", "--model", str(tiny_sd_path), "--width", "64", "--height", "64",
                 "--steps", "1", "--seed", "3", "--dtype", "fp32", "--project", str(project)]) == 0
    (made,) = capsys.readouterr().out.split()
    args = build_parser().parse_args(["upscale", made, "--scale", "2", "--sd-upscale", "--strength", "0.2",
                                      "--steps", "1", "--sd-tile", "64", "--device", "cpu"])
    (request,) = build_requests(args)
    assert isinstance(request, GenerationRequest) and request.mode == "sd_upscale"
    assert request.prompt == "a lighthouse" and request.model.id == str(tiny_sd_path)
    assert (request.width, request.height) == (64, 64) and request.sampling.seed == 3
    assert request.images.init_image == made and request.images.strength == 0.2
    assert request.upscale is not None and request.upscale.scale == 2
    code = main(["upscale", made, "--scale", "2", "--sd-upscale", "--steps", "1", "--sd-tile", "64",
                 "--project", str(project)])
    out = capsys.readouterr()
    if code == 0:  # the diffusers engine does SD upscale here
        assert Image.open(out.out.split()[-1]).size == (128, 128)
    else:
        assert out.err.startswith("error:") and "\n" not in out.err.strip()


def test_plain_upscales_build_upscale_requests(files):
    args = build_parser().parse_args(["upscale", files["wide"], files["tall"], "--scale", "2", "--tile", "0"])
    requests = build_requests(args)
    assert [type(r) for r in requests] == [UpscaleRequest, UpscaleRequest]
    assert requests[0].upscale.tile == 0 and requests[0].upscale.overlap == 0  # the overlap follows the tile
