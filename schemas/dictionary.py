"""The data dictionary, generated from the pandera models: what each published table holds,
its key, and each column's type, whether it may be null, its rules and its meaning. The
release writes it as DATA_DICTIONARY.md and as COMMENT ON comments in the DuckDB file."""

from __future__ import annotations

from dataclasses import dataclass

import pandera.pandas as pa

from schemas.published import PUBLISHED

# The pandas types the models coerce to, as the DuckDB file and Parquet files store them.
DUCKDB_TYPES = {
    "string": "VARCHAR",
    "str": "VARCHAR",
    "float64": "DOUBLE",
    "Int64": "BIGINT",
    "int64": "BIGINT",
    "bool": "BOOLEAN",
    "boolean": "BOOLEAN",
}


@dataclass(frozen=True)
class ColumnDoc:
    name: str
    dtype: str
    nullable: bool
    description: str
    rules: list[str]


@dataclass(frozen=True)
class TableDoc:
    name: str
    description: str
    key: list[str]
    columns: list[ColumnDoc]
    row_rules: list[str]


def rule_text(check: pa.Check) -> str:
    """A column check in words: 'one of: a, b', 'matches ^gn:[1-9][0-9]*$', '>= 1800'."""
    stats = check.statistics or {}
    if check.name == "isin":
        return "one of: " + ", ".join(map(str, stats["allowed_values"]))
    if check.name == "str_matches":
        return f"matches {stats['pattern']}"
    words = {
        "greater_than_or_equal_to": ">=",
        "less_than_or_equal_to": "<=",
        "greater_than": ">",
        "less_than": "<",
    }
    if check.name in words and stats:
        return f"{words[check.name]} {next(iter(stats.values()))}"
    return check.description or check.name or "check"


def document(name: str, model: type[pa.DataFrameModel]) -> TableDoc:
    """One table's entry, read off its model."""
    schema = model.to_schema()
    columns = [
        ColumnDoc(
            name=column.name,
            dtype=DUCKDB_TYPES.get(str(column.dtype).removesuffix("[pyarrow]"), "?"),
            nullable=bool(column.nullable),
            description=column.description or "",
            rules=[rule_text(check) for check in column.checks],
        )
        for column in schema.columns.values()
    ]
    unique = schema.unique
    key = [unique] if isinstance(unique, str) else list(unique or [])
    return TableDoc(
        name=name,
        description=schema.description or "",
        key=key,
        columns=columns,
        row_rules=[check.description or str(check.name) for check in schema.checks],
    )


def dictionary() -> list[TableDoc]:
    """Every published table's entry, in release order."""
    return [document(name, model) for name, model in PUBLISHED.items()]


def undocumented(docs: list[TableDoc]) -> list[str]:
    """'table' or 'table.column' for each table or column without a description."""
    missing = [d.name for d in docs if not d.description.strip()]
    missing += [f"{d.name}.{c.name}" for d in docs for c in d.columns if not c.description.strip()]
    return missing


def markdown(docs: list[TableDoc], version: str, schema_version: str) -> str:
    """DATA_DICTIONARY.md: one section per table, one row per column."""
    lines = [
        f"# Data dictionary: release {version} (schema {schema_version})",
        "",
        "Generated from the pandera models in `schemas/`. Types are DuckDB's; the Parquet "
        "files hold the same columns. The DuckDB file carries each description below as a "
        "table or column comment (`duckdb_columns().comment`).",
        "",
    ]
    for doc in docs:
        lines += [f"## {doc.name}", "", doc.description, ""]
        if doc.key:
            lines += [f"Key: {', '.join(f'`{k}`' for k in doc.key)} (unique)", ""]
        for rule in doc.row_rules:
            lines.append(f"- Row rule: {rule}")
        if doc.row_rules:
            lines.append("")
        lines += ["| column | type | null | rules | meaning |", "|---|---|---|---|---|"]
        for column in doc.columns:
            rules = "; ".join(column.rules).replace("|", "\\|")
            null = "yes" if column.nullable else "no"
            meaning = column.description.replace("|", "\\|")
            lines.append(f"| `{column.name}` | {column.dtype} | {null} | {rules} | {meaning} |")
        lines.append("")
    return "\n".join(lines)
