"""Inpainting, outpainting and hires fix on the tiny SD and SDXL pipelines (and a tiny 9-channel
inpainting model): the masked area changes, everything outside the mask and its feather is the
source's exactly, sizes are what the user asked for, and bad input is refused before any work."""

from __future__ import annotations

import numpy as np
import pytest
import tiny_models
from PIL import Image, ImageDraw
from request_builder import gen_request, with_

from t2i_studio.core import masks
from t2i_studio.core.engine import CancelToken, Progress
from t2i_studio.core.requests import ALPHA_MASK, Hires
from t2i_studio.engines.registry import local_registry
from t2i_studio.engines.text2image import Text2ImageEngine

pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="session")
def tiny_inpaint_path(tmp_path_factory):
    return tiny_models.build_sd(tmp_path_factory.mktemp("tiny-inpaint"), inpainting=True)


@pytest.fixture
def picture(tmp_path):
    """A 96x80 picture with a shape, and a mask (white square) over its middle."""
    image = Image.new("RGB", (96, 80), (30, 90, 160))
    ImageDraw.Draw(image).ellipse((10, 10, 70, 60), fill=(230, 200, 40))
    image.save(tmp_path / "source.png")
    mask = Image.new("L", image.size, 0)
    ImageDraw.Draw(mask).rectangle((40, 24, 63, 47), fill=255)
    mask.save(tmp_path / "mask.png")
    return tmp_path / "source.png", tmp_path / "mask.png"


def _request(model, source, mask=None, **fields):
    base = gen_request("a cat", model=str(model), width=64, height=64, steps=3, seed=5, scheduler="Euler",
                       dtype="fp32", init_image=str(source), mode="inpaint" if mask else "outpaint",
                       mask=str(mask) if mask else None, strength=1.0)
    return with_(base, **fields)


def _run(engine, request, progress=None):
    local_registry().check(request)
    return engine.run(request, progress or (lambda p: None), CancelToken())


def _px(image):
    return np.asarray(image.convert("RGB")).astype(np.int16)


def _outside_feather(mask_path, blur):
    return np.asarray(masks.feather(Image.open(mask_path).convert("L"), blur)) == 0


@pytest.mark.parametrize("family", ["sd", "sdxl"])
@pytest.mark.parametrize("area", ["whole", "masked"])
def test_inpainting_changes_the_masked_area_and_keeps_the_rest_exactly(engines, family, area, picture,
                                                                      tiny_sd_path, tiny_sdxl_path):
    source, mask = picture
    model = tiny_sd_path if family == "sd" else tiny_sdxl_path
    engine = engines.setdefault(family, Text2ImageEngine())
    request = _request(model, source, mask, inpaint_area=area, padding=8, mask_blur=4)
    result = _run(engine, request)
    made, before = _px(result.images[0]), _px(Image.open(source))
    assert result.images[0].size == (96, 80)  # the source's size, though the model works at 64x64
    keep = _outside_feather(mask, 4)
    assert np.array_equal(made[keep], before[keep])
    inside = np.asarray(Image.open(mask).convert("L")) == 255
    assert np.abs(made[inside] - before[inside]).mean() > 5
    assert result.fingerprint["pipeline"].endswith("InpaintPipeline")
    assert result.lineage["mask_image"] == str(mask)


def test_a_dedicated_inpainting_model_runs_its_nine_channel_unet(engines, picture, tiny_inpaint_path):
    source, mask = picture
    engine = engines.setdefault("inpaint", Text2ImageEngine())
    result = _run(engine, _request(tiny_inpaint_path, source, mask))
    assert engine.pipe.unet.config.in_channels == 9
    keep = _outside_feather(mask, 4)
    assert np.array_equal(_px(result.images[0])[keep], _px(Image.open(source))[keep])


def test_an_inpainting_model_is_refused_for_text_to_image(tiny_inpaint_path):
    with pytest.raises(ValueError, match="is an inpainting model"):
        local_registry().check(gen_request("a cat", model=str(tiny_inpaint_path), width=64, height=64))


def test_a_mask_from_the_images_alpha_channel(engines, tmp_path, tiny_sd_path):
    image = Image.new("RGBA", (64, 64), (200, 40, 40, 255))
    ImageDraw.Draw(image).rectangle((16, 16, 47, 47), fill=(0, 0, 0, 0))  # erased: to be repainted
    image.save(tmp_path / "cut.png")
    engine = engines.setdefault("sd", Text2ImageEngine())
    result = _run(engine, _request(tiny_sd_path, tmp_path / "cut.png", ALPHA_MASK, mask_blur=0))
    made = _px(result.images[0])
    assert (made[:10, :10] == (200, 40, 40)).all()
    assert np.abs(made[24:40, 24:40] - (0, 0, 0)).mean() > 5


