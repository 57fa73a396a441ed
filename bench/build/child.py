"""One build in its own process, so each peak memory is that build's alone and each run pays
the imports a scheduled run pays. It writes one JSON object: timings of the imports and the
command or job, each step's start, end, outcome and rows (read back from the data home's
persistent Dagster instance, SQLite in <home>/.dagster), and the releases before and after.

    python -m bench.build.child HOME {cli,force,job,empty} OUT.json

`cli` is `citydip release` as a user or cron runs it (a build that would change nothing
is not started); `force` is `citydip release --force`; `job` runs the release job directly,
as the daemon runs a schedule (an unchanged build meets the in-graph gate); `empty` runs
the same graph with empty bodies (bench.build.empty), same executor, same instance."""

from __future__ import annotations

import json
import os
import sqlite3
import sys
import threading
import time
from contextlib import closing
from pathlib import Path
from typing import Any

MODES = ("cli", "force", "job", "empty")
SAMPLE_SECONDS = 0.2
ENDS = {"STEP_SUCCESS": "success", "STEP_FAILURE": "failure", "STEP_SKIPPED": "skipped"}


def step_records(records: list[Any]) -> dict[str, dict[str, Any]]:
    """Per step key: when it started and ended (instance timestamps), how it ended, and the
    rows its materializations report (dagster/row_count, summed over its assets)."""
    steps: dict[str, dict[str, Any]] = {}
    for record in records:
        event = record.dagster_event
        if event is None or event.step_key is None:
            continue
        step = steps.setdefault(event.step_key, {"rows": None})
        kind = event.event_type_value
        if kind == "STEP_START":
            step["start"] = record.timestamp
        elif kind in ENDS:
            step["end"] = record.timestamp
            step["outcome"] = ENDS[kind]
            step.setdefault("start", record.timestamp)  # a skipped step never starts
        elif kind == "ASSET_MATERIALIZATION":
            rows = event.event_specific_data.materialization.metadata.get("dagster/row_count")
            if rows is not None:
                step["rows"] = (step["rows"] or 0) + int(rows.value)
    for step in steps.values():
        step["seconds"] = round(step.get("end", 0.0) - step.get("start", 0.0), 4)
    return steps


def stages(defs: Any) -> dict[str, str]:
    """Step (op) name -> the stage it belongs to: its assets' group, or 'checks'."""
    found = {}
    for assets_def in defs.resolve_asset_graph().assets_defs:
        if assets_def.is_executable and assets_def.keys:
            group = next(iter(assets_def.group_names_by_key.values()))
            found[assets_def.node_def.name] = group
    return found


def release_versions(home: Path) -> list[str]:
    from pipeline.publish import list_releases

    return [r.version for r in list_releases(home / "warehouse" / "releases")]


def run(home: Path, mode: str) -> dict[str, Any]:
    started = time.perf_counter()
    os.environ["CITYDIP_HOME"] = str(home)
    os.environ.pop("DAGSTER_HOME", None)
    before = release_versions(home)
    sampler = MemorySampler()
    sampler.start()
    if mode in ("cli", "force"):
        # `citydip release` as a user or cron runs it: its no-op check comes first
        from pipeline import cli

        argv = ["release", "--log-level", "WARNING", *(["--force"] if mode == "force" else [])]
        runs_before = run_ids(home)
        imported = time.perf_counter()
        code = cli.main(argv)
        ran = time.perf_counter()
        peak = peak_memory_mb()  # before reading the run back imports Dagster
        found = read_new_run(home, runs_before)
        figures = {"success": code == 0, "job_seconds": ran - imported, **found}
    else:
        imported, figures = run_job(home, mode)
        ran = time.perf_counter()
        peak = peak_memory_mb()
    sampler.stop()
    for step in figures["steps"].values():
        step["peak_rss_mb"] = sampler.peak_between(step.get("start", 0.0), step.get("end", 0.0))
        step["start_rss_mb"] = sampler.last_before(step.get("start", 0.0))
    return {
        "mode": mode,
        **figures,
        "import_seconds": round(imported - started, 4),
        "job_seconds": round(figures["job_seconds"], 4),
        "after_seconds": round(time.perf_counter() - ran, 4),
        "peak_memory_mb": peak,
        "releases_before": before,
        "releases_after": release_versions(home),
    }


