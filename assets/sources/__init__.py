"""One module per source: what it is (SourceInfo), how to fetch it and pure parse functions.

Nothing here imports Dagster, so the CLI and the unit tests use these modules directly.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd

    from pipeline.snapshots import Snapshot


def number(value: object) -> float | None:
    """A cell or field as a number: None when absent, empty, NaN or not a number."""
    if value is None:
        return None
    try:
        result = float(str(value))
    except ValueError:
        return None
    return None if result != result else result  # NaN is not equal to itself


@dataclass(frozen=True)
class SourceInfo:
    """Who publishes a source and on what terms; copied into every release's `sources`."""

    slug: str
    publisher: str
    licence: str
    attribution: str
    homepage: str
    # False where the terms forbid republishing: the rows reach only the full edition
    redistributable: bool = True


# What every source of commitments hands on, one row per target: the city as the source
# names it (with the evidence it gives), the coded target and the source's own words.
TARGET_COLUMNS = [
    "city_name",
    "country_code",
    "admin1_code",
    "latitude",
    "longitude",
    "population",
    "kind",
    "stage",
    "target_type",
    "sector",
    "target_year",
    "baseline_year",
    "reduction_pct",
    "status",
    "stated_kind",
    "stated_text",
    "source_id",
    "source_url",
    "citation",
    "source_row",
]


class ParseError(ValueError):
    """A source file does not have the layout its parser knows.

    The message names the source, the file and the position, so whoever reads the run log
    can open the file at the right place.
    """

    def __init__(self, source: str, file_name: str, position: str, problem: str) -> None:
        self.source = source
        self.file_name = file_name
        self.position = position
        super().__init__(f"{source}: {file_name}, {position}: {problem}")


@dataclass(frozen=True)
class Parsed:
    """A file's rows, and the columns it has that its parser does not know. Those are not
    read: a source that adds a column is reported (the parsed asset logs a warning), not
    failed, while a column the parser reads that is missing or renamed stops the parse."""

    frame: pd.DataFrame
    unknown_columns: list[str]


@dataclass(frozen=True)
class SourceFile:
    """One file a build reads: a stored snapshot, a registry file or a bundled copy.

    This is what the raw assets hand to the parsed assets, and what the `sources` table
    and the release manifest record.
    """

    source: str
    role: str
    snapshot_id: str
    file_name: str
    path: str
    origin: str
    sha256: str
    bytes: int
    retrieved_at: str | None = None
    note: str | None = None
    as_of: str | None = None

    @classmethod
    def from_snapshot(cls, snapshot: Snapshot, role: str) -> SourceFile:
        """A stored snapshot as the file a build reads in `role`."""
        return cls(
            source=snapshot.source,
            role=role,
            snapshot_id=snapshot.snapshot_id,
            file_name=snapshot.file_name,
            path=str(snapshot.path),
            origin=snapshot.origin,
            sha256=snapshot.sha256,
            bytes=snapshot.bytes,
            retrieved_at=snapshot.retrieved_at,
            as_of=snapshot.as_of,
            note=snapshot.note,
        )


@dataclass(frozen=True)
class CsvFile:
    """A CSV file's header and records, each record with the line it starts on (a quoted
    field may span lines). Blank records are left out."""

    header: list[str]
    records: list[tuple[int, list[str]]]


def read_csv(
    content: bytes,
    source: str,
    file_name: str,
    check_header: Callable[[list[str]], None] | None = None,
) -> CsvFile:
    """A UTF-8 CSV file as header and records; every record has as many fields as the
    header. Any fault is a ParseError naming the line (or byte) where it lies; a header
    `check_header` refuses is reported before any record is read."""
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise ParseError(source, file_name, f"byte {error.start}", "not UTF-8") from error
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    records: list[tuple[int, list[str]]] = []
    header: list[str] | None = None
    next_line = 1
    try:
        header = next(reader, None)
        if header is None:
            raise ParseError(source, file_name, "line 1", "the file is empty")
        if check_header is not None:
            check_header(header)
        next_line = reader.line_num + 1
        for fields in reader:
            line, next_line = next_line, reader.line_num + 1
            if not any(field.strip() for field in fields):
                continue
            if len(fields) != len(header):
                raise ParseError(
                    source,
                    file_name,
                    f"line {line}",
                    f"expected {len(header)} fields, found {len(fields)}",
                )
            records.append((line, fields))
    except csv.Error as error:  # reported where the broken record starts, not ends
        where = f"record from line {next_line}" if records or header else "line 1"
        raise ParseError(source, file_name, where, str(error)) from error
    return CsvFile(header, records)
