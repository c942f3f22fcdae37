"""The FastAPI app: `POST /predict`, `GET /health`, `GET /metrics` (Prometheus text format).

`/predict` takes `{"texts": ["...", ...]}` and answers `{"predictions": [...]}` in the same order, one record per text
as `encoderlab-predict` prints them; a classifier trained on text pairs takes `"text_pairs"` too, one second text per
text (encoded as in training, `data.encoding.encode`). Limits (texts per request, characters per text, body bytes)
answer 413/422 with a one-line `detail`; malformed JSON is 400 and wrong types 422. `/health` and `/metrics` need no
key (probes and scrapers); every other path does when the service was given one. There is no `/openapi.json` or
`/docs`: the body is parsed by hand, so the schema would say nothing useful, and an open schema would map the service
for anyone.

The middlewares, outermost first: metrics (counts every answer below it), Host allow-list (400), API key (401, from
the headers: no body byte is read for a caller without the key), body limits (413 size, 408 deadline), the app.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import BaseModel, ConfigDict, StrictStr, ValidationError

from encoderlab.inference.predictor import Predictor
from encoderlab.serving.auth import ApiKeyMiddleware
from encoderlab.serving.batcher import ContinuousBatcher
from encoderlab.serving.hosts import LOOPBACK_NAMES, TrustedHostMiddleware
from encoderlab.serving.limits import BodyLimits
from encoderlab.serving.metrics import MetricsMiddleware, ServiceMetrics

log = logging.getLogger("encoderlab.serve")
ENDPOINTS = ("/predict", "/health", "/metrics")


@dataclass
class ServeSettings:
    max_texts: int = 64  # per request
    max_chars: int = 2000  # per text
    max_body_bytes: int = 1_000_000
    batch_size: int = 64  # texts per model call (requests are batched together up to this)
    body_timeout: float = 30.0  # seconds for a request's body to arrive once its headers are in
    api_key: str | None = None
    allowed_hosts: list[str] = field(default_factory=lambda: list(LOOPBACK_NAMES))  # Host headers served; "*": any


class PredictRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    texts: list[StrictStr]
    text_pairs: list[StrictStr] | None = None


def parse_request(body: bytes) -> PredictRequest:
    """The body as a `PredictRequest`; malformed JSON is 400, anything else that doesn't fit is 422, one line."""
    try:
        return PredictRequest.model_validate_json(body)
    except ValidationError as error:
        first = error.errors()[0]
        if first.get("type") == "json_invalid":
            raise HTTPException(400, 'body is not valid JSON; send {"texts": ["..."]}') from None
        where = ".".join(str(part) for part in first.get("loc", ())) or "body"
        raise HTTPException(422, f'{where}: {first.get("msg")}; send {{"texts": ["..."]}} with strings only') from None


def check_limits(texts: list[str], settings: ServeSettings, field: str = "texts") -> None:
    if not texts:
        raise HTTPException(422, f"{field} is empty; send at least one text")
    if len(texts) > settings.max_texts:
        raise HTTPException(413, f"{len(texts)} {field} in one request; at most {settings.max_texts}, split it")
    too_long = next((i for i, text in enumerate(texts) if len(text) > settings.max_chars), None)
    if too_long is not None:
        raise HTTPException(
            413, f"{field}.{too_long} has {len(texts[too_long])} characters; at most {settings.max_chars} per text"
        )


def check_pairs(request: PredictRequest, takes_pairs: bool, settings: ServeSettings) -> None:
    pairs = request.text_pairs
    if takes_pairs and pairs is None:
        raise HTTPException(422, 'this model classifies text pairs; send {"texts": [...], "text_pairs": [...]}')
    if not takes_pairs and pairs is not None:
        raise HTTPException(422, "this model takes single texts; drop text_pairs")
    if pairs is not None:
        if len(pairs) != len(request.texts):
            raise HTTPException(422, f"{len(request.texts)} texts but {len(pairs)} text_pairs; send one per text")
        check_limits(pairs, settings, "text_pairs")


def create_app(predictor: Predictor, settings: ServeSettings) -> FastAPI:
    metrics = ServiceMetrics()

    def predict_items(items: list[Any]) -> list[Any]:
        """Items are texts, or `(text, second text)` for a pair classifier (they queue and batch as one)."""
        if not predictor.takes_pairs:
            return predictor.predict(items, settings.batch_size)
        texts, pairs = zip(*items, strict=True)
        return predictor.predict(list(texts), settings.batch_size, list(pairs))

    batcher = ContinuousBatcher(predict_items, settings.batch_size, metrics.batch_size.observe)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        batcher.start()
        log.info("ready: %s checkpoint, backend %s", predictor.kind, predictor.backend)
        yield
        await batcher.stop()
        log.info("shut down cleanly: every accepted request was answered")

    app = FastAPI(title="encoderlab", lifespan=lifespan, openapi_url=None, docs_url=None, redoc_url=None)
    app.state.metrics = metrics  # the connection guards (serving/connections.py) count into the same registry

    @app.post("/predict")
    async def predict(request: Request) -> dict[str, Any]:
        parsed = parse_request(await request.body())
        texts = parsed.texts
        check_limits(texts, settings)
        check_pairs(parsed, predictor.takes_pairs, settings)
        items = list(zip(texts, parsed.text_pairs, strict=True)) if parsed.text_pairs is not None else texts
        predictions = await batcher.submit(items)
        metrics.texts.inc(len(predictions))
        return {"predictions": predictions}

    @app.get("/health")
    async def health() -> dict[str, Any]:
        return {"status": "ok", "task": predictor.kind, "backend": predictor.backend}

    @app.get("/metrics")
    async def prometheus_metrics() -> Response:
        return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)

    # Added innermost first: each add_middleware wraps everything added before it.
    app.add_middleware(
        BodyLimits, max_bytes=settings.max_body_bytes, timeout=settings.body_timeout, body_paths=("/predict",)
    )
    app.add_middleware(ApiKeyMiddleware, api_key=settings.api_key)
    app.add_middleware(TrustedHostMiddleware, allowed_hosts=settings.allowed_hosts)
    app.add_middleware(MetricsMiddleware, metrics=metrics, endpoints=ENDPOINTS)
    return app
