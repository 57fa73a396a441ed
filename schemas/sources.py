"""`sources`: one row per source snapshot a release was built from."""

import pandas as pd
import pandera.pandas as pa
from pandera.typing import Series

from schemas.codes import SHA256_PATTERN, SOURCES


class Sources(pa.DataFrameModel):
    snapshot_id: Series[str] = pa.Field(description="Snapshot id; the provenance key.")
    source: Series[str] = pa.Field(isin=SOURCES, description="Source slug.")
    role: Series[str] = pa.Field(
        description="What the file gives the build (e.g. 'cities', 'countries', 'memberships')."
    )
    file_name: Series[str] = pa.Field(description="Name of the stored file.")
    publisher: Series[str] = pa.Field(description="Who publishes the source.")
    origin: Series[str] = pa.Field(
        description="Where the bytes came from: a URL, an imported file name or a package."
    )
    licence: Series[str] = pa.Field(description="Licence of the source material.")
    attribution: Series[str] = pa.Field(description="Attribution wording the licence asks for.")
    sha256: Series[str] = pa.Field(str_matches=SHA256_PATTERN, description="sha256 of the file.")
    bytes: Series[pd.Int64Dtype] = pa.Field(ge=0, description="Size of the file in bytes.")
    retrieved_at: Series[str] = pa.Field(
        nullable=True, description="UTC time the file was fetched or imported (ISO 8601)."
    )
    note: Series[str] = pa.Field(
        nullable=True, description="Caveats: a fallback copy, its vintage, staleness."
    )

    class Config:
        name = "sources"
        description = "One row per source snapshot used by the release."
        strict = True
        coerce = True
        unique = ["snapshot_id"]
