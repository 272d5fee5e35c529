"""Export: formats keep or strip metadata, sRGB, resizing, name sanitising, collisions."""

from __future__ import annotations

import pytest
from PIL import Image, PngImagePlugin
from project_testkit import gen_request, gen_result

from t2i_studio.core.engine import CancelToken, Cancelled
from t2i_studio.core.errors import StudioError
from t2i_studio.core.export import ExportRequest, export_file, render_name, run_export, sanitize_filename
from t2i_studio.core.export_formats import FORMAT_NAMES, FORMATS, ExportFormat
from t2i_studio.core.metadata import image_data, png_save_args, read_metadata, srgb_icc

PROMPT = 'a fox, "red": 狐 🦊\nsecond line'


@pytest.fixture
def entry(project):
    request = gen_request(PROMPT, negative_prompt="blurry, ugly")
    [entry] = project.save_result(request, gen_result(request, 1))
    return entry


@pytest.mark.parametrize("spec", FORMATS.values(), ids=FORMAT_NAMES)
def test_every_format_round_trips_pixels_alpha_and_prompt(tmp_path, spec: ExportFormat):
    request = gen_request(PROMPT)
    source = tmp_path / "source.png"
    image = Image.new("RGBA", (40, 30), (200, 30, 30, 255))
    image.paste((0, 0, 255, 0), (0, 0, 20, 30))  # left half: fully transparent blue
    image.save(source, **png_save_args(image_data(request, 77)))
    out = export_file(source, tmp_path / "out", fmt=spec.name)
    assert out.output.suffix == spec.extension and out.metadata == "kept"
    with Image.open(out.output) as im:
        assert im.format == spec.pillow and im.size == (40, 30)
        assert ("A" in im.getbands()) == spec.alpha
        clear, solid = im.convert("RGBA").getpixel((5, 15)), im.convert("RGBA").getpixel((35, 15))
    if spec.alpha:
        assert clear[3] == 0 and solid[3] == 255
    else:  # flattened on white
        assert min(clear[:3]) >= 245
    assert abs(solid[0] - 200) <= 8 and solid[1] <= 40 and solid[2] <= 40
    meta = read_metadata(out.output)
    assert meta.request is not None and meta.request.prompt == PROMPT and meta.seed == 77


@pytest.mark.parametrize("fmt", FORMAT_NAMES)
def test_formats_keep_metadata(entry, tmp_path, fmt):
    out = export_file(entry.path, tmp_path / "out", fmt=fmt, long_edge=200, entry=entry)
    assert out.metadata == "kept"
    with Image.open(out.output) as im:
        assert max(im.size) == 200 and im.size == (200, 150)
        assert im.info.get("icc_profile") == srgb_icc()
    meta = read_metadata(out.output)
    assert meta.source == "t2i_studio" and meta.request == gen_request(PROMPT, negative_prompt="blurry, ugly")
    assert meta.seed == entry.seed
    assert meta.source_type and meta.source_type.endswith("trainedAlgorithmicMedia")


@pytest.mark.parametrize("fmt", ["jpeg", "webp"])
def test_jpeg_webp_carry_parameters_in_exif_user_comment(entry, tmp_path, fmt):
    from t2i_studio.core.exif import user_comment
    from t2i_studio.core.image_io import read_raw

    out = export_file(entry.path, tmp_path, fmt=fmt, entry=entry)
    assert user_comment(read_raw(out.output).exif) == read_metadata(entry.path).parameters


@pytest.mark.parametrize("fmt", FORMAT_NAMES)
def test_strip_metadata_removes_all(entry, tmp_path, fmt):
    out = export_file(entry.path, tmp_path, fmt=fmt, strip_metadata=True, entry=entry)
    assert out.metadata == "stripped"
    data = out.output.read_bytes()
    for needle in (b"parameters", b"t2i_studio", b"fox", b"xmpmeta", b"Seed"):
        assert needle not in data, needle
    meta = read_metadata(out.output)
    assert meta.source == "none" and meta.parameters is None
    with Image.open(out.output) as im:
        assert im.info.get("icc_profile") == srgb_icc()  # colour stays


def test_png_export_keeps_foreign_chunks(tmp_path):
    info = PngImagePlugin.PngInfo()
    info.add_text("prompt", '{"3": {"class_type": "KSampler", "inputs": {}}}')
    info.add_text("workflow", '{"nodes": []}')
    src = tmp_path / "comfy.png"
    Image.new("RGBA", (30, 20), (0, 0, 255, 128)).save(src, pnginfo=info)
    out = export_file(src, tmp_path / "o", fmt="png")
    with Image.open(out.output) as im:
        assert im.info["workflow"] == '{"nodes": []}' and im.mode == "RGBA"
    jpeg = export_file(src, tmp_path / "o", fmt="jpeg")  # alpha flattened on white
    with Image.open(jpeg.output) as im:
        assert im.mode == "RGB"


