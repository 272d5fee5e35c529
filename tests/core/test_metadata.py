"""Metadata: the A1111 text exactly, our JSON, XMP, iTXt, ICC; round trips of awkward prompts."""

from __future__ import annotations

import io
import json
import zlib

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image
from project_testkit import FINGERPRINT, gen_request, gen_result

from t2i_studio import __version__
from t2i_studio.core.a1111 import build_parameters, parameters_to_request, parse_parameters, split_scheduler
from t2i_studio.core.image_io import read_raw
from t2i_studio.core.metadata import image_data, png_save_args, read_metadata, srgb_icc
from t2i_studio.core.xmp import TRAINED_ALGORITHMIC_MEDIA

AWKWARD = [
    "a cat, sitting: on a mat",
    'she said "hello, world"',
    "line one\nline two\n\nline four",
    "emoji 🦊🔥 and CJK 東京の夜景, 한국어, 中文",
    "Negative prompt: is not the start",
    "trailing backslash \\",
    "Steps: 5, Sampler: fake, Seed: 3",
]


def _png_chunks(path):
    data = path.read_bytes()
    pos, chunks = 8, []
    while pos < len(data):
        length = int.from_bytes(data[pos:pos + 4], "big")
        ctype = data[pos + 4:pos + 8]
        chunks.append((ctype, data[pos + 8:pos + 8 + length]))
        pos += 12 + length
    return chunks


def test_parameters_text_exact_layout():
    request = gen_request("a fox, red", negative_prompt="blurry", variation_seed=7, variation_strength=0.25,
                          init_image="/tmp/in.png", strength=0.6)
    text = build_parameters(request, 1235, FINGERPRINT)
    assert text == (
        "a fox, red\nNegative prompt: blurry\n"
        "Steps: 12, Sampler: DPM++ 2M, Schedule type: Karras, CFG scale: 6.5, Seed: 1235, Size: 512x768, "
        "Model hash: 0123456789, Model: sd-tiny, Variation seed: 7, Variation seed strength: 0.25, "
        f"Denoising strength: 0.6, Version: t2i-studio {__version__}")
    plain = build_parameters(gen_request(scheduler="Euler a", negative_prompt=""), 1, {"model": {"hash": None}})
    assert "Negative prompt" not in plain
    assert "Sampler: Euler a, Schedule type: Automatic, CFG scale: 6.5" in plain
    assert "Model hash" not in plain and "Model: runwayml/sd-tiny," in plain


def test_values_with_separators_are_json_quoted():
    fp = {"model": {"name": "C:\\models\\my, model.safetensors", "hash": None}}
    text = build_parameters(gen_request(), 1, fp)
    assert 'Model: "C:\\\\models\\\\my, model.safetensors"' in text
    assert parse_parameters(text)["params"]["Model"] == "C:\\models\\my, model.safetensors"


def test_split_scheduler():
    assert split_scheduler("DPM++ 2M Karras") == ("DPM++ 2M", "Karras")
    assert split_scheduler("DPM++ SDE Karras") == ("DPM++ SDE", "Karras")
    assert split_scheduler("UniPC") == ("UniPC", "Automatic")


def test_parameters_parse_back_to_request():
    request = gen_request("a fox, red\nsecond line", negative_prompt="ugly,\nbad")
    parsed, seed, _ = parameters_to_request(build_parameters(request, 99, FINGERPRINT))
    assert seed == 99 and parsed.prompt == request.prompt and parsed.negative_prompt == request.negative_prompt
    assert (parsed.sampling.steps, parsed.sampling.guidance, parsed.width, parsed.height) == (12, 6.5, 512, 768)
    assert parsed.sampling.scheduler == "DPM++ 2M Karras" and parsed.model.id == "sd-tiny"


def _save(tmp_path, request, seed=1234):
    data = image_data(request, seed, fingerprint=FINGERPRINT, lineage={"x": 1})
    path = tmp_path / "out.png"
    Image.new("RGB", (16, 16)).save(path, **png_save_args(data))
    return path, data


