"""BackgroundTask: the work runs off the GUI thread; progress and exactly one outcome come back on it."""

from __future__ import annotations

import gc
import logging
import threading
import time

from t2i_studio.worker.tasks import BackgroundTask


class Recorder:
    """Every signal of a task, in order, with the thread it was delivered on."""

    def __init__(self, task: BackgroundTask) -> None:
        self.events: list[tuple] = []
        self.threads: set[int] = set()
        task.progress.connect(lambda value: self._add("progress", value))
        task.succeeded.connect(lambda result: self._add("succeeded", result))
        task.failed.connect(lambda message, details: self._add("failed", message, details))
        task.cancelled.connect(lambda: self._add("cancelled"))
        task.done.connect(lambda: self._add("done"))

    def _add(self, *event) -> None:
        self.events.append(event)
        self.threads.add(threading.get_ident())

    def names(self) -> list[str]:
        return [e[0] for e in self.events if e[0] != "progress"]


def run(qtbot, fn) -> tuple[BackgroundTask, Recorder]:
    task = BackgroundTask(fn)
    rec = Recorder(task)
    with qtbot.waitSignal(task.done, timeout=10_000):
        task.start()
    return task, rec


def test_succeeded_carries_the_result_then_done(qtbot):
    task, rec = run(qtbot, lambda report, cancel: {"answer": 42})
    assert rec.events == [("succeeded", {"answer": 42}), ("done",)]
    assert not task.running


def test_an_error_the_user_can_act_on_fails_with_its_message(qtbot):
    def work(report, cancel):
        raise ValueError("Steps must be from 1 to 150, got 0.")

    _task, rec = run(qtbot, work)
    assert rec.events == [("failed", "Steps must be from 1 to 150, got 0.", ""), ("done",)]


def test_a_bug_fails_with_plain_words_and_the_traceback_as_details(qtbot, caplog):
    def work(report, cancel):
        raise KeyError("boom")

    with caplog.at_level(logging.WARNING, logger="t2i_studio.worker.tasks"):
        _task, rec = run(qtbot, work)
    [(name, message, details), _done] = rec.events
    assert name == "failed" and message == "Unexpected error: 'boom'"
    assert "Traceback" in details and "KeyError" in details
    assert "Background task failed" in caplog.text  # logged from the work's thread without leaking it


def test_cancel_ends_with_cancelled_only(qtbot):
    started = threading.Event()

    def work(report, cancel):
        started.set()
        while True:
            cancel.raise_if_cancelled()
            time.sleep(0.005)

    task = BackgroundTask(work)
    rec = Recorder(task)
    task.start()
    assert started.wait(10)
    with qtbot.waitSignal(task.done, timeout=10_000):
        task.cancel()
    assert rec.names() == ["cancelled", "done"]


def test_progress_is_throttled_reaches_the_gui_thread_and_ends_with_the_last_value(qtbot):
    work_threads = set()

    def work(report, cancel):
        work_threads.add(threading.get_ident())
        for k in range(2000):
            report(k)
        return "ok"

    _task, rec = run(qtbot, work)
    values = [e[1] for e in rec.events if e[0] == "progress"]
    assert values[-1] == 1999 and values == sorted(values)
    assert len(values) < 50  # not one signal per report
    assert rec.names() == ["succeeded", "done"] and rec.events.index(("progress", 1999)) < rec.events.index(
        ("succeeded", "ok"))
    assert rec.threads == {threading.main_thread().ident}
    assert work_threads and threading.main_thread().ident not in work_threads


def test_latest_holds_the_last_report_while_the_work_runs(qtbot):
    release = threading.Event()

    def work(report, cancel):
        report((3, 10))
        release.wait(10)

    task = BackgroundTask(work)
    rec = Recorder(task)
    task.start()
    qtbot.waitUntil(lambda: ("progress", (3, 10)) in rec.events, timeout=10_000)
    assert task.latest == (3, 10) and task.running
    release.set()
    assert task.wait(10)


def test_wait_times_out_while_busy_and_leaves_no_thread_once_ended(qtbot):
    release = threading.Event()

    def work(report, cancel):
        logging.getLogger("t2i_studio.test").warning("working")  # logging registers a Python thread record
        release.wait(10)

    before = set(threading.enumerate())
    task = BackgroundTask(work)
    task.start()
    assert task.running
    assert task.wait(timeout_s=0.05) is False
    release.set()
    assert task.wait(timeout_s=10) is True
    assert not task.running
    assert [t for t in threading.enumerate() if t not in before] == []


def test_tasks_nobody_holds_still_run_to_done(qtbot):
    release, finished = threading.Event(), []

    def start_and_forget(k: int) -> None:
        task = BackgroundTask(lambda report, cancel: release.wait(10))
        task.done.connect(lambda: finished.append(k))
        task.start()

    for k in range(20):
        start_and_forget(k)
    gc.collect()  # freeing a running QThread would abort the process
    release.set()
    qtbot.waitUntil(lambda: sorted(finished) == list(range(20)), timeout=10_000)
