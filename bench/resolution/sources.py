"""Reading the benchmark's inputs into plain city references: the recorded sources in
../shared/data (the CDP 2021 CSVs in their live and R-resaved spellings, the pasted Eurocities
list, the Net Zero Tracker snapshot), the C40 rows of the project's registry, and the bundled
GeoNames gazetteers the resolver is built from. It exists so that each source's quirks
(header spellings, missing-value tokens, WKT points, alternating lines) are dealt with in one
place, before anything is resolved or scored."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TextIO

import pandas as pd

from assets.sources import eurocities_members
from assets.sources import number as parse_population
from assets.sources.cdp import (
    LIVE_MISSING,
    R_MISSING,
    normalise_header,
    parse_point,
    trailing_subdivision,
)
from assets.sources.geonames import bundled_file, parse_bundled_cities, parse_bundled_countries

PROJECT_ROOT = Path(__file__).resolve().parents[2]
MEMBERSHIPS = PROJECT_ROOT / "raw" / "registry" / "memberships.csv"

CDP_TARGETS = Path("cdp/2021_Cities_Emissions_Reduction_Targets.r-resaved.csv")
CDP_EMISSIONS = Path("cdp/2021_City-wide_Emissions.csv")
EUROCITIES = Path("networks/eurocities-members.2025-06.txt")
NET_ZERO_TRACKER = Path("net-zero-tracker/snapshot_2022-12-20_13-07-14.xlsx")


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
    population: float | None = None

    @property
    def has_point(self) -> bool:
        return self.latitude is not None and self.longitude is not None


@dataclass(frozen=True)
class Source:
    """A source's references, and whether it has points (then measured both ways)."""

    key: str
    label: str
    references: list[Reference]
    has_points: bool = False


# --- loading the sources ------------------------------------------------------------------


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
    the City column's name when given, else the Organization's; CDP's country; the US state
    or Canadian province the Organization ends with ("City of Portland, ME"); the first
    POINT and the first population any of the organisation's rows gives."""
    frame = frame.rename(columns=normalise_header)
    location = find_location_column(frame.columns)
    references: dict[str, Reference] = {}
    for row in frame.itertuples(index=False):
        account = present(row.account_number, missing)
        if account is None:
            continue
        point = parse_point(present(getattr(row, location), missing))
        population = parse_population(present(row.population, missing))
        known = references.get(account)
        if known is not None:
            if not known.has_point and point is not None:
                known = replace(known, latitude=point[0], longitude=point[1])
            if known.population is None and population is not None:
                known = replace(known, population=population)
            references[account] = known
            continue
        organization = present(row.organization, missing)
        name = present(row.city, missing) or organization
        references[account] = Reference(
            source=source,
            key=account,
            name=name or "",
            country=present(row.country, missing),
            admin1=trailing_subdivision(organization),
            latitude=point[0] if point else None,
            longitude=point[1] if point else None,
            population=population,
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
    """The pasted member list, read by the pipeline's own parser (eurocities_members)."""
    frame = eurocities_members.parse_members(text.encode(), "eurocities", "")
    return [
        Reference("eurocities", str(number), name, country)
        for number, (name, country) in enumerate(
            zip(frame["city_name"], frame["country_code"], strict=True)
        )
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


# --- the gazetteer ------------------------------------------------------------------------


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
