"""The products in a release built by the real release job: datapackage.json accepted by
the Frictionless validator, the analyst views, the sample, CITATION.cff and CHANGES.md."""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml

from pipeline.publish import TABLES, file_hashes
from pipeline.sample import SAMPLE_COUNTRIES
from pipeline.views import VIEWS
from schemas.published import FOREIGN_KEYS

FRICTIONLESS = Path(sys.executable).parent / "frictionless"


def latest(home: Path) -> Path:
    return home / "warehouse" / "releases" / "latest"


def frictionless(descriptor: Path) -> dict:
    """The Frictionless CLI's report. Its Parquet reader reads through pyarrow and gives no
    byte stream, so it cannot count bytes or hash: those two checks are skipped here and
    test_datapackage_bytes_and_hashes_are_the_files checks them instead."""
    done = subprocess.run(
        [
            str(FRICTIONLESS),
            "validate",
            descriptor.name,
            "--json",
            "--skip-errors",
            "byte-count,hash-count",
        ],
        cwd=descriptor.parent,
        capture_output=True,
        text=True,
        timeout=600,
    )
    return json.loads(done.stdout)


def errors(report: dict) -> list[tuple[str, str, str | None]]:
    return [
        (task["name"], error["type"], error.get("fieldName"))
        for task in report["tasks"]
        for error in task["errors"]
    ]


@pytest.mark.parametrize("folder", ["", "sample"])
def test_frictionless_accepts_the_datapackage(release_home: Path, folder: str) -> None:
    report = frictionless(latest(release_home) / folder / "datapackage.json")
    assert errors(report) == []
    assert report["valid"] is True
    assert sorted(task["name"] for task in report["tasks"]) == sorted(TABLES)


def test_frictionless_rejects_a_broken_foreign_key_and_code(
    release_home: Path, tmp_path: Path
) -> None:
    copy = tmp_path / "release"
    shutil.copytree(latest(release_home), copy)
    path = copy / "parquet" / "memberships.parquet"
    table = pq.read_table(path)
    cities = table.column("city_id").to_pylist()
    roles = table.column("role").to_pylist()
    cities[0], roles[1] = "gn:999999999", "sponsor"
    table = table.set_column(table.schema.get_field_index("city_id"), "city_id", pa.array(cities))
    table = table.set_column(table.schema.get_field_index("role"), "role", pa.array(roles))
    path.chmod(0o644)
    pq.write_table(table, path)
    report = frictionless(copy / "datapackage.json")
    assert report["valid"] is False
    assert sorted(set(errors(report))) == [
        ("memberships", "constraint-error", "role"),
        ("memberships", "foreign-key", None),
    ]


def test_datapackage_bytes_and_hashes_are_the_files(release_home: Path) -> None:
    release = latest(release_home)
    package = json.loads((release / "datapackage.json").read_text())
    files = {f["path"]: f for f in file_hashes(release)}
    assert [r["name"] for r in package["resources"]] == list(TABLES)
    for resource in package["resources"]:
        actual = files[resource["path"]]
        assert resource["bytes"] == actual["bytes"]
        assert resource["hash"] == f"sha256:{actual['sha256']}"
    memberships = package["resources"][TABLES.index("memberships")]["schema"]
    assert memberships["primaryKey"] == ["membership_id"]
    assert {
        "fields": ["network_id"],
        "reference": {"resource": "networks", "fields": ["network_id"]},
    } in memberships["foreignKeys"]
    assert package["version"] == release.resolve().name
    assert {"name": "CC0-1.0", "title": "CC0 1.0", "path": "ATTRIBUTION"} in package["licenses"]


def test_every_view_runs_and_agrees_with_the_tables(release_home: Path) -> None:
    with duckdb.connect(str(latest(release_home) / "citydiplomacy.duckdb"), read_only=True) as con:
        for view in VIEWS:
            assert con.execute(f"SELECT count(*) FROM {view}").fetchone()[0] > 0, view
        assert (
            con.execute("SELECT count(*) FROM agreement_pairs").fetchone()
            == con.execute("SELECT count(*) FROM agreements").fetchone()
        )
        assert (
            con.execute("SELECT count(*) FROM city_profile").fetchone()
            == con.execute("SELECT count(*) FROM cities").fetchone()
        )
        berlin = con.execute(
            "SELECT commitments, latest_target_year FROM city_profile WHERE name = 'Berlin'"
        ).fetchone()
        direct = con.execute(
            "SELECT count(*), max(target_year) FROM commitments JOIN cities USING (city_id) "
            "WHERE name = 'Berlin'"
        ).fetchone()
        assert berlin == direct and berlin[0] > 0
        comments = dict(
            con.execute(
                "SELECT view_name, comment FROM duckdb_views() WHERE NOT internal"
            ).fetchall()
        )
    assert set(comments) == set(VIEWS) and all(comments.values())


