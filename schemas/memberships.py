"""`memberships`: one row per city in a city network, as a source states it."""

import pandas as pd
import pandera.pandas as pa
from pandera.typing import Series

from schemas.codes import CITY_ID_PATTERN, MAX_YEAR, MEMBERSHIP_ROLES, MIN_YEAR, NETWORK_ID_PATTERN
from schemas.provenance import Provenance


class Memberships(Provenance):
    membership_id: Series[str] = pa.Field(
        str_matches=r"^mem:[0-9a-f]{16}$",
        description="Stable id: hash of network_id and city_id.",
    )
    network_id: Series[str] = pa.Field(
        str_matches=NETWORK_ID_PATTERN, description="The network; joins to networks."
    )
    city_id: Series[str] = pa.Field(
        str_matches=CITY_ID_PATTERN, description="The member city; joins to cities."
    )
    role: Series[str] = pa.Field(isin=MEMBERSHIP_ROLES, description="Kind of membership.")
    joined_year: Series[pd.Int64Dtype] = pa.Field(
        nullable=True, ge=MIN_YEAR, le=MAX_YEAR, description="Year the city joined, if stated."
    )
    left_year: Series[pd.Int64Dtype] = pa.Field(
        nullable=True, ge=MIN_YEAR, le=MAX_YEAR, description="Year the city left, if it did."
    )
    as_of_year: Series[pd.Int64Dtype] = pa.Field(
        nullable=True,
        ge=MIN_YEAR,
        le=MAX_YEAR,
        description="Year of the member list the row was read from.",
    )
    source_city_name: Series[str] = pa.Field(description="The city's name as the source spells it.")

    @pa.dataframe_check(description="A city cannot leave before it joined.")
    def left_after_joined(cls, df: pd.DataFrame) -> pd.Series:
        return (
            df["left_year"].isna()
            | df["joined_year"].isna()
            | (df["left_year"] >= df["joined_year"])
        )

    class Config:
        name = "memberships"
        description = "One row per city-network membership."
        strict = True
        coerce = True
        unique = ["membership_id"]
