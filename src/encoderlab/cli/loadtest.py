"""Load-test a served model on loopback: throughput and p50/p99 latency under concurrency, bounded in count and time.

`encoderlab loadtest CKPT --concurrency 8 --requests 2000 --duration 60 --output results/x.json` starts
`encoderlab serve` on a free 127.0.0.1 port (or `--url http://127.0.0.1:PORT` tests a running one), sends
`/predict` requests of `--texts-per-request` texts drawn in order from `--data`, and stops at whichever limit comes
first. Every `--bad-every`-th request is deliberately broken (malformed JSON, a wrong type, an oversize body, in
turn): each must get a 4xx and the server must stay healthy; they are counted apart from the latency figures.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import httpx

from encoderlab.cli.commands import command_parser
from encoderlab.cli.one_line_errors import one_line_errors
from encoderlab.cli.run_record import RunRecord, write_record
from encoderlab.data.table_format import read_columns
from encoderlab.errors import UserError

LOOPBACK = ("127.0.0.1", "localhost", "::1")
BAD_BODIES = (b'{"texts": ["unterminated', b'{"texts": [1, 2, 3]}', b'{"texts": ["' + b"x" * 2_000_000 + b'"]}')


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


async def run_load(url: str, texts: list[str], args: argparse.Namespace, headers: dict[bytes, bytes]) -> dict[str, Any]:
    async def send(client: httpx.AsyncClient, body: bytes, headers: dict[bytes, bytes]) -> str:
        """The status code, or the name of the transport error (a reset or timeout is counted, not raised)."""
        try:
            return str((await client.post(f"{url}/predict", content=body, headers=headers)).status_code)
        except httpx.TransportError as error:
            return type(error).__name__

    latencies: list[float] = []
    statuses: Counter[str] = Counter()
    bad_statuses: Counter[str] = Counter()
    sent = 0
    deadline = time.perf_counter() + args.duration

    async def worker(client: httpx.AsyncClient) -> None:
        nonlocal sent
        while sent < args.requests and time.perf_counter() < deadline:
            number = sent
            sent += 1
            if args.bad_every and number % args.bad_every == args.bad_every - 1:
                body = BAD_BODIES[(number // args.bad_every) % len(BAD_BODIES)]
                bad_statuses[await send(client, body, headers)] += 1
                continue
            start = (number * args.texts_per_request) % len(texts)
            batch = [texts[(start + i) % len(texts)] for i in range(args.texts_per_request)]
            started = time.perf_counter()
            status = await send(client, json.dumps({"texts": batch}).encode(), headers)
            latencies.append(time.perf_counter() - started)
            statuses[status] += 1

    limits = httpx.Limits(max_connections=args.concurrency)
    async with httpx.AsyncClient(timeout=60.0, limits=limits, headers={"content-type": "application/json"}) as client:
        started = time.perf_counter()
        await asyncio.gather(*(worker(client) for _ in range(args.concurrency)))
        elapsed = time.perf_counter() - started
        healthy = (await client.get(f"{url}/health")).status_code == 200
    ok = statuses.get("200", 0)
    return {
        "requests_sent": sent,
        "elapsed_sec": round(elapsed, 2),
        "statuses": dict(statuses),
        "bad_request_statuses": dict(bad_statuses),
        "healthy_after": healthy,
        "throughput_requests_per_sec": round(ok / elapsed, 1),
        "throughput_texts_per_sec": round(ok * args.texts_per_request / elapsed, 1),
        "latency_ms_p50": round(1000 * percentile(latencies, 0.50), 1) if latencies else None,
        "latency_ms_p99": round(1000 * percentile(latencies, 0.99), 1) if latencies else None,
        "latency_ms_mean": round(1000 * statistics.mean(latencies), 1) if latencies else None,
    }


def check_loopback(url: str) -> None:
    host = urlparse(url).hostname or ""
    if host not in LOOPBACK and not host.startswith("127."):
        raise UserError(f"--url {url} is not a loopback address; the load test only targets this machine (127.0.0.1)")


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = command_parser("loadtest", __doc__)
    parser.add_argument("checkpoint", nargs="?", help="serve this checkpoint for the test (or pass --url)")
    parser.add_argument("--url", default=None, help="a running server on loopback, e.g. http://127.0.0.1:8000")
    parser.add_argument("--backend", default="torch", help="backend of the server started for the test")
    parser.add_argument("--concurrency", type=int, default=8, help="requests in flight at once")
    parser.add_argument("--requests", type=int, default=1000, help="stop after this many requests")
    parser.add_argument("--duration", type=float, default=60.0, help="or after this many seconds")
    parser.add_argument("--texts-per-request", type=int, default=1)
    parser.add_argument("--bad-every", type=int, default=20, help="every N-th request is broken on purpose (0: none)")
    parser.add_argument("--data", default="data/sst2/validation.tsv.gz", help="texts to send (CSV/TSV/JSONL)")
    parser.add_argument("--text-column", default="sentence")
    parser.add_argument("--api-key-file", default=None, help="send the key in this file")
    parser.add_argument("--output", default=None, help="write the JSON record here")
    return parser.parse_args(argv)


@one_line_errors
def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    run = RunRecord("encoderlab loadtest", argv)
    try:
        if (args.checkpoint is None) == (args.url is None):
            raise UserError("pass a checkpoint to serve, or --url of a running server (not both)")
        if min(args.concurrency, args.requests, args.texts_per_request) < 1 or args.duration <= 0:
            raise UserError("--concurrency, --requests, --texts-per-request and --duration must be positive")
        if args.url:
            check_loopback(args.url)  # before anything is read: a wrong target is the first thing to hear about
        texts = read_columns(Path(args.data), [args.text_column])[args.text_column]
        key = Path(args.api_key_file).read_text(encoding="utf-8").strip() if args.api_key_file else None
        headers = {b"authorization": f"Bearer {key}".encode()} if key else {}  # UTF-8 bytes: a key need not be ASCII
        if args.url:
            result = asyncio.run(run_load(args.url.rstrip("/"), texts, args, headers))
        else:
            from encoderlab.serving.launch import running_server

            serve_args = ["--backend", args.backend]
            if args.api_key_file:
                serve_args += ["--api-key-file", args.api_key_file]
            with running_server(args.checkpoint, serve_args) as server:
                result = asyncio.run(run_load(server.url, texts, args, headers))
                result["server_exit_code"] = server.stop()
    except OSError as error:  # a file or the network: the user's to fix, in one line
        raise UserError(str(error)) from error
    record = {
        **run.header(),
        "checkpoint": args.checkpoint,
        "backend": args.backend if args.checkpoint else None,
        "concurrency": args.concurrency,
        "texts_per_request": args.texts_per_request,
        "wall_time_sec": run.wall_time_sec(),
        **result,
    }
    print(json.dumps(record, indent=2))
    write_record(args.output, record)
    failures = sum(n for status, n in result["statuses"].items() if status != "200")
    wrong_rejections = sum(n for status, n in result["bad_request_statuses"].items() if not status.startswith("4"))
    return 0 if result["healthy_after"] and not failures and not wrong_rejections else 1


if __name__ == "__main__":
    sys.exit(main())
