"""The shipped resources: icons rendered from the SVG, sample styles from their generator, and a
.desktop file and AppStream metainfo that the freedesktop validators accept."""

from __future__ import annotations

import configparser
import os
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from PIL import Image

from t2i_studio import APP_ID, __version__

SIZES = (16, 24, 32, 48, 64, 128, 256, 512)


@pytest.fixture(scope="module")
def resources(repo_root) -> Path:
    return repo_root / "t2i_studio" / "resources"


def test_icon_set(resources):
    root = ET.parse(resources / "icons" / f"{APP_ID}.svg").getroot()
    assert root.tag == "{http://www.w3.org/2000/svg}svg" and root.get("viewBox") == "0 0 128 128"
    for n in SIZES:
        with Image.open(resources / "icons" / "hicolor" / f"{n}x{n}" / "apps" / f"{APP_ID}.png") as im:
            assert im.size == (n, n) and im.mode == "RGBA"
            assert im.getpixel((0, 0))[3] == 0  # transparent corner, opaque middle
            assert im.getpixel((n // 2, n // 2))[3] == 255


def test_sample_styles(resources):
    styles = sorted((resources / "styles").glob("*.png"))
    names = {p.stem for p in styles}
    assert {"brush-stroke", "mosaic", "ink-wash", "halftone", "impasto"} <= names
    for path in styles:
        assert path.stat().st_size < 100_000, path
        with Image.open(path) as im:
            assert min(im.size) >= 256
            rgb = im.convert("RGB")
            lo, hi = zip(*rgb.getextrema())
            assert max(hi) - min(lo) > 100, f"{path.name} has no contrast"


def _run_script(repo_root: Path, name: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    return subprocess.run([sys.executable, str(repo_root / "scripts" / name), "--check"],
                          capture_output=True, text=True, timeout=300, env=env)


@pytest.mark.parametrize("script", ["make_sample_styles.py", "make_icons.py"])
def test_committed_images_match_their_generators(repo_root, script):
    result = _run_script(repo_root, script)
    assert result.returncode == 0, result.stdout + result.stderr


def test_desktop_file(resources):
    parser = configparser.ConfigParser(interpolation=None)
    parser.optionxform = str
    parser.read(resources / "desktop" / f"{APP_ID}.desktop", encoding="utf-8")
    entry = parser["Desktop Entry"]
    assert entry["Icon"] == APP_ID
    assert entry["Categories"] == "Graphics;2DGraphics;RasterGraphics;"
    assert set(entry["MimeType"].strip(";").split(";")) == {"image/png", "image/jpeg", "image/webp"}
    assert entry["PrefersNonDefaultGPU"] == "true"
    assert entry["Exec"].split()[0] == "t2i-studio" and "%F" in entry["Exec"]


def test_metainfo(resources):
    root = ET.parse(resources / "desktop" / f"{APP_ID}.metainfo.xml").getroot()
    assert root.get("type") == "desktop-application"
    assert root.findtext("id") == APP_ID
    assert root.findtext("launchable") == f"{APP_ID}.desktop"
    assert root.find("content_rating").get("type") == "oars-1.1"
    assert root.find("releases/release").get("version") == __version__
    assert root.findtext("screenshots/screenshot/image").endswith("docs/screenshot.png")


@pytest.mark.skipif(not shutil.which("desktop-file-validate"), reason="desktop-file-utils not installed")
def test_desktop_file_validates(resources):
    result = subprocess.run(["desktop-file-validate", str(resources / "desktop" / f"{APP_ID}.desktop")],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0 and not result.stdout.strip(), result.stdout + result.stderr


@pytest.mark.skipif(not shutil.which("appstreamcli"), reason="appstream not installed")
def test_metainfo_validates(resources):
    result = subprocess.run(["appstreamcli", "validate", "--no-net",
                             str(resources / "desktop" / f"{APP_ID}.metainfo.xml")],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
