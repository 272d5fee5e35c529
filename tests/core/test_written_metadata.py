"""What we write is what other tools read: A1111's UserComment, other tools' metadata kept on
export, the AI-made mark only on our own images, long prompts that leave the image readable."""

from __future__ import annotations

import io
import json

import pytest
from PIL import ExifTags, Image, PngImagePlugin, TiffImagePlugin, TiffTags
from project_testkit import gen_request, gen_result, png_with_texts

from t2i_studio.core.export import export_file
from t2i_studio.core.image_io import read_raw
from t2i_studio.core.metadata import image_data, png_save_args, read_metadata
from t2i_studio.core.requests import MAX_PROMPT_CHARS
from t2i_studio.core.thumbnails import ensure_thumbnail

GRAPH = {
    "4": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": "dreamshaper_8.safetensors"}},
    "6": {"class_type": "CLIPTextEncode", "inputs": {"text": "a koi pond, ukiyo-e", "clip": ["4", 1]}},
    "7": {"class_type": "CLIPTextEncode", "inputs": {"text": "text", "clip": ["4", 1]}},
    "5": {"class_type": "EmptyLatentImage", "inputs": {"width": 640, "height": 960, "batch_size": 1}},
    "3": {"class_type": "KSampler", "inputs": {
        "seed": 8675309, "steps": 25, "cfg": 7.5, "sampler_name": "euler", "scheduler": "normal",
        "denoise": 1.0, "model": ["4", 0], "positive": ["6", 0], "negative": ["7", 0],
        "latent_image": ["5", 0]}},
}
WORKFLOW = {"nodes": [{"id": 3, "type": "KSampler"}], "links": [], "version": 0.4}


def _exif_ifd(path, group):
    """One IFD of the file's EXIF as Pillow's directory, which keeps each tag's type."""
    with Image.open(path) as im:
        data = im.info["exif"]
    data = data[6:] if data.startswith(b"Exif\0\0") else data
    fp = io.BytesIO(data)
    top = TiffImagePlugin.ImageFileDirectory_v2(data[:8])
    fp.seek(top.next)
    top.load(fp)
    if group is None:
        return top
    sub = TiffImagePlugin.ImageFileDirectory_v2(data[:8], group=group)
    fp.seek(top[group])
    sub.load(fp)
    return sub


@pytest.mark.parametrize("fmt", ["jpeg", "webp"])
@pytest.mark.parametrize("prompt", ["a plain ascii fox", "a fox 狐 🦊"])
def test_user_comment_is_written_as_a1111_writes_it(tmp_path, fmt, prompt):
    source = tmp_path / "ours.png"
    Image.new("RGB", (32, 32), "red").save(source, **png_save_args(image_data(gen_request(prompt), 5)))
    out = export_file(source, tmp_path / "out", fmt=fmt).output
    ifd = _exif_ifd(out, ExifTags.IFD.Exif)
    assert ifd.tagtype[ExifTags.Base.UserComment] == TiffTags.UNDEFINED
    raw = ifd[ExifTags.Base.UserComment]
    assert raw.startswith(b"UNICODE\0")  # A1111 reads the rest as UTF-16BE, whatever the text
    assert raw[8:].decode("utf-16-be") == read_metadata(source).parameters
    assert _exif_ifd(out, None)._endian == ">"


@pytest.mark.parametrize("fmt", ["jpeg", "webp"])
def test_comfyui_metadata_is_kept_in_exif_as_comfyui_writes_it(tmp_path, fmt):
    source = png_with_texts(tmp_path / "comfy.png", {"prompt": json.dumps(GRAPH), "workflow": json.dumps(WORKFLOW)})
    out = export_file(source, tmp_path / "out", fmt=fmt).output
    with Image.open(out) as im:
        exif = im.getexif()
    assert exif[ExifTags.Base.Model].startswith("prompt:") and json.loads(exif[ExifTags.Base.Model][7:]) == GRAPH
    assert json.loads(exif[ExifTags.Base.Make].removeprefix("workflow:")) == WORKFLOW
    meta = read_metadata(out)
    assert meta.source == "comfyui" and meta.request.prompt == "a koi pond, ukiyo-e" and meta.seed == 8675309
    back = export_file(out, tmp_path / "back", fmt="png").output  # and back to ComfyUI's PNG chunks
    with Image.open(back) as im:
        assert json.loads(im.text["prompt"]) == GRAPH and json.loads(im.text["workflow"]) == WORKFLOW


