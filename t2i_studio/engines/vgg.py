"""VGG19 features for style transfer, in plain PyTorch with torchvision's key layout.

``features.N.weight`` / ``features.N.bias`` for the convolutions up to relu5_1 (N = 0 … 28), so the
published torchvision ImageNet file loads with a strict key check on the part we need. Pooling is
average pooling, as Gatys et al. recommend for synthesis (it has no weights, so the layout is the
same). Input: RGB in [0, 1]; ImageNet mean/std normalisation happens inside.

Weights (``load_vgg``):
- ``"imagenet"``: the cached features-only safetensors under ``settings.style_weights_dir()``;
  when absent, torchvision's file is downloaded once, its SHA-256 checked, loaded with
  ``weights_only=True`` and only the features cached.
- a local ``.pth`` (torchvision layout) or ``.safetensors`` file.
- ``"random"``: fixed-seed random weights (He, Wang & Hopcroft 2016) - works offline, lower quality.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import torch
from torch import nn

from t2i_studio.core import settings
from t2i_studio.core.engine import EngineError
from t2i_studio.engines import checkpoints

IMAGENET_URL = "https://download.pytorch.org/models/vgg19-dcbb9e9d.pth"
IMAGENET_SHA256_PREFIX = "dcbb9e9d"  # torchvision names files after their SHA-256's first 8 hex
FEATURES_FILE = "vgg19-features.safetensors"  # `doctor` looks for this name
RANDOM_SEED = 19
RANDOM_LABEL = "random VGG19 weights (lower quality)"

# torchvision's VGG19 "E" configuration, cut after relu5_1.
_CFG = (64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M", 512, 512, 512, 512, "M", 512)
LAYER_NAMES: dict[str, int] = {}  # "relu1_1" -> index in features


def _build_layers() -> list[nn.Module]:
    layers: list[nn.Module] = []
    channels, block, conv = 3, 1, 1
    for item in _CFG:
        if item == "M":
            layers.append(nn.AvgPool2d(2, 2))
            block, conv = block + 1, 1
            continue
        layers.append(nn.Conv2d(channels, int(item), 3, padding=1))
        layers.append(nn.ReLU(inplace=False))  # activations are read: never in place
        LAYER_NAMES[f"conv{block}_{conv}"] = len(layers) - 2
        LAYER_NAMES[f"relu{block}_{conv}"] = len(layers) - 1
        channels, conv = int(item), conv + 1
    return layers


class VGG19Features(nn.Module):
    """VGG19 ``features`` up to relu5_1; ``forward(x, layers)`` returns the named activations."""

    def __init__(self) -> None:
        super().__init__()
        self.features = nn.Sequential(*_build_layers())
        self.register_buffer("mean", torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1), persistent=False)
        self.requires_grad_(False)
        self.eval()

    def forward(self, x: torch.Tensor, layers: tuple[str, ...]) -> dict[str, torch.Tensor]:
        wanted = {LAYER_NAMES[name]: name for name in layers}
        last = max(wanted)
        out: dict[str, torch.Tensor] = {}
        h = (x - self.mean.to(x.dtype)) / self.std.to(x.dtype)
        for index, layer in enumerate(self.features):
            h = layer(h)
            if index in wanted:
                out[wanted[index]] = h
            if index == last:
                break
        return out


def feature_keys() -> list[str]:
    model = VGG19Features()
    return list(model.state_dict().keys())


@dataclass(frozen=True)
class VGGInfo:
    weights: str  # "imagenet", "random" or the file path
    sha256: str | None  # of the source file (the torchvision .pth for imagenet)
    random: bool

    @property
    def label(self) -> str:
        return RANDOM_LABEL if self.random else f"VGG19 {self.weights}"


def random_vgg(seed: int = RANDOM_SEED) -> VGG19Features:
    """Fixed-seed random weights: Kaiming-normal convolutions, zero biases (variance-preserving)."""
    model = VGG19Features()
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for module in model.features:
            if isinstance(module, nn.Conv2d):
                fan_in = module.in_channels * 9
                module.weight.copy_(torch.randn(module.weight.shape, generator=gen) * (2.0 / fan_in) ** 0.5)
                module.bias.zero_()
    return model


def _strip_to_features(state: dict[str, torch.Tensor], source: str) -> dict[str, torch.Tensor]:
    """Keep the features we need; a missing key or a wrong shape is an error (strict check)."""
    if not isinstance(state, dict):
        raise EngineError(f"{source} does not hold a state dict.")
    if "state_dict" in state and isinstance(state["state_dict"], dict):
        state = state["state_dict"]
    expected = VGG19Features().state_dict()
    missing = [k for k in expected if k not in state]
    if missing:
        raise EngineError(f"{source} is not a VGG19 in torchvision's layout: missing {', '.join(missing[:4])}"
                          f"{' …' if len(missing) > 4 else ''}.",
                          hint="Use torchvision's vgg19-dcbb9e9d.pth or a features .safetensors made from it.")
    out = {}
    for key, ref in expected.items():
        tensor = state[key]
        if tuple(tensor.shape) != tuple(ref.shape):
            raise EngineError(f"{source}: {key} has shape {tuple(tensor.shape)}, expected {tuple(ref.shape)}.")
        out[key] = tensor.detach().to(torch.float32).contiguous()
    return out


def read_state(path: Path) -> dict[str, torch.Tensor]:
    """Read a .safetensors or torch file safely (``weights_only=True``); the first bytes decide."""
    safetensors = checkpoints.sniff(path) == "safetensors"
    if safetensors:
        checkpoints.safetensors_header(path)  # damaged or truncated: said with the file's name
    try:
        if safetensors:
            from safetensors.torch import load_file

            return load_file(str(path))
        return torch.load(str(path), map_location="cpu", weights_only=True)
    except Exception as exc:  # noqa: BLE001 - any unreadable/unsafe file is a user-facing error
        # torch's own text suggests weights_only=False, which would let the file run code: never shown
        raise EngineError(f"Cannot load VGG weights from {path.name}: the file is damaged, or not a "
                          "weights-only torch or safetensors file.",
                          hint="Give torchvision's vgg19-dcbb9e9d.pth (or a .safetensors made from it), or "
                               "download it again.", details=type(exc).__name__) from exc


def features_cache_path() -> Path:
    return settings.style_weights_dir() / FEATURES_FILE


def offline() -> bool:
    flags = ("T2I_STUDIO_OFFLINE", "HF_HUB_OFFLINE")
    return any(os.environ.get(name, "").strip().lower() in ("1", "true", "yes", "on") for name in flags)


def _missing_error(reason: str) -> EngineError:
    return EngineError(
        f"The VGG19 ImageNet weights for style transfer are not on this computer ({reason}).",
        hint=(f"Connect to the internet once and they are downloaded (548 MB, cached as 76 MB in "
              f"{features_cache_path()}); or download {IMAGENET_URL} yourself and choose the file "
              "(window: Style transfer ▸ Weights ▸ From a file…; CLI: --vgg-weights FILE); or use the "
              "random weights (Weights ▸ Random; CLI: --vgg-weights random), which work offline at "
              "lower quality."))


ByteProgress = Callable[[int, int], None]


def download_imagenet(url: str = IMAGENET_URL, *, sha256_prefix: str | None = IMAGENET_SHA256_PREFIX,
                      progress: ByteProgress | None = None,
                      opener: Callable[[str], object] | None = None) -> Path:
    """Download torchvision's VGG19 file once, verify it and cache its features as safetensors.

    ``opener(url)`` returns a file-like response (default ``urllib.request.urlopen``; tests pass a
    ``file://`` URL, which urllib opens too). Returns the cache path.
    """
    from safetensors.torch import save_file

    target = features_cache_path()
    target.parent.mkdir(parents=True, exist_ok=True)
    opener = opener or (lambda u: urllib.request.urlopen(u, timeout=60))  # noqa: S310 - fixed https URL
    digest = hashlib.sha256()
    fd, tmp_name = tempfile.mkstemp(prefix="vgg19-", suffix=".pth.part", dir=target.parent)
    tmp = Path(tmp_name)
    try:
        try:
            response = opener(url)
        except (urllib.error.URLError, OSError) as exc:
            raise _missing_error(f"download failed: {exc}") from exc
        with os.fdopen(fd, "wb") as out, response:  # type: ignore[attr-defined]
            headers = getattr(response, "headers", None)
            total = int(headers.get("Content-Length") or 0) if headers is not None else 0
            done = 0
            while True:
                chunk = response.read(1 << 20)  # type: ignore[attr-defined]
                if not chunk:
                    break
                out.write(chunk)
                digest.update(chunk)
                done += len(chunk)
                if progress:
                    progress(done, total)
        sha = digest.hexdigest()
        if sha256_prefix and not sha.startswith(sha256_prefix):
            raise EngineError(f"The downloaded VGG19 file is damaged (SHA-256 {sha[:12]}…, expected "
                              f"{sha256_prefix}…).", hint="Try again; if it keeps failing, download it by hand.")
        features = _strip_to_features(read_state(tmp), url)
        part = target.with_suffix(".safetensors.part")
        save_file(features, str(part), metadata={"source_url": url, "source_sha256": sha})
        os.replace(part, target)
        return target
    finally:
        tmp.unlink(missing_ok=True)


def _cache_source_sha(path: Path) -> str:
    from safetensors import safe_open

    with safe_open(str(path), framework="pt") as handle:
        meta = handle.metadata() or {}
    return meta.get("source_sha256") or checkpoints.sha256_file(path)


def load_vgg(weights: str = "imagenet", *, progress: ByteProgress | None = None,
             allow_download: bool | None = None) -> tuple[VGG19Features, VGGInfo]:
    """The feature extractor (on the CPU, float32, eval, no grads) and where its weights came from."""
    if weights == "random":
        return random_vgg(), VGGInfo("random", None, True)
    if weights == "imagenet":
        path = features_cache_path()
        if not path.is_file():
            if allow_download is None:
                allow_download = not offline()
            if not allow_download:
                raise _missing_error("offline mode, nothing cached")
            download_imagenet(progress=progress)
        state, sha, source = read_state(path), _cache_source_sha(path), "imagenet"
    else:
        path = Path(weights).expanduser()
        if not path.is_file():
            raise EngineError(f"VGG weights file not found: {path}",
                              hint="Pass 'imagenet', 'random' or the path of a VGG19 .pth/.safetensors file.")
        state, sha, source = read_state(path), checkpoints.sha256_file(path), str(path)
    model = VGG19Features()
    model.load_state_dict(_strip_to_features(state, source), strict=True)
    return model, VGGInfo(source, sha, False)
