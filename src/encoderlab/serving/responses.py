"""The one-line JSON errors that the ASGI middlewares answer with before the app sees a request."""

from __future__ import annotations

import json
from typing import Any


async def send_error(send: Any, status: int, detail: str, close: bool = False, challenge: bool = False) -> None:
    """`{"detail": ...}` with `status`; `close` ends the connection after it (a body left unread, a deadline)."""
    body = json.dumps({"detail": detail}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    if close:
        headers.append((b"connection", b"close"))
    if challenge:
        headers.append((b"www-authenticate", b"Bearer"))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
