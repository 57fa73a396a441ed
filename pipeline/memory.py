"""Handing memory a finished step freed back to the operating system.

Both allocators a build uses keep what is freed for later use: Arrow's pool (mimalloc),
which holds the string columns of every pandas frame, and the C library's heap, which
holds Python's objects. In one process that runs every step, each keeps its own peak, so
a step that needs Python objects cannot use what an earlier step freed in Arrow's pool:
after Wikidata's agreements at 100 times the recorded sources, Arrow's pool still held
1.6 GB the step had freed, and the C library's heap 0.2 GB more. Imports no Dagster.
"""

from __future__ import annotations

import ctypes
import gc
import math
import os
from collections.abc import Callable
from functools import cache
from pathlib import Path
from time import perf_counter

import pyarrow as pa


@cache
def _malloc_trim() -> Callable[[int], int] | None:
    """glibc's malloc_trim, from the symbols already loaded into the process (looking
    libc up by name would start a subprocess), or None without it (macOS, musl)."""
    try:
        return ctypes.CDLL(None).malloc_trim
    except (OSError, AttributeError):
        return None


# A full collection walks every live object. In a build that is a few hundredths of a
# second once the resolver's index is frozen (gc.freeze), so it runs after every step: at
# 100 times the recorded sources each step leaves gigabytes only a collection frees. In a
# process full of objects it costs more (about 0.1 s in a build before the freeze, more in
# a test session, 55 steps a build); there it runs only once the process has grown by
# COLLECT_AFTER_GROWTH_BYTES since the last one, when a finished step's tables are worth
# finding.
CHEAP_COLLECTION_SECONDS = 0.05
COLLECT_AFTER_GROWTH_BYTES = 256 << 20


def resident_bytes() -> int | None:
    """This process's resident memory, or None where /proc does not say (not Linux)."""
    try:
        pages = int(Path("/proc/self/statm").read_text().split()[1])
    except (OSError, IndexError, ValueError):
        return None
    return pages * os.sysconf("SC_PAGE_SIZE")


class MemoryRelease:
    """Remembers what the last collection cost and the smallest resident size since, so
    that a process where collecting is dear and which is not growing is not walked again
    after every step."""

    def __init__(self) -> None:
        self.low = 0
        self.cost = math.inf  # unknown until one is timed: growth decides the first

    def __call__(self) -> bool:
        """Collect cyclic garbage if the last collection was cheap, or the process has
        grown by COLLECT_AFTER_GROWTH_BYTES since it (or its size is unknown); then return
        the memory freed so far to the operating system. Live data is untouched. Say
        whether it collected. A finished step's context refers to itself and holds the
        step's outputs, so without a collection its tables wait for the cyclic collector,
        which in a long step may not run for many steps."""
        resident = resident_bytes()
        collect = (
            resident is None
            or self.cost <= CHEAP_COLLECTION_SECONDS
            or resident - self.low >= COLLECT_AFTER_GROWTH_BYTES
        )
        if collect:
            start = perf_counter()
            gc.collect()
            self.cost = perf_counter() - start
        pa.default_memory_pool().release_unused()
        trim = _malloc_trim()
        if trim is not None:
            trim(0)
        after = resident_bytes() or 0
        self.low = after if collect else min(self.low, after)
        return collect


release_memory = MemoryRelease()
"""The process's one MemoryRelease, which the jobs' hook calls after every step."""
