"""The app's path (request -> Text2ImageEngine -> PNG saved in a project) against a bare diffusers
pipeline call with the same model, parameters and seed, in the same process, runs interleaved.

Prints ``app_over_raw`` (app time incl. saving / raw pipeline time; target <= 1.03) and
``save_ms_per_image`` (Project.save_result per image: PNG + metadata + index row). The model is the
tiny SD pipeline the tests use (built from configs, nothing downloaded), so steps are short and the
app's fixed costs weigh as much as they ever can.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--threads", type=int, default=1,
                        help="torch CPU threads (1: steadiest on a shared machine; the tiny model "
                             "is all threading overhead)")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT / "tests"))
    import torch

    torch.set_num_threads(args.threads)
    import tiny_models
    from diffusers import EulerDiscreteScheduler, StableDiffusionPipeline

    from t2i_studio.core.engine import CancelToken
    from t2i_studio.core.requests import GenerationRequest
    from t2i_studio.engines.text2image import Text2ImageEngine

    size, steps, reps = (128, 10, 3) if args.quick else (256, 20, 5)
    work = Path(tempfile.mkdtemp(prefix="t2i-bench-"))
    model = tiny_models.build_sd(work / "tiny")
    request = GenerationRequest(prompt="a cat", model=str(model), width=size, height=size, steps=steps,
                                seed=11, scheduler="Euler", guidance=7.0, dtype="fp32")
    engine = Text2ImageEngine(preview_every=2)
    engine.run(request, lambda p: None, CancelToken())  # load + warm
    raw = StableDiffusionPipeline.from_pretrained(str(model), dtype=torch.float32, local_files_only=True)
    raw.scheduler = EulerDiscreteScheduler.from_config(raw.scheduler.config)
    raw.set_progress_bar_config(disable=True)

    def run_raw():
        gen = torch.Generator("cpu").manual_seed(11)
        return raw("a cat", num_inference_steps=steps, guidance_scale=7.0, width=size, height=size,
                   generator=gen).images

    try:
        from t2i_studio.core.project import Project
    except ImportError:
        Project = None  # noqa: N806
    run_raw()
    app_times, raw_times, save_times = [], [], []
    project = Project.open(work / "project", create=True) if Project else None
    try:
        for _ in range(reps):
            start = time.perf_counter()
            run_raw()
            raw_times.append(time.perf_counter() - start)
            start = time.perf_counter()
            result = engine.run(request, lambda p: None, CancelToken())
            mid = time.perf_counter()
            if project is not None:
                project.save_result(request, result)
            end = time.perf_counter()
            app_times.append(end - start)
            save_times.append(end - mid)
    finally:
        if project is not None:
            project.close()
        engine.close()
    params = {"model": "tiny-sd (tests)", "size": size, "steps": steps, "reps": reps,
              "raw_s": round(statistics.median(raw_times), 4), "app_s": round(statistics.median(app_times), 4),
              "threads": torch.get_num_threads(), "saved": project is not None}
    ratio = statistics.median(app_times) / statistics.median(raw_times)
    print(json.dumps({"benchmark": "generation_overhead", "metric": "app_over_raw", "value": round(ratio, 3),
                      "unit": "ratio", "target": 1.03, "better": "lower", "device": "cpu", "params": params}))
    if project is not None:
        print(json.dumps({"benchmark": "generation_overhead", "metric": "save_ms_per_image",
                          "value": round(statistics.median(save_times) * 1000, 2), "unit": "ms",
                          "target": None, "better": "lower", "device": "cpu",
                          "params": {"size": size, "format": "png"}}))


if __name__ == "__main__":
    main()
