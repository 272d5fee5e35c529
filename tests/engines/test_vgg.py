"""VGG19 weights: torchvision's layout, local files, the features-only cache, the download path."""

from __future__ import annotations

import hashlib

import pytest
import torch

from t2i_studio.core.engine import EngineError
from t2i_studio.engines import vgg as V


def _torchvision_state(seed: int = 0) -> dict[str, torch.Tensor]:
    """A state dict shaped like torchvision's vgg19 file: all 16 convs + the classifier (small)."""
    gen = torch.Generator().manual_seed(seed)
    cfg = [64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M", 512, 512, 512, 512, "M", 512, 512, 512, 512, "M"]
    state, index, channels = {}, 0, 3
    for item in cfg:
        if item == "M":
            index += 1
            continue
        state[f"features.{index}.weight"] = torch.randn(item, channels, 3, 3, generator=gen) * 0.05
        state[f"features.{index}.bias"] = torch.randn(item, generator=gen) * 0.01
        channels, index = item, index + 2
    state["classifier.0.weight"] = torch.zeros(8, 8)  # real file: 4096 x 25088; shape is irrelevant here
    state["classifier.0.bias"] = torch.zeros(8)
    return state


@pytest.fixture(autouse=True)
def fresh_home(tmp_path, monkeypatch):
    monkeypatch.setenv("T2I_STUDIO_HOME", str(tmp_path / "home"))


def test_layer_layout_matches_torchvision():
    keys = V.feature_keys()
    assert keys[0] == "features.0.weight" and keys[-1] == "features.28.bias" and len(keys) == 26
    assert V.LAYER_NAMES["relu1_1"] == 1 and V.LAYER_NAMES["relu4_2"] == 22 and V.LAYER_NAMES["relu5_1"] == 29
    model = V.VGG19Features()
    assert not any(isinstance(m, torch.nn.ReLU) and m.inplace for m in model.features)


def test_local_pth_loads_strictly_and_rejects_wrong_layout(tmp_path):
    state = _torchvision_state()
    path = tmp_path / "vgg19.pth"
    torch.save(state, path)
    model, info = V.load_vgg(str(path))
    assert torch.equal(model.features[21].weight, state["features.21.weight"])
    assert info.sha256 == hashlib.sha256(path.read_bytes()).hexdigest() and not info.random
    broken = dict(state)
    del broken["features.21.weight"]
    torch.save(broken, tmp_path / "broken.pth")
    with pytest.raises(EngineError, match="features.21.weight"):
        V.load_vgg(str(tmp_path / "broken.pth"))
    with pytest.raises(EngineError, match="not found"):
        V.load_vgg(str(tmp_path / "missing.pth"))


def test_download_verifies_caches_features_only_and_loads_offline(tmp_path, monkeypatch):
    source = tmp_path / "vgg19-test.pth"
    state = _torchvision_state(1)
    torch.save(state, source)
    sha = hashlib.sha256(source.read_bytes()).hexdigest()
    seen: list[tuple[int, int]] = []
    with pytest.raises(EngineError, match="damaged"):
        V.download_imagenet(source.as_uri(), sha256_prefix="00000000")
    assert not V.features_cache_path().exists()
    path = V.download_imagenet(source.as_uri(), sha256_prefix=sha[:8], progress=lambda d, t: seen.append((d, t)))
    assert path == V.features_cache_path() and path.name == "vgg19-features.safetensors"
    assert seen[-1][0] == source.stat().st_size
    from safetensors.torch import load_file

    cached = load_file(str(path))
    assert set(cached) == set(V.feature_keys())  # features only, nothing past relu5_1
    assert not list(path.parent.glob("*.part"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    model, info = V.load_vgg("imagenet")  # from the cache, no network needed
    assert info.weights == "imagenet" and info.sha256 == sha
    assert torch.equal(model.features[0].weight, state["features.0.weight"])


def test_imagenet_offline_without_cache_is_a_clear_error(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(EngineError) as err:
        V.load_vgg("imagenet")
    text = err.value.user_message()
    assert "not on this computer" in text and "--vgg-weights random" in text and V.IMAGENET_URL in text


def test_failed_download_is_the_same_clear_error(tmp_path):
    with pytest.raises(EngineError, match="not on this computer"):
        V.download_imagenet((tmp_path / "absent.pth").as_uri())


def test_random_weights_are_fixed_and_seeded():
    a, b, c = V.random_vgg(), V.random_vgg(), V.random_vgg(5)
    assert torch.equal(a.features[0].weight, b.features[0].weight)
    assert not torch.equal(a.features[0].weight, c.features[0].weight)
    model, info = V.load_vgg("random")
    assert info.random and "lower quality" in info.label
