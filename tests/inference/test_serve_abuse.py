"""`encoderlab-serve` against abusive clients on 127.0.0.1: idle, slow-header and slow-body connections are cut off at
their deadlines, connections over the cap are refused, and a bounded fuzz (many connections, slow clients, malformed
requests, hang-ups, body floods with and without the key) leaves a legitimate client answered throughout, no 5xx in
/metrics, and the server's memory bounded and given back. Every loop is bounded in count and time."""

from __future__ import annotations

import asyncio
import json
import random
import re
import threading
import time
from pathlib import Path

import httpx
import pytest

from encoderlab.cli.serve import main as serve_main
from encoderlab.serving.launch import running_server
from tests.inference.raw_clients import (
    LOOPBACK,
    Outcome,
    exchange,
    hold_open,
    open_sockets,
    request_head,
    rss_bytes,
    trickle,
)

KEY = b"abuse-test-key"
CAP = 24
HEADER_TIMEOUT = 1.0
BODY_TIMEOUT = 2.0
MAX_BODY = 1_000_000
SLACK = 1.5  # seconds a loaded 2-core machine may add to a deadline
MB = 1_000_000


@pytest.fixture(scope="module")
def server(sst2_checkpoint: Path, tmp_path_factory: pytest.TempPathFactory):
    key_file = tmp_path_factory.mktemp("abuse_key") / "key.txt"
    key_file.write_bytes(KEY)
    args = ["--api-key-file", str(key_file), "--max-connections", str(CAP), "--max-body-bytes", str(MAX_BODY)]
    args += ["--header-timeout", str(HEADER_TIMEOUT), "--body-timeout", str(BODY_TIMEOUT)]
    args += ["--max-texts", "4", "--max-chars", "200", "--batch-size", "8", "--allowed-hosts", "127.0.0.1,Serve.Test"]
    with running_server(str(sst2_checkpoint), args) as process:
        yield process


def port_of(server) -> int:
    return int(server.url.rsplit(":", 1)[1])


def predict_request(texts: list[str], close: bool = True) -> bytes:
    body = json.dumps({"texts": texts}).encode()
    extra = b"connection: close\r\n" if close else b""
    return request_head(key=KEY, length=len(body), extra=extra) + body


def run(coroutine, limit: float = 30.0):
    async def bounded():
        async with asyncio.timeout(limit):
            return await coroutine

    return asyncio.run(bounded())


async def gathered(*coroutines) -> list:
    return list(await asyncio.gather(*coroutines))


def assert_cut_off_at(outcomes: list[Outcome], deadline: float) -> None:
    for outcome in outcomes:
        assert outcome.closed_after is not None, "a slow client was never cut off"
        assert deadline - 0.1 <= outcome.closed_after <= deadline + SLACK, outcome


def test_idle_and_slow_header_connections_are_closed_at_the_header_deadline(server) -> None:
    port = port_of(server)
    slow_headers = request_head(key=KEY, length=20) * 2  # longer than the deadline allows at 5 bytes a second

    async def clients():
        idle = [hold_open(port, 6) for _ in range(3)]
        slow = [trickle(port, slow_headers, 0.2, 6) for _ in range(3)]
        # a kept-alive connection: one request answered, then the next one's headers trickle in
        kept_alive = [trickle(port, slow_headers, 0.2, 6, first=b"GET /health HTTP/1.1\r\nhost: 127.0.0.1\r\n\r\n")]
        return await asyncio.gather(*idle, *slow, *kept_alive)

    outcomes = run(clients())
    assert_cut_off_at(outcomes, HEADER_TIMEOUT)
    assert outcomes[-1].statuses == [200]


def test_a_slow_body_is_answered_408_at_the_body_deadline(server) -> None:
    port = port_of(server)
    body = b'{"texts": ["' + b"a" * 100 + b'"]}'
    head = request_head(key=KEY, length=len(body))
    outcomes = run(gathered(*(trickle(port, body, 0.2, 8, first=head) for _ in range(3))))
    assert_cut_off_at(outcomes, BODY_TIMEOUT)
    assert all(outcome.statuses == [408] for outcome in outcomes)


def test_connections_over_the_cap_are_refused_and_the_cap_holds(server) -> None:
    port, pid = port_of(server), server.process.pid
    before = open_sockets(pid)
    peak = 0

    async def flood():
        nonlocal peak
        clients = [asyncio.ensure_future(hold_open(port, 5)) for _ in range(2 * CAP)]
        await asyncio.sleep(0.5)
        peak = open_sockets(pid)
        return await asyncio.gather(*clients)

    outcomes = run(flood())
    refused = [outcome for outcome in outcomes if outcome.statuses == [503]]
    assert len(refused) >= CAP, "a connection over the cap was accepted"
    assert peak <= before + CAP
    assert_cut_off_at([outcome for outcome in outcomes if outcome not in refused], HEADER_TIMEOUT)
    assert httpx.get(f"{server.url}/health").status_code == 200


def test_allowed_hosts_replaces_the_default_list(server) -> None:
    assert httpx.get(f"{server.url}/health", headers={"host": "serve.test:8000"}).status_code == 200
    assert httpx.get(f"{server.url}/health", headers={"host": "localhost"}).status_code == 400


