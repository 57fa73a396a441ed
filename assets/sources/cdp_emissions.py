"""CDP 2021 city-wide emissions: each reporting city's inventory year and totals.

Published as the context table `city_emissions`, which a city's commitments can be read
against. Rows of cities without an inventory ('In progress', 'Intending to undertake...')
are counted, not read. The live export has a stable URL (EXPORT_URL), which a refresh
fetches; a downloaded copy can also be imported (``citydip import cdp_emissions``).
Restricted: see assets.sources.cdp.
"""

from __future__ import annotations

import re

import pandas as pd
import requests

from assets.sources import Parsed, ParseError, cdp, number
from pipeline.fetching import fetch_and_store
from pipeline.snapshots import Snapshot, SnapshotStore

SOURCE = cdp.source_info("cdp_emissions")
EXPORT_URL = "https://data.cdp.net/api/views/tmta-7i7p/rows.csv?accessType=DOWNLOAD"

_GRID = "grid_supplied_energy"
COLUMNS = (
    "year_reported_to_cdp", "account_number", "organization", "city", "country",
    "cdp_region", "access", "city_wide_emissions_inventory", "accounting_year",
    "administrative_city_boundary",
    "inventory_boundary_compared_to_administrative_city_boundary", "primary_protocol",
    "primary_protocol_comment", "gases_included",
    f"direct_emissions_metric_tonnes_co2e_for_total_generation_of_{_GRID}",
    f"direct_emissions_metric_tonnes_co2e_for_total_emissions_excluding_generation_of_{_GRID}",
    f"indirect_emissions_from_use_of_{_GRID}_metric_tonnes_co2e_for_total_generation_of_{_GRID}",
    f"indirect_emissions_from_use_of_{_GRID}_metric_tonnes_co2e_for_total_emissions_excluding"
    f"_generation_of_{_GRID}",
    f"emissions_occurring_outside_city_boundary_metric_tonnes_co2e_for_total_generation_of_{_GRID}",
    "emissions_occurring_outside_city_boundary_metric_tonnes_co2e_for_total_emissions_excluding"
    f"_generation_of_{_GRID}",
    "total_scope_1_emissions_metric_tonnes_co2e", "total_scope_2_emissions_metric_tonnes_co2e",
    "total_scope_3_emissions", "total_basic_emissions_gpc", "total_basic_plus_emissions_gpc",
    "change_in_emissions", "primary_reason_for_the_change_in_emissions",
    "land_area_in_square_km", "population", "population_year", "city_location", "last_update",
)  # fmt: skip
# The published figures and the column each is read from.
FIGURES = {
    "direct_tco2e": COLUMNS[15],
    "grid_energy_tco2e": COLUMNS[17],
    "scope1_tco2e": "total_scope_1_emissions_metric_tonnes_co2e",
    "scope2_tco2e": "total_scope_2_emissions_metric_tonnes_co2e",
    "scope3_tco2e": "total_scope_3_emissions",
    "basic_tco2e": "total_basic_emissions_gpc",
    "basic_plus_tco2e": "total_basic_plus_emissions_gpc",
}
NEEDED = (
    "year_reported_to_cdp",
    "account_number",
    "organization",
    "city",
    "country",
    "city_wide_emissions_inventory",
    "accounting_year",
    "primary_protocol",
    "gases_included",
    "population",
    "population_year",
    "city_location",
    *FIGURES.values(),
)
HAS_INVENTORY = "Yes"
_PERIOD = re.compile(r"^(\d{4})-\d{2}-\d{2}\s*-\s*(\d{4})-\d{2}-\d{2}$")
EMISSION_COLUMNS = [
    "city_name",
    "country_code",
    "admin1_code",
    "latitude",
    "longitude",
    "population",
    "population_year",
    "inventory_year",
    "accounting_period",
    *FIGURES,
    "total_tco2e",
    "total_basis",
    "protocol",
    "gases",
    "source_id",
    "source_url",
    "citation",
    "source_row",
]


