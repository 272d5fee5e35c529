"""The ComfyUI engine: one batch of a request spread over the servers that can run it.

Each image is one prompt (see ``graphs``). One thread per able server takes the next image from a
shared list, so the least busy server starts first and faster servers take more; a server that
goes down puts its image back for the others and leaves. Each image is handed over to be saved as
it comes back (``Progress.arrived``), so they land in the order they finish and a failure later in
the batch loses none of them. Only the calling (worker) thread reports progress, so ``on_progress`` stays on one thread.
"""

from __future__ import annotations

import io
import json
import queue
import threading
from collections import deque
from typing import Any

from t2i_studio import __version__
from t2i_studio.core.engine import (
    Cancelled,
    CancelToken,
    EngineError,
    Progress,
    ProgressCallback,
    Result,
)
from t2i_studio.core.requests import GenerationRequest
from t2i_studio.engines.comfyui import graphs, uploads
from t2i_studio.engines.comfyui.client import ServerError
from t2i_studio.engines.comfyui.pool import Server, ServerPool
from t2i_studio.engines.comfyui.prompt_run import run_prompt
from t2i_studio.engines.lineage import input_lineage


def able_servers(pool: ServerPool, request: GenerationRequest) -> list[Server]:
    """The servers that can run ``request``, least busy first; ``EngineError`` saying why when none
    can. Reads no weights and sends no job, so it serves as the check at submission too."""
    if request.sampling.variation_strength > 0:
        raise EngineError("ComfyUI servers cannot blend variation seeds.", "Set the variation strength to 0.")
    if not pool.servers:
        raise EngineError("No ComfyUI server is set up.", "Add one with `t2i-studio servers add URL` or --server URL.")
    able, why = pool.able(graphs.needs(request))
    if not able:
        raise EngineError("No ComfyUI server can run this job: " + "; ".join(why) + ".")
    return able


