"""Masks and canvases for inpainting and outpainting, made as AUTOMATIC1111 makes them.

A mask is an "L" image the size of the picture: 255 regenerate, 0 keep. ``load_mask`` reads one
(a file, or the init image's transparency) and rounds it to 0/255 as A1111 does; ``feather`` is
the mask blur; ``crop_region`` the "only masked" working box; ``composite`` puts the generated
pixels back so that every pixel the feathered mask leaves at 0 is exactly the original's.
``fill_masked`` is the "fill" masked content, ``outpaint_canvas`` the larger canvas and its mask.
Pure Pillow + numpy. Every problem the user can fix is a ``MaskError``.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
from PIL import Image, ImageFilter

from t2i_studio.core.image_io import load_image
from t2i_studio.core.project_errors import ImageReadError
from t2i_studio.core.requests import ALPHA_MASK, MAX_SIDE, OUTPAINT_FILLS

Box = tuple[int, int, int, int]  # left, top, right, bottom (right and bottom exclusive, as Pillow's)
_THRESHOLD = 128  # A1111's create_binary_mask: a pixel above this is masked
# A1111's "fill": the unmasked colours blurred at falling radii (sigma, repeats), each layer laid
# over the last, repeats weighing it more, so the nearest colours win near the mask's edge.
_FILL_LAYERS = ((256, 1), (64, 1), (16, 2), (4, 4), (2, 2))


class MaskError(ValueError):
    """A mask or canvas that cannot be used; the message says what is wrong and what to do."""


def _dims(size: tuple[int, int]) -> str:
    return f"{size[0]}×{size[1]}"


def _binary(values: np.ndarray) -> Image.Image:
    return Image.fromarray(np.where(values > _THRESHOLD, 255, 0).astype(np.uint8))


def _read(path: str, what: str, todo: str) -> Image.Image:
    try:
        return load_image(path)
    except ImageReadError as exc:
        raise MaskError(f"{what} {Path(path).name} cannot be read: {exc} {todo}") from None


def _mask_values(image: Image.Image) -> np.ndarray:
    """A mask file's values, 0..255. The rule for transparency: the mask counts as laid over black,
    so fully transparent pixels are unmasked, opaque ones count by their luminance, and pixels in
    between by luminance times opacity (white strokes on a transparent layer mask what they cover)."""
    if image.mode.startswith("I"):  # 16-bit greyscale: convert("L") would clip it, not scale it
        values = np.asarray(image, dtype=np.float64)
        return values / 257 if image.mode != "I" or values.max() > 255 else values
    if "A" in image.getbands() or "transparency" in image.info:
        rgba = image.convert("RGBA")
        luminance = np.asarray(rgba.convert("L"), dtype=np.float64)  # RGB only: alpha is ignored
        return luminance * np.asarray(rgba.getchannel("A"), dtype=np.float64) / 255
    return np.asarray(image.convert("L"), dtype=np.float64)


def _alpha_mask(init_path: str) -> Image.Image:
    image = _read(init_path, "The image", "Choose another image, or paint a mask.")
    mask = _binary(255.0 - np.asarray(image.convert("RGBA").getchannel("A"), dtype=np.float64))
    if mask.getbbox() is None:  # no alpha, or none below half opacity
        raise MaskError(f"{Path(init_path).name} has no transparent pixels to use as a mask: erase the "
                        "area to regenerate in an image editor, or paint a mask.")
    return mask


def load_mask(mask: str, init_path: str, size: tuple[int, int] | None = None) -> Image.Image:
    """The mask as a 0/255 "L" image: a file (white regenerates; see ``_mask_values`` for files with
    transparency), or ``ALPHA_MASK``: the init image's transparent pixels (alpha below half).
    ``size``, when given, is the picture's size, which the mask must have."""
    if mask == ALPHA_MASK:
        result = _alpha_mask(init_path)
    else:
        result = _binary(_mask_values(_read(mask, "The mask", "Choose another mask, or paint one.")))
    if size is not None and result.size != tuple(size):
        raise MaskError(f"The mask is {_dims(result.size)} but the image is {_dims(size)}: scale the mask "
                        "to the image, or choose another mask.")
    return result


