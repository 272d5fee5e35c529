"""Model manager dialog over a fake ModelCatalog (the real one needs the network to download)."""

from __future__ import annotations

import threading
import time

import pytest

from t2i_studio.core.catalog import ModelInfo
from t2i_studio.core.engine import CancelToken
from t2i_studio.ui.dialogs.model_manager import LARGE_DOWNLOAD_BYTES, ModelManagerDialog, download_warning
from t2i_studio.worker.tasks import BackgroundTask

GB = 1024**3


class FakeCatalog:
    """Implements core.catalog.ModelCatalog; downloads advance one chunk per ``step`` release."""

    def __init__(self, size: int | None = 100 * 1024**2, free: int = 500 * GB) -> None:
        self.models = [ModelInfo("org/tiny-sd", "tiny-sd", "hub", "sd", 3 * 1024**2, "/cache/tiny"),
                       ModelInfo("/models/x.safetensors", "x", "file", "sdxl", 2 * GB, "/models/x.safetensors")]
        self.size, self.free = size, free
        self.step = threading.Semaphore(0)
        self.downloads: list[str] = []

    def list(self) -> list[ModelInfo]:
        return list(self.models)

    def add(self, path: str) -> ModelInfo:
        if not path.endswith(".safetensors"):
            raise ValueError(f"{path} is not a .safetensors file or a diffusers folder")
        info = ModelInfo(path, path.rsplit("/", 1)[-1], "file", "sd", 1000, path)
        self.models.append(info)
        return info

    def download(self, repo_id, revision, on_progress, cancel: CancelToken) -> ModelInfo:
        self.downloads.append(repo_id)
        total, chunks = self.size or 0, 4
        for k in range(chunks + 1):
            deadline = time.monotonic() + 10
            while not self.step.acquire(timeout=0.01):
                cancel.raise_if_cancelled()
                if time.monotonic() > deadline:
                    raise RuntimeError("the test did not release the download")
            cancel.raise_if_cancelled()
            on_progress(total * k // chunks, total)
        info = ModelInfo(repo_id, repo_id.split("/")[-1], "hub", "sd", total, f"/cache/{repo_id}")
        self.models.append(info)
        return info

    def download_size(self, repo_id, revision) -> int | None:
        return self.size

    def free_disk_bytes(self) -> int:
        return self.free


@pytest.fixture
def dialog(qtbot):
    catalog = FakeCatalog()
    dlg = ModelManagerDialog(catalog)
    qtbot.addWidget(dlg)
    dlg.confirm = lambda title, text: dlg.asked.append(text) or dlg.answer  # type: ignore[method-assign]
    dlg.asked, dlg.answer = [], True
    yield dlg, catalog
    catalog.step.release(100)
    dlg.stop()


def test_lists_models_with_size(dialog):
    dlg, _ = dialog
    assert dlg.table.rowCount() == 2
    assert dlg.table.item(0, 0).text() == "tiny-sd"
    assert dlg.table.item(0, 3).text() == "3.0 MB"
    assert dlg.table.item(1, 3).text() == "2.0 GB"
    assert "2 models" in dlg.summary.text()


def test_add_file_and_refuse_bad_path(dialog, qtbot):
    dlg, _ = dialog
    with qtbot.waitSignal(dlg.models_changed):
        assert dlg.add_path("/m/new.safetensors") is not None
    assert dlg.table.rowCount() == 3
    assert dlg.add_path("/m/evil.ckpt") is None
    assert "not a .safetensors" in dlg.status.text()


def test_download_shows_progress_and_finishes(dialog, qtbot):
    dlg, catalog = dialog
    dlg.repo_edit.setText("org/new-model")
    dlg.start_download()
    qtbot.waitUntil(lambda: dlg.cancel_button.isEnabled())
    assert not dlg.download_button.isEnabled()
    catalog.step.release(3)  # 0%, 25%, 50%
    qtbot.waitUntil(lambda: dlg.progress.value() == 500)
    assert "50.0 MB of 100.0 MB" in dlg.progress.format()
    with qtbot.waitSignal(dlg.models_changed):
        catalog.step.release(2)
    qtbot.waitUntil(lambda: not dlg.is_busy())
    assert dlg.progress.value() == 1000
    assert dlg.table.rowCount() == 3 and "Downloaded new-model" in dlg.status.text()
    assert dlg.download_button.isEnabled() and not dlg.cancel_button.isEnabled()
    assert dlg.asked == []  # small download, plenty of space: no question


def test_cancel_download(dialog, qtbot):
    dlg, catalog = dialog
    dlg.repo_edit.setText("org/new-model")
    dlg.start_download()
    qtbot.waitUntil(lambda: dlg.cancel_button.isEnabled())
    catalog.step.release(1)
    qtbot.waitUntil(lambda: dlg.progress.format() != "" and dlg.progress.maximum() == 1000)
    dlg.cancel_button.click()
    catalog.step.release(1)
    qtbot.waitUntil(lambda: not dlg.is_busy())
    assert dlg.status.text() == "Download cancelled."
    assert dlg.progress.value() == 0 and dlg.table.rowCount() == 2
    assert dlg.download_button.isEnabled()


def test_large_download_and_low_disk_ask_first(dialog, qtbot):
    dlg, catalog = dialog
    catalog.size, dlg.answer = LARGE_DOWNLOAD_BYTES + 1, False
    dlg.repo_edit.setText("org/huge")
    dlg.start_download()
    qtbot.waitUntil(lambda: not dlg.is_busy())
    assert "large" in dlg.asked[0] and catalog.downloads == []
    assert dlg.status.text() == "Download not started."
    assert "only 1.0 GB is free" in download_warning(5 * GB, 1 * GB)
    assert download_warning(100, 500 * GB) == ""


def test_close_during_download_cancels_and_waits(qtbot):
    catalog = FakeCatalog()
    dlg = ModelManagerDialog(catalog)
    qtbot.addWidget(dlg)
    dlg.confirm = lambda title, text: True  # type: ignore[method-assign]
    dlg.show()
    dlg.repo_edit.setText("org/new-model")
    dlg.start_download()
    qtbot.waitUntil(lambda: dlg.cancel_button.isEnabled())
    catalog.step.release(1)
    dlg.close()  # cancels and waits: the fake download only stops when it sees the cancel
    assert not dlg.isVisible()
    assert not any(task.running for task in dlg.findChildren(BackgroundTask))
    assert catalog.models[-1].id != "org/new-model"


def test_hub_failure_is_shown_and_the_dialog_stays_usable(dialog, qtbot):
    dlg, catalog = dialog

    def offline(repo_id, revision):
        raise OSError(101, "Network is unreachable")

    catalog.download_size = offline
    dlg.repo_edit.setText("org/new-model")
    dlg.start_download()
    qtbot.waitUntil(lambda: not dlg.is_busy())
    assert dlg.status.text().startswith("Failed: Network is unreachable")
    assert catalog.downloads == [] and dlg.progress.value() == 0
    assert dlg.download_button.isEnabled() and not dlg.cancel_button.isEnabled()


class RemovableCatalog(FakeCatalog):
    def __init__(self) -> None:
        super().__init__()
        self.models.insert(0, ModelInfo("starter", "Starter (built in)", "builtin", "starter", 1000, "/pkg/s"))
        self.names: dict[str, str] = {}

    def list(self) -> list[ModelInfo]:
        from dataclasses import replace

        return [replace(m, name=self.names.get(m.id, m.name)) for m in self.models]

    def remove(self, model_id: str) -> str:
        self.models = [m for m in self.models if m.id != model_id]
        return f"Removed {model_id}."

    def rename(self, model_id: str, name: str) -> None:
        self.names[model_id] = name


def test_rename_and_remove_the_selected_model(qtbot):
    catalog = RemovableCatalog()
    dlg = ModelManagerDialog(catalog)
    qtbot.addWidget(dlg)
    asked = []
    dlg.confirm = lambda title, text: asked.append(text) or True
    dlg.ask_text = lambda title, label, text: ("my sketch model", True)
    changed = []
    dlg.models_changed.connect(lambda: changed.append(1))
    dlg.table.selectRow(0)
    assert not dlg.remove_button.isEnabled()  # the built-in model stays
    dlg.table.selectRow(1)
    dlg.rename_button.click()
    assert dlg.table.item(1, 0).text() == "my sketch model" and changed
    dlg.remove_button.click()
    assert "Delete my sketch model from the Hugging Face cache" in asked[0]
    assert [m.id for m in catalog.models] == ["starter", "/models/x.safetensors"]
    assert dlg.status.text() == "Removed org/tiny-sd."
    dlg.table.selectRow(1)
    dlg.remove_button.click()
    assert "Its files stay where they are" in asked[1]


def test_a_recommended_model_downloads_with_a_double_click(dialog, qtbot):
    dlg, catalog = dialog
    from t2i_studio.core.catalog import RECOMMENDED

    assert dlg.recommended.rowCount() == len(RECOMMENDED) and dlg.recommended.item(0, 2).text()
    dlg.recommended.cellDoubleClicked.emit(0, 0)
    catalog.step.release(10)
    qtbot.waitUntil(lambda: catalog.downloads == [RECOMMENDED[0].id], timeout=5000)
    qtbot.waitUntil(lambda: not dlg.is_busy(), timeout=5000)
