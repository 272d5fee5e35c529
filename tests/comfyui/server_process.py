"""A real ComfyUI server process (``../shared/comfyui/serve``) on a free 127.0.0.1 port, for the
tests and the benchmark: started with the models linked in, waited for, and stopped with its whole
process group."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

def _find_comfyui() -> Path:
    """``shared/comfyui`` beside the checkout, or beside a folder above it (a clone made elsewhere
    under the same workplace); where none is found, the usual place (the tests then skip)."""
    root = Path(__file__).resolve().parents[2]
    for folder in root.parents:
        candidate = folder / "shared" / "comfyui"
        if (candidate / "serve").is_file():
            return candidate
    return root.parent / "shared" / "comfyui"


COMFYUI = _find_comfyui()
START_TIMEOUT_S = 900  # the very first start builds the server's venv


class ComfyServer:
    """One ``serve PORT BASE`` process; ``url`` answers once it is up."""

    def __init__(self, base: Path, models: Path, threads: int | None = None) -> None:
        for kind in ("checkpoints", "loras", "controlnet"):
            (base / "models" / kind).mkdir(parents=True, exist_ok=True)
            if not (models / kind).is_dir():  # the benchmark has no ControlNet
                continue
            for file in (models / kind).iterdir():
                (base / "models" / kind / file.name).symlink_to(file)
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = open(base / "server.log", "wb")  # noqa: SIM115 - closed in stop()
        env = dict(os.environ)
        if threads:
            env["OMP_NUM_THREADS"] = str(threads)
        self.process = subprocess.Popen([str(COMFYUI / "serve"), str(self.port), str(base)], stdout=self.log,
                                        stderr=subprocess.STDOUT, start_new_session=True, env=env)
        self._wait(base)

    def _wait(self, base: Path) -> None:
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                self.stop()
                log = (base / "server.log").read_text()[-2000:]
                raise RuntimeError(f"ComfyUI exited ({self.process.returncode}): {log}")
            try:
                with urllib.request.urlopen(self.url + "/system_stats", timeout=2) as answer:
                    json.load(answer)
                return
            except OSError:
                time.sleep(0.3)
        self.stop()
        raise RuntimeError(f"ComfyUI did not answer on {self.url} within {START_TIMEOUT_S} s")

    def kill(self) -> None:
        """As a crash would: SIGKILL, no goodbye on the socket."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()
        self.log.close()
