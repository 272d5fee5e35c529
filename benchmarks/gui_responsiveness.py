"""Benchmark: GUI event-loop stalls while the worker generates and stylizes on the CPU.

A 10 ms QTimer probes the GUI thread of the real window while one generation (tiny SD pipeline
built from ``tests/tiny_models.py``, loaded from disk like a user's model) and one style transfer
(random VGG19 weights: nothing is downloaded) run on the worker thread, previews and all. A stall
is how late a tick fires beyond its 10 ms period. Figures per phase: ``stall_p99_ms`` (target
<= 50) and ``stall_max_ms``; ``ticks`` says how many samples they come from. The model load of the
first job is included (it happens on the worker thread too). One JSON line per figure on stdout.
"""

from __future__ import annotations

import os
import platform
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from _common import arg_parser, emit  # noqa: E402


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))] if ordered else 0.0


def main() -> int:
    args = arg_parser(__doc__.splitlines()[0], "smaller images and fewer steps").parse_args()
    home = Path(tempfile.mkdtemp(prefix="t2i-resp-"))
    os.environ["T2I_STUDIO_HOME"] = str(home)
    os.environ["T2I_STUDIO_VGG_WEIGHTS"] = "random"

    import tiny_models
    from PySide6.QtCore import QElapsedTimer, QTimer

    from t2i_studio import app
    from t2i_studio.core.catalog import ModelInfo

    model = tiny_models.build_sd(home / "tiny")
    size, steps, style_size, iterations = (128, 10, 96, 20) if args.quick else (256, 30, 192, 60)
    qapp, window = app.build(str(home / "project"), ["t2i-studio"])
    window.show()
    qapp.processEvents()
    window.prompt_panel.set_models([ModelInfo(str(model), "tiny-sd", "folder", "sd", 1, str(model))])

    ticks: list[float] = []
    clock = QElapsedTimer()
    probe = QTimer()
    probe.setInterval(10)
    probe.setTimerType(probe.timerType().PreciseTimer)

    def tick() -> None:
        ticks.append(clock.nsecsElapsed() / 1e6)
        clock.restart()

    probe.timeout.connect(tick)
    done: list[int] = []
    window.runner.job_finished.connect(lambda job, ids: done.append(job))
    window.runner.job_failed.connect(lambda job, msg, det: (print(msg, det, file=sys.stderr), done.append(job)))

    def measure(phase: str, submit) -> None:  # noqa: ANN001
        ticks.clear()
        done.clear()
        clock.start()
        probe.start()
        started = time.perf_counter()
        submit()
        while not done:
            qapp.processEvents()
            time.sleep(0.0005)
        wall = time.perf_counter() - started
        probe.stop()
        stalls = [max(0.0, t - 10.0) for t in ticks[1:]]
        params = {"phase": phase, "ticks": len(stalls), "job_s": round(wall, 2), "cpus": os.cpu_count(),
                  "machine": platform.machine(), "quick": args.quick}
        for metric, value, target in (("stall_p99_ms", percentile(stalls, 99), 50),
                                      ("stall_max_ms", max(stalls, default=0.0), None)):
            emit("gui_responsiveness", metric, round(value, 1), unit="ms", target=target, params=params)

    p = window.prompt_panel
    p.prompt.setPlainText("a lighthouse on a cliff at dusk")
    p.size.set_size(size, size)
    p.steps.setValue(steps)
    p.scheduler.setCurrentText("Euler")
    p.preview_every.setValue(1)
    measure("generation", window.generate)

    s = window.style_panel
    entry_id = window.project.query(limit=1)[0].id
    s.set_content_entry(entry_id, str(window.project.get(entry_id).path))
    s.styles.set_chosen([s.styles.grid.item(0).data(0x0100)])
    s.size.setValue(style_size)
    s.iterations.setValue(iterations)
    measure("style_transfer", window.stylize)

    window.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
