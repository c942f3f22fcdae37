"""Raw-socket HTTP clients for abusing a server on 127.0.0.1 (slow, hanging-up, malformed), and what the server
process holds (RSS, open sockets) read from /proc. Every operation has a time limit; nothing connects elsewhere."""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import time
from dataclasses import dataclass

LOOPBACK = "127.0.0.1"
STATUS_LINE = re.compile(rb"HTTP/1\.[01] (\d{3})")


@dataclass
class Outcome:
    """What a raw client saw: the statuses it read, and when (seconds after connecting) the server closed on it."""

    statuses: list[int]
    closed_after: float | None  # None: still open when the client gave up


def request_head(key: bytes | None = None, length: int | None = None, extra: bytes = b"") -> bytes:
    """A `POST /predict` head: the key as a Bearer token, a `content-length`, any `extra` header lines."""
    head = b"POST /predict HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\n"
    if key is not None:
        head += b"authorization: Bearer " + key + b"\r\n"
    if length is not None:
        head += b"content-length: " + str(length).encode() + b"\r\n"
    return head + extra + b"\r\n"


def statuses_in(data: bytes) -> list[int]:
    return [int(code) for code in STATUS_LINE.findall(data)]


async def exchange(port: int, payload: bytes, limit: float = 5.0, then_close: bool = False) -> Outcome:
    """Send `payload` at once, then read until the server closes (or `limit`); `then_close`: hang up right away."""
    started = time.monotonic()
    reader, writer = await asyncio.open_connection(LOOPBACK, port)
    received = b""
    try:
        writer.write(payload)
        await writer.drain()
        if then_close:
            return Outcome([], None)
        async with asyncio.timeout(limit):
            while chunk := await reader.read(65536):
                received += chunk
        return Outcome(statuses_in(received), time.monotonic() - started)
    except TimeoutError:
        return Outcome(statuses_in(received), None)
    except ConnectionError:
        return Outcome(statuses_in(received), time.monotonic() - started)
    finally:
        writer.close()


async def trickle(port: int, payload: bytes, interval: float, limit: float, first: bytes = b"") -> Outcome:
    """Send `first` at once, then `payload` one byte per `interval` seconds (a slow client), until the server cuts
    it off or `limit` seconds have passed."""
    started = time.monotonic()
    reader, writer = await asyncio.open_connection(LOOPBACK, port)
    received = b""
    try:
        writer.write(first)
        for byte in payload:
            if time.monotonic() - started > limit:
                break
            writer.write(bytes([byte]))
            await writer.drain()
            try:
                chunk = await asyncio.wait_for(reader.read(65536), interval)
            except TimeoutError:
                continue
            if not chunk:
                return Outcome(statuses_in(received), time.monotonic() - started)
            received += chunk
        return Outcome(statuses_in(received), None)
    except ConnectionError:
        return Outcome(statuses_in(received), time.monotonic() - started)
    finally:
        writer.close()


async def hold_open(port: int, limit: float) -> Outcome:
    """Connect and send nothing (an idle connection); `closed_after` says when the server dropped it."""
    return await exchange(port, b"", limit)


def rss_bytes(pid: int) -> int:
    with open(f"/proc/{pid}/status") as status:
        line = next(line for line in status if line.startswith("VmRSS:"))
    return int(line.split()[1]) * 1024


def open_sockets(pid: int) -> int:
    count = 0
    for fd in os.listdir(f"/proc/{pid}/fd"):
        with contextlib.suppress(OSError):  # closed between listing and reading
            count += os.readlink(f"/proc/{pid}/fd/{fd}").startswith("socket:")
    return count
