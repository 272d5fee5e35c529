"""The shipped starter model, measured: does it draw what held-out captions say, how varied are its
pictures across seeds, and how fast is it on this machine's CPU.

Accuracy: the renderer-based evaluator (core.starter_eval) scores one picture per caption, made as
the app makes it (default guidance 7: truncation 2), for held-out captions: half name a (colour,
shape) pair never shown in training, half are fresh random captions; the evaluator's own score on
rendered pictures of the same captions is printed as its check. Diversity: mean pairwise pixel
distance (0..1) across 8 seeds of one caption, against 8 rendered layouts of it. Speed: ms per
128 px picture in batches of 16 (median of repeats, after a warm-up).

    python benchmarks/starter_model.py [--quick]
"""

from __future__ import annotations

import itertools
import time

import numpy as np
import torch
from _common import arg_parser, emit

from t2i_studio.core import starter_eval, starter_world
from t2i_studio.core.starter_words import caption, sample_spec
from t2i_studio.engines.starter.data import HELD_OUT
from t2i_studio.engines.starter.engine import truncation
from t2i_studio.engines.starter.sampling import generate, seed_noise
from t2i_studio.engines.starter.weights import SHIPPED, load

NAME = "starter_model"
TARGETS = {"colour": 0.9, "shape": 0.8, "position": 0.8, "count": 0.8, "background": 0.9}
TAU = truncation(7.0)  # the app's default guidance


def _pictures(model, captions: list[str], seeds: list[int]) -> list[np.ndarray]:
    noise = torch.stack([seed_noise(s, model.cfg.noise, TAU) for s in seeds])
    return [p for i in range(0, len(captions), 32) for p in generate(model, captions[i:i + 32], noise[i:i + 32])]


def accuracy(model, n: int, params: dict) -> None:
    rng = np.random.default_rng(2026)  # not the training run's validation seed (777)
    specs = [sample_spec(rng, HELD_OUT, keep_held_out=k % 2 == 0) for k in range(n)]
    captions = [caption(s, rng) for s in specs]
    made = _pictures(model, captions, list(range(n)))
    rendered = [starter_world.render(s, rng) for s in specs]
    unseen = [k for k in range(n) if k % 2 == 0]
    overall = starter_eval.accuracy(made, specs)
    pairs = starter_eval.accuracy([made[k] for k in unseen], [specs[k] for k in unseen])
    check = starter_eval.accuracy(rendered, specs)
    for attribute, target in TARGETS.items():
        emit(NAME, f"{attribute}_accuracy", round(overall[attribute], 4), unit="fraction", target=target,
             better="higher", params=params)
        emit(NAME, f"{attribute}_accuracy_unseen_pairs", round(pairs[attribute], 4), unit="fraction",
             better="higher", params={**params, "captions": len(unseen)})
    emit(NAME, "evaluator_on_rendered_mean", round(float(np.mean(list(check.values()))), 4), unit="fraction",
         target=1.0, better="higher", params=params)


def _spread(pictures: list[np.ndarray]) -> float:
    return float(np.mean([np.abs(a.astype(float) - b).mean() / 255
                          for a, b in itertools.combinations(pictures, 2)]))


def diversity(model, captions: int, params: dict) -> None:
    rng = np.random.default_rng(11)
    made, real = [], []
    for _ in range(captions):
        spec = sample_spec(rng)
        text = caption(spec, rng)
        made.append(_spread(_pictures(model, [text] * 8, list(range(100, 108)))))
        real.append(_spread([starter_world.render(spec, rng) for _ in range(8)]))
    emit(NAME, "diversity_generated", round(float(np.mean(made)), 4), unit="mean L1 / 255", better="higher",
         params=params)
    emit(NAME, "diversity_rendered", round(float(np.mean(real)), 4), unit="mean L1 / 255", better="higher",
         params=params)
    emit(NAME, "diversity_ratio", round(float(np.mean(made) / np.mean(real)), 4), unit="ratio", target=1.0,
         better="higher", params=params)


def speed(model, repeats: int, params: dict) -> None:
    prompts = ["a small red circle in the top left on a black background"] * 16
    noise = torch.stack([seed_noise(s, model.cfg.noise, TAU) for s in range(16)])
    generate(model, prompts, noise)  # warm-up
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        generate(model, prompts, noise)
        times.append(time.perf_counter() - start)
    emit(NAME, "ms_per_128px_image_batch16", round(float(np.median(times)) / 16 * 1000, 2), unit="ms",
         target=50, params={**params, "threads": torch.get_num_threads(), "repeats": repeats})


def main() -> None:
    args = arg_parser(__doc__.splitlines()[0]).parse_args()
    model = load(SHIPPED)
    params = {"weights": SHIPPED.name, "truncation": TAU, "quick": args.quick}
    accuracy(model, 100 if args.quick else 400, {**params, "captions": 100 if args.quick else 400})
    diversity(model, 4 if args.quick else 20, params)
    speed(model, 5 if args.quick else 20, params)


if __name__ == "__main__":
    main()
