"""Benchmark: process start to the main window shown (``window_shown_s``, target <= 1.5 s).

Each run starts a fresh Python process that imports the app, builds the window (settings, default
project, runner, gallery) and shows it; the time runs from just before the process is spawned to
the first moment the window is exposed. The child also reports whether torch (or diffusers) had
been imported by then: it must not be, engines load at the first job. The first run creates the
default project and is reported separately (``first_run_window_shown_s``); the median of the rest
is the figure. Each figure is one JSON line on stdout.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import arg_parser, emit

ROOT = Path(__file__).resolve().parents[1]


def child(t0: float) -> None:
    sys.path.insert(0, str(ROOT))
    from PySide6.QtCore import QCoreApplication, QEventLoop

    from t2i_studio import app

    qapp, window = app.build(None, ["t2i-studio"])
    window.show()
    handle = window.windowHandle()
    while handle is None or not handle.isExposed():
        qapp.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 10)
        handle = window.windowHandle()
    qapp.processEvents()  # the first paint
    shown = time.time() - t0
    result = {"window_shown_s": shown, "torch": "torch" in sys.modules,
              "diffusers": "diffusers" in sys.modules}
    window.close()
    QCoreApplication.processEvents()
    print(json.dumps(result))


def run_once(home: Path, platform_name: str) -> dict:
    env = {**os.environ, "T2I_STUDIO_HOME": str(home), "QT_QPA_PLATFORM": platform_name}
    t0 = time.time()
    out = subprocess.run([sys.executable, __file__, "--child", repr(t0)], capture_output=True, text=True,
                         env=env, timeout=120, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = arg_parser(__doc__.splitlines()[0], "3 runs instead of 7")
    parser.add_argument("--platform", default=os.environ.get("QT_QPA_PLATFORM") or "offscreen",
                        help="Qt platform plugin (offscreen by default; xcb under X)")
    parser.add_argument("--child", type=float, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child is not None:
        child(args.child)
        return 0
    runs = 3 if args.quick else 7
    with tempfile.TemporaryDirectory(prefix="t2i-startup-") as home:
        first = run_once(Path(home), args.platform)
        rest = [run_once(Path(home), args.platform) for _ in range(runs)]
    times = [r["window_shown_s"] for r in rest]
    torch_loaded = any(r["torch"] or r["diffusers"] for r in [first, *rest])
    machine = {"cpus": os.cpu_count(), "machine": platform.machine()}
    emit("gui_startup", "window_shown_s", round(statistics.median(times), 3), unit="s", target=1.5,
         params={**machine, "runs": runs, "platform": args.platform, "min": round(min(times), 3),
                 "max": round(max(times), 3)})
    emit("gui_startup", "first_run_window_shown_s", round(first["window_shown_s"], 3), unit="s",
         params={**machine, "platform": args.platform, "note": "creates the default project"})
    emit("gui_startup", "torch_imported_before_window", torch_loaded, unit="bool", target=False,
         better="false", params=machine)
    return 1 if torch_loaded else 0


if __name__ == "__main__":
    sys.exit(main())
