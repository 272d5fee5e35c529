"""Which devices torch can use, what they offer, and how much memory is in use."""

from __future__ import annotations

import os
import platform
from pathlib import Path
from typing import Any


def cpu_flags() -> set[str]:
    """CPU feature flags from /proc/cpuinfo (empty where the OS does not expose them)."""
    try:
        text = Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return set()
    for line in text.splitlines():
        if line.startswith("flags"):
            return set(line.split(":", 1)[1].split())
    return set()


def cpu_has_native_bf16() -> bool:
    """True where the CPU computes bf16 in hardware (AVX512-BF16 / AMX on x86, or Apple silicon)."""
    flags = cpu_flags()
    if {"avx512_bf16", "amx_bf16"} & flags:
        return True
    return platform.system() == "Darwin" and platform.machine() == "arm64"


def device_report() -> dict[str, Any]:
    """The devices torch sees, for ``doctor`` and the status bar. Imports torch."""
    import torch

    report: dict[str, Any] = {
        "cpu": {
            "cores": os.cpu_count(),
            "torch_threads": torch.get_num_threads(),
            "bf16_accelerated": cpu_has_native_bf16(),
            "machine": platform.machine(),
        },
        "cuda": [],
        "mps": bool(getattr(torch.backends, "mps", None) and torch.backends.mps.is_available()),
    }
    if torch.cuda.is_available():
        for index in range(torch.cuda.device_count()):
            props = torch.cuda.get_device_properties(index)
            report["cuda"].append({
                "index": index, "name": props.name,
                "memory_gb": round(props.total_memory / 2**30, 2),
                "capability": f"{props.major}.{props.minor}",
                "bf16": torch.cuda.is_bf16_supported(),
            })
    return report


# --- device and dtype choice -------------------------------------------------------------------

_DTYPE_NAMES = {"fp32": "float32", "fp16": "float16", "bf16": "bfloat16"}


def mps_available() -> bool:
    import torch

    mps = getattr(torch.backends, "mps", None)
    return bool(mps and mps.is_available())


def choose_device(name: str = "auto"):
    """``auto`` picks CUDA, then MPS, then CPU; an explicit device that is missing is an EngineError."""
    import torch

    from t2i_studio.core.engine import EngineError

    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda", 0)
        return torch.device("mps") if mps_available() else torch.device("cpu")
    if name == "cuda":
        if not torch.cuda.is_available():
            raise EngineError("CUDA was asked for but torch sees no CUDA GPU.",
                              hint="Use --device cpu, or install a CUDA build of torch (see README).")
        return torch.device("cuda", 0)
    if name == "mps":
        if not mps_available():
            raise EngineError("MPS was asked for but this machine has no Apple GPU available to torch.",
                              hint="Use --device cpu.")
        return torch.device("mps")
    if name == "cpu":
        return torch.device("cpu")
    raise EngineError(f"Unknown device {name!r}: use auto, cpu, cuda or mps.")


def choose_dtype(device, name: str = "auto", family: str = "unknown"):
    """CUDA: fp16, or bf16 for FLUX/SD3 where the GPU has it (trained in bf16, their activations
    overflow fp16); MPS: fp16; CPU: bf16 when the CPU computes it natively (see
    benchmarks/cpu_dtype.py for the measured speed-up), else fp32."""
    import torch

    if name != "auto":
        if name not in _DTYPE_NAMES:
            from t2i_studio.core.engine import EngineError

            raise EngineError(f"Unknown dtype {name!r}: use auto, fp32, fp16 or bf16.")
        return getattr(torch, _DTYPE_NAMES[name])
    if device.type == "cuda":
        bf16_family = family in ("flux", "sd3")
        return torch.bfloat16 if bf16_family and torch.cuda.is_bf16_supported() else torch.float16
    if device.type == "mps":
        return torch.float16
    return torch.bfloat16 if cpu_has_native_bf16() else torch.float32


def dtype_name(dtype) -> str:
    return str(dtype).replace("torch.", "")


def device_name(device) -> str:
    return f"{device.type}:{device.index or 0}" if device.type == "cuda" else device.type


# --- memory ----------------------------------------------------------------------------------

def memory_mb(device=None) -> float:
    """Memory in use: allocated device memory on CUDA/MPS, resident set size of the process on CPU."""
    try:
        import torch

        if device is not None and device.type == "cuda":
            return torch.cuda.memory_allocated(device) / 2**20
        if device is not None and device.type == "mps":
            return torch.mps.current_allocated_memory() / 2**20
    except Exception:  # noqa: BLE001 - a status line must never fail
        pass
    import psutil

    return psutil.Process().memory_info().rss / 2**20


def free_memory(device=None) -> None:
    """Return freed tensors' memory to the system / driver after dropping references."""
    import gc

    gc.collect()
    try:
        import torch

        if torch.cuda.is_available():
            torch.cuda.empty_cache()
        if mps_available():
            torch.mps.empty_cache()
    except Exception:  # noqa: BLE001
        pass
    try:  # glibc keeps freed heap pages; give them back so RSS reflects what is really held
        import ctypes

        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


# --- out of memory ---------------------------------------------------------------------------

def is_out_of_memory(exc: BaseException) -> bool:
    import torch

    if isinstance(exc, getattr(torch, "OutOfMemoryError", ())):
        return True
    if isinstance(exc, MemoryError):
        return True
    text = str(exc).lower()
    # CUDA/MPS say "out of memory"; torch's CPU allocator "can't allocate memory" (Linux/macOS) or
    # "not enough memory" (Windows).
    markers = ("out of memory", "failed to allocate", "can't allocate memory", "not enough memory")
    return isinstance(exc, RuntimeError) and any(marker in text for marker in markers)


def out_of_memory_error(exc: BaseException, device=None, width: int = 0, height: int = 0):
    """An EngineError saying what ran out and what to try."""
    from t2i_studio.core.engine import EngineError

    where = device_name(device) if device is not None else "the device"
    tips = []
    if width and height and width * height > 512 * 512:
        tips.append(f"a smaller size than {width}x{height}")
    tips.append("batch size 1")
    if device is not None and device.type != "cpu":
        tips.append("model CPU offload (--cpu-offload)")
    tips += ["VAE tiling (--vae-tiling)", "attention slicing (--attention-slicing)"]
    if device is not None and device.type == "cpu":
        tips.append("closing other programs")
    return EngineError(f"Out of memory on {where}.", hint="Try " + ", ".join(tips) + ".",
                       details=str(exc))
