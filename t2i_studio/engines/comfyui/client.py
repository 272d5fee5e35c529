"""One ComfyUI server over HTTP (stdlib urllib) and its WebSocket (websocket-client).

Every failure becomes a ``ServerError`` of one line naming the server: unreachable, auth refused,
TLS failure, a timeout, or what ComfyUI itself answered. ``offline`` says the server itself is
gone (the pool then marks it offline and retries it later), as opposed to a refused request.
"""

from __future__ import annotations

import base64
import json
import ssl
import urllib.error
import urllib.request
import uuid
from typing import Any
from urllib.parse import urlencode, urlsplit

from t2i_studio.core.engine import EngineError
from t2i_studio.core.servers import ServerConfig

HTTP_TIMEOUT_S = 30.0


class ServerError(EngineError):
    def __init__(self, message: str, hint: str = "", details: str = "", offline: bool = False) -> None:
        super().__init__(message, hint, details)
        self.offline = offline


class ComfyClient:
    def __init__(self, server: ServerConfig, secret: str | None = None, timeout: float = HTTP_TIMEOUT_S) -> None:
        self.server, self.timeout = server, timeout
        self._headers: dict[str, str] = {}
        if server.auth == "bearer" and secret:
            self._headers["Authorization"] = f"Bearer {secret}"
        elif server.auth == "basic" and secret is not None:
            token = base64.b64encode(f"{server.username}:{secret}".encode()).decode("ascii")
            self._headers["Authorization"] = f"Basic {token}"
        self._ssl = ssl.create_default_context()
        if not server.verify_tls:
            self._ssl.check_hostname = False
            self._ssl.verify_mode = ssl.CERT_NONE

    # --- HTTP ---------------------------------------------------------------------------------

    def request(self, method: str, path: str, body: bytes | None = None, content_type: str | None = None,
                timeout: float | None = None) -> bytes:
        headers = dict(self._headers)
        if content_type:
            headers["Content-Type"] = content_type
        req = urllib.request.Request(self.server.url + path, data=body, headers=headers, method=method)
        what = f"ComfyUI server {self.server.label}"
        try:
            with urllib.request.urlopen(req, timeout=timeout or self.timeout, context=self._ssl) as response:
                return response.read()
        except urllib.error.HTTPError as exc:
            text = exc.read().decode("utf-8", "replace")
            if exc.code in (401, 403):
                raise ServerError(f"{what} refused the sign-in (HTTP {exc.code}).",
                                  "Check its token or password: `t2i-studio servers add URL --token ...`.",
                                  text) from exc
            raise ServerError(f"{what} answered HTTP {exc.code} to {method} {path}.", details=text,
                              offline=exc.code in (502, 503, 504)) from exc
        except urllib.error.URLError as exc:
            raise self._connection_error(exc.reason, what) from exc
        except TimeoutError as exc:
            raise ServerError(f"{what} did not answer within {timeout or self.timeout:.0f} s.",
                              "Check that it is running and not overloaded.", str(exc), offline=True) from exc
        except OSError as exc:  # reset mid-answer: it went down
            raise ServerError(f"{what} closed the connection ({exc}).", "Check that it is still running.",
                              str(exc), offline=True) from exc

    def _connection_error(self, reason: Any, what: str) -> ServerError:
        if isinstance(reason, ssl.SSLCertVerificationError):
            return ServerError(f"{what}: TLS certificate not trusted ({reason.verify_message}).",
                               "Install its certificate, or turn off TLS verification for a server you "
                               "trust (`servers add URL --insecure`).", str(reason), offline=True)
        if isinstance(reason, ssl.SSLError):
            return ServerError(f"{what}: TLS failure ({reason}).", "Check http:// vs https:// in its URL.",
                               str(reason), offline=True)
        if isinstance(reason, TimeoutError):
            return ServerError(f"{what} did not answer within {self.timeout:.0f} s.",
                               "Check that it is running and not overloaded.", str(reason), offline=True)
        return ServerError(f"{what} is unreachable at {self.server.url} ({reason}).",
                           "Check that it is running and that the address is right.", str(reason), offline=True)

    def get_json(self, path: str, timeout: float | None = None) -> Any:
        return _json(self.request("GET", path, timeout=timeout), path)

    def post_json(self, path: str, data: Any) -> bytes:
        return self.request("POST", path, json.dumps(data).encode("utf-8"), "application/json")

    # --- the API ------------------------------------------------------------------------------

    def system_stats(self, timeout: float | None = None) -> dict[str, Any]:
        return self.get_json("/system_stats", timeout)

    def object_info(self) -> dict[str, Any]:
        return self.get_json("/object_info")

    def queue_length(self) -> int:
        queue = self.get_json("/queue")
        return len(queue.get("queue_running", [])) + len(queue.get("queue_pending", []))

    def submit(self, graph: dict[str, Any], client_id: str) -> str:
        """Queue ``graph``; its prompt id. Node errors become one line naming node and input."""
        try:
            answer = _json(self.post_json("/prompt", {"prompt": graph, "client_id": client_id}), "/prompt")
        except ServerError as exc:
            if "HTTP 400" not in str(exc):
                raise
            raise ServerError(f"ComfyUI server {self.server.label} refused the job: {node_errors(exc.details)}",
                              details=exc.details) from exc
        return str(answer["prompt_id"])

    def upload_image(self, png: bytes, name: str) -> str:
        """Upload a PNG to the server's input folder; the name its LoadImage node takes."""
        boundary = uuid.uuid4().hex
        body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"image\"; filename=\"{name}\"\r\n"
                f"Content-Type: image/png\r\n\r\n").encode() + png + (
                f"\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"overwrite\"\r\n\r\ntrue"
                f"\r\n--{boundary}--\r\n").encode()
        answer = _json(self.request("POST", "/upload/image", body, f"multipart/form-data; boundary={boundary}"),
                       "/upload/image")
        return f"{answer['subfolder']}/{answer['name']}" if answer.get("subfolder") else str(answer["name"])

    def history(self, prompt_id: str) -> dict[str, Any]:
        return self.get_json(f"/history/{prompt_id}").get(prompt_id) or {}

    def view(self, image: dict[str, Any]) -> bytes:
        query = urlencode({k: image.get(k, "") for k in ("filename", "subfolder", "type")})
        return self.request("GET", f"/view?{query}")

    def interrupt(self, prompt_id: str) -> None:
        self.post_json("/interrupt", {"prompt_id": prompt_id})

    def delete_queued(self, prompt_id: str) -> None:
        self.post_json("/queue", {"delete": [prompt_id]})

    def websocket(self, client_id: str) -> Any:
        """The server's event stream for ``client_id`` (websocket-client connection)."""
        import websocket

        parts = urlsplit(self.server.url)
        url = f"{'wss' if parts.scheme == 'https' else 'ws'}://{parts.netloc}{parts.path}/ws?clientId={client_id}"
        sslopt = {"context": self._ssl} if parts.scheme == "https" else None
        try:
            return websocket.create_connection(url, timeout=self.timeout, sslopt=sslopt,
                                               header=[f"{k}: {v}" for k, v in self._headers.items()])
        except websocket.WebSocketBadStatusException as exc:
            if exc.status_code in (401, 403):
                raise ServerError(f"ComfyUI server {self.server.label} refused the sign-in "
                                  f"(HTTP {exc.status_code}).", "Check its token or password.") from exc
            raise ServerError(f"ComfyUI server {self.server.label} refused its WebSocket "
                              f"(HTTP {exc.status_code}).", details=str(exc)) from exc
        except (OSError, websocket.WebSocketException) as exc:
            raise self._connection_error(exc, f"ComfyUI server {self.server.label}") from exc


def node_errors(details: str) -> str:
    """ComfyUI's 400 answer to ``/prompt`` as one line: the node, its type and what is wrong."""
    try:
        data = json.loads(details)
    except ValueError:
        return details.strip()[:300]
    parts = []
    for node_id, node in (data.get("node_errors") or {}).items():
        for err in node.get("errors", []):
            parts.append(f"node {node_id} ({node.get('class_type', '?')}): {err.get('message', '')}"
                         f"{' - ' + err['details'] if err.get('details') else ''}")
    if not parts:
        error = data.get("error") or {}
        details = f": {error['details']}" if error.get("details") else ""
        parts.append(f"{error.get('message', 'invalid prompt')}{details}")
    return "; ".join(parts)


def _json(raw: bytes, path: str) -> Any:
    try:
        return json.loads(raw)
    except ValueError as exc:
        raise ServerError(f"The server's answer to {path} is not JSON: is this a ComfyUI server?",
                          details=raw[:300].decode("utf-8", "replace")) from exc
