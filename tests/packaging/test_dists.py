"""The wheel and sdist carry the resources; the wheel installs into a fresh venv and runs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

from t2i_studio import APP_ID, __version__

RESOURCES = [
    f"t2i_studio/resources/icons/{APP_ID}.svg",
    *(f"t2i_studio/resources/icons/hicolor/{n}x{n}/apps/{APP_ID}.png"
      for n in (16, 24, 32, 48, 64, 128, 256, 512)),
    f"t2i_studio/resources/desktop/{APP_ID}.desktop",
    f"t2i_studio/resources/desktop/{APP_ID}.metainfo.xml",
]


def _style_names(repo_root: Path) -> list[str]:
    return [f"t2i_studio/resources/styles/{p.name}"
            for p in sorted((repo_root / "t2i_studio/resources/styles").glob("*.png"))]


def test_wheel_carries_resources_and_entry_point(dists, repo_root):
    wheel = dists["wheel"]
    assert wheel.name.startswith(f"t2i_studio-{__version__}-py3-none-any")
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
        entry_points = next(n for n in names if n.endswith(".dist-info/entry_points.txt"))
        scripts = zf.read(entry_points).decode()
    missing = [r for r in RESOURCES + _style_names(repo_root) if r not in names]
    assert not missing, missing
    assert "t2i_studio/desktop_entry.py" in names
    assert "t2i-studio = t2i_studio.cli:main" in scripts
    assert not any(n.startswith(("tests/", "scripts/", "packaging/")) for n in names)


def test_sdist_carries_resources(dists, repo_root):
    with tarfile.open(dists["sdist"]) as tf:
        names = {n.split("/", 1)[1] for n in tf.getnames() if "/" in n}
    missing = [r for r in RESOURCES + _style_names(repo_root) if r not in names]
    assert not missing, missing
    assert "pyproject.toml" in names


@pytest.mark.slow
def test_wheel_installs_into_fresh_venv_and_runs(dists, repo_root, tmp_path, app_home):
    """The real user path: a new venv, the wheel with the pinned (CPU) torch, the console script."""
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    bindir = venv / ("Scripts" if os.name == "nt" else "bin")
    python = bindir / "python"
    install = subprocess.run(
        [str(python), "-m", "pip", "install", "--disable-pip-version-check", "-q", "--no-compile",
         "-c", str(repo_root / "constraints.txt"), str(dists["wheel"])],
        capture_output=True, text=True, timeout=900)
    assert install.returncode == 0, install.stdout[-3000:] + install.stderr[-3000:]

    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env["XDG_DATA_HOME"] = str(tmp_path / "xdg")

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([str(bindir / "t2i-studio"), *args], capture_output=True, text=True,
                              timeout=300, env=env, cwd=tmp_path)

    version = cli("--version")
    assert version.returncode == 0, version.stderr
    assert version.stdout.strip() == f"t2i-studio {__version__}"

    doctor = cli("doctor", "--json")
    assert doctor.returncode == 0, doctor.stderr
    report = json.loads(doctor.stdout)
    assert report["app"] == __version__
    assert report["packages"]["torch"].startswith("2.")
    assert report["paths"]["config"].startswith(str(app_home))

    # the installed package (not the checkout) answers, and its resources are readable
    where = subprocess.run(
        [str(python), "-c", "import t2i_studio, importlib.resources as r; print(t2i_studio.__file__); "
         "print(sum(1 for p in r.files('t2i_studio').joinpath('resources/styles').iterdir()))"],
        capture_output=True, text=True, timeout=60, env=env, cwd=tmp_path)
    module_file, n_styles = where.stdout.split()
    assert Path(module_file).is_relative_to(venv), module_file
    assert int(n_styles) >= 5

    if sys.platform.startswith("linux"):
        entry = cli("--install-desktop-entry")
        assert entry.returncode == 0, entry.stderr
        desktop = (tmp_path / "xdg" / "applications" / f"{APP_ID}.desktop").read_text()
        assert f"Exec={bindir / 't2i-studio'} gui %F" in desktop
