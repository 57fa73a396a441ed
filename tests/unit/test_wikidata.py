"""Wikidata: the SPARQL JSON and entity JSON parsers on real recorded responses and on
fixtures in the live format, and the client's etiquette against a fake HTTP server."""

import io
import json
import threading
import time
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import requests
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from assets.sources import ParseError
from assets.sources import wikidata as wd
from pipeline.http import FetchError, build_session
from pipeline.resources import HttpResource
from pipeline.snapshots import SnapshotStore
from tests.conftest import PROJECT_ROOT, serve_wikidata

FIXTURES = PROJECT_ROOT / "tests" / "fixtures" / "wikidata"
SPARQL_JSON = "application/sparql-results+json"


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


# --- SPARQL JSON -------------------------------------------------------------------------


def test_the_recorded_sparql_result_parses_every_term_kind(shared_data: Path) -> None:
    body = (shared_data / "wikidata" / "sparql-result.european-cities.2023-08.json").read_bytes()
    rows = wd.parse_sparql_json(body, "sparql-result.european-cities.2023-08.json")
    assert len(rows) == 224
    cologne = rows[0]
    assert cologne["cityLabel"] == wd.LangString("Köln", "de")
    assert cologne["location"] == pytest.approx((50.942222222, 6.957777777))
    assert cologne["inhabitants"] == 1073096 and isinstance(cologne["inhabitants"], int)
    assert cologne["article"] == "https://de.wikipedia.org/wiki/K%C3%B6ln"
    assert cologne["plzMin"] == "50667"  # a plain literal stays text
    # optional variables left unbound are absent, not None or empty
    assert sum("flag" not in row for row in rows) == 224 - 165
    assert sum("height" not in row for row in rows) == 224 - 202


def test_sparql_time_values_keep_their_precision() -> None:
    rows = wd.parse_sparql_json(fixture("twinning-page-2.json"), "page-2")
    statements = {s.object: s for s in wd.twinning_statements(rows, "page-2")}
    trier, zamosc = statements["Q3138"], statements["Q145972"]
    assert (trier.start_year, trier.start_date) == (1987, "1987-05-24")
    assert (trier.end_year, trier.end_date) == (2020, None)
    # a decade-precision date gives no year at all
    assert (zamosc.start_year, zamosc.start_date, zamosc.rank) == (None, None, "deprecated")


def test_references_of_one_statement_over_several_solutions_are_gathered() -> None:
    rows = wd.parse_sparql_json(fixture("twinning-page-1.json"), "page-1")
    assert len(rows) == 3
    statements = wd.twinning_statements(rows, "page-1")
    assert len(statements) == 2
    bielefeld, rochdale = sorted(statements, key=lambda s: s.subject)
    assert bielefeld.statement_id == "Q2112$fa2b9dbe-44c4-e3aa-b1b7-6725768477cf"
    assert (bielefeld.subject, bielefeld.object, bielefeld.rank) == ("Q2112", "Q474605", "normal")
    assert (bielefeld.start_year, bielefeld.start_date) == (1953, None)
    assert rochdale.references == (
        "https://example.org/bielefeld/partnerstaedte",
        "https://example.org/rochdale/twin-towns",
    )
    assert rochdale.start_year is None


@pytest.mark.parametrize(
    ("value", "precision", "expected"),
    [
        ("+1953-00-00T00:00:00Z", 9, (1953, None)),  # entity JSON, year precision
        ("1953-01-01T00:00:00Z", 9, (1953, None)),  # SPARQL, year precision: not 1 January
        ("+1995-02-18T00:00:00Z", 11, (1995, "1995-02-18")),
        ("+1995-02-00T00:00:00Z", 10, (1995, None)),  # month precision: year only
        ("+1950-00-00T00:00:00Z", 8, (None, None)),  # decade
        ("-0500-00-00T00:00:00Z", 9, (None, None)),  # BCE
        ("+1995-02-18T00:00:00Z", None, (None, None)),
        ("not a time", 11, (None, None)),
    ],
)
def test_wikidata_time(value: str, precision: int | None, expected: tuple) -> None:
    assert wd.wikidata_time(value, precision) == expected


