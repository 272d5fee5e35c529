"""Other tools' files as users' folders hold them: seeds, sampler names, text encodings, key
spellings, the less common tools, and ordinary photos that are no generation at all."""

from __future__ import annotations

import gzip
import io
import json

import numpy as np
import pytest
from PIL import ExifTags, Image, PngImagePlugin
from project_testkit import gen_request, gen_result

from t2i_studio.core.requests import Hires
from t2i_studio.core.engine_registry import EngineEntry, EngineRegistry
from t2i_studio.core.exif import user_comment_bytes
from t2i_studio.core.metadata import read_metadata
from t2i_studio.core.sampler_names import map_sampler

LINE = "Steps: 20, Sampler: {}, Schedule type: {}, CFG scale: 7, Seed: {}, Size: 512x768, Model: m"


def _png(path, texts, image=None):
    info = PngImagePlugin.PngInfo()
    for key, value in texts.items():
        info.add_text(key, value)
    (image or Image.new("RGB", (24, 16), "gray")).save(path, pnginfo=info)
    return read_metadata(path)


def _a1111(sampler="Euler", schedule="Automatic", seed=42):
    return "a fox\nNegative prompt: blur\n" + LINE.format(sampler, schedule, seed)


# ---------------------------------------------------------------- seeds

@pytest.mark.parametrize("seed", [123456789012345, 2**63 + 5, 2**64 - 1])
def test_large_seeds_are_kept_through_import_and_the_index(project, tmp_path, seed):
    meta = _png(tmp_path / "a.png", {"parameters": _a1111(seed=seed)})
    assert meta.seed == meta.request.sampling.seed == seed
    request = meta.request.replace(model=meta.request.model.replace(id="runwayml/sd-tiny")).validate()
    [entry] = project.save_result(request, gen_result(request, 1))
    assert entry.seed == seed and project.get(entry.id).seed == seed
    assert read_metadata(entry.path).seed == seed


def test_an_engine_that_cannot_take_the_seed_says_so():
    entry = EngineEntry("small", "Small", "generate", ("txt2img",), factory=lambda: None,
                        max_seed=2**32 - 1)
    registry = EngineRegistry([entry])
    registry.check(gen_request(engine="small", seed=2**32 - 1))
    with pytest.raises(ValueError, match=r"takes seeds up to 4294967295; this request needs 4294967296"):
        registry.check(gen_request(engine="small", seed=2**32))
    with pytest.raises(ValueError, match="Seed must be a whole number from 0 to 18446744073709551615"):
        gen_request(seed=2**64).validate()


# ---------------------------------------------------------------- sampler names

@pytest.mark.parametrize("sampler, schedule, ours", [
    ("DPM++ 2M", "Karras", "DPM++ 2M Karras"), ("DPM++ 2M Karras", None, "DPM++ 2M Karras"),
    ("dpmpp_2m", "normal", "DPM++ 2M"), ("dpmpp_2m", "karras", "DPM++ 2M Karras"),
    ("uni_pc_bh2", "normal", "UniPC"), ("uni_pc", "simple", "UniPC"), ("euler_ancestral", "normal", "Euler a"),
    ("Euler a", "Automatic", "Euler a"), ("euler", "simple", "Euler"), ("heun", "normal", "Heun"),
    ("dpmpp_2m_sde_gpu", "karras", "DPM++ SDE Karras"), ("DPM++ SDE", "Karras", "DPM++ SDE Karras"),
    ("ddim", "ddim_uniform", "DDIM"), ("lcm", "sgm_uniform", "LCM"), ("dpmpp_2m_k", None, "DPM++ 2M Karras"),
    ("euler_a", None, "Euler a"), ("k_euler_ancestral", "native", "Euler a"), ("ddim_v3", None, "DDIM"),
])
def test_sampler_names_map_to_ours(sampler, schedule, ours):
    match = map_sampler(sampler, schedule)
    assert (match.name, match.note) == (ours, None)


