"""`cities`: one row per city that takes part in a membership, agreement, commitment or
hosts a network; identity from the GeoNames gazetteer."""

import pandas as pd
import pandera.pandas as pa
from pandera.typing import Series

from schemas.codes import CITY_ID_PATTERN, COUNTRY_CODE_PATTERN, SOURCES, WIKIDATA_QID_PATTERN


class Cities(pa.DataFrameModel):
    city_id: Series[str] = pa.Field(
        str_matches=CITY_ID_PATTERN,
        description="Stable city identifier: 'gn:' followed by the GeoNames id.",
    )
    name: Series[str] = pa.Field(description="Name as GeoNames gives it (UTF-8).")
    ascii_name: Series[str] = pa.Field(
        nullable=True, description="GeoNames ASCII name; null in the bundled gazetteer copy."
    )
    country_code: Series[str] = pa.Field(
        str_matches=COUNTRY_CODE_PATTERN, description="ISO 3166-1 alpha-2 country code."
    )
    admin1_code: Series[str] = pa.Field(
        nullable=True, description="GeoNames first-level administrative division code."
    )
    admin1_name: Series[str] = pa.Field(
        nullable=True,
        description="Name of the admin1 division (e.g. 'California'); null without GeoNames "
        "admin1 codes.",
    )
    latitude: Series[float] = pa.Field(ge=-90, le=90, description="WGS84 latitude.")
    longitude: Series[float] = pa.Field(ge=-180, le=180, description="WGS84 longitude.")
    population: Series[pd.Int64Dtype] = pa.Field(
        nullable=True, ge=0, description="Population as GeoNames states it."
    )
    geonames_id: Series[pd.Int64Dtype] = pa.Field(gt=0, description="GeoNames id.")
    wikidata_qid: Series[str] = pa.Field(
        nullable=True,
        str_matches=WIKIDATA_QID_PATTERN,
        description="Wikidata item of the city; null until a source links it.",
    )
    feature_code: Series[str] = pa.Field(
        nullable=True,
        description="GeoNames feature code (PPL, PPLA, PPLC, ...); null in the bundled copy.",
    )
    source: Series[str] = pa.Field(isin=SOURCES, description="Source of the identity row.")
    snapshot_id: Series[str] = pa.Field(description="Gazetteer snapshot the row came from.")

    class Config:
        name = "cities"
        description = "One row per city that takes part in the dataset."
        strict = True
        coerce = True
        unique = ["city_id"]
