"""Network member lists in the project's generic CSV format, imported by users.

Any network's member list can be added with ``citydip import network_members <file>``: a
UTF-8 CSV with the header ``network_id,name,country`` and, optionally, ``joined_year``,
``role``, ``admin1`` (the state or province, to tell namesakes apart) and ``source_url``.
``country`` is an ISO code or a country name. Columns are read by name, in any order; a
column the format does not have is reported and not read. Each file is a list as of one
date (the date in its file name, or ``--as-of``): a city that a newer list of the same
network no longer names has left by then, and its membership is ended, not deleted.

This module also holds what every member list source shares: the parsed frame's columns,
the list date and the choice of files (every stored list, oldest first).
"""

from __future__ import annotations

import re
from collections.abc import Callable

import pandas as pd

from assets.sources import Parsed, ParseError, SourceFile, SourceInfo, read_csv
from pipeline.snapshots import AS_OF, SnapshotStore

SOURCE = SourceInfo(
    slug="network_members",
    publisher="the networks' own member lists, as imported by the project's users",
    licence="facts from each list's own source (see each row's citation)",
    attribution="each row cites the member list it was read from",
    homepage="README.md#refreshing-from-live-sources-importing-downloaded-files",
)

DATED = True  # each file is a list as of one date
REQUIRED = ("network_id", "name", "country")
OPTIONAL = ("joined_year", "role", "admin1", "source_url")
# What every member list source hands on: one row per city a list names.
MEMBER_COLUMNS = [
    "network_id",
    "city_name",
    "country_code",
    "admin1_code",
    "joined_year",
    "role",
    "as_of",
    "source_url",
    "citation",
    "source_row",
]
_DATE_IN_NAME = re.compile(r"(?<!\d)(\d{4}-\d{2}(?:-\d{2})?)(?!\d)")


def list_date(file_name: str, as_of: str | None = None) -> str | None:
    """The date a list is from: `as_of` if given, else a date in its file name
    ('eurocities-members.2025-06.txt' -> '2025-06'); None when neither says."""
    if as_of:
        return as_of
    for match in _DATE_IN_NAME.finditer(file_name):
        if AS_OF.fullmatch(match.group(1)):
            return match.group(1)
    return None


def select_lists(store: SnapshotStore, slug: str) -> dict[str, SourceFile | None]:
    """Every stored list of a source, by snapshot id, oldest list date first: memberships
    are read from all of them, so a city missing from a newer list is seen to have left."""
    snapshots = store.snapshots(slug)
    files = [SourceFile.from_snapshot(s, "members") for s in snapshots]
    files.sort(key=lambda f: (dated(f), f.snapshot_id))
    return {f.snapshot_id: f for f in files}


def dated(file: SourceFile) -> str:
    """A stored list's date: as stored, else in its name, else the day it was stored."""
    return list_date(file.file_name, file.as_of) or (file.retrieved_at or "")[:10]


def parse_members(content: bytes, file_name: str, as_of: str) -> pd.DataFrame:
    """The list's rows in MEMBER_COLUMNS (see read_members)."""
    return read_members(content, file_name, as_of).frame


def read_members(content: bytes, file_name: str, as_of: str) -> Parsed:
    """The list's rows in MEMBER_COLUMNS, values as written (empty cells null), read by
    column name in any order, and the columns the format does not have (not read). A
    missing required column, or one named twice, stops the parse, naming it."""
    file = read_csv(content, SOURCE.slug, file_name, lambda h: _check_header(h, file_name))
    header = [h.strip().lower() for h in file.header]
    unknown = [h for h in header if h not in (*REQUIRED, *OPTIONAL)]
    rows = []
    for line, fields in file.records:
        record = {h: (f.strip() or None) for h, f in zip(header, fields, strict=True)}
        network = record["network_id"]
        rows.append(
            {
                "network_id": network,
                "city_name": record["name"],
                "country_code": record["country"],
                "admin1_code": record.get("admin1"),
                "joined_year": record.get("joined_year"),
                "role": record.get("role") or "member",
                "as_of": as_of,
                "source_url": record.get("source_url"),
                "citation": f"{network} member list {file_name}, as of {as_of}",
                "source_row": f"{file_name} line {line}",
            }
        )
    return Parsed(pd.DataFrame(rows, columns=MEMBER_COLUMNS, dtype="object"), unknown)


def _check_header(given: list[str], file_name: str) -> None:
    """Refuse a header without a required column or with a column of the format twice;
    an unknown column is let through, to be reported and not read."""
    header = [h.strip().lower() for h in given]
    missing = [c for c in REQUIRED if c not in header]
    twice = sorted({c for c in (*REQUIRED, *OPTIONAL) if header.count(c) > 1})
    if missing or twice:
        unknown = [c for c in header if c not in (*REQUIRED, *OPTIONAL)]
        raise ParseError(
            SOURCE.slug,
            file_name,
            "line 1",
            f"header {header} is not the member list layout: columns {list(REQUIRED)}, "
            f"optionally {list(OPTIONAL)} (missing {missing}, twice {twice}, "
            f"unknown {unknown})",
        )


def parse_file(content: bytes, file: SourceFile) -> pd.DataFrame:
    return read_list(content, file).frame


def read_list(content: bytes, file: SourceFile) -> Parsed:
    """A stored list's rows, dated, and the columns its parser does not know."""
    return read_members(content, file.file_name, dated(file))


def check_import(file_name: str, content: bytes, as_of: str | None = None) -> None:
    """Refuse a file the parser does not accept, or one with no date to order it by."""
    check_list(SOURCE.slug, parse_members, file_name, content, as_of)


def check_list(
    slug: str,
    parse: Callable[[bytes, str, str], pd.DataFrame],
    file_name: str,
    content: bytes,
    as_of: str | None,
) -> None:
    """Refuse a member list without a date (nothing would order it against newer lists),
    one its parser does not accept, and one that names no member."""
    date = list_date(file_name, as_of)
    if date is None:
        raise ParseError(
            slug,
            file_name,
            "file",
            "a member list needs its date: put it in the file name (members.2025-06.csv) "
            "or give --as-of YYYY-MM[-DD]",
        )
    if parse(content, file_name, date).empty:
        raise ParseError(slug, file_name, "file", "the list names no member")
