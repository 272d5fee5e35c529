"""``t2i-studio project new|info|search|rebuild|check|empty-trash``: the project folder from a shell."""

from __future__ import annotations

import argparse
import json
import sys
from contextlib import closing
from typing import Any

from t2i_studio.cli.common import ProgressBar, open_project, print_json
from t2i_studio.core.project import Entry, Project


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("project", help="create, inspect, search and repair project folders")
    commands = parser.add_subparsers(dest="project_command", metavar="ACTION", required=True)

    new = commands.add_parser("new", help="create a project folder")
    new.add_argument("dir", help="folder to create (it may exist, but must not be a project yet)")
    new.add_argument("--name", help="display name (default: the folder name)")
    new.set_defaults(func=run_new)

    info = commands.add_parser("info", help="name, counts, models and size of a project")
    info.add_argument("dir", nargs="?", help="project folder (default: the default project)")
    info.add_argument("--json", action="store_true", help="print one JSON object")
    info.set_defaults(func=run_info)

    search = commands.add_parser("search", help="full-text search over prompts, negative prompts and tags")
    search.add_argument("dir", help="project folder")
    search.add_argument("query", nargs="?", default="", help="words to find (prefixes match); empty: all")
    search.add_argument("--favorites", action="store_true", help="favourites only")
    search.add_argument("--kind", choices=("generate", "stylize", "import"), help="only this kind")
    search.add_argument("--model", help="only images made with this model")
    search.add_argument("--sort", choices=("newest", "oldest", "rating", "model"), default="newest")
    search.add_argument("--limit", type=int, default=50, help="at most N entries (default 50)")
    search.add_argument("--json", action="store_true", help="print a JSON list of entries")
    search.set_defaults(func=run_search)

    rebuild = commands.add_parser("rebuild", help="recreate the index from the image files alone")
    rebuild.add_argument("dir", nargs="?", help="project folder (default: the default project)")
    rebuild.add_argument("--json", action="store_true")
    rebuild.set_defaults(func=run_rebuild)

    check = commands.add_parser("check", help="compare the index with the files (and repair)")
    check.add_argument("dir", nargs="?", help="project folder (default: the default project)")
    check.add_argument("--repair", action="store_true", help="fix what is found")
    check.add_argument("--json", action="store_true")
    check.set_defaults(func=run_check)

    empty = commands.add_parser("empty-trash", help="delete the trashed entries for good")
    empty.add_argument("dir", nargs="?", help="project folder (default: the default project)")
    empty.set_defaults(func=run_empty_trash)


def entry_json(entry: Entry) -> dict[str, Any]:
    return {"id": entry.id, "path": str(entry.path), "created": entry.created, "kind": entry.kind,
            "width": entry.width, "height": entry.height, "seed": entry.seed, "model": entry.model,
            "prompt": entry.prompt, "negative_prompt": entry.negative_prompt, "favorite": entry.favorite,
            "rating": entry.rating, "tags": list(entry.tags), "deleted": entry.deleted}


def run_new(args: argparse.Namespace) -> int:
    with Project.create(args.dir, name=args.name) as project:
        print(f"Created project {project.name!r} in {project.folder}")
    return 0


def _size_mb(project: Project) -> float:
    total = 0
    for path in project.folder.rglob("*"):
        try:
            if path.is_file():
                total += path.stat().st_size
        except OSError:
            pass
    return round(total / 2**20, 1)


def run_info(args: argparse.Namespace) -> int:
    with open_project(args.dir, read_only=True) as project:
        report = {
            "name": project.name, "folder": str(project.folder), "created": project.meta.get("created"),
            "schema": project.meta.get("schema"), "entries": project.count(),
            "favorites": project.count(favorites_only=True),
            "by_kind": {kind: project.count(kind=kind) for kind in ("generate", "stylize", "import")},
            "in_trash": project.count(include_deleted=True) - project.count(),
            "models": project.models(), "size_mb": _size_mb(project),
        }
    if args.json:
        print_json(report)
        return 0
    print(f"Project  {report['name']}  ({report['folder']})")
    print(f"Created  {report['created']}")
    kinds = ", ".join(f"{n} {k}" for k, n in report["by_kind"].items() if n)
    print(f"Entries  {report['entries']}" + (f" ({kinds})" if kinds else ""))
    print(f"Favourites {report['favorites']}, in trash {report['in_trash']}, {report['size_mb']} MB on disk")
    print(f"Models   {', '.join(report['models']) or 'none'}")
    return 0


def run_search(args: argparse.Namespace) -> int:
    if args.limit < 1:
        raise ValueError(f"--limit must be 1 or more, got {args.limit}.")
    with open_project(args.dir, read_only=True) as project:
        entries = project.query(args.query, favorites_only=args.favorites, kind=args.kind, model=args.model,
                                sort=args.sort, limit=args.limit)
        total = project.count(args.query, favorites_only=args.favorites, kind=args.kind, model=args.model)
    if args.json:
        print_json([entry_json(e) for e in entries])
        return 0
    for entry in entries:
        prompt = " ".join(entry.prompt.split())
        prompt = prompt if len(prompt) <= 80 else prompt[:79] + "…"
        star = "*" if entry.favorite else " "
        print(f"{entry.id:>7}{star} {entry.path}  seed {entry.seed if entry.seed is not None else '-'}  {prompt}")
    print(f"{len(entries)} of {total} matching entries", file=sys.stderr)
    return 0


def run_rebuild(args: argparse.Namespace) -> int:
    with open_project(args.dir, create=False) as project:
        with closing(ProgressBar("Reading images")) as bar:  # drawn on a terminal only
            count = project.rebuild(on_progress=bar.update)
    if args.json:
        print_json({"entries": count})
    else:
        print(f"Rebuilt the index: {count} entries.")
    return 0


def run_check(args: argparse.Namespace) -> int:
    with open_project(args.dir, create=False) as project:
        with closing(ProgressBar("Checking images")) as bar:
            report = project.check(repair=args.repair, on_progress=bar.update)
    if args.json:
        print(json.dumps(report))
    else:
        print(f"{report['entries']} entries; " + ("consistent." if report["ok"] else "problems found:"))
        for key, label in (("missing_files", "entries whose file is missing"),
                           ("misplaced", "entries in/out of the trash by mistake"),
                           ("unindexed_files", "image files not in the index"),
                           ("unsafe_paths", "entries whose stored path points outside the project (refused)")):
            if report[key]:
                print(f"  {len(report[key])} {label}")
        for key, label in (("orphan_thumbnails", "thumbnails of no entry"), ("temp_files", "leftover temp files")):
            if report[key]:
                print(f"  {report[key]} {label}")
        if report["repaired"]:
            print("Repaired.")
        elif not report["ok"]:
            print("Run again with --repair to fix these.")
    return 0 if report["ok"] or report["repaired"] else 1


def run_empty_trash(args: argparse.Namespace) -> int:
    with open_project(args.dir, create=False) as project:
        count = project.empty_trash()
    print(f"Deleted {count} entries for good.")
    return 0
