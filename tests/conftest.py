"""Test session set-up: offscreen Qt, no network, a private app home, no leaked threads or QThreads,
and tiny text-to-image pipelines saved to disk and loaded like a user's model."""

from __future__ import annotations

import os
import tempfile
import threading
import time
import weakref
from pathlib import Path

# Before anything can create a QApplication or touch the hub.
os.environ["QT_QPA_PLATFORM"] = "offscreen"
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
os.environ["HF_HUB_DISABLE_TELEMETRY"] = "1"
os.environ["HF_HUB_DISABLE_PROGRESS_BARS"] = "1"
_HOME = Path(tempfile.mkdtemp(prefix="t2i-test-home-"))
os.environ["T2I_STUDIO_HOME"] = str(_HOME)
os.environ["HF_HOME"] = str(_HOME / "hf")  # an empty hub cache: nothing from the developer's disk

import pytest  # noqa: E402

import tiny_models  # noqa: E402


def _track_qthreads() -> weakref.WeakSet:
    """Every QThread started during the tests (QThread.start wrapped once, here, not in the app)."""
    from PySide6.QtCore import QThread

    started: weakref.WeakSet = weakref.WeakSet()
    original = QThread.start

    def start(self, *args):  # noqa: ANN001, ANN202
        started.add(self)
        return original(self, *args)

    QThread.start = start
    return started


_QTHREADS = _track_qthreads()


def _leaks(before_threads: set[int], before_qthreads: set[int]) -> list[str]:
    # Python registers a QThread that logs as a _DummyThread it never forgets: the QThread check
    # below covers those threads.
    leaked = [t.name for t in threading.enumerate() if t.ident not in before_threads and t.is_alive()
              and not isinstance(t, threading._DummyThread)]  # type: ignore[attr-defined]
    leaked += [f"QThread {type(t).__name__}" for t in list(_QTHREADS)
               if id(t) not in before_qthreads and _running(t)]
    return leaked


def _running(thread) -> bool:  # noqa: ANN001
    try:
        return bool(thread.isRunning())
    except RuntimeError:  # its C++ object is gone: it has stopped
        return False


@pytest.fixture(autouse=True)
def no_thread_leak(request):
    """Fail any test that leaves a Python thread or a QThread running."""
    before = {t.ident for t in threading.enumerate()}
    before_q = {id(t) for t in list(_QTHREADS) if _running(t)}
    yield
    deadline = time.monotonic() + 5.0
    while (leaked := _leaks(before, before_q)) and time.monotonic() < deadline:
        time.sleep(0.05)
    if leaked:
        pytest.fail(f"{request.node.nodeid} left threads running: {leaked}")


@pytest.fixture(scope="session")
def tiny_sd_path(tmp_path_factory) -> Path:
    """Folder of a tiny SD 1.x-shaped diffusers pipeline (UNet, VAE, CLIP, tokenizer)."""
    return tiny_models.build_sd(tmp_path_factory.mktemp("tiny-sd"))


@pytest.fixture(scope="session")
def tiny_sdxl_path(tmp_path_factory) -> Path:
    """Folder of a tiny SDXL-shaped pipeline (two text encoders)."""
    return tiny_models.build_sdxl(tmp_path_factory.mktemp("tiny-sdxl"))


@pytest.fixture(scope="module")
def one_torch_thread():
    """Tiny models are all threading overhead: one torch thread is faster, and immune to a busy CPU."""
    import torch

    old = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(old)


@pytest.fixture
def app_home() -> Path:
    """The private T2I_STUDIO_HOME of this test session (settings, logs, default project)."""
    return _HOME
