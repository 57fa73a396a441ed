"""`commitments`: one row per target a city has stated (climate and others)."""

import pandas as pd
import pandera.pandas as pa
from pandera.typing import Series

from schemas.codes import (
    CITY_ID_PATTERN,
    COMMITMENT_KINDS,
    COMMITMENT_STAGES,
    MAX_YEAR,
    MIN_YEAR,
    TARGET_MAX_YEAR,
    TARGET_MIN_YEAR,
    TARGET_TYPES,
)
from schemas.provenance import Provenance


class Commitments(Provenance):
    commitment_id: Series[str] = pa.Field(
        str_matches=r"^com:[0-9a-f]{16}$",
        description="Stable id: hash of city, kind, years, percentage, source and, where "
        "given, sector, target type and stage.",
    )
    commitment_key: Series[str] = pa.Field(
        str_matches=r"^cmk:[0-9a-f]{16}$",
        description="Hash of city, kind and target year. Rows of different sources that "
        "share it state the same commitment: each keeps its own row and provenance, so "
        "sources can be compared.",
    )
    city_id: Series[str] = pa.Field(
        str_matches=CITY_ID_PATTERN, description="The committed city; joins to cities."
    )
    kind: Series[str] = pa.Field(
        isin=COMMITMENT_KINDS,
        description="Kind of target, coded from the source's category (stated_kind).",
    )
    stage: Series[str] = pa.Field(
        nullable=True,
        isin=COMMITMENT_STAGES,
        description="'end' for a long-term target, 'interim' for a step towards it; null "
        "where the source does not tell them apart.",
    )
    target_type: Series[str] = pa.Field(
        nullable=True,
        isin=TARGET_TYPES,
        description="How a reduction is measured: against a base year's absolute or "
        "per-unit (intensity) emissions, against a business-as-usual scenario, or as a "
        "fixed level; null where the source does not say.",
    )
    sector: Series[str] = pa.Field(
        nullable=True,
        description="The emissions the target covers, as the source states it ('All "
        "emissions sources included in city inventory', 'Transport'); null where not stated.",
    )
    target_year: Series[pd.Int64Dtype] = pa.Field(
        nullable=True,
        ge=TARGET_MIN_YEAR,
        le=TARGET_MAX_YEAR,
        description="Year the target is due; null where the source gives none.",
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
    stated_kind: Series[str] = pa.Field(
        nullable=True,
        description="The source's own category for the target (e.g. 'Carbon neutral(ity)'), "
        "from which kind is coded.",
    )
    stated_text: Series[str] = pa.Field(
        nullable=True, description="The source's words stating the commitment."
    )
    city_source_name: Series[str] = pa.Field(description="The city as the source spells it.")
    source_id: Series[str] = pa.Field(
        nullable=True,
        description="The source's own id for the city's record (a Net Zero Tracker actor "
        "code such as 'CIT-0001'); null for the registry.",
    )

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
