"""`rejected_rows`: every input row a table did not accept, with the rule and the reason."""

import pandera.pandas as pa
from pandera.typing import Series

from schemas.codes import SOURCES


class RejectedRows(pa.DataFrameModel):
    table_name: Series[str] = pa.Field(description="Table the row was meant for.")
    source: Series[str] = pa.Field(isin=SOURCES, description="Source slug of the row.")
    snapshot_id: Series[str] = pa.Field(description="Snapshot the row came from.")
    source_row: Series[str] = pa.Field(
        nullable=True, description="Where the row stands in its source file (e.g. 'line 12')."
    )
    rule: Series[str] = pa.Field(description="Rule the row broke (check or resolution step).")
    column_name: Series[str] = pa.Field(nullable=True, description="Column that failed.")
    value: Series[str] = pa.Field(nullable=True, description="The failing value, as text.")
    reason: Series[str] = pa.Field(description="Why the row was rejected, in words.")
    record: Series[str] = pa.Field(description="The whole input row as JSON, so nothing is lost.")

    class Config:
        name = "rejected_rows"
        description = "One row per rejected input row and broken rule."
        strict = True
        coerce = True