def scaled_mask(mask: str, init_path: str, size: tuple[int, int]) -> Image.Image:
    """``load_mask`` stretched to ``size``: bilinear, then rounded to 0/255 again, so the edge keeps
    its shape (nearest would turn an upscaled edge into stairs) and the mask stays binary."""
    loaded = load_mask(mask, init_path)
    if loaded.size == tuple(size):
        return loaded
    return _binary(np.asarray(loaded.resize(tuple(size), Image.Resampling.BILINEAR)))


def check_not_empty(mask: Image.Image) -> None:
    if mask.getbbox() is None:
        raise MaskError("The mask is empty: paint over the area to regenerate.")


def feather(mask: Image.Image, blur: int) -> Image.Image:
    """A1111's mask blur: a Gaussian of ``blur`` pixels (its sigma) over the mask's edge."""
    return mask.filter(ImageFilter.GaussianBlur(blur)) if blur else mask


def overlay_mask(feathered: Image.Image) -> Image.Image:
    """The mask A1111 pastes a whole-picture inpaint back through: the feathered mask doubled, so the
    painted area is new right up to its edge (corners rounded) and the feather lies outside it (for
    "only masked" A1111 pastes through the feathered mask itself)."""
    return feathered.point(lambda value: min(255, 2 * value))


def _grow(low: int, high: int, length: int, limit: int) -> tuple[int, int]:
    """[low, high) grown evenly to ``length``, shifted back inside [0, limit), cut only if longer."""
    extra = length - (high - low)
    low, high = low - extra // 2, high + extra - extra // 2
    if high > limit:
        low, high = low - (high - limit), limit
    if low < 0:
        low, high = 0, high - low
    return low, min(high, limit)


def crop_region(mask: Image.Image, padding: int, target: tuple[int, int], image_size: tuple[int, int]) -> Box:
    """The "only masked" box: the mask's bounding box grown by ``padding`` (clamped to the image), then
    grown to the aspect ratio of ``target`` (the model's working size), shifted back inside the image
    before it is ever cut (A1111's get_crop_region + expand_crop_region). Pass the feathered mask, as
    A1111 does, so the whole feather lies inside the box."""
    if mask.size != tuple(image_size):
        raise ValueError(f"The mask is {_dims(mask.size)} but the image is {_dims(image_size)}.")
    check_not_empty(mask)
    width, height = image_size
    left, top, right, bottom = mask.getbbox()
    left, top = max(left - padding, 0), max(top - padding, 0)
    right, bottom = min(right + padding, width), min(bottom + padding, height)
    target_w, target_h = target
    if (right - left) * target_h > (bottom - top) * target_w:  # wider than the target: grow the height
        top, bottom = _grow(top, bottom, round((right - left) * target_h / target_w), height)
    else:
        left, right = _grow(left, right, round((bottom - top) * target_w / target_h), width)
    return left, top, right, bottom


def composite(original: Image.Image, generated: Image.Image, feathered: Image.Image,
              box: Box | None = None) -> Image.Image:
    """``generated`` (resized to ``box``, or to the whole image) over ``original`` through the
    feathered mask (the whole image's). Outside the box, and wherever the mask is 0, the original's
    pixels are kept exactly; where it is 255, the generated ones."""
    if feathered.size != original.size:
        raise ValueError(f"The mask is {_dims(feathered.size)} but the image is {_dims(original.size)}.")
    out = np.array(original.convert("RGB"))
    left, top, right, bottom = box or (0, 0, *original.size)
    generated = generated.convert("RGB")
    if generated.size != (right - left, bottom - top):
        generated = generated.resize((right - left, bottom - top), Image.Resampling.LANCZOS)
    new = np.asarray(generated, dtype=np.uint16)
    weight = np.asarray(feathered, dtype=np.uint16)[top:bottom, left:right, None]
    old = out[top:bottom, left:right].astype(np.uint16)
    # Integer blend, rounded: exact at 0 (the original) and at 255 (the generated picture).
    out[top:bottom, left:right] = (new * weight + old * (255 - weight) + 127) // 255
    return Image.fromarray(out)


