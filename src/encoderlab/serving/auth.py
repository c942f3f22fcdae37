"""Optional API-key auth as plain ASGI middleware: `Authorization: Bearer <key>` or `X-API-Key: <key>`.

The key is checked from the headers alone, before a single body byte is received: a caller without the key costs
the server no body buffering and learns nothing about what the body would have triggered. Keys are compared as
UTF-8 bytes in constant time (ASGI hands headers over as raw bytes, so a non-ASCII key matches what a UTF-8
client sent). With a key set, every path but the probe and scrape endpoints needs it.
"""

from __future__ import annotations

import hmac
from typing import Any

from encoderlab.serving.responses import send_error

OPEN_PATHS = ("/health", "/metrics")  # probes and scrapers carry no key
BEARER = b"bearer "


def presented_key(headers: list[tuple[bytes, bytes]]) -> bytes | None:
    """The key a request carries, as the bytes it sent: `X-API-Key` first, else a Bearer `Authorization`."""
    fields = dict(headers)
    if b"x-api-key" in fields:
        return fields[b"x-api-key"].strip()
    authorization = fields.get(b"authorization", b"")
    if authorization[: len(BEARER)].lower() == BEARER:
        return authorization[len(BEARER) :].strip()
    return None


class ApiKeyMiddleware:
    def __init__(self, app: Any, api_key: str | None) -> None:
        self.app = app
        self.expected = api_key.encode("utf-8") if api_key is not None else None

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if self.expected is None or scope["type"] != "http" or scope["path"] in OPEN_PATHS:
            await self.app(scope, receive, send)
            return
        given = presented_key(scope["headers"])
        if given is None:
            await send_error(send, 401, "missing API key; send 'Authorization: Bearer <key>'", challenge=True)
        elif not hmac.compare_digest(given, self.expected):
            await send_error(send, 401, "wrong API key", challenge=True)
        else:
            await self.app(scope, receive, send)
