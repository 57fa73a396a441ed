"""The whole-build benchmark's own arithmetic and plumbing (the timings themselves are
never asserted): what it reads from a run's events, the ratios it compares with the
targets, the Markdown it writes, and the empty-bodied graph it times."""

from types import SimpleNamespace
from typing import Any

from bench.build.child import MemorySampler, step_records
from bench.build.empty import empty_definitions
from bench.build.queries import readme_queries, title
from bench.build.report import BEGIN, END, markdown, markers
from bench.build.run import failure_reason, hungriest, runs_summary, targets
from pipeline.definitions import build_definitions


def record(kind: str, step: str, at: float, rows: int | None = None) -> Any:
    metadata = {} if rows is None else {"dagster/row_count": SimpleNamespace(value=rows)}
    materialization = SimpleNamespace(metadata=metadata)
    event = SimpleNamespace(
        step_key=step,
        event_type_value=kind,
        event_specific_data=SimpleNamespace(materialization=materialization),
    )
    return SimpleNamespace(dagster_event=event, timestamp=at)


def test_step_records_time_each_step_and_add_up_its_rows() -> None:
    steps = step_records(
        [
            record("STEP_START", "parse", 10.0),
            record("ASSET_MATERIALIZATION", "parse", 11.0, rows=5),
            record("ASSET_MATERIALIZATION", "parse", 11.5, rows=7),
            record("STEP_SUCCESS", "parse", 12.5),
            record("STEP_SKIPPED", "tables", 13.0),
        ]
    )
    assert steps["parse"] == {
        "rows": 12,
        "start": 10.0,
        "end": 12.5,
        "outcome": "success",
        "seconds": 2.5,
    }
    assert steps["tables"]["outcome"] == "skipped" and steps["tables"]["seconds"] == 0.0


def run(process: float, run_seconds: float, published: bool = False) -> dict[str, Any]:
    step = {"seconds": run_seconds, "stage": "core", "rows": 100, "outcome": "success"}
    return {
        "process_seconds": process,
        "job_seconds": process - 1,
        "run_seconds": run_seconds,
        "import_seconds": 1.0,
        "peak_memory_mb": 2048.0,
        "steps": {"cities": step},
        "releases_before": ["2026.1.1"],
        "releases_after": ["2026.1.1", "2026.1.2"] if published else ["2026.1.1"],
    }


def size(factor: int, full: float, noop: float, empty_run: float) -> dict[str, Any]:
    query = {"ms_min": 1.0, "ms_median": 2.0, "first_ms": 3.0, "rows": 1, "open_ms": 1.0}
    return {
        "factor": factor,
        "full_build": runs_summary([run(full, full - 5), run(full + 2, full - 3)]),
        "noop_rebuild": runs_summary([run(noop, 0.0)]),
        "empty_graph": runs_summary([run(empty_run + 5, empty_run)]),
        "queries": [
            {"query": "a", "duckdb": query, "parquet": {**query, "ms_median": 3.0}},
            {"query": "b", "duckdb": {**query, "ms_median": 4.0}, "parquet": query},
        ],
    }


def test_targets_are_ratios_of_medians_against_the_issues_limits() -> None:
    resolver = {
        "dict_lookup": {"names_per_second_median": 200_000},
        "exact_path": {"names_per_second_median": 120_000},
        "fuzzy_path": {"names_per_second_median": 4_000},
    }
    found = {t["target"]: t for t in targets([size(1, 20, 2, 5), size(10, 250, 3, 5)], resolver)}
    overhead = found["1x full build / empty-body graph (run time)"]
    assert (overhead["value"], overhead["met"]) == (3.2, False)  # median run 16 / 5
    noop = found["1x no-op rebuild / full build (process time)"]
    assert (noop["value"], noop["met"]) == (0.095, True)  # 2 / 21
    growth = found["10x full build / 1x (process time)"]
    assert (growth["value"], growth["met"]) == (11.952, False)  # 251 / 21
    assert found["resolver exact path / dict lookup (names/s)"]["met"] is True
    assert found["resolver fuzzy path (names/s)"]["met"] is False
    slower = found["1x README queries slower on DuckDB than Parquet"]
    assert (slower["value"], slower["slower"]) == (1, ["b"])


