"""Prometheus metrics in a registry of the app's own (two apps in one process never share counters), and the
middleware that counts every response by endpoint and status.

A client that hangs up before its answer is counted as status `499` (nginx's "client closed request"), never as a
5xx: the error rate that alerts read is the server's own, and no client can inflate it by dropping connections.
"""

from __future__ import annotations

import time
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256)
CLIENT_CLOSED = "499"


class ServiceMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "encoderlab_requests",
            "HTTP requests by endpoint and status (499: the client hung up before the answer)",
            ["endpoint", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "encoderlab_request_latency_seconds",
            "Time from request to response, by endpoint",
            ["endpoint"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.texts = Counter("encoderlab_predicted_texts", "Texts predicted", registry=self.registry)
        self.batch_size = Histogram(
            "encoderlab_batch_texts", "Texts per model call", buckets=BATCH_BUCKETS, registry=self.registry
        )
        self.open_connections = Gauge("encoderlab_open_connections", "Open HTTP connections", registry=self.registry)
        self.dropped_connections = Counter(
            "encoderlab_dropped_connections",
            "Connections the server closed on a client: over_capacity (refused at the cap), header_timeout",
            ["reason"],
            registry=self.registry,
        )


class MetricsMiddleware:
    """Counts every response (including the 4xx of the middlewares inside it) and times it, by endpoint."""

    def __init__(self, app: Any, metrics: ServiceMetrics, endpoints: tuple[str, ...]) -> None:
        self.app = app
        self.metrics = metrics
        self.endpoints = endpoints

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        endpoint = scope["path"] if scope["path"] in self.endpoints else "other"
        status: str | None = None
        hung_up = False
        started = time.perf_counter()

        async def watch_disconnect() -> dict:
            nonlocal hung_up
            message = await receive()
            hung_up = hung_up or message["type"] == "http.disconnect"
            return message

        async def record_status(message: dict) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = str(message["status"])
            await send(message)

        try:
            await self.app(scope, watch_disconnect, record_status)
        except BaseException:
            status = status or "500"
            raise
        finally:
            if status is None:  # no answer: the client left first, or the app returned without one (a bug: 500)
                status = CLIENT_CLOSED if hung_up else "500"
            self.metrics.latency.labels(endpoint).observe(time.perf_counter() - started)
            self.metrics.requests.labels(endpoint, status).inc()
