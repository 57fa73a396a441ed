"""CSV the project writes for people (`citydip resolve`, `citydip diff --rows`): a cell a
spreadsheet would run as a formula is neutralised. Parquet and DuckDB keep raw values."""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import IO, Any

# What spreadsheets treat as the start of a formula (OWASP "CSV injection").
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$")


def safe_cell(value: Any) -> Any:
    """The value, or for text that starts like a formula the text behind a single quote,
    so that it is shown, not run. A plain number such as -46.6 stays a number."""
    if not isinstance(value, str) or not value.startswith(FORMULA_START):
        return value
    if _NUMBER.match(value):
        return value
    return "'" + value


def write_csv(handle: IO[str], fieldnames: Sequence[str], rows: Iterable[Mapping[str, Any]]) -> int:
    """Write a header and the rows, every cell through safe_cell; returns the row count."""
    writer = csv.DictWriter(handle, fieldnames=list(fieldnames))
    writer.writeheader()
    count = 0
    for row in rows:
        writer.writerow({key: safe_cell(value) for key, value in row.items()})
        count += 1
    return count
