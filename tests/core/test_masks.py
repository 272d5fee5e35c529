"""Masks and canvases for inpainting and outpainting: what a user would notice, pixel for pixel."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image, ImageDraw

from t2i_studio.core.masks import (
    MaskError, check_not_empty, composite, crop_region, feather, fill_masked, load_mask, outpaint_canvas,
    overlay_mask, round_to, scaled_mask, sides_for_aspect,
)
from t2i_studio.core.requests import ALPHA_MASK


def _random(size, seed=0):
    width, height = size
    return Image.fromarray(np.random.default_rng(seed).integers(0, 256, (height, width, 3), dtype=np.uint8))


def _rect_mask(size, box):
    mask = Image.new("L", size, 0)
    ImageDraw.Draw(mask).rectangle((box[0], box[1], box[2] - 1, box[3] - 1), fill=255)
    return mask


def _save(tmp_path, image, name="mask.png"):
    path = tmp_path / name
    image.save(path)
    return str(path)


def _values(image):
    return set(np.unique(np.asarray(image)).tolist())


# --- loading ---------------------------------------------------------------------------------------

def test_a_grey_mask_file_is_rounded_to_regenerate_or_keep(tmp_path):
    mask = Image.new("L", (8, 4), 0)
    mask.paste(100, (0, 0, 4, 4))  # darker than half: kept
    mask.paste(200, (4, 0, 8, 4))  # lighter than half: regenerated
    loaded = load_mask(_save(tmp_path, mask.convert("RGB")), "unused.png")
    assert loaded.mode == "L" and loaded.size == (8, 4)
    assert np.asarray(loaded)[:, :4].max() == 0 and np.asarray(loaded)[:, 4:].min() == 255


def test_an_rgba_mask_counts_as_laid_over_black(tmp_path):
    pixels = [(255, 255, 255, 255), (255, 255, 255, 0), (0, 0, 0, 255), (255, 255, 255, 100),
              (255, 255, 255, 200)]
    mask = Image.new("RGBA", (len(pixels), 1))
    for x, pixel in enumerate(pixels):
        mask.putpixel((x, 0), pixel)
    loaded = load_mask(_save(tmp_path, mask), "unused.png")
    # opaque white, transparent white, opaque black, white at 100/255 (dark), white at 200/255
    assert np.asarray(loaded)[0].tolist() == [255, 0, 0, 0, 255]


def test_a_16_bit_mask_is_scaled_not_clipped(tmp_path):
    values = np.array([[0, 20000, 40000, 65535]], dtype=np.uint16)
    loaded = load_mask(_save(tmp_path, Image.fromarray(values)), "unused.png")
    assert np.asarray(loaded)[0].tolist() == [0, 0, 255, 255]


def test_alpha_mask_is_the_init_images_transparent_pixels(tmp_path):
    init = Image.new("RGBA", (32, 16), (10, 20, 30, 255))
    init.paste((0, 0, 0, 0), (4, 2, 12, 10))
    mask = load_mask(ALPHA_MASK, _save(tmp_path, init, "init.png"), size=(32, 16))
    assert mask.getbbox() == (4, 2, 12, 10) and _values(mask) == {0, 255}


def test_alpha_mask_from_a_palette_image_with_a_transparent_index(tmp_path):
    init = Image.new("P", (8, 8), 1)
    init.putpalette([0, 0, 0, 200, 100, 50] + [0] * 762)
    init.paste(0, (0, 0, 2, 8))
    init.info["transparency"] = 0
    mask = load_mask(ALPHA_MASK, _save(tmp_path, init, "init.png"))
    assert mask.getbbox() == (0, 0, 2, 8)


@pytest.mark.parametrize("init", [Image.new("RGB", (8, 8), "red"), Image.new("RGBA", (8, 8), (9, 9, 9, 255))])
def test_alpha_mask_of_an_image_without_transparency_says_so(tmp_path, init):
    path = _save(tmp_path, init, "opaque.png")
    with pytest.raises(MaskError, match=r"^opaque.png has no transparent pixels to use as a mask: erase"):
        load_mask(ALPHA_MASK, path)


def test_unreadable_masks_are_named(tmp_path):
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"not a picture at all")
    with pytest.raises(MaskError, match=r"^The mask broken.png cannot be read: .*Choose another mask"):
        load_mask(str(broken), "unused.png")
    with pytest.raises(MaskError, match=r"^The mask gone.png cannot be read: .*does not exist"):
        load_mask(str(tmp_path / "gone.png"), "unused.png")
    with pytest.raises(MaskError, match=r"^The image gone.png cannot be read"):
        load_mask(ALPHA_MASK, str(tmp_path / "gone.png"))


def test_a_mask_of_another_size_is_refused_then_scaled_on_request(tmp_path):
    path = _save(tmp_path, _rect_mask((512, 512), (128, 128, 384, 384)))
    with pytest.raises(MaskError) as err:
        load_mask(path, "unused.png", size=(768, 512))
    assert str(err.value) == ("The mask is 512×512 but the image is 768×512: scale the mask to the image, "
                              "or choose another mask.")
    scaled = scaled_mask(path, "unused.png", (768, 512))
    assert scaled.mode == "L" and scaled.size == (768, 512) and _values(scaled) == {0, 255}
    assert scaled.getbbox() == (192, 128, 576, 384)
    assert load_mask(path, "unused.png", size=(512, 512)).size == (512, 512)


def test_an_empty_mask_is_refused():
    with pytest.raises(MaskError) as err:
        check_not_empty(Image.new("L", (16, 16), 0))
    assert str(err.value) == "The mask is empty: paint over the area to regenerate."
    check_not_empty(_rect_mask((16, 16), (3, 3, 4, 4)))


# --- feather and crop ------------------------------------------------------------------------------

def test_feather_softens_the_edge_and_stops_short():
    mask = _rect_mask((96, 96), (24, 24, 72, 72))
    assert feather(mask, 0) is mask
    soft = np.asarray(feather(mask, 4))
    assert soft[48, 48] == 255 and 0 < soft[48, 22] < 255 and 0 < soft[48, 25] < 255
    assert soft[48, 5] == 0 and soft[5, 5] == 0
    overlay = np.asarray(overlay_mask(Image.fromarray(soft)))
    # the painted area is new right up to its edges (its corners are rounded, as in A1111) ...
    assert overlay[48, 24:72].min() == 255 and overlay[24:72, 48].min() == 255 and overlay[24, 24] < 255
    assert (overlay[soft == 0] == 0).all()  # ... and nothing the feather did not reach


@pytest.mark.parametrize("box, padding, target, expected", [
    ((400, 300, 480, 340), 32, (512, 512), (368, 248, 512, 392)),  # padded, grown to a square
    ((0, 10, 40, 30), 32, (512, 512), (0, 0, 72, 72)),  # at the top-left: shifted in, not cut
    ((1000, 700, 1024, 768), 32, (768, 512), (874, 668, 1024, 768)),  # bottom-right, 3:2
    ((500, 0, 520, 768), 0, (512, 512), (126, 0, 894, 768)),  # a tall stroke: wider, full height
    ((0, 380, 1024, 388), 0, (256, 512), (0, 0, 1024, 768)),  # can't reach 1:2: cut to the image
])
def test_crop_region_on_an_image_larger_than_the_model(box, padding, target, expected):
    assert crop_region(_rect_mask((1024, 768), box), padding, target, (1024, 768)) == expected


def test_crop_region_of_an_empty_mask_is_the_empty_mask_error():
    with pytest.raises(MaskError, match="The mask is empty"):
        crop_region(Image.new("L", (64, 64)), 8, (64, 64), (64, 64))


# --- composite and fill ----------------------------------------------------------------------------

def test_composite_only_masked_keeps_every_untouched_pixel_exactly():
    original = _random((256, 192), seed=1)
    feathered = feather(_rect_mask((256, 192), (100, 60, 140, 100)), 4)
    box = crop_region(feathered, 16, (64, 64), original.size)
    left, top, right, bottom = box
    assert right - left < 256 and bottom - top < 192 and right - left == bottom - top
    generated = _random((64, 64), seed=2)
    result = np.asarray(composite(original, generated, feathered, box))
    weight = np.asarray(feathered)
    assert (weight[top:bottom, left:right] == 0).any()  # the box holds pixels the feather never reached
    assert np.array_equal(result[weight == 0], np.asarray(original)[weight == 0])
    placed = np.zeros_like(result)
    placed[top:bottom, left:right] = np.asarray(generated.resize((right - left, bottom - top),
                                                                 Image.Resampling.LANCZOS))
    assert np.array_equal(result[weight == 255], placed[weight == 255])


def test_composite_whole_picture_resizes_the_generated_image():
    original = _random((96, 64), seed=3)
    mask = _rect_mask((96, 64), (0, 0, 48, 64))
    result = np.asarray(composite(original, Image.new("RGB", (48, 32), (1, 2, 3)), mask))
    assert (result[:, :48] == (1, 2, 3)).all()
    assert np.array_equal(result[:, 48:], np.asarray(original)[:, 48:])


def test_fill_replaces_the_masked_content_with_the_colours_around_it():
    image = Image.new("RGB", (64, 64), (200, 0, 0))
    image.paste((0, 0, 200), (32, 0, 64, 64))
    image.paste((0, 255, 0), (24, 0, 40, 64))  # the old content to get rid of
    filled = np.asarray(fill_masked(image, _rect_mask((64, 64), (24, 0, 40, 64)))).astype(int)
    assert filled[:, 24:40, 1].max() < 10  # no trace of the green
    assert (filled[:, 25, 0] > filled[:, 25, 2]).all() and (filled[:, 38, 2] > filled[:, 38, 0]).all()
    assert np.array_equal(filled[:, :24], np.asarray(image)[:, :24])
    assert np.array_equal(filled[:, 40:], np.asarray(image)[:, 40:])
    everything = np.asarray(fill_masked(image, Image.new("L", (64, 64), 255)))
    assert (np.abs(everything.astype(int) - 128) <= 1).all()  # nothing to spread: neutral grey


# --- outpainting -----------------------------------------------------------------------------------

def test_outpaint_canvas_grows_the_picture_and_keeps_the_original_exactly():
    image = _random((40, 30), seed=4)
    canvas, mask = outpaint_canvas(image, (16, 8, 0, 24), "edge", seed=1, seam=8)
    assert canvas.size == mask.size == (64, 54) and mask.mode == "L"
    inside = (16, 0, 56, 30)
    assert np.array_equal(np.asarray(canvas.crop(inside)), np.asarray(image))
    weight = np.asarray(mask)
    assert weight[0:30, 16:56].max() == 0
    assert weight[10, 0] == 255 and weight[53, 30] == 255 and weight[10, 63] == 255
    left_seam = weight[10, 7:16][::-1]  # 1..9 pixels out from the original: rising, never 0
    assert left_seam[0] > 0 and (np.diff(left_seam.astype(int)) > 0).all() and left_seam[-1] == 255
    assert weight[10, 56] > 0 and weight[10, 60] == 255  # an 8-pixel band ramps over half of it
    generated = _random((64, 54), seed=5)
    result = composite(canvas, generated, mask)
    assert np.array_equal(np.asarray(result.crop(inside)), np.asarray(image))
    assert np.array_equal(np.asarray(result)[weight == 255], np.asarray(generated)[weight == 255])


def test_edge_fill_continues_the_colours_next_to_it():
    image = Image.new("RGB", (32, 32), (220, 20, 20))
    image.paste((20, 20, 220), (16, 0, 32, 32))
    canvas = np.asarray(outpaint_canvas(image, (24, 24, 0, 0), "edge", seed=0)[0]).astype(int)
    assert (canvas[:, :24, 0] > canvas[:, :24, 2] + 100).all()
    assert (canvas[:, 56:, 2] > canvas[:, 56:, 0] + 100).all()


def test_noise_fill_is_seeded_and_tinted_with_the_pictures_colour():
    image = Image.new("RGB", (32, 32), (180, 90, 30))
    first, mask = outpaint_canvas(image, (0, 0, 0, 64), "noise", seed=7)
    again, _ = outpaint_canvas(image, (0, 0, 0, 64), "noise", seed=7)
    other, _ = outpaint_canvas(image, (0, 0, 0, 64), "noise", seed=8)
    assert np.array_equal(np.asarray(first), np.asarray(again))
    new = np.asarray(mask) == 255
    assert not np.array_equal(np.asarray(first)[new], np.asarray(other)[new])
    assert np.asarray(first)[new].std(axis=0).min() > 8  # noise, not a flat colour
    assert np.allclose(np.asarray(first)[new].mean(axis=0), (180, 90, 30), atol=6)


def test_outpaint_errors_say_what_to_change():
    image = Image.new("RGB", (4000, 10))
    with pytest.raises(MaskError, match="^Outpainting adds nothing: give pixels to add"):
        outpaint_canvas(image, (0, 0, 0, 0), "edge", seed=0)
    assert outpaint_canvas(image, (64, 32, 0, 0), "edge", seed=0)[0].size == (4096, 10)  # the limit itself
    with pytest.raises(MaskError) as err:
        outpaint_canvas(image, (64, 33, 0, 0), "edge", seed=0)
    assert str(err.value) == ("Outpainting would make the picture 4097×10 pixels, more than 4096 on a side: "
                              "add fewer pixels, or start from a smaller image.")
    with pytest.raises(MaskError, match="each side must be 0 or more"):
        outpaint_canvas(image, (-8, 0, 0, 0), "edge", seed=0)
    with pytest.raises(MaskError, match="Outpaint fill must be one of edge, noise"):
        outpaint_canvas(image, (8, 0, 0, 0), "mirror", seed=0)


@pytest.mark.parametrize("size, ratio, sides, result", [
    ((512, 512), (16, 9), (200, 200, 0, 0), (912, 512)),
    ((768, 512), (16, 9), (72, 72, 0, 0), (912, 512)),
    ((512, 512), (2, 3), (0, 0, 128, 128), (512, 768)),
    ((500, 333), (1, 1), (2, 2, 85, 86), (504, 504)),  # both sides end as multiples of 8
    ((512, 512), (1, 1), (0, 0, 0, 0), (512, 512)),  # already there
])
def test_sides_for_aspect(size, ratio, sides, result):
    assert sides_for_aspect(size, ratio) == sides
    left, right, top, bottom = sides
    assert (size[0] + left + right, size[1] + top + bottom) == result


def test_sides_for_aspect_needs_a_ratio_and_round_to_rounds():
    with pytest.raises(MaskError, match="An aspect ratio needs two positive numbers"):
        sides_for_aspect((512, 512), (0, 9))
    assert round_to((513, 700)) == (512, 704) and round_to((3, 3)) == (8, 8)
    assert round_to((90, 70), 64) == (64, 64)
