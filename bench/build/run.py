"""Running the whole-build benchmark: per size, generate the inputs into a fresh data home,
then build releases in child processes (bench.build.child) and measure them; then time the
resolver and the README's queries, compute the ratios the targets are stated in, print
everything and save it (bench/results.json and the table in BENCHMARKS.md)."""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pipeline.paths import PROJECT_ROOT

DEFAULT_DATA = PROJECT_ROOT.parent / "shared" / "data"
DEFAULT_JSON = PROJECT_ROOT / "bench" / "results.json"
DEFAULT_MARKDOWN = PROJECT_ROOT / "BENCHMARKS.md"
FACTORS = (1, 10, 100)
REPEATS = 3
QUERY_REPEATS = 5
STAGES = ("raw", "parsed", "core", "release", "checks")
GIB = 1 << 30


class BuildFailed(RuntimeError):
    """A build the benchmark started did not succeed: at a large size, a limit of the
    pipeline (a cap, memory) is a finding to report, not a reason to lose the run."""

    def __init__(self, mode: str, reason: str, log: Path) -> None:
        super().__init__(f"bench: {mode} build failed: {reason} (see {log})")
        self.mode, self.reason, self.log = mode, reason, log


# the project's own error, not Dagster's wrapper around it
_CAUSE = re.compile(r"^([\w.]+(?:Error|Exception)): (.+)$", re.M)


def failure_reason(text: str) -> str:
    """The first error line of a failed build's log that is not Dagster's own."""
    causes = [m.group(0) for m in _CAUSE.finditer(text) if not m.group(1).startswith("dagster")]
    return causes[0] if causes else "no error line in the log"


def spawn(home: Path, mode: str, log: Path) -> dict[str, Any]:
    """One build in a child process: its own figures (peak memory read by the child
    itself) and the process's wall time."""
    out = log.with_suffix(".json")
    started = time.perf_counter()
    with log.open("w") as errors:
        process = subprocess.Popen(
            [sys.executable, "-m", "bench.build.child", str(home), mode, str(out)],
            cwd=PROJECT_ROOT,
            stdout=errors,
            stderr=subprocess.STDOUT,
        )
        _, status, usage = os.wait4(process.pid, 0)  # the child's own resource usage
        process.returncode = os.waitstatus_to_exitcode(status)
    seconds = time.perf_counter() - started
    if process.returncode != 0 or not out.exists():
        raise BuildFailed(mode, failure_reason(log.read_text(errors="replace")), log)
    result = json.loads(out.read_text())
    # what the command took: the child's own reading of the run afterwards is not counted
    result["process_seconds"] = round(seconds - result["after_seconds"], 3)
    result["max_rss_mb"] = round(usage.ru_maxrss / 1024, 1)  # includes the parent's at fork
    if not result["success"]:
        raise BuildFailed(mode, failure_reason(log.read_text(errors="replace")), log)
    return result


def spread(values: Sequence[float]) -> dict[str, float]:
    return {"min": round(min(values), 3), "median": round(statistics.median(values), 3)}


def stage_figures(runs: Sequence[Mapping[str, Any]]) -> dict[str, dict[str, Any]]:
    """Per stage: the steps' summed seconds (min and median over runs), the rows its
    materializations reported and the rows a second that gives at the median."""
    figures = {}
    for stage in STAGES:
        seconds = [
            sum(s["seconds"] for s in run["steps"].values() if s["stage"] == stage) for run in runs
        ]
        rows = sum(s["rows"] or 0 for s in runs[0]["steps"].values() if s["stage"] == stage)
        median = statistics.median(seconds)
        peaks = [
            s.get("peak_rss_mb") or 0.0
            for run in runs
            for s in run["steps"].values()
            if s["stage"] == stage
        ]
        figures[stage] = {
            **spread(seconds),
            "peak_rss_mb": max(peaks, default=0.0),
            "rows": rows,
            "rows_per_second": round(rows / median) if median and rows else None,
        }
    return figures