@pytest.mark.parametrize("sampler, schedule, says", [
    ("lms", "normal", "'lms' is not available here"), ("LMS Karras", None, "'LMS Karras' is not available"),
    ("dpmpp_3m_sde_gpu", "karras", "is not available"), ("DPM2 a", "Automatic", "is not available"),
    ("euler_cfg_pp", "normal", "is not available"), ("Some New Sampler", None, "is not one we know"),
    ("euler", "karras", "Schedule 'karras' is not available with Euler"),
    ("dpmpp_2m", "exponential", "Schedule 'exponential' is not available with DPM++ 2M"),
    ("dpmpp_2m", "sgm_uniform", "Schedule 'sgm_uniform'"),
])
def test_sampler_names_we_do_not_have_are_reported(tmp_path, sampler, schedule, says):
    assert says in map_sampler(sampler, schedule).note
    meta = _png(tmp_path / "a.png", {"parameters": _a1111(sampler, schedule or "Automatic")})
    assert any(says.split("'")[0] in note for note in meta.notes), meta.notes


# ---------------------------------------------------------------- text encodings and key spellings

def test_utf8_written_into_text_chunks_reads_as_utf8(tmp_path):
    info = PngImagePlugin.PngInfo()
    text = "桜の下の狐、café\nSteps: 20, Sampler: Euler, CFG scale: 7, Seed: 1, Size: 512x512"
    info.add(b"tEXt", b"parameters\0" + text.encode("utf-8"))  # what some tools write, against the spec
    path = tmp_path / "utf8.png"
    Image.new("RGB", (8, 8)).save(path, pnginfo=info)
    assert read_metadata(path).request.prompt == "桜の下の狐、café"
    latin = tmp_path / "latin.png"
    info = PngImagePlugin.PngInfo()
    info.add(b"tEXt", b"parameters\0" + "café\nSteps: 20, Seed: 1, Size: 512x512".encode("latin-1"))
    Image.new("RGB", (8, 8)).save(latin, pnginfo=info)
    assert read_metadata(latin).request.prompt == "café"


def test_key_spellings_of_other_tools(tmp_path):
    text = "a boat\nnum_inference_steps: 33, Sampler: Euler, CFG Scale: 4.5, seed: 77, Width: 640, Height: 384"
    r = _png(tmp_path / "k.png", {"parameters": text}).request
    assert (r.sampling.steps, r.sampling.guidance, r.sampling.seed, r.width, r.height) == (33, 4.5, 77, 640, 384)


def test_a1111_jpeg_with_hires_and_civitai_keys(tmp_path):
    text = ("a temple, night\nNegative prompt: fog\nSteps: 25, Sampler: DPM++ 2M, Schedule type: Karras, CFG scale: 5,"
            " Seed: 2233445566, Size: 512x768, Model hash: abc, Model: dream, Denoising strength: 0.45, "
            'Hires upscale: 2, Hires steps: 10, Hires upscaler: 4x-UltraSharp, Civitai resources: '
            '[{"type":"checkpoint","modelVersionId":1}], Version: v1.10.1')
    exif = Image.Exif()
    exif.get_ifd(ExifTags.IFD.Exif)[ExifTags.Base.UserComment] = user_comment_bytes(text)
    path = tmp_path / "civitai.jpg"
    Image.new("RGB", (16, 16)).save(path, exif=exif.tobytes())
    meta = read_metadata(path)
    r = meta.request
    assert meta.source == "a1111" and (r.prompt, r.negative_prompt, meta.seed) == ("a temple, night", "fog", 2233445566)
    assert (r.width, r.height, r.sampling.steps, r.sampling.scheduler) == (512, 768, 25, "DPM++ 2M Karras")
    # the hires fix comes back as ours, its upscaler named as A1111 wrote it
    assert r.hires == Hires(scale=2.0, steps=10, upscaler="4x-UltraSharp", strength=0.45)
    assert r.mode == "txt2img" and r.images.init_image is None


# ---------------------------------------------------------------- the less common tools

