"""Conventions shared by the CLI commands: progress bars on stderr, JSON output, the project."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import IO, Any, Callable

from t2i_studio.core.jobs import JobEvent
from t2i_studio.core.project_errors import PartlySavedError, os_error_message


class ProgressBar:
    """A one-line progress bar on stderr, drawn only when stderr is a terminal (or ``force``)."""

    def __init__(self, label: str, stream: IO[str] | None = None, force: bool = False) -> None:
        self.label = label
        self.stream = stream or sys.stderr
        self.enabled = force or self.stream.isatty()
        self.started = time.monotonic()
        self._drawn = False

    def update(self, done: float, total: float, unit: str = "") -> None:
        if not self.enabled or total <= 0:
            return
        frac = min(max(done / total, 0.0), 1.0)
        width = 30
        bar = "#" * int(frac * width) + "-" * (width - int(frac * width))
        elapsed = time.monotonic() - self.started
        eta = elapsed / frac - elapsed if frac > 0 else 0.0
        amount = f"{_human(done, unit)}/{_human(total, unit)}"
        self.stream.write(f"\r{self.label} [{bar}] {amount} {elapsed:5.1f}s eta {eta:5.1f}s ")
        self.stream.flush()
        self._drawn = True

    def on_event(self, event: JobEvent) -> None:
        """Draw a job loop's progress event."""
        self.update(event.step, event.total)

    def close(self) -> None:
        if self._drawn:
            self.stream.write("\n")
            self.stream.flush()


def _human(value: float, unit: str) -> str:
    if unit != "B":
        return f"{int(value)}"
    for suffix in ("B", "KB", "MB", "GB"):
        if value < 1024 or suffix == "GB":
            return f"{value:.0f}{suffix}" if suffix == "B" else f"{value:.1f}{suffix}"
        value /= 1024
    return str(value)


def print_json(data: Any) -> None:
    print(json.dumps(data, ensure_ascii=False, default=str))


def add_project_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--project", metavar="DIR",
                        help="project folder to save into (default: the default project)")


def open_project(arg: str | None, read_only: bool = False, *, create: bool | None = None):  # noqa: ANN201
    """Open the project folder ``arg`` (the default project when None) for a CLI command.

    The default project is created on first use; a named folder must already be a project unless
    ``create`` is true. Read-only opens never take the lock, so they work while the app is open.
    """
    from pathlib import Path

    from t2i_studio.core.project import Project
    from t2i_studio.core.settings import default_project_dir

    if arg is None:
        return Project.open(default_project_dir(), read_only=read_only,
                            create=not read_only if create is None else create)
    return Project.open(Path(arg).expanduser(), read_only=read_only, create=bool(create) and not read_only)


class Batch:
    """One request through the core job loop (``core.jobs.run_job``) into a project.

    The request is checked first (``ValueError``: exit 2 before anything loads). An existing project
    is opened (and locked) before the run, so a window holding it stops us before minutes of work; a
    new one is created with the first image. Each image is saved the moment its run is done and
    handed to ``on_saved``, so an interrupted batch keeps (and has printed) every finished image.
    """

    def __init__(self, request: Any, project_arg: str | None, progress: Any,
                 on_saved: Callable[[Any], None] = lambda _entry: None, registry: Any = None) -> None:
        """``registry``: the engines to run on (default: this computer's, ``local_registry()``)."""
        self.request, self.project_arg, self.progress, self.on_saved = request, project_arg, progress, on_saved
        self.entries: list[Any] = []
        self.elapsed = 0.0
        self._project: Any = None
        self._registry = registry
        self._checked = False

    def check(self) -> None:
        """Check the request against its engine (``ValueError`` says what to change), once."""
        from t2i_studio.engines.registry import local_registry

        if self._registry is None:
            self._registry = local_registry()
        if not self._checked:
            self._registry.check(self.request)
            self._checked = True

    def run(self) -> Any:
        """Run it; returns the last result. A failure raises StudioError after what was saved."""
        from pathlib import Path

        from t2i_studio.core import jobs
        from t2i_studio.core.errors import StudioError
        from t2i_studio.core.project_errors import ProjectError
        from t2i_studio.core.settings import default_project_dir

        self.check()
        registry = self._registry
        folder = Path(self.project_arg).expanduser() if self.project_arg else default_project_dir()
        if folder.exists() and not folder.is_dir():  # before minutes of work, not when saving
            raise ProjectError(f"{folder} is a file, not a project folder.",
                               "Give --project a folder (a new one is created).")
        self._project = open_project(self.project_arg) if (folder / "project.json").is_file() else None
        started = time.monotonic()
        results: list[Any] = []
        try:
            outcome = jobs.run_job(self.request, registry, lambda run, result: self._save(run, result, results),
                                   on_event=self._on_event)
        finally:
            self.elapsed = time.monotonic() - started
            self.progress.close()
            registry.close()
            if self._project is not None:
                self._project.close()
            if self.entries:
                _remember(self.request)
        if outcome.state == jobs.FAILED:
            raise StudioError(outcome.message.text, details=outcome.message.details)
        return results[-1]

    def _save(self, run: Any, result: Any, results: list[Any]) -> list[Any]:
        if self._project is None:
            self._project = open_project(self.project_arg, create=True)
        try:
            saved = self._project.save_result(run, result)
        except PartlySavedError as exc:  # the disk filled mid-run: print what was saved, then fail
            self._saved(exc.entries)
            raise
        results.append(result)
        self._saved(saved)
        return saved

    def _saved(self, entries: Any) -> None:
        for entry in entries:
            self.entries.append(entry)
            self.on_saved(entry)

    def _on_event(self, event: Any) -> None:
        if event.kind == "progress":
            self.progress.on_event(event)


def _remember(request: Any) -> None:
    """The request as the last of its kind, for the next run's defaults."""
    from t2i_studio.core.settings import Settings

    settings = Settings.load()
    if request.kind in ("generate", "grid"):  # a plot's (core.xyz) base: its model is the last one used
        settings.last_generation = getattr(request, "base", request).to_dict()
    elif request.kind == "stylize":  # an upscale has no defaults to remember (and is no style transfer)
        settings.last_style = request.to_dict()
    settings.save()


def checked_out(arg: str, overwrite: bool) -> Path:
    """``--out`` checked before the run: a known image extension, not a folder, not an existing
    file unless ``--overwrite``; its folder is made now (a failure here costs no work)."""
    from PIL import Image

    out = Path(arg).expanduser()
    if out.suffix.lower() not in Image.registered_extensions():
        raise ValueError(f"--out {out} has no image extension Pillow can write; use .png, .jpg or .webp.")
    if out.is_dir():
        raise ValueError(f"--out {out} is a folder; give a file name.")
    if out.exists() and not overwrite:
        raise ValueError(f"--out {out} already exists; choose another name or pass --overwrite.")
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise os_error_message(exc, f"make the folder of --out {out}") from exc
    return out
