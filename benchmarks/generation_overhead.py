"""The app's path (request -> Text2ImageEngine -> PNG saved in a project) against a bare diffusers
pipeline call with the same model, parameters and seed, in the same process, runs interleaved.

Prints ``app_over_raw`` (app time incl. saving / raw pipeline time; target <= 1.03) and
``save_ms_per_image`` (Project.save_result per image: PNG + metadata + index row). The model is the
tiny SD pipeline the tests use (built from configs, nothing downloaded), so steps are short and the
app's fixed costs weigh as much as they ever can.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

from _common import arg_parser, emit

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = arg_parser(__doc__)
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
    from t2i_studio.core.project import Project
    from t2i_studio.core.requests import GenerationRequest, ModelRef, RunOptions, Sampling
    from t2i_studio.engines.text2image import Text2ImageEngine

    size, steps, reps = (128, 10, 3) if args.quick else (256, 20, 5)
    with tempfile.TemporaryDirectory(prefix="t2i-bench-") as tmp:
        work = Path(tmp)
        model = tiny_models.build_sd(work / "tiny")
        request = GenerationRequest(prompt="a cat", width=size, height=size, model=ModelRef(str(model)),
                                    sampling=Sampling(steps=steps, seed=11, scheduler="Euler", guidance=7.0),
                                    run=RunOptions(dtype="fp32"))
        engine = Text2ImageEngine()
        engine.run(request, lambda p: None, CancelToken())  # load + warm
        raw = StableDiffusionPipeline.from_pretrained(str(model), dtype=torch.float32, local_files_only=True)
        raw.scheduler = EulerDiscreteScheduler.from_config(raw.scheduler.config)
        raw.set_progress_bar_config(disable=True)

        def run_raw():
            gen = torch.Generator("cpu").manual_seed(11)
            return raw("a cat", num_inference_steps=steps, guidance_scale=7.0, width=size, height=size,
                       generator=gen).images

        run_raw()
        app_times, raw_times, save_times = [], [], []
        try:
            with Project.open(work / "project", create=True) as project:
                for _ in range(reps):
                    start = time.perf_counter()
                    run_raw()
                    raw_times.append(time.perf_counter() - start)
                    start = time.perf_counter()
                    result = engine.run(request, lambda p: None, CancelToken())
                    mid = time.perf_counter()
                    project.save_result(request, result)
                    end = time.perf_counter()
                    app_times.append(end - start)
                    save_times.append(end - mid)
        finally:
            engine.close()
    params = {"model": "tiny-sd (tests)", "size": size, "steps": steps, "reps": reps,
              "raw_s": round(statistics.median(raw_times), 4), "app_s": round(statistics.median(app_times), 4),
              "threads": torch.get_num_threads()}
    ratio = statistics.median(app_times) / statistics.median(raw_times)
    emit("generation_overhead", "app_over_raw", round(ratio, 3), unit="ratio", target=1.03, params=params)
    emit("generation_overhead", "save_ms_per_image", round(statistics.median(save_times) * 1000, 2),
         unit="ms", params={"size": size, "format": "png"})


if __name__ == "__main__":
    main()
