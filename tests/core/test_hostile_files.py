"""Reading hostile files: only the documented outcomes.

``read_metadata`` never raises (an empty result with a reason); ``load_image`` raises only
``ImageReadError``. A hypothesis fuzz test mutates real PNGs of ours (bit flips, truncation, chunk
length rewrites, spliced garbage) and checks exactly that.
"""

from __future__ import annotations

import io
import os
import struct
import tempfile
import warnings
import zlib

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image
from project_testkit import FINGERPRINT, gen_request

from t2i_studio.core.image_io import MAX_TEXT_CHUNK, load_image, read_raw
from t2i_studio.core.metadata import ImageMetadata, image_data, png_save_args, read_metadata
from t2i_studio.core.project_errors import ImageReadError


def _ours() -> bytes:
    data = image_data(gen_request("fuzz me, 東京 🦊"), 7, fingerprint=FINGERPRINT)
    buf = io.BytesIO()
    Image.new("RGB", (12, 9), "orange").save(buf, **png_save_args(data))
    return buf.getvalue()


SEED_PNG = _ours()


def _chunk(ctype: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + ctype + data + struct.pack(">I", zlib.crc32(ctype + data) & 0xFFFFFFFF)


def _outcome(blob: bytes, suffix: str = ".png") -> ImageMetadata:
    fd, name = tempfile.mkstemp(suffix=suffix)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(blob)
        meta = read_metadata(name)  # must not raise
        assert isinstance(meta, ImageMetadata)
        assert meta.request is not None or meta.reason
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                image = load_image(name)
            assert image.width > 0 and image.height > 0
        except ImageReadError as exc:
            assert str(exc)
        return meta
    finally:
        os.unlink(name)


mutation = st.one_of(
    st.tuples(st.just("flip"), st.integers(8, len(SEED_PNG) - 1), st.integers(0, 7)),
    st.tuples(st.just("truncate"), st.integers(0, len(SEED_PNG) - 1), st.just(0)),
    st.tuples(st.just("length"), st.integers(8, len(SEED_PNG) - 4), st.sampled_from(
        [0, 1, 0x7FFFFFFF, 0xFFFFFFFF, MAX_TEXT_CHUNK + 1, 2**24])),
    st.tuples(st.just("splice"), st.integers(0, len(SEED_PNG)), st.binary(min_size=1, max_size=64)),
)


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutations=st.lists(mutation, min_size=1, max_size=4))
def test_fuzzed_pngs_give_only_documented_outcomes(mutations):
    blob = bytearray(SEED_PNG)
    for kind, pos, arg in mutations:
        pos = min(pos, max(len(blob) - 1, 0))
        if kind == "flip" and blob:
            blob[pos] ^= 1 << arg
        elif kind == "truncate":
            del blob[pos:]
        elif kind == "length" and len(blob) >= pos + 4:
            blob[pos:pos + 4] = struct.pack(">I", arg)
        elif kind == "splice":
            blob[pos:pos] = arg
    _outcome(bytes(blob))


@settings(max_examples=80, deadline=None)
@given(blob=st.binary(max_size=512), suffix=st.sampled_from([".png", ".jpg", ".webp", ".tif", ""]))
def test_random_bytes_with_any_extension(blob, suffix):
    meta = _outcome(blob, suffix)
    assert meta.source == "none"


def test_the_unmutated_seed_reads_back():
    meta = _outcome(SEED_PNG)
    assert meta.source == "t2i_studio" and meta.seed == 7


def _ihdr_png(width: int, height: int) -> bytes:
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\0" * 64)
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", idat) + _chunk(b"IEND", b"")


@pytest.mark.parametrize("size", [(50_000, 50_000), (12_000, 12_000), (2**31 - 1, 1)])
def test_decompression_bomb_dimensions_are_refused(tmp_path, size):
    path = tmp_path / "bomb.png"
    path.write_bytes(_ihdr_png(*size))
    meta = read_metadata(path)
    assert meta.source == "none" and (meta.width, meta.height) == size
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(ImageReadError, match="too large"):
            load_image(path)


def test_oversized_text_chunk_is_skipped(tmp_path):
    base = _ihdr_png(4, 4)
    huge = _chunk(b"tEXt", b"parameters\0" + b"a" * (MAX_TEXT_CHUNK + 10))
    path = tmp_path / "huge.png"
    path.write_bytes(base[:33] + huge + base[33:])
    raw = read_raw(path)
    assert "parameters" not in raw.texts and any("oversized" in n for n in raw.notes)
    assert read_metadata(path).source == "none"


def test_truncated_file_of_ours(tmp_path):
    path = tmp_path / "cut.png"
    path.write_bytes(SEED_PNG[: len(SEED_PNG) - 30])
    meta = read_metadata(path)  # the text chunks come before the pixels: still readable
    assert meta.source == "t2i_studio" and any("truncated" in n for n in meta.notes)
    with pytest.raises(ImageReadError):
        load_image(path)


def test_directory_and_missing_paths(tmp_path):
    assert read_metadata(tmp_path).source == "none"
    with pytest.raises(ImageReadError):
        load_image(tmp_path / "missing.png")
    with pytest.raises(ImageReadError):
        load_image(tmp_path)
