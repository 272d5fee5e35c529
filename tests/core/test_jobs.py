"""The one job loop (no Qt): batching once, saving each run at once, one event type, one message
for any failure, and the engine registry's check at submission."""

from __future__ import annotations

import pytest
from fake_engine import FakeEngine, FakeProject, registry_of
from request_builder import gen_request, with_

from t2i_studio.core import jobs
from t2i_studio.core.engine import CancelToken
from t2i_studio.core.engine_registry import EngineEntry, EngineRegistry
from t2i_studio.core.requests import Adapter, ModelRef, StyleRequest


def _run(request, engine=None, project=None, **kw):
    engine = engine or FakeEngine(step_s=0.0)
    project = project or FakeProject()
    events: list[jobs.JobEvent] = []
    outcome = jobs.run_job(request, registry_of({"generate": lambda: engine}), project.save_result,
                           job_id=7, on_event=events.append, **kw)
    return outcome, events, engine, project


def test_a_batch_runs_once_per_batch_and_saves_after_each_run():
    request = gen_request(model="m", seed=100, steps=2, batch_size=2, batch_count=3)
    outcome, events, engine, project = _run(request)
    assert outcome.state == jobs.FINISHED and len(outcome.entries) == 6
    assert [(r.sampling.seed, r.sampling.batch_count) for r in engine.runs] == [(100, 1), (102, 1), (104, 1)]
    kinds = [e.kind for e in events if e.kind not in (jobs.PROGRESS, jobs.MESSAGE)]
    assert kinds == ["started", "saved", "saved", "saved", "finished"]
    assert [len(e.entries) for e in events if e.kind == jobs.SAVED] == [2, 2, 2]
    assert [s for _req, result in project.saved for s in result.seeds] == list(range(100, 106))
    last = [e for e in events if e.kind == jobs.PROGRESS][-1]
    assert (last.step, last.total) == (6, 6)  # runs mapped onto one job total


def test_a_failure_keeps_what_was_saved_and_says_what_to_do():
    class FailsSecond(FakeEngine):
        def run(self, request, on_progress, cancel):
            if self.runs:
                self.runs.append(request)
                raise MemoryError()
            return super().run(request, on_progress, cancel)

    outcome, events, _engine, project = _run(gen_request(model="m", steps=1, batch_count=3),
                                             engine=FailsSecond(step_s=0.0))
    assert outcome.state == jobs.FAILED and len(outcome.entries) == 1 and len(project.saved) == 1
    assert "Out of memory" in outcome.message.text and "smaller size" in outcome.message.text
    failed = events[-1]
    assert failed.kind == jobs.FAILED and failed.text == outcome.message.text and len(failed.entries) == 1


def test_cancel_saves_nothing_of_the_run_in_progress():
    cancel = CancelToken()
    engine = FakeEngine(step_s=0.0)
    original = engine.run

    def run_then_cancel(request, on_progress, token):
        result = original(request, on_progress, token)
        if len(engine.runs) == 2:
            cancel.cancel()  # came in as the second run ended: that run is dropped
        return result

    engine.run = run_then_cancel
    outcome, events, _e, project = _run(gen_request(model="m", steps=1, batch_count=4), engine=engine,
                                        cancel=cancel)
    assert outcome.state == jobs.CANCELLED and len(project.saved) == 1 and events[-1].kind == jobs.CANCELLED


def test_stop_after_current_ends_a_batch_keeping_the_finished_runs():
    engine = FakeEngine(step_s=0.0)
    outcome, _events, _e, project = _run(gen_request(model="m", steps=1, batch_count=5), engine=engine,
                                         stop_requested=lambda: len(engine.runs) >= 2)
    assert outcome.state == jobs.FINISHED and len(project.saved) == 2


def test_interrupt_passes_through_after_the_saved_runs():
    class Interrupted(FakeEngine):
        def run(self, request, on_progress, cancel):
            if len(self.runs) == 2:
                raise KeyboardInterrupt
            return super().run(request, on_progress, cancel)

    project = FakeProject()
    with pytest.raises(KeyboardInterrupt):
        _run(gen_request(model="m", steps=1, batch_count=5), engine=Interrupted(step_s=0.0), project=project)
    assert len(project.saved) == 2


def _registry(**entry) -> EngineRegistry:
    base = dict(name="diffusers", label="Local", kind="generate", modes=("txt2img",), factory=FakeEngine,
                schedulers=("Euler", "Euler a"))
    return EngineRegistry([EngineEntry(**{**base, **entry})])


def test_the_registry_refuses_what_the_named_engine_cannot_do(tmp_path):
    init = tmp_path / "init.png"
    ok = gen_request(model="m", scheduler="Euler")
    _registry().check(ok)
    cases = [
        (with_(ok, engine="comfyui"), "No engine called 'comfyui' here (available: diffusers)"),
        (with_(ok, init_image=str(init)), "cannot do img2img; it does txt2img"),
        (with_(ok, scheduler="DDIM"), "no scheduler 'DDIM'; use one of Euler, Euler a"),
        (ok.replace(model=ModelRef("m", adapters=(Adapter("detail.safetensors", weight=0.6),))),
         "cannot apply lora adapters (detail.safetensors)"),
        (StyleRequest("c.png", ("s.png",), engine="diffusers"), "does not run stylize jobs"),
        (with_(ok, steps=0), "Steps must be"),
    ]
    for request, message in cases:
        with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
            _registry().check(request)


def test_an_engines_own_check_runs_last_and_its_errors_read_as_value_errors():
    from t2i_studio.core.engine import EngineError

    def check(request):
        raise EngineError("Model not found: m.", hint="Download it first.")

    with pytest.raises(ValueError, match="Model not found: m. Download it first."):
        _registry(check=check).check(gen_request(model="m", scheduler="Euler"))


def test_engines_are_built_once_on_first_use_and_closed_together():
    built = []

    def make():
        built.append(FakeEngine())
        return built[-1]

    registry = _registry(factory=make)
    assert registry.loaded("diffusers") is None and built == []
    assert registry.engine("diffusers") is registry.engine("diffusers") and len(built) == 1
    registry.close()
    assert built[0].closed == 1
