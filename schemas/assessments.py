"""`assessments`: one row per city a commitments source assessed, target or not.

A source such as the Net Zero Tracker records every city in its scope, also those with no
target. Keeping that fact apart from `commitments` lets a user tell "assessed, no target"
(a row here with has_target false) from "not covered" (no row here).
"""

import pandera.pandas as pa
from pandera.typing import Series

from schemas.codes import CITY_ID_PATTERN
from schemas.provenance import Provenance

DATE_PATTERN = r"^\d{4}-\d{2}-\d{2}$"


class Assessments(Provenance):
    assessment_id: Series[str] = pa.Field(
        str_matches=r"^asm:[0-9a-f]{16}$", description="Stable id: hash of source and city."
    )
    city_id: Series[str] = pa.Field(
        str_matches=CITY_ID_PATTERN, description="The assessed city; joins to cities."
    )
    has_target: Series[pa.BOOL] = pa.Field(
        nullable=True,
        description="True if the source states a target (end or interim), false if it "
        "states 'No target' for both; null if it states neither.",
    )
    end_target_stated: Series[str] = pa.Field(
        nullable=True,
        description="The source's category for the end target as written ('No target', "
        "'Net zero', ...).",
    )
    interim_target_stated: Series[str] = pa.Field(
        nullable=True, description="The source's category for the interim target as written."
    )
    last_updated: Series[str] = pa.Field(
        nullable=True,
        str_matches=DATE_PATTERN,
        description="Date the source last updated its record of the city (YYYY-MM-DD).",
    )
    city_source_name: Series[str] = pa.Field(description="The city as the source spells it.")
    source_id: Series[str] = pa.Field(
        nullable=True, description="The source's own id for the city's record."
    )

    class Config:
        name = "assessments"
        description = "One row per city a commitments source assessed, with or without a target."
        strict = True
        coerce = True
        unique = ["assessment_id"]
