"""Sign-in and TLS failures, as one line each: the real server behind a small HTTPS reverse proxy
that wants a bearer token (as a cloud GPU box would have), with a self-signed certificate."""

from __future__ import annotations

import shutil
import ssl
import subprocess
import threading
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from t2i_studio.core.servers import ServerConfig
from t2i_studio.engines.comfyui.pool import ServerPool
from t2i_studio.engines.registry import local_registry

from comfyui.helpers import comfy_request

pytestmark = pytest.mark.slow
TOKEN = "let-me-in"


@pytest.fixture
def proxy(comfy_server, tmp_path):
    """``https://127.0.0.1:PORT`` forwarding GETs to the server when the token is right, else 401."""
    if shutil.which("openssl") is None:
        pytest.skip("openssl is needed to make the proxy's self-signed certificate")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj",
                    "/CN=127.0.0.1", "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True)

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server's name
            if self.headers.get("Authorization") != f"Bearer {TOKEN}":
                self.send_response(401)
                self.end_headers()
                return
            with urllib.request.urlopen(comfy_server.url + self.path, timeout=30) as answer:
                body = answer.read()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args) -> None:  # noqa: ANN002
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"https://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
    thread.join()


def _refusal(config: ServerConfig) -> str:
    with pytest.raises(ValueError) as caught:
        local_registry(ServerPool([config])).check(comfy_request())
    assert "\n" not in str(caught.value)
    return str(caught.value)


def test_an_untrusted_certificate_is_refused_unless_the_user_says_so(proxy):
    message = _refusal(ServerConfig(proxy, name="cloud"))
    assert "ComfyUI server cloud: TLS certificate not trusted (self-signed certificate)" in message
    # trusting it by choice gets as far as the sign-in
    assert "ComfyUI server cloud refused the sign-in (HTTP 401)" in _refusal(
        ServerConfig(proxy, name="cloud", verify_tls=False))


def test_a_wrong_token_is_refused_and_the_right_one_from_the_keyring_gets_in(proxy, memory_keyring):
    config = ServerConfig(proxy, name="cloud", auth="bearer", verify_tls=False)
    memory_keyring.set_password("t2i-studio/comfyui", config.url, "wrong")
    assert "refused the sign-in (HTTP 401)" in _refusal(config)
    memory_keyring.set_password("t2i-studio/comfyui", config.url, TOKEN)
    local_registry(ServerPool([config])).check(comfy_request())  # signed in: the server can run it


def test_an_address_nothing_listens_on_is_unreachable():
    message = _refusal(ServerConfig("http://127.0.0.1:9", name="gone"))
    assert "ComfyUI server gone is unreachable at http://127.0.0.1:9 ([Errno 111] Connection refused)" in message
