"""Two servers sharing one queue: a batch spread over both, the least busy one first."""

from __future__ import annotations

import pytest
from comfyui.helpers import comfy_request, registry_for, run
from comfyui.queue_helpers import Blocker

from t2i_studio.core import jobs

pytestmark = pytest.mark.slow


def test_two_servers_share_one_batch_and_the_least_busy_starts_first(comfy_server, second_server, tmp_path):
    registry = registry_for(comfy_server.url, second_server.url)
    outcome, events = run(comfy_request(seed=100, batch_size=4), registry, tmp_path / "p")
    assert outcome.state == jobs.FINISHED, outcome.message
    assert sorted(e.seed for e in outcome.entries) == [100, 101, 102, 103]
    # each image saved the moment it came back, with its place in the batch and the server that made it
    saved = [e.entries for e in events if e.kind == jobs.SAVED]
    assert [len(s) for s in saved] == [1, 1, 1, 1] and [s[0] for s in saved] == outcome.entries
    assert all(e.params["index"] == e.seed - 100 for e in outcome.entries)
    servers = [e.params["fingerprint"]["servers"] for e in outcome.entries]
    assert {s[0]["url"] for s in servers} == {comfy_server.url, second_server.url}  # both worked
    assert all(s[0]["seeds"] == [e.seed] for s, e in zip(servers, outcome.entries))

    blocker = Blocker(comfy_server.url)  # the first server is busy with someone else's job
    try:
        outcome, _ = run(comfy_request(seed=9), registry, tmp_path / "p")
        assert outcome.state == jobs.FINISHED
        assert [s["url"] for s in outcome.entries[0].params["fingerprint"]["servers"]] == [second_server.url]
    finally:
        blocker.stop()