def parse_emissions(content: bytes, file_name: str) -> pd.DataFrame:
    """One row per city that reports an inventory (see read_emissions)."""
    return read_emissions(content, file_name).frame


def read_emissions(content: bytes, file_name: str) -> Parsed:
    """One row per city that reports an inventory: its accounting period (inventory_year
    is the year it starts: Japan's fiscal 2013 runs April 2013 to March 2014), its figures
    as stated, and a total where the figures allow one (total_basis says which); and the
    columns the file has that the dataset does not (not read)."""
    records, unknown = cdp.read_rows(content, SOURCE.slug, file_name, COLUMNS, NEEDED)
    rows = []
    for line, row in records:
        if row["city_wide_emissions_inventory"] != HAS_INVENTORY:
            continue
        figures = {name: row[column] for name, column in FIGURES.items()}
        total, basis = _total(figures)
        period = row["accounting_year"]
        match = _PERIOD.match(period or "")
        population_year = row["population_year"]
        rows.append(
            {
                **cdp.city_reference(row),
                # CDP writes 0 for a population year it does not know
                "population_year": None if population_year in (None, "0") else population_year,
                "inventory_year": match.group(1) if match else None,
                "accounting_period": period,
                **figures,
                "total_tco2e": total,
                "total_basis": basis,
                "protocol": row["primary_protocol"],
                "gases": row["gases_included"],
                "source_url": EXPORT_URL,
                "citation": f"CDP {row['year_reported_to_cdp']} City-wide Emissions ({file_name})"
                f", account {row['account_number']} ({row['organization']})",
                "source_row": f"{file_name} line {line}",
            }
        )
    return Parsed(pd.DataFrame(rows, columns=EMISSION_COLUMNS, dtype="object"), unknown)


def _total(figures: dict[str, str | None]) -> tuple[float | None, str | None]:
    """The city's total by the first rule its figures allow, and the rule's name; none
    where they allow none (a total is never made up from a part)."""
    values = {k: number(v) for k, v in figures.items()}
    if values["basic_tco2e"] is not None:
        return values["basic_tco2e"], "BASIC (GPC)"
    scope1, scope2 = values["scope1_tco2e"], values["scope2_tco2e"]
    if scope1 is not None and scope2 is not None:
        return scope1 + scope2, "scope 1 + scope 2"
    direct, grid = values["direct_tco2e"], values["grid_energy_tco2e"]
    if direct is not None and grid is not None:
        return direct + grid, "direct + grid-supplied energy"
    return None, None


FILE_NAME = "2021_City-wide_Emissions.csv"
MAX_BYTES = 64 << 20  # the 2021 export is 0.4 MB


def fetch(
    store: SnapshotStore,
    session: requests.Session,
    url: str = EXPORT_URL,
    timeout: tuple[float, float] = (10.0, 70.0),
    accept_shrink: bool = False,
) -> tuple[Snapshot, bool]:
    """Download the export and store it, after its parser has accepted it: an error page
    or a changed layout stores nothing (ParseError), a failed download neither
    (FetchError), nor an export with sharply fewer rows than the last (VolumeError); an
    export the server says is unchanged (304) is not downloaded again."""
    previous = store.latest(SOURCE.slug, FILE_NAME)
    return fetch_and_store(
        store,
        session,
        SOURCE.slug,
        SOURCE.licence,
        FILE_NAME,
        url,
        check_import,
        previous,
        timeout,
        MAX_BYTES,
        accept_shrink,
    )


def check_import(file_name: str, content: bytes) -> int:
    """The rows that report an inventory; refuse a file that is not the city-wide
    emissions dataset or has none."""
    rows = len(parse_emissions(content, file_name))
    if rows == 0:
        raise ParseError(SOURCE.slug, file_name, "file", "no row reports an inventory")
    return rows
