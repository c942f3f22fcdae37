"""Start `encoderlab-serve` as a child process on a free loopback port and stop it gracefully (the load test and
the tests talk to a real server process, not an in-process app)."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import IO

import httpx

LISTENING = re.compile(r"listening on (http://\S+)")


@dataclass
class ServerProcess:
    process: subprocess.Popen
    url: str = ""
    output: list[str] = field(default_factory=list)  # every line it printed (stdout and stderr)

    def stop(self, timeout: float = 30.0) -> int:
        """SIGTERM (graceful shutdown), then SIGKILL if it hangs; returns the exit code."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.process.returncode


def _collect(output: IO[str], lines: list[str]) -> None:
    for line in output:
        lines.append(line.rstrip("\n"))


@contextmanager
def running_server(
    checkpoint: str, args: Sequence[str] = (), env: dict[str, str] | None = None, timeout: float = 120.0
) -> Iterator[ServerProcess]:
    command = [sys.executable, "-m", "encoderlab.cli.serve", checkpoint, "--port", "0", *args]
    process = subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, **(env or {})},
    )
    server = ServerProcess(process)
    threading.Thread(target=_collect, args=(process.stdout, server.output), daemon=True).start()
    try:
        server.url = _wait_until_healthy(server, timeout)
        yield server
    finally:
        server.stop()


def _wait_until_healthy(server: ServerProcess, timeout: float) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError("the server exited on start:\n" + "\n".join(server.output[-20:]))
        found = next((m.group(1) for line in list(server.output) if (m := LISTENING.search(line))), None)
        if found:
            try:
                if httpx.get(f"{found}/health", timeout=2.0).status_code == 200:
                    return found
            except httpx.TransportError:
                pass
        time.sleep(0.2)
    raise RuntimeError(f"the server did not answer /health within {timeout:.0f} s:\n" + "\n".join(server.output[-20:]))
