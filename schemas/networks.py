"""`networks`: one row per city network, from the curated registry."""

import pandas as pd
import pandera.pandas as pa
from pandera.typing import Series

from schemas.codes import (
    CITY_ID_PATTERN,
    COUNTRY_CODE_PATTERN,
    MAX_YEAR,
    MIN_YEAR,
    NETWORK_FOCUS,
    NETWORK_ID_PATTERN,
    NETWORK_SCOPE,
    SOURCES,
    URL_PATTERN,
    WIKIDATA_QID_PATTERN,
)


class Networks(pa.DataFrameModel):
    network_id: Series[str] = pa.Field(
        str_matches=NETWORK_ID_PATTERN, description="Stable slug of the network."
    )
    name: Series[str] = pa.Field(description="Name of the network.")
    acronym: Series[str] = pa.Field(nullable=True, description="Acronym, where it has one.")
    founded_year: Series[pd.Int64Dtype] = pa.Field(
        nullable=True, ge=MIN_YEAR, le=MAX_YEAR, description="Year founded, as the sources state."
    )
    hq_city_name: Series[str] = pa.Field(
        nullable=True, description="Headquarters city as the sources name it."
    )
    hq_country_code: Series[str] = pa.Field(
        nullable=True, str_matches=COUNTRY_CODE_PATTERN, description="Headquarters country."
    )
    hq_city_id: Series[str] = pa.Field(
        nullable=True,
        str_matches=CITY_ID_PATTERN,
        description="Headquarters city in `cities`; null when no HQ is stated or it is unresolved.",
    )
    website_url: Series[str] = pa.Field(
        nullable=True, str_matches=URL_PATTERN, description="Official website."
    )
    focus: Series[str] = pa.Field(isin=NETWORK_FOCUS, description="Main focus (code list).")
    scope: Series[str] = pa.Field(
        isin=NETWORK_SCOPE, description="Geographic scope: global, regional or national."
    )
    scope_area: Series[str] = pa.Field(
        nullable=True, description="Region (regional) or ISO country code (national)."
    )
    member_count_stated: Series[str] = pa.Field(
        nullable=True, description="Member count as stated, verbatim (e.g. '>2,500')."
    )
    member_count_as_of: Series[str] = pa.Field(
        nullable=True, description="Date or year the stated count refers to, when given."
    )
    wikidata_qid: Series[str] = pa.Field(
        nullable=True,
        str_matches=WIKIDATA_QID_PATTERN,
        description="Wikidata item; null unless a source confirms one.",
    )
    notes: Series[str] = pa.Field(
        nullable=True, description="Where sources disagree, and how values were chosen."
    )
    source: Series[str] = pa.Field(isin=SOURCES, description="Source slug.")
    source_urls: Series[str] = pa.Field(
        description="';'-separated URLs of the pages the row's values were read in."
    )
    snapshot_id: Series[str] = pa.Field(description="Registry snapshot the row came from.")

    @pa.dataframe_check(description="A headquarters city id comes with the country it is in.")
    def hq_has_country(cls, df: pd.DataFrame) -> pd.Series:
        return df["hq_city_id"].isna() | df["hq_country_code"].notna()

    class Config:
        name = "networks"
        description = "One row per city network."
        strict = True
        coerce = True
        unique = ["network_id"]
