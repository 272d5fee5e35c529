"""``t2i-studio generate`` with --mask, --outpaint and --hires-*: the pictures a user asked for, saved
with their inputs kept in the project, and one-line errors for bad input."""

from __future__ import annotations

import re

import numpy as np
import pytest
from PIL import Image, ImageDraw

from t2i_studio.cli import main
from t2i_studio.core.metadata import read_metadata

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _base(model, project) -> list[str]:
    return ["generate", "a cat", "--model", str(model), "--width", "64", "--height", "64",
            "--steps", "2", "--seed", "5", "--dtype", "fp32", "--project", str(project)]


@pytest.fixture
def picture(tmp_path):
    image = Image.new("RGB", (80, 64), (20, 140, 60))
    image.save(tmp_path / "photo.png")
    mask = Image.new("L", (80, 64), 0)
    ImageDraw.Draw(mask).rectangle((30, 20, 50, 40), fill=255)
    mask.save(tmp_path / "mask.png")
    return tmp_path / "photo.png", tmp_path / "mask.png"


def _saved(capsys):
    out = capsys.readouterr()
    paths = out.out.split()
    assert paths, out.err
    return paths[0]


def test_inpaint_only_masked_keeps_the_rest_and_stores_its_inputs(tiny_sd_path, tmp_path, picture, capsys):
    photo, mask = picture
    code = main(_base(tiny_sd_path, tmp_path / "p") + ["--init-image", str(photo), "--mask", str(mask),
                                                        "--inpaint-area", "masked", "--mask-blur", "2",
                                                        "--strength", "1"])
    assert code == 0
    path = _saved(capsys)
    made = np.asarray(Image.open(path).convert("RGB"))
    assert made.shape == (64, 80, 3) and (made[:10, :10] == (20, 140, 60)).all()
    meta = read_metadata(path)
    assert meta.request.mode == "inpaint" and meta.request.images.inpaint_area == "masked"
    assert "Inpaint area: Only masked" in meta.parameters
    assert (tmp_path / "p" / meta.data["lineage"]["mask_stored"]).is_file()


def test_outpaint_to_an_aspect_ratio(tiny_sd_path, tmp_path, picture, capsys):
    photo, _mask = picture
    assert main(_base(tiny_sd_path, tmp_path / "p") + ["--init-image", str(photo), "--outpaint-aspect", "16:9"]) == 0
    with Image.open(_saved(capsys)) as made:
        assert made.size == (112, 64)  # 80x64 grown evenly left and right to 16:9 in multiples of 8
        assert np.array_equal(np.asarray(made.convert("RGB"))[:, 16:96], np.asarray(Image.open(photo)))


def test_hires_fix_from_the_command_line(tiny_sd_path, tmp_path, capsys):
    assert main(_base(tiny_sd_path, tmp_path / "p") + ["--hires-scale", "1.5", "--hires-upscaler", "lanczos"]) == 0
    path = _saved(capsys)
    assert Image.open(path).size == (96, 96)
    assert "Hires upscale: 1.5" in read_metadata(path).parameters


@pytest.mark.parametrize("extra, message", [
    (["--outpaint", "1,2,3"], "four whole numbers"),
    (["--outpaint-aspect", "wide"], "aspect ratio such as 16:9"),
    (["--mask", "MASK"], "Image-to-image needs an init image|Inpainting needs an init image"),
    (["--init-image", "PHOTO", "--mask", "EMPTY"], "The mask is empty"),
    (["--init-image", "PHOTO", "--outpaint", "0,0,0,0"], "Outpainting adds nothing"),
    (["--hires-scale", "1"], "Hires fix would not change the size"),
    (["--hires-scale", "2", "--hires-upscaler", "/no/such.safetensors"], "such.safetensors"),
])
def test_bad_edit_options_are_one_line_errors(tiny_sd_path, tmp_path, picture, capsys, extra, message):
    photo, mask = picture
    Image.new("L", (80, 64), 0).save(tmp_path / "empty.png")
    names = {"PHOTO": str(photo), "MASK": str(mask), "EMPTY": str(tmp_path / "empty.png")}
    try:
        code = main(_base(tiny_sd_path, tmp_path / "p") + [names.get(a, a) for a in extra])
    except SystemExit as exc:  # argparse refuses a malformed value itself
        code = exc.code
    err = capsys.readouterr().err
    assert code == 2 and re.search(message, err), err
    assert len(err.strip().splitlines()) <= 3  # usage line(s) + the one error line
