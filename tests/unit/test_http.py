"""The HTTP client's retries: Retry-After is honoured up to a cap; a longer or malformed
one fails the fetch at once instead of sleeping; a body that breaks off is asked for again
within the retry bound and stored whole once; a Content-Length that is no length fails (no
live network: a local fake server, or a raw socket where a server would correct a reply)."""

import hashlib
import socket
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import requests
from pytest_httpserver import HTTPServer

from pipeline import http
from pipeline.http import FetchError, build_session, fetch_chunks
from pipeline.snapshots import Snapshot, SnapshotStore


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


# --- bodies that break off, and Content-Length ----------------------------------------


@pytest.fixture
def raw_server() -> Iterator[Callable[[list[bytes]], str]]:
    """A raw socket server (a test server would correct what these replies get wrong)
    that answers its i-th connection with replies[i] and closes it; gives its URL."""
    listeners: list[socket.socket] = []

    def start(replies: list[bytes]) -> str:
        listener = socket.create_server(("127.0.0.1", 0))
        listener.settimeout(30)
        listeners.append(listener)

        def answer() -> None:
            for reply in replies:
                try:
                    connection, _ = listener.accept()
                except OSError:
                    return
                with connection:
                    connection.recv(65536)
                    connection.sendall(reply)

        threading.Thread(target=answer, daemon=True).start()
        return f"http://127.0.0.1:{listener.getsockname()[1]}/cities500.zip"

    yield start
    for listener in listeners:
        listener.close()


BODY = b"0123456789abcdefghij"


def reply(body: bytes, length: int | str = len(BODY)) -> bytes:
    return f"HTTP/1.1 200 OK\r\nContent-Length: {length}\r\n\r\n".encode() + body


@pytest.fixture
def small_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    """Chunks of 4 bytes, so a body hands some on before it breaks off."""
    monkeypatch.setattr(http, "CHUNK", 4)


def store_fetch(tmp_path: Path, url: str, retries: int) -> Snapshot:
    chunks = fetch_chunks(build_session(retries=retries, backoff=0), "geonames", url)
    snapshot, _ = SnapshotStore(tmp_path).store("geonames", "cities500.zip", chunks, url, "CC")
    return snapshot


def test_a_body_that_breaks_off_is_asked_for_again_and_stored_whole_once(
    tmp_path: Path, raw_server: Callable[[list[bytes]], str], small_chunks: None
) -> None:
    # the first answer closes after 10 of 20 bytes, 8 of which were handed on already
    url = raw_server([reply(BODY[:10]), reply(BODY)])
    snapshot = store_fetch(tmp_path, url, retries=1)
    assert SnapshotStore(tmp_path).read(snapshot) == BODY
    assert snapshot.sha256 == hashlib.sha256(BODY).hexdigest()


@pytest.mark.parametrize(
    ("again", "says"),
    [
        (reply(b"ABCD456789abcdefghij"), "changed while it was fetched: .* first 8 bytes differ"),
        (reply(b"01234", 5), "changed while it was fetched: asked again after breaking off"),
        (reply(BODY[:10]), r"broke off: .*IncompleteRead"),
    ],
    ids=["other-bytes", "shorter", "breaks-again"],
)
def test_a_body_that_breaks_off_again_or_changes_stores_nothing(
    tmp_path: Path,
    raw_server: Callable[[list[bytes]], str],
    small_chunks: None,
    again: bytes,
    says: str,
) -> None:
    url = raw_server([reply(b"0123456789"), again])
    with pytest.raises(FetchError, match=f"^geonames: GET {url} {says}"):
        store_fetch(tmp_path, url, retries=1)
    assert list((tmp_path / "geonames").iterdir()) == []


def test_a_body_is_asked_for_no_more_often_than_the_session_retries(
    tmp_path: Path, raw_server: Callable[[list[bytes]], str], small_chunks: None
) -> None:
    url = raw_server([reply(BODY[:10])] * 3 + [reply(BODY)])
    with pytest.raises(FetchError, match=r"broke off: .*IncompleteRead"):
        store_fetch(tmp_path, url, retries=2)  # three answers cut short: the fourth unasked
    assert http.read_retries(build_session(retries=2), url) == 2
    assert http.read_retries(requests.Session(), url) == 0


@pytest.mark.parametrize("length", ["abc", "-1", "", "20, 21"])
def test_a_content_length_that_is_no_length_fails_the_fetch(
    raw_server: Callable[[list[bytes]], str], length: str
) -> None:
    url = raw_server([reply(BODY, length)])
    with pytest.raises(FetchError, match=f"^geonames: GET {url} (sent Content-Length|failed)"):
        b"".join(fetch_chunks(build_session(retries=0), "geonames", url))


def test_a_content_length_repeated_alike_is_one_length(
    raw_server: Callable[[list[bytes]], str],
) -> None:
    url = raw_server([reply(BODY, "20, 20")])
    assert b"".join(fetch_chunks(build_session(retries=0), "geonames", url)) == BODY
