"""The ComfyUI servers' models reach the window's picker without freezing it: the local models show at
once, the servers are asked off the GUI thread and their models join the list when they answer."""

from __future__ import annotations

import threading
import time

from fake_engine import FakeEngine
from ui_helpers import StaticCatalog, studio_window

from t2i_studio.core.catalog import ModelInfo

LOCAL = ModelInfo(id="fake/model", name="fake model", source="hub", family="sd", size_bytes=1)
REMOTE = ModelInfo(id="v1-5.safetensors", name="v1-5 — box", source="comfyui", family="unknown", size_bytes=0,
                   engine="comfyui")


class SlowServers(StaticCatalog):
    """A catalog whose servers answer only when ``answer`` is set (a far-away or sleepy server)."""

    def __init__(self) -> None:
        super().__init__([LOCAL])
        self.answer, self.asked_on = threading.Event(), []

    def refresh_servers(self) -> list[ModelInfo]:
        self.asked_on.append(threading.current_thread())
        self.answer.wait(10)
        self.models = [LOCAL, REMOTE]
        return [REMOTE]


def test_a_slow_server_leaves_the_window_usable_and_its_models_arrive_later(qtbot, tmp_path):
    catalog = SlowServers()
    with studio_window(qtbot, tmp_path / "proj", {"generate": lambda: FakeEngine("generate")}, models=[LOCAL],
                       catalog=catalog) as window:
        picker = window.prompt_panel.model
        started = time.monotonic()
        window.refresh_models()
        assert time.monotonic() - started < 1.0  # the GUI thread did not wait for the servers
        assert [picker.itemData(i) for i in range(picker.count())] == [LOCAL.id]
        qtbot.waitUntil(lambda: bool(catalog.asked_on))
        assert threading.current_thread() not in catalog.asked_on
        catalog.answer.set()
        qtbot.waitUntil(lambda: picker.count() == 2, timeout=5000)
        assert picker.itemData(1) == REMOTE.id