def test_wkt_points_are_longitude_first() -> None:
    assert wd.parse_wkt_point("Point(6.95 50.94)") == (50.94, 6.95)
    assert wd.parse_wkt_point("<http://www.wikidata.org/entity/Q2> Point(-2.16 53.61)") == (
        53.61,
        -2.16,
    )
    assert wd.parse_wkt_point("Point(200 50)") is None
    assert wd.parse_wkt_point("LINESTRING(1 2, 3 4)") is None


@pytest.mark.parametrize(
    ("body", "position", "problem"),
    [
        (b"java.util.concurrent.TimeoutException", "start", "not JSON"),
        (b'{"head": {"vars": []}}', "top level", "lacks head or results.bindings"),
        (
            b'{"head": {"vars": ["n"]}, "results": {"bindings": [{"n": {"type": "literal", '
            b'"datatype": "http://www.w3.org/2001/XMLSchema#integer", "value": "x"}}]}}',
            "solution 1",
            "not a number",
        ),
        (
            b'{"head": {"vars": ["n"]}, "results": {"bindings": [{"n": {"type": "triple", '
            b'"value": "x"}}]}}',
            "solution 1",
            "unknown term type",
        ),
    ],
)
def test_a_bad_sparql_body_is_a_parse_error_naming_file_and_position(
    body: bytes, position: str, problem: str
) -> None:
    with pytest.raises(ParseError) as raised:
        wd.parse_sparql_json(body, "twinning page at offset 0")
    message = str(raised.value)
    assert message.startswith(f"wikidata: twinning page at offset 0, {position}: ")
    assert problem in message


# --- schema drift in the JSON responses ----------------------------------------------------
# JSON is read by name: an extra binding or field is ignored (that is fine: it is not
# read), order does not matter, and a variable or field the parser reads that is missing
# fails the source, naming it.


def edited_page(edit: Callable[[dict[str, Any]], None]) -> bytes:
    """twinning-page-1.json with its document edited."""
    document = json.loads(fixture("twinning-page-1.json"))
    edit(document)
    return json.dumps(document).encode()


def statements_of(body: bytes) -> list[wd.Statement]:
    rows = wd.parse_sparql_json(body, "page-1", wd.SELECTED["twinning"])
    return wd.twinning_statements(rows, "page-1")


def test_an_extra_binding_does_not_break_the_parse() -> None:
    def add_population(document: dict[str, Any]) -> None:
        document["head"]["vars"].append("population")
        for binding in document["results"]["bindings"]:
            binding["population"] = {"type": "literal", "value": "many"}

    assert statements_of(edited_page(add_population)) == statements_of(
        fixture("twinning-page-1.json")
    )


def test_reordered_variables_parse_to_the_same_rows() -> None:
    def reverse(document: dict[str, Any]) -> None:
        document["head"]["vars"].reverse()
        bindings = document["results"]["bindings"]
        bindings[:] = [dict(reversed(binding.items())) for binding in bindings]

    body = fixture("twinning-page-1.json")
    assert wd.parse_sparql_json(edited_page(reverse), "p") == wd.parse_sparql_json(body, "p")


def rename_variable(old: str, new: str | None) -> Callable[[dict[str, Any]], None]:
    """An edit renaming a variable in head.vars and every solution (None: removing it)."""

    def edit(document: dict[str, Any]) -> None:
        names = document["head"]["vars"]
        names[:] = [n for n in (new if n == old else n for n in names) if n is not None]
        for binding in document["results"]["bindings"]:
            if old in binding:
                term = binding.pop(old)
                if new is not None:
                    binding[new] = term

    return edit


