"""`unresolved_names`: every source spelling the resolver could not settle, with why and
the candidates it weighed, so a curator can add the admin1 code or coordinates it needs."""

import pandas as pd
import pandera.pandas as pa
from pandera.typing import Series

from schemas.codes import NO_MATCH, SOURCES, SPELLING_KEY


class UnresolvedNames(pa.DataFrameModel):
    source: Series[str] = pa.Field(isin=SOURCES, description="Source that named the city.")
    source_table: Series[str] = pa.Field(description="Table whose rows used this spelling.")
    source_id: Series[str] = pa.Field(
        nullable=True, description="The source's own identifier (a Wikidata QID, ...)."
    )
    source_name: Series[str] = pa.Field(
        nullable=True, description="The city as the source spells it."
    )
    source_country: Series[str] = pa.Field(
        nullable=True, description="The country as the source gives it."
    )
    source_admin1: Series[str] = pa.Field(nullable=True, description="The admin1 code given.")
    outcome: Series[str] = pa.Field(
        isin=NO_MATCH,
        description="unresolved (no candidate), ambiguous (alike candidates) or conflict "
        "(candidates far from the source's coordinates).",
    )
    reason: Series[str] = pa.Field(description="Why, in words.")
    candidate_ids: Series[str] = pa.Field(
        nullable=True, description="The candidates weighed, as city ids ('gn:1, gn:2')."
    )
    rows: Series[pd.Int64Dtype] = pa.Field(gt=0, description="Input rows with this spelling.")
    snapshot_id: Series[str] = pa.Field(description="Snapshot the spelling was read from.")

    class Config:
        name = "unresolved_names"
        description = "One row per source spelling the resolver could not settle."
        strict = True
        coerce = True
        unique = SPELLING_KEY
