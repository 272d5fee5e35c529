"""``generate``'s IP-Adapter options: reference pictures (``--ip-image``, repeatable) and, once for all
of them or once each, the adapter, its image encoder, scale and mode."""

from __future__ import annotations

import argparse
from typing import Any

from t2i_studio.core.requests import MAX_REFERENCE_SCALE, REFERENCE_MODES, Reference

_FIELDS = {"--ip-adapter": "model", "--ip-encoder": "encoder", "--ip-scale": "scale", "--ip-mode": "mode"}


def add_reference_args(p: argparse.ArgumentParser) -> None:
    group = p.add_argument_group("IP-Adapter (reference pictures steer the result)",
                                 "Give --ip-adapter, --ip-encoder, --ip-scale and --ip-mode once for all the "
                                 "--ip-image pictures, or once each.")
    group.add_argument("--ip-image", action="append", default=[], metavar="FILE",
                       help="a reference picture (repeatable: each steers through its own adapter)")
    group.add_argument("--ip-adapter", action="append", default=[], metavar="ID|DIR|FILE",
                       help="the IP-Adapter: its .safetensors file, the folder holding it, or a hub file "
                            "(owner/repo/path.safetensors)")
    group.add_argument("--ip-encoder", action="append", default=[], metavar="DIR",
                       help="its CLIP image encoder folder (default: image_encoder/ beside the adapter)")
    group.add_argument("--ip-scale", action="append", default=[], type=float, metavar="S",
                       help=f"how strongly the picture steers, 0-{MAX_REFERENCE_SCALE:g} (default {Reference.scale})")
    group.add_argument("--ip-mode", action="append", default=[], choices=REFERENCE_MODES,
                       help="what of the picture steers: all it shows (full, the default), its style, or its "
                            "composition")


def references(args: argparse.Namespace) -> tuple[Reference, ...]:
    """One Reference per --ip-image; each other option given once (for all) or once per picture."""
    images = args.ip_image
    given = {flag: getattr(args, flag[2:].replace("-", "_")) for flag in _FIELDS}
    if not images:
        named = [flag for flag, values in given.items() if values]
        if named:
            raise ValueError(f"{named[0]} needs a reference picture: add --ip-image FILE.")
        return ()
    per_image = {_FIELDS[flag]: _each(flag, values, len(images)) for flag, values in given.items() if values}
    return tuple(Reference(image, **{"model": "", **{field: values[k] for field, values in per_image.items()}})
                 for k, image in enumerate(images))


def _each(flag: str, values: list[Any], count: int) -> list[Any]:
    if len(values) == 1:
        return values * count
    if len(values) == count:
        return values
    raise ValueError(f"Give {flag} once for all {count} --ip-image pictures, or once each (got {len(values)}).")
