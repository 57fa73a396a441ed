"""Turning the benchmark's figures into plain-text tables on stdout: per source the figures
of each way it was measured, its wrong matches and its failures; the throughput; and the
summary of every source by threshold. It exists so that layout and wording live apart from
the measuring, which only returns dicts (the same dicts the JSON file is written from)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from bench.resolution.scoring import CORRECT_KM, METHODS
from bench.resolution.throughput import THROUGHPUT_THRESHOLD


def cell(value: object) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:,.1f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def format_table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """Plain-text columns; numbers right-aligned, text left-aligned."""
    cells = [[cell(v) for v in row] for row in rows]
    numeric = [
        all(isinstance(row[i], int | float) or row[i] is None for row in rows) and bool(rows)
        for i in range(len(headers))
    ]
    widths = [max([len(h), *(len(r[i]) for r in cells)]) for i, h in enumerate(headers)]

    def line(values: Sequence[str]) -> str:
        parts = [
            v.rjust(w) if num else v.ljust(w)
            for v, w, num in zip(values, widths, numeric, strict=True)
        ]
        return "  ".join(parts).rstrip()

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([line(headers), rule, *(line(r) for r in cells)])


def clip(text: object, width: int = 60) -> str:
    value = cell(text)
    return value if len(value) <= width else value[: width - 1] + "…"


def figures_table(results: Mapping[str, Mapping[str, Any]]) -> str:
    """Figures of one source side by side, one column per way it was measured."""
    keys = list(results)
    rows: list[list[object]] = []
    for field in (
        "rows",
        "with_point",
        "resolved",
        "resolved_pct",
        "rows_one_city",
        "resolved_one_city_pct",
        "resolved_with_point",
    ):
        rows.append([field, *(results[k][field] for k in keys)])
    for field in (
        "correct",
        "correct_on_corrected_point",
        "precision_pct",
        "precision_corrected_points_pct",
        "precision_sound_points_pct",
    ):
        rows.append([field, *(results[k][field] for k in keys)])
    for label in sorted({c for k in keys for c in results[k]["error_classes"]}):
        rows.append([f"wrong: {label}", *(results[k]["error_classes"].get(label, 0) for k in keys)])
    for method in METHODS:
        if any(results[k]["methods"].get(method) for k in keys):
            rows.append([f"method {method}", *(results[k]["methods"].get(method, 0) for k in keys)])
    classes = sorted({c for k in keys for c in results[k]["failure_classes"]})
    for label in classes:
        rows.append(
            [f"fail: {label}", *(results[k]["failure_classes"].get(label, 0) for k in keys)]
        )
    return format_table(["figure", *keys], rows)


def errors_table(errors: Sequence[Mapping[str, Any]]) -> str:
    rows = [
        [
            clip(e["name"], 40),
            clip(e["country"], 24),
            e["method"],
            clip(e["matched"], 40),
            e["distance_km"],
            "({:.3f}, {:.3f})".format(*e["point"]),
            e["class"],
        ]
        for e in errors
    ]
    headers = ["name", "country", "method", "matched place", "km", "source point", "class"]
    return format_table(headers, rows)


def failures_table(failures: Sequence[Mapping[str, Any]]) -> str:
    rows = [
        [
            clip(f["name"], 36),
            clip(f["country"], 20),
            cell(f["admin1"]),
            f["method"],
            clip(f["reason"], 80),
        ]
        for f in failures
    ]
    return format_table(["name", "country", "admin1", "method", "reason"], rows)


def print_source(
    label: str,
    threshold: str,
    results: Mapping[str, Mapping[str, Any]],
    show_failures: bool = True,
) -> None:
    """A source's figures, its wrong matches and (when asked) its failures, as tables."""
    print(f"\n-- {label} · {threshold} --")
    print(figures_table(results))
    for mode, result in results.items():
        if result["errors"]:
            print(
                f"\nwrong matches ({mode}): {result['errors_total']} beyond {CORRECT_KM:.0f} km "
                f"of the source's point; first {len(result['errors'])}:"
            )
            print(errors_table(result["errors"]))
        if show_failures and result["failures"]:
            print(
                f"\nnot resolved ({mode}): {result['failures_total']}; "
                f"first {len(result['failures'])}:"
            )
            print(failures_table(result["failures"]))


