"""What an inpainted, outpainted, hires-fixed or upscaled image carries: A1111's keys (so other
tools read it), its input pictures copied into the project by hash, and the dpi of a print upscale."""

from __future__ import annotations

from pathlib import Path

from PIL import Image
from project_testkit import gen_result
from request_builder import gen_request

from t2i_studio.core.a1111 import build_parameters, parameters_to_request, parse_parameters
from t2i_studio.core.engine import Result
from t2i_studio.core.metadata import read_metadata
from t2i_studio.core.requests import Hires, Upscale, UpscaleRequest


def test_hires_fix_is_written_with_a1111_keys_and_read_back():
    request = gen_request("a lighthouse", model="m", width=512, height=384,
                          hires=Hires(scale=2.0, upscaler="/models/4x-UltraSharp.pth", steps=12, strength=0.35))
    text = build_parameters(request, 5, {})
    params = parse_parameters(text)["params"]
    assert (params["Hires upscale"], params["Hires steps"], params["Hires upscaler"]) == ("2", "12", "4x-UltraSharp")
    assert params["Denoising strength"] == "0.35" and params["Size"] == "512x384"
    back, _seed, _parsed = parameters_to_request(text)
    assert back.hires == Hires(scale=2.0, upscaler="4x-UltraSharp", steps=12, strength=0.35)


def test_a_hires_resize_and_the_latent_upscaler_round_trip():
    request = gen_request("x", model="m", hires=Hires(width=1024, height=768, upscaler="latent"))
    params = parse_parameters(build_parameters(request, 1, {}))["params"]
    assert (params["Hires resize"], params["Hires upscaler"]) == ("1024x768", "Latent")
    assert "Hires steps" not in params  # 0: as many as the first pass, A1111's default too
    assert parameters_to_request(build_parameters(request, 1, {}))[0].hires == request.hires


def test_inpainting_keys_as_a1111_writes_them():
    request = gen_request("x", model="m", mode="inpaint", init_image="/a.png", mask="/m.png", mask_blur=6,
                          inpaint_area="masked", padding=48, masked_content="latent_noise", strength=0.6)
    params = parse_parameters(build_parameters(request, 1, {}))["params"]
    assert params["Mask blur"] == "6" and params["Inpaint area"] == "Only masked"
    assert params["Masked area padding"] == "48" and params["Masked content"] == "latent noise"
    assert params["Denoising strength"] == "0.6"


def test_init_image_and_mask_are_kept_in_the_project_by_hash(project, tmp_path):
    source, mask = tmp_path / "source.png", tmp_path / "mask.png"
    Image.new("RGB", (64, 48), (10, 120, 30)).save(source)
    Image.new("L", (64, 48), 255).save(mask)
    request = gen_request("x", model="m", mode="inpaint", init_image=str(source), mask=str(mask))
    entry = project.save_result(request, gen_result(request, lineage={"source_image": str(source),
                                                                       "mask_image": str(mask)}))[0]
    source.unlink()
    mask.unlink()
    lineage = read_metadata(entry.path).data["lineage"]
    kept = project.folder / lineage["source_stored"]
    assert Image.open(kept).getpixel((3, 3)) == (10, 120, 30)
    assert Image.open(project.folder / lineage["mask_stored"]).getpixel((3, 3)) == 255
    assert kept.parent.name == "inputs" and lineage["source_stored"] != lineage["mask_stored"]


def test_a_painted_mask_is_kept_once_and_named_by_its_pixels(project):
    first = project.keep_input(Image.new("L", (32, 32), 255))
    again = project.keep_input(Image.new("L", (32, 32), 255))
    assert first == again and first.parent == project.folder / "inputs"
    assert Path(first).stat().st_size > 0


def test_a_print_upscale_writes_its_dpi_into_the_png(project, tmp_path):
    source = tmp_path / "small.png"
    Image.new("RGB", (40, 30)).save(source)
    request = UpscaleRequest(source=str(source), upscale=Upscale(width=2480, height=1860, dpi=300))
    result = Result(images=[Image.new("RGB", (2480, 1860))], seeds=[0], lineage={"source_image": str(source)})
    entry = project.save_result(request, result)[0]
    with Image.open(entry.path) as saved:
        assert tuple(round(v) for v in saved.info["dpi"]) == (300, 300)
    assert entry.kind == "upscale" and "Upscale of small.png" in entry.prompt
