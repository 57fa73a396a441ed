"""The whole-build benchmark's figures as tables: printed on stdout, and written as Markdown
between two markers in BENCHMARKS.md (the prose around them is written by hand). The
measuring code only returns dicts; layout and wording live here."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from bench.build.run import STAGES
from bench.resolution.report import format_table

BEGIN = "<!-- bench:begin (written by `make bench`; edit the prose outside these markers) -->"
END = "<!-- bench:end -->"


def markers(label: str = "") -> tuple[str, str]:
    """The markers around one run's block: unlabelled for the main run, labelled for
    others kept beside it (`--label`)."""
    if not label:
        return BEGIN, END
    return BEGIN.replace("bench:begin", f"bench:begin {label}"), f"<!-- bench:end {label} -->"


MIB = 1 << 20


def seconds(figure: Mapping[str, float]) -> str:
    return f"{figure['min']:.2f} / {figure['median']:.2f}"


def build_rows(sizes: Sequence[Mapping[str, Any]]) -> list[list[object]]:
    rows: list[list[object]] = []
    kinds = (
        ("first_build", "first build (no release yet)"),
        ("full_build", "full rebuild"),
        ("noop_rebuild", "no-op rebuild (citydip release)"),
        ("noop_job", "no-op run of the job (the gate)"),
        ("empty_graph", "empty-body graph"),
    )
    for key, label in kinds:
        rows.append([label, *(seconds(s[key]["process_seconds"]) for s in sizes)])
        rows.append(["  of which the run", *(seconds(s[key]["run_seconds"]) for s in sizes)])
    for stage in STAGES:
        rows.append(
            [
                f"full rebuild: {stage} steps",
                *(
                    f"{s['full_build']['stages'][stage]['min']:.2f} / "
                    f"{s['full_build']['stages'][stage]['median']:.2f}"
                    for s in sizes
                ),
            ]
        )
        rows.append(
            [
                "  rows out, rows/s",
                *(
                    f"{s['full_build']['stages'][stage]['rows']:,}, "
                    f"{s['full_build']['stages'][stage]['rows_per_second'] or 0:,}"
                    for s in sizes
                ),
            ]
        )
    rows.append(
        [
            "peak memory by stage, full rebuild (MiB)",
            *(
                ", ".join(
                    f"{stage} {s['full_build']['stages'][stage].get('peak_rss_mb', 0):,.0f}"
                    for stage in STAGES
                )
                for s in sizes
            ),
        ]
    )
    rows.append(
        [
            "peak memory, full rebuild (MiB)",
            *(f"{s['full_build']['peak_memory_mb']:,.0f}" for s in sizes),
        ]
    )
    rows.append(
        [
            "steps adding most memory (MiB: at start -> peak)",
            *(
                ", ".join(
                    f"{key} {start:,.0f} -> {peak:,.0f}"
                    for key, start, peak in s["full_build"].get("hungriest_steps", [])[:3]
                )
                for s in sizes
            ),
        ]
    )
    rows.append(
        [
            "no-op run of the job: steps run / skipped",
            *(f"{s['noop_job']['steps_run']} / {s['noop_job']['steps_skipped']}" for s in sizes),
        ]
    )
    rows.append(
        [
            "release on disk (MiB): all, DuckDB, Parquet",
            *(
                ", ".join(
                    f"{s['release'][part] / MIB:,.1f}"
                    for part in ("total_bytes", "duckdb_bytes", "parquet_bytes")
                )
                for s in sizes
            ),
        ]
    )
    return rows


def input_rows(sizes: Sequence[Mapping[str, Any]]) -> list[list[object]]:
    sources = sorted({name for s in sizes for name in s["inputs"].get("sources", {})})
    rows: list[list[object]] = []
    for name in sources:
        cells = []
        for s in sizes:
            info = s["inputs"]["sources"].get(name, {})
            rows_in = info.get("rows") if info.get("rows") is not None else info.get("records")
            cells.append(
                f"{rows_in:,} rows, {info.get('bytes', 0) / MIB:,.1f} MiB"
                if rows_in is not None
                else f"{info.get('bytes', 0) / MIB:,.1f} MiB"
            )
        rows.append([name, *cells])
    return rows


def query_rows(sizes: Sequence[Mapping[str, Any]]) -> list[list[object]]:
    rows: list[list[object]] = []
    for s in sizes:
        for q in s["queries"]:
            d, p = q["duckdb"], q["parquet"]
            rows.append(
                [
                    f"{s['factor']}x",
                    q["query"][:58],
                    d["rows"],
                    f"{d['ms_min']:.1f} / {d['ms_median']:.1f}",
                    f"{p['ms_min']:.1f} / {p['ms_median']:.1f}",
                    f"{d['first_ms']:.1f} / {p['first_ms']:.1f}",
                ]
            )
    return rows


def resolver_rows(resolver: Mapping[str, Any]) -> list[list[object]]:
    rows: list[list[object]] = [
        ["index build (s)", f"{resolver['index_build_seconds']:.2f}"],
    ]
    for key, label in (
        ("dict_lookup", "plain dict lookup"),
        ("exact_path", "resolver, exact path"),
        ("fuzzy_path", "resolver, fuzzy path"),
    ):
        figure = resolver[key]
        rows.append(
            [
                f"{label} (names/s, best / median)",
                f"{figure['names_per_second_best']:,} / {figure['names_per_second_median']:,}",
            ]
        )
    return rows


def target_rows(found: Sequence[Mapping[str, Any]]) -> list[list[object]]:
    return [
        [
            t["target"],
            "-" if t["value"] is None else f"{t['value']:,.3g}",
            f"{t['kind']} {t['limit']:g}",
            {True: "met", False: "NOT met", None: "-"}[t["met"]],
        ]
        for t in found
    ]


def failure_rows(sizes: Sequence[Mapping[str, Any]]) -> list[list[object]]:
    return [
        [f"{s['factor']}x", s["failed"]["mode"], s["failed"]["reason"]]
        for s in sizes
        if "failed" in s
    ]


def tables(report: Mapping[str, Any]) -> list[tuple[str, list[str], list[list[object]]]]:
    everything = report["sizes"]
    sizes = [s for s in everything if "failed" not in s]
    factors = [f"{s['factor']}x" for s in sizes]
    found = [
        (
            "targets (ratios of medians from this run)",
            ["target", "value", "limit", "result"],
            target_rows(report["targets"]),
        ),
        (
            "inputs",
            ["source", *(f"{s['factor']}x" for s in everything)],
            input_rows(everything),
        ),
    ]
    if sizes:  # a size whose build failed has no build or query figures
        found.append(("builds: seconds, min / median", ["figure", *factors], build_rows(sizes)))
        found.append(
            (
                "README queries: ms, min / median (warm); first run",
                ["size", "query", "rows", "DuckDB", "Parquet", "first: DuckDB / Parquet"],
                query_rows(sizes),
            )
        )
    if failure_rows(everything):
        found.insert(
            1, ("builds that failed", ["size", "build", "error"], failure_rows(everything))
        )
    if report.get("resolver"):
        rows = report["resolver"]["gazetteer_rows"]
        found.append(
            (
                f"resolver on the {rows:,}-place gazetteer",
                ["figure", "value"],
                resolver_rows(report["resolver"]),
            )
        )
    return found


def print_report(report: Mapping[str, Any]) -> None:
    for heading, headers, rows in tables(report):
        print(f"\n== {heading} ==")
        print(format_table(headers, rows))
    print("\n(ratios are printed next to their targets, never asserted)")


def markdown_table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def markdown_block(report: Mapping[str, Any], label: str = "") -> str:
    begin, end = markers(label)
    machine = report["machine"]
    parts = [
        begin,
        f"Measured {report['generated_at']} on {machine['cpus']} CPUs, Python "
        f"{machine['python']}; {report['repeats']} runs of each kind; the whole run took "
        f"{report['elapsed_seconds']:,.0f} s. Every figure is in "
        f"`{report.get('json_file', 'bench/results.json')}`.",
    ]
    for heading, headers, rows in tables(report):
        parts.append(f"**{heading[0].upper()}{heading[1:]}**\n\n{markdown_table(headers, rows)}")
    parts.append(end)
    return "\n\n".join(parts) + "\n"


def markdown(report: Mapping[str, Any], current: str, label: str = "") -> str:
    """`current` (BENCHMARKS.md) with the text between the run's markers replaced; the
    block is appended when the markers are missing."""
    begin, end = markers(label)
    block = markdown_block(report, label)
    if begin in current and end in current:
        head, rest = current.split(begin, 1)
        after = rest.split(end, 1)[1].lstrip("\n")
        return head + block + ("\n" + after if after else "")
    return current.rstrip("\n") + "\n\n" + block