def test_outpainting_grows_the_canvas_and_keeps_the_original_exactly(engines, picture, tiny_sd_path):
    source, _mask = picture
    engine = engines.setdefault("sd", Text2ImageEngine())
    result = _run(engine, _request(tiny_sd_path, source, outpaint=(16, 0, 8, 24)))
    made = _px(result.images[0])
    assert result.images[0].size == (96 + 16, 80 + 8 + 24)
    assert np.array_equal(made[8:88, 16:112], _px(Image.open(source)))


def test_hires_fix_makes_the_target_size_with_a_second_pass(engines, tiny_sd_path):
    engine = engines.setdefault("sd", Text2ImageEngine())
    base = gen_request("a cat", model=str(tiny_sd_path), width=64, height=64, steps=4, seed=3,
                       scheduler="Euler", dtype="fp32")
    for upscaler in ("latent", "lanczos"):
        seen: list[Progress] = []
        request = with_(base, hires=Hires(scale=1.5, upscaler=upscaler, steps=4, strength=0.5))
        result = _run(engine, request, seen.append)
        assert result.images[0].size == (96, 96)
        assert seen[-1].step == seen[-1].total == 4 + 2  # both passes counted on one bar
        assert any("Hires fix: 64×64 → 96×96" in p.message for p in seen), {p.message for p in seen}
    plain = _run(engine, base).images[0].resize((96, 96))
    assert np.abs(_px(result.images[0]) - _px(plain)).mean() > 1  # the second pass changed the picture


@pytest.mark.parametrize("mask_name, message", [
    ("empty.png", "The mask is empty"),
    ("small.png", "The mask is 32×32 but the image is 96×80"),
    ("missing.png", "missing.png"),
    (ALPHA_MASK, "has no transparent pixels"),
])
def test_bad_masks_are_refused_at_submission_with_one_line(picture, tmp_path, tiny_sd_path, mask_name, message):
    source, mask = picture
    Image.new("L", (96, 80), 0).save(tmp_path / "empty.png")
    Image.new("L", (32, 32), 255).save(tmp_path / "small.png")
    value = mask_name if mask_name == ALPHA_MASK else str(tmp_path / mask_name)
    with pytest.raises(ValueError, match=message):
        local_registry().check(_request(tiny_sd_path, source, value))


def test_an_outpaint_past_the_size_limit_says_how_big_it_would_be(picture, tiny_sd_path):
    source, _mask = picture
    with pytest.raises(ValueError, match=r"would make a 4097×80 picture"):
        local_registry().check(_request(tiny_sd_path, source, outpaint=(4001, 0, 0, 0)))


def test_sd_upscale_refines_every_tile_of_the_enlarged_picture(engines, picture, tiny_sd_path):
    from t2i_studio.core.engine import Cancelled
    from t2i_studio.core.requests import Upscale

    source, _mask = picture
    engine = engines.setdefault("sd", Text2ImageEngine())
    request = gen_request("a cat", model=str(tiny_sd_path), width=64, height=64, steps=4, seed=5,
                          scheduler="Euler", dtype="fp32", init_image=str(source), mode="sd_upscale",
                          strength=0.5, upscale=Upscale(scale=1.5, overlap=16))
    seen: list[Progress] = []
    result = _run(engine, request, seen.append)
    assert result.images[0].size == (144, 120)
    tiles = {p.message for p in seen if p.message.startswith("SD upscale: tile")}
    assert len(tiles) == 9  # 3 x 3 tiles of 64 px, overlapping by at least 16
    assert seen[-1].step == seen[-1].total == 9 * 2
    lanczos = _px(Image.open(source).resize((144, 120), Image.Resampling.LANCZOS))
    assert np.abs(_px(result.images[0]) - lanczos).mean() > 1  # the tiles were redrawn, not just enlarged

    cancel = CancelToken()

    def stop_in_the_third_tile(progress):
        if "tile 3/" in progress.message:
            cancel.cancel()

    with pytest.raises(Cancelled):
        engine.run(request, stop_in_the_third_tile, cancel)
