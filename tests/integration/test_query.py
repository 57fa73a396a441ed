"""`citydip query` on a built release: answers, refusals, and the bounds DuckDB keeps."""

import csv
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from pipeline import cli, query
from pipeline.publish import DUCKDB_FILE
from tests.conftest import tree_hashes

CITYDIP = Path(sys.executable).parent / "citydip"
ONLY_QUERIES = "is not run on a release; only a query is"
NO_FILES = "file system operations are disabled by configuration"


def latest(home: Path) -> Path:
    return (home / "warehouse" / "releases" / "latest").resolve()


def rows_of(home: Path, table: str) -> int:
    manifest = json.loads((latest(home) / "manifest.json").read_text())
    return int(manifest["tables"][table]["rows"])


def everything_below(folder: Path) -> list[str]:
    """Every path below `folder`, folders too (tree_hashes sees only files)."""
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*"))


@pytest.fixture
def home(release_home: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The session's built release as the CITYDIP_HOME of in-process `cli.main` calls."""
    monkeypatch.setenv("CITYDIP_HOME", str(release_home))
    return release_home


def test_a_select_counts_the_networks_the_manifest_lists(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    networks = rows_of(home, "networks")
    assert networks > 0
    assert cli.main(["query", "SELECT count(*) AS networks FROM networks"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines() == ["networks", "--------", f"{networks:>8}", "(1 row)"]
    # the same by version, and WITH ... SELECT
    version = latest(home).name
    sql = "WITH n AS (SELECT network_id FROM networks) SELECT count(*) AS c FROM n"
    assert cli.main(["query", version, sql]) == 0
    assert capsys.readouterr().out.splitlines()[2].strip() == str(networks)


def test_the_table_stops_at_max_rows_and_says_how_many_it_left_out(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    networks = rows_of(home, "networks")
    with duckdb.connect(str(latest(home) / DUCKDB_FILE), read_only=True) as con:
        first = [r[0] for r in con.execute("SELECT network_id FROM networks ORDER BY 1").fetchall()]
    sql = "SELECT network_id FROM networks ORDER BY network_id"
    assert cli.main(["query", sql, "--max-rows", "2"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.strip() for line in lines[2:4]] == first[:2]
    assert lines[4] == (
        f"({networks} rows, {networks - 2} not shown: raise --max-rows, or write every row "
        "with --csv FILE)"
    )
    assert len(lines) == 5


def test_describe_show_summarize_and_explain_run(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["query", "SHOW TABLES"]) == 0
    assert "networks" in [line.strip() for line in capsys.readouterr().out.splitlines()]
    assert cli.main(["query", "DESCRIBE networks"]) == 0
    described = capsys.readouterr().out.splitlines()
    assert described[0].split()[:2] == ["column_name", "column_type"]
    assert described[2].split()[:2] == ["network_id", "VARCHAR"]
    assert cli.main(["query", "SUMMARIZE SELECT network_id FROM networks"]) == 0
    summary = capsys.readouterr().out.splitlines()
    assert summary[2].split()[:2] == ["network_id", "VARCHAR"]
    assert summary[-1] == "(1 row)"
    assert cli.main(["query", "EXPLAIN SELECT name FROM networks WHERE network_id = 'c40'"]) == 0
    drawn = capsys.readouterr().out
    assert "Table: citydiplomacy.main.networks" in drawn
    assert "\\n" not in drawn  # the plan's own lines, not one escaped cell


def test_control_characters_in_a_value_are_shown_escaped(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["query", "SELECT chr(27) || '[31mred' || chr(10) || 'x' AS v"]) == 0
    out = capsys.readouterr().out
    assert "\x1b" not in out
    assert out.splitlines()[2] == "\\x1b[31mred\\nx"


# (SQL with {tmp} for the test's own folder, exit code, what stderr says)
REFUSED = [
    # refused by the statement-type check, before DuckDB runs anything
    ("COPY networks TO '{tmp}/out.csv'", 2, f"COPY {ONLY_QUERIES}"),
    ("COPY (SELECT 1) TO '{tmp}/out.parquet' (FORMAT parquet)", 2, f"COPY {ONLY_QUERIES}"),
    ("ATTACH '{tmp}/other.duckdb' AS other", 2, f"ATTACH {ONLY_QUERIES}"),
    ("DETACH citydiplomacy", 2, f"DETACH {ONLY_QUERIES}"),
    ("INSTALL httpfs", 2, f"INSTALL or LOAD {ONLY_QUERIES}"),
    ("LOAD httpfs", 2, f"INSTALL or LOAD {ONLY_QUERIES}"),
    ("EXPORT DATABASE '{tmp}/export'", 2, f"EXPORT DATABASE {ONLY_QUERIES}"),
    ("IMPORT DATABASE '{tmp}'", 2, f"PRAGMA or IMPORT DATABASE {ONLY_QUERIES}"),
    ("SET enable_external_access = true", 2, f"SET, RESET, USE or a PRAGMA setting {ONLY_QUERIES}"),
    ("RESET memory_limit", 2, f"SET, RESET, USE or a PRAGMA setting {ONLY_QUERIES}"),
    ("PRAGMA threads = 8", 2, f"SET, RESET, USE or a PRAGMA setting {ONLY_QUERIES}"),
    ("PRAGMA database_size", 2, f"PRAGMA or IMPORT DATABASE {ONLY_QUERIES}"),
    ("USE memory", 2, f"SET, RESET, USE or a PRAGMA setting {ONLY_QUERIES}"),
    ("CHECKPOINT", 2, f"CALL or CHECKPOINT {ONLY_QUERIES}"),
    ("CALL glob('/etc/*')", 2, f"CALL or CHECKPOINT {ONLY_QUERIES}"),
    ("CREATE TABLE copied AS SELECT * FROM networks", 2, f"CREATE {ONLY_QUERIES}"),
    ("CREATE TEMP TABLE copied AS SELECT 1", 2, f"CREATE {ONLY_QUERIES}"),
    ("INSERT INTO networks SELECT * FROM networks", 2, f"INSERT {ONLY_QUERIES}"),
    ("UPDATE networks SET name = 'x'", 2, f"UPDATE {ONLY_QUERIES}"),
    ("DELETE FROM networks", 2, f"DELETE {ONLY_QUERIES}"),
    ("DROP TABLE networks", 2, f"DROP {ONLY_QUERIES}"),
    ("UPDATE EXTENSIONS", 2, "a statement of a kind this command does not run"),
    ("SELECT 1; COPY networks TO '{tmp}/out.csv'", 2, "2 statements given; give one"),
    ("", 2, "no SQL statement given"),
    # queries: refused by DuckDB's own settings (no external access)
    ("SELECT * FROM read_csv('/etc/passwd')", 2, f'"/etc/passwd" - {NO_FILES}'),
    ("SELECT * FROM read_text('/etc/passwd')", 2, f'"/etc/passwd" - {NO_FILES}'),
    ("SELECT * FROM read_blob('/etc/passwd')", 2, f'"/etc/passwd" - {NO_FILES}'),
    ("SELECT * FROM read_json('/etc/passwd')", 2, f'"/etc/passwd" - {NO_FILES}'),
    ("SELECT * FROM read_parquet('{tmp}/x.parquet')", 2, NO_FILES),
    ("SELECT * FROM glob('/etc/*')", 2, f'"/etc/*" - {NO_FILES}'),
    ("SELECT * FROM query('SELECT * FROM read_text(''/etc/passwd'')')", 2, NO_FILES),
    ("SELECT * FROM read_csv('https://example.org/x.csv')", 2, NO_FILES),
    ("EXPLAIN ANALYZE COPY networks TO '{tmp}/out.csv'", 2, f'out.csv" - {NO_FILES}'),
    # a quoted path in FROM is no file read at all: it is looked up as a table name
    ("SELECT * FROM '/etc/passwd'", 1, "Table with name /etc/passwd does not exist"),
]


@pytest.mark.parametrize(("sql", "code", "said"), REFUSED, ids=[r[0] or "empty" for r in REFUSED])
def test_what_could_write_read_files_or_change_settings_is_refused(
    home: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    sql: str,
    code: int,
    said: str,
) -> None:
    release = latest(home)
    before, paths = tree_hashes(release), everything_below(home)
    assert cli.main(["query", sql.replace("{tmp}", str(tmp_path))]) == code
    captured = capsys.readouterr()
    prefix = "citydip: query refused: " if code == 2 else "citydip: query failed: "
    assert captured.err.startswith(prefix), captured.err
    assert said in captured.err
    assert captured.out == ""
    assert tree_hashes(release) == before
    assert everything_below(home) == paths
    assert not (tmp_path / "out.csv").exists()
    assert list(tmp_path.iterdir()) == []


DANGEROUS = [
    "COPY networks TO '{tmp}/out.csv'",
    "ATTACH '{tmp}/other.duckdb' AS other",
    "INSTALL httpfs",
    "LOAD httpfs",
    "EXPORT DATABASE '{tmp}/export'",
    "SET enable_external_access = true",
    "SET lock_configuration = false",
    "RESET memory_limit",
    "PRAGMA threads = 8",
    "CREATE TABLE copied AS SELECT * FROM networks",
    "DELETE FROM networks",
    "DROP TABLE networks",
    "SELECT * FROM read_text('/etc/passwd')",
]


REASONS = (
    NO_FILES,
    "the configuration has been locked",
    "read-only mode",
    "Loading external extensions is disabled through configuration",
)


def test_duckdbs_settings_refuse_the_dangerous_statements_without_the_type_check(
    home: Path, tmp_path: Path
) -> None:
    """The type check only gives a clearer message: DuckDB itself refuses each of these."""
    release = latest(home)
    before = tree_hashes(release)
    with query.connect(release / DUCKDB_FILE, "1GB") as con:
        for sql in DANGEROUS:
            with pytest.raises(duckdb.Error) as refused:
                con.execute(sql.replace("{tmp}", str(tmp_path)))
            said = str(refused.value)
            assert any(reason in said for reason in REASONS), (sql, said)
        assert con.execute("SELECT count(*) FROM networks").fetchone() == (
            rows_of(home, "networks"),
        )
    assert tree_hashes(release) == before
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(("limit", "shown"), [(None, "953.6 MiB"), ("512MiB", "512.0 MiB")])
def test_the_settings_a_query_runs_under(
    home: Path, capsys: pytest.CaptureFixture[str], limit: str | None, shown: str
) -> None:
    names = [
        "memory_limit",
        "threads",
        "enable_external_access",
        "autoinstall_known_extensions",
        "autoload_known_extensions",
        "allow_community_extensions",
        "temp_directory",
        "access_mode",
        "lock_configuration",
    ]
    sql = "SELECT " + ", ".join(f"current_setting('{n}')::VARCHAR AS {n}" for n in names)
    extra = ["--memory-limit", limit] if limit else []
    assert cli.main(["query", sql, *extra, "--csv", "-"]) == 0
    (row,) = list(csv.DictReader(capsys.readouterr().out.splitlines()))
    assert row == {
        "memory_limit": shown,
        "threads": "2",
        "enable_external_access": "false",
        "autoinstall_known_extensions": "false",
        "autoload_known_extensions": "false",
        "allow_community_extensions": "false",
        "temp_directory": "",
        "access_mode": "read_only",
        "lock_configuration": "true",
    }


def test_a_query_past_the_memory_limit_fails_without_spilling_into_the_release(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    release = latest(home)
    before, paths = tree_hashes(release), everything_below(home)
    sql = "SELECT count(*) FROM (SELECT md5(range::VARCHAR) AS h FROM range(3000000) ORDER BY h)"
    assert cli.main(["query", sql, "--memory-limit", "20MB"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("citydip: query failed: Out of Memory Error")
    assert "(the limit is --memory-limit 20MB)" in err
    assert tree_hashes(release) == before
    assert everything_below(home) == paths  # no citydiplomacy.duckdb.tmp/


def test_a_slow_query_is_stopped_at_the_timeout(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sql = "SELECT count(*) FROM range(1000000000) a, range(1000000000) b"
    started = time.monotonic()
    assert cli.main(["query", sql, "--timeout", "0.5"]) == 1
    assert time.monotonic() - started < 30
    captured = capsys.readouterr()
    assert captured.err == "citydip: query took longer than 0.5 s (--timeout 0.5); stopped\n"
    assert captured.out == ""


def test_csv_has_every_row_and_no_formula(
    home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "answer.csv"
    sql = "SELECT '=1+1' AS x, '@SUM(A1)' AS y, '-46.6' AS z, 'plain' AS w, NULL AS n"
    assert cli.main(["query", sql, "--csv", str(out)]) == 0
    assert capsys.readouterr().err == f"citydip: wrote 1 row to {out}\n"
    assert out.read_text().splitlines() == ["x,y,z,w,n", "'=1+1,'@SUM(A1),-46.6,plain,"]
    # every row, whatever --max-rows says; nothing else left in the folder
    networks = rows_of(home, "networks")
    sql = "SELECT network_id, name FROM networks ORDER BY network_id"
    assert cli.main(["query", sql, "--max-rows", "1", "--csv", str(out)]) == 0
    with out.open(newline="") as handle:
        assert len(list(csv.DictReader(handle))) == networks
    assert [p.name for p in tmp_path.iterdir()] == ["answer.csv"]


def test_csv_is_never_written_into_the_release_and_needs_distinct_columns(
    home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    release = latest(home)
    before = tree_hashes(release)
    inside = home / "warehouse" / "releases" / "latest" / "answer.csv"
    assert cli.main(["query", "SELECT 1 AS x", "--csv", str(inside)]) == 2
    assert "is inside the release folder" in capsys.readouterr().err
    assert cli.main(["query", "SELECT 1 AS a, 2 AS a", "--csv", str(tmp_path / "a.csv")]) == 2
    assert "--csv needs distinct column names; 'a' is twice" in capsys.readouterr().err
    assert tree_hashes(release) == before
    assert list(tmp_path.iterdir()) == []


def test_an_unknown_release_or_a_bad_option_exits_2(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["query", "2001.01.01", "SELECT 1"]) == 2
    assert "citydip: no release '2001.01.01': not a folder" in capsys.readouterr().err
    assert cli.main(["query", "lat\nest", "SELECT 1"]) == 2
    assert "the name has a control character" in capsys.readouterr().err
    assert cli.main(["query", "--edition", "full", "SELECT 1"]) == 2
    full = home / "warehouse" / "full"
    assert f"no release 'latest': not a folder, nor a release in {full}" in capsys.readouterr().err
    assert cli.main(["query", "SELECT 1", "--memory-limit", "lots"]) == 2
    assert "Memory must have a number" in capsys.readouterr().err
    for option, value in (("--timeout", "0"), ("--timeout", "nan"), ("--max-rows", "-1")):
        with pytest.raises(SystemExit) as exited:
            cli.main(["query", "SELECT 1", option, value])
        assert exited.value.code == 2


def test_sql_from_stdin_in_a_real_process(release_home: Path) -> None:
    env = {**os.environ, "CITYDIP_HOME": str(release_home)}
    done = subprocess.run(
        [str(CITYDIP), "query", "-"],
        input="SELECT count(*) AS n FROM networks\n",
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[2].strip() == str(rows_of(release_home, "networks"))
    refused = subprocess.run(
        [str(CITYDIP), "query", "-"],
        input="COPY networks TO 'out.csv'",
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=release_home,
    )
    assert refused.returncode == 2
    assert refused.stderr == (
        f"citydip: query refused: COPY {ONLY_QUERIES} "
        "(SELECT, WITH, DESCRIBE, SHOW, SUMMARIZE, EXPLAIN)\n"
    )
    assert not (release_home / "out.csv").exists()
