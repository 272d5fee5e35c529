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
