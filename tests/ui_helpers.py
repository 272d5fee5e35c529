"""Helpers for the window tests: a window over a temp project with real or scripted engines."""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator

from t2i_studio.core.catalog import ModelInfo
from t2i_studio.core.project import Project
from t2i_studio.core.settings import Settings
from t2i_studio.core.engine_registry import EngineRegistry
from t2i_studio.worker.runner import JobRunner


class StaticCatalog:
    """A ModelCatalog over a fixed list (the tiny model, or nothing: first run)."""

    def __init__(self, models: list[ModelInfo] | None = None) -> None:
        self.models = list(models or [])
        self.added: list[str] = []

    def list(self) -> list[ModelInfo]:
        return list(self.models)

    def add(self, path: str) -> ModelInfo:
        info = ModelInfo(id=path, name=Path(path).name, source="folder", family="sd", size_bytes=0, path=path)
        self.models.append(info)
        self.added.append(path)
        return info

    def download(self, repo_id, revision, on_progress, cancel):  # noqa: ANN001
        raise NotImplementedError

    def download_size(self, repo_id, revision):  # noqa: ANN001
        return None

    def free_disk_bytes(self) -> int:
        return 10**12


def model_info(path: Path) -> ModelInfo:
    return ModelInfo(id=str(path), name="tiny-sd", source="folder", family="sd", size_bytes=1, path=str(path))


@contextmanager
def studio_window(qtbot, folder: Path, engines: EngineRegistry | dict[str, Callable], *,  # noqa: ANN001
                  models: list[ModelInfo] | None = None, settings: Settings | None = None,
                  catalog: StaticCatalog | None = None) -> Iterator:
    """A shown MainWindow on a fresh project in ``folder``; closed (worker stopped) afterwards.
    ``engines``: a registry, or engine factories by request kind."""
    from fake_engine import registry_of

    from t2i_studio.ui.main_window import MainWindow

    project = Project.open(folder, create=True)
    runner = JobRunner(engines if isinstance(engines, EngineRegistry) else registry_of(engines))
    window = MainWindow(settings or Settings(), runner, catalog or StaticCatalog(models), project)
    window.confirm = lambda *_args: True
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    pickable = [m for m in models or [] if m.kind != "controlnet"]  # ControlNets are not generation models
    qtbot.waitUntil(lambda: window.prompt_panel.model.count() == len(pickable) or not models, timeout=5000)
    try:
        yield window
    finally:
        window.close()
        assert not runner._thread.isRunning()
