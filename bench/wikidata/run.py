"""Running the benchmark: the command line, reading the crawl in place, measuring it at each
size, the printed tables and the JSON report. It exists to wire crawl and measure together;
what is measured and why is told in the package docstring (bench/wikidata/__init__.py)."""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import bench.wikidata
from assets.sources.wikidata import PAGE_SIZE
from bench.resolution.report import format_table
from bench.wikidata.crawl import CRAWL, FAKE_OFFSET, PLACEHOLDER_COUNTRY, read_crawl
from bench.wikidata.measure import FACTORS, REPEATS, THIS_YEAR, measure_size, ratios
from pipeline.paths import PROJECT_ROOT

DEFAULT_DATA = PROJECT_ROOT.parent / "shared" / "data"
DEFAULT_JSON = PROJECT_ROOT / "bench" / "wikidata.json"

SIZE_FIGURES = (
    ("directed_rows", "directed rows (bindings)"),
    ("items", "items (places)"),
    ("pages", "SPARQL JSON pages"),
    ("page_megabytes", "page MiB"),
    ("convert_seconds", "conversion s (harness)"),
    ("statements", "statements (rows in)"),
    ("agreements", "agreements out"),
    ("reciprocal", "  of which reciprocal"),
    ("rejected", "rejected rows"),
)


def size_table(results: Sequence[Mapping[str, Any]]) -> str:
    """What went in and came out at each size, one column per size."""
    rows: list[list[object]] = [[label, *(r[key] for r in results)] for key, label in SIZE_FIGURES]
    for rule in sorted({rule for r in results for rule in r["rejected_by_rule"]}):
        rows.append([f"  rejected: {rule}", *(r["rejected_by_rule"].get(rule, 0) for r in results)])
    rows.append(["peak memory MiB (so far)", *(r["peak_memory_mb"] for r in results)])
    return format_table(["figure", *(f"{r['factor']}x" for r in results)], rows)


def timing_table(results: Sequence[Mapping[str, Any]]) -> str:
    """Each stage at each size: min and median milliseconds (format_table shows floats to
    one decimal, too coarse for seconds) and the statement rates they give."""
    rows: list[list[object]] = []
    for stage, label in (("parse", "parse pages"), ("build", "build_agreements")):
        for r in results:
            t = r[stage]
            rows.append(
                [
                    label,
                    f"{r['factor']}x",
                    t["calls"],
                    t["runs"],
                    round(t["seconds_min"] * 1000),
                    round(t["seconds_median"] * 1000),
                    t["per_second_best"],
                    t["per_second_median"],
                ]
            )
    headers = ["stage", "size", "statements", "runs", "ms min", "ms median"]
    return format_table([*headers, "stmts/s best", "stmts/s median"], rows)


def ratio_table(ratio: Mapping[str, Any], label: str) -> str:
    """Time at the large size over the small, next to the target (the size ratio)."""
    target = ratio["size_ratio"]
    rows: list[list[object]] = []
    for stage, name in (("parse", "parse pages"), ("build", "build_agreements")):
        low, mid = ratio[f"{stage}_seconds_min"], ratio[f"{stage}_seconds_median"]
        verdict = "-" if low is None or target is None else ("within" if low <= target else "over")
        rows.append([name, low, mid, target, verdict])
    headers = [f"stage ({label})", "ratio of min", "ratio of median", "target: at most"]
    return format_table([*headers, "min within?"], rows)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.wikidata",
        description=(bench.wikidata.__doc__ or "").split("\n\n")[0],
    )
    parser.add_argument(
        "--data", type=Path, default=DEFAULT_DATA, help=f"recorded source files (with {CRAWL})"
    )
    parser.add_argument("--json", type=Path, default=DEFAULT_JSON, help="where to write results")
    parser.add_argument(
        "--repeats",
        type=int,
        default=REPEATS,
        help="time each stage this many times (min and median reported)",
    )
    parser.add_argument(
        "--page-size", type=int, default=PAGE_SIZE, help="statements a SPARQL JSON page"
    )
    args = parser.parse_args(argv)
    if args.repeats < 1:
        parser.error("--repeats must be at least 1")
    if args.page_size < 1:
        parser.error("--page-size must be at least 1")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    data_dir: Path = args.data
    folder = data_dir / CRAWL
    for needed in (data_dir, folder):
        if not needed.is_dir():
            print(
                f"bench.wikidata: {needed} is missing; the benchmark reads the 2016 P190 "
                f"crawl from <data>/{CRAWL} (pass --data <path to shared/data>)",
                file=sys.stderr,
            )
            return 2
    started = time.perf_counter()
    crawl = read_crawl(folder)
    print(
        f"crawl {folder}: {len(crawl.relations):,} directed rows, {len(crawl.qids):,} items, "
        f"{len(crawl.names):,} labels; read in {time.perf_counter() - started:.2f} s"
    )
    print(
        f"copies k=1..9 of the 10x size map Qn to Q(n + k*{FAKE_OFFSET:,}); every item is "
        f"its own city (country {PLACEHOLDER_COUNTRY!r}: a made-up placeholder); "
        f"{args.repeats} runs a stage"
    )
    results = []
    for factor in FACTORS:
        result = measure_size(crawl, factor, args.repeats, args.page_size)
        results.append(result)
        print(
            f"{factor}x measured: parse min {result['parse']['seconds_min']:.2f} s, "
            f"build min {result['build']['seconds_min']:.2f} s",
            flush=True,
        )
    ratio = ratios(results[0], results[-1])
    label = f"{results[-1]['factor']}x / {results[0]['factor']}x"
    print("\n== sizes ==")
    print(size_table(results))
    print("\n== timings ==")
    print(timing_table(results))
    print(f"\n== scaling: {label} ==")
    print(ratio_table(ratio, label))
    print("(a ratio at or under the size ratio is linear or better; printed, never asserted)")
    elapsed = time.perf_counter() - started
    print(f"\ntotal {elapsed:.1f} s")
    report = {
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "data_dir": str(data_dir.resolve()),
        "crawl": str(CRAWL),
        "repeats": args.repeats,
        "page_size": args.page_size,
        "this_year": THIS_YEAR,
        "fake_qid_offset": FAKE_OFFSET,
        "placeholder_country": PLACEHOLDER_COUNTRY,
        "sizes": results,
        "ratios": ratio,
        "elapsed_seconds": round(elapsed, 1),
    }
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {args.json}")
    return 0
