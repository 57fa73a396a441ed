"""`city_ids`: the crosswalk from each source's own spelling (and id, where it has one) to
the canonical city, with how the match was made."""

import pandas as pd
import pandera.pandas as pa
from pandera.typing import Series

from schemas.codes import (
    CITY_ID_PATTERN,
    CROSSWALK_METHODS,
    SOURCES,
    SPELLING_KEY,
    WIKIDATA_QID_PATTERN,
)


class CityIds(pa.DataFrameModel):
    city_id: Series[str] = pa.Field(
        str_matches=CITY_ID_PATTERN, description="The canonical city; joins to cities."
    )
    geonames_id: Series[pd.Int64Dtype] = pa.Field(
        nullable=True, gt=0, description="GeoNames id of the city; null for 'wd:' cities."
    )
    wikidata_qid: Series[str] = pa.Field(
        nullable=True,
        str_matches=WIKIDATA_QID_PATTERN,
        description="Wikidata item of the city; null until a source links it.",
    )
    source: Series[str] = pa.Field(isin=SOURCES, description="Source that named the city.")
    source_table: Series[str] = pa.Field(
        description="Table whose rows used this spelling (memberships, agreements, ...)."
    )
    source_id: Series[str] = pa.Field(
        nullable=True,
        description="The source's own identifier for the city, where it has one (a Wikidata "
        "QID, ...).",
    )
    source_name: Series[str] = pa.Field(description="The city as the source spells it.")
    source_country: Series[str] = pa.Field(
        nullable=True, description="The country as the source gives it."
    )
    source_admin1: Series[str] = pa.Field(
        nullable=True, description="The admin1 code the source gave, if any."
    )
    method: Series[str] = pa.Field(
        isin=CROSSWALK_METHODS,
        description="How the match was made; 'wikidata_item' when no GeoNames place matched "
        "a Wikidata item and the item is the city.",
    )
    confidence: Series[float] = pa.Field(ge=0, le=1, description="The resolver's confidence.")
    runner_up_id: Series[str] = pa.Field(
        nullable=True,
        str_matches=CITY_ID_PATTERN,
        description="The next-best candidate, where there was one.",
    )
    rows: Series[pd.Int64Dtype] = pa.Field(
        gt=0, description="How many input rows used this spelling."
    )
    snapshot_id: Series[str] = pa.Field(description="Snapshot the spelling was read from.")

    class Config:
        name = "city_ids"
        description = "One row per source spelling of a city and the city it resolves to."
        strict = True
        coerce = True
        unique = SPELLING_KEY
