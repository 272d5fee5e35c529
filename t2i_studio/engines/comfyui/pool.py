"""The servers a request may run on: what each can do (``/object_info``), which are up, and which
is least busy. A server that fails at the connection level is marked offline and asked again
after ``retry_s``; what each one has is cached for ``info_ttl_s`` so checks stay cheap.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any

from t2i_studio.core.servers import ServerConfig
from t2i_studio.engines.comfyui.client import ComfyClient, ServerError
from t2i_studio.engines.comfyui.graphs import Needs

RETRY_S = 30.0
INFO_TTL_S = 60.0


@dataclass
class Server:
    config: ServerConfig
    info: dict[str, Any] = field(default_factory=dict)  # /object_info
    stats: dict[str, Any] = field(default_factory=dict)  # /system_stats
    fetched: float = -1e9
    offline_until: float = 0.0
    offline_reason: str = ""
    _client: ComfyClient | None = None

    @property
    def client(self) -> ComfyClient:
        """Made on first use: the keyring is read only when a job or check needs this server."""
        if self._client is None:
            self._client = ComfyClient(self.config, self.config.secret())
        return self._client

    @property
    def label(self) -> str:
        return self.config.label

    def options(self, node: str, name: str) -> list[str]:
        """The choices of a node's list input (``ckpt_name`` of CheckpointLoaderSimple, ...)."""
        spec = (self.info.get(node, {}).get("input", {}).get("required", {}) or {}).get(name)
        if not spec:
            return []
        if isinstance(spec[0], list):  # older layout: [[choices], {...}]
            return [str(c) for c in spec[0]]
        return [str(c) for c in (spec[1] or {}).get("options", [])] if spec[0] == "COMBO" else []

    def fingerprint(self) -> dict[str, Any]:
        system = self.stats.get("system", {})
        devices = self.stats.get("devices") or [{}]
        return {"url": self.config.url, "name": self.config.name, "comfyui_version": system.get("comfyui_version"),
                "pytorch": system.get("pytorch_version"), "device": devices[0].get("name")}

    def controlnet(self, model: str) -> str | None:
        """The server's name of a request's ControlNet ``model`` (a path here, a file or a hub id): the
        ControlNet of that name, else of that file name, with or without its extension."""
        options = self.options("ControlNetLoader", "control_net_name")
        if model in options:
            return model
        name = _file_name(model)
        return next((o for o in options if name in (_file_name(o), _file_name(o).rsplit(".", 1)[0])), None)

    def missing(self, needs: Needs) -> str | None:
        """Why this server cannot run ``needs`` (None: it can)."""
        absent = sorted(n for n in needs.nodes if n not in self.info)
        if absent:
            return f"no {', '.join(absent)} node"
        checkpoints = self.options("CheckpointLoaderSimple", "ckpt_name")
        if needs.checkpoint not in checkpoints:
            return _lacks("checkpoint", needs.checkpoint, checkpoints)
        loras = self.options("LoraLoader", "lora_name")
        for lora in needs.loras:
            if lora not in loras:
                return _lacks("LoRA", lora, loras)
        for model in needs.controlnets:
            if self.controlnet(model) is None:
                return _lacks("ControlNet", _file_name(model), self.options("ControlNetLoader", "control_net_name"),
                              "; to add one, put its file into the server's models/controlnet folder")
        upscalers = self.options("UpscaleModelLoader", "model_name")
        if needs.upscaler is not None and needs.upscaler not in upscalers:
            return _lacks("upscaler model", needs.upscaler, upscalers)
        if needs.sampler not in self.options("KSampler", "sampler_name"):
            return f"no sampler {needs.sampler!r}"
        if needs.scheduler not in self.options("KSampler", "scheduler"):
            return f"no scheduler {needs.scheduler!r}"
        return None


def _lacks(what: str, name: str, has: list[str], how: str = "") -> str:
    return f"no {what} {name!r} (it has: {', '.join(has) or 'none'}{how})"


def _file_name(name: str) -> str:
    """The last part of a path, a server's option or a hub id, whichever separator it uses."""
    return name.replace("\\", "/").rstrip("/").rsplit("/", 1)[-1]


class ServerPool:
    def __init__(self, configs: list[ServerConfig], *, retry_s: float = RETRY_S, info_ttl_s: float = INFO_TTL_S,
                 idle_timeout: float = 600.0) -> None:
        self.servers = [Server(c) for c in configs]
        self.retry_s, self.info_ttl_s, self.idle_timeout = retry_s, info_ttl_s, idle_timeout
        self._lock = threading.Lock()

    def configure(self, configs: list[ServerConfig]) -> None:
        """Serve ``configs`` from now on (the user changed the servers): each is asked afresh, its secret
        read again. A job under way keeps the server it holds."""
        with self._lock:
            self.servers = [Server(c) for c in configs]

    def refresh(self, server: Server, force: bool = False) -> bool:
        """Fetch what ``server`` has when stale or due a retry; False when it is offline."""
        now = time.monotonic()
        with self._lock:
            if server.offline_until > now and not force:
                return False
            fresh = now - server.fetched < self.info_ttl_s and not server.offline_until
        if fresh and not force:
            return True
        try:
            # a short first question: the model picker asks on the GUI thread
            stats, info = server.client.system_stats(timeout=3.0), server.client.object_info()
        except ServerError as exc:
            self.mark_offline(server, exc)
            return False
        with self._lock:
            server.stats, server.info, server.fetched = stats, info, time.monotonic()
            server.offline_until, server.offline_reason = 0.0, ""
        return True

    def mark_offline(self, server: Server, error: Exception) -> None:
        with self._lock:
            server.offline_until = time.monotonic() + self.retry_s
            server.offline_reason = str(error)

    def able(self, needs: Needs) -> tuple[list[Server], list[str]]:
        """The servers that can run ``needs``, least busy first, and why each other one cannot."""
        ready, why = [], []
        for server in self.servers:
            if not self.refresh(server):
                why.append(server.offline_reason.rstrip("."))  # it names the server
            elif (reason := server.missing(needs)) is not None:
                why.append(f"{server.label}: {reason}")
            else:
                ready.append(server)
        return sorted(ready, key=self._queue_length), why

    def _queue_length(self, server: Server) -> int:
        try:
            return server.client.queue_length()
        except ServerError as exc:
            self.mark_offline(server, exc)
            return 1 << 30

    def online(self, server: Server) -> bool:
        with self._lock:
            return server.offline_until <= time.monotonic()


def check(config: ServerConfig) -> dict[str, Any]:
    """What one server says of itself: its fingerprint and how many checkpoints it has; ServerError
    (saying why) when it does not answer."""
    pool = ServerPool([config])
    server = pool.servers[0]
    if not pool.refresh(server, force=True):
        raise ServerError(server.offline_reason)
    return server.fingerprint() | {"checkpoints": len(server.options("CheckpointLoaderSimple", "ckpt_name"))}
