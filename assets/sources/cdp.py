"""What the CDP-ICLEI cities datasets share: their CSV layout, their terms and the way a
city is named in them. cdp_targets and cdp_emissions are the two sources read.

CDP publishes each year's city responses on its open data portal (data.cdp.net) as CSV.
The headers are long questions ("Base year emissions (metric tonnes CO2e)"); copies
re-saved with R spell them with dots ("Base.year.emissions..metric.tonnes.CO2e.") and 'NA'
for an empty cell. Headers are compared as their words, so both spellings read alike, and
columns are found by name, so their order does not matter. A column the parser reads that is
missing (or renamed) stops the parse; a header no spelling of the dataset has is reported as
an unknown column and not read.

CDP asks users to cite its wording (ATTRIBUTION) and its general terms forbid republishing
its data without consent, so its rows are *restricted*: they help resolve cities and reach
only the full edition of a release, never the open one.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable

from assets.sources import ParseError, SourceInfo, number, read_csv

PUBLISHER = "CDP Worldwide, with ICLEI - Local Governments for Sustainability"
# CDP's own wording, reproduced exactly as it asks
ATTRIBUTION = (
    "This data was collected in partnership by CDP and ICLEI - Local Governments for Sustainability"
)
LICENCE = (
    "restricted: CDP's terms of use forbid republishing its data without CDP's consent; "
    "not for redistribution until that is given"
)
HOMEPAGE = "https://data.cdp.net/"
# Cells a copy re-saved with R writes for a missing value; the live export leaves them empty.
R_MISSING = frozenset({"", "NA"})
LIVE_MISSING = frozenset({""})
_POINT = re.compile(r"\s*POINT\s*\(\s*(\S+)\s+(\S+)\s*\)\s*", re.IGNORECASE)
_TRAILING_CODE = re.compile(r",\s*([A-Z]{2})\s*$")


def source_info(slug: str) -> SourceInfo:
    """One of CDP's datasets as a source: CDP's terms, restricted."""
    return SourceInfo(
        slug=slug,
        publisher=PUBLISHER,
        licence=LICENCE,
        attribution=ATTRIBUTION,
        homepage=HOMEPAGE,
        redistributable=False,
    )


def normalise_header(column: str) -> str:
    """A header as its words: 'City.Location' and 'City Location' -> 'city_location';
    'TOTAL BASIC+ Emissions (GPC)' -> 'total_basic_plus_emissions_gpc'."""
    return "_".join(re.findall(r"[0-9a-z]+", column.replace("+", " plus ").casefold()))


def read_rows(
    content: bytes, source: str, file_name: str, known: Iterable[str], needed: Iterable[str]
) -> tuple[list[tuple[int, dict[str, str | None]]], list[str]]:
    """The CSV's rows as (line, {normalised header: text or None}), and the headers (as
    written) that no spelling of the dataset has: those are not read. A needed header
    missing, or two read alike, stop the parse; an empty cell and 'NA' are missing."""
    known_names, needed_names = set(known), list(needed)

    def check_header(header: list[str]) -> None:
        names = [normalise_header(h) for h in header]
        missing = [n for n in needed_names if n not in names]
        # two headers that read alike are one column twice; unknown ones are not read.
        # Counted once: names.count per name took hours on a line of a million commas.
        twice = sorted(n for n, count in Counter(names).items() if n in known_names and count > 1)
        if missing or twice:
            unknown = [h for h, n in zip(header, names, strict=True) if n not in known_names]
            raise ParseError(
                source,
                file_name,
                "line 1",
                f"header not the dataset's: unknown {_some(unknown)}, missing {missing}, "
                f"read alike {_some(twice)}",
            )

    file = read_csv(content, source, file_name, check_header)
    header = file.header
    names = [normalise_header(h) for h in header]
    unknown = [h for h, n in zip(header, names, strict=True) if n not in known_names]
    # 'NA' is no value CDP states anywhere (countries are named, not coded), and copies
    # re-saved by R or readr write it for an empty cell whatever their header looks like
    missing_values = R_MISSING
    rows = [
        (
            line,
            {
                n: (None if f.strip() in missing_values else f.strip())
                for n, f in zip(names, fields, strict=True)
                if n in known_names
            },
        )
        for line, fields in file.records
    ]
    return rows, unknown


def _some(names: list[str], shown: int = 10) -> str:
    """At most `shown` names, and how many more: a broken header can have a million."""
    more = f" and {len(names) - shown} more" if len(names) > shown else ""
    return f"{names[:shown]}{more}"


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


def trailing_subdivision(organization: str | None) -> str | None:
    """The two-letter code CDP's North American organisations end with:
    'City of Portland, ME' -> 'ME'; 'District of Saanich, BC' -> 'BC'; else None."""
    match = _TRAILING_CODE.search(organization or "")
    return match.group(1) if match else None


def city_reference(row: dict[str, str | None]) -> dict[str, object]:
    """How a CDP row names its city, in the columns the builders read: the City column's
    name, else the Organization's; CDP's country; the state or province the Organization
    ends with; the POINT and the population it gives. A population that is not a number
    is kept as written, so that validation rejects it by name instead of it becoming null."""
    point = parse_point(row.get("city_location"))
    population = row.get("population")
    return {
        "city_name": row.get("city") or row.get("organization"),
        "country_code": row.get("country"),
        "admin1_code": trailing_subdivision(row.get("organization")),
        "latitude": point[0] if point else None,
        "longitude": point[1] if point else None,
        "population": population if number(population) is None else number(population),
        "source_id": row.get("account_number"),
    }
