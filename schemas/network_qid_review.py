"""`network_qid_review`: what the Wikidata fetch found for each registry network's QID, so
a curator can confirm one. A QID enters `networks` only when the registry gives it and the
fetch finds that item; a label match is a candidate, never filled in."""

import pandera.pandas as pa
from pandera.typing import Series

from schemas.codes import NETWORK_ID_PATTERN, WIKIDATA_QID_PATTERN

FINDINGS = (
    "confirmed",
    "not_found",
    "invalid_qid",
    "shared_qid",
    "candidate",
    "no_candidate",
    "not_checked",
)


class NetworkQidReview(pa.DataFrameModel):
    network_id: Series[str] = pa.Field(
        str_matches=NETWORK_ID_PATTERN, description="The registry network; joins to networks."
    )
    network_name: Series[str] = pa.Field(description="The network's name in the registry.")
    registry_qid: Series[str] = pa.Field(
        nullable=True,
        description="The QID the registry gives the network, if any, as written there (a "
        "value that is no QID is reported as invalid_qid).",
    )
    finding: Series[str] = pa.Field(
        isin=FINDINGS,
        description="confirmed (the fetch found the registry's QID), not_found (it did "
        "not), invalid_qid (the registry's value is no QID), shared_qid (two networks give "
        "it), candidate (an item whose English label or alias is the network's name or "
        "acronym), no_candidate, or not_checked (no Wikidata fetch stored).",
    )
    qid: Series[str] = pa.Field(
        nullable=True, str_matches=WIKIDATA_QID_PATTERN, description="The item found."
    )
    label: Series[str] = pa.Field(nullable=True, description="The item's English label.")
    description: Series[str] = pa.Field(
        nullable=True, description="The item's English description, to tell candidates apart."
    )
    matched_name: Series[str] = pa.Field(
        nullable=True, description="The network name or acronym the candidate matched."
    )
    snapshot_id: Series[str] = pa.Field(
        nullable=True, description="The Wikidata fetch checked; null when none was stored."
    )

    class Config:
        name = "network_qid_review"
        description = "What the Wikidata fetch found for each registry network's QID."
        strict = True
        coerce = True
        unique = ["network_id", "finding", "qid"]