def test_markdown_replaces_only_the_text_between_the_markers() -> None:
    report = {
        "generated_at": "2026-11-22T00:00:00+00:00",
        "machine": {"cpus": 2, "python": "3.11.7"},
        "repeats": 3,
        "elapsed_seconds": 10.0,
        "sizes": [],
        "resolver": None,
        "targets": [],
    }
    current = f"# Benchmarks\n\nprose before\n\n{BEGIN}\nold table\n{END}\n\nprose after\n"
    written = markdown(report, current)
    assert written.startswith("# Benchmarks\n\nprose before\n\n" + BEGIN)
    assert "old table" not in written
    assert written.endswith(END + "\n\nprose after\n")
    assert "Measured 2026-11-22T00:00:00+00:00 on 2 CPUs" in written
    assert markdown(report, "no markers\n").startswith("no markers\n\n" + BEGIN)
    # a labelled run's block goes beside the main one and leaves it alone
    both = markdown(report, written, "100x")
    assert both.startswith(written.rstrip("\n") + "\n\n" + markers("100x")[0])
    assert markdown(report, both, "100x") == both


def test_the_empty_graph_has_the_release_jobs_steps(tmp_path: Any) -> None:
    real = build_definitions(str(tmp_path)).resolve_job_def("release")
    empty = empty_definitions(build_definitions(str(tmp_path))).resolve_job_def("release")
    assert sorted(n.name for n in empty.graph.node_defs) == sorted(
        n.name for n in real.graph.node_defs
    )
    assert len(real.graph.node_defs) > 50
    assert empty.executor_def.name == real.executor_def.name == "in_process"


def test_the_readme_queries_are_those_both_forms_of_a_release_answer() -> None:
    queries = readme_queries()
    titles = [title(q) for q in queries]
    assert "Members of each network, largest first" in titles
    assert not [t for t in titles if t.startswith(("In the full edition", "In the DuckDB"))]
    assert len(queries) >= 8


def test_a_steps_peak_memory_is_the_largest_sample_inside_it() -> None:
    sampler = MemorySampler()
    sampler.samples = [(1.0, 100.0), (2.0, 300.0), (3.0, 200.0), (4.0, 900.0)]
    assert sampler.peak_between(1.5, 3.5) == 300.0
    assert sampler.peak_between(5.0, 6.0) is None  # a step shorter than a sample apart
    assert sampler.last_before(3.5) == 200.0
    assert sampler.last_before(0.5) is None


def test_the_hungriest_steps_are_those_adding_most_not_those_peaking_highest() -> None:
    steps = {
        "parse": {"start_rss_mb": 200.0, "peak_rss_mb": 2_000.0},
        "checks": {"start_rss_mb": 1_900.0, "peak_rss_mb": 2_100.0},
        "publish": {"start_rss_mb": 1_000.0, "peak_rss_mb": 2_500.0},
        "skipped": {"start_rss_mb": 1_000.0, "peak_rss_mb": None},
    }
    assert hungriest(steps) == [
        ["parse", 200.0, 2_000.0],
        ["publish", 1_000.0, 2_500.0],
        ["checks", 1_900.0, 2_100.0],
    ]
    assert hungriest(steps, count=1) == [["parse", 200.0, 2_000.0]]


LOG = """\
2026-11-22 21:23:56 +0000 - dagster - ERROR - release - parsed_wikidata - STEP_FAILURE
dagster._core.errors.DagsterExecutionStepExecutionError: Error occurred while executing op
assets.sources.ParseError: wikidata: wikidata-responses.zip, archive: over the cap
"""


def test_a_failed_build_is_reported_with_the_projects_own_error() -> None:
    assert failure_reason(LOG) == (
        "assets.sources.ParseError: wikidata: wikidata-responses.zip, archive: over the cap"
    )
    assert failure_reason("killed\n") == "no error line in the log"
    failed = {"factor": 100, "inputs": {}, "failed": {"mode": "cli", "reason": "too big"}}
    found = targets([size(1, 20, 2, 5), failed], None)
    assert found[0]["target"] == "100x build succeeds"
    assert (found[0]["met"], found[0]["failed"]) == (False, "too big")
    assert not [t for t in found if t["target"].startswith("100x full build")]
