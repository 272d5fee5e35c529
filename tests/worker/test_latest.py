"""LatestOnly: after a burst of changes only the newest is worked on, one at a time, off the GUI
thread; stop() leaves nothing running."""

from __future__ import annotations

import threading

from t2i_studio.worker.latest import LatestOnly


def test_a_burst_of_changes_runs_only_the_newest_and_one_at_a_time(qtbot):
    latest = LatestOnly(20)
    ran, results, release = [], [], threading.Event()
    latest.succeeded.connect(results.append)

    def work(name: str, wait: bool = False):
        def run() -> str:
            ran.append((name, threading.current_thread() is threading.main_thread()))
            if wait:
                release.wait(5)
            return name
        return run

    for name in ("a", "b", "c"):
        latest.submit(work(name, wait=True))
    qtbot.waitUntil(lambda: bool(ran))
    latest.submit(work("d"))  # typed while "c" runs: waits for it
    latest.submit(work("e"))
    qtbot.wait(100)
    assert ran == [("c", False)] and latest.busy
    release.set()
    qtbot.waitUntil(lambda: results == ["c", "e"])
    assert [name for name, _ in ran] == ["c", "e"]
    qtbot.waitUntil(lambda: not latest.busy)
    latest.stop()