@pytest.mark.parametrize(
    ("edit", "missing", "given"),
    [
        (rename_variable("twin", "partner"), "twin", "partner"),
        # an optional variable too: without it every start date would silently be lost
        (rename_variable("start", None), "start", None),
    ],
    ids=["renamed", "removed"],
)
def test_a_selected_variable_missing_from_head_fails_naming_it(
    edit: Callable[[dict[str, Any]], None], missing: str, given: str | None
) -> None:
    body = edited_page(edit)
    with pytest.raises(ParseError) as error:
        statements_of(body)
    names = json.loads(body)["head"]["vars"]
    assert str(error.value) == (
        f"wikidata: page-1, head: variable(s) ['{missing}'] the query selects are not in "
        f"head.vars {names}"
    )
    assert given is None or given in names
    # without the names asked for, the parse itself stays generic
    assert len(wd.parse_sparql_json(body, "page-1")) == 3


def test_a_stored_response_without_a_selected_variable_fails_even_with_no_solutions() -> None:
    """A stored fetch is checked against the query each response answers, so a renamed
    variable is caught where no solution shows it."""
    countries = {"head": {"vars": ["country", "code"]}, "results": {"bindings": []}}
    bundle = wd.ResponseBundle()
    bundle.add("countries", wd.COUNTRIES_QUERY, json.dumps(countries).encode())
    with pytest.raises(ParseError) as error:
        wd.read_bundle(b"".join(bundle.chunks()))
    assert str(error.value) == (
        "wikidata: wikidata-responses.zip:00001-countries.json, head: variable(s) ['iso2'] "
        "the query selects are not in head.vars ['country', 'code']"
    )


def test_every_stored_query_lists_what_its_parser_reads() -> None:
    assert wd.SELECTED["countries"] == ("country", "iso2")
    assert wd.SELECTED["twinning"] == (
        "item", "twin", "statement", "rank", "start", "startPrecision", "end",
        "endPrecision", "reference",
    )  # fmt: skip
    assert wd.SELECTED["membership"][:2] == ("member", "network")
    assert wd.SELECTED["network_labels"] == (
        "network", "name", "item", "itemLabel", "itemDescription",
    )  # fmt: skip


@pytest.mark.parametrize("field", ["claims", "labels"])
def test_an_entity_without_a_field_it_was_asked_for_fails_naming_it(field: str) -> None:
    entities = json.loads(fixture("wbgetentities.json"))
    del entities["entities"]["Q3955"][field]
    with pytest.raises(ParseError) as error:
        wd.parse_entities(json.dumps(entities).encode(), "batch", wd.ENTITY_FIELDS["entities"])
    assert str(error.value) == (
        f"wikidata: batch, entity Q3955: no ['{field}'] field: the request asked for "
        "['labels', 'claims']"
    )


def test_a_labels_only_entity_reads_where_only_labels_were_asked_for() -> None:
    entities = json.loads(fixture("wbgetentities.json"))
    body = json.dumps({"entities": {"Q1549591": entities["entities"]["Q1549591"]}}).encode()
    (big_city,) = wd.parse_entities(body, "classes", wd.ENTITY_FIELDS["labels"])
    assert big_city.labels["en"] == "big city"
    with pytest.raises(ParseError, match=r"entity Q1549591: no \['claims'\] field"):
        wd.parse_entities(body, "classes", wd.ENTITY_FIELDS["entities"])


def test_an_extra_entity_field_is_ignored() -> None:
    entities = json.loads(fixture("wbgetentities.json"))
    entities["entities"]["Q3955"]["sitelinks"] = {"dewiki": {"title": "Weimar"}}
    entities["entities"]["Q3955"]["claims"]["P9999"] = [{"rank": "normal"}]
    parsed = {e.qid: e for e in wd.parse_entities(json.dumps(entities).encode(), "batch")}
    original = {e.qid: e for e in wd.parse_entities(fixture("wbgetentities.json"), "batch")}
    assert parsed == original


