"""`agreements`: one row per unordered pair of cities and kind of agreement."""

import pandas as pd
import pandera.pandas as pa
from pandera.typing import Series

from schemas.codes import AGREEMENT_KINDS, AGREEMENT_STATUS, CITY_ID_PATTERN, MAX_YEAR, MIN_YEAR
from schemas.provenance import Provenance


class Agreements(Provenance):
    agreement_id: Series[str] = pa.Field(
        str_matches=r"^agr:[0-9a-f]{16}$",
        description="Stable id: hash of city_a_id, city_b_id and kind.",
    )
    city_a_id: Series[str] = pa.Field(
        str_matches=CITY_ID_PATTERN, description="First city of the pair (city_a_id < city_b_id)."
    )
    city_b_id: Series[str] = pa.Field(
        str_matches=CITY_ID_PATTERN, description="Second city of the pair."
    )
    kind: Series[str] = pa.Field(isin=AGREEMENT_KINDS, description="Kind of agreement.")
    start_year: Series[pd.Int64Dtype] = pa.Field(
        nullable=True, ge=MIN_YEAR, le=MAX_YEAR, description="Year the agreement began."
    )
    start_date: Series[pd.StringDtype] = pa.Field(
        nullable=True,
        str_matches=r"^\d{4}-\d{2}-\d{2}$",
        description="ISO date the agreement began, only when the source gives the day.",
    )
    end_year: Series[pd.Int64Dtype] = pa.Field(
        nullable=True, ge=MIN_YEAR, le=MAX_YEAR, description="Year the agreement ended."
    )
    is_reciprocal: Series[pd.BooleanDtype] = pa.Field(
        nullable=True,
        description="True when each city's record states the link (Wikidata: a P190 "
        "statement on both items), False when only one does; null when the source cannot "
        "tell.",
    )
    status: Series[str] = pa.Field(
        nullable=True, isin=AGREEMENT_STATUS, description="Status, when the source states it."
    )
    stated_text: Series[str] = pa.Field(
        nullable=True, description="The source's words stating the agreement."
    )
    city_a_source_name: Series[str] = pa.Field(description="city_a as the source spells it.")
    city_b_source_name: Series[str] = pa.Field(description="city_b as the source spells it.")

    @pa.dataframe_check(description="The pair is stored in canonical order: city_a_id < city_b_id.")
    def pair_in_canonical_order(cls, df: pd.DataFrame) -> pd.Series:
        return df["city_a_id"] < df["city_b_id"]

    @pa.check("start_date", description="start_date is a real calendar date.")
    def start_date_is_a_date(cls, dates: pd.Series) -> pd.Series:
        return pd.to_datetime(dates, format="%Y-%m-%d", errors="coerce").notna()

    @pa.dataframe_check(description="start_date, when given, falls in start_year.")
    def start_date_in_start_year(cls, df: pd.DataFrame) -> pd.Series:
        year = df["start_date"].str.slice(0, 4).astype("Int64")
        return df["start_date"].isna() | (year == df["start_year"]).fillna(False)

    @pa.dataframe_check(description="An agreement cannot end before it began.")
    def end_after_start(cls, df: pd.DataFrame) -> pd.Series:
        return (
            df["end_year"].isna() | df["start_year"].isna() | (df["end_year"] >= df["start_year"])
        )

    class Config:
        name = "agreements"
        description = "One row per unordered city pair and kind of agreement."
        strict = True
        coerce = True
        unique = ["agreement_id"]
