"""Print sizes: pixels for a paper at a dpi (aspect kept, fitted, turned to the picture), how a size
prints, and what an upscale to it involves (tiles, model runs, memory)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from t2i_studio.core.print_sizes import (
    PAPERS, UNITS, estimate_upscale_bytes, model_passes, parse_paper, print_size_text, print_target, tile_spans,
)


@pytest.mark.parametrize("image, paper, dpi, pixels", [
    ((1000, 1414), "A4", 300, (2480, 3507)),  # portrait, as the paper: the width fills it
    ((1414, 1000), "A4", 300, (3507, 2480)),  # landscape: the paper turns
    ((1024, 1024), "a4", 300, (2480, 2480)),  # square: as wide as the paper
    ((850, 1100), "Letter", 300, (2550, 3300)),  # inches
    ((512, 512), "A3", 150, (1754, 1754)),
    ((600, 400), (20, 30, "cm"), 100, (1180, 787)),  # a size of one's own: the height fills it
])
def test_a_paper_at_a_dpi_gives_the_pixels_that_fill_it(image, paper, dpi, pixels):
    assert print_target(image, paper, dpi) == pixels


def test_the_papers_and_units_offered():
    assert list(PAPERS) == ["A5", "A4", "A3", "Letter", "Legal", "Tabloid"] and UNITS == ("mm", "cm", "in")
    assert PAPERS["A4"] == (210, 297, "mm") and PAPERS["Tabloid"] == (11, 17, "in")


@given(st.integers(16, 5000), st.integers(16, 5000), st.sampled_from(list(PAPERS)), st.integers(72, 1200))
def test_the_target_keeps_the_aspect_and_fits_the_paper(width, height, paper, dpi):
    tw, th = print_target((width, height), paper, dpi)
    pw, ph, unit = PAPERS[paper]
    per_inch = {"mm": 25.4, "in": 1.0}[unit]
    long_box, short_box = round(max(pw, ph) / per_inch * dpi), round(min(pw, ph) / per_inch * dpi)
    if width > height:
        assert tw <= long_box and th <= short_box and (tw == long_box or th == short_box)
    else:
        assert tw <= short_box and th <= long_box and (tw == short_box or th == long_box)
    assert abs(tw / th - width / height) <= max(1 / th, 1 / tw) * (width / height + 1)


@pytest.mark.parametrize("pixels, dpi, unit, text", [
    ((2480, 3508), 300, "cm", "21.0 × 29.7 cm at 300 dpi"),
    ((2480, 3508), 300, "mm", "210 × 297 mm at 300 dpi"),
    ((2550, 3300), 300, "in", "8.50 × 11.00 in at 300 dpi"),
])
def test_how_a_size_prints(pixels, dpi, unit, text):
    assert print_size_text(pixels, dpi, unit) == text


@pytest.mark.parametrize("text, paper", [
    ("A4", "A4"), (" letter ", "letter"), ("20x30cm", (20.0, 30.0, "cm")), ("8 x 10 in", (8.0, 10.0, "in")),
    ("210×297mm", (210.0, 297.0, "mm")),
])
def test_papers_as_typed(text, paper):
    assert parse_paper(text) == paper


@pytest.mark.parametrize("call, message", [
    (lambda: parse_paper("B5"), "Unknown paper size 'B5': choose A5, A4, A3, Letter, Legal, Tabloid"),
    (lambda: print_target((100, 100), (0, 10, "cm"), 300), "more than 0"),
    (lambda: print_target((100, 100), (10, 10, "pt"), 300), "unit must be one of mm, cm, in"),
    (lambda: print_target((100, 100), "A4", 0), "DPI must be a whole number from 1 to 4800"),
])
def test_bad_papers_and_dpis_say_what_is_allowed(call, message):
    with pytest.raises(ValueError, match=message):
        call()


@given(st.integers(1, 20000), st.integers(64, 1024), st.integers(0, 64))
def test_tiles_cover_the_side_overlapping_as_asked(length, tile, overlap):
    overlap = min(overlap, tile // 4)
    spans = tile_spans(length, tile, overlap)
    assert spans[0][0] == 0 and spans[-1][1] == length
    assert all(end - start <= max(tile, length if len(spans) == 1 else 0) for start, end in spans)
    assert all(a[1] - b[0] >= overlap - 1 for a, b in zip(spans, spans[1:]))  # rounding: one pixel
    assert len({end - start for start, end in spans}) == 1


def test_a_model_runs_again_only_where_lanczos_would_stretch_too_far():
    assert model_passes((100, 100), (400, 400), 4) == [(100, 100)]
    assert model_passes((100, 100), (200, 200), 4) == [(100, 100)]  # 4x, then reduced
    assert model_passes((100, 100), (480, 480), 4) == [(100, 100)]  # 4x, then Lanczos 1.2x
    assert model_passes((100, 100), (800, 800), 4) == [(100, 100), (200, 200)]  # 4x, halved, 4x
    assert model_passes((100, 100), (1600, 1600), 2) == [(100, 100), (200, 200), (400, 400), (800, 800)]


def test_tiles_bound_the_memory_of_a_model_upscale():
    whole = estimate_upscale_bytes((1024, 1024), (4096, 4096), model=True, tile=0)
    tiled = estimate_upscale_bytes((1024, 1024), (4096, 4096), model=True, tile=512)
    lanczos = estimate_upscale_bytes((1024, 1024), (4096, 4096), model=False, tile=512)
    assert lanczos < tiled < whole / 4
    assert 4096 * 4096 * 4 < lanczos < 4096 * 4096 * 16
