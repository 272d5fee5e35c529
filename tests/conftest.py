"""Test session set-up: offscreen Qt, no network, a private app home, no leaked threads,
and tiny text-to-image pipelines saved to disk and loaded like a user's model."""

from __future__ import annotations

import os
import tempfile
import threading
import time
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


@pytest.fixture(autouse=True)
def no_thread_leak(request):
    """Fail any test that leaves a Python thread running (QThreads are checked by the worker tests)."""
    before = {t.ident for t in threading.enumerate()}
    yield
    deadline = time.monotonic() + 5.0
    while True:
        leaked = [t for t in threading.enumerate() if t.ident not in before and t.is_alive()]
        if not leaked or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    if leaked:
        pytest.fail(f"{request.node.nodeid} left threads running: {[t.name for t in leaked]}")


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
