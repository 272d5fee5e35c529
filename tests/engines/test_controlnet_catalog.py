"""ControlNets in the model catalog: a diffusers folder, a single .safetensors file (diffusers' layout or
the original one of A1111's extension) and a cached hub repo are listed as ControlNets of their family
(SD or SDXL), added through the same code as a user's file; hub ControlNets download their config and
safetensors weights; the request's check refuses a ControlNet of another family or something that is
not one; canny's thresholds reach the engine's maps; an engine without ControlNets refuses them."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
import tiny_models
from PIL import Image, ImageDraw
from request_builder import gen_request
from safetensors.numpy import save_file

from t2i_studio.core.catalog import CHECKPOINT, CONTROLNET
from t2i_studio.core.engine import CancelToken
from t2i_studio.core.requests import Control
from t2i_studio.core.settings import Settings, hf_cache_dir
from t2i_studio.engines import controlnet_files, controlnets, models, starter
from t2i_studio.engines.registry import local_entries, local_registry

WEIGHTS = "diffusion_pytorch_model.safetensors"


@pytest.fixture(scope="module")
def nets(tmp_path_factory, tiny_sd_path, tiny_sdxl_path):
    root = tmp_path_factory.mktemp("controlnets")
    made = {"sd": tiny_models.build_controlnet(tiny_sd_path, root / "sd-canny"),
            "sdxl": tiny_models.build_controlnet(tiny_sdxl_path, root / "sdxl-canny")}
    for family in ("sd", "sdxl"):  # one file each, as diffusers' layout saves it
        made[f"{family}-file"] = root / f"{family}-canny-file.safetensors"
        shutil.copyfile(made[family] / WEIGHTS, made[f"{family}-file"])
    return made


@pytest.fixture(autouse=True)
def own_home(tmp_path, monkeypatch):
    """Added models are saved in the settings: a home of each test's own."""
    monkeypatch.setenv("T2I_STUDIO_HOME", str(tmp_path / "home"))


def _original_layout(path, sdxl: bool):
    """A ControlNet file in the layout of A1111's extension (tensor names are what tell it)."""
    tensors = {"control_model.input_hint_block.0.weight": np.zeros((4, 3, 3, 3), np.float32),
               "control_model.zero_convs.0.0.weight": np.zeros((4, 4, 1, 1), np.float32)}
    if sdxl:
        tensors["control_model.label_emb.0.0.weight"] = np.zeros((4, 8), np.float32)
    save_file(tensors, str(path))
    return path


@pytest.fixture
def sketch(tmp_path):
    path = tmp_path / "sketch.png"
    image = Image.new("RGB", (64, 64), "white")
    ImageDraw.Draw(image).rectangle((12, 12, 50, 50), outline="black", width=4)
    image.save(path)
    return str(path)


def test_added_controlnets_are_listed_as_controlnets_of_their_family(nets, tiny_sd_path, tmp_path):
    catalog = models.HubModelCatalog(Settings())
    original = {"sd": _original_layout(tmp_path / "control_v11p_sd15_canny.safetensors", sdxl=False),
                "sdxl": _original_layout(tmp_path / "controlnet-sdxl-canny.safetensors", sdxl=True)}
    added = {name: catalog.add(str(path)) for name, path in
             {**nets, "sd-original": original["sd"], "sdxl-original": original["sdxl"]}.items()}
    assert {name: (info.kind, info.family, info.source) for name, info in added.items()} == {
        "sd": (CONTROLNET, "sd", "folder"), "sdxl": (CONTROLNET, "sdxl", "folder"),
        "sd-file": (CONTROLNET, "sd", "file"), "sdxl-file": (CONTROLNET, "sdxl", "file"),
        "sd-original": (CONTROLNET, "sd", "file"), "sdxl-original": (CONTROLNET, "sdxl", "file")}
    assert added["sdxl-original"].name == "controlnet-sdxl-canny"
    model = catalog.add(str(tiny_sd_path))
    listed = {info.id: info for info in catalog.list()}
    assert listed[model.id].kind == CHECKPOINT and listed[model.id].family == "sd"
    assert all(listed[info.id] == info for info in added.values())  # kept in the settings, listed again


def test_what_is_not_a_controlnet_stays_a_model_or_is_refused(tiny_sd_path, tmp_path):
    assert controlnet_files.family(tiny_sd_path) is None  # a pipeline folder
    damaged = tmp_path / "cut.safetensors"
    damaged.write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00{\"a\":")
    with pytest.raises(Exception, match="damaged"):
        models.HubModelCatalog(Settings()).add(str(damaged))