@pytest.mark.parametrize(
    ("flag", "value"),
    [("--header-timeout", "0"), ("--body-timeout", "-1"), ("--keep-alive-timeout", "0"), ("--max-connections", "0")],
)
def test_nonpositive_deadlines_and_caps_are_one_line_errors(capsys, flag: str, value: str) -> None:
    assert serve_main(["missing.ckpt", flag, value]) == 2
    error = capsys.readouterr().err.strip()
    assert flag in error and error.count("\n") == 0


def test_an_empty_allowed_hosts_list_is_a_one_line_error(capsys) -> None:
    assert serve_main(["missing.ckpt", "--allowed-hosts", " , "]) == 2
    assert "--allowed-hosts is empty" in capsys.readouterr().err


class LegitimateClient(threading.Thread):
    """Predicts every 0.1 s on one kept-alive connection (opened before the fuzz, so it holds its place under the
    cap) and records every status and latency."""

    def __init__(self, url: str) -> None:
        super().__init__(daemon=True)
        self.url = url
        self.results: list[tuple[str, float]] = []
        self.stopping = threading.Event()

    def run(self) -> None:
        body = json.dumps({"texts": ["a charming film", "a dull one"]}).encode()
        headers = {"authorization": b"Bearer " + KEY, "content-type": "application/json"}
        with httpx.Client(timeout=10.0) as client:
            while not self.stopping.is_set() and len(self.results) < 2000:
                started = time.monotonic()
                try:
                    status = str(client.post(f"{self.url}/predict", content=body, headers=headers).status_code)
                except httpx.HTTPError as error:
                    status = type(error).__name__
                self.results.append((status, time.monotonic() - started))
                self.stopping.wait(0.1)


def malformed_requests(rng: random.Random) -> list[bytes]:
    valid = predict_request(["a charming film"])
    auth = b"authorization: Bearer " + KEY + b"\r\n"
    fixed = [
        b"\x00\x01\x02\xff not http at all\r\n\r\n",
        b"GET / HTTP/9.9\r\n\r\n",
        b"GET /health HTTP/1.1\r\nhost: 127.0.0.1\r\nx-big: " + b"a" * 20_000 + b"\r\n\r\n",
        request_head(key=KEY, extra=b"content-length: abc\r\n"),
        request_head(key=KEY, extra=b"content-length: 5\r\ncontent-length: 6\r\n") + b"hello",
        request_head(key=KEY, extra=b"transfer-encoding: chunked\r\n") + b"zz\r\nhello\r\n0\r\n\r\n",
        request_head(key=KEY, length=10, extra=b"connection: close\r\n") + b"0123456789GARBAGE\r\n\r\n",
        b"GET /health HTTP/1.0\r\n\r\n",
        b"DELETE /predict HTTP/1.1\r\nhost: 127.0.0.1\r\nconnection: close\r\n" + auth + b"\r\n",
        b"GET /predict HTTP/1.1\r\nhost: 127.0.0.1\r\nconnection: close\r\n" + auth + b"\r\n",
        request_head(key=KEY, length=6000, extra=b"connection: close\r\n") + b"[" * 6000,
        predict_request([]).replace(b'{"texts": []}', b'{"texts": ' + b"[" * 2000 + b"]" * 2000 + b"}"),
        predict_request(["\x00\u202e\U0001f600 \ufffd"]),
        request_head(key=KEY, length=14, extra=b"connection: close\r\n") + b'{"texts": "\xff\xfe"}'[:14],
        request_head(key=KEY, length=12, extra=b"connection: close\r\nexpect: 100-continue\r\n") + b'{"texts": 1}',
        valid.replace(b"content-length: ", b"content-length: 9"),  # declares more than it sends, then waits
    ]
    fuzzed = []
    for _ in range(100):
        body = bytearray(json.dumps({"texts": ["a film", "x" * rng.randint(0, 250)][: rng.randint(0, 2)]}).encode())
        for _ in range(rng.randint(0, 4)):
            if body:
                body[rng.randrange(len(body))] = rng.randrange(256)
        if rng.random() < 0.3:
            body = bytearray(rng.randbytes(rng.randint(0, 300)))
        head = request_head(key=KEY if rng.random() < 0.8 else None, length=len(body), extra=b"connection: close\r\n")
        if rng.random() < 0.2:
            cut = rng.randrange(len(head))
            head = head[:cut] + rng.randbytes(rng.randint(1, 20)) + head[cut:]
        fuzzed.append(head + bytes(body))
    return fixed + fuzzed


async def in_batches(coroutines: list, size: int) -> list:
    results = []
    for start in range(0, len(coroutines), size):
        results += await asyncio.gather(*coroutines[start : start + size])
    return results