def test_views_sql_recreates_the_views_over_the_parquet_files(release_home: Path) -> None:
    release = latest(release_home)
    with duckdb.connect() as con:
        for parquet in sorted((release / "parquet").glob("*.parquet")):
            con.execute(f"CREATE VIEW {parquet.stem} AS SELECT * FROM read_parquet('{parquet}')")
        con.execute((release / "views.sql").read_text())
        from_parquet = con.execute("SELECT * FROM city_profile ORDER BY city_id").fetchall()
    with duckdb.connect(str(release / "citydiplomacy.duckdb"), read_only=True) as con:
        assert con.execute("SELECT * FROM city_profile ORDER BY city_id").fetchall() == (
            from_parquet
        )


def test_the_sample_is_a_few_countries_and_consistent(release_home: Path) -> None:
    release = latest(release_home)
    with duckdb.connect(str(release / "sample" / "citydiplomacy.duckdb"), read_only=True) as con:
        countries = {
            c for (c,) in con.execute("SELECT DISTINCT country_code FROM cities").fetchall()
        }
        outside = con.execute(
            "SELECT count(*) FROM cities WHERE country_code NOT IN "
            f"{tuple(SAMPLE_COUNTRIES)} AND city_id NOT IN "
            "(SELECT hq_city_id FROM networks WHERE hq_city_id IS NOT NULL)"
        ).fetchone()
        for table, keys in FOREIGN_KEYS.items():
            for columns, target, target_columns in keys:
                dangling = con.execute(
                    f"SELECT count(*) FROM {table} t WHERE t.{columns[0]} IS NOT NULL AND "
                    f"t.{columns[0]} NOT IN (SELECT {target_columns[0]} FROM {target})"
                ).fetchone()
                assert dangling == (0,), (table, columns)
        sample_cities = con.execute("SELECT count(*) FROM cities").fetchone()[0]
        sample_agreements = con.execute("SELECT count(*) FROM agreements").fetchone()[0]
    with duckdb.connect(str(release / "citydiplomacy.duckdb"), read_only=True) as con:
        all_cities = con.execute("SELECT count(*) FROM cities").fetchone()[0]
    assert {"DE", "FR", "US"} <= countries
    assert outside == (0,)
    assert 0 < sample_cities < all_cities
    assert sample_agreements > 0


def test_citation_and_changes_name_the_release(release_home: Path) -> None:
    release = latest(release_home)
    version = release.resolve().name
    cff = yaml.safe_load((release / "CITATION.cff").read_text())
    assert cff["cff-version"] == "1.2.0" and cff["type"] == "dataset"
    assert cff["version"] == version
    with duckdb.connect(str(release / "citydiplomacy.duckdb"), read_only=True) as con:
        sources = con.execute("SELECT count(*) FROM sources").fetchone()[0]
    assert len(cff["references"]) == sources
    changes = (release / "CHANGES.md").read_text()
    assert changes.startswith(f"# Changes in release {version}\n")
    assert "Compared with nothing (the first release)." in changes


def test_every_table_column_and_view_of_the_duckdb_file_is_described(release_home: Path) -> None:
    release = latest(release_home)
    with duckdb.connect(str(release / "citydiplomacy.duckdb"), read_only=True) as con:
        tables = con.execute(
            "SELECT table_name FROM duckdb_tables() WHERE comment IS NULL OR comment = ''"
        ).fetchall()
        columns = con.execute(
            "SELECT c.table_name, c.column_name FROM duckdb_columns() c "
            "JOIN duckdb_tables() t USING (database_name, schema_name, table_name) "
            "WHERE c.comment IS NULL OR c.comment = ''"
        ).fetchall()
        described = {t for (t,) in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
    assert tables == [] and columns == []
    assert {"changes", "release_info", *TABLES} <= described
    dictionary = (release / "DATA_DICTIONARY.md").read_text()
    for name in ["changes", *VIEWS]:
        assert f"## {name}" in dictionary or f"### {name}" in dictionary
