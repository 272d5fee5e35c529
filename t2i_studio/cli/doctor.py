"""``t2i-studio doctor``: versions, devices, folders and weights present. Offline; downloads nothing."""

from __future__ import annotations

import argparse
import json
import platform
import sys
from importlib import metadata
from pathlib import Path
from typing import Any

from t2i_studio import __version__
from t2i_studio.core import settings

VGG_FEATURES_FILE = "vgg19-features.safetensors"
_PACKAGES = ("torch", "diffusers", "transformers", "accelerate", "safetensors", "huggingface_hub", "peft",
             "spandrel", "dynamicprompts", "opencv-python-headless", "PySide6-Essentials", "pillow", "numpy")


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("doctor", help="report versions, devices, folders and models present")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.set_defaults(func=run)


def _version(package: str) -> str | None:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


def _cached_models(cache: Path) -> list[dict[str, Any]]:
    if not cache.is_dir():
        return []
    from huggingface_hub import scan_cache_dir

    try:
        info = scan_cache_dir(cache)
    except Exception as exc:  # a corrupt cache must not break the report  # noqa: BLE001
        return [{"error": str(exc)}]
    return [{"id": repo.repo_id, "type": repo.repo_type, "size_mb": round(repo.size_on_disk / 2**20, 1)}
            for repo in sorted(info.repos, key=lambda r: r.repo_id)]


def collect() -> dict[str, Any]:
    from t2i_studio.engines.devices import device_report

    cache = settings.hf_cache_dir()
    vgg = settings.style_weights_dir() / VGG_FEATURES_FILE
    return {
        "app": __version__,
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "packages": {name: _version(name) for name in _PACKAGES},
        "devices": device_report(),
        "paths": {
            "config": str(settings.config_dir()),
            "logs": str(settings.log_dir()),
            "default_project": str(settings.default_project_dir()),
            "model_cache": str(cache),
            "style_weights": str(settings.style_weights_dir()),
        },
        "weights": {
            "hub_models": _cached_models(cache),
            "added_models": settings.Settings.load().models,
            "vgg19_imagenet": vgg.is_file(),
        },
    }


def _print_human(report: dict[str, Any]) -> None:
    print(f"T2I Studio {report['app']}  (Python {report['python']}, {report['platform']})")
    print("Packages:")
    for name, version in report["packages"].items():
        print(f"  {name:20} {version or 'not installed'}")
    dev = report["devices"]
    cpu = dev["cpu"]
    print("Devices:")
    print(f"  CPU   {cpu['cores']} cores ({cpu['torch_threads']} torch threads), "
          f"bf16 {'accelerated' if cpu['bf16_accelerated'] else 'not accelerated'}")
    for gpu in dev["cuda"]:
        print(f"  CUDA  {gpu['index']}: {gpu['name']}, {gpu['memory_gb']} GB, sm {gpu['capability']}")
    if not dev["cuda"]:
        print("  CUDA  none")
    print(f"  MPS   {'available' if dev['mps'] else 'none'}")
    print("Folders:")
    for name, path in report["paths"].items():
        print(f"  {name:16} {path}")
    weights = report["weights"]
    print("Weights:")
    models = [m for m in weights["hub_models"] if m.get("type") == "model"]
    print(f"  hub models       {', '.join(m['id'] for m in models) or 'none cached'}")
    print(f"  added models     {', '.join(weights['added_models']) or 'none'}")
    print(f"  VGG19 (style)    {'present' if weights['vgg19_imagenet'] else 'not downloaded yet'}")


def run(args: argparse.Namespace) -> int:
    report = collect()
    if args.json:
        print(json.dumps(report))
    else:
        _print_human(report)
    return 0
