"""Timing the two stages of the Wikidata path on one size of the crawl: parsing the stored
twinning pages into the statements frame, and building the agreements from it. It exists to
keep the clock (injectable, so tests can count without timing) apart from the conversion and
the report; timings are reported, never asserted."""

from __future__ import annotations

import gc
import time
from collections.abc import Callable, Sequence
from typing import Any

import pandas as pd

from assets.build import Built
from assets.build_wikidata import build_agreements
from assets.sources.wikidata import (
    PAGE_SIZE,
    Fetched,
    Statement,
    parse_sparql_json,
    statements_frame,
    twinning_statements,
)
from bench.resolution.throughput import peak_memory_mb, timings
from bench.wikidata.crawl import SNAPSHOT_ID, Crawl, places, scaled, sparql_pages

REPEATS = 3
FACTORS = (1, 10)
# The crawl has no end dates, so the year only has to be a plausible one.
THIS_YEAR = 2016


def parse_pages(pages: Sequence[bytes], snapshot_id: str = SNAPSHOT_ID) -> pd.DataFrame:
    """Stage (a), as read_bundle and the parsed_wikidata asset do it for twinning pages:
    each page parsed and its statements kept by id (a statement on two pages counts once),
    then the statements frame with its snapshot_id."""
    statements: dict[str, Statement] = {}
    for number, body in enumerate(pages, start=1):
        where = f"twinning page {number}"
        for statement in twinning_statements(parse_sparql_json(body, where), where):
            statements[statement.statement_id] = statement
    fetched = Fetched(list(statements.values()), {}, {})
    return statements_frame(fetched).assign(snapshot_id=snapshot_id)


def build(statements: pd.DataFrame, place_frame: pd.DataFrame) -> Built:
    """Stage (b): the agreements of the statements, nothing existing from other sources."""
    return build_agreements(statements, place_frame, THIS_YEAR)


def timed(
    stage: Callable[[], Any], repeats: int, clock: Callable[[], float] = time.perf_counter
) -> tuple[Any, list[float]]:
    """Run `stage` `repeats` times, each after a full collection (not timed), so garbage
    left by the previous run is not charged to the next; returns the last result."""
    if repeats < 1:
        raise ValueError(f"repeats must be at least 1, not {repeats}")
    seconds = []
    result: Any = None
    for _ in range(repeats):
        result = None
        gc.collect()
        start = clock()
        result = stage()
        seconds.append(clock() - start)
    return result, seconds


def measure_size(
    crawl: Crawl,
    factor: int,
    repeats: int = REPEATS,
    page_size: int = PAGE_SIZE,
    clock: Callable[[], float] = time.perf_counter,
) -> dict[str, Any]:
    """Convert `factor` copies of the crawl (timed once, reported apart: it is the harness,
    not the path), then time both stages `repeats` times. The counts come from the last
    run of each stage; peak memory is the process's so far."""
    start = clock()
    copies = scaled(crawl, factor)
    pages = sparql_pages(copies.relations, page_size)
    place_frame = places(copies)
    convert_seconds = clock() - start

    statements, parse_seconds = timed(lambda: parse_pages(pages), repeats, clock)
    built, build_seconds = timed(lambda: build(statements, place_frame), repeats, clock)
    table, rejected = built.table, built.rejected
    rules = rejected["rule"].value_counts().sort_index() if len(rejected) else pd.Series()
    result = {
        "factor": factor,
        "directed_rows": len(copies.relations),
        "items": len(place_frame),
        "pages": len(pages),
        "page_megabytes": round(sum(len(p) for p in pages) / 2**20, 1),
        "convert_seconds": round(convert_seconds, 3),
        "statements": len(statements),
        "agreements": len(table),
        "reciprocal": int(table["is_reciprocal"].sum()) if len(table) else 0,
        "rejected": len(rejected),
        "rejected_by_rule": {str(k): int(v) for k, v in rules.items()},
        "parse": timings(parse_seconds, len(statements)),
        "build": timings(build_seconds, len(statements)),
        "peak_memory_mb": peak_memory_mb(),
    }
    return result


def ratios(small: dict[str, Any], large: dict[str, Any]) -> dict[str, Any]:
    """Each stage's time at the large size over the small, min and median; linear scaling
    gives the size ratio (the target: at most that)."""
    size = large["statements"] / small["statements"] if small["statements"] else None
    result: dict[str, Any] = {"size_ratio": None if size is None else round(size, 2)}
    for stage in ("parse", "build"):
        for figure in ("seconds_min", "seconds_median"):
            low, high = small[stage][figure], large[stage][figure]
            result[f"{stage}_{figure}"] = round(high / low, 2) if low else None
    return result
