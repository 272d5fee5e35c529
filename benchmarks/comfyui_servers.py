"""Real ComfyUI servers (``../shared/comfyui``), each on one CPU thread (OMP_NUM_THREADS=1).

Prints ``two_over_one`` (jobs per minute with two servers over one, the same jobs through the
app's ComfyUI engine; target >= 1.8), ``bare_two_over_one`` (the same split done by hand with bare
clients: what the machine allows, for reading the first figure on a busy machine) and
``app_over_bare`` (one job through the app: check, graph, WebSocket, fetch, PNG with metadata saved
in a project; over posting the same graph with a bare client that waits on the WebSocket and
fetches the image; target <= 1.05). The model is a full-size SD 1.5 checkpoint
with random weights, built here (~30 s; ComfyUI needs the real shapes). Needs ~10 GB of RAM.
"""

from __future__ import annotations

import json
import statistics
import sys
import tempfile
import time
import urllib.request
import uuid
from pathlib import Path

from _common import arg_parser, emit

ROOT = Path(__file__).resolve().parents[1]


def bare_job(url: str, graph: dict) -> bytes:
    """The least any client does: its WebSocket, POST /prompt, wait for the end, GET /history, /view."""
    import websocket

    client_id = uuid.uuid4().hex
    ws = websocket.create_connection(f"ws://{url.split('://', 1)[1]}/ws?clientId={client_id}")
    try:
        body = json.dumps({"prompt": graph, "client_id": client_id}).encode()
        req = urllib.request.Request(url + "/prompt", body, {"Content-Type": "application/json"})
        with urllib.request.urlopen(req) as answer:
            prompt_id = json.load(answer)["prompt_id"]
        while True:
            message = ws.recv()
            if isinstance(message, str):
                data = json.loads(message)
                if data["type"] == "executing" and data["data"].get("node") is None \
                        and data["data"].get("prompt_id") == prompt_id:
                    break
    finally:
        ws.close()
    with urllib.request.urlopen(f"{url}/history/{prompt_id}") as answer:
        entry = json.load(answer)[prompt_id]
    image = next(iter(entry["outputs"].values()))["images"][0]
    query = "&".join(f"{k}={image[k]}" for k in ("filename", "subfolder", "type"))
    with urllib.request.urlopen(f"{url}/view?{query}") as answer:
        return answer.read()


def bare_batch(urls: list[str], graphs_: list[dict]) -> float:
    """The same images split evenly over ``urls`` by hand, one thread per server: the ceiling."""
    import threading

    started = time.perf_counter()
    def run_on(url: str, share: list[dict]) -> None:
        for graph in share:
            bare_job(url, graph)

    threads = [threading.Thread(target=run_on, args=(u, graphs_[i::len(urls)])) for i, u in enumerate(urls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.perf_counter() - started


def main() -> None:
    parser = arg_parser(__doc__)
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT / "tests"))
    from comfyui.sd15_files import CHECKPOINT, write_sd15_checkpoint
    from comfyui.server_process import COMFYUI, ComfyServer

    from t2i_studio.core import jobs
    from t2i_studio.core.project import Project
    from t2i_studio.core.requests import GenerationRequest, ModelRef, Sampling
    from t2i_studio.core.servers import ServerConfig
    from t2i_studio.engines.comfyui import graphs
    from t2i_studio.engines.comfyui.pool import ServerPool
    from t2i_studio.engines.registry import local_registry

    if not (COMFYUI / "serve").is_file():
        sys.exit(f"no ComfyUI server at {COMFYUI}")
    images, steps, reps = (4, 2, 3) if args.quick else (8, 4, 5)

    def request(seed: int, count: int) -> GenerationRequest:
        return GenerationRequest("a harbour at night", width=64, height=64, engine="comfyui",
                                 model=ModelRef(CHECKPOINT),
                                 sampling=Sampling(steps=steps, scheduler="Euler", seed=seed, batch_size=count))

    with tempfile.TemporaryDirectory(prefix="t2i-bench-comfy-") as tmp:
        work = Path(tmp)
        write_sd15_checkpoint(work / "models" / "checkpoints" / CHECKPOINT)
        (work / "models" / "loras").mkdir()
        servers = [ComfyServer(work / f"server{i}", work / "models", threads=1) for i in range(2)]
        project = Project.open(work / "project", create=True)
        try:
            def app_job(urls: list[str], seed: int, count: int) -> float:
                registry = local_registry(ServerPool([ServerConfig(u) for u in urls]))
                started = time.perf_counter()
                req = request(seed, count)
                registry.check(req)
                outcome = jobs.run_job(req, registry, project.save_result)
                assert outcome.state == jobs.FINISHED, outcome.message
                return time.perf_counter() - started

            one, both = [servers[0].url], [s.url for s in servers]
            app_job(both, 1, 2)  # both servers load the model (fresh seeds below: nothing cached)
            t_one = app_job(one, 1000, images)
            t_two = app_job(both, 2000, images)
            emit("comfyui_servers", "two_over_one", round(t_one / t_two, 3), unit="ratio", target=1.8,
                 better="higher", params={"images": images, "steps": steps, "size": 64, "omp_threads": 1,
                                          "one_server_jobs_per_min": round(60 * images / t_one, 2),
                                          "two_servers_jobs_per_min": round(60 * images / t_two, 2)})
            # what this machine allows: the same split done by hand with bare clients
            batch = [graphs.build(request(5000 + k, 1), 5000 + k) for k in range(2 * images)]
            b_one, b_two = bare_batch(one, batch[:images]), bare_batch(both, batch[images:])
            emit("comfyui_servers", "bare_two_over_one", round(b_one / b_two, 3), unit="ratio", better="higher",
                 params={"images": images, "steps": steps, "size": 64, "omp_threads": 1})

            app_times, bare_times = [], []
            for k in range(reps):  # interleaved, on one server, each with a seed never run before
                app_times.append(app_job(one, 3000 + k, 1))
                started = time.perf_counter()
                bare_job(one[0], graphs.build(request(4000 + k, 1), 4000 + k))
                bare_times.append(time.perf_counter() - started)
            app_s, bare_s = statistics.median(app_times), statistics.median(bare_times)
            emit("comfyui_servers", "app_over_bare", round(app_s / bare_s, 3), unit="ratio", target=1.05,
                 params={"reps": reps, "steps": steps, "size": 64, "app_s": round(app_s, 3),
                         "bare_s": round(bare_s, 3)})
        finally:
            project.close()
            for server in servers:
                server.stop()


if __name__ == "__main__":
    main()
