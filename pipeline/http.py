"""The HTTP client every fetching source uses: one requests session with bounded retries,
timeouts, a descriptive User-Agent and a size cap. Imports no Dagster."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version

import requests
from requests.adapters import HTTPAdapter
from urllib3.exceptions import InvalidHeader
from urllib3.response import BaseHTTPResponse
from urllib3.util.retry import Retry


def user_agent() -> str:
    """Name, version and the operator's contact, as Wikimedia and GeoNames ask of clients.

    The contact is the operator's own (CITYDIP_CONTACT: a URL or e-mail address); the
    project does not make one up.
    """
    try:
        release = version("citydiplomacy")
    except PackageNotFoundError:
        release = "unknown"
    return (
        f"citydiplomacy-pipeline/{release} (open-data research pipeline; {contact() or NO_CONTACT})"
    )


NO_CONTACT = "no contact configured"


def contact() -> str | None:
    """The operator's contact (CITYDIP_CONTACT), or None when unset."""
    return os.environ.get("CITYDIP_CONTACT", "").strip() or None


class FetchError(Exception):
    """A source could not be fetched; the message names the source and the URL."""


class BodyBrokeOff(FetchError):
    """A body cut short: the connection dropped, stalled past the read timeout, or closed
    before Content-Length. Unlike a body past the cap, asking again may succeed."""


RETRY_STATUSES = (429, 500, 502, 503, 504)


# A weekly run must not hang: a longer Retry-After fails the fetch instead of sleeping.
RETRY_AFTER_MAX = 120
# Bodies are read and handed on this many bytes at a time.
CHUNK = 1 << 20


class BoundedRetry(Retry):
    """urllib3's Retry, but a Retry-After over retry_after_max, or one that is not a
    number of seconds or an HTTP date, ends the fetch with an error instead of a sleep
    (urllib3 alone sleeps up to six hours, and raises a bare error on a malformed one)."""

    def sleep_for_retry(self, response: BaseHTTPResponse) -> bool:
        value = response.headers.get("Retry-After")
        if value is not None and self.respect_retry_after_header:
            try:
                seconds = self.new(retry_after_max=10**9).parse_retry_after(value)
            except InvalidHeader:
                raise InvalidHeader(f"Retry-After {value!r} is no delay") from None
            if seconds > self.retry_after_max:
                raise InvalidHeader(
                    f"Retry-After asks for {seconds:.0f} s, over the cap of "
                    f"{self.retry_after_max} s; giving up rather than waiting"
                )
        return super().sleep_for_retry(response)


def build_session(
    agent: str | None = None,
    retries: int = 3,
    backoff: float = 2.0,
    statuses: tuple[int, ...] = RETRY_STATUSES,
    honour_retry_after: bool = True,
    retry_after_max: int = RETRY_AFTER_MAX,
) -> requests.Session:
    """A session that retries idempotent GETs on connection errors and the given statuses
    (429/5xx), honouring Retry-After up to retry_after_max seconds between attempts (a
    longer or malformed one fails the fetch: BoundedRetry).

    A source that must treat some statuses its own way (Wikidata's 429 and 503) leaves
    them out of `statuses` and sets honour_retry_after=False: urllib3 otherwise retries any
    429 or 503 that carries Retry-After, whatever `statuses` says, and sleeps as long as
    the header asks."""
    retry = BoundedRetry(
        total=retries,
        connect=retries,
        read=retries,
        status=retries,
        backoff_factor=backoff,
        backoff_max=120,
        status_forcelist=statuses,
        allowed_methods=frozenset({"GET", "HEAD"}),
        respect_retry_after_header=honour_retry_after,
        retry_after_max=retry_after_max,
        raise_on_status=False,
    )
    session = requests.Session()
    adapter = HTTPAdapter(max_retries=retry)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    session.headers["User-Agent"] = agent or user_agent()
    return session


def fetch_chunks(
    session: requests.Session,
    source: str,
    url: str,
    timeout: tuple[float, float] = (10.0, 70.0),
    max_bytes: int = 512 << 20,
) -> Iterator[bytes]:
    """Stream a URL's body; raise FetchError naming source and URL on any failure.

    The body is yielded in chunks so the snapshot store can hash and write it without
    holding it whole; a body past max_bytes fails, and one that breaks off is asked for
    again within the session's retry bound (read_body).
    """
    response = _get(session, source, url, timeout, {})
    yield from read_body(response, source, url, max_bytes, session, timeout)


@dataclass(frozen=True)
class Download:
    """A whole body, with the validators (ETag, Last-Modified) a later conditional
    request sends back."""

    content: bytes
    etag: str | None = None
    last_modified: str | None = None


def fetch_file(
    session: requests.Session,
    source: str,
    url: str,
    timeout: tuple[float, float] = (10.0, 70.0),
    max_bytes: int = 512 << 20,
    etag: str | None = None,
    last_modified: str | None = None,
) -> Download | None:
    """A URL's whole body, or None when the server says, answering a conditional request
    made with the validators of the last download, that it has not changed (HTTP 304):
    a weekly run then costs the server and the store nothing."""
    conditions = {"If-None-Match": etag, "If-Modified-Since": last_modified}
    headers = {name: value for name, value in conditions.items() if value}
    response = _get(session, source, url, timeout, headers)
    if response.status_code == 304:
        response.close()
        return None
    content = b"".join(read_body(response, source, url, max_bytes, session, timeout))
    return Download(content, response.headers.get("ETag"), response.headers.get("Last-Modified"))


