"""Keep freed memory in the process instead of handing it back to the kernel after every step.

glibc serves any allocation above 32 MB (and, until its threshold adapts, far smaller ones) with a fresh `mmap`
and returns it with `munmap` when freed. A training step frees and re-allocates the same large buffers each time
(the embedding gradient of a 16k-30k vocabulary is 32-60 MB), so every step pays a page fault per 4 kB page
touched: on a 2-core CPU that was 17 % of a bert_small SST-2 step, all of it in `aten::fill_` zeroing a page-faulting
embedding gradient. Serving everything from the heap and never trimming it keeps those pages mapped; the process's
resident memory would then only ever grow: freed chunks that the next, differently sized request cannot reuse (a
masked-LM step's logits vary with the number of masked tokens) stay resident, which took a bert_mini masked-LM run
from 2.3 to 20 GB in 300 steps. `release_free_memory` (`malloc_trim`) hands those pages back; the `MemoryTrim`
callback calls it every few hundred steps and after each validation, so the rare re-fault is spread over many steps.
`ENCODERLAB_KEEP_FREED_MEMORY=0` leaves the allocator alone."""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import sys

_M_TRIM_THRESHOLD = -1
_M_MMAP_MAX = -4
_done: str | None = None
_libc: ctypes.CDLL | None = None


def keep_freed_memory() -> str:
    """Tell glibc's malloc to reuse freed memory (no mmap per large block, no trimming); say what was done."""
    global _done
    if _done is not None:
        return _done
    if os.environ.get("ENCODERLAB_KEEP_FREED_MEMORY", "1") == "0":
        _done = "system allocator unchanged (ENCODERLAB_KEEP_FREED_MEMORY=0)"
        return _done
    if not sys.platform.startswith("linux"):
        _done = "system allocator unchanged (not Linux)"
        return _done
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
        libc.malloc_trim  # noqa: B018 (only glibc has both)
    except (OSError, AttributeError):  # musl and other libcs have no mallopt
        _done = "system allocator unchanged (no glibc mallopt)"
        return _done
    ok = mallopt(_M_MMAP_MAX, 0) == 1 and mallopt(_M_TRIM_THRESHOLD, 2**31 - 1) == 1
    if ok:
        global _libc
        _libc = libc
    _done = "glibc malloc keeps freed memory (no mmap/munmap per step)" if ok else "glibc mallopt refused"
    return _done


def resident_mb() -> float:
    """This process's resident memory in MB (Linux: /proc/self/statm, a cheap read; 0.0 elsewhere)."""
    try:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    except (OSError, ValueError):
        return 0.0


def release_free_memory() -> bool:
    """Return the free pages the heap holds to the kernel (after `keep_freed_memory`); False when there is no
    glibc heap policy to undo."""
    if _libc is None:
        return False
    _libc.malloc_trim(0)
    return True
