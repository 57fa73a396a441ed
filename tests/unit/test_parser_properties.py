"""Property-based tests of every parser (issue "Reliability and security"): fed arbitrary
bytes or text, a valid document cut short, one with a huge field or a NUL in a field, or a
damaged archive, each parser returns its normal result or raises the project's ParseError
naming source, file and position; never another exception type, never a hang.

No hypothesis deadlines (timing is noisy and the project makes no timed assertions):
parser_inputs.no_hang's alarm fails an example that hangs instead. With CI set, the
derandomised profile draws the same examples on every run. Concrete cases of what these
found are in test_parser_regressions; the zip checks per archive format in test_archives.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from assets.sources import ParseError, cdp_emissions, cdp_targets, geonames, registry, wikidata
from assets.sources import eurocities_members as eurocities
from assets.sources import net_zero_tracker as nzt
from assets.sources import network_members as members
from pipeline.paths import PROJECT_ROOT
from tests.conftest import FIXTURES, nzt_workbook
from tests.unit.parser_inputs import (
    bundle_with,
    bundled_sample,
    csv_with,
    json_with,
    lines_with,
    no_hang,
    sample_zip,
    tsv_with,
    wikidata_bundle,
    xlsx_with,
    zip_tsv,
)

settings.register_profile(
    "parsers",
    deadline=None,  # a slow example is no failure; a hung one is (see no_hang)
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile(
    "parsers-ci",
    settings.get_profile("parsers"),
    derandomize=True,  # the same examples on every CI run: a red build is reproducible
    database=None,
    print_blob=True,
)
PROFILE = settings.get_profile("parsers-ci" if os.environ.get("CI") else "parsers")


@dataclass(frozen=True, repr=False)
class Case:
    """One parser entry point, with a valid document for it and a way to set a field."""

    id: str
    source: str
    file_name: str
    parse: Callable[[bytes], object]
    valid: Callable[[], bytes]
    with_field: Callable[[int, Any], bytes]
    result: type
    archive: bool = False

    def __repr__(self) -> str:
        return self.id


def _fixture(*parts: str) -> Callable[[], bytes]:
    return lambda: (FIXTURES.joinpath(*parts)).read_bytes()


def _on(valid: Callable[[], bytes], put: Callable[[bytes, int, Any], bytes]) -> Callable:
    return lambda index, value: put(valid(), index, value)


def _case(id: str, source: str, file_name: str, parse: Callable[[bytes], object],
          valid: Callable[[], bytes], put: Callable[[bytes, int, Any], bytes],
          result: type = pd.DataFrame) -> Case:  # fmt: skip
    return Case(id, source, file_name, parse, valid, _on(valid, put), result)


GAZETTEER_ZIP = "cities15000.zip"
NZT_FILE = "snapshot_2022-12-20_13-07-14.xlsx"
MEMBERS_FILE = "c40.2025-01.csv"
MEMBERS_CSV = (
    b"network_id,name,country,joined_year,role,admin1,source_url\n"
    b"c40,Portland,US,2008,,OR,https://www.c40.org/cities/portland/\n"
    b'c40,"Prague, capital",CZ,,founding_member,,\n'
)
EUROCITIES_TEXT = b"# copy pasted from website\nPrague\nczech republic\n\nTel Aviv\nisrael\n"


CASES = [
    _case("geonames-cities", "geonames", "cities15000.txt",
          lambda c: geonames.parse_cities(c, "cities15000.txt"),
          _fixture("geonames", "cities_sample.txt"), tsv_with),
    _case("geonames-bundled-cities", "geonames", "cities15000.json",
          lambda c: geonames.parse_bundled_cities(c, "cities15000.json"),
          lambda: bundled_sample("cities15000.json", 20), json_with),
    _case("geonames-countries", "geonames", "countryInfo.txt",
          lambda c: geonames.parse_countries(c, "countryInfo.txt"),
          _fixture("geonames", "countryInfo.txt"), tsv_with),
    _case("geonames-bundled-countries", "geonames", "countries.json",
          geonames.parse_bundled_countries, lambda: bundled_sample("countries.json", 20),
          json_with),
    _case("geonames-admin1", "geonames", "admin1CodesASCII.txt",
          lambda c: geonames.parse_admin1(c, "admin1CodesASCII.txt"),
          _fixture("geonames", "admin1CodesASCII.txt"), tsv_with),
    _case("wikidata-sparql", "wikidata", "twinning-page-1.json",
          lambda c: wikidata.parse_sparql_json(c, "twinning-page-1.json"),
          _fixture("wikidata", "twinning-page-1.json"), json_with, list),
    _case("wikidata-entities", "wikidata", "wbgetentities.json",
          lambda c: wikidata.parse_entities(c, "wbgetentities.json"),
          _fixture("wikidata", "wbgetentities.json"), json_with, list),
    _case("cdp-targets", "cdp_targets", "targets.csv",
          lambda c: cdp_targets.parse_targets(c, "targets.csv"),
          _fixture("cdp", "targets.csv"), csv_with),
    _case("cdp-emissions", "cdp_emissions", "emissions.csv",
          lambda c: cdp_emissions.parse_emissions(c, "emissions.csv"),
          _fixture("cdp", "emissions.csv"), csv_with),
    _case("network-members", "network_members", MEMBERS_FILE,
          lambda c: members.parse_members(c, MEMBERS_FILE, "2025-01"),
          lambda: MEMBERS_CSV, csv_with),
    _case("eurocities-members", "eurocities_members", "eurocities.2025-06.txt",
          lambda c: eurocities.parse_members(c, "eurocities.2025-06.txt", "2025-06"),
          lambda: EUROCITIES_TEXT, lines_with),
    *(
        _case(f"registry-{table}", "registry", f"{table}.csv",
              lambda c, table=table: registry.parse_registry_table(c, table, f"{table}.csv"),
              lambda table=table: (PROJECT_ROOT / "raw" / "registry" / f"{table}.csv").read_bytes(),
              csv_with)
        for table in registry.COLUMNS
    ),
    Case("geonames-cities-zip", "geonames", GAZETTEER_ZIP,
         lambda c: geonames.parse_cities(c, GAZETTEER_ZIP), sample_zip,
         _on(sample_zip, zip_tsv), pd.DataFrame, archive=True),
    Case("wikidata-bundle", "wikidata", wikidata.BUNDLE_FILE,
         lambda c: wikidata.read_bundle(c, wikidata.BUNDLE_FILE), wikidata_bundle,
         bundle_with, wikidata.Fetched, archive=True),
    Case("net-zero-tracker", "net_zero_tracker", NZT_FILE,
         lambda c: nzt.parse_export(c, NZT_FILE), cache(nzt_workbook), xlsx_with,
         nzt.Export, archive=True),
]  # fmt: skip
JSON_IDS = {"geonames-bundled-cities", "geonames-bundled-countries", "wikidata-sparql",
            "wikidata-entities", "wikidata-bundle"}  # fmt: skip
JSON_CASES = [case for case in CASES if case.id in JSON_IDS]
LINE_CASES = [case for case in CASES if case.id not in JSON_IDS and not case.archive]


def check(case: Case, content: bytes) -> None:
    """The property: the parser's normal result, or a ParseError naming the source, the
    file (a bundle's member as 'bundle:member') and a position. Anything else fails."""
    with no_hang():
        try:
            result = case.parse(content)
        except ParseError as error:
            assert error.source == case.source, error
            assert error.file_name.split(":")[0] == case.file_name, error
            assert error.position.strip(), error
            assert str(error).startswith(f"{case.source}: {error.file_name}, {error.position}: ")
            return
    assert isinstance(result, case.result)


# ---------------------------------------------------------------------------------------
# Strategies

# Characters parsers trip on: NUL, separators, quotes, line breaks str.splitlines() knows
# but editors do not, a BOM, a lone combining mark, characters beyond the BMP.
AWKWARD = "\x00\t\n\r,;\"'#{}[]:.\\\x0b\x0c\x1c\x85\u2028\u2029\ufeff\u0301\U0001d518"
texts = st.text(st.one_of(st.characters(codec="utf-8"), st.sampled_from(AWKWARD)))
# A huge value as what it repeats and how often: hypothesis shows the pair, not 5 MB.
huge_values = st.tuples(
    st.sampled_from(["9", "x", "é", " ", '"', "\t", "\n", "-1e9", "\U0001d518"]),
    st.integers(1 << 20, 5 << 20),
)
# A line of 1 to 2 million separators, quotes or blanks: a header of a million columns.
huge_lines = st.tuples(
    st.sampled_from([",", "\t", '"', " ", "\n", "\x00", ",a", '",']),
    st.integers(1 << 20, 2 << 20),
)
nul_values = st.builds(lambda a, b: f"{a}\x00{b}", texts, texts)
# Values a field may hold that its parser may not expect: numbers past Int64 or float
# range, other digits, spellings of missing and infinite.
odd_values = st.one_of(
    texts,
    st.integers().map(str),
    st.integers(2**63 - 2, 10**40).map(str),
    st.floats().map(repr),
    st.sampled_from(["1e400", "-0", "NaN", "inf", "", " ", "NA", "\u0661\u0662", "1_000", "0x1F"]),
)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | texts,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(texts, inner, max_size=3),
    max_leaves=8,
)
cases = pytest.mark.parametrize("case", CASES, ids=repr)


