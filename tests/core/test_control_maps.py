"""ControlNet control maps from a drawn test picture: canny finds its edges, line art its lines (thin
when asked), scribble makes bold strokes, "none" keeps the picture; bad options are one-line errors."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image, ImageDraw

from t2i_studio.cli import main
from t2i_studio.core.control_maps import MapOptions, control_map


@pytest.fixture
def drawing():
    """Black lines 5 px wide on white paper: a square outline and a diagonal."""
    image = Image.new("RGB", (96, 96), "white")
    draw = ImageDraw.Draw(image)
    draw.rectangle((20, 20, 75, 75), outline="black", width=5)
    draw.line((0, 95, 95, 0), fill="black", width=5)
    return image


def _white(image):
    return np.asarray(image.convert("L")) > 127


def test_canny_marks_the_edges_of_shapes_and_nothing_on_flat_paper(drawing):
    edges = _white(control_map(drawing, "canny"))
    assert control_map(drawing, "canny").mode == "RGB" and control_map(drawing, "canny").size == (96, 96)
    assert edges[19:22, 30:60].any() and edges[46:50, 5:12].sum() == 0  # the square's top edge; flat paper
    assert not _white(control_map(Image.new("RGB", (64, 64), "white"), "canny")).any()
    high = _white(control_map(drawing, "canny", MapOptions(low=254, high=255)))
    assert high.sum() <= edges.sum()  # stricter thresholds keep fewer edges


def test_line_art_is_white_lines_on_black_whichever_way_the_drawing_is(drawing):
    lines = _white(control_map(drawing, "lineart"))
    assert lines[22, 40] and not lines[48, 40]  # on the square's top line; inside the square
    inverted = Image.eval(drawing, lambda v: 255 - v)  # chalk on a blackboard
    assert np.array_equal(_white(control_map(inverted, "lineart")), lines)
    thin = _white(control_map(drawing, "lineart", MapOptions(thin=True)))
    assert 0 < thin.sum() < lines.sum() / 2 and thin[20:26, 40].sum() <= 2  # about one pixel across


def test_scribble_makes_bolder_strokes_than_the_drawing(drawing):
    lines = _white(control_map(drawing, "lineart"))
    bold = _white(control_map(drawing, "scribble", MapOptions(stroke=9)))
    assert bold.sum() > lines.sum() and (bold | ~lines).all()  # every line pixel stays, and more


def test_none_keeps_the_picture():
    picture = Image.new("RGB", (32, 16), (10, 200, 30))
    assert np.array_equal(np.asarray(control_map(picture, "none")), np.asarray(picture))


@pytest.mark.parametrize("preprocessor, options, message", [
    ("depth", MapOptions(), "Preprocessor must be one of canny, lineart, scribble, none"),
    ("canny", MapOptions(low=200, high=100), "low threshold \\(200\\) must not be above the high one"),
    ("canny", MapOptions(high=300), "Canny high threshold must be a whole number from 0 to 255"),
    ("scribble", MapOptions(stroke=0), "stroke width must be from 1 to 64"),
])
def test_bad_options_say_what_to_change(drawing, preprocessor, options, message):
    with pytest.raises(ValueError, match=message):
        control_map(drawing, preprocessor, options)


def test_the_cli_writes_the_map_for_a_look_before_generating(drawing, tmp_path, capsys):
    drawing.save(tmp_path / "sketch.png")
    out = tmp_path / "maps" / "sketch-canny.png"
    assert main(["control-map", str(tmp_path / "sketch.png"), "--preprocessor", "canny", "--out", str(out)]) == 0
    assert capsys.readouterr().out.strip() == str(out)
    assert _white(Image.open(out)).any()
    assert main(["control-map", str(tmp_path / "sketch.png"), "--out", str(out)]) == 2  # no silent overwrite
    assert "already exists" in capsys.readouterr().err
