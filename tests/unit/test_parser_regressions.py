"""One test per parser bug the property tests (test_parser_properties) or their review
found, on the smallest input that showed it. Each docstring says what the parser raised
before; each test asserts the ParseError (or result) it gives now."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from contextlib import AbstractContextManager

import pytest

from assets.sources import ParseError, cdp_targets, geonames, wikidata
from assets.sources import net_zero_tracker as nzt
from tests.conftest import FIXTURES, nzt_workbook
from tests.unit.parser_inputs import no_hang, sample_zip, unzipped, wikidata_bundle, zipped

SAMPLE = (FIXTURES / "geonames" / "cities_sample.txt").read_bytes()
ENTITY = "http://www.wikidata.org/entity/"
INTEGER = "http://www.w3.org/2001/XMLSchema#integer"


def raises(message: str) -> AbstractContextManager[pytest.ExceptionInfo[ParseError]]:
    """A ParseError with exactly this message."""
    return pytest.raises(ParseError, match=f"^{re.escape(message)}$")


# ---------------------------------------------------------------------------------------
# Archives


def test_a_dump_zip_missing_its_first_byte_is_a_damaged_member() -> None:
    """Was ValueError: negative seek value -1 (zipfile, the member's offset moved)."""
    with raises(
        "geonames: cities15000.zip, member cities15000.txt: damaged member: negative seek value -1"
    ):
        geonames.parse_cities(b"\x00" + sample_zip()[2:], "cities15000.zip")


def test_a_bundle_with_a_damaged_member_header_names_the_member() -> None:
    """Was zipfile.BadZipFile: read_bundle caught it only around index.json."""
    damaged = bytearray(wikidata_bundle())
    damaged[30] = 0  # the first member's name in its local header
    with pytest.raises(
        ParseError,
        match=r"^wikidata: wikidata-responses\.zip, member 00001-twinning\.json: damaged member: "
        r"File name in directory '00001-twinning\.json' and header b'\\x000001-twinning\.json'",
    ):
        wikidata.read_bundle(bytes(damaged))


def test_a_line_error_inside_the_dump_zip_names_the_zip_and_its_member() -> None:
    """Was named 'cities15000.txt' alone: not the file stored, imported or selected."""
    with raises(
        "geonames: cities15000.zip:cities15000.txt, line 1: expected 19 tab-separated "
        "columns, found 1"
    ):
        geonames.parse_cities(zipped({"cities15000.txt": b"x\n"}), "cities15000.zip")


# ---------------------------------------------------------------------------------------
# GeoNames


def test_an_admin1_file_without_lines_is_an_empty_table() -> None:
    """Was KeyError: 'geonames_id' not found in columns (a frame with no rows had none)."""
    frame = geonames.parse_admin1(b"")
    assert frame.empty
    assert list(frame.columns) == ["country_code", "admin1_code", "admin1_name", "geonames_id"]
    assert str(frame["geonames_id"].dtype) == "Int64"


def test_a_country_table_with_only_its_header_is_an_empty_table() -> None:
    """Was KeyError, as for admin1."""
    frame = geonames.parse_countries(geonames.COUNTRY_HEADER.encode())
    assert frame.empty
    assert list(frame.columns) == [*geonames.COUNTRY_COLUMNS, "geonames_id"]


def city_line(column: int, value: str) -> bytes:
    fields = SAMPLE.decode().splitlines()[0].split("\t")
    fields[column] = value
    return "\t".join(fields).encode()


@pytest.mark.parametrize(
    ("parse", "message"),
    [
        (
            lambda: geonames.parse_cities(city_line(0, "9" * 20), "c.txt"),
            "geonames: c.txt, line 1: geonames_id '99999999999999999999' is not a whole "
            "number in range",
        ),
        (
            lambda: geonames.parse_cities(b"\n" + city_line(14, "9" * 20), "c.txt"),
            "geonames: c.txt, line 2: population '99999999999999999999' is not a whole "
            "number in range",
        ),
        (
            lambda: geonames.parse_admin1(b"US.OR\tOregon\tOregon\t" + b"9" * 20),
            "geonames: admin1CodesASCII.txt, line 1: geonameid '99999999999999999999' is not "
            "a whole number in range",
        ),
    ],
    ids=["cities-geonameid", "cities-population", "admin1-geonameid"],
)
def test_a_number_past_int64_names_its_line(parse: Callable[[], object], message: str) -> None:
    """Was OverflowError: Python int too large to convert to C long."""
    with raises(message):
        parse()


def test_a_bad_number_is_named_by_its_line_among_many() -> None:
    """The line is found by halving the rows, not by position among the non-blank ones."""
    lines = SAMPLE.decode().splitlines() * 50
    lines[70] = city_line(4, "north").decode()
    content = "\n\n".join(lines).encode()  # blank lines between: line 141 holds row 71
    with raises("geonames: c.txt, line 141: latitude 'north' is not a number"):
        geonames.parse_cities(content, "c.txt")


def bundled_country(**change: object) -> bytes:
    record = {"iso": "AD", "iso3": "AND", "name": "Andorra", "capital": "Andorra la Vella",
              "continentcode": "EU", "geonameid": 3041565}  # fmt: skip
    return json.dumps({"AD": {**record, **change}}).encode()


def test_bundled_countries_without_their_fields_are_a_parse_error() -> None:
    """Was KeyError: None of [Index([...])] are in the [columns]."""
    with raises(
        "geonames: countries.json, header: missing columns ['country_code', 'iso3_code', "
        "'country_name', 'capital_name', 'continent_code', 'geonames_id']"
    ):
        geonames.parse_bundled_countries(b"{}")


def test_a_bundled_country_geonameid_that_is_no_number_names_the_record() -> None:
    """Was pyarrow's ArrowInvalid: Failed to parse string: 'x' as a scalar of type int64."""
    with raises(
        "geonames: countries.json, record 'AD': geonames_id 'x' is not a whole number in range"
    ):
        geonames.parse_bundled_countries(bundled_country(geonameid="x"))
    assert geonames.parse_bundled_countries(bundled_country())["geonames_id"].tolist() == [3041565]


def bundled_city(**change: object) -> bytes:
    record = {"geonameid": 3041563, "name": "Andorra la Vella", "latitude": 42.50779,
              "longitude": 1.52109, "countrycode": "AD", "population": 20430,
              "admin1code": "07", "alternatenames": ["ALV", "Andorra"]}  # fmt: skip
    return json.dumps({"3041563": {**record, **change}}).encode()


def test_a_bundled_city_with_a_name_that_is_no_text_names_the_record() -> None:
    """Was TypeError: sequence item 0: expected str instance, NoneType found."""
    with raises("geonames: c.json, record '3041563': alternatenames holds a non-text"):
        geonames.parse_bundled_cities(bundled_city(alternatenames=[None]), "c.json")
    frame = geonames.parse_bundled_cities(bundled_city(), "c.json")
    assert frame["alternate_names"].tolist() == ["ALV,Andorra"]


def test_a_bundled_city_record_that_is_no_object_names_the_record() -> None:
    """Was read by pandas as a sequence of characters (a warning that pandas 4 makes an
    error) and reported as a missing column of the whole document."""
    with raises("geonames: c.json, record '1': not an object"):
        geonames.parse_bundled_cities(b'{"1": "ab"}', "c.json")


DEEP = b"[" * 100_000


@pytest.mark.parametrize(
    ("parse", "prefix"),
    [
        (lambda: wikidata.parse_sparql_json(DEEP, "p.json"), "wikidata: p.json, start: not JSON"),
        (lambda: wikidata.parse_entities(DEEP, "e.json"), "wikidata: e.json, start: not JSON"),
        (
            lambda: wikidata.read_bundle(zipped({"index.json": DEEP})),
            "wikidata: wikidata-responses.zip, member index.json: not JSON",
        ),
        (
            lambda: geonames.parse_bundled_cities(DEEP, "c.json"),
            "geonames: c.json, document: not JSON",
        ),
        (
            lambda: geonames.parse_bundled_countries(DEEP),
            "geonames: countries.json, document: not JSON",
        ),
    ],
    ids=["sparql", "entities", "bundle-index", "bundled-cities", "bundled-countries"],
)
def test_json_nested_too_deeply_is_a_parse_error(parse: Callable[[], object], prefix: str) -> None:
    """Was RecursionError: maximum recursion depth exceeded while decoding a JSON array."""
    with pytest.raises(ParseError, match=f"^{re.escape(prefix)}: maximum recursion depth"):
        parse()


# ---------------------------------------------------------------------------------------
# Wikidata


def test_sparql_bindings_that_are_no_list_are_a_parse_error() -> None:
    """Was TypeError: 'NoneType' object is not iterable."""
    body = b'{"head": {}, "results": {"bindings": null}}'
    with raises("wikidata: p.json, top level: results.bindings is not a list"):
        wikidata.parse_sparql_json(body, "p.json")
    assert wikidata.sparql_body_problem(body) == "results.bindings is not a list"


def test_entities_that_are_no_object_are_a_parse_error() -> None:
    """Was AttributeError: 'NoneType' object has no attribute 'items'."""
    with raises("wikidata: e.json, top level: entities is not a JSON object"):
        wikidata.parse_entities(b'{"entities": null}', "e.json")


def test_an_infinite_population_is_no_population() -> None:
    """Was OverflowError: cannot convert float infinity to integer."""
    snak = {"snaktype": "value", "datavalue": {"value": {"amount": "1e999"}}}
    entity = {"id": "Q1", "claims": {"P1082": [{"rank": "normal", "mainsnak": snak}]}}
    [parsed] = wikidata.parse_entities(json.dumps({"entities": {"Q1": entity}}).encode(), "e")
    assert (parsed.qid, parsed.population) == ("Q1", None)


def test_an_item_id_that_is_no_text_names_the_entity() -> None:
    """Was TypeError: unhashable type: 'list', raised by read_bundle gathering classes."""
    snak = {"snaktype": "value", "datavalue": {"value": {"id": []}}}
    entity = {"id": "Q1", "claims": {"P31": [{"rank": "normal", "mainsnak": snak}]}}
    body = json.dumps({"entities": {"Q1": entity}}).encode()
    with raises(
        "wikidata: e.json, entity Q1: unreadable: TypeError('an item id that is no text: []')"
    ):
        wikidata.parse_entities(body, "e.json")


def solution(**terms: dict[str, str]) -> dict[str, dict[str, str]]:
    uri = {"type": "uri", "value": ""}
    return {
        "item": {**uri, "value": ENTITY + "Q1"},
        "twin": {**uri, "value": ENTITY + "Q2"},
        "statement": {**uri, "value": ENTITY + "statement/Q1-a"},
        **terms,
    }


YEAR = {"type": "literal", "datatype": INTEGER, "value": "1990"}


@pytest.mark.parametrize(
    ("solutions", "message"),
    [
        ([solution(statement=YEAR)], "solution 1: ['statement'] not a URI or plain literal"),
        (
            [solution(start=YEAR, startPrecision={**YEAR, "value": "9"})],
            "solution 1: ['start'] not a URI or plain literal",
        ),
        (
            [
                solution(reference={"type": "uri", "value": "http://a"}),
                solution(reference={"type": "literal", "xml:lang": "en", "value": "b"}),
            ],
            "solution 2: ['reference'] not a URI or plain literal",
        ),
    ],
    ids=["statement-a-number", "start-a-number", "reference-a-language-string"],
)
def test_a_statement_solution_with_a_term_of_another_kind_names_it(
    solutions: list[dict[str, dict[str, str]]], message: str
) -> None:
    """Were AttributeError: 'int' object has no attribute 'rsplit' / 'strip', and
    TypeError: '<' not supported between instances of 'LangString' and 'str'."""
    body = json.dumps({"head": {"vars": []}, "results": {"bindings": solutions}}).encode()
    rows = wikidata.parse_sparql_json(body, "p.json")
    with raises(f"wikidata: p.json, {message}"):
        wikidata.twinning_statements(rows, "p.json")


LISTED = "index.json entry 1"


@pytest.mark.parametrize(
    ("index", "message"),
    [
        (b'[{"member": "", "kind": "twinning"}]', f"{LISTED}: member '' is listed but missing"),
        (b"[null]", f"{LISTED}: no member and kind named"),
        (b'[{"kind": "twinning"}]', f"{LISTED}: no member and kind named"),
        (b'{"a": 1}', "member index.json: not a JSON list"),
        (b'[{"member": "index.json", "kind": "other"}]', f"{LISTED}: unknown kind 'other'"),
    ],
    ids=["member-empty", "entry-null", "no-member", "index-an-object", "unknown-kind"],
)
def test_a_bundle_index_of_another_shape_names_its_entry(index: bytes, message: str) -> None:
    """Were a ParseError with an empty position ('wikidata-responses.zip, : listed but
    missing'), TypeError: 'NoneType' object is not subscriptable, KeyError: 'member' and
    TypeError: string indices must be integers."""
    with raises(f"wikidata: wikidata-responses.zip, {message}"):
        wikidata.read_bundle(zipped({"index.json": index}))


# ---------------------------------------------------------------------------------------
# Hangs


def with_far_row(row: int) -> bytes:
    """The Net Zero Tracker fixture with its last row (Germany, a country) moved to `row`,
    and a dimension claiming every column down to it."""
    files = unzipped(nzt_workbook())
    xml = files["xl/worksheets/sheet1.xml"].decode()
    xml = xml.replace('<dimension ref="A1:BM7" />', f'<dimension ref="A1:XFD{row}" />')
    xml = re.sub(r'r="([A-Z]*)7"', lambda m: f'r="{m.group(1)}{row}"', xml)
    files["xl/worksheets/sheet1.xml"] = xml.encode()
    return zipped(files)


def test_a_sheet_with_a_row_far_down_is_read_without_padding_every_row() -> None:
    """Was a hang: openpyxl padded each of the million missing rows to the 16,384 columns
    the dimension claims (a few kB of XML kept the parse busy for many minutes)."""
    with no_hang():
        export = nzt.parse_export(with_far_row(nzt.MAX_ROWS), "x.xlsx")
    assert len(export.cities) == 4
    assert export.skipped == {"Region": 1, "Country": 1}  # the far row is read, not dropped


def test_a_row_past_excel_s_last_is_refused() -> None:
    with no_hang(), raises("net_zero_tracker: x.xlsx, row 1048577: past Excel's last row 1048576"):
        nzt.parse_export(with_far_row(10**9), "x.xlsx")


def test_a_header_of_a_million_empty_columns_is_refused_promptly() -> None:
    """Was a hang: duplicate columns were counted with list.count per column, quadratic
    (a 1 MB line of commas took about a quarter of an hour); the message lists at most 10."""
    with no_hang(), pytest.raises(ParseError) as raised:
        cdp_targets.parse_targets(b"," * 1_000_000 + b"\n", "t.csv")
    message = str(raised.value)
    assert message.startswith(
        "cdp_targets: t.csv, line 1: header not the dataset's: unknown ['', '', '', '', '', "
        "'', '', '', '', ''] and 999991 more, missing ['year_reported_to_cdp', "
    )
    assert message.endswith("read alike []")  # an unknown column is not read, so not doubled
