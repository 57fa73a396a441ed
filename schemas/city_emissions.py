"""`city_emissions`: each reporting city's emissions inventory, as context for its
commitments (CDP's city-wide emissions; restricted, so in the full edition only)."""

import pandas as pd
import pandera.pandas as pa
from pandera.typing import Series

from schemas.codes import CITY_ID_PATTERN, MAX_YEAR, MIN_YEAR
from schemas.provenance import Provenance

TONNES = "in tonnes CO2e, as stated; null where not stated"


class CityEmissions(Provenance):
    emissions_id: Series[str] = pa.Field(
        str_matches=r"^emi:[0-9a-f]{16}$",
        description="Stable id: hash of source, the source's id for the city and the "
        "accounting period.",
    )
    city_id: Series[str] = pa.Field(
        str_matches=CITY_ID_PATTERN, description="The reporting city; joins to cities."
    )
    inventory_year: Series[pd.Int64Dtype] = pa.Field(
        nullable=True,
        ge=MIN_YEAR,
        le=MAX_YEAR,
        description="Year the accounting period starts (Japan's fiscal 2013 runs April "
        "2013 to March 2014); null where the period is not stated whole.",
    )
    accounting_period: Series[str] = pa.Field(
        nullable=True, description="The accounting period as stated ('2018-01-01 - 2018-12-31')."
    )
    total_tco2e: Series[float] = pa.Field(
        nullable=True,
        ge=0,
        description="Total emissions by the first rule the figures allow (total_basis); "
        "null where none does: a total is never made up from a part.",
    )
    total_basis: Series[str] = pa.Field(
        nullable=True,
        isin=("BASIC (GPC)", "scope 1 + scope 2", "direct + grid-supplied energy"),
        description="How total_tco2e was read: the GPC BASIC total; scope 1 plus scope 2; "
        "or direct emissions plus those from grid-supplied energy (both excluding "
        "generation of grid-supplied energy).",
    )
    direct_tco2e: Series[float] = pa.Field(
        nullable=True, description=f"Direct emissions excluding energy generation, {TONNES}."
    )
    grid_energy_tco2e: Series[float] = pa.Field(
        nullable=True, description=f"Emissions from grid-supplied energy used, {TONNES}."
    )
    scope1_tco2e: Series[float] = pa.Field(nullable=True, description=f"Scope 1, {TONNES}.")
    scope2_tco2e: Series[float] = pa.Field(nullable=True, description=f"Scope 2, {TONNES}.")
    scope3_tco2e: Series[float] = pa.Field(nullable=True, description=f"Scope 3, {TONNES}.")
    basic_tco2e: Series[float] = pa.Field(nullable=True, description=f"GPC BASIC total, {TONNES}.")
    basic_plus_tco2e: Series[float] = pa.Field(
        nullable=True, description=f"GPC BASIC+ total, {TONNES}."
    )
    protocol: Series[str] = pa.Field(nullable=True, description="Accounting protocol used.")
    gases: Series[str] = pa.Field(nullable=True, description="Greenhouse gases included.")
    population: Series[pd.Int64Dtype] = pa.Field(
        nullable=True, ge=0, description="Population the city reported."
    )
    population_year: Series[pd.Int64Dtype] = pa.Field(
        nullable=True, ge=MIN_YEAR, le=MAX_YEAR, description="Year of that population."
    )
    city_source_name: Series[str] = pa.Field(description="The city as the source spells it.")
    source_id: Series[str] = pa.Field(
        nullable=True, description="The source's id for the city (CDP's account number)."
    )

    class Config:
        name = "city_emissions"
        description = "One row per city emissions inventory a source reports."
        strict = True
        coerce = True
        unique = ["emissions_id"]