class MemorySampler(threading.Thread):
    """Resident memory every SAMPLE_SECONDS, stamped with the clock the event log uses,
    so each step's peak can be read off afterwards: which stage needs the memory."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.samples: list[tuple[float, float]] = []
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.wait(SAMPLE_SECONDS):
            self.samples.append((time.time(), resident_mb()))

    def stop(self) -> None:
        self.done.set()
        self.join()

    def peak_between(self, start: float, end: float) -> float | None:
        inside = [mb for at, mb in self.samples if start <= at <= end]
        return max(inside) if inside else None

    def last_before(self, moment: float) -> float | None:
        """The resident memory a step starts with: what earlier steps left (live objects,
        and memory the allocator keeps), so its peak minus this is the step's own need."""
        before = [mb for at, mb in self.samples if at <= moment]
        return before[-1] if before else None


def resident_mb() -> float:
    return status_mb("VmRSS")


def run_ids(home: Path) -> set[str]:
    """The ids of the runs on the home's instance, read from its SQLite run storage
    directly: importing Dagster first would add its start-up to the command's time."""
    database = home / ".dagster" / "history" / "runs.db"
    if not database.exists():
        return set()
    with closing(sqlite3.connect(database)) as con:
        return {row[0] for row in con.execute("SELECT run_id FROM runs")}


def read_new_run(home: Path, before: set[str]) -> dict[str, Any]:
    """The steps of the run `citydip release` just made on the home's instance (none when
    its no-op check started no run)."""
    import dagster as dg

    from pipeline.definitions import build_definitions

    with dg.DagsterInstance.get() as instance:
        new = [run for run in instance.get_runs() if run.run_id not in before]
        if not new:
            return {"run_started": False, "run_seconds": 0.0, "steps": {}}
        records = list(instance.all_logs(new[0].run_id))
    steps = staged(step_records(records), build_definitions(str(home)))
    return {"run_started": True, "run_seconds": run_span(records), "steps": steps}


def run_span(records: list[Any]) -> float:
    """Seconds from a run's first event to its last, by the instance's own clock: the
    same measure for a run the CLI made and one this process made."""
    stamps = [r.timestamp for r in records]
    return round(max(stamps) - min(stamps), 4) if stamps else 0.0


def peak_memory_mb() -> float:
    """This process's peak resident memory since its exec (VmHWM): the parent's memory at
    fork, which ru_maxrss would report, is not counted."""
    return status_mb("VmHWM")


def status_mb(field: str) -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return round(int(line.split()[1]) / 1024, 1)
    raise RuntimeError(f"no {field} in /proc/self/status (the benchmark needs Linux)")


def run_job(home: Path, mode: str) -> tuple[float, dict[str, Any]]:
    """The release job (or its empty-bodied twin) in-process, as the daemon's scheduled run
    executes it: no CLI check first, so an unchanged build meets the in-graph gate."""
    import dagster as dg

    from pipeline import cli
    from pipeline.definitions import build_definitions

    cli.use_dagster_home()
    defs = build_definitions(str(home))
    args = cli.build_parser().parse_args(["release", "--log-level", "WARNING"])
    run_config = cli.release_run_config(args)
    if mode == "empty":
        from bench.build.empty import empty_definitions, empty_release_job

        defs = empty_definitions(defs)
        run_config = {"loggers": run_config["loggers"]}
    imported = time.perf_counter()
    with dg.DagsterInstance.get() as instance:
        job_started = time.perf_counter()
        if mode == "empty":  # as cli.execute runs the real one
            result = dg.execute_job(
                dg.reconstructable(empty_release_job),
                instance=instance,
                run_config=run_config,
                raise_on_error=False,
            )
        else:
            result = cli.execute("release", instance, run_config)
        job_seconds = time.perf_counter() - job_started
        records = list(instance.all_logs(result.run_id))
    return imported, {
        "success": result.success,
        "run_started": True,
        "run_seconds": run_span(records),
        "job_seconds": job_seconds,
        "steps": staged(step_records(records), defs),
    }


def staged(steps: dict[str, dict[str, Any]], defs: Any) -> dict[str, dict[str, Any]]:
    groups = stages(defs)
    for key, step in steps.items():
        step["stage"] = groups.get(key, "checks")
    return steps


def main(argv: list[str]) -> int:
    if len(argv) != 3 or argv[1] not in MODES:
        usage = f"usage: python -m bench.build.child HOME {{{','.join(MODES)}}} OUT.json"
        print(usage, file=sys.stderr)
        return 2
    Path(argv[2]).write_text(json.dumps(run(Path(argv[0]), argv[1])), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
