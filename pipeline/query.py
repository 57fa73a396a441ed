"""`citydip query`: one read-only query on a release's DuckDB file, from SQL a user typed.

DuckDB's own settings are the boundary: the file is opened read-only, with no external
access (no file, URL, ATTACH, COPY or extension), no extension installing or autoloading, a
memory limit, no spilling to disk and the configuration locked. The check of the statement's
type only refuses early, with a clearer message than DuckDB's; it is not what keeps a query in.
"""

from __future__ import annotations

import sys
import threading
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb

from pipeline.exports import write_csv

THREADS = 2  # the machines are shared; a query may not take them all
WIDEST = 60  # characters of a cell shown in the table; --csv writes every character
# Statement types that only read. SELECT also covers WITH, FROM-first queries, VALUES,
# DESCRIBE, SHOW, SUMMARIZE and PIVOT with an IN list. EXPLAIN ANALYZE runs the statement it
# explains: what that may do is bounded by the settings, as for any query.
READING = frozenset({duckdb.StatementType.SELECT, duckdb.StatementType.EXPLAIN})
# The statements behind a refused type, for the message (DuckDB names some types oddly).
KINDS = {
    "CALL": "CALL or CHECKPOINT",
    "COPY_DATABASE": "COPY FROM DATABASE",
    "EXPORT": "EXPORT DATABASE",
    "LOAD": "INSTALL or LOAD",
    "MULTI": "PIVOT without an IN list (it creates a type first)",
    "PRAGMA": "PRAGMA or IMPORT DATABASE",
    "SET": "SET, RESET, USE or a PRAGMA setting",
    "TRANSACTION": "BEGIN, COMMIT or ROLLBACK",
    "VACUUM": "VACUUM or ANALYZE",
}


class QueryRefused(Exception):
    """The SQL is not one statement that only reads."""


class QueryTimeout(Exception):
    """The query ran past its time bound and was interrupted."""


def settings(memory_limit: str) -> dict[str, Any]:
    """DuckDB settings for running SQL from a user against a published file."""
    return {
        "enable_external_access": False,  # no files, URLs, ATTACH, COPY, extension loads
        "autoinstall_known_extensions": False,
        "autoload_known_extensions": False,
        "allow_community_extensions": False,
        "memory_limit": memory_limit,
        "threads": THREADS,
        # no spilling: DuckDB would otherwise write <file>.tmp/ inside the release folder
        "temp_directory": "",
        # last: nothing the query runs can set any of the above back
        "lock_configuration": True,
    }


def connect(database: Path, memory_limit: str) -> duckdb.DuckDBPyConnection:
    """The release's DuckDB file, read-only, under `settings`."""
    return duckdb.connect(str(database), read_only=True, config=settings(memory_limit))


def reading_statement(con: duckdb.DuckDBPyConnection, sql: str) -> duckdb.Statement:
    """The one statement in `sql`, parsed by DuckDB, if its type only reads; else
    QueryRefused naming what was given. A syntax error is DuckDB's ParserException."""
    statements = con.extract_statements(sql)
    if not statements:
        raise QueryRefused("no SQL statement given")
    if len(statements) > 1:
        raise QueryRefused(f"{len(statements)} statements given; give one")
    (statement,) = statements
    try:
        kind = statement.type
    except ValueError as error:  # a type the Python binding has no name for (UPDATE EXTENSIONS)
        raise QueryRefused("a statement of a kind this command does not run") from error
    if kind not in READING:
        raise QueryRefused(
            f"{KINDS.get(kind.name, kind.name)} is not run on a release; only a query is "
            "(SELECT, WITH, DESCRIBE, SHOW, SUMMARIZE, EXPLAIN)"
        )
    return statement


@contextmanager
def time_bound(con: duckdb.DuckDBPyConnection, seconds: float) -> Iterator[None]:
    """Interrupt what `con` runs inside the block after `seconds`; QueryTimeout if it was."""
    fired = threading.Event()

    def stop() -> None:
        fired.set()
        con.interrupt()

    timer = threading.Timer(seconds, stop)
    timer.daemon = True
    timer.start()
    try:
        yield
    except duckdb.InterruptException as error:
        if fired.is_set():
            raise QueryTimeout(f"query took longer than {seconds:g} s") from error
        raise
    finally:
        timer.cancel()


