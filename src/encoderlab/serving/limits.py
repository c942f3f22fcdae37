"""Request-body limits as plain ASGI middleware: a size limit counted as the bytes arrive, so neither a false
`Content-Length` nor a chunked body without one can push more than `max_bytes` into the app, and a deadline for the
whole body, so a client trickling it byte by byte cannot hold a connection (and the bytes it sent) for ever.

An oversize body up to `DRAIN_FACTOR` times the limit is read to its end and dropped before the 413 goes out: a
client still busy sending would otherwise see the connection reset instead of the answer. Beyond that the 413 is
sent at once and the connection closed. A body not complete within `timeout` seconds of its headers gets a 408 and
the connection is closed; what it had sent is dropped with it.
"""

from __future__ import annotations

import asyncio
from typing import Any

from encoderlab.serving.responses import send_error

Scope = dict[str, Any]
DRAIN_FACTOR = 8


class BodyTooLarge(Exception):
    pass


class BodyLimits:
    """Reads and checks the bodies of `body_paths` only: elsewhere no handler reads one, and none is buffered (the
    key check lets probes through to `/health`: a body sent there must not cost the server its size)."""

    def __init__(self, app: Any, max_bytes: int, timeout: float, body_paths: tuple[str, ...]) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.timeout = timeout
        self.body_paths = body_paths

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["path"] not in self.body_paths:
            await self.app(scope, receive, send)
            return
        try:
            async with asyncio.timeout(self.timeout):
                body = await self._read(scope, receive)
        except TimeoutError:
            detail = f"request body not complete within {self.timeout:g} s; send it at once (or raise --body-timeout)"
            await send_error(send, 408, detail, close=True)
            return
        except BodyTooLarge:
            await send_error(send, 413, f"request body over {self.max_bytes} bytes; send fewer or shorter texts", True)
            return
        if body is None:  # the client hung up
            return
        replayed = False

        async def replay() -> dict[str, Any]:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()  # after the body: wait for the disconnect, as the server would report it

        await self.app(scope, replay, send)

    async def _read(self, scope: Scope, receive: Any) -> bytes | None:
        """The whole body, or `None` if the client hung up; `BodyTooLarge` past `max_bytes`, after draining the rest
        when that is cheap (so that the client reads the 413)."""
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            if int(declared) <= DRAIN_FACTOR * self.max_bytes:
                await self._drain(receive, 0)
            raise BodyTooLarge
        chunks, size = [], 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return None
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                if message.get("more_body", False):
                    await self._drain(receive, size)
                raise BodyTooLarge
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks)

    async def _drain(self, receive: Any, size: int) -> None:
        while size <= DRAIN_FACTOR * self.max_bytes:
            message = await receive()
            size += len(message.get("body", b""))
            if message["type"] != "http.request" or not message.get("more_body", False):
                return
