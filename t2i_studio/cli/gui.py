"""``t2i-studio gui``: start the desktop app."""

from __future__ import annotations

import argparse
import importlib


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("gui", help="start the desktop app (the default)")
    parser.add_argument("--project", metavar="DIR", help="open this project folder")
    parser.add_argument("files", nargs="*", metavar="FILE",
                        help="images to import into the project (as from a file manager's 'Open with')")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    # The CLI layer never imports Qt itself: the composition root is loaded only when asked for.
    app = importlib.import_module("t2i_studio.app")
    return app.run(project=args.project, files=args.files)
