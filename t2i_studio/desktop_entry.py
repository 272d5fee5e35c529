"""Install or remove the freedesktop launcher (``.desktop``, AppStream metainfo, icons) for this user.

Pure Python, no Qt: used by ``t2i-studio --install-desktop-entry`` / ``--uninstall-desktop-entry``.
Files go under ``$XDG_DATA_HOME`` (default ``~/.local/share``):

    applications/io.github.t2istudio.T2IStudio.desktop        Exec= the t2i-studio that ran this
    metainfo/io.github.t2istudio.T2IStudio.metainfo.xml
    icons/hicolor/<N>x<N>/apps/io.github.t2istudio.T2IStudio.png, icons/hicolor/scalable/apps/...svg

``update-desktop-database`` and ``gtk-update-icon-cache`` are run afterwards when installed.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from importlib import resources
from pathlib import Path

from t2i_studio import APP_ID
from t2i_studio.core.atomic import write_atomic
from t2i_studio.core.errors import StudioError

DESKTOP_FILE = f"{APP_ID}.desktop"
METAINFO_FILE = f"{APP_ID}.metainfo.xml"
ICON_SIZES = (16, 24, 32, 48, 64, 128, 256, 512)
_EXEC_RESERVED = '"`$\\'


class DesktopEntryError(StudioError):
    pass


def data_home() -> Path:
    """``$XDG_DATA_HOME`` when set to an absolute path (as the spec asks), else ``~/.local/share``."""
    value = os.environ.get("XDG_DATA_HOME", "")
    return Path(value) if value and os.path.isabs(value) else Path.home() / ".local" / "share"


def _resource(*parts: str):
    return resources.files("t2i_studio").joinpath("resources", *parts)


def launcher_command() -> list[str]:
    """The command that starts this installation: the bundle's executable, the console script next
    to this interpreter, the one on PATH, or ``python -m t2i_studio`` as a last resort."""
    if getattr(sys, "frozen", False):  # a PyInstaller bundle
        return [str(Path(sys.executable).resolve())]
    scripts = Path(sys.executable).parent
    for name in ("t2i-studio", "t2i-studio.exe"):
        candidate = scripts / name
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return [str(candidate.absolute())]
    found = shutil.which("t2i-studio")
    if found:
        return [str(Path(found).absolute())]
    return [str(Path(sys.executable).absolute()), "-m", "t2i_studio"]


def quote_exec_arg(arg: str) -> str:
    """Quote one argument for the ``Exec`` key (Desktop Entry spec, "The Exec key"), including the
    second level of escaping that every string value gets."""
    if arg and not any(c in arg for c in ' \t\n\'"`$\\><~|&;*?#()'):
        quoted = arg
    else:
        quoted = '"' + "".join("\\" + c if c in _EXEC_RESERVED else c for c in arg) + '"'
    return quoted.replace("\\", "\\\\").replace("%", "%%")


def render_desktop_file(command: list[str]) -> str:
    """The packaged ``.desktop`` text with ``Exec``/``TryExec`` pointing at ``command``."""
    template = _resource("desktop", DESKTOP_FILE).read_text(encoding="utf-8")
    exec_line = " ".join(quote_exec_arg(a) for a in command)
    lines = []
    for line in template.splitlines():
        if line.startswith("Exec="):
            # keep the arguments after the program name (e.g. "gui %F")
            rest = line[len("Exec="):].split(" ", 1)[1:]
            line = "Exec=" + " ".join([exec_line, *rest])
        elif line.startswith("TryExec="):
            line = "TryExec=" + command[0].replace("\\", "\\\\")
        lines.append(line)
    return "\n".join(lines) + "\n"


def _targets(base: Path) -> dict[str, Path]:
    """Every file this module installs: a resource key -> destination path."""
    icons = base / "icons" / "hicolor"
    targets = {
        "desktop": base / "applications" / DESKTOP_FILE,
        "metainfo": base / "metainfo" / METAINFO_FILE,
        "svg": icons / "scalable" / "apps" / f"{APP_ID}.svg",
    }
    for size in ICON_SIZES:
        targets[f"png{size}"] = icons / f"{size}x{size}" / "apps" / f"{APP_ID}.png"
    return targets


def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(path, data)


def _refresh_caches(base: Path) -> None:
    """Let menus and icon themes notice the change; both tools are optional."""
    commands = []
    if shutil.which("update-desktop-database"):
        commands.append(["update-desktop-database", "-q", str(base / "applications")])
    hicolor = base / "icons" / "hicolor"
    if shutil.which("gtk-update-icon-cache") and (hicolor / "index.theme").is_file():
        commands.append(["gtk-update-icon-cache", "-q", "-f", "-t", str(hicolor)])
    for cmd in commands:
        if Path(cmd[-1]).is_dir():
            subprocess.run(cmd, check=False, timeout=60, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _check_platform() -> None:
    if sys.platform.startswith(("win", "darwin")):
        raise DesktopEntryError(
            "Desktop entries are for Linux and other freedesktop.org desktops.",
            hint="On Windows and macOS use the app bundle, or start `t2i-studio` from a terminal.")


def install(base: Path | None = None, command: list[str] | None = None) -> list[Path]:
    """Install the launcher, metainfo and icons under ``base`` (default: the XDG data home).
    Returns the files written. Installing again overwrites (e.g. after moving the venv)."""
    _check_platform()
    base = base or data_home()
    command = command or launcher_command()
    written = []
    for key, dest in _targets(base).items():
        if key == "desktop":
            data = render_desktop_file(command).encode("utf-8")
        elif key == "metainfo":
            data = _resource("desktop", METAINFO_FILE).read_bytes()
        elif key == "svg":
            data = _resource("icons", f"{APP_ID}.svg").read_bytes()
        else:
            size = key[3:]
            data = _resource("icons", "hicolor", f"{size}x{size}", "apps", f"{APP_ID}.png").read_bytes()
        _write(dest, data)
        written.append(dest)
    _refresh_caches(base)
    return written


def uninstall(base: Path | None = None) -> list[Path]:
    """Remove what :func:`install` wrote (only our own files). Returns the files removed."""
    _check_platform()
    base = base or data_home()
    removed = []
    for dest in _targets(base).values():
        if dest.is_file() or dest.is_symlink():
            dest.unlink()
            removed.append(dest)
    _refresh_caches(base)
    return removed


def main_install() -> int:
    """CLI action of ``--install-desktop-entry``."""
    written = install()
    print(f"Installed the T2I Studio launcher for this user ({len(written)} files):")
    print(f"  {written[0]}")
    print(f"  Exec: {' '.join(launcher_command())}")
    return 0


def main_uninstall() -> int:
    """CLI action of ``--uninstall-desktop-entry``."""
    removed = uninstall()
    if removed:
        print(f"Removed the T2I Studio launcher ({len(removed)} files) from {data_home()}.")
    else:
        print(f"No T2I Studio launcher was installed under {data_home()}.")
    return 0
