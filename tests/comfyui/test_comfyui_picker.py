"""The window's model picker lists each server's checkpoints next to the local models, and choosing
one makes a request for the servers that the registry accepts."""

from __future__ import annotations

from pathlib import Path

import pytest

from t2i_studio.app import LazyCatalog
from t2i_studio.core.servers import ServerConfig
from t2i_studio.core.settings import Settings
from t2i_studio.engines.comfyui.pool import ServerPool
from t2i_studio.engines.registry import local_registry
from t2i_studio.ui.prompt_panel import PromptPanel

from comfyui.sd15_files import CHECKPOINT, CONTROLNET

pytestmark = pytest.mark.slow


def test_server_checkpoints_are_picked_like_local_models(comfy_server, app_home, qtbot):
    pool = ServerPool([ServerConfig(comfy_server.url, name="box"), ServerConfig("http://127.0.0.1:9")])
    catalog = LazyCatalog(Settings(), pool)
    assert not [m for m in catalog.list() if m.engine == "comfyui"]  # not asked yet: no network on listing
    catalog.refresh_servers()  # the second server is down: listed without it
    models = catalog.list()
    remote = [(m.kind, m.id, m.name) for m in models if m.engine == "comfyui"]
    assert remote == [("checkpoint", CHECKPOINT, "sd15-random — box"),
                      ("controlnet", CONTROLNET, f"{Path(CONTROLNET).stem} — box")]

    registry = local_registry(pool)
    panel = PromptPanel()
    qtbot.addWidget(panel)
    panel.set_engines(registry.entries("generate"))
    panel.set_models(models)
    panel.set_model(CHECKPOINT, "comfyui")
    panel.prompt.setPlainText("a lighthouse")
    request = panel.request()
    assert (request.engine, request.model.id) == ("comfyui", CHECKPOINT)
    registry.check(request.replace(width=64, height=64))  # the servers can run it: no error


def test_the_servers_dialogs_check_and_a_changed_server_list_reach_the_real_server(comfy_server):
    from t2i_studio.engines.comfyui.client import ServerError
    from t2i_studio.engines.comfyui.pool import check

    answer = check(ServerConfig(comfy_server.url))
    assert answer["comfyui_version"] == "0.3.64" and answer["device"] == "cpu" and answer["checkpoints"] >= 1
    with pytest.raises(ServerError, match="unreachable"):
        check(ServerConfig("http://127.0.0.1:9"))
    pool = ServerPool([ServerConfig("http://127.0.0.1:9")])
    pool.configure([ServerConfig(comfy_server.url)])  # what the dialog hands over after an edit
    assert [s.config.url for s in pool.servers] == [comfy_server.url] and pool.refresh(pool.servers[0])