NOVELAI = {"prompt": "1girl, fox ears, shrine", "steps": 28, "height": 1216, "width": 832, "scale": 5.5,
           "seed": 3345566778, "sampler": "k_euler_ancestral", "noise_schedule": "karras", "uc": "lowres",
           "n_samples": 1, "cfg_rescale": 0}


def _check_novelai(meta):
    r = meta.request
    assert meta.source == "novelai" and meta.seed == 3345566778
    assert (r.prompt, r.negative_prompt, r.width, r.height, r.sampling.steps, r.sampling.guidance) == (
        "1girl, fox ears, shrine", "lowres", 832, 1216, 28, 5.5)
    assert r.sampling.scheduler == "Euler a"


def _novelai_texts():
    return {"Title": "NovelAI generated image", "Description": NOVELAI["prompt"], "Software": "NovelAI",
            "Source": "NovelAI Diffusion V4.5 4BDE2A90", "Comment": json.dumps(NOVELAI)}


def test_novelai_png(tmp_path):
    meta = _png(tmp_path / "nai.png", _novelai_texts())
    _check_novelai(meta)
    assert meta.request.model.id == "NovelAI Diffusion V4.5 4BDE2A90"


def _hide(image, payload, signature, mode):
    """Hide ``payload`` as the stealth writers do (column by column, lowest bits)."""
    data = gzip.compress(payload) if signature.endswith(b"comp") else payload
    bits = np.unpackbits(np.frombuffer(signature + len(data * 8).to_bytes(4, "big") + data, np.uint8))
    if mode == "alpha":
        plane = np.array(image.getchannel("A")).T.copy()
        flat = plane.ravel()
        flat[: len(bits)] = (flat[: len(bits)] & 0xFE) | bits
        image.putalpha(Image.fromarray(flat.reshape(plane.shape).T.copy()))
        return image
    rgb = np.array(image.convert("RGB")).transpose(1, 0, 2).copy()
    flat = rgb.ravel()
    flat[: len(bits)] = (flat[: len(bits)] & 0xFE) | bits
    return Image.fromarray(flat.reshape(rgb.shape).transpose(1, 0, 2).copy())


def test_novelai_stealth_data_in_the_alpha_channel(tmp_path):
    image = _hide(Image.new("RGBA", (64, 64), (90, 120, 200, 255)), json.dumps(_novelai_texts()).encode(),
                  b"stealth_pngcomp", "alpha")
    path = tmp_path / "nai-stripped.png"
    image.save(path)
    meta = read_metadata(path)
    _check_novelai(meta)
    assert any("hidden in the pixels" in n for n in meta.notes)


@pytest.mark.parametrize("signature, mode", [(b"stealth_pnginfo", "alpha"), (b"stealth_rgbcomp", "rgb")])
def test_a1111_stealth_pnginfo(tmp_path, signature, mode):
    base = Image.new("RGBA" if mode == "alpha" else "RGB", (64, 64), (10, 200, 30, 255)[: 4 if mode == "alpha" else 3])
    path = tmp_path / "stealth.png"
    _hide(base, _a1111(seed=555).encode(), signature, mode).save(path)
    meta = read_metadata(path)
    assert meta.source == "a1111" and meta.seed == 555 and meta.request.prompt == "a fox"


SWARM = {"sui_image_params": {"prompt": "a glass city", "negativeprompt": "fog", "model": "Flux/flux1-dev-fp8",
                              "seed": 2042464333, "steps": 25, "cfgscale": 3.0, "width": 512, "height": 768,
                              "sampler": "euler", "scheduler": "normal", "swarm_version": "0.9.1.1"},
         "sui_extra_data": {"date": "2024-08-07"}}


def _check_swarm(meta):
    r = meta.request
    assert meta.source == "swarmui" and meta.seed == 2042464333
    assert (r.prompt, r.negative_prompt, r.width, r.height, r.sampling.steps, r.sampling.guidance) == (
        "a glass city", "fog", 512, 768, 25, 3.0)
    assert r.sampling.scheduler == "Euler" and r.model.id == "Flux/flux1-dev-fp8"