def test_png_carries_parameters_json_xmp_and_srgb(tmp_path):
    path, data = _save(tmp_path, gen_request("plain latin prompt"))
    chunks = _png_chunks(path)
    types = [c[0] for c in chunks]
    assert b"iCCP" in types and srgb_icc() is not None
    first_idat = types.index(b"IDAT")
    texts = {c[1].split(b"\0", 1)[0]: (t, i) for i, (t, c1) in enumerate(chunks)
             for c in [(t, c1)] if t in (b"tEXt", b"iTXt", b"zTXt")}
    assert texts[b"parameters"][0] == b"tEXt"  # Latin-1: plain tEXt
    assert all(i < first_idat for _t, i in texts.values())  # before the pixels, where readers look
    raw = read_raw(path)
    assert json.loads(raw.texts["t2i_studio"]) == json.loads(json.dumps(data))
    assert TRAINED_ALGORITHMIC_MEDIA in raw.xmp and "Iptc4xmpExt:DigitalSourceType" in raw.xmp
    meta = read_metadata(path)
    assert meta.source_type == TRAINED_ALGORITHMIC_MEDIA
    # Pillow (what many tools use) sees the same text
    with Image.open(path) as im:
        assert im.info["parameters"] == meta.parameters
        assert im.info["icc_profile"] == srgb_icc()


def test_non_latin1_parameters_are_itxt(tmp_path):
    path, _ = _save(tmp_path, gen_request("狐 🦊, 東京"))
    chunk = next(c for t, c in _png_chunks(path) if c.startswith(b"parameters\0"))
    ctype = next(t for t, c in _png_chunks(path) if c.startswith(b"parameters\0"))
    assert ctype == b"iTXt" and "狐 🦊".encode() in chunk


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(prompt=st.one_of(st.sampled_from(AWKWARD), st.text(min_size=1, max_size=80).filter(str.strip)),
       negative=st.one_of(st.sampled_from(["", *AWKWARD]), st.text(max_size=40)))
def test_round_trip_awkward_prompts(tmp_path, prompt, negative):
    request = gen_request(prompt, negative_prompt=negative)
    path, data = _save(tmp_path, request)
    meta = read_metadata(path)
    assert meta.source == "t2i_studio" and meta.request == request and meta.seed == 1234
    assert meta.data["fingerprint"] == FINGERPRINT
    text = parse_parameters(meta.parameters)
    assert text["params"]["Seed"] == "1234" and text["params"]["Version"] == f"t2i-studio {__version__}"
    if "\n" not in prompt and not prompt.startswith("Negative prompt:") and "\r" not in prompt + negative:
        assert text["prompt"] == prompt


def test_awkward_prompts_through_a1111_text(tmp_path):
    for prompt in AWKWARD[:4]:  # ("Negative prompt:" first is ambiguous in A1111 text itself)
        for negative in ("", "bad, ugly: very\nblurry", "ネガティブ"):
            request = gen_request(prompt, negative_prompt=negative)
            parsed, _seed, _ = parameters_to_request(build_parameters(request, 5, FINGERPRINT))
            assert (parsed.prompt, parsed.negative_prompt) == (prompt, negative)


def test_project_images_round_trip(project):
    request = gen_request(AWKWARD[3], negative_prompt=AWKWARD[2])
    [entry] = project.save_result(request, gen_result(request, 1))
    meta = read_metadata(entry.path)
    assert meta.request == request and meta.data == entry.params


def test_zip_bomb_text_chunk_is_refused(tmp_path):
    from PIL import PngImagePlugin

    info = PngImagePlugin.PngInfo()
    info.add_text("parameters", "x" * (64 * 2**20), zip=True)  # 64 MB inflated, tiny on disk
    path = tmp_path / "bomb.png"
    buf = io.BytesIO()
    Image.new("RGB", (4, 4)).save(buf, format="PNG", pnginfo=info)
    path.write_bytes(buf.getvalue())
    assert path.stat().st_size < 200_000
    meta = read_metadata(path)
    assert meta.source == "none" and "unreadable zTXt" in meta.reason


def test_inflate_limit_is_real():
    from t2i_studio.core.image_io import MAX_INFLATED, _inflate

    assert _inflate(zlib.compress(b"a" * MAX_INFLATED)) is not None
    assert _inflate(zlib.compress(b"a" * (MAX_INFLATED + 1))) is None
