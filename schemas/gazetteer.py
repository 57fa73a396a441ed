"""The parsed GeoNames gazetteer: an input contract (not a published table) checked before
any city is resolved against it."""

import pandas as pd
import pandera.pandas as pa
from pandera.typing import Series

from schemas.codes import COUNTRY_CODE_PATTERN


class Gazetteer(pa.DataFrameModel):
    geonames_id: Series[pd.Int64Dtype] = pa.Field(gt=0, description="GeoNames id.")
    name: Series[str] = pa.Field(description="Name.")
    ascii_name: Series[str] = pa.Field(nullable=True, description="ASCII name.")
    alternate_names: Series[str] = pa.Field(nullable=True, description="Comma-separated names.")
    latitude: Series[float] = pa.Field(ge=-90, le=90, description="WGS84 latitude.")
    longitude: Series[float] = pa.Field(ge=-180, le=180, description="WGS84 longitude.")
    feature_code: Series[str] = pa.Field(nullable=True, description="GeoNames feature code.")
    country_code: Series[str] = pa.Field(
        str_matches=COUNTRY_CODE_PATTERN, description="ISO 3166-1 alpha-2 code."
    )
    admin1_code: Series[str] = pa.Field(nullable=True, description="Admin1 code.")
    population: Series[pd.Int64Dtype] = pa.Field(nullable=True, ge=0, description="Population.")
    snapshot_id: Series[str] = pa.Field(description="Snapshot the row was parsed from.")

    class Config:
        name = "gazetteer"
        description = "The GeoNames gazetteer as parsed, one row per place."
        strict = True
        unique = ["geonames_id"]
