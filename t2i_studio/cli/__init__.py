"""The ``t2i-studio`` command line: one module per command, all over the same engines as the app.

Importing this package must stay cheap (no torch, no Qt): ``--help`` answers in well under a second.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import re
import sqlite3
import sys
from typing import NoReturn

from t2i_studio import __version__
from t2i_studio.core.errors import StudioError, describe
from t2i_studio.core.logging_setup import setup_logging

log = logging.getLogger(__name__)

# Each module has ``register(subparsers)`` adding its command(s) with ``func=...`` set.
COMMAND_MODULES = ("gui", "doctor", "project", "info", "export", "generate", "models", "stylize", "upscale",
                   "servers", "styles", "xyz", "control_map")


class _Parser(argparse.ArgumentParser):
    """argparse with the CLI's error style: one line saying what was wrong (no usage dump), exit 2;
    and ``-inf``, ``-nan``, ``-1e3`` read as (bad) values, so the value check can say why."""

    def __init__(self, *args, **kwargs) -> None:  # noqa: ANN002, ANN003 - argparse's own signature
        super().__init__(*args, **kwargs)
        self._negative_number_matcher = re.compile(r"^-(\d+|\d*\.\d+|\d+(\.\d*)?e[+-]?\d+|inf(inity)?|nan)$",
                                                   re.IGNORECASE)

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"error: {message} (see `{self.prog} --help`)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="t2i-studio",
        description="T2I Studio: text-to-image generation and neural style transfer for artists.",
    )
    parser.add_argument("--version", action="version", version=f"t2i-studio {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true",
                        help="log debug output to stderr and show tracebacks on errors")
    entry = parser.add_mutually_exclusive_group()
    entry.add_argument("--install-desktop-entry", action="store_true",
                       help="add T2I Studio to this user's application menu (Linux) and exit")
    entry.add_argument("--uninstall-desktop-entry", action="store_true",
                       help="remove what --install-desktop-entry added and exit")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(f"t2i_studio.cli.{name}").register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    setup_logging(args.verbose)
    if args.install_desktop_entry or args.uninstall_desktop_entry:
        args.command, args.func = "desktop-entry", _desktop_entry
    if args.command is None:  # no command: start the app, as a desktop launcher would
        # only global options were given: they go before the command
        args = parser.parse_args([*(sys.argv[1:] if argv is None else argv), "gui"])
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        print("Interrupted.", file=sys.stderr)
        return 130
    except (StudioError, ValueError, OSError, sqlite3.Error) as exc:
        if args.verbose:
            log.exception("Command failed")
        print(f"error: {describe(exc).text}", file=sys.stderr)
        return 2



def _desktop_entry(args: argparse.Namespace) -> int:
    from t2i_studio import desktop_entry

    return desktop_entry.main_install() if args.install_desktop_entry else desktop_entry.main_uninstall()
