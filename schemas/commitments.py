"""`commitments`: one row per target a city has stated (climate and others)."""

import pandas as pd
import pandera.pandas as pa
from pandera.typing import Series

from schemas.codes import CITY_ID_PATTERN, COMMITMENT_KINDS, MAX_YEAR, MIN_YEAR
from schemas.provenance import Provenance


class Commitments(Provenance):
    commitment_id: Series[str] = pa.Field(
        str_matches=r"^com:[0-9a-f]{16}$",
        description="Stable id: hash of city, kind, years, percentage and source.",
    )
    city_id: Series[str] = pa.Field(
        str_matches=CITY_ID_PATTERN, description="The committed city; joins to cities."
    )
    kind: Series[str] = pa.Field(isin=COMMITMENT_KINDS, description="Kind of target.")
    target_year: Series[pd.Int64Dtype] = pa.Field(
        nullable=True, ge=MIN_YEAR, le=MAX_YEAR, description="Year the target is due."
    )
    baseline_year: Series[pd.Int64Dtype] = pa.Field(
        nullable=True, ge=MIN_YEAR, le=MAX_YEAR, description="Baseline year of a reduction."
    )
    reduction_pct: Series[float] = pa.Field(
        nullable=True, ge=0, le=100, description="Reduction against the baseline, in percent."
    )
    status: Series[str] = pa.Field(
        nullable=True, description="Status as the source states it (e.g. 'In law')."
    )
    stated_text: Series[str] = pa.Field(
        nullable=True, description="The source's words stating the commitment."
    )
    city_source_name: Series[str] = pa.Field(description="The city as the source spells it.")

    @pa.dataframe_check(description="A baseline comes before its target year.")
    def baseline_before_target(cls, df: pd.DataFrame) -> pd.Series:
        return (
            df["baseline_year"].isna()
            | df["target_year"].isna()
            | (df["baseline_year"] < df["target_year"])
        )

    class Config:
        name = "commitments"
        description = "One row per stated city commitment."
        strict = True
        coerce = True
        unique = ["commitment_id"]