def test_names_sanitised_and_collisions_suffixed(entry, tmp_path):
    first = export_file(entry.path, tmp_path, fmt="png", entry=entry)
    second = export_file(entry.path, tmp_path, fmt="png", entry=entry)
    assert first.output.name == f"{entry.created[:10]}-{entry.seed}-a-fox-red-狐-second-line.png"
    assert second.output.name == first.output.name.replace(".png", "-2.png")
    assert first.output.read_bytes() and first.output.stat().st_size > 0
    evil = export_file(entry.path, tmp_path, fmt="png", name_template="../../{prompt:10}/../etc/passwd",
                       entry=entry)
    assert evil.output.parent == tmp_path


@pytest.mark.parametrize(("stem", "expected"), [
    ("../../etc/passwd", "etc-passwd"), ("..", "image"), ("", "image"), ("CON", "_CON"), ("nul.txt", "_nul.txt"),
    ("a:b*c?d|e<f>g\"h\\i/j", "a-b-c-d-e-f-g-h-i-j"), ("\x00\x1ftab\there", "tab-here"), ("com1", "_com1"),
    ("  .hidden.  ", "hidden"), ("東京 夜景", "東京-夜景"),
])
def test_sanitize_filename(stem, expected):
    assert sanitize_filename(stem) == expected


def test_sanitize_length_limit_in_bytes():
    name = sanitize_filename("狐" * 300)
    assert len(name.encode()) <= 120 and name == "狐" * 40


def test_name_template_fields():
    fields = {"date": "2026-01-02", "time": "101112", "seed": 7, "prompt": "abcdefghijkl", "id": 3, "model": "m",
              "kind": "generate", "width": 8, "height": 9, "stem": "s"}
    assert render_name("{date}-{seed}-{prompt:5}", fields) == "2026-01-02-7-abcde"
    with pytest.raises(ValueError, match="Unknown name template field"):
        render_name("{nope}", fields)
    with pytest.raises(ValueError, match="Bad name template"):
        render_name("{prompt", fields)


def test_run_export_entries_and_files(project, entry, tmp_path):
    results = run_export(ExportRequest(sources=(str(entry.id), str(entry.path)), format="webp"), project)
    assert [r.output.parent for r in results] == [project.folder / "exports"] * 2
    with pytest.raises(StudioError, match="neither an image file nor an entry id"):
        run_export(ExportRequest(sources=("nope",)), project)
    with pytest.raises(StudioError, match="No entry 999"):
        run_export(ExportRequest(sources=("999",)), project)
    with pytest.raises(StudioError, match="entry ids need --project"):
        run_export(ExportRequest(sources=("12",)), None)
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"\x89PNG\r\n\x1a\nbroken")
    with pytest.raises(StudioError):
        run_export(ExportRequest(sources=(str(bad),), out_dir=str(tmp_path / "x")))
    assert not (tmp_path / "x").exists() or not any((tmp_path / "x").iterdir())


def test_run_export_reports_progress_and_stops_between_files(entry, tmp_path):
    seen: list[tuple[int, int]] = []
    run_export(ExportRequest(sources=(str(entry.path),) * 2, out_dir=str(tmp_path / "all")),
               on_progress=lambda done, total: seen.append((done, total)))
    assert seen == [(0, 2), (1, 2), (2, 2)]

    cancel = CancelToken()

    def cancel_after_first(done: int, total: int) -> None:
        if done == 1:
            cancel.cancel()

    with pytest.raises(Cancelled):
        run_export(ExportRequest(sources=(str(entry.path),) * 3, out_dir=str(tmp_path / "some")),
                   on_progress=cancel_after_first, cancel=cancel)
    assert len(list((tmp_path / "some").iterdir())) == 1  # what was written before the cancel stays


def test_request_validation_names_the_problem():
    with pytest.raises(ValueError, match=f"Format must be one of {', '.join(FORMAT_NAMES)}; got 'bmp'"):
        ExportRequest(sources=("a.png",), format="bmp").validate()
    with pytest.raises(ValueError, match="Long edge must be from 16 to 16384"):
        ExportRequest(sources=("a.png",), long_edge=8).validate()
    with pytest.raises(ValueError, match="Nothing to export"):
        ExportRequest(sources=()).validate()
    with pytest.raises(ValueError, match="name template is empty"):
        ExportRequest(sources=("a.png",), name_template=" ").validate()


@pytest.mark.parametrize("fmt", ["png", "jpeg", "tiff"])
def test_the_print_resolution_is_recorded_in_the_file(tmp_path, fmt):
    from PIL import Image as PILImage

    from t2i_studio.core.export import export_file

    source = tmp_path / "in.png"
    PILImage.new("RGB", (40, 30), "teal").save(source)
    out = export_file(source, tmp_path / "out", fmt=fmt, dpi=300).output
    with PILImage.open(out) as image:
        assert tuple(round(float(v)) for v in image.info["dpi"]) == (300, 300)


def test_a_dpi_that_cannot_be_recorded_is_refused(tmp_path):
    from t2i_studio.core.export import ExportRequest

    with pytest.raises(ValueError, match="WebP files cannot record a DPI"):
        ExportRequest(sources=("x.png",), format="webp", dpi=300).validate()
    with pytest.raises(ValueError, match="DPI must be from 36 to 4800"):
        ExportRequest(sources=("x.png",), format="png", dpi=5).validate()
