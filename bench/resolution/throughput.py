"""Timing the resolver: building its index, the exact-name path on names drawn from the
gazetteer itself, and a realistic mix of source references, each repeated and reported as
min and median with the call rates they give, plus the process's peak memory. It exists to
keep the clock-dependent, noisy measurements (reported, never asserted) apart from the
accuracy figures, with the clock injectable so the arithmetic can be tested."""

from __future__ import annotations

import gc
import random
import resource
import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any

import pandas as pd

from assets.resolve import Resolution, Resolver
from bench.resolution.scoring import METHODS, call_arguments
from bench.resolution.sources import Reference

THROUGHPUT_THRESHOLD = "cities500"
EXACT_CALLS = 200_000
MIX_CALLS = 20_000
REPEATS = 3
# The index is built once per threshold (as the pipeline does); --build-repeats times it more.
BUILD_REPEATS = 1
SEED = 20_250_601


def timings(seconds: Sequence[float], calls: int | None = None) -> dict[str, Any]:
    """Min and median of repeated timings, and the call rates they give."""
    result: dict[str, Any] = {
        "runs": len(seconds),
        "seconds": [round(s, 4) for s in seconds],
        "seconds_min": round(min(seconds), 4),
        "seconds_median": round(statistics.median(seconds), 4),
    }
    if calls is not None:
        result["calls"] = calls
        result["per_second_best"] = round(calls / min(seconds))
        result["per_second_median"] = round(calls / statistics.median(seconds))
    return result


def build_resolver(
    gazetteer: pd.DataFrame, countries: pd.DataFrame, repeats: int = BUILD_REPEATS
) -> tuple[Resolver, dict[str, Any]]:
    """Build the index `repeats` times (each timed); keep the last one, frozen out of the
    garbage collector's walks as the pipeline and the CLI keep theirs (Resolver.freeze)."""
    seconds = []
    resolver: Resolver | None = None
    for _ in range(repeats):
        resolver = None
        gc.collect()
        start = time.perf_counter()
        resolver = Resolver.from_frames(gazetteer, countries)
        seconds.append(time.perf_counter() - start)
    assert resolver is not None
    return resolver.freeze(), timings(seconds)


def exact_path_references(gazetteer: pd.DataFrame, count: int, seed: int = SEED) -> list[Reference]:
    """`count` references drawn (with replacement, fixed seed) from the gazetteer's own
    names with their country: the path where the exact-name tier answers."""
    pairs = [
        (name, country)
        for name, country in zip(gazetteer["name"], gazetteer["country_code"], strict=True)
        if isinstance(name, str) and name and isinstance(country, str)
    ]
    rng = random.Random(seed)
    return [
        Reference("gazetteer", str(n), *pair) for n, pair in enumerate(rng.choices(pairs, k=count))
    ]


def repeat_to(references: Sequence[Reference], count: int) -> list[Reference]:
    """The references cycled until there are `count` of them."""
    if not references:
        return []
    return [references[n % len(references)] for n in range(count)]


def time_calls(
    resolver: Resolver,
    references: Sequence[Reference],
    use_coordinates: bool,
    repeats: int = REPEATS,
    clock: Callable[[], float] = time.perf_counter,
) -> dict[str, Any]:
    """Resolve all references `repeats` times, timing each pass; methods of the last pass.

    The arguments are laid out before the clock starts, so the figure is the resolver's
    cost, as a caller holding its own rows would see it, not the harness's."""
    calls = [call_arguments(r, use_coordinates) for r in references]
    resolve = resolver.resolve
    seconds = []
    results: list[Resolution] = []
    for _ in range(repeats):
        start = clock()
        results = [resolve(*arguments) for arguments in calls]
        seconds.append(clock() - start)
    result = timings(seconds, len(references))
    methods = Counter(r.method for r in results)
    result["methods"] = {m: methods[m] for m in METHODS if methods[m]}
    return result


def peak_memory_mb() -> float:
    """The process's peak resident set size so far, in MiB."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return round(peak / (1024 * 1024 if sys.platform == "darwin" else 1024), 1)
