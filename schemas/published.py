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

# Which columns refer to which table's key: (columns, table, its columns). The release's
# relation rules enforce them (assets/checks.py); datapackage.json declares them.
CITY = ("cities", ["city_id"])
FOREIGN_KEYS: dict[str, list[tuple[list[str], str, list[str]]]] = {
    "networks": [(["hq_city_id"], *CITY)],
    "memberships": [(["city_id"], *CITY), (["network_id"], "networks", ["network_id"])],
    "agreements": [(["city_a_id"], *CITY), (["city_b_id"], *CITY)],
    "commitments": [(["city_id"], *CITY)],
    "assessments": [(["city_id"], *CITY)],
    "city_emissions": [(["city_id"], *CITY)],
    "city_ids": [(["city_id"], *CITY)],
    "network_qid_review": [(["network_id"], "networks", ["network_id"])],
}
# Every row names the snapshot it came from; `sources` lists each snapshot once.
for _table in PUBLISHED:
    if _table != "sources":
        FOREIGN_KEYS.setdefault(_table, []).append((["snapshot_id"], "sources", ["snapshot_id"]))

# What identifies the same real-world entity apart from its stable id. A row whose id
# disappears while a row with the same natural key appears under another id is id churn
# (e.g. a city that moves from a 'wd:' to a 'gn:' id, or a changed id function); each
# alternative key is tried in turn, and only non-null keys match.
NATURAL_KEYS: dict[str, list[list[str]]] = {
    "cities": [["geonames_id"], ["wikidata_qid"]],
    "networks": [["name"], ["wikidata_qid"]],
    "memberships": [["network_id", "city_id"], ["network_id", "source_city_name"]],
    "agreements": [
        ["city_a_id", "city_b_id", "kind"],
        ["city_a_source_name", "city_b_source_name", "kind"],
    ],
    "assessments": [["source", "city_id"]],
    "city_emissions": [["source", "source_id", "accounting_period"]],
}
# A city's new id changes the ids of its memberships and agreements too (they hash it);
# the spellings the source gave pair those rows up again.
