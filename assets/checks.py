"""Asset checks: a blocking pandera schema check on every parsed and core table, foreign-key
and provenance checks between tables, and row-count expectations per source. A failing
blocking check stops everything downstream, so no release is published."""

from collections.abc import Iterable

import dagster as dg
import pandas as pd
import pandera.pandas as pa
from pandera.errors import SchemaErrors

from schemas.agreements import Agreements
from schemas.cities import Cities
from schemas.commitments import Commitments
from schemas.gazetteer import Gazetteer
from schemas.memberships import Memberships
from schemas.networks import Networks
from schemas.rejected_rows import RejectedRows
from schemas.sources import Sources

# The smallest GeoNames gazetteer (cities15000) has about 33,000 places; far fewer means a
# truncated or wrong file, not a smaller world.
MIN_GAZETTEER_ROWS = 20_000

SCHEMAS: dict[str, type[pa.DataFrameModel]] = {
    "parsed_geonames__cities": Gazetteer,
    "cities": Cities,
    "networks": Networks,
    "memberships": Memberships,
    "agreements": Agreements,
    "commitments": Commitments,
    "sources": Sources,
    "rejected_rows": RejectedRows,
}


def schema_result(frame: pd.DataFrame, model: type[pa.DataFrameModel]) -> dg.AssetCheckResult:
    """Pass, or fail with the count and the first failure cases."""
    try:
        model.validate(frame, lazy=True)
    except SchemaErrors as errors:
        cases = errors.failure_cases
        return dg.AssetCheckResult(
            passed=False,
            metadata={
                "failures": len(cases),
                "failure_cases": dg.MetadataValue.md(cases.head(20).to_markdown(index=False)),
            },
        )
    return dg.AssetCheckResult(passed=True, metadata={"rows": len(frame)})


def schema_check(asset: str, model: type[pa.DataFrameModel]) -> dg.AssetChecksDefinition:
    @dg.asset_check(
        asset=asset,
        name=f"{asset}_schema",
        blocking=True,
        description=f"The frame satisfies the pandera model {model.__name__}.",
    )
    def _check(frame: pd.DataFrame) -> dg.AssetCheckResult:
        return schema_result(frame, model)

    return _check


def missing_keys(values: Iterable[pd.Series], keys: pd.Series) -> list[str]:
    """Values (nulls aside) that are not among the keys, sorted."""
    wanted = pd.concat([v.dropna() for v in values]).unique()
    return sorted(set(wanted) - set(keys))


def keys_result(missing: list[str], what: str) -> dg.AssetCheckResult:
    return dg.AssetCheckResult(
        passed=not missing,
        metadata={f"missing_{what}": len(missing), "examples": ", ".join(missing[:20])},
    )


@dg.asset_check(
    asset="cities",
    blocking=True,
    additional_ins={
        n: dg.AssetIn(n) for n in ("networks", "memberships", "agreements", "commitments")
    },
    description="Every city_id that networks, memberships, agreements or commitments use is in "
    "cities.",
)
def cities_cover_references(
    cities: pd.DataFrame,
    networks: pd.DataFrame,
    memberships: pd.DataFrame,
    agreements: pd.DataFrame,
    commitments: pd.DataFrame,
) -> dg.AssetCheckResult:
    used = [
        networks["hq_city_id"],
        memberships["city_id"],
        agreements["city_a_id"],
        agreements["city_b_id"],
        commitments["city_id"],
    ]
    return keys_result(missing_keys(used, cities["city_id"]), "city_ids")


@dg.asset_check(
    asset="memberships",
    blocking=True,
    additional_ins={"networks": dg.AssetIn("networks")},
    description="Every network_id in memberships is in networks.",
)
def memberships_network_fk(
    memberships: pd.DataFrame, networks: pd.DataFrame
) -> dg.AssetCheckResult:
    return keys_result(
        missing_keys([memberships["network_id"]], networks["network_id"]), "network_ids"
    )


@dg.asset_check(
    asset="cities",
    blocking=True,
    additional_ins={"parsed_geonames__countries": dg.AssetIn("parsed_geonames__countries")},
    description="Every city's country_code is a GeoNames country.",
)
def cities_country_codes(
    cities: pd.DataFrame, parsed_geonames__countries: pd.DataFrame
) -> dg.AssetCheckResult:
    missing = missing_keys([cities["country_code"]], parsed_geonames__countries["country_code"])
    return keys_result(missing, "country_codes")


@dg.asset_check(
    asset="sources",
    blocking=True,
    additional_ins={
        n: dg.AssetIn(n)
        for n in ("cities", "networks", "memberships", "agreements", "commitments", "rejected_rows")
    },
    description="Every snapshot_id that any table cites is a row of sources (provenance).",
)
def sources_cover_provenance(
    sources: pd.DataFrame,
    cities: pd.DataFrame,
    networks: pd.DataFrame,
    memberships: pd.DataFrame,
    agreements: pd.DataFrame,
    commitments: pd.DataFrame,
    rejected_rows: pd.DataFrame,
) -> dg.AssetCheckResult:
    used = [
        t["snapshot_id"]
        for t in (cities, networks, memberships, agreements, commitments, rejected_rows)
    ]
    return keys_result(missing_keys(used, sources["snapshot_id"]), "snapshot_ids")


@dg.asset_check(
    asset="parsed_geonames__cities",
    blocking=True,
    description=f"The gazetteer has at least {MIN_GAZETTEER_ROWS:,} places.",
)
def gazetteer_row_count(parsed_geonames__cities: pd.DataFrame) -> dg.AssetCheckResult:
    rows = len(parsed_geonames__cities)
    return dg.AssetCheckResult(passed=rows >= MIN_GAZETTEER_ROWS, metadata={"rows": rows})


@dg.asset_check(
    asset="networks",
    blocking=True,
    description="The registry yields at least one network (an empty file is a mistake).",
)
def networks_not_empty(networks: pd.DataFrame) -> dg.AssetCheckResult:
    return dg.AssetCheckResult(passed=len(networks) > 0, metadata={"rows": len(networks)})


@dg.asset_check(
    asset="rejected_rows",
    blocking=False,
    description="Warns (does not block) when input rows were rejected, with counts per table.",
)
def rejected_rows_reported(rejected_rows: pd.DataFrame) -> dg.AssetCheckResult:
    counts = rejected_rows.groupby(["table_name", "rule"]).size()
    return dg.AssetCheckResult(
        passed=rejected_rows.empty,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={
            "rejected": len(rejected_rows),
            "by_table_and_rule": dg.MetadataValue.json(
                {f"{t}/{r}": int(n) for (t, r), n in counts.items()}
            ),
        },
    )


schema_checks = [schema_check(asset, model) for asset, model in SCHEMAS.items()]
relation_checks = [
    cities_cover_references,
    memberships_network_fk,
    cities_country_codes,
    sources_cover_provenance,
    gazetteer_row_count,
    networks_not_empty,
    rejected_rows_reported,
]
