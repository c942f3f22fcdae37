"""Connection-level guards that uvicorn lacks, as a subclass of its h11 protocol: a cap on open connections and a
deadline for a request's headers (slowloris).

uvicorn's own `timeout_keep_alive` only covers idle time between requests and is reset by every byte received, so a
client trickling a header a byte at a time holds a connection for ever; ASGI middleware cannot help, as it runs only
once the headers are complete. Here each connection must deliver a request's complete headers within
`header_timeout` seconds, counted from the moment it opens (first request) or from the first byte after the previous
response (later requests on a kept-alive connection: the idle time between is uvicorn's keep-alive timeout's), else
it is closed. The same clock covers the rest of a body the app left unread (after a 401, say): until the next
request's headers arrive the connection is on it. `limit_concurrency` in uvicorn still accepts and holds every
connection and answers 503 only once a request arrives; here a connection over `max_connections` is answered 503
and closed as soon as it is accepted, so open connections, and the bodies they can buffer, stay bounded.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

from uvicorn.protocols.http.h11_impl import H11Protocol

from encoderlab.serving.memory import BodyMemoryReturner
from encoderlab.serving.metrics import ServiceMetrics

OVER_CAPACITY_DETAIL = json.dumps({"detail": "too many open connections; retry shortly"}).encode()
OVER_CAPACITY = (
    b"HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\nretry-after: 1\r\nconnection: close\r\n"
    + f"content-length: {len(OVER_CAPACITY_DETAIL)}\r\n\r\n".encode()
    + OVER_CAPACITY_DETAIL
)


@dataclass(frozen=True)
class ConnectionLimits:
    max_connections: int = 64
    header_timeout: float = 10.0  # seconds for a request's headers to arrive


def guarded_protocol(limits: ConnectionLimits, metrics: ServiceMetrics) -> Callable[..., H11Protocol]:
    """What uvicorn's `http=` takes: it calls it as `(config=..., server_state=..., app_state=...)` per connection."""
    return partial(GuardedH11Protocol, limits=limits, metrics=metrics, memory=BodyMemoryReturner())


class GuardedH11Protocol(H11Protocol):
    """uvicorn's h11 protocol plus the connection cap and the header deadline. It also tells `memory` how many bytes
    each request brought in once answered, so that bursts of bodies are given back to the OS."""

    def __init__(
        self, *args: Any, limits: ConnectionLimits, metrics: ServiceMetrics, memory: BodyMemoryReturner, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.limits = limits
        self.metrics = metrics
        self.memory = memory
        self.unreported_bytes = 0
        self.refused = False
        self.between_requests = True  # no request's headers in yet: the next byte starts the header clock
        self.header_deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        if len(self.connections) >= self.limits.max_connections:
            self.refused = True
            self.transport = transport
            self.metrics.dropped_connections.labels("over_capacity").inc()
            transport.write(OVER_CAPACITY)
            transport.close()
            return
        super().connection_made(transport)
        self.metrics.open_connections.inc()
        self._start_header_clock()

    def connection_lost(self, exc: Exception | None) -> None:
        if self.refused:
            return
        self._stop_header_clock()
        self.metrics.open_connections.dec()
        super().connection_lost(exc)
        self._report_released_bytes()

    def data_received(self, data: bytes) -> None:
        if self.refused:
            return
        if self.between_requests and self.header_deadline is None:
            self._start_header_clock()
        self.unreported_bytes += len(data)
        super().data_received(data)

    def handle_events(self) -> None:
        cycle = self.cycle
        super().handle_events()
        if self.cycle is not cycle:  # a request's headers are complete: the body has its own deadline (BodyLimits)
            self.between_requests = False
            self._stop_header_clock()

    def on_response_complete(self) -> None:
        self.between_requests = True  # set first: the parent may go straight on to a pipelined request
        self._report_released_bytes()
        super().on_response_complete()

    def _report_released_bytes(self) -> None:
        self.memory.released_bytes(self.unreported_bytes)
        self.unreported_bytes = 0

    def _start_header_clock(self) -> None:
        self.header_deadline = self.loop.call_later(self.limits.header_timeout, self._header_deadline_passed)

    def _stop_header_clock(self) -> None:
        if self.header_deadline is not None:
            self.header_deadline.cancel()
            self.header_deadline = None

    def _header_deadline_passed(self) -> None:
        self.header_deadline = None
        if not self.transport.is_closing():
            self.metrics.dropped_connections.labels("header_timeout").inc()
            self.transport.close()
