"""Looking at a real server's queue, and keeping it busy with someone else's long prompt."""

from __future__ import annotations

import json
import time
import urllib.request
import uuid

from comfyui.helpers import comfy_request

from t2i_studio.engines.comfyui import graphs


def queue_of(url: str) -> dict:
    with urllib.request.urlopen(url + "/queue", timeout=10) as answer:
        return json.load(answer)


def wait_until(condition, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.1)


class Blocker:
    """A long prompt posted to a server by someone else, keeping it busy until interrupted."""

    def __init__(self, url: str) -> None:
        self.url = url
        graph = graphs.build(comfy_request(steps=500), seed=1)
        body = json.dumps({"prompt": graph, "client_id": uuid.uuid4().hex}).encode()
        req = urllib.request.Request(url + "/prompt", body, {"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=10) as answer:
            self.prompt_id = json.load(answer)["prompt_id"]
        wait_until(lambda: any(item[1] == self.prompt_id for item in queue_of(url)["queue_running"]))

    def stop(self) -> None:
        req = urllib.request.Request(self.url + "/interrupt", b"{}", {"Content-Type": "application/json"})
        urllib.request.urlopen(req, timeout=10).close()
        wait_until(lambda: not queue_of(self.url)["queue_running"])
