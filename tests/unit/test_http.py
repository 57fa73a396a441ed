"""The HTTP client's retries: Retry-After is honoured up to a cap; a longer or malformed
one fails the fetch at once instead of sleeping (no live network: a local fake server)."""

import pytest
from pytest_httpserver import HTTPServer

from pipeline import http
from pipeline.http import FetchError, build_session, fetch_chunks


@pytest.fixture
def sleeps(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Every sleep urllib3's retry asks for, recorded instead of slept."""
    asked: list[float] = []
    monkeypatch.setattr("urllib3.util.retry.time.sleep", asked.append)
    return asked


def serve_429_then_200(httpserver: HTTPServer, retry_after: str) -> str:
    httpserver.expect_ordered_request("/dump").respond_with_data(
        "busy", status=429, headers={"Retry-After": retry_after}
    )
    httpserver.expect_ordered_request("/dump").respond_with_data("rows")
    return httpserver.url_for("/dump")


def test_a_short_retry_after_is_waited_then_the_fetch_succeeds(
    httpserver: HTTPServer, sleeps: list[float]
) -> None:
    url = serve_429_then_200(httpserver, "7")
    assert b"".join(fetch_chunks(build_session("t"), "geonames", url)) == b"rows"
    assert sleeps == [7.0]


@pytest.mark.parametrize(
    ("retry_after", "says"),
    [
        ("86400", "Retry-After asks for 86400 s, over the cap of 120 s"),
        ("Wed, 21 Oct 2099 07:28:00 GMT", "over the cap of 120 s"),
        ("soon", "Retry-After 'soon' is no delay"),
    ],
)
def test_an_absurd_or_malformed_retry_after_fails_fast_without_sleeping(
    httpserver: HTTPServer, sleeps: list[float], retry_after: str, says: str
) -> None:
    url = serve_429_then_200(httpserver, retry_after)
    with pytest.raises(FetchError, match=f"geonames: GET {url} failed: .*{says}"):
        b"".join(fetch_chunks(build_session("t"), "geonames", url))
    assert sleeps == []
    assert len(httpserver.log) == 1  # no second request inside the window
    assert http.RETRY_AFTER_MAX == 120