def runs_summary(runs: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """What a set of runs of one kind gives: process and job seconds, peak memory, stages,
    the steps that ran and were skipped, and whether any published a release."""
    last = runs[-1]
    return {
        "runs": len(runs),
        "process_seconds": spread([r["process_seconds"] for r in runs]),
        "job_seconds": spread([r["job_seconds"] for r in runs]),
        "run_seconds": spread([r.get("run_seconds", 0.0) for r in runs]),
        "import_seconds": spread([r["import_seconds"] for r in runs]),
        "peak_memory_mb": max(r["peak_memory_mb"] for r in runs),
        "stages": stage_figures(runs),
        "steps_run": sum(s.get("outcome") == "success" for s in last["steps"].values()),
        "steps_skipped": sum(s.get("outcome") == "skipped" for s in last["steps"].values()),
        "published": [sorted(set(r["releases_after"]) - set(r["releases_before"])) for r in runs],
        "slowest_steps": sorted(
            ((k, s["seconds"]) for k, s in last["steps"].items()), key=lambda p: -p[1]
        )[:8],
        "hungriest_steps": hungriest(last["steps"]),
    }


def hungriest(steps: Mapping[str, Mapping[str, Any]], count: int = 5) -> list[list[Any]]:
    """The steps that add most to resident memory: [step, MiB at its start, its peak],
    largest addition first. A step's peak alone misleads, since it starts with whatever
    earlier steps left resident."""
    found = [
        [key, s["start_rss_mb"], s["peak_rss_mb"]]
        for key, s in steps.items()
        if s.get("start_rss_mb") is not None and s.get("peak_rss_mb") is not None
    ]
    return sorted(found, key=lambda f: f[1] - f[2])[:count]


def folder_bytes(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file() and not p.is_symlink())


def release_size(release: Path) -> dict[str, int]:
    """Bytes on disk of the whole release folder, its DuckDB file and its Parquet files."""
    return {
        "total_bytes": folder_bytes(release),
        "duckdb_bytes": (release / "citydiplomacy.duckdb").stat().st_size,
        "parquet_bytes": folder_bytes(release / "parquet"),
    }


def measure_factor(
    factor: int, data_dir: Path, work: Path, repeats: int, query_repeats: int
) -> dict[str, Any]:
    """Inputs at `factor`; a first build; then `repeats` each of forced full rebuilds,
    no-op rebuilds through the CLI, no-op runs of the job itself (the gate) and runs of the
    empty graph, all on one home and instance."""
    from bench.build.inputs import write_home
    from bench.build.queries import measure_queries

    home = work / f"{factor}x"
    if home.exists():
        shutil.rmtree(home)
    logs = work / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    inputs = write_home(home, factor, data_dir)
    print(f"{factor}x: inputs written in {time.perf_counter() - started:.1f} s", flush=True)

    def runs(mode: str, count: int) -> list[dict[str, Any]]:
        done = []
        for n in range(count):
            done.append(spawn(home, mode, logs / f"{factor}x-{mode}-{n}.log"))
            print(
                f"{factor}x: {mode} run {n + 1}/{count}: {done[-1]['process_seconds']:.1f} s, "
                f"peak {done[-1]['peak_memory_mb']:,.0f} MiB",
                flush=True,
            )
        return done

    try:
        first = runs("cli", 1)
        full = runs("force", repeats)
        noop = runs("cli", repeats)
        gate = runs("job", repeats)
        empty = runs("empty", repeats)
    except BuildFailed as failed:
        print(f"{factor}x: {failed}", flush=True)
        return {
            "factor": factor,
            "inputs": inputs,
            "failed": {"mode": failed.mode, "reason": failed.reason, "log": str(failed.log)},
        }
    latest = (home / "warehouse" / "releases" / "latest").resolve()
    return {
        "factor": factor,
        "inputs": inputs,
        "first_build": runs_summary(first),
        "full_build": runs_summary(full),
        "noop_rebuild": runs_summary(noop),
        "noop_job": runs_summary(gate),
        "empty_graph": runs_summary(empty),
        "release": {"version": latest.name, **release_size(latest)},
        "queries": measure_queries(latest, query_repeats),
    }


def measure_resolver_on(home: Path, repeats: int) -> dict[str, Any]:
    """The resolver figures on the gazetteer a home's builds read."""
    from assets.sources import geonames
    from bench.build.resolver import measure_resolver
    from pipeline.snapshots import SnapshotStore, read_verified

    files = geonames.select_files(SnapshotStore(home / "raw"), geonames.DEFAULT_GAZETTEER)
    frames = {}
    for role in ("cities", "countries"):
        file = files[role]
        assert file is not None, f"no {role} file in {home}"
        frames[role] = geonames.parse_file(read_verified(Path(file.path), file.sha256), file)
    return measure_resolver(frames["cities"], frames["countries"], repeats)


def ratio(name: str, value: float | None, limit: float, kind: str = "at most") -> dict[str, Any]:
    met = None if value is None else (value <= limit if kind == "at most" else value >= limit)
    return {
        "target": name,
        "value": None if value is None else round(value, 3),
        "limit": limit,
        "kind": kind,
        "met": met,
    }


def targets(sizes: Sequence[Mapping[str, Any]], resolver: Mapping[str, Any] | None) -> list:
    """The issue's targets as ratios of medians measured in this run."""
    found: list[dict[str, Any]] = []
    for size in sizes:
        if "failed" in size:
            failed = ratio(f"{size['factor']}x build succeeds", None, 0)
            found.append({**failed, "met": False, "failed": size["failed"]["reason"]})
    sizes = [s for s in sizes if "failed" not in s]
    by = {s["factor"]: s for s in sizes}
    if 1 in by:
        one = by[1]
        full = one["full_build"]["run_seconds"]["median"]
        empty = one["empty_graph"]["run_seconds"]["median"]
        found.append(ratio("1x full build / empty-body graph (run time)", full / empty, 3.0))
        noop = one["noop_rebuild"]["process_seconds"]["median"]
        whole = one["full_build"]["process_seconds"]["median"]
        found.append(ratio("1x no-op rebuild / full build (process time)", noop / whole, 0.2))
        for factor in (10, 100):
            if factor in by:
                big = by[factor]["full_build"]["process_seconds"]["median"]
                found.append(
                    ratio(f"{factor}x full build / 1x (process time)", big / whole, factor)
                )
    for size in sizes:
        published = [p for p in size["noop_rebuild"]["published"] if p]
        found.append(
            ratio(f"{size['factor']}x no-op rebuilds that published a release", len(published), 0)
        )
    if 100 in by:
        peak = by[100]["full_build"]["peak_memory_mb"] / 1024
        found.append(ratio("100x full build peak memory (GiB)", peak, 8.0))
    if resolver is not None:
        exact = resolver["exact_path"]["names_per_second_median"]
        plain = resolver["dict_lookup"]["names_per_second_median"]
        found.append(
            ratio("resolver exact path / dict lookup (names/s)", exact / plain, 0.5, "at least")
        )
        found.append(
            ratio(
                "resolver fuzzy path (names/s)",
                resolver["fuzzy_path"]["names_per_second_median"],
                5000,
                "at least",
            )
        )
    for size in sizes:
        slower = [
            q["query"]
            for q in size["queries"]
            if q["duckdb"]["ms_median"] > q["parquet"]["ms_median"]
        ]
        found.append(
            ratio(f"{size['factor']}x README queries slower on DuckDB than Parquet", len(slower), 0)
        )
        found[-1]["slower"] = slower
    return found


def shown_path(path: Path) -> str:
    """A path as BENCHMARKS.md names it: from the project root when inside it."""
    resolved = path.resolve()
    return str(
        resolved.relative_to(PROJECT_ROOT) if resolved.is_relative_to(PROJECT_ROOT) else path
    )


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.build", description=__doc__)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="the recorded sources")
    parser.add_argument(
        "--factors", default=",".join(map(str, FACTORS)), help="sizes, e.g. 1,10,100"
    )
    parser.add_argument("--repeats", type=int, default=REPEATS, help="runs of each kind")
    parser.add_argument("--query-repeats", type=int, default=QUERY_REPEATS)
    parser.add_argument("--work", type=Path, help="where the data homes go (default: a temp dir)")
    parser.add_argument("--json", type=Path, default=DEFAULT_JSON)
    parser.add_argument("--markdown", type=Path, default=DEFAULT_MARKDOWN)
    parser.add_argument("--keep", action="store_true", help="keep the data homes")
    parser.add_argument(
        "--label",
        default="",
        help="write BENCHMARKS.md's block for this label (kept beside the main one)",
    )
    args = parser.parse_args(argv)
    try:
        args.factors = [int(f) for f in args.factors.split(",")]
    except ValueError:
        parser.error(f"--factors: not whole numbers: {args.factors!r}")
    if args.repeats < 1 or args.query_repeats < 1 or min(args.factors) < 1:
        parser.error("--repeats, --query-repeats and every factor must be at least 1")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    from bench.build.report import markdown, print_report

    args = parse_args(argv)
    if not args.data.is_dir():
        print(
            f"bench.build: {args.data} is missing; the benchmark generates its inputs from "
            "the recorded sources (pass --data <path to shared/data>)",
            file=sys.stderr,
        )
        return 2
    work = args.work or Path(tempfile.mkdtemp(prefix="citydip-bench-"))
    started = time.perf_counter()
    sizes = []
    resolver = None
    try:
        for factor in sorted(args.factors):
            sizes.append(measure_factor(factor, args.data, work, args.repeats, args.query_repeats))
            if resolver is None:
                resolver = measure_resolver_on(work / f"{factor}x", args.repeats)
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    report = {
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "python": sys.version.split()[0]},
        "data_dir": str(args.data.resolve()),
        "repeats": args.repeats,
        "sizes": sizes,
        "resolver": resolver,
        "targets": targets(sizes, resolver),
        "elapsed_seconds": round(time.perf_counter() - started, 1),
        "json_file": shown_path(args.json),
    }
    print_report(report)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    current = args.markdown.read_text(encoding="utf-8") if args.markdown.exists() else ""
    args.markdown.write_text(markdown(report, current, args.label), encoding="utf-8")
    print(f"wrote {args.json} and {args.markdown}")
    return 0
