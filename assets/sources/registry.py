"""The curated registry: hand-edited CSV files in ``raw/registry/`` (committed), one per table.

Each row states a fact read in a public source and carries its citation. The files are the
source itself, so their "snapshot" is the committed file, identified by its sha256.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pandas as pd

from assets.sources import Parsed, ParseError, SourceFile, SourceInfo, read_csv

SOURCE = SourceInfo(
    slug="registry",
    publisher="citydiplomacy project (curated from the cited public sources)",
    licence="CC BY 4.0",
    attribution="citydiplomacy curated registry; each row cites its own source",
    homepage="raw/registry/",
)

# The columns of each file, read by name in any order: a renamed or missing column stops
# the run; an extra one is reported and not read.
COLUMNS: dict[str, tuple[str, ...]] = {
    "networks": (
        "network_id",
        "name",
        "acronym",
        "founded_year",
        "hq_city_name",
        "hq_country_code",
        "hq_admin1_code",
        "website_url",
        "focus",
        "scope",
        "scope_area",
        "member_count_stated",
        "member_count_as_of",
        "wikidata_qid",
        "source_urls",
        "notes",
    ),
    "memberships": (
        "network_id",
        "city_name",
        "country_code",
        "admin1_code",
        "role",
        "joined_year",
        "left_year",
        "source_url",
        "citation",
        "as_of",
    ),
    "agreements": (
        "city_a_name",
        "city_a_country_code",
        "city_a_admin1_code",
        "city_b_name",
        "city_b_country_code",
        "city_b_admin1_code",
        "kind",
        "start_year",
        "start_date",
        "end_year",
        "status",
        "stated_text",
        "source_url",
        "citation",
    ),
    "commitments": (
        "city_name",
        "country_code",
        "admin1_code",
        "kind",
        "target_year",
        "baseline_year",
        "reduction_pct",
        "status",
        "stated_text",
        "source_url",
        "citation",
    ),
}


def select_files(folder: Path) -> dict[str, SourceFile]:
    """The committed registry files as the build's source files, by table; every table's
    file must be present. A file's snapshot id names its content ('registry-networks-<sha>')."""
    found = {}
    for table in COLUMNS:
        path = Path(folder) / f"{table}.csv"
        if not path.is_file():
            raise ParseError("registry", path.name, "file", f"missing from {folder}")
        sha256 = hashlib.sha256(path.read_bytes()).hexdigest()
        found[table] = SourceFile(
            source=SOURCE.slug,
            role=table,
            snapshot_id=f"registry-{table}-{sha256[:12]}",
            file_name=path.name,
            path=str(path),
            origin=f"raw/registry/{path.name} (curated, committed with the project)",
            sha256=sha256,
            bytes=path.stat().st_size,
        )
    return found


def parse_registry_table(content: bytes, table: str, file_name: str) -> pd.DataFrame:
    """A registry CSV as strings (see read_registry_table)."""
    return read_registry_table(content, table, file_name).frame


def read_registry_table(content: bytes, table: str, file_name: str) -> Parsed:
    """A registry CSV as strings, empty cells as null, plus `source_row` ('file line N'),
    and the columns the table does not have (not read).

    Types and code lists are checked when the core table is built, so a bad row is rejected
    with its line named rather than stopping the run. Columns are found by name; a column of
    the table missing (or renamed), or one of them named twice, stops it.
    """
    expected = COLUMNS[table]

    def check_header(header: list[str]) -> None:
        missing = [c for c in expected if c not in header]
        twice = [c for c in expected if header.count(c) > 1]
        if missing or twice:
            unknown = [c for c in header if c not in expected]
            raise ParseError(
                "registry",
                file_name,
                "line 1",
                f"header differs from the {table} layout (unknown {unknown}, missing "
                f"{missing}, twice {twice})",
            )

    file = read_csv(content, "registry", file_name, check_header)
    at = {name: file.header.index(name) for name in expected}
    rows = []
    for line, fields in file.records:
        record: dict[str, str | None] = {
            name: (fields[i].strip() or None) for name, i in at.items()
        }
        record["source_row"] = f"{file_name} line {line}"
        rows.append(record)
    columns = [*expected, "source_row"]
    unknown = [c for c in file.header if c not in expected]
    return Parsed(pd.DataFrame(rows, columns=columns, dtype="object"), unknown)
