"""The diff between releases: rows added, removed, changed and re-identified by stable id,
schema changes first, the id churn limit, and a release that cannot be diffed."""

import json
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from pipeline import cli, publish
from pipeline.changes import MAX_ID_CHURN
from pipeline.publish import IdChurnError, ReleaseError
from tests.conftest import tree_hashes
from tests.unit.test_publish import DAY, frame, tables


def release(root: Path, frames: dict[str, pd.DataFrame], accept: bool = False) -> publish.Release:
    return publish.publish_release(
        root, frames, "1.0.0", Path("/nonexistent"), today=DAY, accept_id_churn=accept
    )


def with_cities(frames: dict[str, pd.DataFrame], ids: list[str]) -> dict[str, pd.DataFrame]:
    cities = frame("cities", len(ids)).assign(
        city_id=ids, geonames_id=range(1, len(ids) + 1), wikidata_qid=None
    )
    return {**frames, "cities": cities}


def changes_table(release: publish.Release) -> list[tuple]:
    with duckdb.connect(str(release.path / "citydiplomacy.duckdb"), read_only=True) as con:
        return con.execute(
            "SELECT table_name, change, row_id, previous_id, columns FROM changes "
            "WHERE table_name = 'cities' OR change NOT IN ('added') ORDER BY rowid"
        ).fetchall()


def test_the_first_release_lists_every_row_as_added(tmp_path: Path) -> None:
    first = release(tmp_path, with_cities(tables(), ["gn:1", "gn:2"]))
    counts = first.manifest["changes"]["rows"]
    assert counts["cities"] == {"added": 2, "removed": 0, "changed": 0, "id_changed": 0}
    assert first.manifest["changes"]["previous_version"] is None
    assert "table `cities` added" in first.manifest["changes"]["schema"]


def test_rows_added_removed_and_changed_by_stable_id(tmp_path: Path) -> None:
    ids = [f"gn:{n}" for n in range(1, 201)]
    release(tmp_path, with_cities(tables(), ids))
    frames = with_cities(tables(), ids)
    cities = frames["cities"]
    cities.loc[cities["city_id"] == "gn:5", "name"] = "Renamed"
    cities = cities[cities["city_id"] != "gn:7"]  # removed
    extra = frame("cities", 25).assign(
        city_id=[f"gn:{n}" for n in range(900, 925)], geonames_id=range(900, 925), wikidata_qid=None
    )
    frames["cities"] = pd.concat([cities, extra], ignore_index=True)
    second = release(tmp_path, frames)
    assert second.manifest["changes"]["rows"]["cities"] == {
        "added": 25,
        "removed": 1,
        "changed": 1,
        "id_changed": 0,
    }
    assert changes_table(second) == [
        *(("cities", "added", f"gn:{n}", None, None) for n in range(900, 925)),
        ("cities", "removed", "gn:7", None, None),
        ("cities", "changed", "gn:5", None, "name"),
    ]
    with duckdb.connect(str(second.path / "citydiplomacy.duckdb"), read_only=True) as con:
        before, after = con.execute(
            "SELECT before, after FROM changes WHERE change = 'changed'"
        ).fetchone()
    assert json.loads(before)["name"] == "a" and json.loads(after)["name"] == "Renamed"
    text = (second.path / "CHANGES.md").read_text()
    assert f"Compared with {DAY:%Y.%m.%d}." in text
    assert "| cities | 25 | 1 | 1 | 0 |" in text
    assert "- ... and 5 more added\n- removed: `gn:7`\n- changed: `gn:5` (name)\n" in text


def test_a_schema_change_is_listed_first(tmp_path: Path) -> None:
    first = release(tmp_path, tables())
    older = first.path / "citydiplomacy.duckdb"  # as a release of an older schema was
    older.chmod(0o644)
    with duckdb.connect(str(older)) as con:
        con.execute("ALTER TABLE networks DROP COLUMN notes")
        con.execute("ALTER TABLE networks ADD COLUMN extra VARCHAR")
        con.execute("ALTER TABLE cities ALTER population TYPE VARCHAR")
        con.execute("ALTER TABLE city_ids DROP COLUMN source_admin1")  # part of the key
    second = release(tmp_path, tables())
    assert second.manifest["changes"]["schema"] == [
        "`cities.population` retyped from VARCHAR to BIGINT",
        "`networks.notes` added",
        "`networks.extra` removed",
        "`city_ids.source_admin1` added",
    ]
    rows = second.manifest["changes"]["rows"]
    assert rows["cities"]["changed"] == 0  # a retyped column is not a change of every row
    assert rows["networks"]["changed"] == 0
    # rows whose key changed cannot be matched: each is removed and added
    assert rows["city_ids"] == {"added": 2, "removed": 2, "changed": 0, "id_changed": 0}
    with duckdb.connect(str(second.path / "citydiplomacy.duckdb"), read_only=True) as con:
        first_rows = con.execute("SELECT change FROM changes ORDER BY rowid LIMIT 3").fetchall()
    assert first_rows == [("retyped",), ("column_added",), ("column_removed",)]
    text = (second.path / "CHANGES.md").read_text()
    assert text.index("## Schema changes") < text.index("## Rows by stable id")