def _get(
    session: requests.Session,
    source: str,
    url: str,
    timeout: tuple[float, float],
    headers: dict[str, str],
) -> requests.Response:
    """The streamed response to a GET: a 200, or a 304 to a conditional request."""
    try:
        response = session.get(url, timeout=timeout, stream=True, headers=headers)
    except requests.RequestException as error:
        raise FetchError(f"{source}: GET {url} failed: {error}") from error
    if response.status_code == 200 or (response.status_code == 304 and headers):
        return response
    response.close()
    raise FetchError(f"{source}: GET {url} answered HTTP {response.status_code}")


def read_body(
    response: requests.Response,
    source: str,
    url: str,
    max_bytes: int,
    session: requests.Session | None = None,
    timeout: tuple[float, float] | None = None,
) -> Iterator[bytes]:
    """A streamed response's body in chunks; FetchError past max_bytes (counted after
    Content-Encoding is undone, so a small gzip body cannot inflate past it), on a broken
    connection, or when the body falls short of its Content-Length.

    urllib3 retries a GET that fails before its body, never one that breaks inside it, so
    a stall mid-body would cost the source its fetch. Given the session, a body that
    breaks off is asked for again, as often as the session retries a read: the bytes
    already handed on are read again and must hash alike (else the file changed under
    the fetch, which fails), and only the bytes after them are handed on, so a consumer
    streaming into the snapshot store never sees a byte twice.
    """
    retries = read_retries(session, response.url) if session is not None else 0
    handed = hashlib.sha256()
    count = 0
    for attempt in range(retries + 1):
        if attempt and session is not None:
            response = _again(session, response, source, url, timeout)
        try:
            with response:
                body = _body(response, source, url, max_bytes)
                for chunk in _after(body, count, handed.hexdigest(), source, url):
                    handed.update(chunk)
                    count += len(chunk)
                    yield chunk
            return
        except BodyBrokeOff:
            if attempt == retries:
                raise


def read_retries(session: requests.Session, url: str) -> int:
    """How often the session's adapter for url retries a failed read (0 without one)."""
    retry = getattr(session.get_adapter(url), "max_retries", None)
    if not isinstance(retry, Retry) or retry.read is False:
        return 0
    bounds = [n for n in (retry.total, retry.read) if type(n) is int]
    return max(0, min(bounds, default=0))


def _again(
    session: requests.Session,
    previous: requests.Response,
    source: str,
    url: str,
    timeout: tuple[float, float] | None,
) -> requests.Response:
    """The same request sent again after its body broke off; anything but a 200 fails."""
    request = previous.request
    try:
        response = session.request(
            request.method or "GET",
            request.url or url,
            headers=dict(request.headers),
            timeout=timeout,
            stream=True,
        )
    except requests.RequestException as error:
        raise FetchError(f"{source}: GET {url} failed when asked again: {error}") from error
    if response.status_code != 200:
        response.close()
        raise FetchError(
            f"{source}: GET {url} answered HTTP {response.status_code} when asked again "
            "after its body broke off"
        )
    return response


def _body(response: requests.Response, source: str, url: str, max_bytes: int) -> Iterator[bytes]:
    """One response's decoded body; BodyBrokeOff when it is cut short."""
    expected = _content_length(response, source, url)
    received = 0
    try:
        for chunk in response.iter_content(chunk_size=CHUNK):
            received += len(chunk)
            if received > max_bytes:
                raise FetchError(f"{source}: GET {url} is larger than {max_bytes} bytes")
            yield chunk
    except requests.RequestException as error:
        raise BodyBrokeOff(f"{source}: GET {url} broke off: {error}") from error
    if expected is not None and received != expected:
        raise BodyBrokeOff(
            f"{source}: GET {url} sent {received} of {expected} bytes (Content-Length)"
        )


def _content_length(response: requests.Response, source: str, url: str) -> int | None:
    """The body's length as Content-Length states it (the same value repeated counts
    once); None without one, or with Content-Encoding, when it counts compressed bytes,
    not what is read. A value that is no length fails the fetch: where the body ends
    cannot be known (RFC 9112 makes it an unrecoverable error)."""
    value = response.headers.get("Content-Length")
    if value is None or "Content-Encoding" in response.headers:
        return None
    lengths = {part.strip() for part in value.split(",")}
    length = lengths.pop() if len(lengths) == 1 else ""
    if not (length.isascii() and length.isdigit()):
        raise FetchError(f"{source}: GET {url} sent Content-Length {value!r}, which is no length")
    return int(length)


def _after(
    chunks: Iterator[bytes], skip: int, expected: str, source: str, url: str
) -> Iterator[bytes]:
    """The chunks after their first `skip` bytes, which must hash to `expected`: the
    bytes an attempt that broke off had handed on already."""
    seen = hashlib.sha256()
    position = 0
    for chunk in chunks:
        if position < skip:
            head = chunk[: skip - position]
            seen.update(head)
            position += len(head)
            chunk = chunk[len(head) :]
            if position == skip and seen.hexdigest() != expected:
                raise FetchError(
                    f"{source}: GET {url} changed while it was fetched: asked again after "
                    f"breaking off, its first {skip} bytes differ"
                )
            if not chunk:
                continue
        yield chunk
    if position < skip:
        raise FetchError(
            f"{source}: GET {url} changed while it was fetched: asked again after breaking "
            f"off at byte {skip}, it has only {position}"
        )