def test_a_cached_hub_controlnet_is_listed_and_removed(nets):
    repo = hf_cache_dir() / "models--org--tiny-controlnet-sdxl"
    shutil.copytree(nets["sdxl"], repo / "snapshots" / ("c" * 40))  # the cache's layout, files copied
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text("c" * 40)
    catalog = models.HubModelCatalog(Settings())
    [info] = [m for m in catalog.list() if m.id == "org/tiny-controlnet-sdxl"]
    assert (info.kind, info.family, info.source, info.name) == (CONTROLNET, "sdxl", "hub", "tiny-controlnet-sdxl")
    assert catalog.remove(info.id).startswith("Deleted org/tiny-controlnet-sdxl")
    assert not repo.exists()


def test_a_hub_controlnet_downloads_its_config_and_safetensors_weights(monkeypatch, nets, tmp_path):
    files = ["config.json", WEIGHTS, "diffusion_pytorch_model.bin", "diffusion_pytorch_model.fp16.safetensors",
             "README.md", "images/sample.png"]
    assert models._wanted(files) == ["config.json", WEIGHTS]
    assert models._wanted(["config.json", "diffusion_pytorch_model.bin"]) == []  # pickle weights only
    import huggingface_hub

    snapshot = tmp_path / "snapshot"
    snapshot.mkdir()
    shutil.copyfile(nets["sd"] / "config.json", snapshot / "config.json")
    sizes = {"config.json": 100, WEIGHTS: 4000}
    monkeypatch.setattr(models, "_repo_files", lambda repo, rev: (list(sizes.items()), "abc123"))
    monkeypatch.setattr(huggingface_hub, "hf_hub_download", lambda repo, name, revision=None, tqdm_class=None:
                        str(snapshot / name))
    monkeypatch.setattr(models, "cached_snapshot", lambda repo, rev: None)  # no pipeline of that name
    monkeypatch.setattr(controlnet_files, "cached", lambda repo, rev: snapshot)
    seen = []
    info = models.HubModelCatalog(Settings()).download("org/canny", None, lambda d, t: seen.append((d, t)),
                                                       CancelToken())
    assert (info.kind, info.family, info.source) == (CONTROLNET, "sd", "hub") and seen[-1] == (4100, 4100)


@pytest.mark.parametrize("net, message", [
    ("sdxl-file", "sdxl-canny-file.safetensors is a ControlNet for SDXL models, and the chosen model is SD 1.x/2.x"),
    ("pipeline", "model is not a ControlNet \\(neither a diffusers ControlNet folder nor"),
])
def test_the_check_refuses_a_controlnet_of_another_family_or_none(nets, tiny_sd_path, sketch, net, message):
    model = str(tiny_sd_path) if net == "pipeline" else str(nets[net])
    request = gen_request("a house", model=str(tiny_sd_path), width=64, height=64,
                          controls=(Control(sketch, model, "canny"),))
    with pytest.raises(ValueError, match=message):
        local_registry().check(request)
    local_registry().check(request.replace(images=request.images.replace(
        controls=(Control(sketch, str(nets["sd-file"]), "canny"),))))  # a file of its family passes


def test_canny_thresholds_reach_the_engines_control_maps(tmp_path):
    path = tmp_path / "steps.png"
    Image.fromarray(np.repeat(np.arange(0, 256, 32, dtype=np.uint8), 8)[None].repeat(64, 0)).save(path)
    edges = {}
    for low, high in ((10, 40), (200, 250)):
        made = controlnets.arguments((Control(str(path), "net", "canny", canny_low=low, canny_high=high),),
                                     (64, 64), "image")["image"]
        edges[low] = int((np.asarray(made) > 127).sum())
    assert edges[10] > 0 and edges[200] == 0  # steps of 32 grey levels are edges only for low thresholds


def test_an_engine_without_controlnets_refuses_them(sketch):
    declared = {entry.name: entry.controls for entry in local_entries()}
    assert declared["diffusers"] and not declared[starter.ENGINE]
    request = gen_request("a house", model=starter.MODEL_ID, engine=starter.ENGINE, width=64, height=64,
                          controls=(Control(sketch, "/nets/canny", "scribble"),))
    with pytest.raises(ValueError, match="cannot use ControlNets: remove the control inputs"):
        local_registry().check(request)


def test_a_controlnet_folder_is_read_by_its_config(nets, tmp_path):
    folder = tmp_path / "renamed"
    shutil.copytree(nets["sdxl"], folder)
    config = json.loads((folder / "config.json").read_text())
    assert controlnet_files.family(folder) == "sdxl"
    (folder / "config.json").write_text(json.dumps({**config, "_class_name": "UNet2DConditionModel"}))
    assert controlnet_files.family(folder) is None
