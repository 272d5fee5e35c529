"""The worker protocol, driven by a scripted fake engine: no torch anywhere."""

from __future__ import annotations

import sys
import threading

import pytest
from fake_engine import FakeEngine, FakeProject, registry_of
from request_builder import gen_request

from t2i_studio.core.requests import GenerationRequest, StyleRequest
from t2i_studio.worker.runner import JobRunner


def gen(prompt="a cat", **kw) -> GenerationRequest:
    kw.setdefault("steps", 4)
    return gen_request(prompt=prompt, model="fake", width=64, height=64, **kw)


class Recorder:
    def __init__(self, runner: JobRunner) -> None:
        self.events: list[tuple] = []
        runner.job_started.connect(lambda j: self.events.append(("started", j)))
        runner.job_finished.connect(lambda j, ids: self.events.append(("finished", j, list(ids))))
        runner.job_failed.connect(lambda j, m, d: self.events.append(("failed", j, m, d)))
        runner.job_cancelled.connect(lambda j: self.events.append(("cancelled", j)))
        runner.images_saved.connect(lambda j, ids: self.events.append(("saved", j, list(ids))))
        runner.progress.connect(lambda j, s, t, p: self.events.append(("progress", j, s, t, p)))
        runner.status_changed.connect(lambda d: self.events.append(("status", d)))

    def of(self, name):
        return [e for e in self.events if e[0] == name]

    def ended(self, job_id) -> bool:
        return any(e[0] in ("finished", "failed", "cancelled") and e[1] == job_id for e in self.events)


@pytest.fixture
def setup(qtbot):
    engines = {"generate": FakeEngine("generate"), "stylize": FakeEngine("stylize", steps=3)}
    made = []

    def factory(kind):
        def make():
            made.append((kind, threading.current_thread() is threading.main_thread()))
            return engines[kind]
        return make

    project = FakeProject()
    runner = JobRunner(registry_of({k: factory(k) for k in engines}), project)
    rec = Recorder(runner)
    yield runner, engines, project, rec, made
    assert runner.shutdown(timeout_s=10)


def test_three_jobs_queue_and_finish_in_order_on_the_worker_thread(qtbot, setup):
    runner, engines, project, rec, made = setup
    ids = [runner.submit(gen(f"cat {i}", seed=i)) for i in range(3)]
    assert [j.id for j in runner.jobs()] == ids
    qtbot.waitUntil(lambda: rec.ended(ids[-1]), timeout=10_000)
    assert [e[1] for e in rec.of("started")] == ids
    finished = rec.of("finished")
    assert [e[1] for e in finished] == ids
    assert [e[2] for e in finished] == [[1], [2], [3]]
    assert [r.prompt for r in engines["generate"].runs] == ["cat 0", "cat 1", "cat 2"]
    assert threading.current_thread().name not in engines["generate"].thread_names
    assert "MainThread" not in project.save_threads
    assert made == [("generate", False)]  # built once, lazily, off the GUI thread
    assert not runner.busy and runner.jobs() == []


def test_engines_are_built_on_first_use_only(qtbot, setup):
    runner, engines, project, rec, made = setup
    assert made == []
    job = runner.submit(StyleRequest(content="c.png", styles=("s.png",), size=64))
    qtbot.waitUntil(lambda: rec.ended(job), timeout=10_000)
    assert made == [("stylize", False)]
    assert rec.of("finished")[0][2] == [1]


def test_progress_carries_steps_and_owned_previews(qtbot, setup):
    from PySide6.QtGui import QImage

    runner, engines, project, rec, made = setup
    job = runner.submit(gen(steps=4))
    qtbot.waitUntil(lambda: rec.ended(job), timeout=10_000)
    progress = rec.of("progress")
    assert progress[-1][2:4] == (4, 4)
    previews = [p[4] for p in progress if p[4] is not None]
    assert previews and all(isinstance(p, QImage) and p.width() == 32 for p in previews)
    status = rec.of("status")[-1][1]
    assert status == {"device": "cpu", "model": "fake-model", "memory_mb": 12.5}


def test_previews_are_throttled(qtbot, setup):
    runner, engines, project, rec, made = setup
    engines["generate"].step_s = 0.004
    job = runner.submit(gen(steps=100))  # ~0.4 s or more, a preview at every step
    qtbot.waitUntil(lambda: rec.ended(job), timeout=20_000)
    previews = [p for p in rec.of("progress") if p[4] is not None]
    assert 1 <= len(previews) <= 12
    assert len(rec.of("progress")) < 60


def test_cancel_mid_run_saves_nothing_and_the_next_job_works(qtbot, setup):
    runner, engines, project, rec, made = setup
    engine = engines["generate"]
    first = runner.submit(gen("block me"))
    second = runner.submit(gen("after"))
    assert engine.started.wait(5)
    assert runner.current_job() == first
    assert runner.cancel(first)
    qtbot.waitUntil(lambda: rec.ended(second), timeout=10_000)
    assert rec.of("cancelled") == [("cancelled", first)]
    assert [e[1] for e in rec.of("finished")] == [second]
    assert [r.prompt for r, _ in project.saved] == ["after"]


