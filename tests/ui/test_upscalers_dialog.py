"""Models ▸ Upscalers: the library in a temp folder, described off the GUI thread by an injected
``describe``; adding (a pickle only when allowed), refusing a file that is no upscaler, removing
with confirmation."""

from __future__ import annotations

import threading

import pytest
from fake_engine import FakeEngine
from PySide6.QtWidgets import QApplication, QPushButton
from ui_helpers import studio_window

from t2i_studio.core.engine import EngineError
from t2i_studio.ui.dialogs.upscalers_dialog import UpscalersDialog


class FakeDescribe:
    """What the engines would say of a file, recording where and how it was asked."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, bool, str]] = []

    def __call__(self, path, allow_unsafe):  # noqa: ANN001, ANN204
        self.calls.append((path.name, allow_unsafe, threading.current_thread().name))
        if "lora" in path.name:
            raise EngineError(f"{path.name} is not an upscaler model this app knows (ESRGAN, …).")
        return {"architecture": "ESRGAN", "scale": 4}


@pytest.fixture(autouse=True)
def own_home(tmp_path, monkeypatch):
    """A home of this test's own: the settings that name the library's folder start empty."""
    monkeypatch.setenv("T2I_STUDIO_HOME", str(tmp_path / "home"))


@pytest.fixture
def describe() -> FakeDescribe:
    return FakeDescribe()


@pytest.fixture
def folder(tmp_path):
    library = tmp_path / "upscalers"
    library.mkdir()
    (library / "4x-Ultra.safetensors").write_bytes(b"u" * 2048)
    (library / "2x-Old.pth").write_bytes(b"o" * 1024)
    return library


def make(qtbot, describe, folder, answer: bool = True) -> UpscalersDialog:
    dialog = UpscalersDialog(describe, folder)
    dialog.questions = []
    dialog.confirm = lambda title, text: dialog.questions.append(text) or answer
    qtbot.addWidget(dialog)
    return dialog


def rows(dialog: UpscalersDialog) -> list[list[str]]:
    table = dialog.table
    return [[table.item(r, c).text() for c in range(table.columnCount())] for r in range(table.rowCount())]


def test_lists_the_folder_and_looks_into_safetensors_only(qtbot, describe, folder):
    dialog = make(qtbot, describe, folder)
    qtbot.waitUntil(lambda: not dialog.is_busy())
    assert rows(dialog) == [["2x-Old", "pickle: not opened", "", "1 KB"], ["4x-Ultra", "ESRGAN", "4×", "2 KB"]]
    [(name, allowed, thread)] = describe.calls
    assert (name, allowed) == ("4x-Ultra.safetensors", False) and thread != threading.current_thread().name


def test_a_listed_file_that_is_no_upscaler_says_why_and_the_folder_opens(qtbot, describe, tmp_path):
    folder = tmp_path / "not yet there"
    dialog = make(qtbot, describe, folder)
    opened: list = []
    dialog.open_url = opened.append
    next(b for b in dialog.findChildren(QPushButton) if b.text() == "Open &folder").click()
    assert folder.is_dir() and opened[0].toLocalFile() == str(folder)
    (folder / "style-lora.safetensors").write_bytes(b"l")
    again = make(qtbot, describe, folder)
    qtbot.waitUntil(lambda: not again.is_busy())
    assert rows(again) == [["style-lora", "not an upscaler", "", "1 B"]]
    assert "is not an upscaler model" in again.table.item(0, 1).toolTip()


def test_adds_a_safetensors_file_off_the_gui_thread(qtbot, describe, folder, tmp_path):
    dialog = make(qtbot, describe, folder)
    new = tmp_path / "8x-New.safetensors"
    new.write_bytes(b"n" * 10)
    with qtbot.waitSignal(dialog.upscalers_changed, timeout=5000):
        dialog.add_file(new)
        assert not dialog.add_button.isEnabled()  # one at a time
    assert (folder / "8x-New.safetensors").read_bytes() == new.read_bytes()
    assert dialog.status.text() == "Added 8x-New (ESRGAN, 4×)."
    assert ["8x-New", "ESRGAN", "4×", "10 B"] in rows(dialog) and not dialog.questions
    assert all(thread != threading.current_thread().name for _name, _allowed, thread in describe.calls)
    qtbot.waitUntil(lambda: not dialog.is_busy())
    assert dialog.add_button.isEnabled()


def test_a_pickle_is_added_only_when_allowed(qtbot, describe, folder, tmp_path):
    pickle = tmp_path / "4x-Pickled.pth"
    pickle.write_bytes(b"p" * 10)
    refused = make(qtbot, describe, folder, answer=False)
    refused.add_file(pickle)
    assert "can run code" in refused.questions[0] and refused.status.text() == "4x-Pickled.pth was not added."
    assert not (folder / pickle.name).exists() and ("4x-Pickled.pth", True) not in [c[:2] for c in describe.calls]
    allowed = make(qtbot, describe, folder, answer=True)
    with qtbot.waitSignal(allowed.upscalers_changed, timeout=5000):
        allowed.add_file(pickle)
    assert (folder / pickle.name).is_file() and ("4x-Pickled.pth", True) in [c[:2] for c in describe.calls]
    assert ["4x-Pickled", "ESRGAN", "4×", "10 B"] in rows(allowed)  # known once allowed
    qtbot.waitUntil(lambda: not allowed.is_busy())


def test_a_file_that_is_no_upscaler_is_not_copied(qtbot, describe, folder, tmp_path):
    dialog = make(qtbot, describe, folder)
    lora = tmp_path / "style-lora.safetensors"
    lora.write_bytes(b"l")
    dialog.add_file(lora)
    qtbot.waitUntil(lambda: dialog.status.text().startswith("Could not add"), timeout=5000)
    assert dialog.status.text().startswith("Could not add style-lora.safetensors: style-lora.safetensors is "
                                           "not an upscaler")
    assert not (folder / lora.name).exists()
    qtbot.waitUntil(lambda: not dialog.is_busy())
    assert dialog.add_button.isEnabled()


def test_remove_asks_first(qtbot, describe, folder):
    keep = make(qtbot, describe, folder, answer=False)
    keep.table.selectRow(1)
    keep.remove_selected()
    assert "Delete 4x-Ultra (2 KB)" in keep.questions[0] and (folder / "4x-Ultra.safetensors").is_file()
    remove = make(qtbot, describe, folder, answer=True)
    remove.table.selectRow(1)
    with qtbot.waitSignal(remove.upscalers_changed):
        remove.remove_selected()
    assert not (folder / "4x-Ultra.safetensors").exists() and [r[0] for r in rows(remove)] == ["2x-Old"]
    assert remove.status.text() == "Removed 4x-Ultra."


def test_without_the_engines_nothing_can_be_added(qtbot, folder):
    dialog = make(qtbot, None, folder)
    assert not dialog.add_button.isEnabled() and rows(dialog)[1][1] == "…"


def test_the_models_menu_opens_it_over_the_preferred_folder(qtbot, tmp_path, describe, folder):
    with studio_window(qtbot, tmp_path / "p", {"generate": FakeEngine}) as win:
        win.describe_upscaler = describe
        win.settings.upscaler_folder = str(folder)
        win.window_settings.save(win.project)  # the library reads the saved choice
        win.actions_by_id["manage_upscalers"].trigger()
        [dialog] = [w for w in QApplication.topLevelWidgets() if isinstance(w, UpscalersDialog) and w.isVisible()]
        assert dialog.folder == folder
        qtbot.waitUntil(lambda: not dialog.is_busy())
        assert [r[0] for r in rows(dialog)] == ["2x-Old", "4x-Ultra"]
        dialog.close()


def test_the_engines_describe_real_files_and_refuse_what_is_no_upscaler(qtbot, tmp_path):
    import tiny_upscalers

    from t2i_studio.engines.upscalers import describe_upscaler

    library = tmp_path / "library"
    library.mkdir()
    tiny_upscalers.compact(library / "4x-Tiny.safetensors")
    dialog = make(qtbot, describe_upscaler, library, answer=True)
    qtbot.waitUntil(lambda: not dialog.is_busy(), timeout=60_000)
    assert rows(dialog)[0][:3] == ["4x-Tiny", "RealESRGAN Compact", "4×"]
    old = tiny_upscalers.esrgan(tmp_path / "2x-Old.pth")
    with qtbot.waitSignal(dialog.upscalers_changed, timeout=60_000):
        dialog.add_file(old)  # a pickle: asked, then read through spandrel's restricted unpickler
    assert dialog.status.text() == "Added 2x-Old (ESRGAN, 2×)." and (library / "2x-Old.pth").is_file()
    qtbot.waitUntil(lambda: not dialog.is_busy())
    dialog.add_file(tiny_upscalers.not_an_upscaler(tmp_path / "weights.safetensors"))
    qtbot.waitUntil(lambda: not dialog.is_busy(), timeout=60_000)
    assert dialog.status.text().startswith("Could not add weights.safetensors: weights.safetensors is not an "
                                           "upscaler model") and not (library / "weights.safetensors").exists()
