"""Models ▸ ComfyUI servers: adding (the token in a memory keyring, not in the settings file), editing,
removing with confirmation, checking off the GUI thread through an injected checker, and the menu and
Preferences entries that open it; the window hands each change to its pool and lists the models again."""

from __future__ import annotations

import json
import threading

import pytest
from fake_engine import FakeEngine
from memory_keyring import installed as memory_keyring_installed
from PySide6.QtWidgets import QApplication
from ui_helpers import studio_window

from t2i_studio.core.errors import StudioError
from t2i_studio.core.servers import KEYRING_SERVICE, ServerConfig, configured
from t2i_studio.core.settings import Settings
from t2i_studio.ui.dialogs.preferences import PreferencesDialog
from t2i_studio.ui.dialogs.servers_dialog import ServersDialog


@pytest.fixture(autouse=True)
def memory_keyring(tmp_path, monkeypatch):
    monkeypatch.setenv("T2I_STUDIO_HOME", str(tmp_path / "home"))  # settings of this test's own
    with memory_keyring_installed() as backend:
        yield backend


class FakeCheck:
    """What the engines would say of a server, recording the thread it was asked on."""

    def __init__(self) -> None:
        self.threads: list[str] = []

    def __call__(self, config: ServerConfig) -> dict:
        self.threads.append(threading.current_thread().name)
        if "down" in config.url:
            raise StudioError(f"{config.label} does not answer (connection refused).")
        return {"comfyui_version": "0.3.64", "device": "cpu", "checkpoints": 3}


def make(qtbot, settings: Settings, check=None, answer: bool = True) -> ServersDialog:  # noqa: ANN001
    dialog = ServersDialog(settings, check)
    dialog.questions = []
    dialog.confirm = lambda title, text: dialog.questions.append(text) or answer
    qtbot.addWidget(dialog)
    return dialog


def rows(dialog: ServersDialog) -> list[list[str]]:
    table = dialog.table
    return [[table.item(r, c).text() for c in range(table.columnCount())] for r in range(table.rowCount())]


def fill(dialog: ServersDialog, old: ServerConfig | None = None, **fields) -> object:  # noqa: ANN003
    """The editor for ``old`` with ``fields`` typed in, accepted."""
    editor = dialog.edit_server(old)
    for name, value in fields.items():
        widget = getattr(editor, name)
        if name == "auth":
            widget.setCurrentIndex(widget.findData(value))
        elif name == "verify_tls":
            widget.setChecked(value)
        else:
            widget.setText(value)
    editor.accept()
    return editor


def saved_file() -> str:
    return Settings.path().read_text(encoding="utf-8")


def test_add_with_a_token_keeps_it_in_the_keyring_not_the_settings(qtbot, memory_keyring):
    settings = Settings()
    dialog = make(qtbot, settings)
    changes = []
    dialog.servers_changed.connect(lambda: changes.append(1))
    assert rows(dialog) == [] and "No servers yet" in dialog.status.text()
    editor = fill(dialog, url="gpu.local:8188", name="gpu", auth="bearer", secret="s3cret-token")
    assert editor.result() == editor.DialogCode.Accepted
    assert rows(dialog) == [["gpu", "http://gpu.local:8188", "bearer", "verified", "not checked"]]
    assert changes == [1]
    text = saved_file()
    assert "s3cret-token" not in text
    assert json.loads(text)["servers"] == [{"url": "http://gpu.local:8188", "name": "gpu", "auth": "bearer",
                                            "username": "", "verify_tls": True}]
    assert memory_keyring.secrets == {(KEYRING_SERVICE, "http://gpu.local:8188"): "s3cret-token"}


def test_a_bad_address_or_missing_token_keeps_the_editor_open(qtbot):
    dialog = make(qtbot, Settings())
    editor = fill(dialog, url="ftp://nowhere")
    assert editor.result() != editor.DialogCode.Accepted and "Not a server address" in editor.error.text()
    editor = fill(dialog, url="gpu.local:8188", auth="bearer")
    assert "needs a token" in editor.error.text()
    assert rows(dialog) == []


