"""``t2i-studio export ENTRY_OR_FILE ... --format NAME``: copies for design work, in any format of
``core.export_formats``."""

from __future__ import annotations

import argparse
import sys

from t2i_studio.cli.common import open_project, print_json
from t2i_studio.core.export import (
    DEFAULT_FORMAT, DEFAULT_QUALITY, DEFAULT_TEMPLATE, ExportRequest, run_export,
)
from t2i_studio.core.export_formats import FORMAT_NAMES, FORMATS, lossy_labels


def register(sub: argparse._SubParsersAction) -> None:
    labels = "/".join(f.label for f in FORMATS.values())
    parser = sub.add_parser("export", help=f"export images (files or project entries) as {labels}")
    parser.add_argument("sources", nargs="+", metavar="ENTRY_OR_FILE",
                        help="image files, or entry ids of --project (e.g. 12 or #12)")
    parser.add_argument("--format", choices=FORMAT_NAMES, default=DEFAULT_FORMAT,
                        help="; ".join(f"{f.name}: {f.hint}" for f in FORMATS.values()) + " (default %(default)s)")
    parser.add_argument("--out", metavar="DIR", help="output folder (default: the project's exports/)")
    parser.add_argument("--long-edge", type=int, metavar="N", help="resize so the long edge is N pixels")
    parser.add_argument("--dpi", type=int, metavar="N", help="print resolution to record in the file (PNG, JPEG, TIFF)")
    parser.add_argument("--quality", type=int, default=DEFAULT_QUALITY,
                        help=f"{lossy_labels()} quality 1-100 (default %(default)s)")
    parser.add_argument("--strip-metadata", action="store_true",
                        help="write no prompt/settings/XMP/EXIF (the sRGB profile stays)")
    parser.add_argument("--name-template", default=DEFAULT_TEMPLATE,
                        help="file name; fields {date} {time} {seed} {prompt:N} {id} {model} {kind} "
                             "{width} {height} {stem}")
    parser.add_argument("--project", metavar="DIR",
                        help="project of the entry ids (default: the default project); opened read-only")
    parser.add_argument("--json", action="store_true", help="print a JSON list of the files written")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    request = ExportRequest(sources=tuple(args.sources), format=args.format, out_dir=args.out,
                            long_edge=args.long_edge, quality=args.quality, strip_metadata=args.strip_metadata,
                            name_template=args.name_template, dpi=args.dpi).validate()
    needs_project = args.project is not None or any(s.lstrip("#").isdigit() for s in args.sources)
    project = open_project(args.project, read_only=True, create=False) if needs_project else None
    try:
        results = run_export(request, project)
    finally:
        if project is not None:
            project.close()
    if args.json:
        print_json([{"source": r.source, "output": str(r.output), "format": r.format, "width": r.width,
                     "height": r.height, "metadata": r.metadata} for r in results])
        return 0
    for r in results:
        print(f"{r.output}  ({r.width}x{r.height})")
    if args.strip_metadata:
        print(f"Metadata stripped from {len(results)} file(s): no prompt, settings, EXIF or XMP "
              "(the sRGB colour profile is kept).", file=sys.stderr)
    return 0
