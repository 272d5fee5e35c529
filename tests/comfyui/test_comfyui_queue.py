"""Cancelling, and servers that die mid-job: what the user sees of the queue."""

from __future__ import annotations

import threading
import time

import pytest
from comfyui.helpers import comfy_request, registry_for, run
from comfyui.queue_helpers import Blocker, queue_of, wait_until

from t2i_studio.core import jobs
from t2i_studio.core.engine import CancelToken

pytestmark = pytest.mark.slow


def _in_thread(target) -> tuple[threading.Thread, dict]:
    box: dict = {}
    thread = threading.Thread(target=lambda: box.update(result=target()))
    thread.start()
    return thread, box


def test_cancel_interrupts_the_running_prompt_and_saves_nothing(comfy_server, tmp_path):
    cancel = CancelToken()
    started = threading.Event()
    thread, box = _in_thread(lambda: run(
        comfy_request(steps=200), registry_for(comfy_server.url), tmp_path / "p", cancel,
        on_event=lambda e: e.kind == jobs.PROGRESS and e.step >= 1 and started.set()))
    assert started.wait(120)
    cancel.cancel()
    cancelled_at = time.monotonic()
    thread.join()
    outcome, _ = box["result"]
    assert outcome.state == jobs.CANCELLED and outcome.entries == []
    assert not list((tmp_path / "p" / "images").rglob("*.png"))
    wait_until(lambda: not queue_of(comfy_server.url)["queue_running"], timeout=30)  # the server stopped too
    assert time.monotonic() - cancelled_at < 30  # far sooner than 200 steps


def test_cancel_of_a_waiting_job_takes_it_out_of_the_server_queue(comfy_server, tmp_path):
    blocker = Blocker(comfy_server.url)
    try:
        cancel = CancelToken()
        thread, box = _in_thread(lambda: run(comfy_request(), registry_for(comfy_server.url), tmp_path / "p", cancel))
        wait_until(lambda: len(queue_of(comfy_server.url)["queue_pending"]) == 1)
        cancel.cancel()
        thread.join()
        assert box["result"][0].state == jobs.CANCELLED
        queue = queue_of(comfy_server.url)
        assert queue["queue_pending"] == [] and queue["queue_running"][0][1] == blocker.prompt_id
    finally:
        blocker.stop()


def _kill_when_it_works(server, events_seen: list) -> callable:
    def on_event(event: jobs.JobEvent) -> None:
        events_seen.append(event)
        if event.kind == jobs.PROGRESS and event.step >= 1 and server.process.poll() is None:
            server.kill()
    return on_event


def test_a_server_killed_mid_job_fails_it_with_a_clear_message(spare_server, tmp_path):
    seen: list = []
    registry = registry_for(spare_server.url)
    outcome, _ = run(comfy_request(steps=200), registry, tmp_path / "p",
                     on_event=_kill_when_it_works(spare_server, seen))
    assert outcome.state == jobs.FAILED
    assert f"ComfyUI server 127.0.0.1:{spare_server.port} went down mid-job" in outcome.message.text
    assert "\n" not in outcome.message.text
    with pytest.raises(ValueError, match="No ComfyUI server can run this job: .* went down mid-job"):
        registry.check(comfy_request())  # marked offline: the next job is refused at once


def test_when_one_of_two_servers_dies_the_rest_of_the_batch_runs_on_the_other(spare_server, comfy_server, tmp_path):
    seen: list = []
    # the spare first: it is asked first when both queues are empty, so it surely gets an image
    registry = registry_for(spare_server.url, comfy_server.url)
    outcome, _ = run(comfy_request(seed=20, steps=2, batch_size=3), registry, tmp_path / "p",
                     on_event=_kill_when_it_works(spare_server, seen))
    assert outcome.state == jobs.FINISHED, outcome.message
    assert sorted(e.seed for e in outcome.entries) == [20, 21, 22]
    assert [s["url"] for s in outcome.entries[0].params["fingerprint"]["servers"]] == [comfy_server.url]
    told = [e.text for e in seen if e.kind == jobs.MESSAGE]
    assert any("went down mid-job" in t and "Going on with the other servers" in t for t in told)