async def body_flood(port: int, key: bytes | None, connections: int, sent_bytes: int) -> None:
    """`connections` clients each declare a full-size body, send `sent_bytes` of it as fast as they can, and hang up."""

    async def one() -> None:
        try:
            _, writer = await asyncio.open_connection(LOOPBACK, port)
        except OSError:
            return
        try:
            async with asyncio.timeout(10):
                writer.write(request_head(key=key, length=MAX_BODY))
                chunk = b"x" * 65536
                for _ in range(sent_bytes // len(chunk)):
                    writer.write(chunk)
                    await writer.drain()
                await asyncio.sleep(0.3)
        except (ConnectionError, TimeoutError):
            pass
        finally:
            writer.close()

    await asyncio.gather(*(one() for _ in range(connections)))


def metric_samples(url: str) -> dict[str, float]:
    text = httpx.get(f"{url}/metrics", timeout=10).text
    return {name: float(value) for name, value in re.findall(r"^(encoderlab_\S+_total\S*) (\S+)$", text, re.M)}


def test_bounded_fuzz_leaves_the_server_responsive_bounded_and_without_5xx(server) -> None:
    port, pid = port_of(server), server.process.pid
    started = time.monotonic()
    legit = LegitimateClient(server.url)
    legit.start()
    while not legit.results and time.monotonic() - started < 10:
        time.sleep(0.05)
    assert legit.results and legit.results[0][0] == "200", legit.results
    rss_before, sockets_before = rss_bytes(pid), open_sockets(pid)
    rss_peak = rss_before
    rng = random.Random(14)

    async def fuzz() -> dict:
        nonlocal rss_peak
        slow_headers = request_head(key=KEY, length=20) * 2
        body = b'{"texts": ["' + b"b" * 100 + b'"]}'
        slow = await asyncio.gather(
            *(hold_open(port, 6) for _ in range(4)),
            *(trickle(port, slow_headers, 0.2, 6) for _ in range(4)),
            *(trickle(port, body, 0.2, 8, first=request_head(key=KEY, length=len(body))) for _ in range(4)),
        )
        crowd = [asyncio.ensure_future(hold_open(port, 5)) for _ in range(2 * CAP)]
        await asyncio.sleep(0.5)
        sockets_at_cap = open_sockets(pid)
        crowd = await asyncio.gather(*crowd)
        payloads = malformed_requests(rng)
        answers = await in_batches([exchange(port, payload, 4) for payload in payloads], 12)
        malformed = list(zip(payloads, answers, strict=True))
        whole = predict_request(["a charming film"])
        hang_ups = [exchange(port, whole[: rng.randrange(1, len(whole) + 1)], then_close=True) for _ in range(40)]
        await in_batches(hang_ups, 10)
        rss_rounds = []
        for _ in range(3):  # each round sends ~100 MB of bodies that are never finished
            flood = asyncio.gather(body_flood(port, KEY, 2 * CAP, 900_000), body_flood(port, None, 2 * CAP, 900_000))
            while not flood.done():
                rss_peak = max(rss_peak, rss_bytes(pid))
                await asyncio.wait([flood], timeout=0.05)
            await asyncio.sleep(2.0)  # the deadlines have closed every leftover; the freed bodies are trimmed
            rss_rounds.append(rss_bytes(pid))
        return {"slow": slow, "crowd": crowd, "sockets": sockets_at_cap, "malformed": malformed, "rss": rss_rounds}

    found = run(fuzz(), limit=45)
    legit.stopping.set()
    legit.join(15)
    assert time.monotonic() - started < 60

    statuses = [status for status, _ in legit.results]
    assert set(statuses) == {"200"}, f"the legitimate client was failed: {statuses}"
    assert len(statuses) >= 50 and max(latency for _, latency in legit.results) < 5.0

    assert_cut_off_at(found["slow"][:8], HEADER_TIMEOUT)
    assert_cut_off_at(found["slow"][8:], BODY_TIMEOUT)
    assert sum(outcome.statuses == [503] for outcome in found["crowd"]) >= CAP - 1  # the legit client holds a slot
    assert found["sockets"] <= sockets_before + CAP  # sockets_before has the legit client's already

    for payload, outcome in found["malformed"]:
        assert all(status < 500 for status in outcome.statuses), (payload[:300], outcome)
        # answered (and kept alive if it asked to be), or closed: never left hanging without a word
        assert outcome.statuses or outcome.closed_after is not None, (payload[:300], outcome)

    # 2 x 48 connections x 900 kB per round: unbounded buffering would hold ~85 MB; the cap allows ~24 MB at once
    assert rss_peak - rss_before < 60 * MB, (rss_before, rss_peak)
    assert max(found["rss"]) - rss_before < 20 * MB, (rss_before, found["rss"])  # given back between rounds

    samples = metric_samples(server.url)
    server_errors = {name: n for name, n in samples.items() if re.search(r'status="5\d\d"', name)}
    assert not server_errors, server_errors
    assert samples.get('encoderlab_requests_total{endpoint="/predict",status="499"}', 0) > 0
    assert samples.get('encoderlab_requests_total{endpoint="/predict",status="408"}', 0) > 0
    assert samples.get('encoderlab_dropped_connections_total{reason="over_capacity"}', 0) > 0
    assert samples.get('encoderlab_dropped_connections_total{reason="header_timeout"}', 0) > 0
    assert httpx.get(f"{server.url}/health").status_code == 200
    assert "Traceback" not in "\n".join(server.output)