def test_swarmui_png_and_jpeg(tmp_path):
    _check_swarm(_png(tmp_path / "s.png", {"parameters": json.dumps(SWARM, indent=2)}))
    exif = Image.Exif()
    exif.get_ifd(ExifTags.IFD.Exif)[ExifTags.Base.UserComment] = user_comment_bytes(json.dumps(SWARM))
    path = tmp_path / "s.jpg"
    Image.new("RGB", (16, 16)).save(path, exif=exif.tobytes())
    _check_swarm(read_metadata(path))


def test_draw_things_xmp(tmp_path):
    data = {"c": "a tea house in rain", "uc": "people", "model": "sd_xl_base_1.0_f16.ckpt",
            "sampler": "DPM++ 2M Karras",
            "scale": 6, "seed": 1357924680, "steps": 30, "strength": 1, "size": "1024x768"}
    comment = json.dumps(data).replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;")
    xmp = ('<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
           '<rdf:Description rdf:about="" xmlns:xmp="http://ns.adobe.com/xap/1.0/" xmlns:exif="http://ns.adobe.com/exif/1.0/">'
           '<xmp:CreatorTool>Draw Things</xmp:CreatorTool><exif:UserComment><rdf:Alt><rdf:li xml:lang="x-default">'
           f'{comment}</rdf:li></rdf:Alt></exif:UserComment></rdf:Description></rdf:RDF></x:xmpmeta>')
    info = PngImagePlugin.PngInfo()
    info.add_itxt("XML:com.adobe.xmp", xmp)
    path = tmp_path / "dt.png"
    Image.new("RGB", (16, 16)).save(path, pnginfo=info)
    meta = read_metadata(path)
    r = meta.request
    assert meta.source == "drawthings" and meta.seed == 1357924680
    assert (r.prompt, r.negative_prompt, r.width, r.height, r.sampling.steps, r.sampling.scheduler) == (
        "a tea house in rain", "people", 1024, 768, 30, "DPM++ 2M Karras")


def test_invokeai_dream(tmp_path):
    dream = '"a boat at dawn [storm, rain]" -s 50 -S 3075958441 -W 512 -H 640 -C 7.5 -A k_euler_a'
    meta = _png(tmp_path / "d.png", {"Dream": dream})
    r = meta.request
    assert meta.source == "invokeai" and meta.seed == 3075958441
    assert (r.prompt, r.negative_prompt, r.sampling.steps, r.width, r.height, r.sampling.guidance) == (
        "a boat at dawn", "storm, rain", 50, 512, 640, 7.5)
    assert r.sampling.scheduler == "Euler a"


# ---------------------------------------------------------------- no false positives

def test_ordinary_photos_are_not_generations(tmp_path):
    comment = tmp_path / "comment.jpg"
    Image.new("RGB", (16, 16)).save(comment, comment=b"Holiday in Kyoto, day 3")
    exif = Image.Exif()
    exif[ExifTags.Base.ImageDescription] = "Sunset at the beach"
    exif[ExifTags.Base.Make] = "Canon"
    exif.get_ifd(ExifTags.IFD.Exif)[ExifTags.Base.UserComment] = b"ASCII\0\0\0My favourite photo: the pier"
    described = tmp_path / "described.jpg"
    Image.new("RGB", (16, 16)).save(described, exif=exif.tobytes())
    tiff = tmp_path / "scan.tif"
    Image.new("RGB", (16, 16)).save(tiff, tiffinfo={270: "Scanned negative, roll 4"})
    for path in (comment, described, tiff):
        meta = read_metadata(path)
        assert meta.source == "none" and meta.request is None, path
    buf = io.BytesIO()
    Image.new("RGB", (16, 16)).save(buf, "PNG")  # and a plain PNG has no stealth data to find
    (tmp_path / "plain.png").write_bytes(buf.getvalue())
    assert read_metadata(tmp_path / "plain.png").source == "none"
