"""Jobs on a real ComfyUI server: what comes back, what is saved, what is refused before sending."""

from __future__ import annotations

import json

import numpy as np
import pytest
from comfyui.helpers import comfy_request, ours, pixels, registry_for, run
from comfyui.sd15_files import CHECKPOINT, LORA
from PIL import Image

from t2i_studio.cli import main
from t2i_studio.core import jobs

pytestmark = pytest.mark.slow


def test_cli_generate_on_a_server_saves_pictures_with_our_metadata_and_the_graph(comfy_server, tmp_path, capsys):
    folder = tmp_path / "project"
    assert main(["generate", "a red boat", "--server", comfy_server.url, "--model", CHECKPOINT, "--width", "64",
                 "--height", "64", "--steps", "1", "--seed", "41", "--batch-size", "2",
                 "--scheduler", "DPM++ 2M Karras", "--project", str(folder)]) == 0
    paths = capsys.readouterr().out.split()
    assert len(paths) == 2
    first, second = (pixels(p) for p in paths)
    assert first.shape == (64, 64, 3) and first.std() > 1  # a picture, not a blank
    assert np.abs(first - second).mean() > 1  # image k has its own seed: seed + k
    data = [ours(p) for p in paths]
    assert sorted(d["seed"] for d in data) == [41, 42]
    request = data[0]["request"]
    assert request["engine"] == "comfyui" and request["model"]["id"] == CHECKPOINT
    server = data[0]["fingerprint"]["servers"][0]
    assert server["url"] == comfy_server.url and server["comfyui_version"] == "0.3.64" and server["device"] == "cpu"
    for d in data:  # each image keeps the graph that made it, for ComfyUI to run again
        graph = d["fingerprint"]["prompts"][str(d["seed"])]
        sampler = next(n for n in graph.values() if n["class_type"] == "KSampler")["inputs"]
        assert (sampler["seed"], sampler["sampler_name"], sampler["scheduler"]) == (d["seed"], "dpmpp_2m", "karras")
    with Image.open(paths[0]) as image:
        assert "Steps: 1, Sampler: DPM++ 2M, Schedule type: Karras" in image.text["parameters"]
        # the graph in the PNG "prompt" chunk, where ComfyUI itself looks when the image is dropped on it
        assert json.loads(image.text["prompt"]) == data[0]["fingerprint"]["prompts"][str(data[0]["seed"])]


def test_img2img_uploads_the_init_image_and_starts_from_it(comfy_server, tmp_path):
    registry = registry_for(comfy_server.url)
    outs = {}
    for colour in ("red", "blue"):
        init = tmp_path / f"{colour}.png"
        Image.new("RGB", (96, 80), colour).save(init)  # another size: resized to the request's, as locally
        outcome, _ = run(comfy_request(seed=3, init_image=str(init), strength=0.5), registry, tmp_path / "p")
        assert outcome.state == jobs.FINISHED, outcome.message
        entry = outcome.entries[0]
        assert entry.params["lineage"]["source_image"] == str(init)
        assert entry.params["request"]["mode"] == "img2img"
        outs[colour] = pixels(entry.path)
    assert np.abs(outs["red"] - outs["blue"]).mean() > 1  # same seed, other init image: another picture


def test_a_lora_changes_the_picture_and_is_recorded(comfy_server, tmp_path):
    registry = registry_for(comfy_server.url)
    plain, _ = run(comfy_request(seed=5), registry, tmp_path / "p")
    styled, _ = run(comfy_request(seed=5, loras=((LORA, 1.0),)), registry, tmp_path / "p")
    assert plain.state == styled.state == jobs.FINISHED
    assert np.abs(pixels(plain.entries[0].path) - pixels(styled.entries[0].path)).mean() > 1
    adapters = styled.entries[0].params["request"]["model"]["adapters"]
    assert adapters == [{"source": LORA, "kind": "lora", "weight": 1.0}]
    graph = next(iter(styled.entries[0].params["fingerprint"]["prompts"].values()))
    assert [n["inputs"]["lora_name"] for n in graph.values() if n["class_type"] == "LoraLoader"] == [LORA]


def test_progress_and_live_previews_arrive_from_the_websocket(comfy_server, tmp_path):
    outcome, events = run(comfy_request(steps=2), registry_for(comfy_server.url), tmp_path / "p")
    assert outcome.state == jobs.FINISHED
    progress = [e for e in events if e.kind == jobs.PROGRESS]
    assert progress[-1].step == progress[-1].total == 2
    previews = [e.preview for e in progress if e.preview is not None]
    assert previews and previews[0].size[0] >= 8  # a decoded picture of the latent, mid-run


@pytest.mark.parametrize(("change", "message"), [
    ({"model": "missing.safetensors"}, f"no checkpoint 'missing.safetensors' (it has: {CHECKPOINT})"),
    ({"loras": (("nope.safetensors", 1.0),)}, f"no LoRA 'nope.safetensors' (it has: {LORA})"),
])
def test_what_the_server_lacks_is_refused_before_the_job_is_sent(comfy_server, change, message):
    with pytest.raises(ValueError, match="No ComfyUI server can run this job") as caught:
        registry_for(comfy_server.url).check(comfy_request(**change))
    assert message in str(caught.value)


