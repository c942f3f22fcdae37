"""Give the memory of released request bodies back to the OS.

Bodies arrive in chunks of up to ~64 KB, below glibc's mmap threshold, so they live on the malloc heap among
longer-lived objects; once freed the heap is full of holes that glibc does not return on its own, and the process
keeps its peak size for good (300 slow 1 MB bodies: +270 MB of RSS that stayed after they were gone). `malloc_trim`
returns those free pages. It runs in a worker thread, a second after a burst of body bytes was released (by then
the last references are gone, and a burst costs one trim), at most one at a time; elsewhere than glibc it is a no-op.
"""

from __future__ import annotations

import asyncio
import ctypes
from collections.abc import Callable

TRIM_AFTER_BYTES = 8_000_000  # released since the last trim
TRIM_DELAY_SECONDS = 1.0


def _glibc_malloc_trim() -> Callable[[int], int] | None:
    try:
        return ctypes.CDLL(None).malloc_trim  # the C library the interpreter runs on
    except (OSError, AttributeError, TypeError):
        return None


class BodyMemoryReturner:
    def __init__(self, trim_after_bytes: int = TRIM_AFTER_BYTES, delay: float = TRIM_DELAY_SECONDS) -> None:
        self.trim_after_bytes = trim_after_bytes
        self.delay = delay
        self.released = 0
        self.pending = False
        self.malloc_trim = _glibc_malloc_trim()

    def released_bytes(self, count: int) -> None:
        """Note `count` body bytes no longer referenced; schedules a trim once enough have piled up."""
        self.released += count
        if self.malloc_trim is None or self.pending or self.released < self.trim_after_bytes:
            return
        try:
            asyncio.get_running_loop().call_later(self.delay, self._trim_in_thread)
            self.pending = True
        except RuntimeError:  # the loop is already gone (shutdown): the process is about to free it all anyway
            pass

    def _trim_in_thread(self) -> None:
        self.released = 0
        if self.malloc_trim is None:  # scheduled only where there is one
            return
        future = asyncio.get_running_loop().run_in_executor(None, self.malloc_trim, 0)
        future.add_done_callback(lambda _: setattr(self, "pending", False))
