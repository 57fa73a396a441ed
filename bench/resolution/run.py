"""Running the benchmark end to end: the command line, the loop over gazetteer thresholds
(build each resolver, measure every source against it, print it), the throughput run against
the last resolver, and the JSON report. It exists to wire the other modules together; what
the benchmark measures and why is told in the package docstring (bench/resolution/__init__.py)."""

from __future__ import annotations

import argparse
import gc
import json
import sys
import time
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

import bench.resolution
from assets.resolve import Resolver
from bench.resolution.report import (
    format_table,
    print_source,
    print_summary,
    print_throughput,
    summary_rows,
)
from bench.resolution.scoring import CORRECT_KM, LISTED_FAILURES, measure
from bench.resolution.sources import (
    PROJECT_ROOT,
    Source,
    load_countries,
    load_gazetteer,
    load_sources,
    place_names,
)
from bench.resolution.throughput import (
    BUILD_REPEATS,
    EXACT_CALLS,
    MIX_CALLS,
    SEED,
    THROUGHPUT_THRESHOLD,
    build_resolver,
    exact_path_references,
    peak_memory_mb,
    repeat_to,
    time_calls,
)

DEFAULT_DATA = PROJECT_ROOT.parent / "shared" / "data"
DEFAULT_JSON = PROJECT_ROOT / "bench" / "resolution.json"

THRESHOLDS = ("cities15000", "cities500")


def measure_sources(
    resolver: Resolver, sources: Sequence[Source], names: Mapping[int, str]
) -> dict[str, dict[str, Any]]:
    """Every source against one resolver: without and with coordinates where it has points;
    the C40 failures are all listed."""
    results: dict[str, dict[str, Any]] = {}
    for source in sources:
        listed = len(source.references) if source.key == "c40" else LISTED_FAILURES
        if source.has_points:
            results[source.key] = {
                "without_coordinates": measure(resolver, source.references, False, names, listed),
                "with_coordinates": measure(resolver, source.references, True, names, listed),
            }
        else:
            results[source.key] = {
                "as_given": measure(resolver, source.references, False, names, listed)
            }
    return results


def run_threshold(
    threshold: str,
    sources: Sequence[Source],
    countries: pd.DataFrame,
    build_repeats: int = BUILD_REPEATS,
) -> tuple[dict[str, Any], Resolver, pd.DataFrame]:
    """Load a gazetteer, build its resolver (timed), measure every source, print it all."""
    start = time.perf_counter()
    gazetteer, origin = load_gazetteer(threshold)
    parse_seconds = time.perf_counter() - start
    resolver, build = build_resolver(gazetteer, countries, build_repeats)
    print(
        f"\n== {threshold}: {len(gazetteer):,} places ({origin}); parsed in "
        f"{parse_seconds:.2f} s, index built in {build['seconds_min']:.2f} s "
        f"(min of {build['runs']}; median {build['seconds_median']:.2f} s) =="
    )
    names = place_names(gazetteer)
    results = measure_sources(resolver, sources, names)
    for source in sources:
        # CDP's failures are many and alike: their classes are counted, the list is in the JSON
        print_source(source.label, threshold, results[source.key], not source.has_points)
    result = {
        "places": len(gazetteer),
        "origin": origin,
        "parse_seconds": round(parse_seconds, 3),
        "build": build,
        "sources": results,
        "peak_memory_mb_after": peak_memory_mb(),
    }
    return result, resolver, gazetteer


def run_throughput(
    resolver: Resolver, gazetteer: pd.DataFrame, sources: Sequence[Source], build: dict[str, Any]
) -> dict[str, Any]:
    by_key = {s.key: s.references for s in sources}
    mix = repeat_to(
        [*by_key["cdp_targets"], *by_key["eurocities"], *by_key["net_zero_tracker"]], MIX_CALLS
    )
    return {
        "exact_path": time_calls(resolver, exact_path_references(gazetteer, EXACT_CALLS), False),
        "mix": time_calls(resolver, mix, True),
        "mix_note": "CDP targets (with their points) + Eurocities + Net Zero Tracker, cycled",
        "build": build,
        "peak_memory_mb": peak_memory_mb(),
    }


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.resolution",
        description=bench.resolution.__doc__.split("\n\n")[0],
    )
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="recorded source files")
    parser.add_argument("--json", type=Path, default=DEFAULT_JSON, help="where to write results")
    parser.add_argument(
        "--build-repeats",
        type=int,
        default=BUILD_REPEATS,
        help="build each index this many times to time it (min and median reported)",
    )
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    data_dir: Path = args.data
    if not data_dir.is_dir():
        print(
            f"bench.resolution: the recorded source files are not at {data_dir}; "
            "pass --data <path to shared/data>",
            file=sys.stderr,
        )
        return 2
    started = time.perf_counter()
    sources = load_sources(data_dir)
    print(f"sources read in {time.perf_counter() - started:.1f} s:")
    print(
        format_table(
            ["source", "references", "with point"],
            [[s.key, len(s.references), sum(r.has_point for r in s.references)] for s in sources],
        )
    )
    countries = load_countries()
    thresholds: dict[str, dict[str, Any]] = {}
    resolver: Resolver | None = None
    gazetteer: pd.DataFrame | None = None
    for threshold in THRESHOLDS:
        resolver = gazetteer = None  # let the previous index go before building the next
        gc.collect()
        thresholds[threshold], resolver, gazetteer = run_threshold(
            threshold, sources, countries, args.build_repeats
        )
    assert resolver is not None and gazetteer is not None
    throughput = run_throughput(
        resolver, gazetteer, sources, thresholds[THROUGHPUT_THRESHOLD]["build"]
    )
    summary = summary_rows(thresholds)
    print_throughput(throughput)
    print_summary(summary)
    elapsed = time.perf_counter() - started
    print(f"\ntotal {elapsed:.1f} s")
    report = {
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "data_dir": str(data_dir.resolve()),
        "correct_km": CORRECT_KM,
        "seed": SEED,
        "thresholds": thresholds,
        "throughput": throughput,
        "summary": summary,
        "elapsed_seconds": round(elapsed, 1),
    }
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {args.json}")
    return 0