def summary_rows(thresholds: Mapping[str, Mapping[str, Any]]) -> list[dict[str, Any]]:
    """One row per source, way of measuring and threshold."""
    rows = []
    for threshold, result in thresholds.items():
        for source, modes in result["sources"].items():
            for mode, figures in modes.items():
                rows.append(
                    {
                        "source": source,
                        "mode": mode,
                        "threshold": threshold,
                        "rows": figures["rows"],
                        "resolved_pct": figures["resolved_pct"],
                        "resolved_one_city_pct": figures["resolved_one_city_pct"],
                        "precision_pct": figures["precision_pct"],
                        "precision_corrected_points_pct": figures["precision_corrected_points_pct"],
                        "precision_sound_points_pct": figures["precision_sound_points_pct"],
                        "unresolved": figures["unresolved"],
                        "ambiguous": figures["ambiguous"],
                        "conflict": figures["conflict"],
                    }
                )
    return sorted(rows, key=lambda r: (r["source"], r["mode"], r["threshold"]))


def print_summary(rows: Sequence[Mapping[str, Any]]) -> None:
    print("\n== summary: source x threshold ==")
    columns = ["source", "mode", "threshold", "rows", "resolved_pct", "resolved_one_city_pct"]
    columns += ["precision_pct", "precision_corrected_points_pct"]
    columns += ["precision_sound_points_pct", "unresolved", "ambiguous", "conflict"]
    short = {
        "precision_corrected_points_pct": "prec_corr_pts_pct",
        "precision_sound_points_pct": "prec_sound_pts_pct",
        "resolved_one_city_pct": "res_city_pct",
    }
    headers = [short.get(c, c) for c in columns]
    print(format_table(headers, [[r[c] for c in columns] for r in rows]))
    print(
        "res_city_pct: resolved_pct over the rows whose name is not a county's, region's, "
        "borough's, authority's or intermunicipal board's (scoring.NOT_ONE_CITY). "
        f"precision_pct: resolved rows with a CDP point whose match lies within "
        f"{CORRECT_KM:.0f} km of it; prec_corr_pts_pct: the same with each CDP point "
        "whose latitude/longitude are swapped or lack a sign read corrected (a match on the "
        "corrected point counts as correct); prec_sound_pts_pct: that, without the wrong "
        "matches against a disputed point (no place of the name lies near it while CDP's "
        "population agrees with the match's). With coordinates the resolver itself "
        "refuses matches beyond 30 km (60 km for cities of a million) of the point, as "
        "given or so corrected, so precision there is high by construction."
    )


def print_throughput(throughput: Mapping[str, Any]) -> None:
    print(f"\n== throughput ({THROUGHPUT_THRESHOLD}) ==")
    rows = []
    for key in ("exact_path", "mix"):
        t = throughput[key]
        rows.append(
            [
                key,
                t["calls"],
                t["seconds_min"],
                t["seconds_median"],
                t["per_second_best"],
                t["per_second_median"],
            ]
        )
    build = throughput["build"]
    rows.append(["index build", None, build["seconds_min"], build["seconds_median"], None, None])
    print(
        format_table(
            ["measure", "calls", "s min", "s median", "names/s best", "names/s median"], rows
        )
    )
    for key in ("exact_path", "mix"):
        methods = ", ".join(f"{m} {n:,}" for m, n in throughput[key]["methods"].items())
        print(f"{key} methods (last pass): {methods}")
    print(f"mix: {throughput['mix_note']}")
    print(f"peak memory (ru_maxrss): {throughput['peak_memory_mb']:,.1f} MiB")
