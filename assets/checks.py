"""Asset checks: a blocking pandera schema check on the gazetteer and every published table,
foreign-key and provenance checks between tables, and row-count expectations (gazetteer,
networks). A failing blocking check stops everything downstream; the release runs the same
rules once more itself (release_problems), so a partial run cannot publish either.

The parsed registry frames have no schema check of their own: their parser refuses a
changed header, and their rows are checked, one by one, as the core tables are built."""

from collections.abc import Iterable, Mapping

import dagster as dg
import pandas as pd
import pandera.pandas as pa
from pandera.errors import SchemaErrors

from assets.build import city_references
from pipeline.publish import TABLES
from schemas.gazetteer import Gazetteer
from schemas.published import PUBLISHED

# The smallest GeoNames gazetteer (cities15000) has about 33,000 places; far fewer means a
# truncated or wrong file, not a smaller world.
MIN_GAZETTEER_ROWS = 20_000

SCHEMAS: dict[str, type[pa.DataFrameModel]] = {"parsed_geonames__cities": Gazetteer, **PUBLISHED}


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


# The relation rules as plain functions: the asset checks below and the release's own
# last validation (release_problems) call the same code.


def uncovered_city_ids(
    cities: pd.DataFrame,
    networks: pd.DataFrame,
    memberships: pd.DataFrame,
    agreements: pd.DataFrame,
    commitments: pd.DataFrame,
    assessments: pd.DataFrame,
    city_emissions: pd.DataFrame,
    city_ids: pd.DataFrame,
) -> list[str]:
    used = city_references(
        networks, memberships, agreements, commitments, assessments, city_emissions, city_ids
    )
    return missing_keys(used, cities["city_id"])


def unknown_network_ids(memberships: pd.DataFrame, networks: pd.DataFrame) -> list[str]:
    return missing_keys([memberships["network_id"]], networks["network_id"])


def unknown_country_codes(cities: pd.DataFrame, countries: pd.DataFrame) -> list[str]:
    return missing_keys([cities["country_code"]], countries["country_code"])


def untraced_snapshot_ids(sources: pd.DataFrame, *tables: pd.DataFrame) -> list[str]:
    return missing_keys([t["snapshot_id"] for t in tables], sources["snapshot_id"])


def release_problems(
    tables: Mapping[str, pd.DataFrame], countries: pd.DataFrame, gazetteer_rows: int
) -> list[str]:
    """Every blocking rule, run once more on exactly what is about to be published.

    The asset checks stop a full run; this stops a partial one too (a user materializing
    only `release` in the UI reuses stored tables whose checks may have failed).
    """
    problems = []
    for name in TABLES:
        result = schema_result(tables[name], SCHEMAS[name])
        if not result.passed:
            problems.append(f"{name}_schema: {result.metadata['failures'].value} failures")
    relations = {
        "cities_cover_references": uncovered_city_ids(
            tables["cities"],
            tables["networks"],
            tables["memberships"],
            tables["agreements"],
            tables["commitments"],
            tables["assessments"],
            tables["city_emissions"],
            tables["city_ids"],
        ),
        "memberships_network_fk": unknown_network_ids(tables["memberships"], tables["networks"]),
        "cities_country_codes": unknown_country_codes(tables["cities"], countries),
        "sources_cover_provenance": untraced_snapshot_ids(
            tables["sources"], *(tables[n] for n in TABLES if n != "sources")
        ),
    }
    problems += [f"{name}: {', '.join(bad[:10])}" for name, bad in relations.items() if bad]
    if gazetteer_rows < MIN_GAZETTEER_ROWS:
        problems.append(f"gazetteer_row_count: {gazetteer_rows} < {MIN_GAZETTEER_ROWS}")
    if tables["networks"].empty:
        problems.append("networks_not_empty: no networks")
    return problems


@dg.asset_check(
    asset="cities",
    blocking=True,
    additional_ins={
        n: dg.AssetIn(n)
        for n in (
            "networks",
            "memberships",
            "agreements",
            "commitments",
            "assessments",
            "city_emissions",
            "city_ids",
        )
    },
    description="Every city_id that networks, memberships, agreements, commitments, "
    "assessments, city_emissions or the city_ids crosswalk use is in cities.",
)
def cities_cover_references(
    cities: pd.DataFrame,
    networks: pd.DataFrame,
    memberships: pd.DataFrame,
    agreements: pd.DataFrame,
    commitments: pd.DataFrame,
    assessments: pd.DataFrame,
    city_emissions: pd.DataFrame,
    city_ids: pd.DataFrame,
) -> dg.AssetCheckResult:
    missing = uncovered_city_ids(
        cities,
        networks,
        memberships,
        agreements,
        commitments,
        assessments,
        city_emissions,
        city_ids,
    )
    return keys_result(missing, "city_ids")


@dg.asset_check(
    asset="memberships",
    blocking=True,
    additional_ins={"networks": dg.AssetIn("networks")},
    description="Every network_id in memberships is in networks.",
)
def memberships_network_fk(
    memberships: pd.DataFrame, networks: pd.DataFrame
) -> dg.AssetCheckResult:
    return keys_result(unknown_network_ids(memberships, networks), "network_ids")


@dg.asset_check(
    asset="cities",
    blocking=True,
    additional_ins={"parsed_geonames__countries": dg.AssetIn("parsed_geonames__countries")},
    description="Every city's country_code is a GeoNames country.",
)
def cities_country_codes(
    cities: pd.DataFrame, parsed_geonames__countries: pd.DataFrame
) -> dg.AssetCheckResult:
    return keys_result(unknown_country_codes(cities, parsed_geonames__countries), "country_codes")


@dg.asset_check(
    asset="sources",
    blocking=True,
    additional_ins={n: dg.AssetIn(n) for n in TABLES if n != "sources"},
    description="Every snapshot_id that any table cites is a row of sources (provenance).",
)
def sources_cover_provenance(
    sources: pd.DataFrame,
    cities: pd.DataFrame,
    networks: pd.DataFrame,
    memberships: pd.DataFrame,
    agreements: pd.DataFrame,
    commitments: pd.DataFrame,
    assessments: pd.DataFrame,
    city_emissions: pd.DataFrame,
    city_ids: pd.DataFrame,
    unresolved_names: pd.DataFrame,
    network_qid_review: pd.DataFrame,
    rejected_rows: pd.DataFrame,
) -> dg.AssetCheckResult:
    tables = [cities, networks, memberships, agreements, commitments, assessments]
    tables += [city_emissions, city_ids]
    tables += [unresolved_names, network_qid_review, rejected_rows]
    return keys_result(untraced_snapshot_ids(sources, *tables), "snapshot_ids")


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
