"""Conditional requests: a source whose file has not changed since the last fetch answers
304, and the fetch stores nothing and reports the last snapshot unchanged."""

import json
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from assets.sources import cdp_emissions as emissions
from assets.sources import geonames
from pipeline.http import FetchError, build_session, fetch_file
from pipeline.snapshots import SnapshotStore
from tests.conftest import FIXTURES, serve_geonames_dump

EMISSIONS = (FIXTURES / "cdp" / "emissions.csv").read_bytes()
ETAG = '"5f3a-61c2"'
MODIFIED = "Sat, 21 Nov 2026 02:14:08 GMT"


def conditional_server(httpserver: HTTPServer, path: str, body: bytes) -> list[dict[str, str]]:
    """`path` served with an ETag and a Last-Modified, answering 304 to a request that
    sends either back; returns the conditional headers of every request."""
    seen: list[dict[str, str]] = []

    def answer(request: Request) -> Response:
        asked = {
            name: request.headers[name]
            for name in ("If-None-Match", "If-Modified-Since")
            if name in request.headers
        }
        seen.append(asked)
        if asked.get("If-None-Match") == ETAG or asked.get("If-Modified-Since") == MODIFIED:
            return Response(status=304, headers={"ETag": ETAG})
        return Response(body, headers={"ETag": ETAG, "Last-Modified": MODIFIED})

    httpserver.expect_request(path).respond_with_handler(answer)
    return seen


def test_fetch_file_returns_the_body_with_its_validators_or_none_on_304(
    httpserver: HTTPServer,
) -> None:
    seen = conditional_server(httpserver, "/f.csv", b"rows")
    url = httpserver.url_for("/f.csv")
    got = fetch_file(build_session(retries=0), "cdp_emissions", url)
    assert got is not None
    assert (got.content, got.etag, got.last_modified) == (b"rows", ETAG, MODIFIED)
    assert fetch_file(build_session(retries=0), "cdp_emissions", url, etag=ETAG) is None
    assert seen == [{}, {"If-None-Match": ETAG}]


def test_a_304_to_a_request_that_was_not_conditional_is_an_error(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/f.csv").respond_with_data("", status=304)
    with pytest.raises(FetchError, match=r"cdp_emissions: GET .*/f.csv answered HTTP 304"):
        fetch_file(build_session(retries=0), "cdp_emissions", httpserver.url_for("/f.csv"))


def test_cdp_stores_the_validators_then_a_304_stores_nothing(
    tmp_path: Path, httpserver: HTTPServer
) -> None:
    seen = conditional_server(httpserver, "/rows.csv", EMISSIONS)
    store = SnapshotStore(tmp_path)
    url = httpserver.url_for("/rows.csv")
    first, created = emissions.fetch(store, build_session(retries=0), url)
    assert created and (first.etag, first.last_modified) == (ETAG, MODIFIED)
    manifest = json.loads((Path(first.folder) / "manifest.json").read_text())
    assert (manifest["etag"], manifest["last_modified"]) == (ETAG, MODIFIED)
    again, created = emissions.fetch(store, build_session(retries=0), url)
    assert (again, created) == (first, False)
    assert seen == [{}, {"If-None-Match": ETAG, "If-Modified-Since": MODIFIED}]
    assert store.snapshots("cdp_emissions") == [first]
    # a snapshot fetched from another URL is not asked about
    emissions.fetch(store, build_session(retries=0), httpserver.url_for("/rows.csv?v=2"))
    assert seen[-1] == {}


def test_geonames_asks_each_file_conditionally_and_keeps_what_is_unchanged(
    tmp_path: Path, httpserver: HTTPServer
) -> None:
    base = serve_geonames_dump(httpserver)
    store = SnapshotStore(tmp_path)
    first, errors = geonames.fetch_dump(store, build_session(retries=0), "cities500", base)
    assert errors == {}
    # the countries file, regenerated, now answers conditionally, as download.geonames.org
    # does (the same bytes again would be the same snapshot, whose manifest stays as it was)
    country = next(s for s, _ in first if s.file_name == geonames.COUNTRY_FILE)
    regenerated = store.read(country) + b"# regenerated 2026-11-21\n"
    httpserver.clear_all_handlers()
    seen = conditional_server(httpserver, "/countryInfo.txt", regenerated)
    serve_geonames_dump(httpserver)
    stored, errors = geonames.fetch_dump(store, build_session(retries=0), "cities500", base)
    assert errors == {}
    assert [created for _, created in stored] == [False, True, False]
    new_country = stored[1][0]
    assert new_country.etag == ETAG and new_country.rows == country.rows
    stored, errors = geonames.fetch_dump(store, build_session(retries=0), "cities500", base)
    assert errors == {} and [created for _, created in stored] == [False, False, False]
    assert stored[1][0] == new_country
    assert seen == [{}, {"If-None-Match": ETAG, "If-Modified-Since": MODIFIED}]
