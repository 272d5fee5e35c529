"""``t2i-studio models list | download ID | add PATH``: the models the app can use."""

from __future__ import annotations

import argparse

from t2i_studio.cli.common import ProgressBar, print_json


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("models", help="list, download or add text-to-image models")
    msub = parser.add_subparsers(dest="models_command", metavar="ACTION", required=True)
    p = msub.add_parser("list", help="cached hub models and added folders/files, with size and family")
    p.add_argument("--json", action="store_true", help="print one JSON list")
    p.set_defaults(func=run_list)
    p = msub.add_parser("download", help="download a diffusers model into the Hugging Face cache")
    p.add_argument("id", help="Hugging Face id, e.g. stabilityai/sd-turbo")
    p.add_argument("--revision", help="branch, tag or commit")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=run_download)
    p = msub.add_parser("add", help="add a diffusers folder or a .safetensors checkpoint")
    p.add_argument("path")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=run_add)


def _catalog():
    from t2i_studio.core.settings import Settings
    from t2i_studio.engines.models import HubModelCatalog

    return HubModelCatalog(Settings.load())


def _row(info) -> dict:
    return {"id": info.id, "name": info.name, "source": info.source, "family": info.family,
            "size_bytes": info.size_bytes, "path": info.path}


def _print(info) -> None:
    print(f"{info.source:6} {info.family:8} {info.size_bytes / 2**30:7.2f} GB  {info.id}")


def run_list(args: argparse.Namespace) -> int:
    models = _catalog().list()
    if args.json:
        print_json([_row(m) for m in models])
    elif not models:
        print("No models yet: `t2i-studio models download ID` or `t2i-studio models add PATH`.")
    else:
        for info in models:
            _print(info)
    return 0


def run_download(args: argparse.Namespace) -> int:
    from t2i_studio.core.engine import CancelToken

    bar = ProgressBar(f"download {args.id}")
    try:
        info = _catalog().download(args.id, args.revision, lambda d, t: bar.update(d, t, "B"),
                                   CancelToken())
    finally:
        bar.close()
    print_json(_row(info)) if args.json else _print(info)
    return 0


def run_add(args: argparse.Namespace) -> int:
    info = _catalog().add(args.path)
    print_json(_row(info)) if args.json else _print(info)
    return 0
