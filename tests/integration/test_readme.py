"""Every query example in the README runs against a built release and returns rows."""

import re
import runpy
from pathlib import Path

import duckdb
import pytest

from bench.build.queries import (
    DUCKDB_ONLY,
    FULL_EDITION,
    open_duckdb,
    open_parquet,
    readme_sql,
)
from pipeline.paths import PROJECT_ROOT

README = (PROJECT_ROOT / "README.md").read_text()
ALL_SQL = readme_sql()
# examples for the full edition (FULL_EDITION) run against one in test_pipeline; those of
# what only the DuckDB file has (DUCKDB_ONLY: the changes table) skip the Parquet files,
# over which open_parquet creates the views from the release's views.sql
SQL = [q for q in ALL_SQL if not q.startswith(FULL_EDITION)]
FULL_SQL = [q for q in ALL_SQL if q.startswith(FULL_EDITION)]
PYTHON = re.findall(r"```python\n(.*?)```", README, re.S)


def test_the_readme_has_examples() -> None:
    assert len(SQL) >= 4
    assert len(PYTHON) == 2  # each Python example has its own test below


def latest(home: Path) -> Path:
    return home / "warehouse" / "releases" / "latest"


@pytest.mark.parametrize("query", SQL, ids=[q.splitlines()[0] for q in SQL])
def test_sql_examples_agree_on_duckdb_and_parquet(release_home: Path, query: str) -> None:
    release = latest(release_home)
    with open_duckdb(release) as con:
        from_file = con.execute(query).fetchall()
    assert from_file
    if query.startswith(DUCKDB_ONLY):
        return
    with open_parquet(release) as con:
        from_parquet = con.execute(query).fetchall()
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
