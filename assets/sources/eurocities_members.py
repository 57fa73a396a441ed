"""Eurocities' member list, as copied from the members page of eurocities.eu.

The page lists each member's name and, under it, its country in lower case, so a copy of
its text has the two on alternating lines; lines starting with '#' are comments. The page
has no stable export to fetch, so a user copies it and imports the text with
``citydip import eurocities_members <file>``, dated by its file name or ``--as-of``.
"""

from __future__ import annotations

import pandas as pd

from assets.resolve import normalise_country
from assets.sources import Parsed, ParseError, SourceFile, SourceInfo
from assets.sources.network_members import MEMBER_COLUMNS, check_list, dated

SOURCE = SourceInfo(
    slug="eurocities_members",
    publisher="Eurocities (eurocities.eu)",
    licence="facts (a list of member cities); no licence stated",
    attribution="Eurocities member list, eurocities.eu",
    homepage="https://eurocities.eu/",
)
NETWORK_ID = "eurocities"
DATED = True


def parse_members(content: bytes, file_name: str, as_of: str) -> pd.DataFrame:
    """One row per member: the name line and the country line after it. A country line
    that names no country means the lines are out of step, and stops the parse there."""
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise ParseError(SOURCE.slug, file_name, f"byte {error.start}", "not UTF-8") from error
    lines = [
        (number, line.strip())
        # lines as a text editor counts them: split on newlines only, not on the other
        # breaks str.splitlines() knows (U+0085, U+2028), which pasted web text can hold
        for number, line in enumerate(text.replace("\r\n", "\n").split("\n"), start=1)
        if line.strip() and not line.lstrip().startswith("#")
    ]
    rows = []
    for at in range(0, len(lines), 2):
        name_line, name = lines[at]
        if at + 1 == len(lines):
            raise ParseError(
                SOURCE.slug,
                file_name,
                f"line {name_line}",
                f"{name!r} has no country line after it",
            )
        country_line, country = lines[at + 1]
        if normalise_country(country) is None:
            raise ParseError(
                SOURCE.slug,
                file_name,
                f"line {country_line}",
                f"expected the country of {name!r} (line {name_line}), found {country!r}",
            )
        rows.append(
            {
                "network_id": NETWORK_ID,
                "city_name": name,
                "country_code": country,
                "admin1_code": None,
                "joined_year": None,
                "role": "member",
                "as_of": as_of,
                "source_url": None,
                "citation": f"Eurocities member list as published on eurocities.eu, as of "
                f"{as_of} (copied as {file_name})",
                "source_row": f"{file_name} line {name_line}",
            }
        )
    return pd.DataFrame(rows, columns=MEMBER_COLUMNS, dtype="object")


def parse_file(content: bytes, file: SourceFile) -> pd.DataFrame:
    return read_list(content, file).frame


def read_list(content: bytes, file: SourceFile) -> Parsed:
    """A stored copy's rows, dated. The text has no columns, so none is ever unknown: a
    changed layout puts the lines out of step, which stops the parse."""
    return Parsed(parse_members(content, file.file_name, dated(file)), [])


def check_import(file_name: str, content: bytes, as_of: str | None = None) -> None:
    """Refuse a text that is not the alternating layout, or one with no date."""
    check_list(SOURCE.slug, parse_members, file_name, content, as_of)
