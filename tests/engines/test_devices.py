"""Device and dtype choice, OOM mapping, memory report (CPU here; GPUs by their rules)."""

from __future__ import annotations

import pytest
import torch

from t2i_studio.core.engine import EngineError
from t2i_studio.engines import devices


def test_auto_device_and_dtypes(monkeypatch):
    assert devices.choose_device("cpu").type == "cpu"
    if not torch.cuda.is_available() and not devices.mps_available():
        assert devices.choose_device("auto").type == "cpu"
        with pytest.raises(EngineError, match="CUDA"):
            devices.choose_device("cuda")
    cpu = torch.device("cpu")
    assert devices.choose_dtype(torch.device("cuda", 0)) == torch.float16
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *a, **k: True)
    assert devices.choose_dtype(torch.device("cuda", 0), family="flux") == torch.bfloat16
    assert devices.choose_dtype(torch.device("cuda", 0), family="sdxl") == torch.float16
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *a, **k: False)
    assert devices.choose_dtype(torch.device("cuda", 0), family="sd3") == torch.float16
    assert devices.choose_dtype(torch.device("mps")) == torch.float16
    assert devices.choose_dtype(cpu, "bf16") == torch.bfloat16
    monkeypatch.setattr(devices, "cpu_has_native_bf16", lambda: False)
    assert devices.choose_dtype(cpu) == torch.float32
    monkeypatch.setattr(devices, "cpu_has_native_bf16", lambda: True)
    assert devices.choose_dtype(cpu) == torch.bfloat16
    assert devices.device_name(torch.device("cuda", 0)) == "cuda:0" and devices.dtype_name(torch.float16) == "float16"


def test_out_of_memory_mapping():
    assert devices.is_out_of_memory(torch.OutOfMemoryError("CUDA out of memory"))
    assert devices.is_out_of_memory(RuntimeError("MPS backend out of memory (MPS allocated: 9 GB)"))
    assert not devices.is_out_of_memory(RuntimeError("shape mismatch"))
    err = devices.out_of_memory_error(RuntimeError("x"), torch.device("cuda", 0), 1024, 1024)
    assert str(err) == "Out of memory on cuda:0."
    assert "smaller size than 1024x1024" in err.hint and "--cpu-offload" in err.hint
    assert "\n" not in err.user_message()


def test_memory_report():
    assert devices.memory_mb(torch.device("cpu")) > 10
    devices.free_memory(torch.device("cpu"))