def escaped(text: str) -> str:
    """Control characters written as escapes, so that text from a source cannot move the
    cursor or recolour the terminal it is printed on."""
    return "".join(
        c if c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in text
    )


def shown(value: Any) -> str:
    """A cell as the table shows it: NULL for a null, escaped, cut to WIDEST."""
    text = escaped("NULL" if value is None else str(value))
    return text if len(text) <= WIDEST else text[: WIDEST - 1] + "…"


def plan(rows: Sequence[Sequence[Any]]) -> list[str]:
    """EXPLAIN's answer as DuckDB draws it: the plan's lines, each escaped; a table would
    squeeze the drawing into one cell."""
    return [escaped(line) for _key, value in rows for line in str(value).splitlines()]


def table(columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> list[str]:
    """An aligned plain-text table: header, rule, rows; numbers to the right."""
    cells = [[shown(v) for v in row] for row in rows]
    header = [shown(c) for c in columns]
    widths = [max(len(cell) for cell in column) for column in zip(header, *cells, strict=True)]
    numeric = [
        any(v is not None for v in column) and all(is_number(v) for v in column if v is not None)
        for column in zip(*rows, strict=True)
    ] or [False] * len(columns)

    def line(texts: Sequence[str]) -> str:
        return "  ".join(
            t.rjust(w) if right else t.ljust(w)
            for t, w, right in zip(texts, widths, numeric, strict=True)
        ).rstrip()

    return [line(header), "  ".join("-" * w for w in widths), *(line(row) for row in cells)]


def is_number(value: Any) -> bool:
    return isinstance(value, int | float | Decimal) and not isinstance(value, bool)


def print_plan(con: duckdb.DuckDBPyConnection) -> None:
    """EXPLAIN's answer, as DuckDB draws it."""
    for line in plan(con.fetchall()):
        print(line)


def print_table(con: duckdb.DuckDBPyConnection, max_rows: int) -> None:
    """The first `max_rows` rows of the result `con` holds as a table, then how many rows
    there were and how many it left out."""
    columns = [d[0] for d in con.description or []]
    rows = con.fetchmany(max_rows)
    left_out = sum(len(batch) for batch in iter(lambda: con.fetchmany(10_000), []))
    for line in table(columns, rows):
        print(line)
    total = len(rows) + left_out
    if left_out:
        print(
            f"({total} rows, {left_out} not shown: raise --max-rows, or write every row "
            "with --csv FILE)"
        )
    else:
        print(f"({total} row{'' if total == 1 else 's'})")


def write_result_csv(con: duckdb.DuckDBPyConnection, destination: str) -> int:
    """Every row of the result as CSV through write_csv (formulas neutralised), to stdout
    for `-`; a file appears only whole, renamed into place once written. Returns the exit
    code: 2 when two columns share a name (a CSV row is a mapping by name)."""
    columns = [d[0] for d in con.description or []]
    if len(set(columns)) < len(columns):
        twice = next(c for c in columns if columns.count(c) > 1)
        print(f"citydip: --csv needs distinct column names; {twice!r} is twice", file=sys.stderr)
        return 2
    rows = (
        dict(zip(columns, row, strict=True))
        for batch in iter(lambda: con.fetchmany(10_000), [])
        for row in batch
    )
    if destination == "-":
        count = write_csv(sys.stdout, columns, rows)
    else:
        target = Path(destination)
        partial = target.with_name(f".{target.name}.{uuid.uuid4().hex}.partial")
        try:
            with partial.open("x", newline="", encoding="utf-8") as handle:
                count = write_csv(handle, columns, rows)
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
        partial.replace(target)
    print(
        f"citydip: wrote {count} row{'' if count == 1 else 's'} to {destination}", file=sys.stderr
    )
    return 0