# --- entity JSON -------------------------------------------------------------------------


def test_the_recorded_bielefeld_entity(shared_data: Path) -> None:
    body = (shared_data / "wikidata" / "Q2112.entitydata.2023-04-04.json").read_bytes()
    (bielefeld,) = wd.parse_entities(body, "Q2112.entitydata.2023-04-04.json")
    assert bielefeld.qid == "Q2112"
    assert bielefeld.labels["en"] == "Bielefeld"
    # three P17 statements: the preferred Germany wins over two historical ones
    assert bielefeld.country_qid == "Q183"
    assert (bielefeld.latitude, bielefeld.longitude) == pytest.approx((52.0167, 8.5333), abs=1e-3)
    assert bielefeld.geonames_id == 3221125
    assert (bielefeld.population, bielefeld.population_year) == (334002, 2021)
    assert len(bielefeld.twinned_with) == 8
    starts = [s.start_year for s in bielefeld.twinned_with]
    assert sum(year is not None for year in starts) == 7
    assert starts[1] == 1953  # Rochdale, '+1953-00-00' at year precision
    assert all(s.start_date is None for s in bielefeld.twinned_with)
    assert bielefeld.twinned_with[1].references == (
        "http://www.rochdale.gov.uk/leisure-and-culture/Pages/20-things-to-know.aspx",
    )
    assert len(bielefeld.member_of) == 5


def test_a_deprecated_statement_is_skipped(shared_data: Path) -> None:
    entity = json.loads(
        (shared_data / "wikidata" / "Q2112.entitydata.2023-04-04.json").read_bytes()
    )
    entity["claims"]["P190"][0]["rank"] = "deprecated"
    (bielefeld,) = wd.parse_entities(json.dumps(entity).encode(), "edited")
    assert len(bielefeld.twinned_with) == 7
    assert "Q207614" not in {s.object for s in bielefeld.twinned_with}


def test_preferred_population_beats_a_later_normal_one() -> None:
    entities = json.loads(fixture("wbgetentities.json"))
    claims = entities["entities"]["Q2112"]["claims"]["P1082"]
    assert wd.parse_entity(entities["entities"]["Q2112"]).population == 334002  # latest
    claims[1]["rank"] = "preferred"  # the 2011 figure, marked preferred
    assert wd.parse_entity(entities["entities"]["Q2112"]).population == 323270


def test_the_recorded_weimar_response(shared_data: Path) -> None:
    body = (shared_data / "wikidata" / "Q3955.wbgetentities.2016-09-07.json").read_bytes()
    (weimar,) = wd.parse_entities(body, "Q3955.wbgetentities.2016-09-07.json")
    assert (weimar.qid, weimar.country_qid, weimar.geonames_id) == ("Q3955", "Q183", 2812479)
    dates = sorted((s.object, s.start_date) for s in weimar.twinned_with)
    assert dates == [
        ("Q145972", "2012-05-25"),
        ("Q160927", "1995-02-18"),
        ("Q202158", "1970-09-06"),
        ("Q2751", "1994-04-15"),
        ("Q3138", "1987-05-24"),
    ]
    assert all(
        s.references == ("http://stadt.weimar.de/ueber-weimar/partnerstaedte/",)
        for s in weimar.twinned_with
    )


def test_missing_items_are_skipped_and_error_objects_refused() -> None:
    body = json.dumps({"entities": {"Q999999999": {"id": "Q999999999", "missing": ""}}})
    assert wd.parse_entities(body.encode(), "batch") == []
    with pytest.raises(ParseError, match="wikidata: batch, top level: an API error"):
        wd.parse_entities(fixture("maxlag.json"), "batch")
    with pytest.raises(ParseError, match=r"wikidata: batch, entity Q1: unreadable"):
        wd.parse_entities(b'{"entities": {"Q1": {"claims": {}}}}', "batch")


