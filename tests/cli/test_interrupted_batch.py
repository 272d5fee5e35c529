"""A CLI batch stopped part way (killed, or Ctrl+C) keeps every image it finished, each printed the
moment it was saved, and the project opens cleanly afterwards."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from PIL import Image

from t2i_studio.core.metadata import read_metadata
from t2i_studio.core.project import Project

BATCHES = 20


def _start(model: Path, project: Path) -> subprocess.Popen:
    cmd = [sys.executable, "-m", "t2i_studio", "generate", "a cat", "--model", str(model), "--width", "64",
           "--height", "64", "--steps", "2", "--seed", "5", "--dtype", "fp32", "--batch-count", str(BATCHES),
           "--project", str(project)]
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "OMP_NUM_THREADS": "1"})


def _stop_after(proc: subprocess.Popen, count: int, how: signal.Signals) -> tuple[list[str], str]:
    """The first ``count`` printed paths, then ``how`` sent; what was printed, and stderr."""
    printed: list[str] = []
    try:
        while len(printed) < count:
            line = proc.stdout.readline()
            if not line:
                break
            printed.append(line.strip())
        proc.send_signal(how)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    printed += [line for line in out.split() if line]
    return printed, err


def _check_kept(project: Path, printed: list[str]) -> None:
    for k, path in enumerate(printed):
        with Image.open(path) as image:
            assert image.size == (64, 64)
        meta = read_metadata(path)
        assert meta.source == "t2i_studio" and meta.seed == 5 + k  # saved in order, seed + k
    with Project.open(project) as opened:  # the lock of a killed process does not stand in the way
        saved = {str(e.path) for e in opened.query()}
    assert set(printed) <= saved and len(saved) < BATCHES
    files = [p for p in (project / "images").rglob("*") if p.is_file()]
    assert sorted(str(p) for p in files) == sorted(saved)  # nothing half-written beside them


def test_a_killed_batch_keeps_the_images_it_finished(tiny_sd_path, tmp_path):
    project = tmp_path / "proj"
    printed, _err = _stop_after(_start(tiny_sd_path, project), 3, signal.SIGKILL)
    assert len(printed) >= 3
    _check_kept(project, printed)


def test_ctrl_c_stops_the_batch_keeps_its_images_and_says_so(tiny_sd_path, tmp_path):
    project = tmp_path / "proj"
    proc = _start(tiny_sd_path, project)
    printed, err = _stop_after(proc, 2, signal.SIGINT)
    assert proc.returncode == 130
    assert f"Interrupted: {len(printed)} of {BATCHES} image(s) saved." in err
    _check_kept(project, printed)
