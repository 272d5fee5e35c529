"""How the engines fail and stop: cancel during a download is a cancel, CPU out-of-memory is an
EngineError with a hint in both engines, and the fingerprint of a strength-0 img2img names a pipeline."""

from __future__ import annotations

import io
import urllib.request

import pytest
import style_helpers as H
import torch
from PIL import Image
from request_builder import gen_request, with_

from t2i_studio.core.engine import Cancelled, CancelToken, EngineError
from t2i_studio.core.requests import RunOptions, StyleRequest
from t2i_studio.engines import devices, models, style_losses
from t2i_studio.engines import vgg as V
from t2i_studio.engines.style import StyleTransferEngine
from t2i_studio.engines.text2image import Text2ImageEngine

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _cpu_oom() -> RuntimeError:
    """The exception torch really raises when the CPU allocator cannot get the memory."""
    try:
        torch.empty(1 << 50, dtype=torch.uint8)
    except RuntimeError as exc:
        return exc
    pytest.skip("this machine could allocate a petabyte")


def test_cpu_allocator_failure_counts_as_out_of_memory():
    assert devices.is_out_of_memory(_cpu_oom())


def test_text2image_cpu_oom_is_an_engine_error(tiny_sd_path, monkeypatch):
    engine = Text2ImageEngine()
    req = gen_request(prompt="x", model=str(tiny_sd_path), width=64, height=64, steps=2, dtype="fp32")

    def boom(*args, **kwargs):
        raise _cpu_oom()

    monkeypatch.setattr(engine, "_generate", boom)
    try:
        with pytest.raises(EngineError, match="Out of memory") as info:
            engine.run(req, lambda p: None, CancelToken())
        assert info.value.hint
    finally:
        engine.close()


def test_style_cpu_oom_is_an_engine_error(tmp_path, monkeypatch):
    content = H.save(H.content_image(64), tmp_path / "content.png")
    style = H.save(H.style_image(64), tmp_path / "style.png")

    def boom(*args, **kwargs):
        raise _cpu_oom()

    monkeypatch.setattr(style_losses, "objective", boom)
    req = StyleRequest(content, styles=(style,), size=48, iterations=2, vgg_weights="random",
                       run=RunOptions(device="cpu"))
    with pytest.raises(EngineError, match="[Oo]ut of .*memory") as info:
        StyleTransferEngine().run(req, lambda p: None, CancelToken())
    assert info.value.hint


def test_cancel_during_model_download_is_a_cancel(monkeypatch):
    from huggingface_hub import constants

    cancel = CancelToken()

    def download(repo_id, revision, on_progress, token):
        token.cancel()  # the user presses Cancel while the files come in
        token.raise_if_cancelled()

    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
    monkeypatch.setattr(models, "cached_snapshot", lambda repo_id, revision: None)
    monkeypatch.setattr(models, "download", download)
    req = gen_request(prompt="x", model="someone/not-cached", width=64, height=64, steps=2)
    with pytest.raises(Cancelled):
        Text2ImageEngine().run(req, lambda p: None, cancel)


def test_cancel_during_vgg_download_stops_it(tmp_path, monkeypatch):
    content = H.save(H.content_image(64), tmp_path / "content.png")
    style = H.save(H.style_image(64), tmp_path / "style.png")
    chunks_read = []

    class Response(io.BytesIO):
        headers = {"Content-Length": str(8 << 20)}

        def read(self, size=-1):
            chunks_read.append(size)
            return super().read(size)

    monkeypatch.setattr(V, "features_cache_path", lambda: tmp_path / "weights" / V.FEATURES_FILE)
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.delenv("T2I_STUDIO_OFFLINE", raising=False)
    monkeypatch.setattr(urllib.request, "urlopen", lambda url, timeout=None: Response(b"\0" * (8 << 20)))
    cancel = CancelToken()
    req = StyleRequest(content, styles=(style,), size=48, iterations=2, vgg_weights="imagenet",
                       run=RunOptions(device="cpu"))
    with pytest.raises(Cancelled):
        StyleTransferEngine().run(req, lambda p: cancel.cancel() if p.step else None, cancel)
    assert len(chunks_read) < 8  # stopped at the first chunk, not after all 8 MB
    assert not list((tmp_path / "weights").iterdir())  # no partial file left behind


def test_strength_zero_img2img_fingerprint_names_the_img2img_pipeline(tiny_sd_path, tmp_path):
    init = tmp_path / "red.png"
    Image.new("RGB", (64, 64), (200, 30, 30)).save(init)
    engine = Text2ImageEngine()  # fresh: no img2img pipeline built yet
    req = gen_request(prompt="x", model=str(tiny_sd_path), width=64, height=64, steps=2,
                            dtype="fp32", init_image=str(init), strength=0.0)
    try:
        first = engine.run(req, lambda p: None, CancelToken()).fingerprint["pipeline"]
        later = engine.run(with_(req, strength=0.6), lambda p: None, CancelToken()).fingerprint["pipeline"]
    finally:
        engine.close()
    assert first == later and first.endswith("Img2ImgPipeline")
