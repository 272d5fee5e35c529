"""Installing and removing the freedesktop launcher for one user (into a temporary XDG data home)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from t2i_studio import APP_ID, desktop_entry
from t2i_studio.cli import build_parser, main

SIZES = (16, 24, 32, 48, 64, 128, 256, 512)


def _expected(base: Path) -> set[Path]:
    icons = base / "icons" / "hicolor"
    return {base / "applications" / f"{APP_ID}.desktop",
            base / "metainfo" / f"{APP_ID}.metainfo.xml",
            icons / "scalable" / "apps" / f"{APP_ID}.svg",
            *(icons / f"{n}x{n}" / "apps" / f"{APP_ID}.png" for n in SIZES)}


def _exec_line(base: Path) -> str:
    text = (base / "applications" / f"{APP_ID}.desktop").read_text(encoding="utf-8")
    return next(line for line in text.splitlines() if line.startswith("Exec="))


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="freedesktop only")
def test_install_then_uninstall(tmp_path, repo_root):
    command = [str(tmp_path / "My Apps" / "t2i-studio")]
    written = desktop_entry.install(tmp_path, command)
    assert set(written) == _expected(tmp_path)
    assert all(p.is_file() for p in written)
    resources = repo_root / "t2i_studio" / "resources"
    assert (tmp_path / "icons/hicolor/48x48/apps" / f"{APP_ID}.png").read_bytes() == \
        (resources / "icons/hicolor/48x48/apps" / f"{APP_ID}.png").read_bytes()
    assert _exec_line(tmp_path) == f'Exec="{command[0]}" gui %F'
    if shutil.which("desktop-file-validate"):
        check = subprocess.run(["desktop-file-validate", str(tmp_path / "applications" / f"{APP_ID}.desktop")],
                               capture_output=True, text=True, timeout=60)
        assert check.returncode == 0 and not check.stdout.strip(), check.stdout + check.stderr

    # installing twice is fine (e.g. after moving the venv); uninstall removes only our files
    desktop_entry.install(tmp_path, ["/usr/bin/t2i-studio"])
    assert _exec_line(tmp_path) == "Exec=/usr/bin/t2i-studio gui %F"
    other = tmp_path / "applications" / "other.desktop"
    other.write_text("[Desktop Entry]\n")
    removed = desktop_entry.uninstall(tmp_path)
    assert set(removed) == _expected(tmp_path)
    assert not any(p.exists() for p in _expected(tmp_path))
    assert other.is_file()
    assert desktop_entry.uninstall(tmp_path) == []


@pytest.mark.parametrize(("arg", "quoted"), [
    ("/usr/bin/t2i-studio", "/usr/bin/t2i-studio"),
    ("/opt/T2I Studio/t2i-studio", '"/opt/T2I Studio/t2i-studio"'),
    ('/home/a"b/$x', '"/home/a\\\\"b/\\\\$x"'),   # \" and \$, then every \ doubled
    ("/srv/100%/bin", "/srv/100%%/bin"),
    ("C:\\apps", '"C:\\\\\\\\apps"'),
])
def test_exec_quoting(arg, quoted):
    assert desktop_entry.quote_exec_arg(arg) == quoted


def test_data_home_follows_xdg(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    assert desktop_entry.data_home() == tmp_path
    monkeypatch.setenv("XDG_DATA_HOME", "relative/ignored")  # the spec says: ignore relative paths
    assert desktop_entry.data_home() == Path.home() / ".local" / "share"


def test_launcher_is_this_installation():
    command = desktop_entry.launcher_command()
    assert Path(command[0]).is_absolute()
    if len(command) == 1:
        assert Path(command[0]).name.startswith("t2i-studio")
    else:
        assert command[1:] == ["-m", "t2i_studio"]


def test_refused_off_linux(monkeypatch, tmp_path):
    monkeypatch.setattr(sys, "platform", "win32")
    with pytest.raises(desktop_entry.DesktopEntryError):
        desktop_entry.install(tmp_path)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="freedesktop only")
def test_cli_flags(monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    assert main(["--install-desktop-entry"]) == 0
    assert (tmp_path / "applications" / f"{APP_ID}.desktop").is_file()
    assert desktop_entry.launcher_command()[0] in _exec_line(tmp_path).replace("\\\\", "\\")
    assert main(["--uninstall-desktop-entry"]) == 0
    assert not (tmp_path / "applications" / f"{APP_ID}.desktop").exists()
    assert "Removed" in capsys.readouterr().out
    with pytest.raises(SystemExit):  # one or the other
        build_parser().parse_args(["--install-desktop-entry", "--uninstall-desktop-entry"])


def test_gui_accepts_files_from_open_with():
    args = build_parser().parse_args(["gui", "/tmp/a.png", "/tmp/b.jpg"])
    assert args.command == "gui"
    assert args.files == ["/tmp/a.png", "/tmp/b.jpg"]
