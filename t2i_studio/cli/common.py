"""Conventions shared by the CLI commands: progress bars on stderr, JSON output, the project."""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import IO, Any

from t2i_studio.core.engine import Progress


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

    def on_progress(self, progress: Progress) -> None:
        """Use as an engine's ``on_progress`` callback."""
        self.update(progress.step, progress.total)

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


def run_and_save(engine: Any, request: Any, progress: Any, project_arg: str | None) -> tuple[Any, list, float]:
    """Run ``engine`` on ``request`` (``progress`` gets every step, then ``close()``), save the
    result into the project, and remember the request as the last of its kind for next time.

    Returns ``(result, entries, elapsed_s)``; the engine is closed whatever happens.
    """
    from pathlib import Path

    from t2i_studio.core.engine import CancelToken
    from t2i_studio.core.settings import Settings, default_project_dir

    folder = Path(project_arg).expanduser() if project_arg else default_project_dir()
    # An existing project is opened (and locked) before the run, so a window holding it stops us
    # before minutes of work rather than after; a new one is created only once there is a result.
    project = open_project(project_arg) if (folder / "project.json").is_file() else None
    try:
        started = time.monotonic()
        try:
            result = engine.run(request, progress.on_progress, CancelToken())
        finally:
            progress.close()
            engine.close()
        elapsed = time.monotonic() - started
        if project is None:
            project = open_project(project_arg, create=True)
        entries = project.save_result(request, result)
    finally:
        if project is not None:
            project.close()
    settings = Settings.load()
    if request.kind == "generate":
        settings.last_generation = request.to_dict()
    else:
        settings.last_style = request.to_dict()
    settings.save()
    return result, entries, elapsed
