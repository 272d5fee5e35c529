"""Real ComfyUI servers for the tests (``../shared/comfyui``), on free 127.0.0.1 ports.

The SD 1.5 checkpoint (random weights, real shapes) and a LoRA are written once per session and
linked into each server's base folder. ``comfy_server`` lives for the session, ``second_server``
for a module (each server holds the model in memory); ``spare_server`` is a fresh one per test,
for tests that kill it. Every server is stopped (its whole process group) when its fixture ends,
so no process outlives the tests. Without ``../shared/comfyui`` (a
user's clone) these tests skip, saying why.
"""

from __future__ import annotations

from pathlib import Path

import keyring
import pytest
from comfyui.sd15_files import CHECKPOINT, LORA, write_sd15_checkpoint, write_sd15_lora
from comfyui.server_process import COMFYUI, ComfyServer
from keyring.backend import KeyringBackend
from keyring.errors import PasswordDeleteError


class MemoryKeyring(KeyringBackend):
    """An offline keyring for the tests: secrets in a dict, gone with the process."""

    priority = 1  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.secrets: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.secrets.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.secrets[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        if self.secrets.pop((service, username), None) is None:
            raise PasswordDeleteError(username)


@pytest.fixture(autouse=True)
def memory_keyring():
    previous = keyring.get_keyring()
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    yield backend
    keyring.set_keyring(previous)


@pytest.fixture(scope="session")
def comfy_models(tmp_path_factory) -> Path:
    if not (COMFYUI / "serve").is_file():
        pytest.skip(f"no ComfyUI test server at {COMFYUI} (../shared/comfyui): the ComfyUI tests need it")
    models = tmp_path_factory.mktemp("comfy-models")
    write_sd15_checkpoint(models / "checkpoints" / CHECKPOINT)
    write_sd15_lora(models / "loras" / LORA)
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
