"""Every blocking check fails on the data it guards against, both as an asset check and in
the release's own last validation (release_problems)."""

import dagster as dg
import pandas as pd
import pytest

from assets import checks
from pipeline.publish import TABLES


def good_tables() -> dict[str, pd.DataFrame]:
    """Minimal frames that pass every relation rule (schemas aside)."""
    return {
        "cities": pd.DataFrame(
            {"city_id": ["gn:1", "gn:2"], "country_code": ["CZ", "TW"], "snapshot_id": "gaz"}
        ),
        "networks": pd.DataFrame(
            {"network_id": ["c40"], "hq_city_id": ["gn:1"], "snapshot_id": "reg"}
        ),
        "memberships": pd.DataFrame(
            {"network_id": ["c40"], "city_id": ["gn:2"], "snapshot_id": "reg"}
        ),
        "agreements": pd.DataFrame(
            {"city_a_id": ["gn:1"], "city_b_id": ["gn:2"], "snapshot_id": "reg"}
        ),
        "commitments": pd.DataFrame({"city_id": ["gn:1"], "snapshot_id": "reg"}),
        "assessments": pd.DataFrame({"city_id": ["gn:2"], "snapshot_id": "nzt"}),
        "city_emissions": pd.DataFrame({"city_id": ["gn:1"], "snapshot_id": "cdp"}),
        "city_ids": pd.DataFrame({"city_id": ["gn:2"], "snapshot_id": "reg"}),
        "unresolved_names": pd.DataFrame({"snapshot_id": ["reg"]}),
        "network_qid_review": pd.DataFrame({"snapshot_id": [None]}),
        "rejected_rows": pd.DataFrame({"snapshot_id": pd.Series(dtype="str")}),
        "sources": pd.DataFrame({"snapshot_id": ["gaz", "reg", "nzt", "cdp"]}),
    }


COUNTRIES = pd.DataFrame({"country_code": ["CZ", "TW"]})


def relation_problems(tables: dict[str, pd.DataFrame]) -> list[str]:
    problems = checks.release_problems(tables, COUNTRIES, checks.MIN_GAZETTEER_ROWS)
    return [p for p in problems if "_schema:" not in p]


def test_good_tables_pass_every_relation_rule() -> None:
    assert relation_problems(good_tables()) == []


def test_a_city_id_missing_from_cities_fails() -> None:
    tables = good_tables()
    tables["commitments"] = pd.DataFrame({"city_id": ["gn:9"], "snapshot_id": "reg"})
    result = checks.cities_cover_references(
        cities=tables["cities"],
        networks=tables["networks"],
        memberships=tables["memberships"],
        agreements=tables["agreements"],
        commitments=tables["commitments"],
        assessments=tables["assessments"],
        city_emissions=tables["city_emissions"],
        city_ids=tables["city_ids"],
    )
    assert result.passed is False
    assert result.metadata["examples"].value == "gn:9"
    assert relation_problems(tables) == ["cities_cover_references: gn:9"]


def test_an_assessed_city_missing_from_cities_fails() -> None:
    tables = good_tables()
    tables["assessments"] = pd.DataFrame({"city_id": ["gn:8"], "snapshot_id": "nzt"})
    assert relation_problems(tables) == ["cities_cover_references: gn:8"]


def test_a_crosswalk_city_missing_from_cities_fails() -> None:
    tables = good_tables()
    tables["city_ids"] = pd.DataFrame({"city_id": ["gn:7"], "snapshot_id": "reg"})
    assert relation_problems(tables) == ["cities_cover_references: gn:7"]


def test_an_unknown_network_fails() -> None:
    tables = good_tables()
    tables["memberships"] = pd.DataFrame(
        {"network_id": ["zz"], "city_id": ["gn:2"], "snapshot_id": "reg"}
    )
    result = checks.memberships_network_fk(
        memberships=tables["memberships"], networks=tables["networks"]
    )
    assert result.passed is False
    assert relation_problems(tables) == ["memberships_network_fk: zz"]


def test_an_unknown_country_code_fails() -> None:
    tables = good_tables()
    tables["cities"].loc[1, "country_code"] = "XX"
    result = checks.cities_country_codes(
        cities=tables["cities"], parsed_geonames__countries=COUNTRIES
    )
    assert result.passed is False
    assert relation_problems(tables) == ["cities_country_codes: XX"]


def test_a_row_citing_no_known_snapshot_fails() -> None:
    tables = good_tables()
    tables["agreements"]["snapshot_id"] = "gone"
    result = checks.sources_cover_provenance(
        **{name: tables[name] for name in TABLES}  # type: ignore[arg-type]
    )
    assert result.passed is False
    assert relation_problems(tables) == ["sources_cover_provenance: gone"]


def test_a_short_gazetteer_fails() -> None:
    short = pd.DataFrame({"geonames_id": range(100)})
    assert checks.gazetteer_row_count(short).passed is False
    problems = checks.release_problems(good_tables(), COUNTRIES, 100)
    assert "gazetteer_row_count: 100 < 20000" in problems


def test_no_networks_fails() -> None:
    tables = good_tables()
    tables["networks"] = tables["networks"].iloc[0:0]
    tables["memberships"] = tables["memberships"].iloc[0:0]
    assert checks.networks_not_empty(tables["networks"]).passed is False
    assert "networks_not_empty: no networks" in relation_problems(tables)


def test_rejected_rows_raise_a_warning_not_a_block() -> None:
    clean = checks.rejected_rows_reported(pd.DataFrame({"table_name": [], "rule": []}))
    assert clean.passed is True
    rejected = pd.DataFrame({"table_name": ["memberships"], "rule": ["city_unresolved"]})
    warned = checks.rejected_rows_reported(rejected)
    assert warned.passed is False
    assert warned.severity == dg.AssetCheckSeverity.WARN
    assert warned.metadata["by_table_and_rule"].value == {"memberships/city_unresolved": 1}


@pytest.mark.parametrize("table", TABLES)
def test_a_schema_failure_is_a_release_problem(table: str) -> None:
    problems = checks.release_problems(good_tables(), COUNTRIES, checks.MIN_GAZETTEER_ROWS)
    # the minimal frames lack most columns, so every table fails its schema
    assert any(p.startswith(f"{table}_schema: ") for p in problems)
