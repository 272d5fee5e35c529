"""Damaged model and weights files, and hostile input images, as the engines meet them: messages
that name the file and say what is wrong, never torch's advice to load with weights_only=False."""

from __future__ import annotations

import datetime
import pickle
import struct
import zlib

import pytest
import torch
from request_builder import gen_request

from t2i_studio.core.engine import EngineError
from t2i_studio.engines import models
from t2i_studio.engines import vgg as V

pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def sd_checkpoint(tiny_sd_path, tmp_path_factory):
    from t2i_checkpoints import write_sd_checkpoint

    return write_sd_checkpoint(tiny_sd_path, tmp_path_factory.mktemp("ckpt") / "tiny-sd.safetensors")


def _corrupt_header(path):
    header = b'{"a": {"dtype": "F32", \xff\xfe\xfd'
    path.write_bytes(struct.pack("<Q", len(header)) + header + b"\0" * 16)
    return path


def test_a_safetensors_file_with_a_damaged_header(tmp_path):
    path = _corrupt_header(tmp_path / "model.safetensors")
    with pytest.raises(EngineError) as err:
        models.resolve(str(path))
    assert "model.safetensors is damaged" in str(err.value) and "codec" not in err.value.user_message()


def test_a_truncated_checkpoint_is_called_truncated_not_pickle(sd_checkpoint, tmp_path):
    cut = tmp_path / "cut.safetensors"
    data = sd_checkpoint.read_bytes()
    cut.write_bytes(data[: len(data) // 2])
    with pytest.raises(EngineError) as err:
        models.resolve(str(cut))
    message = err.value.user_message()
    assert "cut.safetensors is truncated" in message and "pickle" not in message.lower()
    tiny = tmp_path / "tiny.safetensors"
    tiny.write_bytes(data[:5])  # not even a header left
    with pytest.raises(EngineError, match=r"tiny.safetensors is not a model checkpoint.*\(damaged or truncated\)"):
        models.resolve(str(tiny))


@pytest.mark.parametrize("content", ["unsafe pickle", "garbage", "damaged safetensors"])
def test_a_damaged_vgg_file_never_suggests_weights_only_false(tmp_path, content):
    path = tmp_path / ("vgg.safetensors" if content == "damaged safetensors" else "vgg.pth")
    if content == "unsafe pickle":  # torch refuses it, and its message says how to force it
        torch.save({"features.0.weight": torch.zeros(1), "when": datetime.date(2020, 1, 1)}, path)
    elif content == "garbage":
        path.write_bytes(b"\x80\x04" + pickle.dumps([1, 2, 3])[2:-3] + b"junk")
    else:
        _corrupt_header(path)
    with pytest.raises(EngineError) as err:
        V.read_state(path)
    text = f"{err.value.user_message()} {err.value.details}"
    assert path.name in text and ("damaged" in text) and "weights_only" not in text


def test_allow_unsafe_checkpoint_still_loads_a_safetensors_folder(tiny_sd_path):
    source = models.resolve(str(tiny_sd_path), allow_unsafe=True)
    pipe = models.load_pipeline(source, torch.float32, allow_unsafe=True)
    assert hasattr(pipe, "vae") and hasattr(pipe, "unet")


def _bomb(path):
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 12_000, 12_000, 8, 2, 0, 0, 0))
                     + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b""))
    return path


def test_engines_refuse_bombs_with_the_one_pixel_limit(tmp_path):
    from t2i_studio.engines.style import _open_image
    from t2i_studio.engines.text2image import Text2ImageEngine

    bomb = _bomb(tmp_path / "bomb.png")
    with pytest.raises(EngineError, match=r"content image cannot be read: bomb.png is too large"):
        _open_image(str(bomb), "content")
    request = gen_request(prompt="x", model="m/x", init_image=str(bomb))
    with pytest.raises(EngineError, match=r"init image cannot be read: bomb.png is too large"):
        Text2ImageEngine()._init_image(request)
