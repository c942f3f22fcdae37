"""Host-header allow-list (plain ASGI): a page on another site that rebinds its DNS name to 127.0.0.1 sends its own
name as `Host`, so answering only the names this server is known by stops it from reading or driving a loopback
server (DNS rebinding). `*` in the list accepts any host."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from encoderlab.serving.responses import send_error

LOOPBACK_NAMES = ("localhost", "127.0.0.1", "::1")


def default_allowed_hosts(bound_host: str) -> list[str]:
    return [*LOOPBACK_NAMES, *([bound_host] if bound_host not in LOOPBACK_NAMES else [])]


def host_name(header: bytes) -> str:
    """The name in a `Host` header, without the port or an IPv6 literal's brackets, lower-cased."""
    text = header.decode("latin-1").strip().lower()
    if text.startswith("["):
        return text[1:].partition("]")[0]
    name, _, port = text.rpartition(":")
    return name if name and port.isdigit() else text


class TrustedHostMiddleware:
    def __init__(self, app: Any, allowed_hosts: Iterable[str]) -> None:
        self.app = app
        self.allowed = {name.strip().lower().strip("[]") for name in allowed_hosts}

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or "*" in self.allowed:
            await self.app(scope, receive, send)
            return
        header = dict(scope["headers"]).get(b"host")
        name = host_name(header) if header is not None else ""
        if name in self.allowed:
            await self.app(scope, receive, send)
            return
        shown = f"Host {name!r}" if header is not None else "a request without a Host header"
        await send_error(send, 400, f"{shown} is not served here; add it to the server's --allowed-hosts")
