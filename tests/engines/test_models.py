"""Model sources: single-file original-layout checkpoints, pickle refusal by first bytes, the model
hash, hub ids offline, and downloads with byte progress and cancel (hub calls faked)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from request_builder import gen_request, with_

from t2i_studio.core.engine import Cancelled, CancelToken, EngineError
from t2i_studio.engines import checkpoints, models
from t2i_studio.engines.text2image import Text2ImageEngine

pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def sd_checkpoint(tiny_sd_path, tmp_path_factory):
    from t2i_checkpoints import write_sd_checkpoint

    return write_sd_checkpoint(tiny_sd_path, tmp_path_factory.mktemp("ckpt") / "tiny-sd.safetensors")


def test_checkpoint_is_in_the_original_layout(sd_checkpoint):
    keys = checkpoints.safetensors_keys(sd_checkpoint)
    assert any(k.startswith("model.diffusion_model.input_blocks.") for k in keys)
    assert any(k.startswith("first_stage_model.encoder.down.") for k in keys)
    assert any(k.startswith("cond_stage_model.transformer.text_model.") for k in keys)
    assert checkpoints.family_from_keys(keys) == "sd"


def test_single_file_loads_to_the_same_pixels_as_the_folder(tiny_sd_path, sd_checkpoint):
    engine = Text2ImageEngine()
    req = gen_request(prompt="a cat", model=str(tiny_sd_path), width=64, height=64, steps=2,
                            seed=3, scheduler="Euler", dtype="fp32")
    try:
        folder = engine.run(req, lambda p: None, CancelToken())
        single = engine.run(with_(req, model=str(sd_checkpoint), config=str(tiny_sd_path)),
                            lambda p: None, CancelToken())
    finally:
        engine.close()
    assert np.array_equal(np.asarray(folder.images[0]), np.asarray(single.images[0]))
    fp = single.fingerprint
    assert fp["pipeline"] == "StableDiffusionPipeline" and fp["family"] == "sd"
    assert fp["model"]["hash"] == checkpoints.sha256_file(sd_checkpoint)[:10]
    assert fp["model"]["name"] == "tiny-sd"


def test_pickle_refused_by_first_bytes_whatever_the_name(tmp_path, sd_checkpoint):
    from t2i_checkpoints import write_pickle_checkpoint

    for name, zip_format in (("a.ckpt", True), ("b.safetensors", True), ("c.bin", False)):
        path = write_pickle_checkpoint(tmp_path / name, zip_format=zip_format)
        assert checkpoints.sniff(path) in ("zip", "pickle")
        with pytest.raises(EngineError) as err:
            models.resolve(str(path))
        assert "pickle checkpoint" in str(err.value) and "--allow-unsafe-checkpoint" in err.value.hint
        assert models.resolve(str(path), allow_unsafe=True).kind == "file"
    renamed = tmp_path / "looks-unsafe.ckpt"
    renamed.write_bytes(sd_checkpoint.read_bytes())
    assert models.resolve(str(renamed)).family == "sd"  # safetensors bytes: fine whatever the name
    junk = tmp_path / "junk.safetensors"
    junk.write_text("hello world, not a model")
    with pytest.raises(EngineError, match="not a model checkpoint"):
        models.resolve(str(junk))


def test_allowed_pickle_that_is_not_a_model_is_a_clear_error(tmp_path):
    from t2i_checkpoints import write_pickle_checkpoint

    path = write_pickle_checkpoint(tmp_path / "x.ckpt")
    engine = Text2ImageEngine()
    req = gen_request(prompt="a", model=str(path), width=64, height=64, steps=1,
                            allow_unsafe_checkpoint=True)
    with pytest.raises(EngineError, match="Could not load model"):
        engine.run(req, lambda p: None, CancelToken())


def test_model_hash_is_cached(tmp_path, monkeypatch):
    path = tmp_path / "m.safetensors"
    path.write_bytes(b"x" * 1000)
    first = checkpoints.model_hash(path)
    assert len(first) == 10 and first == checkpoints.sha256_file(path)[:10]
    monkeypatch.setattr(checkpoints.hashlib, "sha256", lambda: (_ for _ in ()).throw(AssertionError))
    assert checkpoints.model_hash(path) == first  # from the cache, not re-read


def test_resolve_kinds_and_hub_offline(tiny_sd_path, tmp_path):
    assert models.resolve(str(tiny_sd_path)).kind == "folder"
    hub = models.resolve("stabilityai/sd-turbo", revision="main")
    assert hub.kind == "hub" and hub.revision == "main" and hub.name == "sd-turbo"
    with pytest.raises(EngineError) as err:
        models.load_pipeline(hub, None)
    assert "not in the Hugging Face cache" in str(err.value) and "models download" in err.value.hint
    with pytest.raises(EngineError, match="Model not found"):
        models.resolve("./nothing-here")
    with pytest.raises(EngineError, match="no model_index.json"):
        models.resolve(str(tiny_sd_path), config=str(tmp_path))


def _fake_hub(monkeypatch, tmp_path, sizes):
    import huggingface_hub

    monkeypatch.setattr(models, "_repo_files", lambda repo, rev: (list(sizes.items()), "abc123"))
    fetched = []

    def fake_download(repo_id, filename, revision=None, tqdm_class=None):
        bar = tqdm_class(total=sizes[filename], initial=0)
        for _ in range(4):
            bar.update(sizes[filename] // 4)
        bar.close()
        fetched.append(filename)
        return str(tmp_path / filename)

    monkeypatch.setattr(huggingface_hub, "hf_hub_download", fake_download)
    monkeypatch.setattr(models, "cached_snapshot", lambda repo, rev: tmp_path)
    (tmp_path / "model_index.json").write_text(json.dumps({"_class_name": "StableDiffusionXLPipeline"}))
    return fetched


def test_download_reports_bytes_and_cancels(monkeypatch, tmp_path):
    sizes = {"model_index.json": 400, "unet/diffusion_pytorch_model.safetensors": 4000}
    fetched = _fake_hub(monkeypatch, tmp_path, sizes)
    seen = []
    info = models.HubModelCatalog(settings=None).download(
        "o/m", None, lambda done, total: seen.append((done, total)), CancelToken())
    assert seen[-1] == (4400, 4400) and all(t == 4400 for _, t in seen)
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)
    assert info.family == "sdxl" and info.source == "hub" and len(fetched) == 2

    cancel = CancelToken()

    def on_progress(done, total):
        if done > 1000:
            cancel.cancel()

    with pytest.raises(Cancelled):
        models.download("o/m", None, on_progress, cancel)


def test_wanted_files_skip_pickles_and_duplicates():
    files = ["model_index.json", "unet/config.json", "unet/diffusion_pytorch_model.safetensors",
             "unet/diffusion_pytorch_model.bin", "unet/diffusion_pytorch_model.fp16.safetensors",
             "v1-5-pruned.ckpt", "v1-5-pruned.safetensors", "tokenizer/vocab.json", "README.md"]
    assert models._wanted(files) == ["model_index.json", "unet/config.json",
                                     "unet/diffusion_pytorch_model.safetensors", "tokenizer/vocab.json"]
    assert models._wanted(["model.safetensors"]) == []


def _cached_repo(cache, repo_id: str, tiny_sd_path) -> None:
    """A hub repo in the cache's own layout: blobs, a snapshot of links to them, refs/main."""
    import os
    import shutil

    repo = cache / f"models--{repo_id.replace('/', '--')}"
    snapshot = repo / "snapshots" / ("a" * 40)
    for file in tiny_sd_path.rglob("*"):
        if file.is_file():
            rel = file.relative_to(tiny_sd_path)
            blob = repo / "blobs" / f"{abs(hash(str(rel))):x}"
            blob.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(file, blob)
            link = snapshot / rel
            link.parent.mkdir(parents=True, exist_ok=True)
            os.symlink(os.path.relpath(blob, link.parent), link)
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text("a" * 40)


def test_catalog_renames_and_removes_models(tiny_sd_path):
    from t2i_studio.core.settings import Settings, hf_cache_dir
    from t2i_studio.engines.models import HubModelCatalog

    cache = hf_cache_dir()
    _cached_repo(cache, "org/tiny-hub", tiny_sd_path)
    settings = Settings()
    catalog = HubModelCatalog(settings)
    added = catalog.add(str(tiny_sd_path))
    catalog.rename(added.id, "my folder model")
    names = {m.id: m.name for m in catalog.list()}
    assert names[added.id] == "my folder model" and names["org/tiny-hub"] == "tiny-hub"
    assert "still on disk" in catalog.remove(added.id)
    assert tiny_sd_path.is_dir() and added.id not in {m.id for m in catalog.list()}
    said = catalog.remove("org/tiny-hub")
    assert said.startswith("Deleted org/tiny-hub from the Hugging Face cache")
    assert not (cache / "models--org--tiny-hub").exists() and "org/tiny-hub" not in {m.id for m in catalog.list()}
