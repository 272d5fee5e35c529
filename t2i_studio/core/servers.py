"""ComfyUI servers the user has set up: where they are, how to sign in, whether to trust TLS.

The settings JSON holds only what is not secret (URL, name, auth kind, user name, TLS switch); a
bearer token or basic-auth password lives in the OS keyring (the ``keyring`` library), under the
server's URL. No Qt and no torch here: the UI lists servers and the CLI edits them through this.
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import asdict, dataclass
from typing import Any, Iterator
from urllib.parse import urlsplit

from t2i_studio.core.errors import StudioError

ENGINE = "comfyui"  # the registry entry that runs requests on servers
AUTH_KINDS = ("none", "bearer", "basic")
KEYRING_SERVICE = "t2i-studio/comfyui"


def normalize_url(url: str) -> str:
    """``host:port`` or a full URL -> ``http(s)://host:port`` (no trailing slash); ValueError if not one."""
    text = url.strip().rstrip("/")
    if "://" not in text:
        text = "http://" + text
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"Not a server address: {url!r}; give one like http://127.0.0.1:8188.")
    try:
        parts.port  # noqa: B018 - raises on a port that is not a number
    except ValueError as exc:
        raise ValueError(f"Not a server address: {url!r} ({exc}).") from exc
    return f"{parts.scheme}://{parts.netloc}{parts.path}"


@dataclass(frozen=True)
class ServerConfig:
    url: str
    name: str = ""
    auth: str = "none"  # "bearer": a token; "basic": user name + password (a reverse proxy)
    username: str = ""
    verify_tls: bool = True

    def __post_init__(self) -> None:
        object.__setattr__(self, "url", normalize_url(self.url))
        if self.auth not in AUTH_KINDS:
            raise ValueError(f"Auth must be one of {', '.join(AUTH_KINDS)}; got {self.auth!r}.")
        if self.auth == "basic" and not self.username:
            raise ValueError("Basic auth needs a user name.")

    @property
    def label(self) -> str:
        return self.name or urlsplit(self.url).netloc

    def secret(self) -> str | None:
        """The token or password from the OS keyring (None: no auth, or none stored)."""
        if self.auth == "none":
            return None
        import keyring

        with _keyring(self):
            return keyring.get_password(KEYRING_SERVICE, self.url)

    def to_data(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> ServerConfig:
        names = {"url", "name", "auth", "username", "verify_tls"}
        return cls(**{k: v for k, v in data.items() if k in names})


def configured(settings: Any) -> list[ServerConfig]:
    """The servers in ``settings.servers``; a damaged entry is skipped, not fatal."""
    out = []
    for data in getattr(settings, "servers", None) or []:
        try:
            out.append(ServerConfig.from_data(data))
        except (TypeError, ValueError):
            continue
    return out


def add(settings: Any, server: ServerConfig, secret: str | None = None) -> None:
    """Add (or replace, by URL) a server and keep its secret in the keyring; saves the settings."""
    import keyring

    if server.auth != "none":
        if not secret:
            raise ValueError(f"{server.auth} auth needs a {'token' if server.auth == 'bearer' else 'password'}.")
        with _keyring(server):
            keyring.set_password(KEYRING_SERVICE, server.url, secret)
    settings.servers = [s.to_data() for s in configured(settings) if s.url != server.url] + [server.to_data()]
    settings.save()


def remove(settings: Any, url_or_name: str) -> ServerConfig:
    """Remove a server (by URL or name) and its keyring secret; saves the settings."""
    import keyring
    from keyring.errors import PasswordDeleteError

    found = find(configured(settings), url_or_name)
    if found is None:
        raise ValueError(f"No server {url_or_name!r} is set up; `t2i-studio servers list` shows them.")
    settings.servers = [s.to_data() for s in configured(settings) if s.url != found.url]
    settings.save()
    if found.auth != "none":
        try:
            with _keyring(found):
                keyring.delete_password(KEYRING_SERVICE, found.url)
        except PasswordDeleteError:  # nothing was stored
            pass
    return found


@contextmanager
def _keyring(server: ServerConfig) -> Iterator[None]:
    """A keyring that is missing or locked (a headless machine): one line saying so."""
    from keyring.errors import KeyringError, PasswordDeleteError

    try:
        yield
    except PasswordDeleteError:
        raise
    except KeyringError as exc:
        raise StudioError(f"The OS keyring could not be used for the secret of {server.label} ({exc}).",
                          "Unlock or install a keyring (Secret Service, macOS Keychain, Windows "
                          "Credential Manager).") from exc


def find(servers: list[ServerConfig], url_or_name: str) -> ServerConfig | None:
    try:
        url = normalize_url(url_or_name)
    except ValueError:
        url = None
    return next((s for s in servers if s.url == url or (s.name and s.name == url_or_name)), None)