# --- the client's etiquette ---------------------------------------------------------------


class Sleeps(list[float]):
    """A stand-in for time.sleep that records the waits instead of waiting."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def client_for(httpserver: HTTPServer, sleeps: Sleeps | None = None) -> wd.WikidataClient:
    return wd.WikidataClient(
        build_session(agent="citydiplomacy-test/1 (https://example.org/contact)", retries=0),
        sparql_url=httpserver.url_for("/sparql"),
        api_url=httpserver.url_for("/w/api.php"),
        timeout=(2.0, 5.0),
        sleep=sleeps if sleeps is not None else Sleeps(),
    )


@pytest.mark.parametrize(("header", "seconds"), [(None, 60.0), ("7", 7.0), (" 0 ", 0.0)])
def test_retry_after_values(header: str | None, seconds: float) -> None:
    assert wd.retry_after_seconds(header) == seconds


@pytest.mark.parametrize("header", ["soon", "", "-3", "7.5", "nan", "inf", "1e3"])
def test_a_retry_after_that_names_no_delay_is_refused(header: str) -> None:
    # whole seconds or an HTTP date only (RFC 9110), as urllib3 reads it for GeoNames/CDP
    with pytest.raises(ValueError, match=f"Retry-After {header!r} is no delay"):
        wd.retry_after_seconds(header)


def test_an_http_date_retry_after() -> None:
    from datetime import UTC, datetime

    now = datetime(2026, 11, 22, 12, 0, 0, tzinfo=UTC)
    assert wd.retry_after_seconds("Sun, 22 Nov 2026 12:01:30 GMT", now) == 90.0


def test_a_429_is_waited_out_as_retry_after_says(httpserver: HTTPServer) -> None:
    httpserver.expect_ordered_request("/sparql").respond_with_data(
        "Too many requests", status=429, headers={"Retry-After": "7"}
    )
    httpserver.expect_ordered_request("/sparql").respond_with_data(
        fixture("countries.json"), content_type=SPARQL_JSON
    )
    sleeps = Sleeps()
    body = client_for(httpserver, sleeps).sparql(wd.COUNTRIES_QUERY)
    assert json.loads(body)["results"]["bindings"][0]["iso2"]["value"] == "DE"
    assert sleeps == [7.0]
    assert len(httpserver.log) == 2


def test_a_503_without_retry_after_waits_a_minute(httpserver: HTTPServer) -> None:
    httpserver.expect_ordered_request("/sparql").respond_with_data("busy", status=503)
    httpserver.expect_ordered_request("/sparql").respond_with_data(
        fixture("countries.json"), content_type=SPARQL_JSON
    )
    sleeps = Sleeps()
    client_for(httpserver, sleeps).sparql(wd.COUNTRIES_QUERY)
    assert sleeps == [60.0]


@pytest.mark.parametrize("status", [429, 503])
def test_a_malformed_retry_after_fails_the_source_without_waiting(
    httpserver: HTTPServer, status: int
) -> None:
    httpserver.expect_request("/sparql").respond_with_data(
        "slow down", status=status, headers={"Retry-After": "soon"}
    )
    sleeps = Sleeps()
    with pytest.raises(
        FetchError,
        match=rf"^wikidata: GET {httpserver.url_for('/sparql')}\?query=\S+ answered HTTP "
        rf"{status}: Retry-After 'soon' is no delay; the source fails rather than guess",
    ):
        client_for(httpserver, sleeps).sparql(wd.COUNTRIES_QUERY)
    assert sleeps == []
    assert len(httpserver.log) == 1  # no second request


def test_an_absurd_retry_after_fails_the_source_without_waiting(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/sparql").respond_with_data(
        "slow down", status=429, headers={"Retry-After": "86400"}
    )
    sleeps = Sleeps()
    with pytest.raises(FetchError, match=r"Retry-After 86400 s, over the 300 s"):
        client_for(httpserver, sleeps).sparql(wd.COUNTRIES_QUERY)
    assert sleeps == []
    assert len(httpserver.log) == 1


def test_endless_429s_give_up_after_a_bounded_number_of_waits(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/sparql").respond_with_data(
        "slow down", status=429, headers={"Retry-After": "1"}
    )
    sleeps = Sleeps()
    with pytest.raises(FetchError, match="still answered HTTP 429 after 4 waits"):
        client_for(httpserver, sleeps).sparql(wd.COUNTRIES_QUERY)
    assert sleeps == [1.0] * wd.STATUS_RETRIES
    assert len(httpserver.log) == wd.STATUS_RETRIES + 1


@pytest.mark.parametrize(
    "body",
    [
        b"<!DOCTYPE html><html><body>Wikimedia Error</body></html>",
        b'{"head": {"vars": ["item"]}, "results": {"bindings": [',  # cut off by a timeout
        b'{"head": {"vars": ["item"]}}',
    ],
)
def test_an_error_body_with_status_200_is_never_data(httpserver: HTTPServer, body: bytes) -> None:
    httpserver.expect_request("/sparql").respond_with_data(body, content_type=SPARQL_JSON)
    with pytest.raises(FetchError, match="query service answered 200 but"):
        client_for(httpserver).sparql(wd.COUNTRIES_QUERY)


def test_maxlag_errors_with_status_200_are_retried(httpserver: HTTPServer) -> None:
    httpserver.expect_ordered_request("/w/api.php").respond_with_data(
        fixture("maxlag.json"), content_type="application/json", headers={"Retry-After": "5"}
    )
    httpserver.expect_ordered_request("/w/api.php").respond_with_data(
        fixture("wbgetentities.json"), content_type="application/json"
    )
    sleeps = Sleeps()
    body = client_for(httpserver, sleeps).entities(["Q2112"])
    assert "Q2112" in json.loads(body)["entities"]
    assert sleeps == [5.0]
    request = httpserver.log[0][0]
    assert request.args["maxlag"] == "5"
    assert request.args["action"] == "wbgetentities"
    assert request.args["ids"] == "Q2112"


def test_another_api_error_fails_the_source(httpserver: HTTPServer) -> None:
    error = {"error": {"code": "no-such-entity", "info": "Could not find an entity"}}
    httpserver.expect_request("/w/api.php").respond_with_json(error)
    with pytest.raises(FetchError, match="wbgetentities answered error no-such-entity"):
        client_for(httpserver).entities(["Q1"])


def test_requests_carry_the_user_agent_and_are_never_concurrent(httpserver: HTTPServer) -> None:
    def slow(request: Request) -> Response:
        time.sleep(0.05)
        return Response(fixture("countries.json"), content_type=SPARQL_JSON)

    httpserver.expect_request("/sparql").respond_with_handler(slow)
    client = client_for(httpserver)
    in_flight, most = 0, 0
    count = threading.Lock()
    send = client.session.get_adapter(httpserver.url_for("/")).send

    def counting_send(*args: Any, **kwargs: Any) -> requests.Response:
        nonlocal in_flight, most
        with count:
            in_flight += 1
            most = max(most, in_flight)
        try:
            return send(*args, **kwargs)
        finally:
            with count:
                in_flight -= 1

    client.session.get_adapter(httpserver.url_for("/")).send = counting_send  # type: ignore[method-assign]
    threads = [threading.Thread(target=client.sparql, args=(wd.COUNTRIES_QUERY,)) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(httpserver.log) == 4
    assert most == 1
    agents = {request.headers["User-Agent"] for request, _ in httpserver.log}
    assert agents == {"citydiplomacy-test/1 (https://example.org/contact)"}


# --- a whole fetch through the fake HTTP layer --------------------------------------------


def test_a_fetch_is_stored_whole_and_reads_back(tmp_path: Path, httpserver: HTTPServer) -> None:
    serve_wikidata(httpserver)
    store = SnapshotStore(tmp_path / "raw")
    client = client_for(httpserver)
    bundle = wd.fetch_bundle(client, page_size=2, batch=2)
    snapshot, created = store.store(
        "wikidata", wd.BUNDLE_FILE, bundle.chunks(), "test", wd.SOURCE.licence
    )
    assert created
    # 3 twinning pages, the countries, 5 entities in batches of 2, 1 class's labels
    assert client.requests == 3 + 1 + 3 + 1
    fetched = wd.read_bundle(store.read(snapshot))
    assert len(fetched.statements) == 4
    assert set(fetched.entities) == {"Q2112", "Q474605", "Q3955", "Q3138", "Q145972"}
    assert fetched.class_labels == {"Q1549591": "big city"}
    assert fetched.entities["Q2112"].geonames_id == 2949186
    assert fetched.countries == {"Q183": "DE", "Q145": "GB", "Q36": "PL"}
    # the same responses again make the same bytes: no second snapshot
    again = wd.fetch_bundle(client_for(httpserver), page_size=2, batch=2)
    _, created = store.store("wikidata", wd.BUNDLE_FILE, again.chunks(), "test", "CC0 1.0")
    assert not created
    assert len(store.snapshots("wikidata")) == 1


def test_a_failed_fetch_stores_nothing(tmp_path: Path, httpserver: HTTPServer) -> None:
    serve_wikidata(httpserver, fail_entities=True)
    store = SnapshotStore(tmp_path / "raw")
    with pytest.raises(FetchError, match=r"wikidata: GET .*/w/api\.php\?.* answered HTTP 502"):
        wd.fetch(store, client_for(httpserver))
    assert store.snapshots("wikidata") == []
    assert not any((tmp_path / "raw" / "wikidata").glob(".tmp-*"))


def test_a_fetch_past_the_most_a_build_reads_fails_and_stores_nothing(
    tmp_path: Path, httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The fetch stops at MAX_BUNDLE_BYTES, the total read_bundle accepts, so no stored
    bundle is one the next build would refuse: one byte short fails on the index, the
    responses alone one byte short fail on the last response."""
    serve_wikidata(httpserver)
    content = b"".join(wd.fetch_bundle(client_for(httpserver)).chunks())
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        sizes = {m.filename: m.file_size for m in archive.infolist()}
    size = sum(sizes.values())
    store = SnapshotStore(tmp_path / "raw")
    too_small = {
        size - 1: "index.json",
        size - sizes["index.json"] - 1: "at response 4, labels",
    }
    for cap, where in too_small.items():
        monkeypatch.setattr(wd, "MAX_BUNDLE_BYTES", cap)
        with pytest.raises(FetchError) as raised:
            wd.fetch(store, client_for(httpserver))
        assert str(raised.value) == (
            f"wikidata: the responses come to more than {cap} bytes unzipped, the most a "
            f"build reads ({where})"
        )
        assert store.snapshots("wikidata") == []
    monkeypatch.setattr(wd, "MAX_BUNDLE_BYTES", size)
    snapshot, _ = wd.fetch(store, client_for(httpserver))
    assert len(wd.read_bundle(store.read(snapshot)).statements) == 4


