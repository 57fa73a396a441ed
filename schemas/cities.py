"""`cities`: one row per city that takes part in a membership, agreement, commitment or
hosts a network; identity from the GeoNames gazetteer, or from Wikidata for the places no
GeoNames place matched."""

import pandas as pd
import pandera.pandas as pa
from pandera.typing import Series

from schemas.codes import CITY_ID_PATTERN, COUNTRY_CODE_PATTERN, SOURCES, WIKIDATA_QID_PATTERN


class Cities(pa.DataFrameModel):
    city_id: Series[str] = pa.Field(
        str_matches=CITY_ID_PATTERN,
        description="Stable city identifier: 'gn:' followed by the GeoNames id, or 'wd:' "
        "followed by the Wikidata QID for a place no GeoNames place matched.",
    )
    name: Series[str] = pa.Field(
        description="Name as GeoNames gives it (UTF-8); for a 'wd:' city, Wikidata's English "
        "label, else another language's, else the QID."
    )
    ascii_name: Series[str] = pa.Field(
        nullable=True,
        description="GeoNames ASCII name; null in the bundled gazetteer copy and for 'wd:' cities.",
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
    latitude: Series[float] = pa.Field(
        nullable=True,
        ge=-90,
        le=90,
        description="WGS84 latitude; null only for a 'wd:' city whose item has no coordinates.",
    )
    longitude: Series[float] = pa.Field(
        nullable=True, ge=-180, le=180, description="WGS84 longitude; null as latitude."
    )
    population: Series[pd.Int64Dtype] = pa.Field(
        nullable=True,
        ge=0,
        description="Population as GeoNames states it (Wikidata's P1082 for 'wd:' cities).",
    )
    geonames_id: Series[pd.Int64Dtype] = pa.Field(
        nullable=True, gt=0, description="GeoNames id; null for 'wd:' cities."
    )
    wikidata_qid: Series[str] = pa.Field(
        nullable=True,
        str_matches=WIKIDATA_QID_PATTERN,
        description="Wikidata item of the city; null until a source links it.",
    )
    feature_code: Series[str] = pa.Field(
        nullable=True,
        description="GeoNames feature code (PPL, PPLA, PPLC, ...); null in the bundled copy.",
    )
    kinds: Series[str] = pa.Field(
        nullable=True,
        description="What the linked Wikidata item is an instance of (P31), as English "
        "labels ('big city; college town'); Wikidata also twins districts, regions and "
        "prefectures, so filter on this. Null without a linked item.",
    )
    source: Series[str] = pa.Field(isin=SOURCES, description="Source of the identity row.")
    snapshot_id: Series[str] = pa.Field(
        description="Snapshot the identity row came from (gazetteer or Wikidata)."
    )

    @pa.dataframe_check(description="A 'gn:' city is that GeoNames place, with its coordinates.")
    def geonames_cities_are_complete(cls, df: pd.DataFrame) -> pd.Series:
        geonames = df["city_id"].str.startswith("gn:")
        same_id = df["city_id"] == "gn:" + df["geonames_id"].astype("string")
        placed = df["latitude"].notna() & df["longitude"].notna()
        return ~geonames | (same_id.fillna(False) & placed)

    @pa.dataframe_check(description="A 'wd:' city is that Wikidata item and no GeoNames place.")
    def wikidata_cities_are_their_item(cls, df: pd.DataFrame) -> pd.Series:
        wikidata = df["city_id"].str.startswith("wd:")
        same_item = (df["city_id"] == "wd:" + df["wikidata_qid"]).fillna(False)
        return ~wikidata | (same_item & df["geonames_id"].isna())

    class Config:
        name = "cities"
        description = "One row per city that takes part in the dataset."
        strict = True
        coerce = True
        unique = ["city_id"]
