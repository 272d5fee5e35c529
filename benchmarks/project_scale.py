"""Benchmark: the gallery index at scale (100,000 entries; ``--quick`` 20,000).

Builds a project of synthetic 64 px PNGs carrying our full metadata (written directly as PNG chunks,
so building is fast), indexes them with ``Project.rebuild()`` (timed: ``rebuild_s_per_1000``), then
re-opens the project and measures what the gallery does: open + first page of 200
(``open_first_page_s``), a full-text search (``search_s``) and a filtered query (``filter_s``).
Each figure is one JSON line on stdout.

The synthetic files are built once per size and kept in the temp folder (``cached_project``); every
run deletes the index and rebuilds it from them, so the timed work is the same as on fresh files.
``--fresh`` builds a new project in a temp folder and removes it afterwards.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import shutil
import statistics
import struct
import sys
import tempfile
import time
import zlib
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Iterator

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _common import arg_parser, emit  # noqa: E402

from t2i_studio.core.metadata import image_data, parameters_for, srgb_icc  # noqa: E402
from t2i_studio.core.project import Project  # noqa: E402
from t2i_studio.core.requests import GenerationRequest, ModelRef, Sampling  # noqa: E402
from t2i_studio.core.xmp import build_xmp  # noqa: E402

WORDS = ("fox cat owl whale koi dragon castle forest river mountain city neon dusk dawn winter summer "
         "oil watercolor ink sketch portrait landscape misty golden ancient futuristic quiet stormy red "
         "blue green amber violet silver glass paper marble velvet garden harbor desert tundra lantern "
         "bridge tower ruin temple market train ship moon sun star cloud rain snow fog").split()
MODELS = ("stabilityai/sd-turbo", "runwayml/stable-diffusion-v1-5", "stabilityai/sdxl-base-1.0",
          "local/dreamshaper_8.safetensors", "black-forest-labs/FLUX.1-schnell")
FINGERPRINT = {"app": "0.1.0", "torch": "2.13.0", "diffusers": "0.42.1", "device": "cpu", "dtype": "float32",
               "scheduler": {"name": "Euler a", "class": "EulerAncestralDiscreteScheduler", "config": {}}}


def _chunk(ctype: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + ctype + data + struct.pack(">I", zlib.crc32(ctype + data) & 0xFFFFFFFF)


def _idat(color: tuple[int, int, int], side: int = 64) -> bytes:
    row = b"\0" + bytes(color) * side
    return _chunk(b"IDAT", zlib.compress(row * side, 6))


CACHE_ROOT = Path(tempfile.gettempdir()) / "t2i-studio-bench"


def build(folder: Path, n: int, rng: random.Random) -> None:
    Project.create(folder, name="benchmark").close()
    (folder / "index.sqlite").unlink()  # the rebuild below makes it (and is timed)
    ihdr = _chunk(b"IHDR", struct.pack(">IIBBBBB", 64, 64, 8, 2, 0, 0, 0))
    icc = _chunk(b"iCCP", b"sRGB\0\0" + zlib.compress(srgb_icc() or b""))
    idats = [_idat((rng.randrange(256), rng.randrange(256), rng.randrange(256))) for _ in range(16)]
    start = datetime(2026, 1, 1, 9, 0, 0)
    marks = []
    for k in range(1, n + 1):
        created = start + timedelta(seconds=k * 80)
        request = GenerationRequest(prompt=" ".join(rng.choices(WORDS, k=8)), negative_prompt="blurry, lowres",
                                    model=ModelRef(rng.choice(MODELS)),
                                    sampling=Sampling(seed=rng.randrange(2**32), steps=20))
        data = image_data(request, request.sampling.seed, fingerprint=FINGERPRINT, created=created.isoformat())
        text = parameters_for(data) or ""
        rel = f"images/{created:%Y-%m-%d}/{k:06d}-{request.sampling.seed}.png"
        path = folder / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        payload = (b"\x89PNG\r\n\x1a\n" + ihdr + icc
                   + _chunk(b"tEXt", b"parameters\0" + text.encode("latin-1"))
                   + _chunk(b"iTXt", b"t2i_studio\0\1\0\0\0" + zlib.compress(json.dumps(data).encode(), 6))
                   + _chunk(b"iTXt", b"XML:com.adobe.xmp\0\0\0\0\0" + build_xmp(description=request.prompt).encode())
                   + idats[k % len(idats)] + _chunk(b"IEND", b""))
        path.write_bytes(payload)
        if rng.random() < 0.05:
            marks.append(json.dumps({"path": rel, "favorite": True, "rating": rng.randrange(6)}))
    (folder / "annotations.jsonl").write_text("\n".join(marks) + "\n")


def cached_project(n: int) -> Path:
    """The folder of a synthetic project of ``n`` entries, built on first use and kept in the temp
    folder. Keyed by ``n`` and this file's contents: a changed builder builds anew (and the stale
    copies of that size go). Callers may change its index and thumbnails, never its images."""
    digest = hashlib.sha256(Path(__file__).read_bytes()).hexdigest()[:10]
    folder = CACHE_ROOT / f"project-{n}-{digest}"
    if folder.is_dir():
        return folder
    for stale in CACHE_ROOT.glob(f"project-{n}-*"):
        shutil.rmtree(stale, ignore_errors=True)
    partial = folder.with_name(f"{folder.name}.part-{os.getpid()}")  # renamed only once complete
    t0 = time.perf_counter()
    build(partial, n, random.Random(42))
    try:
        partial.rename(folder)
    except OSError:  # another run finished the same build first
        shutil.rmtree(partial, ignore_errors=True)
    print(f"built {n} files in {time.perf_counter() - t0:.1f}s (cached in {folder})", file=sys.stderr)
    return folder


def project_arg_parser(description: str) -> argparse.ArgumentParser:
    """The options of the benchmarks over the synthetic project (this one and gallery_scroll)."""
    parser = arg_parser(description, "20,000 entries instead of 100,000")
    parser.add_argument("--entries", type=int, help="number of entries (overrides --quick)")
    parser.add_argument("--keep", metavar="DIR", help="build the project here and keep it (reused if present)")
    parser.add_argument("--fresh", action="store_true", help="build anew in a temp folder, not from the cache")
    return parser


@contextmanager
def synthetic_project(args: argparse.Namespace) -> Iterator[tuple[Path, int]]:
    """The folder of the project ``project_arg_parser``'s options ask for, and its entry count: the
    cached one, one kept in ``--keep DIR`` (built there if missing), or a ``--fresh`` one removed
    afterwards."""
    n = args.entries or (20_000 if args.quick else 100_000)
    if not (args.keep or args.fresh):
        yield cached_project(n), n
        return
    base = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="t2i-bench-"))
    folder = base / "project"
    try:
        if not (folder / "project.json").exists():
            t0 = time.perf_counter()
            build(folder, n, random.Random(42))
            print(f"built {n} files in {time.perf_counter() - t0:.1f}s", file=sys.stderr)
        yield folder, n
    finally:
        if not args.keep:
            shutil.rmtree(base, ignore_errors=True)


def remove_index(folder: Path) -> None:
    for name in ("index.sqlite", "index.sqlite-wal", "index.sqlite-shm"):
        (folder / name).unlink(missing_ok=True)


def _median_time(fn, repeats: int = 5) -> float:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main() -> int:
    args = project_arg_parser(__doc__.splitlines()[0]).parse_args()
    with synthetic_project(args) as (folder, n):
        params = {"entries": n, "cpus": os.cpu_count()}
        remove_index(folder)  # the open below rebuilds it from the files: that is what is timed
        t0 = time.perf_counter()
        with Project.open(folder) as project:  # no index yet: open rebuilds it from the files
            assert project.count() == n, project.count()
        rebuild_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        with Project.open(folder) as project:
            page = project.query(limit=200)
            open_first_page_s = time.perf_counter() - t0
            assert len(page) == 200
            words = ["fox", "neon castle", "watercol", "misty harbor", "dragon"]
            search_s = statistics.median(_median_time(lambda w=w: project.query(w, limit=200), 3) for w in words)
            hits = project.count("fox")
            filter_s = _median_time(lambda: project.query(favorites_only=True, model=MODELS[1], kind="generate",
                                                          date_from="2026-01-10", date_to="2026-02-20",
                                                          sort="rating", limit=200))
            count_s = _median_time(lambda: project.count("fox"))
            deep_page_s = _median_time(lambda: project.query(offset=n // 2, limit=200))
        for metric, value, target, extra in (
                ("open_first_page_s", open_first_page_s, 0.5, {}),
                ("search_s", search_s, 0.05, {"hits_for_fox": hits}),
                ("filter_s", filter_s, None, {}),
                ("rebuild_s_per_1000", rebuild_s / n * 1000, None, {}),
                ("search_count_s", count_s, None, {}),
                ("deep_page_s", deep_page_s, None, {"offset": n // 2})):
            emit("project_scale", metric, round(value, 4), unit="s", target=target, params={**params, **extra})
    return 0


if __name__ == "__main__":
    sys.exit(main())
