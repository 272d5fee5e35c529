"""``t2i-studio styles list|import FILE``: the style presets ``generate --style NAME`` applies.

The shipped presets and the user's own (``styles.csv`` in the config folder); ``import`` adds those of
an AUTOMATIC1111 ``styles.csv`` to the user's own.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from t2i_studio.cli.common import print_json


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("styles", help="the style presets that `generate --style NAME` applies")
    verbs = p.add_subparsers(dest="verb", metavar="VERB", required=True)
    ls = verbs.add_parser("list", help="the shipped presets and your own")
    ls.add_argument("--json", action="store_true")
    ls.set_defaults(func=run_list)
    imp = verbs.add_parser("import", help="add the styles of an AUTOMATIC1111 styles.csv to your own")
    imp.add_argument("file", type=Path, help="a CSV with the columns name,prompt,negative_prompt")
    imp.set_defaults(func=run_import)


def run_list(args: argparse.Namespace) -> int:
    from t2i_studio.core import presets

    found = presets.all_presets()
    if args.json:
        print_json([{"name": p.name, "prompt": p.prompt, "negative_prompt": p.negative_prompt,
                     "shipped": p.shipped} for p in found])
        return 0
    for p in found:
        negative = f"\t(negative: {p.negative_prompt})" if p.negative_prompt else ""
        print(f"{p.name}\t{'shipped' if p.shipped else 'yours'}\t{p.prompt}{negative}")
    return 0


def run_import(args: argparse.Namespace) -> int:
    from t2i_studio.core import presets

    imported = presets.import_csv(args.file.expanduser())
    names = ", ".join(p.name for p in imported)
    print(f"Imported {len(imported)} style(s) into {presets.user_path()}: {names}")
    return 0
