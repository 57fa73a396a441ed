"""What changed between two releases, computed by DuckDB on the two release files: schema
changes first (a table or column added, removed or retyped), then per table the rows
added, removed and changed by stable id, and id churn (the same entity under a new id).

Publishing runs it against the previous release and stores the rows in a `changes` table,
counts in the manifest and a readable CHANGES.md; `citydip diff A B` runs it on any two
releases. Imports no Dagster.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import duckdb
import pandas as pd

from schemas.dictionary import dictionary
from schemas.published import NATURAL_KEYS, PUBLISHED

CHANGES_TABLE = "changes"
CHANGES_FILE = "CHANGES.md"
# Above this share of a table's previous rows, id churn stops the release unless accepted.
MAX_ID_CHURN = 0.01
SCHEMA_CHANGES = ("table_added", "table_removed", "column_added", "column_removed", "retyped")
ROW_CHANGES = ("added", "removed", "changed", "id_changed")
COLUMN_DOCS = {
    "table_name": "The published table the change is in.",
    "change": "Schema changes (listed first): table_added, table_removed, column_added, "
    "column_removed, retyped. Rows: added, removed, changed, id_changed.",
    "row_id": "The row's stable id (in the previous release for a removed row); key "
    "columns joined by '|' for a composite key, an md5 of the row for a table without one.",
    "previous_id": "For id_changed: the id the same entity had in the previous release.",
    "columns": "For a changed row: the columns whose values changed, comma-separated; for "
    "a column's schema change: the column.",
    "before": "For a changed row: the previous row as JSON; for a column: its previous type.",
    "after": "For a changed row: the new row as JSON; for a column: its new type.",
}
COLUMNS = list(COLUMN_DOCS)
DESCRIPTION = (
    "What changed since the previous release: schema changes first (change table_added, "
    "table_removed, column_added, column_removed, retyped; before/after are the column "
    "types), then rows by stable id (added, removed, changed with the changed column names "
    "and both rows as JSON, id_changed: the same entity under a new id, previous_id the "
    "old one). Rows of tables without a key (rejected_rows) are identified by a hash of "
    "the whole row."
)


@dataclass(frozen=True)
class Diff:
    old_version: str | None
    new_version: str
    rows: pd.DataFrame  # COLUMNS, schema changes first

    def counts(self) -> dict[str, dict[str, int]]:
        """Per table, rows of each kind of row change (zeros included)."""
        found = self.rows[self.rows["change"].isin(ROW_CHANGES)]
        sizes = found.groupby(["table_name", "change"]).size()
        return {
            table: {change: int(sizes.get((table, change), 0)) for change in ROW_CHANGES}
            for table in PUBLISHED
        }

    def schema_changes(self) -> list[str]:
        found = self.rows[self.rows["change"].isin(SCHEMA_CHANGES)]
        return [_schema_line(r) for r in found.to_dict("records")]


def _columns(con: duckdb.DuckDBPyConnection, catalog: str) -> dict[str, dict[str, str]]:
    """Published tables of a release file: {table: {column: type}} in column order."""
    found: dict[str, dict[str, str]] = {}
    for table, column, kind in con.execute(
        "SELECT table_name, column_name, data_type FROM duckdb_columns() "
        "WHERE database_name = ? AND schema_name = 'main' ORDER BY table_name, column_index",
        [catalog],
    ).fetchall():
        if table in PUBLISHED:
            found.setdefault(table, {})[column] = kind
    return found


def schema_diff(old: dict[str, dict[str, str]], new: dict[str, dict[str, str]]) -> list[dict]:
    rows: list[dict[str, Any]] = []
    for table in PUBLISHED:
        if table not in old and table in new:
            rows.append({"table_name": table, "change": "table_added"})
        elif table in old and table not in new:
            rows.append({"table_name": table, "change": "table_removed"})
        elif table in old:
            for column, kind in new[table].items():
                if column not in old[table]:
                    rows.append(
                        {
                            "table_name": table,
                            "change": "column_added",
                            "columns": column,
                            "after": kind,
                        }
                    )
                elif old[table][column] != kind:
                    rows.append(
                        {
                            "table_name": table,
                            "change": "retyped",
                            "columns": column,
                            "before": old[table][column],
                            "after": kind,
                        }
                    )
            rows += [
                {"table_name": table, "change": "column_removed", "columns": column, "before": kind}
                for column, kind in old[table].items()
                if column not in new[table]
            ]
    return rows


def _key(alias: str, key: Sequence[str]) -> str:
    """The stable id as text: the key column; for a composite key its values as a JSON
    list (so a null, an empty string and a '|' inside a value stay apart); for a table
    without a key, a hash of the whole row."""
    if not key:
        return f"md5(CAST(to_json({alias}) AS VARCHAR))"
    if len(key) == 1:
        return f'CAST({alias}."{key[0]}" AS VARCHAR)'
    parts = ", ".join(f'{alias}."{k}"' for k in key)
    return f"CAST(to_json([{parts}]) AS VARCHAR)"


def _row_json(alias: str, columns: Sequence[str]) -> str:
    fields = ", ".join(f'"{c}" := {alias}."{c}"' for c in columns)
    return f"CAST(to_json(struct_pack({fields})) AS VARCHAR)"


def table_diff(
    con: duckdb.DuckDBPyConnection,
    table: str,
    key: Sequence[str],
    common: Sequence[str],
    old: str | None,
    new: str,
    natural: Sequence[Sequence[str]] = (),
) -> pd.DataFrame:
    """Rows added, removed, changed (on the `common` columns: both releases have them, with
    the same type) and id-changed (by the `natural` keys)."""
    differs = ", ".join(
        f'CASE WHEN CAST(o."{c}" AS VARCHAR) IS DISTINCT FROM CAST(n."{c}" AS VARCHAR) '
        f"THEN '{c}' END"
        for c in common
    )
    # a table the old release lacks (old is None): its rows are all added
    for alias, catalog, where in (
        ("old_rows", old or new, "" if old else " WHERE false"),
        ("new_rows", new, ""),
    ):
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE {alias} AS SELECT DISTINCT {_key('t', key)} "
            f'AS row_id, t.* FROM {catalog}.main."{table}" t{where}'
        )
    changed = (
        con.execute(
            f"SELECT n.row_id, concat_ws(',', {differs}) AS columns, "
            f"{_row_json('o', common)} AS before, {_row_json('n', common)} AS after FROM "
            "new_rows n JOIN old_rows o USING (row_id) WHERE columns <> '' ORDER BY n.row_id"
        ).df()
        if common
        else pd.DataFrame(columns=["row_id", "columns", "before", "after"])
    )
    added = con.execute(
        "SELECT row_id FROM new_rows ANTI JOIN old_rows USING (row_id) ORDER BY row_id"
    ).df()
    removed = con.execute(
        "SELECT row_id FROM old_rows ANTI JOIN new_rows USING (row_id) ORDER BY row_id"
    ).df()
    moved = id_changes(con, natural, set(added["row_id"]), set(removed["row_id"]))
    added = added[~added["row_id"].isin(moved["row_id"])]
    removed = removed[~removed["row_id"].isin(moved["previous_id"])]
    frames = [
        added.assign(change="added"),
        removed.assign(change="removed"),
        changed.assign(change="changed"),
        moved.assign(change="id_changed"),
    ]
    return pd.concat([f for f in frames if not f.empty] or [pd.DataFrame(columns=COLUMNS)])


def id_changes(
    con: duckdb.DuckDBPyConnection,
    keys: Sequence[Sequence[str]],
    added: set[str],
    removed: set[str],
) -> pd.DataFrame:
    """Pairs (new id, previous id) of a removed and an added row with the same natural key,
    each of `keys` tried in turn; each id pairs once."""
    pairs: list[tuple[str, str]] = []
    for natural in keys:
        if not added or not removed:
            break
        on = " AND ".join(f'n."{c}" = o."{c}"' for c in natural)
        found = con.execute(  # added rows against removed ones, joined in DuckDB
            "SELECT n.row_id, o.row_id "
            "FROM (SELECT * FROM new_rows ANTI JOIN old_rows USING (row_id)) n "
            "JOIN (SELECT * FROM old_rows ANTI JOIN new_rows USING (row_id)) o "
            f"ON {on} ORDER BY n.row_id, o.row_id"
        ).fetchall()
        for new_id, old_id in found:
            if new_id in added and old_id in removed:  # each id pairs once
                pairs.append((new_id, old_id))
                added.discard(new_id)
                removed.discard(old_id)
    return pd.DataFrame(pairs, columns=["row_id", "previous_id"])


def diff(
    con: duckdb.DuckDBPyConnection,
    old: str,
    new: str,
    old_version: str | None,
    new_version: str,
) -> Diff:
    """Every change from the release file attached as `old` to the one attached as `new`."""
    old_columns, new_columns = _columns(con, old), _columns(con, new)
    parts = [pd.DataFrame(schema_diff(old_columns, new_columns), columns=COLUMNS)]
    keys = {doc.name: doc.key for doc in dictionary()}  # each table's stable id
    for table in PUBLISHED:
        if table not in new_columns:
            continue
        key = keys[table]
        before = old_columns.get(table, {})
        # a retyped column is a schema change; its values are not compared row by row
        common = [c for c, kind in new_columns[table].items() if before.get(c) == kind]
        natural = [n for n in NATURAL_KEYS.get(table, []) if set(n) <= set(common)]
        if not set(key) <= set(before):
            # the key itself changed: rows cannot be matched, each counts as removed and added
            key, natural = [], []
        found = table_diff(
            con, table, key, common, old if table in old_columns else None, new, natural
        )
        parts.append(found.assign(table_name=table))
    rows = pd.concat([p for p in parts if not p.empty] or [parts[0]], ignore_index=True)
    return Diff(old_version, new_version, rows.reindex(columns=COLUMNS))


def id_churn(result: Diff, previous_rows: dict[str, int]) -> dict[str, float]:
    """Tables whose id_changed rows exceed MAX_ID_CHURN of their previous rows."""
    over = {}
    for table, counts in result.counts().items():
        before = previous_rows.get(table, 0)
        if before and counts["id_changed"] / before > MAX_ID_CHURN:
            over[table] = counts["id_changed"] / before
    return over


def _schema_line(row: dict[str, Any]) -> str:
    table, change, column = row["table_name"], row["change"], row["columns"]
    if change in ("table_added", "table_removed"):
        return f"table `{table}` {change.removeprefix('table_')}"
    if change == "retyped":
        return f"`{table}.{column}` retyped from {row['before']} to {row['after']}"
    return f"`{table}.{column}` {change.removeprefix('column_')}"


def markdown(result: Diff, listed: int = 20) -> str:
    """CHANGES.md: schema changes first, counts per table, then the first ids of each kind."""
    since = result.old_version or "nothing (the first release)"
    lines = [f"# Changes in release {result.new_version}", "", f"Compared with {since}.", ""]
    lines += ["## Schema changes", ""]
    lines += [f"- {line}" for line in result.schema_changes()] or ["None."]
    lines += ["", "## Rows by stable id", "", "| table | " + " | ".join(ROW_CHANGES) + " |"]
    lines.append("|---" * (len(ROW_CHANGES) + 1) + "|")
    counts = result.counts()
    for table, row in counts.items():
        lines.append(f"| {table} | " + " | ".join(str(row[c]) for c in ROW_CHANGES) + " |")
    lines += ["", f"The `{CHANGES_TABLE}` table in the DuckDB file holds every changed row."]
    for table in PUBLISHED:
        rows = result.rows[
            (result.rows["table_name"] == table) & result.rows["change"].isin(ROW_CHANGES)
        ]
        if rows.empty:
            continue
        lines += ["", f"### {table}", ""]
        for change in ROW_CHANGES:  # the first ids of each kind
            of_kind = rows[rows["change"] == change]
            for record in of_kind.head(listed).to_dict("records"):
                detail = {
                    "changed": f" ({record['columns']})",
                    "id_changed": f" (was {record['previous_id']})",
                }.get(change, "")
                lines.append(f"- {change}: `{record['row_id']}`{detail}")
            if len(of_kind) > listed:
                lines.append(f"- ... and {len(of_kind) - listed} more {change}")
    return "\n".join(lines) + "\n"


def dictionary_section() -> str:
    """The `changes` table's entry in DATA_DICTIONARY.md."""
    lines = [f"## {CHANGES_TABLE} (DuckDB file only)", "", DESCRIPTION, ""]
    lines += ["| column | type | meaning |", "|---|---|---|"]
    lines += [f"| `{name}` | VARCHAR | {text} |" for name, text in COLUMN_DOCS.items()]
    return "\n".join(lines) + "\n"
