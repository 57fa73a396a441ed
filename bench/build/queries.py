"""Query latency on a release: each SQL example of the README (as an analyst copies it) on
the release's DuckDB file and on its Parquet files, the way the README says to query them
(one view per Parquet file, then the release's views.sql). Each query runs once to warm
up, then `repeats` times; the first run is reported apart, since a user's first query after
opening the file is the one they wait for."""

from __future__ import annotations

import re
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb

from pipeline.paths import PROJECT_ROOT

FULL_EDITION = "-- In the full edition"
DUCKDB_ONLY = "-- In the DuckDB file only"


def readme_sql(readme: Path = PROJECT_ROOT / "README.md") -> list[str]:
    """Every SQL example of the README, in order (tests/integration/test_readme.py runs
    them all)."""
    return re.findall(r"```sql\n(.*?)```", readme.read_text(encoding="utf-8"), re.S)


def readme_queries(readme: Path = PROJECT_ROOT / "README.md") -> list[str]:
    """The README's SQL examples that run on an open edition's DuckDB and Parquet files."""
    return [q for q in readme_sql(readme) if not q.startswith((FULL_EDITION, DUCKDB_ONLY))]


def title(query: str) -> str:
    """The query's leading comment, which names it in the README."""
    return query.splitlines()[0].removeprefix("--").strip()


def open_duckdb(release: Path) -> duckdb.DuckDBPyConnection:
    return duckdb.connect(str(release / "citydiplomacy.duckdb"), read_only=True)


def open_parquet(release: Path) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    for parquet in sorted((release / "parquet").glob("*.parquet")):
        con.execute(f"CREATE VIEW {parquet.stem} AS SELECT * FROM read_parquet('{parquet}')")
    con.execute((release / "views.sql").read_text(encoding="utf-8"))
    return con


def time_query(
    connect: Callable[[Path], duckdb.DuckDBPyConnection], release: Path, query: str, repeats: int
) -> dict[str, Any]:
    """Seconds to open the release, the first run and the warm runs' min and median (ms)."""
    start = time.perf_counter()
    con = connect(release)
    opened = time.perf_counter() - start
    try:
        start = time.perf_counter()
        rows = len(con.execute(query).fetchall())
        first = time.perf_counter() - start
        warm = []
        for _ in range(repeats):
            start = time.perf_counter()
            con.execute(query).fetchall()
            warm.append(time.perf_counter() - start)
    finally:
        con.close()
    return {
        "rows": rows,
        "open_ms": round(opened * 1000, 2),
        "first_ms": round(first * 1000, 2),
        "ms_min": round(min(warm) * 1000, 2),
        "ms_median": round(statistics.median(warm) * 1000, 2),
    }


def measure_queries(release: Path, repeats: int) -> list[dict[str, Any]]:
    """Every README query on both forms of the release."""
    return [
        {
            "query": title(query),
            "duckdb": time_query(open_duckdb, release, query, repeats),
            "parquet": time_query(open_parquet, release, query, repeats),
        }
        for query in readme_queries()
    ]