def test_cancel_or_remove_a_waiting_job_drops_it(qtbot, setup):
    runner, engines, project, rec, made = setup
    engine = engines["generate"]
    first = runner.submit(gen("block"))
    second = runner.submit(gen("dropped"))
    third = runner.submit(gen("removed"))
    assert engine.started.wait(5)
    assert runner.cancel(second)
    assert runner.remove(third)
    assert [j.id for j in runner.jobs()] == [first]
    assert runner.jobs()[0].state == "running"
    engine.gate.set()
    qtbot.waitUntil(lambda: rec.ended(first), timeout=10_000)
    assert [e[1] for e in rec.of("cancelled")] == [second, third]
    assert [r.prompt for r in engine.runs] == ["block"]
    assert not runner.cancel(12345)


def test_a_failing_job_reports_and_the_engine_keeps_working(qtbot, setup):
    runner, engines, project, rec, made = setup
    bad = runner.submit(gen("fail please"))
    crash = runner.submit(gen("crash please"))
    good = runner.submit(gen("fine"))
    qtbot.waitUntil(lambda: rec.ended(good), timeout=10_000)
    failed = rec.of("failed")
    assert failed[0][1] == bad
    assert "not a diffusers pipeline" in failed[0][2] and "model_index.json" in failed[0][2]
    assert failed[0][3] == "scripted"
    assert failed[1][1] == crash and "scripted crash" in failed[1][2] and "Traceback" in failed[1][3]
    assert [e[1] for e in rec.of("finished")] == [good]


def test_disk_full_is_reported_with_a_fix(qtbot, setup):
    runner, engines, project, rec, made = setup
    project.fail_save = True
    job = runner.submit(gen())
    qtbot.waitUntil(lambda: rec.ended(job), timeout=10_000)
    assert "disk is full" in rec.of("failed")[0][2]


def test_batches_run_one_by_one_with_seed_offsets_and_save_after_each(qtbot, setup):
    runner, engines, project, rec, made = setup
    job = runner.submit(gen(seed=100, batch_size=2, batch_count=3))
    assert runner.jobs()[0].images == 6
    qtbot.waitUntil(lambda: rec.ended(job), timeout=10_000)
    runs = engines["generate"].runs
    assert [(r.sampling.seed, r.sampling.batch_count, r.sampling.batch_size) for r in runs] == [(100, 1, 2), (102, 1, 2), (104, 1, 2)]
    assert [e[2] for e in rec.of("saved")] == [[1, 2], [3, 4], [5, 6]]
    assert rec.of("finished")[0][2] == [1, 2, 3, 4, 5, 6]
    progress = rec.of("progress")
    assert progress[-1][2:4] == (12, 12)  # one total over all batches


def test_stop_after_current_image_keeps_what_was_made(qtbot, setup):
    runner, engines, project, rec, made = setup
    engine = engines["generate"]
    job = runner.submit(gen("block", batch_count=3))
    assert engine.started.wait(5)
    assert runner.stop_after_current(job)
    assert runner.jobs()[0].stop_after_current
    engine.gate.set()
    qtbot.waitUntil(lambda: rec.ended(job), timeout=10_000)
    assert len(engine.runs) == 1
    assert rec.of("finished")[0][2] == [1]


def test_invalid_requests_and_missing_project_are_refused(qtbot):
    runner = JobRunner(registry_of({"generate": FakeEngine}))
    try:
        with pytest.raises(ValueError, match="prompt is empty"):
            runner.submit(gen(""), FakeProject())
        with pytest.raises(ValueError, match="No project"):
            runner.submit(gen())
        assert runner.jobs() == []
    finally:
        assert runner.shutdown()


def test_shutdown_during_a_job_cancels_waits_and_closes_engines(qtbot, setup):
    runner, engines, project, rec, made = setup
    engine = engines["generate"]
    runner.submit(gen("block"))
    runner.submit(gen("never"))
    assert engine.started.wait(5)
    assert runner.shutdown(timeout_s=10)
    assert not runner._thread.isRunning()
    assert engine.closed == 1
    assert project.saved == []
    with pytest.raises(RuntimeError):
        runner.submit(gen())


def test_wait_idle(qtbot, setup):
    runner, engines, project, rec, made = setup
    engines["generate"].step_s = 0.01
    runner.submit(gen(steps=5))
    assert runner.busy
    assert runner.wait_idle(10)
    assert not runner.busy


def test_the_worker_never_imports_torch():
    import subprocess

    code = ("import sys; import t2i_studio.worker.runner, t2i_studio.worker.qimage; "
            "print('torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