def test_variation_seeds_are_refused_with_what_to_do(comfy_server):
    request = comfy_request()
    request = request.replace(sampling=request.sampling.replace(variation_seed=3, variation_strength=0.4))
    with pytest.raises(ValueError, match="cannot blend variation seeds. Set the variation strength to 0"):
        registry_for(comfy_server.url).check(request)


def test_cli_unknown_model_is_one_error_line(comfy_server, tmp_path, capsys):
    assert main(["generate", "x", "--server", comfy_server.url, "--model", "typo.safetensors", "--width", "64",
                 "--height", "64", "--project", str(tmp_path / "p")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "no checkpoint 'typo.safetensors'" in err
    assert not (tmp_path / "p").exists()  # nothing was made


def test_servers_commands_keep_the_secret_in_the_keyring(comfy_server, app_home, memory_keyring, capsys,
                                                         monkeypatch):
    import io

    monkeypatch.setattr("sys.stdin", io.StringIO("s3cret-token\n"))
    assert main(["servers", "add", comfy_server.url, "--name", "box", "--token"]) == 0
    settings_text = (app_home / "config" / "settings.json").read_text()
    assert "s3cret-token" not in settings_text
    assert json.loads(settings_text)["servers"][0]["auth"] == "bearer"
    assert "s3cret-token" in memory_keyring.secrets.values()
    capsys.readouterr()
    assert main(["servers", "check", "box"]) == 0  # sent with the bearer header; this server ignores it
    assert capsys.readouterr().out.strip() == "box: ComfyUI 0.3.64 on cpu, 1 checkpoint(s), 1 LoRA(s), 1 ControlNet(s)"
    assert main(["servers", "list"]) == 0
    assert "box\t" + comfy_server.url in capsys.readouterr().out
    assert main(["servers", "remove", "box"]) == 0
    assert not memory_keyring.secrets
    assert main(["servers", "check"]) == 2
    assert "No servers set up" in capsys.readouterr().err


def test_inpainting_on_a_server_redoes_the_mask_and_keeps_the_rest_exactly(comfy_server, tmp_path):
    from PIL import ImageDraw

    from t2i_studio.core.requests import ImageInputs

    source, mask = tmp_path / "photo.png", tmp_path / "mask.png"
    Image.new("RGB", (80, 64), (40, 120, 200)).save(source)
    drawn = Image.new("L", (80, 64), 0)
    ImageDraw.Draw(drawn).rectangle((24, 16, 55, 47), fill=255)
    drawn.save(mask)
    request = comfy_request(seed=3).replace(mode="inpaint", images=ImageInputs(
        str(source), 1.0, mask=str(mask), mask_blur=0, inpaint_area="masked", padding=8))
    outcome, _ = run(request, registry_for(comfy_server.url), tmp_path / "p")
    assert outcome.state == jobs.FINISHED, outcome.message
    entry = outcome.entries[0]
    made = pixels(entry.path)
    assert made.shape == (64, 80, 3)
    outside = np.asarray(drawn) == 0
    assert (made[outside] == (40, 120, 200)).all()
    assert np.abs(made[np.asarray(drawn) == 255] - (40, 120, 200)).mean() > 5
    graph = next(iter(entry.params["fingerprint"]["prompts"].values()))
    assert "SetLatentNoiseMask" in {n["class_type"] for n in graph.values()}
    assert entry.params["lineage"]["mask_image"] == str(mask)


def test_hires_fix_on_a_server_is_a_second_sampler_at_the_target_size(comfy_server, tmp_path):
    from t2i_studio.core.requests import Hires

    request = comfy_request(seed=4).replace(hires=Hires(scale=1.5, upscaler="lanczos", strength=0.5))
    outcome, _ = run(request, registry_for(comfy_server.url), tmp_path / "p")
    assert outcome.state == jobs.FINISHED, outcome.message
    entry = outcome.entries[0]
    assert pixels(entry.path).shape == (96, 96, 3)
    graph = next(iter(entry.params["fingerprint"]["prompts"].values()))
    samplers = [n["inputs"] for n in graph.values() if n["class_type"] == "KSampler"]
    assert sorted(s["denoise"] for s in samplers) == [0.5, 1.0]
    assert "Hires upscale: 1.5" in Image.open(entry.path).text["parameters"]


def test_a_hires_upscaler_model_the_server_lacks_is_refused_before_sending(comfy_server):
    from t2i_studio.core.requests import Hires

    request = comfy_request().replace(hires=Hires(upscaler="4x-UltraSharp.pth"))
    with pytest.raises(ValueError, match="no upscaler model '4x-UltraSharp.pth'"):
        registry_for(comfy_server.url).check(request)
