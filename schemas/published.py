"""The published tables, in release order, each with its pandera model."""

import pandera.pandas as pa

from schemas.agreements import Agreements
from schemas.assessments import Assessments
from schemas.cities import Cities
from schemas.city_emissions import CityEmissions
from schemas.city_ids import CityIds
from schemas.commitments import Commitments
from schemas.memberships import Memberships
from schemas.network_qid_review import NetworkQidReview
from schemas.networks import Networks
from schemas.rejected_rows import RejectedRows
from schemas.sources import Sources
from schemas.unresolved_names import UnresolvedNames

PUBLISHED: dict[str, type[pa.DataFrameModel]] = {
    "cities": Cities,
    "networks": Networks,
    "memberships": Memberships,
    "agreements": Agreements,
    "commitments": Commitments,
    "assessments": Assessments,
    "city_emissions": CityEmissions,
    "city_ids": CityIds,
    "unresolved_names": UnresolvedNames,
    "network_qid_review": NetworkQidReview,
    "sources": Sources,
    "rejected_rows": RejectedRows,
}
