"""Real ComfyUI servers for the tests (``../shared/comfyui``), on free 127.0.0.1 ports.

The SD 1.5 checkpoint (random weights, real shapes), a LoRA and a ControlNet are written once per
session and linked into each server's base folder. ``comfy_server`` lives for the session, ``second_server``
for a module (each server holds the model in memory); ``spare_server`` is a fresh one per test,
for tests that kill it. Every server is stopped (its whole process group) when its fixture ends,
so no process outlives the tests. Without ``../shared/comfyui`` (a
user's clone) these tests skip, saying why.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from comfyui.sd15_files import (
    CHECKPOINT,
    CONTROLNET,
    LORA,
    write_sd15_checkpoint,
    write_sd15_controlnet,
    write_sd15_lora,
)
from comfyui.server_process import COMFYUI, ComfyServer
from memory_keyring import installed as memory_keyring_installed


@pytest.fixture(autouse=True)
def memory_keyring():
    with memory_keyring_installed() as backend:
        yield backend


@pytest.fixture(scope="session")
def comfy_models(tmp_path_factory) -> Path:
    if not (COMFYUI / "serve").is_file():
        pytest.skip(f"no ComfyUI test server at {COMFYUI} (../shared/comfyui): the ComfyUI tests need it")
    models = tmp_path_factory.mktemp("comfy-models")
    write_sd15_checkpoint(models / "checkpoints" / CHECKPOINT)
    write_sd15_lora(models / "loras" / LORA)
    write_sd15_controlnet(models / "controlnet" / CONTROLNET)
    return models


@pytest.fixture(scope="session")
def comfy_server(comfy_models, tmp_path_factory):
    server = ComfyServer(tmp_path_factory.mktemp("comfy-a"), comfy_models)
    yield server
    server.stop()


@pytest.fixture(scope="module")  # not for the whole session: each server holds the model in memory
def second_server(comfy_models, tmp_path_factory):
    server = ComfyServer(tmp_path_factory.mktemp("comfy-b"), comfy_models)
    yield server
    server.stop()


@pytest.fixture
def spare_server(comfy_models, tmp_path):
    server = ComfyServer(tmp_path / "comfy-spare", comfy_models)
    yield server
    server.stop()


@pytest.fixture
def app_home(tmp_path, monkeypatch) -> Path:
    """A private settings folder, so servers added by a test stay in that test."""
    monkeypatch.setenv("T2I_STUDIO_HOME", str(tmp_path / "home"))
    return tmp_path / "home"