def test_id_churn_above_the_limit_stops_the_release_unless_accepted(tmp_path: Path) -> None:
    ids = [f"wd:Q{n}" for n in range(1, 101)]
    first = release(tmp_path, with_cities(tables(), ids))
    before = tree_hashes(first.path)
    moved = with_cities(tables(), ids)
    # two cities (2% > 1%) move from a Wikidata id to a GeoNames id: same geonames_id
    moved["cities"].loc[:1, "city_id"] = ["gn:1", "gn:2"]
    with pytest.raises(IdChurnError, match=r"cities 2\.0% of the rows") as refused:
        release(tmp_path, moved)
    assert "2 in all, e.g. cities wd:Q1 -> gn:1; cities wd:Q2 -> gn:2." in str(refused.value)
    assert [r.version for r in publish.list_releases(tmp_path)] == [first.version]
    assert tree_hashes(first.path) == before
    accepted = release(tmp_path, moved, accept=True)
    assert accepted.manifest["changes"]["id_churn"] == {"cities": 0.02}
    assert accepted.manifest["changes"]["id_churn_accepted"] is True
    assert ("cities", "id_changed", "gn:1", "wd:Q1", None) in changes_table(accepted)
    assert accepted.manifest["changes"]["rows"]["cities"]["removed"] == 0


def test_id_churn_within_the_limit_is_reported_not_refused(tmp_path: Path) -> None:
    ids = [f"wd:Q{n}" for n in range(1, 201)]
    release(tmp_path, with_cities(tables(), ids))
    moved = with_cities(tables(), ids)
    moved["cities"].loc[:1, "city_id"] = ["gn:1", "gn:2"]  # 1% is not above the limit
    assert MAX_ID_CHURN == 0.01
    second = release(tmp_path, moved)
    assert second.manifest["changes"]["rows"]["cities"]["id_changed"] == 2
    assert second.manifest["changes"]["id_churn"] == {}


def test_a_release_whose_diff_cannot_be_made_is_not_published(tmp_path: Path) -> None:
    first = release(tmp_path, tables())
    database = first.path / "citydiplomacy.duckdb"
    database.chmod(0o644)
    database.write_bytes(b"not a database")  # the previous release's file is damaged
    with pytest.raises(ReleaseError, match=r"cannot diff against release 2026\.11\.22"):
        release(tmp_path, tables())
    assert [r.version for r in publish.list_releases(tmp_path)] == [first.version]


def test_composite_keys_keep_nulls_empty_strings_and_separators_apart(tmp_path: Path) -> None:
    frames = tables()
    frames["city_ids"] = frames["city_ids"].assign(
        source="wikidata",
        source_table="agreements",
        source_id=pd.array([None, ""], dtype="string"),
        source_name=["a|b", "a"],
        source_country=["c", "b|c"],
        source_admin1=pd.array([None, None], dtype="string"),
    )
    release(tmp_path, frames)
    second = release(tmp_path, frames)
    assert second.manifest["changes"]["rows"]["city_ids"] == {
        "added": 0,
        "removed": 0,
        "changed": 0,
        "id_changed": 0,
    }


def test_a_city_that_changes_id_takes_its_memberships_along(tmp_path: Path) -> None:
    ids = [f"wd:Q{n}" for n in range(1, 3)]
    frames = with_cities(tables(), ids)
    frames["memberships"] = frames["memberships"].assign(city_id=ids, network_id="c40")
    release(tmp_path, frames)
    moved = with_cities(tables(), ["gn:1", "wd:Q2"])
    moved["memberships"] = frames["memberships"].assign(
        city_id=["gn:1", "wd:Q2"], membership_id=["mem:new", "b"]
    )
    second = release(tmp_path, moved, accept=True)
    # the city and its membership (same network, same spelling "a") each changed id once
    assert [r for r in changes_table(second) if r[1] == "id_changed"] == [
        ("cities", "id_changed", "gn:1", "wd:Q1", None),
        ("memberships", "id_changed", "mem:new", "a", None),
    ]
    assert second.manifest["changes"]["id_churn"] == {"cities": 0.5, "memberships": 0.5}


def test_diff_compares_any_two_releases_even_in_awkward_folders(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = tmp_path / "o'brien"
    ids = [f"gn:{n}" for n in range(1, 4)]
    first = release(root, with_cities(tables(), ids))
    second = release(root, with_cities(tables(), ids[:2]))
    assert cli.main(["diff", str(first.path), str(second.path)]) == 0
    shown = capsys.readouterr().out.splitlines()
    assert shown[0] == f"changes from {first.version} to {second.version}"
    assert next(line for line in shown if line.split()[0] == "cities").split()[1:] == [
        "0",
        "1",
        "0",
        "0",
    ]
    (tmp_path / "empty").mkdir()
    assert cli.main(["diff", str(tmp_path / "empty"), str(second.path)]) == 2
    assert "cannot read" in capsys.readouterr().err
