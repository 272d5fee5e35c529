"""Train the built-in starter model (a two-stage text-conditioned GAN) on the CPU.

    python scripts/train_starter.py --minutes 50 --install

Renders its data on the fly, logs JSON lines (losses, evaluation figures) to OUT/log.jsonl and
stdout, keeps OUT/best.safetensors (best validation score) and OUT/last.safetensors, and with
``--install`` copies the best into the package (t2i_studio/resources/starter/) with its figures.
Deterministic from ``--seed`` for a given ``--iterations`` and thread count; ``--minutes`` ends
the run earlier on a slow machine (the log says how many iterations were done).
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from t2i_studio.engines.starter.model import Config
from t2i_studio.engines.starter.training import TrainConfig, train
from t2i_studio.engines.starter.weights import SHIPPED


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=50.0, help="wall-time cap of the whole run")
    parser.add_argument("--iterations", type=int, default=TrainConfig.iterations)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--decay-at", type=int, nargs="*", default=list(TrainConfig.decay_at),
                        help="iterations after which the learning rates are cut")
    # one thread: on a CPU shared with other work, two threads measured 4x slower (each waits for the other)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--out", type=Path, default=Path.home() / ".cache" / "t2i-studio" / "starter-run")
    parser.add_argument("--install", action="store_true", help="copy the best weights into the package")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    log_file = (args.out / "log.jsonl").open("w", encoding="utf-8")
    began = time.monotonic()

    def log(record: dict) -> None:
        line = json.dumps(record)
        print(line, flush=True)
        log_file.write(line + "\n")
        log_file.flush()

    cfg = TrainConfig(seed=args.seed, minutes=args.minutes, iterations=args.iterations,
                      decay_at=tuple(args.decay_at))
    torch.set_num_threads(args.threads)
    train(Config(), cfg, args.out, log)
    log({"phase": "done", "wall_s": round(time.monotonic() - began, 1)})
    if args.install:
        SHIPPED.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(args.out / "best.safetensors", SHIPPED)
        shutil.copyfile(args.out / "log.jsonl", SHIPPED.with_name("training_log.jsonl"))
        print(f"installed {SHIPPED}", flush=True)


if __name__ == "__main__":
    main()
