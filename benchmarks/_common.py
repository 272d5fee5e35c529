"""What every benchmark shares: its command line (``--quick``) and the JSON line of one figure.

Not a benchmark itself: the scripts import it by bare name (a script's folder is on ``sys.path``).
"""

from __future__ import annotations

import argparse
import json
from typing import Any


def arg_parser(description: str, quick_help: str = "a small version that finishes in about a minute"
               ) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--quick", action="store_true", help=quick_help)
    return parser


def emit(benchmark: str, metric: str, value: Any, *, unit: str, target: Any = None, better: str = "lower",
         device: str = "cpu", params: dict | None = None) -> None:
    """Print one figure as one JSON line on stdout (flushed: a later crash must not swallow it)."""
    print(json.dumps({"benchmark": benchmark, "metric": metric, "value": value, "unit": unit,
                      "target": target, "better": better, "device": device, "params": params or {}}),
          flush=True)
