"""Every query example in the README runs against a built release and returns rows."""

import re
import runpy
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from pipeline.definitions import build_definitions
from pipeline.paths import PROJECT_ROOT
from tests.conftest import make_home

README = (PROJECT_ROOT / "README.md").read_text()
SQL = re.findall(r"```sql\n(.*?)```", README, re.S)
PYTHON = re.findall(r"```python\n(.*?)```", README, re.S)


@pytest.fixture(scope="module")
def release_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = make_home(tmp_path_factory.mktemp("readme") / "home")
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
    assert len(PYTHON) >= 2


@pytest.mark.parametrize("query", SQL, ids=[q.splitlines()[0] for q in SQL])
def test_sql_examples_return_rows(release_home: Path, query: str) -> None:
    database = release_home / "warehouse" / "releases" / "latest" / "citydiplomacy.duckdb"
    with duckdb.connect(str(database), read_only=True) as con:
        rows = con.execute(query).fetchall()
    assert rows


@pytest.mark.parametrize("code", PYTHON, ids=[f"python-{i}" for i in range(len(PYTHON))])
def test_python_examples_run(
    release_home: Path,
    code: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(release_home)
    script = tmp_path / "example.py"
    script.write_text(code)
    runpy.run_path(str(script))
    printed = capsys.readouterr().out
    assert "c40" in printed or "country_code" in printed
