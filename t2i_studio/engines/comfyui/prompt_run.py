"""One graph on one server, followed on its WebSocket from queued to fetched.

Each run has its own client id, so the server's progress, preview frames and errors on that socket
are this prompt's alone. The socket is read with a short timeout so the cancel token is checked
cooperatively: a running prompt is stopped with ``/interrupt``, a waiting one deleted from the queue.
"""

from __future__ import annotations

import io
import json
import struct
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from t2i_studio.core.engine import Cancelled, CancelToken
from t2i_studio.engines.comfyui.client import ComfyClient, ServerError
from t2i_studio.engines.comfyui.graphs import OUTPUT_NODE

POLL_S = 0.25  # how often the cancel token is looked at while the socket is quiet
PREVIEW_IMAGE, PREVIEW_WITH_METADATA = 1, 4  # ComfyUI's binary event types (protocol.py)


@dataclass
class Update:
    step: int = 0
    total: int = 0
    preview: Any = None  # a PIL image
    message: str = ""


def run_prompt(client: ComfyClient, graph: dict[str, Any], on_update: Callable[[Update], None],
               cancel: CancelToken, idle_timeout: float) -> list[bytes]:
    """Run ``graph``; the PNG bytes of its output images. ``idle_timeout``: seconds without any
    event while the prompt is not waiting in the queue before giving up."""
    client_id = uuid.uuid4().hex
    ws = client.websocket(client_id)
    try:
        prompt_id = client.submit(graph, client_id)
        _follow(client, ws, prompt_id, on_update, cancel, idle_timeout)
    finally:
        ws.close()
    outputs = client.history(prompt_id).get("outputs", {}).get(OUTPUT_NODE, {})
    images = outputs.get("images") or []
    if not images:
        raise ServerError(f"ComfyUI server {client.server.label} finished the job but returned no image.")
    return [client.view(image) for image in images]


def _follow(client: ComfyClient, ws: Any, prompt_id: str, on_update: Callable[[Update], None],
            cancel: CancelToken, idle_timeout: float) -> None:
    import websocket

    label = client.server.label
    ws.settimeout(POLL_S)
    quiet_since = time.monotonic()
    while True:
        if cancel.cancelled:
            _stop(client, prompt_id)
            raise Cancelled()
        try:
            opcode, data = ws.recv_data()
        except websocket.WebSocketTimeoutException:
            if time.monotonic() - quiet_since > idle_timeout:
                if _waiting(client, prompt_id):
                    quiet_since = time.monotonic()  # queued behind other work: not stuck
                    continue
                raise ServerError(f"ComfyUI server {label} sent nothing for {idle_timeout:.0f} s; gave up on "
                                  "the job.", "Check the server's log; raise the timeout for slow servers.",
                                  offline=False) from None
            continue
        except (websocket.WebSocketConnectionClosedException, OSError) as exc:
            raise ServerError(f"ComfyUI server {label} went down mid-job ({exc or 'connection closed'}).",
                              "It is marked offline and retried later.", str(exc), offline=True) from exc
        quiet_since = time.monotonic()
        if opcode == websocket.ABNF.OPCODE_BINARY:
            preview = _preview(data)
            if preview is not None:
                on_update(Update(preview=preview))
            continue
        if opcode == websocket.ABNF.OPCODE_CLOSE:
            raise ServerError(f"ComfyUI server {label} went down mid-job (socket closed).",
                              "It is marked offline and retried later.", offline=True)
        if opcode != websocket.ABNF.OPCODE_TEXT:
            continue
        message = json.loads(data)
        kind, body = message.get("type"), message.get("data") or {}
        if body.get("prompt_id") not in (None, prompt_id):
            continue
        if kind == "progress":
            on_update(Update(step=int(body.get("value", 0)), total=int(body.get("max", 0))))
        elif kind == "execution_cached" and body.get("nodes"):
            on_update(Update(message=f"{label}: {len(body['nodes'])} node(s) reused from its cache"))
        elif kind == "executing" and body.get("node") is None and body.get("prompt_id") == prompt_id:
            return  # sent once the history holds the outputs (execution_success comes before that)
        elif kind == "execution_error":
            raise ServerError(f"ComfyUI server {label} failed in node {body.get('node_id')} "
                              f"({body.get('node_type')}): {str(body.get('exception_message', '')).strip()}",
                              details="".join(body.get("traceback") or []))
        elif kind == "execution_interrupted":
            if cancel.cancelled:
                raise Cancelled()
            raise ServerError(f"The job was interrupted on ComfyUI server {label} (by someone else).")


def _stop(client: ComfyClient, prompt_id: str) -> None:
    """A cancel: interrupt the prompt if it runs, else take it out of the queue (best effort)."""
    try:
        client.delete_queued(prompt_id)
        client.interrupt(prompt_id)  # only stops it when it is the one running
    except ServerError:
        pass  # the server is gone: nothing left to stop


def _waiting(client: ComfyClient, prompt_id: str) -> bool:
    try:
        queue = client.get_json("/queue")
    except ServerError:
        return False
    return any(item[1] == prompt_id for key in ("queue_running", "queue_pending") for item in queue.get(key, []))


def _preview(frame: bytes) -> Any:
    """A binary preview frame as a PIL image (None for frames that are not previews)."""
    from PIL import Image, UnidentifiedImageError

    if len(frame) < 8:
        return None
    (event,) = struct.unpack(">I", frame[:4])
    if event == PREVIEW_IMAGE:
        payload = frame[8:]  # then the image format (1 JPEG, 2 PNG), then the image
    elif event == PREVIEW_WITH_METADATA:
        (size,) = struct.unpack(">I", frame[4:8])
        payload = frame[8 + size:]
    else:
        return None
    try:
        with Image.open(io.BytesIO(payload)) as image:
            return image.convert("RGB")
    except (UnidentifiedImageError, OSError):
        return None