def test_invokeai_metadata_is_kept_on_export(tmp_path):
    data = {"positive_prompt": "a glass teapot", "seed": 42, "steps": 30, "width": 768, "height": 512}
    source = png_with_texts(tmp_path / "invoke.png", {"invokeai_metadata": json.dumps(data)})
    out = export_file(source, tmp_path / "out", fmt="webp").output
    meta = read_metadata(out)
    assert meta.source == "invokeai" and meta.request.prompt == "a glass teapot" and meta.seed == 42


def test_jpeg_export_leaves_out_what_does_not_fit_but_is_written(tmp_path):
    big = {"nodes": [{"id": n, "widgets_values": ["x" * 100]} for n in range(1000)]}
    source = png_with_texts(tmp_path / "comfy.png", {"prompt": json.dumps(GRAPH), "workflow": json.dumps(big)})
    out = export_file(source, tmp_path / "out", fmt="jpeg").output
    assert read_metadata(out).request.prompt == "a koi pond, ukiyo-e"  # the graph fits, the workflow not


@pytest.mark.parametrize("fmt", ["png", "jpeg", "webp", "tiff"])
def test_a_plain_photo_is_not_marked_ai_made(tmp_path, fmt):
    photo = tmp_path / "photo.jpg"
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "Canon"
    Image.new("RGB", (40, 30), "blue").save(photo, exif=exif.tobytes())
    out = export_file(photo, tmp_path / "out", fmt=fmt).output
    assert b"trainedAlgorithmicMedia" not in out.read_bytes()
    assert read_metadata(out).source_type is None
    ours = tmp_path / "ours.png"
    Image.new("RGB", (32, 32)).save(ours, **png_save_args(image_data(gen_request(), 5)))
    assert b"trainedAlgorithmicMedia" in export_file(ours, tmp_path / "out", fmt=fmt).output.read_bytes()


def test_a_prompt_too_long_for_metadata_is_refused_with_a_clear_message():
    with pytest.raises(ValueError, match="shorten it to at most 100,000"):
        gen_request("x" * 2**20).validate()
    with pytest.raises(ValueError, match="negative prompt"):
        gen_request(negative_prompt="x" * (MAX_PROMPT_CHARS + 1)).validate()


def test_the_longest_prompt_leaves_an_image_pillow_opens(project, tmp_path):
    prompt = ('"狐" ' * MAX_PROMPT_CHARS)[:MAX_PROMPT_CHARS]  # quotes and CJK: the most escaping
    request = gen_request(prompt)
    request.validate()
    [entry] = project.save_result(request, gen_result(request, 1))
    with Image.open(entry.path) as im:
        im.load()
        assert json.loads(im.text["t2i_studio"])["request"]["prompt"] == prompt
    ensure_thumbnail(entry.path, tmp_path / "thumbs", entry.id)
    for fmt in ("png", "jpeg", "webp"):
        out = export_file(entry.path, tmp_path / "out", fmt=fmt).output
        with Image.open(out) as im:
            im.load()


def test_long_foreign_texts_stay_readable_on_png_export(tmp_path):
    workflow = json.dumps({"nodes": [{"id": n, "widgets_values": ["y" * 100]} for n in range(12000)]})
    assert len(workflow) > PngImagePlugin.MAX_TEXT_CHUNK
    source = png_with_texts(tmp_path / "comfy.png", {"prompt": json.dumps(GRAPH), "workflow": workflow})
    out = export_file(source, tmp_path / "out", fmt="png").output
    with Image.open(out) as im:
        im.load()
        assert im.text["workflow"] == workflow
    assert read_raw(out).texts["workflow"] == workflow
