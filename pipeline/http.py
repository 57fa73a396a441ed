"""The HTTP client every fetching source uses: one requests session with bounded retries,
timeouts, a descriptive User-Agent and a size cap. Imports no Dagster."""

from __future__ import annotations

import os
from collections.abc import Iterator
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


RETRY_STATUSES = (429, 500, 502, 503, 504)


# A weekly run must not hang: a longer Retry-After fails the fetch instead of sleeping.
RETRY_AFTER_MAX = 120


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
    holding it whole; a body past max_bytes or short of its Content-Length fails.
    """
    try:
        response = session.get(url, timeout=timeout, stream=True)
    except requests.RequestException as error:
        raise FetchError(f"{source}: GET {url} failed: {error}") from error
    with response:
        if response.status_code != 200:
            raise FetchError(f"{source}: GET {url} answered HTTP {response.status_code}")
        yield from read_body(response, source, url, max_bytes)


def read_body(
    response: requests.Response, source: str, url: str, max_bytes: int
) -> Iterator[bytes]:
    """A streamed response's body in chunks; FetchError past max_bytes, on a broken
    connection, or when the body falls short of its Content-Length."""
    expected = response.headers.get("Content-Length")
    received = 0
    try:
        for chunk in response.iter_content(chunk_size=1 << 20):
            received += len(chunk)
            if received > max_bytes:
                raise FetchError(f"{source}: GET {url} is larger than {max_bytes} bytes")
            yield chunk
    except requests.RequestException as error:
        raise FetchError(f"{source}: GET {url} broke off: {error}") from error
    # With Content-Encoding, Content-Length counts compressed bytes, not what we read.
    compressed = "Content-Encoding" in response.headers
    if expected is not None and not compressed and received != int(expected):
        raise FetchError(
            f"{source}: GET {url} sent {received} of {expected} bytes (Content-Length)"
        )