# ---------------------------------------------------------------------------------------
# The properties


@cases
def test_every_valid_document_parses(case: Case) -> None:
    """The documents the properties start from are valid, so a failure is the change's."""
    result = case.parse(case.valid())
    assert isinstance(result, case.result)
    frame = result.cities if isinstance(result, nzt.Export) else result
    assert len(frame.statements if isinstance(frame, wikidata.Fetched) else frame) > 0


@cases
@settings(PROFILE, max_examples=40)
@given(content=st.binary(max_size=2_000))
def test_arbitrary_bytes(case: Case, content: bytes) -> None:
    check(case, content)


@cases
@settings(PROFILE, max_examples=40)
@given(text=texts)
def test_arbitrary_text_with_nul_and_unusual_unicode(case: Case, text: str) -> None:
    check(case, text.encode())


@cases
@settings(PROFILE, max_examples=40)
@given(data=st.data())
def test_truncated_documents(case: Case, data: st.DataObject) -> None:
    valid = case.valid()
    check(case, valid[: data.draw(st.integers(0, len(valid) - 1), label="cut at")])


@cases
@settings(PROFILE, max_examples=5)
@given(index=st.integers(0, 10_000), huge=huge_values)
def test_a_huge_field(case: Case, index: int, huge: tuple[str, int]) -> None:
    """One field 1 to 5 MB long."""
    text, times = huge
    check(case, case.with_field(index, text * times))


