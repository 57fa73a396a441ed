"""Every query example in the README runs against a built release and returns rows."""

import re
import runpy
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from pipeline.definitions import build_definitions
from pipeline.paths import PROJECT_ROOT
from pipeline.snapshots import SnapshotStore
from tests.conftest import make_home, nzt_workbook, store_wikidata_fetch

README = (PROJECT_ROOT / "README.md").read_text()
ALL_SQL = re.findall(r"```sql\n(.*?)```", README, re.S)
# examples for the full edition run against one in test_pipeline
FULL_EDITION = "-- In the full edition"
SQL = [q for q in ALL_SQL if not q.startswith(FULL_EDITION)]
FULL_SQL = [q for q in ALL_SQL if q.startswith(FULL_EDITION)]
PYTHON = re.findall(r"```python\n(.*?)```", README, re.S)


@pytest.fixture(scope="module")
def release_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = make_home(tmp_path_factory.mktemp("readme") / "home")
    store_wikidata_fetch(home / "raw")  # as a refresh would have, so Wikidata rows exist
    SnapshotStore(home / "raw").store(  # as `citydip import net_zero_tracker` would have
        "net_zero_tracker", "snapshot_2022-12-20_13-07-14.xlsx", [nzt_workbook()], "test", "CC"
    )
    with dg.DagsterInstance.ephemeral() as instance:
        result = (
            build_definitions(str(home))
            .resolve_job_def("release")
            .execute_in_process(instance=instance)
        )
    assert result.success
    return home


def test_the_readme_has_examples() -> None:
    assert len(SQL) >= 4
    assert len(PYTHON) == 2  # each Python example has its own test below


def latest(home: Path) -> Path:
    return home / "warehouse" / "releases" / "latest"


@pytest.mark.parametrize("query", SQL, ids=[q.splitlines()[0] for q in SQL])
def test_sql_examples_agree_on_duckdb_and_parquet(release_home: Path, query: str) -> None:
    release = latest(release_home)
    with duckdb.connect(str(release / "citydiplomacy.duckdb"), read_only=True) as con:
        from_file = con.execute(query).fetchall()
    with duckdb.connect() as con:
        for parquet in sorted((release / "parquet").glob("*.parquet")):
            con.execute(f"CREATE VIEW {parquet.stem} AS SELECT * FROM read_parquet('{parquet}')")
        from_parquet = con.execute(query).fetchall()
    assert from_file
    assert from_file == from_parquet


def run_example(code: str, home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(home)
    script = tmp_path / "example.py"
    script.write_text(code)
    runpy.run_path(str(script))


def test_python_duckdb_example_prints_member_counts(
    release_home: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    run_example(PYTHON[0], release_home, tmp_path, monkeypatch)
    printed = capsys.readouterr().out
    with duckdb.connect(str(latest(release_home) / "citydiplomacy.duckdb"), read_only=True) as con:
        c40 = con.execute("select count(*) from memberships where network_id = 'c40'").fetchone()
    assert c40 is not None and c40[0] > 50
    assert re.search(rf"c40\s+{c40[0]}\b", printed), printed


def test_python_parquet_example_prints_the_largest_c40_cities(
    release_home: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    run_example(PYTHON[1], release_home, tmp_path, monkeypatch)
    printed = capsys.readouterr().out
    with duckdb.connect(str(latest(release_home) / "citydiplomacy.duckdb"), read_only=True) as con:
        largest = con.execute(
            """select c.name from memberships m join cities c using (city_id)
               where m.network_id = 'c40' order by c.population desc limit 1"""
        ).fetchone()
    assert largest is not None
    assert largest[0] in printed