def test_edit_keeps_the_stored_secret_and_follows_a_new_address(qtbot, memory_keyring):
    settings = Settings()
    dialog = make(qtbot, settings)
    fill(dialog, url="http://a.local:8188", auth="basic", username="me", secret="pw")
    [old] = configured(settings)
    editor = fill(dialog, old, url="https://b.local", name="b", verify_tls=False)  # password left empty
    assert editor.result() == editor.DialogCode.Accepted, editor.error.text()
    assert rows(dialog) == [["b", "https://b.local", "basic as me", "not verified", "not checked"]]
    assert memory_keyring.secrets == {(KEYRING_SERVICE, "https://b.local"): "pw"}  # the old one is gone
    [new] = configured(Settings.load())
    assert (new.url, new.auth, new.username, new.verify_tls) == ("https://b.local", "basic", "me", False)
    fill(dialog, new, auth="none")  # no sign-in any more: its secret leaves the keyring
    assert memory_keyring.secrets == {} and rows(dialog)[0][2] == "none"


def test_remove_asks_first_and_deletes_the_secret(qtbot, memory_keyring):
    settings = Settings()
    dialog = make(qtbot, settings, answer=False)
    fill(dialog, url="gpu.local:8188", auth="bearer", secret="t")
    dialog.table.selectRow(0)
    dialog.remove_selected()
    assert len(dialog.questions) == 1 and "secret leaves the keyring" in dialog.questions[0]
    assert len(rows(dialog)) == 1
    dialog.confirm = lambda *_args: True
    dialog.remove_selected()
    assert rows(dialog) == [] and configured(Settings.load()) == [] and memory_keyring.secrets == {}
    assert dialog.status.text().startswith("Removed gpu.local:8188")


def test_check_says_what_the_server_has_or_why_not(qtbot):
    settings = Settings()
    check = FakeCheck()
    dialog = make(qtbot, settings, check)
    fill(dialog, url="up.local:8188")
    fill(dialog, url="down.local:8188")
    dialog.table.selectRow(0)
    dialog.check_selected()
    assert not dialog.check_button.isEnabled()  # one check at a time
    qtbot.waitUntil(lambda: not dialog.is_busy(), timeout=5000)
    assert dialog.status.text() == "up.local:8188: online: ComfyUI 0.3.64 on cpu, 3 checkpoints"
    assert rows(dialog)[0][4] == "online: ComfyUI 0.3.64 on cpu, 3 checkpoints"
    dialog.table.selectRow(1)
    dialog.check_selected()
    qtbot.waitUntil(lambda: not dialog.is_busy(), timeout=5000)
    assert dialog.status.text() == "down.local:8188: offline: down.local:8188 does not answer (connection refused)."
    assert rows(dialog)[1][4].startswith("offline: ")
    assert threading.main_thread().name not in check.threads and len(check.threads) == 2
    assert dialog.check_button.isEnabled()


def test_check_is_off_without_the_engines(qtbot):
    dialog = make(qtbot, Settings())
    fill(dialog, url="up.local:8188")
    dialog.table.selectRow(0)
    assert not dialog.check_button.isEnabled() and dialog.edit_button.isEnabled()


def test_the_menu_and_preferences_open_it_and_changes_reach_the_pool(qtbot, tmp_path):
    with studio_window(qtbot, tmp_path / "p", {"generate": FakeEngine}) as win:
        handed: list[list[ServerConfig]] = []
        win.use_servers = handed.append
        win.actions_by_id["manage_servers"].trigger()
        [dialog] = [w for w in QApplication.topLevelWidgets() if isinstance(w, ServersDialog) and w.isVisible()]
        fill(dialog, url="gpu.local:8188")
        assert [[s.url for s in configs] for configs in handed] == [["http://gpu.local:8188"]]
        assert configured(win.settings) == configured(Settings.load())
        dialog.close()
        win.show_preferences()
        prefs = next(w for w in QApplication.topLevelWidgets() if isinstance(w, PreferencesDialog))
        prefs.servers.click()
        assert len([w for w in QApplication.topLevelWidgets() if isinstance(w, ServersDialog)
                    and w.isVisible()]) == 1
        prefs.close()