@pytest.mark.parametrize("case", LINE_CASES, ids=repr)
@settings(PROFILE, max_examples=5)
@given(index=st.integers(0, 50), huge=huge_lines)
def test_a_huge_line(case: Case, index: int, huge: tuple[str, int]) -> None:
    """One line of a text format (the header, when index is 0) a million characters of
    one kind: what makes per-line or per-column work quadratic shows here as a hang."""
    text, times = huge
    check(case, lines_with(case.valid(), index, text * times))


@cases
@settings(PROFILE, max_examples=25)
@given(index=st.integers(0, 10_000), value=nul_values)
def test_a_field_with_a_nul_character(case: Case, index: int, value: str) -> None:
    check(case, case.with_field(index, value))


@cases
@settings(PROFILE, max_examples=40)
@given(index=st.integers(0, 10_000), value=odd_values)
def test_a_field_with_an_odd_value(case: Case, index: int, value: str) -> None:
    check(case, case.with_field(index, value))


@cases
@settings(PROFILE, max_examples=60)
@given(data=st.data())
def test_a_valid_document_with_arbitrary_bytes_spliced_in(case: Case, data: st.DataObject) -> None:
    """For an archive: random bytes of the zip (headers, directory, deflated data) changed."""
    valid = bytearray(case.valid())
    for _ in range(data.draw(st.integers(1, 4), label="splices")):
        at = data.draw(st.integers(0, len(valid) - 1), label="at")
        size = data.draw(st.integers(0, 8), label="replacing")
        valid[at : at + size] = data.draw(st.binary(min_size=1, max_size=8), label="with")
    check(case, bytes(valid))


@pytest.mark.parametrize("case", JSON_CASES, ids=repr)
@settings(PROFILE, max_examples=150)
@given(index=st.integers(0, 10_000), value=json_values)
def test_a_json_document_with_any_value_in_any_place(case: Case, index: int, value: object) -> None:
    check(case, case.with_field(index, value))