def test_a_bundle_may_come_to_more_than_an_archive_read_whole(
    httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Responses are read one at a time, so the bundle's own total applies, not the
    1 GiB that archives read whole may declare."""
    serve_wikidata(httpserver)
    content = b"".join(wd.fetch_bundle(client_for(httpserver), page_size=2, batch=2).chunks())
    monkeypatch.setattr(wd.archives, "MAX_TOTAL_BYTES", 1_000)
    assert len(wd.read_bundle(content).statements) == 4


def test_a_damaged_bundle_is_a_parse_error() -> None:
    with pytest.raises(
        ParseError, match=r"wikidata: wikidata-responses\.zip, archive: not a zip file"
    ):
        wd.read_bundle(b"PK\x03\x04 not really a zip")


def test_a_fetch_with_networks_asks_for_members_labels_and_the_networks_items(
    tmp_path: Path, httpserver: HTTPServer
) -> None:
    serve_wikidata(httpserver)
    networks = [
        wd.NetworkRef("mayors_for_peace", ("Mayors for Peace",), "Q747279"),
        wd.NetworkRef("c40", ("C40 Cities Climate Leadership Group", "C40")),
    ]
    client = client_for(httpserver)
    bundle = wd.fetch_bundle(client, networks)
    store = SnapshotStore(tmp_path / "raw")
    snapshot, _ = store.store("wikidata", wd.BUNDLE_FILE, bundle.chunks(), "test", "CC0 1.0")
    fetched = wd.read_bundle(store.read(snapshot))
    # one twinning page, the label lookup, one network's members, countries, one entity
    # batch (twinned items, members, the network's item) and one class batch
    assert client.requests == 6
    queries = [r.args.get("query", "") for r, _ in httpserver.log]
    assert sum("p:P463" in q for q in queries) == 1  # only the network with a QID
    assert '("c40" "C40"@en)' in next(q for q in queries if "rdfs:label" in q)
    members = {(s.subject, s.object, s.start_year, s.end_year) for s in fetched.memberships}
    assert members == {("Q2112", "Q747279", 1984, None), ("Q474605", "Q747279", 2001, 2015)}
    assert "Q747279" in fetched.entities
    assert "Q747279" not in wd.linked_qids(fetched)  # a network is no city
    candidates = wd.network_candidates_frame(fetched)
    assert candidates[["network_id", "qid"]].values.tolist() == [
        ["c40", "Q99999901"],
        ["c40", "Q99999902"],
        ["climate_alliance", "Q1768108"],
    ]
    assert candidates.loc[2, "matched_name"] == "Climate Alliance (Klima-Bündnis)"


def test_sparql_strings_are_escaped() -> None:
    assert wd.sparql_string('Say "hi" \\ bye\n') == '"Say \\"hi\\" \\\\ bye "'
    assert wd.network_label_query([]) is None


def test_the_production_session_never_waits_out_a_retry_after_itself(
    httpserver: HTTPServer,
) -> None:
    # urllib3 retries any 429 carrying Retry-After unless told not to, sleeping it first;
    # here the client's own cap (1 s) is below the 2 s asked, so it must fail at once
    httpserver.expect_request("/sparql").respond_with_data(
        "slow down", status=429, headers={"Retry-After": "2"}
    )
    client = wd.WikidataClient(
        wd.session(HttpResource(retries=3, backoff_seconds=0)),
        sparql_url=httpserver.url_for("/sparql"),
        timeout=(2.0, 5.0),
        max_wait=1.0,
        sleep=Sleeps(),
    )
    with pytest.raises(FetchError, match="Retry-After 2 s, over the 1 s"):
        client.sparql(wd.COUNTRIES_QUERY)
    assert len(httpserver.log) == 1  # urllib3 sent nothing again


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (b"<html><body>Wikimedia Error</body></html>", "not-json"),
        (b'{"entities": {"Q1": ', "not-json"),  # cut off mid-document
        (b'["entities"]', "not-json"),
        (b'{"success": 1}', "no-entities"),
    ],
)
def test_a_wbgetentities_body_that_is_not_its_json_fails_the_source(
    httpserver: HTTPServer, body: bytes, code: str
) -> None:
    httpserver.expect_request("/w/api.php").respond_with_data(body, content_type="text/html")
    with pytest.raises(FetchError, match=rf"^wikidata: wbgetentities answered error {code}: "):
        client_for(httpserver).entities(["Q1"])
    assert len(httpserver.log) == 1  # refused at once, not retried
