"""The HTTP service around a predictor: FastAPI app, request limits, API-key auth, Prometheus metrics, batching.

May import: `inference`, `errors`."""