def _box_blur(values: np.ndarray, radius: int, axis: int) -> np.ndarray:
    pad = [(0, 0)] * values.ndim
    pad[axis] = (radius + 1, radius)  # edges extended, one more before: each window is a difference of sums
    sums = np.cumsum(np.pad(values, pad, mode="edge"), axis=axis)
    count = values.shape[axis]
    upper = np.take(sums, np.arange(2 * radius + 1, 2 * radius + 1 + count), axis=axis)
    return (upper - np.take(sums, np.arange(count), axis=axis)) / (2 * radius + 1)


def _resize(values: np.ndarray, size: tuple[int, int], method: Image.Resampling) -> np.ndarray:
    channels = [Image.fromarray(values[..., c].astype(np.float32)).resize(size, method)
                for c in range(values.shape[2])]
    return np.stack([np.asarray(channel, dtype=np.float64) for channel in channels], axis=2)


def _blur(values: np.ndarray, sigma: float) -> np.ndarray:
    """A Gaussian of about ``sigma`` over a float array (height, width, channels): three box blurs a
    side (variance r(r+1)); a wide one on a copy scaled down to a sigma of about 4, whose result is
    smooth enough to scale back up bilinearly, so any radius costs about the same."""
    factor = int(sigma // 4)
    if factor > 1:
        height, width = values.shape[:2]
        small = _resize(values, (-(-width // factor), -(-height // factor)), Image.Resampling.BOX)
        return _resize(_blur(small, sigma / factor), (width, height), Image.Resampling.BILINEAR)
    radius = max(1, round((math.sqrt(1 + 4 * sigma * sigma) - 1) / 2))
    for axis in (0, 1):
        for _ in range(3):
            values = _box_blur(values, radius, axis)
    return values


def fill_masked(image: Image.Image, mask: Image.Image) -> Image.Image:
    """A1111's "fill" masked content: the masked area painted with the colours around it, spread by
    blurs of the unmasked pixels only (premultiplied by how unmasked they are), so the model starts
    from plausible colours instead of the old content. Unmasked pixels are kept exactly."""
    rgb = np.asarray(image.convert("RGB"), dtype=np.float64)
    box = mask.getbbox()
    if box is None:
        return Image.fromarray(rgb.astype(np.uint8))
    masked = np.asarray(mask, dtype=np.float64)[..., None] / 255
    keep = 1.0 - masked
    weighted = np.concatenate([rgb * keep, keep], axis=2)
    left, top, right, bottom = box  # only the pixels in the mask's box change
    height, width = rgb.shape[:2]
    out = np.empty((bottom - top, right - left, 3))
    kept = keep.sum()
    out[...] = weighted[..., :3].sum((0, 1)) / kept if kept else 127.5  # nothing to spread: grey
    for sigma, repeats in _FILL_LAYERS:
        reach = int(3 * sigma) + 8  # each blur sees as far around the box as it reaches
        y0, x0 = max(top - reach, 0), max(left - reach, 0)
        region = weighted[y0:min(bottom + reach, height), x0:min(right + reach, width)]
        blurred = _blur(region, sigma)[top - y0:bottom - y0, left - x0:right - x0]
        weight = blurred[..., 3:]
        colour = blurred[..., :3] / np.maximum(weight, 1e-12)
        out += (colour - out) * (1 - (1 - weight) ** repeats)
    inner = np.s_[top:bottom, left:right]
    result = rgb.copy()
    result[inner] = rgb[inner] * keep[inner] + out * masked[inner]
    return Image.fromarray(np.clip(np.rint(result), 0, 255).astype(np.uint8))


def _ramp(length: int, before: int, after: int, seam: int) -> np.ndarray:
    """Along one side of the canvas: 0 over the original, rising to 1 across the first ``seam``
    pixels of each added band (at most half of it, so the band's outer half is always wholly new)."""
    def rising(band: int) -> np.ndarray:
        return np.minimum(1.0, np.arange(1, band + 1) / (min(seam, band // 2) + 1))
    return np.concatenate([rising(before)[::-1], np.zeros(length), rising(after)])


def _noise(rgb: np.ndarray, shape: tuple[int, ...], seed: int) -> np.ndarray:
    pixels = rgb.reshape(-1, 3).astype(np.float64)
    spread = np.maximum(pixels.std(axis=0), 16.0)  # a flat picture still gets noise to work from
    return pixels.mean(axis=0) + np.random.default_rng(seed).standard_normal(shape) * spread


def outpaint_canvas(image: Image.Image, sides: tuple[int, int, int, int], fill: str, seed: int,
                    seam: int = 16) -> tuple[Image.Image, Image.Image]:
    """The canvas grown by ``sides`` (left, right, top, bottom pixels) and its mask: 255 over the new
    area, fading to 0 towards the original across ``seam`` pixels of the new area, 0 over the
    original, which the canvas holds exactly. The new area starts from the edge pixels stretched
    outwards, turning across the seam into them blurred ("edge") or into seeded noise around the
    picture's mean colour ("noise"). Feathering this mask would reach into the original: the seam
    is its feather."""
    left, right, top, bottom = sides
    if min(sides) < 0:
        raise MaskError(f"Outpainting adds pixels: each side must be 0 or more, got {tuple(sides)}.")
    if not any(sides):
        raise MaskError("Outpainting adds nothing: give pixels to add on at least one side, or an "
                        "aspect ratio the image does not already have.")
    if fill not in OUTPAINT_FILLS:
        raise MaskError(f"Outpaint fill must be one of {', '.join(OUTPAINT_FILLS)}; got {fill!r}.")
    rgb = np.asarray(image.convert("RGB"))
    height, width = rgb.shape[:2]
    size = (width + left + right, height + top + bottom)
    if max(size) > MAX_SIDE:
        raise MaskError(f"Outpainting would make the picture {_dims(size)} pixels, more than {MAX_SIDE} "
                        "on a side: add fewer pixels, or start from a smaller image.")
    ramp = np.maximum(_ramp(width, left, right, seam)[None, :], _ramp(height, top, bottom, seam)[:, None])
    ramp = ramp[..., None]
    edge = np.pad(rgb, ((top, bottom), (left, right), (0, 0)), mode="edge").astype(np.float64)
    # Blur enough to wash out the stretched edge's streaks across a wide band, not its colours.
    if fill == "edge":
        far = _blur(edge, min(64.0, max(8.0, max(sides) / 4)))
    else:
        far = _noise(rgb, edge.shape, seed)
    canvas = np.clip(np.rint(edge + (far - edge) * ramp), 0, 255).astype(np.uint8)
    canvas[top:top + height, left:left + width] = rgb
    return Image.fromarray(canvas), Image.fromarray(np.rint(ramp[..., 0] * 255).astype(np.uint8))


def _nearest(value: float, multiple: int) -> int:
    return max(multiple, math.floor(value / multiple + 0.5) * multiple)


def round_to(size: tuple[int, int], multiple: int = 8) -> tuple[int, int]:
    """Each side to the nearest multiple of ``multiple`` (at least one multiple)."""
    return _nearest(size[0], multiple), _nearest(size[1], multiple)


def sides_for_aspect(size: tuple[int, int], ratio: tuple[int, int],
                     multiple: int = 8) -> tuple[int, int, int, int]:
    """Pixels to add (left, right, top, bottom) to outpaint ``size`` to the aspect ``ratio``: the
    narrow direction grows to the ratio (to the nearest multiple), split evenly between its two
    sides; both sides end as multiples of ``multiple`` (the other grows by the few pixels that
    takes). (0, 0, 0, 0) when the image already has that ratio."""
    across, down = ratio
    if across <= 0 or down <= 0:
        raise MaskError(f"An aspect ratio needs two positive numbers, like 16:9; got {across}:{down}.")
    width, height = size
    new_w, new_h = (-(-side // multiple) * multiple for side in size)
    if new_w * down < new_h * across:  # narrower than the ratio: widen it
        new_w = max(new_w, _nearest(new_h * across / down, multiple))
    else:
        new_h = max(new_h, _nearest(new_w * down / across, multiple))
    grow_w, grow_h = new_w - width, new_h - height
    return grow_w // 2, grow_w - grow_w // 2, grow_h // 2, grow_h - grow_h // 2
