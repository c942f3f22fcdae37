"""Request-body size limit as plain ASGI middleware: it counts the bytes as they arrive, so neither a false
`Content-Length` nor a chunked body without one can push more than `max_bytes` into the app.

An oversize body up to `DRAIN_FACTOR` times the limit is read to its end and dropped before the 413 goes out: a
client still busy sending would otherwise see the connection reset instead of the answer. Beyond that the 413 is
sent at once and the connection closed.
"""

from __future__ import annotations

import json
from typing import Any

Scope = dict[str, Any]
DRAIN_FACTOR = 8


class BodySizeLimit:
    def __init__(self, app: Any, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            if int(declared) <= DRAIN_FACTOR * self.max_bytes:
                await self._drain(receive, 0)
            await self._reject(send)
            return
        # Read the whole (bounded) body first, then replay it: the app never sees a partial request.
        chunks, size = [], 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                if message.get("more_body", False):
                    await self._drain(receive, size)
                await self._reject(send)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        replayed = False

        async def replay() -> dict[str, Any]:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()  # after the body: wait for the disconnect, as the server would report it

        await self.app(scope, replay, send)

    async def _drain(self, receive: Any, size: int) -> None:
        while size <= DRAIN_FACTOR * self.max_bytes:
            message = await receive()
            size += len(message.get("body", b""))
            if message["type"] != "http.request" or not message.get("more_body", False):
                return

    async def _reject(self, send: Any) -> None:
        detail = json.dumps({"detail": f"request body over {self.max_bytes} bytes; send fewer or shorter texts"})
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [(b"content-type", b"application/json"), (b"connection", b"close")],
            }
        )
        await send({"type": "http.response.body", "body": detail.encode()})