class ComfyUIEngine:
    def __init__(self, pool: ServerPool) -> None:
        self.pool = pool

    def run(self, request: Any, on_progress: ProgressCallback, cancel: CancelToken) -> Result:
        assert isinstance(request, GenerationRequest)
        able = able_servers(self.pool, request)
        seeds = request.sampling.seeds()
        work: deque[tuple[int, int]] = deque(enumerate(seeds))
        events: queue.Queue = queue.Queue()
        sent = uploads.pictures(request)
        stop = CancelToken()  # the workers' own: set by a user's cancel or by the job failing
        # each server takes its first image after the less busy one before it has taken its own
        turns = [threading.Event() for _ in able]
        threads = [threading.Thread(target=self._serve, name=_thread_name(s), daemon=True,
                                    args=(s, request, work, events, stop, sent, turns[i - 1] if i else None,
                                          turns[i])) for i, s in enumerate(able)]
        for thread in threads:
            thread.start()
        try:
            self._collect(request, seeds, threads, events, on_progress, cancel, sent)
        finally:
            stop.cancel()  # stops (interrupts) whatever still runs on the other servers
            for thread in threads:
                thread.join()
        return Result(images=[], seeds=[])  # every image was handed over as it arrived

    def _collect(self, request: GenerationRequest, seeds: list[int], threads: list[threading.Thread],
                 events: queue.Queue, on_progress: ProgressCallback, cancel: CancelToken,
                 sent: uploads.Pictures) -> None:
        """Relay the servers' progress; hand each image over (``Progress.arrived``) as it comes back."""
        lineage = input_lineage(request)
        steps = {k: 0 for k in range(len(seeds))}
        per_image = request.sampling.steps
        done = 0
        last_offline: ServerError | None = None
        while done < len(seeds):
            cancel.raise_if_cancelled()
            try:
                kind, *payload = events.get(timeout=0.1)
            except queue.Empty:
                if not any(t.is_alive() for t in threads) and events.empty():
                    stopped = EngineError("Every ComfyUI server stopped before the batch was done.")
                    raise last_offline or stopped from None
                continue
            if kind == "update":
                index, update = payload
                if update.total:
                    steps[index] = min(update.step, update.total) * per_image // max(update.total, 1)
                on_progress(Progress(sum(steps.values()), per_image * len(seeds), update.preview, update.message))
            elif kind == "done":
                index, image, server, graph = payload
                steps[index] = per_image
                done += 1
                if sent.plan is not None:  # pasted back here: the pixels outside the mask stay the source's exactly
                    image = sent.plan.finish(image)
                on_progress(Progress(sum(steps.values()), per_image * len(seeds),
                                     message=f"{done} of {len(seeds)} image(s) back",
                                     arrived=_result(request, seeds[index], image, server, graph, lineage)))
            elif kind == "offline":
                server, last_offline = payload
                others = any(t.is_alive() for t in threads if t.name != _thread_name(server))
                on_progress(Progress(sum(steps.values()), per_image * len(seeds),
                                     message=f"{last_offline}{' Going on with the other servers.' if others else ''}"))
            elif kind == "failed":
                raise payload[0]

    def _serve(self, server: Server, request: GenerationRequest, work: deque, events: queue.Queue,
               stop: CancelToken, sent: uploads.Pictures, my_turn: threading.Event | None,
               next_turn: threading.Event) -> None:
        """One server's thread: take images until none are left, the job stops or the server fails."""
        uploaded: uploads.Uploaded | None = None  # sent before its first image
        while my_turn is not None and not my_turn.wait(0.1):
            if stop.cancelled:
                next_turn.set()
                return
        while not stop.cancelled:
            try:
                index, seed = work.popleft()
            except IndexError:
                return
            finally:
                next_turn.set()
            try:
                if uploaded is None:
                    uploaded = uploads.upload(server, request, sent)
                graph = graphs.build(request, seed, *uploaded)
                pngs = run_prompt(server.client, graph, lambda u, i=index: events.put(("update", i, u)),
                                  stop, self.pool.idle_timeout)
                events.put(("done", index, _image(pngs[0]), server, graph))
            except Cancelled:
                return
            except ServerError as exc:
                if not exc.offline:
                    events.put(("failed", exc))
                    return
                work.appendleft((index, seed))  # the image goes to another server
                self.pool.mark_offline(server, exc)
                events.put(("offline", server, exc))
                return
            except Exception as exc:  # noqa: BLE001 - any failure is the job's, told on the worker thread
                events.put(("failed", exc))
                return

    def close(self) -> None:
        """Nothing is held between jobs: the models live on the servers."""

    def status(self) -> dict[str, Any]:
        online = [s.label for s in self.pool.servers if self.pool.online(s)]
        return {"device": f"ComfyUI: {', '.join(online) or 'no server online'}", "model": None, "memory_mb": 0.0}


def _thread_name(server: Server) -> str:
    return f"comfyui {server.config.url}"


def _image(png: bytes) -> Any:
    from PIL import Image

    with Image.open(io.BytesIO(png)) as image:
        return image.convert("RGB")


def _result(request: GenerationRequest, seed: int, image: Any, server: Server, graph: dict,
            lineage: dict[str, Any]) -> Result:
    """One image as it came back: the fingerprint names its server, and keeps its graph so it can be
    run again in ComfyUI."""
    sampler, scheduler = graphs.SAMPLERS[request.sampling.scheduler]
    fingerprint = {
        "app": __version__, "engine": "comfyui", "device": server.fingerprint().get("device") or "?",
        "sampler": sampler, "comfy_scheduler": scheduler, "scheduler": request.sampling.scheduler,
        "model": {"id": request.model.id, "name": request.model.id},
        "servers": [{**server.fingerprint(), "seeds": [seed]}],
        "prompts": {str(seed): graph},
    }
    return Result(images=[image], seeds=[seed], fingerprint=fingerprint, lineage=lineage,
                  texts=[{"prompt": json.dumps(graph)}])
