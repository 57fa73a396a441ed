"""Provenance columns carried by every relationship table (memberships, agreements,
commitments), so each row traces to a source snapshot and a citation."""

import pandas as pd
import pandera.pandas as pa
from pandera.typing import Series

from schemas.codes import SOURCES, URL_PATTERN


class Provenance(pa.DataFrameModel):
    source: Series[str] = pa.Field(
        isin=SOURCES, description="Slug of the source the row was read from."
    )
    source_url: Series[str] = pa.Field(
        nullable=True,
        str_matches=URL_PATTERN,
        description="URL of the page or file that states the fact, when there is one.",
    )
    citation: Series[str] = pa.Field(
        nullable=True,
        description="Citation of the stating document (title, publisher, date) where a URL "
        "alone does not identify it.",
    )
    snapshot_id: Series[str] = pa.Field(
        description="Snapshot of the source the row came from; joins to sources.snapshot_id."
    )

    @pa.dataframe_check(description="Every row cites a URL or a document.")
    def has_citation(cls, df: pd.DataFrame) -> pd.Series:
        return df["source_url"].notna() | df["citation"].notna()
