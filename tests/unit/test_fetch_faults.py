"""Network faults injected into every fetching source (GeoNames, CDP city-wide emissions,
Wikidata) through the fake HTTP layer, each through the source's own fetch function into a
real snapshot store: connections that time out, servers that stall before or inside a
body, gateway errors, a malformed Retry-After, bodies past the size cap (compressed or
not), wrong or missing charsets, and a fetch killed mid-download. A fault ends either in a
FetchError naming source and URL with nothing stored, or in the snapshot a clean fetch
stores."""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import urllib3.util.connection
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from assets.sources import ParseError, cdp_emissions, geonames
from assets.sources import wikidata as wd
from pipeline.http import CHUNK, FetchError
from pipeline.paths import PROJECT_ROOT
from pipeline.resources import HttpResource
from pipeline.snapshots import SnapshotStore
from tests.conftest import (
    FIXTURES,
    country_table,
    gazetteer_dump,
    serve_geonames_dump,
    serve_wikidata,
)

SOURCES = ["geonames", "cdp_emissions", "wikidata"]
# What a fetch asks for until the fault stops it: GeoNames every dump file (one failing
# costs no other), CDP its export, Wikidata the first page of its twinning query.
PATHS = {
    "geonames": ("/cities500.zip", "/countryInfo.txt", "/admin1CodesASCII.txt"),
    "cdp_emissions": ("/rows.csv",),
    "wikidata": ("/sparql",),
}
RETRIES = 2
# Small timeouts, so a stalled attempt costs a fraction of a second (fault injection only:
# nothing below asserts how long anything took).
FAST = HttpResource(
    retries=RETRIES, backoff_seconds=0, connect_timeout_seconds=0.2, read_timeout_seconds=0.2
)
EMISSIONS = (FIXTURES / "cdp" / "emissions.csv").read_bytes()


class Sleeps(list[float]):
    """A stand-in for time.sleep that records the waits instead of waiting."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def fetch(
    slug: str, store: SnapshotStore, base: str, http: HttpResource, sleeps: Sleeps | None = None
) -> list[str]:
    """Fetch one source from the server at `base` into `store`, as a refresh does, with the
    session the refresh would build from `http`; the errors it reports (GeoNames one per
    failed file, the others their FetchError), [] when it stored everything."""
    try:
        if slug == "geonames":
            _, errors = geonames.fetch_dump(
                store, http.session(), geonames.DEFAULT_GAZETTEER, base, http.timeout
            )
            return list(errors.values())
        if slug == "cdp_emissions":
            cdp_emissions.fetch(store, http.session(), base + "rows.csv", http.timeout)
        else:
            client = wd.WikidataClient(
                wd.session(http),
                sparql_url=base + "sparql",
                api_url=base + "w/api.php",
                timeout=http.timeout,
                sleep=Sleeps() if sleeps is None else sleeps,
            )
            wd.fetch(store, client)
    except FetchError as error:
        return [str(error)]
    return []


def assert_failed(errors: list[str], slug: str, base: str, how: str) -> None:
    """One error per URL the fetch asked for, each naming the source and that URL."""
    assert len(errors) == len(PATHS[slug]), errors
    for error, path in zip(errors, PATHS[slug], strict=True):
        url = re.escape(base + path[1:])
        assert re.fullmatch(rf"{slug}: GET {url}(\?\S+)? {how}", error, re.DOTALL), error


def assert_nothing_stored(raw: Path, slug: str) -> None:
    """No snapshot, and nothing at all (no `.tmp-*` folder) in raw/<source>/."""
    assert SnapshotStore(raw).snapshots(slug) == []
    assert not (raw / slug).exists() or list((raw / slug).iterdir()) == []


# ------------------------------------------------------------------ connect timeout


@pytest.fixture
def connects(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, int]]:
    """Every TCP connection urllib3 opens, counted where it opens them (the network
    edge), then opened for real."""
    made: list[tuple[str, int]] = []
    real = urllib3.util.connection.create_connection

    def counting(address: tuple[str, int], *args, **kwargs):  # type: ignore[no-untyped-def]
        made.append(address)
        return real(address, *args, **kwargs)

    monkeypatch.setattr(urllib3.util.connection, "create_connection", counting)
    return made


@pytest.fixture
def unanswered() -> Iterator[str]:
    """A base URL that no connection reaches: its listener's accept queue is full (one
    connection, never accepted, fills a backlog of 0), so the kernel drops new SYNs and a
    connect times out as it would against a host that is down."""
    listener = socket.create_server(("127.0.0.1", 0), backlog=0)
    port = listener.getsockname()[1]
    filler = socket.create_connection(("127.0.0.1", port))
    try:
        yield f"http://127.0.0.1:{port}/"
    finally:
        filler.close()
        listener.close()


@pytest.mark.parametrize("slug", SOURCES)
def test_a_connect_timeout_is_retried_to_the_bound_then_fails_storing_nothing(
    slug: str, tmp_path: Path, unanswered: str, connects: list[tuple[str, int]]
) -> None:
    errors = fetch(slug, SnapshotStore(tmp_path / "raw"), unanswered, FAST)
    assert_failed(
        errors,
        slug,
        unanswered,
        r"failed: .*Connection to 127\.0\.0\.1 timed out\. \(connect timeout=0\.2\).*",
    )
    port = int(unanswered.rsplit(":", 1)[1].strip("/"))
    assert connects == [("127.0.0.1", port)] * (len(PATHS[slug]) * (1 + RETRIES))
    assert_nothing_stored(tmp_path / "raw", slug)


# --------------------------------------------------------------------- read timeout


class Stalling:
    """A raw socket server (a test server would not stall) that reads each request,
    sends `reply` (nothing, or a head and the start of a longer body) and then stalls
    until closed. Records the path of every request."""

    def __init__(self, reply: bytes = b"") -> None:
        self.reply = reply
        self.paths: list[str] = []
        self.replied = threading.Event()
        self.closing = threading.Event()
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.listener.settimeout(0.05)
        self.base = f"http://127.0.0.1:{self.listener.getsockname()[1]}/"
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self.closing.is_set():
            try:
                connection, _ = self.listener.accept()
            except TimeoutError:
                continue
            threading.Thread(target=self._serve, args=(connection,), daemon=True).start()
        self.listener.close()

    def _serve(self, connection: socket.socket) -> None:
        with connection:
            connection.settimeout(None)
            request = b""
            while b"\r\n\r\n" not in request:
                data = connection.recv(65536)
                if not data:
                    return
                request += data
            self.paths.append(request.split(b" ", 2)[1].decode().split("?")[0])
            connection.sendall(self.reply)
            self.replied.set()
            self.closing.wait()

    def close(self) -> None:
        self.closing.set()


@pytest.fixture
def stalling() -> Iterator[Callable[[bytes], Stalling]]:
    servers: list[Stalling] = []

    def start(reply: bytes) -> Stalling:
        servers.append(Stalling(reply))
        return servers[-1]

    yield start
    for server in servers:
        server.close()


def head(length: int) -> bytes:
    return f"HTTP/1.1 200 OK\r\nContent-Length: {length}\r\n\r\n".encode()


@pytest.mark.parametrize(
    "reply",
    [b"", head(100_000) + b"x" * 1000],
    ids=["silent-after-accept", "stalls-mid-body"],
)
@pytest.mark.parametrize("slug", SOURCES)
def test_a_stalled_server_is_retried_to_the_bound_then_fails_storing_nothing(
    slug: str, reply: bytes, tmp_path: Path, stalling: Callable[[bytes], Stalling]
) -> None:
    server = stalling(reply)
    errors = fetch(slug, SnapshotStore(tmp_path / "raw"), server.base, FAST)
    # urllib3 retries a read that times out before the body, read_body one inside it
    how = r"(failed: .*Read timed out\. \(read timeout=0\.2\)|broke off: .*Read timed out).*"
    assert_failed(errors, slug, server.base, how)
    assert server.paths == [path for path in PATHS[slug] for _ in range(1 + RETRIES)]
    assert_nothing_stored(tmp_path / "raw", slug)


# ------------------------------------------------------------------ 502 and 503, then 200


def serve(slug: str, httpserver: HTTPServer) -> tuple[str, dict[str, bytes]]:
    """A source's files on the fake server: (base URL, the bytes served per file name
    where a file is stored as served; Wikidata's responses are stored bundled)."""
    if slug == "geonames":
        base = serve_geonames_dump(httpserver, gazetteer=GAZETTEER)
        bodies = {
            "cities500.zip": GAZETTEER,
            "countryInfo.txt": country_table(),
            "admin1CodesASCII.txt": (FIXTURES / "geonames" / "admin1CodesASCII.txt").read_bytes(),
        }
        return base, bodies
    if slug == "cdp_emissions":
        httpserver.expect_request("/rows.csv").respond_with_data(EMISSIONS, content_type="text/csv")
        return httpserver.url_for("/"), {cdp_emissions.FILE_NAME: EMISSIONS}
    serve_wikidata(httpserver)
    return httpserver.url_for("/"), {}


# a whole gazetteer: GeoNames parses each file before it stores it
GAZETTEER = gazetteer_dump()


def stored_hashes(store: SnapshotStore, slug: str) -> dict[str, str]:
    return {s.file_name: s.sha256 for s in store.snapshots(slug)}


@pytest.mark.parametrize(
    "statuses", [(502, 502), (503, 503), (502, 503)], ids=lambda s: f"{s[0]}-{s[1]}-200"
)
@pytest.mark.parametrize("slug", SOURCES)
def test_gateway_errors_twice_then_200_store_what_a_clean_fetch_stores(
    slug: str, statuses: tuple[int, int], tmp_path: Path, httpserver: HTTPServer
) -> None:
    first = PATHS[slug][0]
    for status in statuses:
        httpserver.expect_oneshot_request(first).respond_with_data("busy", status=status)
    base, bodies = serve(slug, httpserver)
    sleeps = Sleeps()
    flaky = SnapshotStore(tmp_path / "flaky")
    assert fetch(slug, flaky, base, HttpResource(retries=2, backoff_seconds=0), sleeps) == []
    answered = [(request.path, response.status_code) for request, response in httpserver.log]
    assert answered[:3] == [(first, statuses[0]), (first, statuses[1]), (first, 200)]
    clean = SnapshotStore(tmp_path / "clean")
    assert fetch(slug, clean, base, HttpResource(retries=0)) == []
    assert stored_hashes(flaky, slug) == stored_hashes(clean, slug)
    if slug == "wikidata":
        # urllib3 retries a 502; the client waits out a 503 itself, a minute without
        # Retry-After, as Wikimedia asks
        assert sleeps == [60.0] * statuses.count(503)
        assert list(stored_hashes(clean, slug)) == [wd.BUNDLE_FILE]
    else:
        assert stored_hashes(clean, slug) == {
            name: hashlib.sha256(body).hexdigest() for name, body in bodies.items()
        }


# -------------------------------------------------------------- malformed Retry-After


@pytest.mark.parametrize("slug", SOURCES)
def test_a_malformed_retry_after_fails_the_source_without_waiting(
    slug: str, tmp_path: Path, httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    retry_sleeps: list[float] = []
    monkeypatch.setattr("urllib3.util.retry.time.sleep", retry_sleeps.append)
    for path in PATHS[slug]:
        httpserver.expect_request(path).respond_with_data(
            "slow down", status=429, headers={"Retry-After": "soon"}
        )
    client_sleeps = Sleeps()
    base = httpserver.url_for("/")
    raw = tmp_path / "raw"
    errors = fetch(slug, SnapshotStore(raw), base, HttpResource(retries=2), client_sleeps)
    assert_failed(
        errors, slug, base, r"(failed|answered HTTP 429): .*Retry-After 'soon' is no delay.*"
    )
    assert [request.path for request, _ in httpserver.log] == list(PATHS[slug])
    assert retry_sleeps == [] and client_sleeps == []
    assert_nothing_stored(raw, slug)


# ---------------------------------------------------------------------- size cap

CAP = 64 << 10


@pytest.mark.parametrize("encoding", ["identity", "gzip"])
@pytest.mark.parametrize("slug", SOURCES)
def test_a_body_past_the_size_cap_is_refused_and_nothing_stored(
    slug: str,
    encoding: str,
    tmp_path: Path,
    httpserver: HTTPServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for module in (geonames, cdp_emissions, wd):
        monkeypatch.setattr(module, "MAX_BYTES", CAP)
    if encoding == "gzip":
        body, headers = gzip.compress(b"x" * (64 * CAP)), {"Content-Encoding": "gzip"}
        assert len(body) < CAP // 10  # only the inflated bytes can pass the cap
    else:
        body, headers = b"x" * (CAP + 1), {}
    for path in PATHS[slug]:
        httpserver.expect_request(path).respond_with_data(body, headers=headers)
    base = httpserver.url_for("/")
    raw = tmp_path / "raw"
    errors = fetch(slug, SnapshotStore(raw), base, HttpResource(retries=2, backoff_seconds=0))
    assert_failed(errors, slug, base, rf"is larger than {CAP} bytes")
    assert [request.path for request, _ in httpserver.log] == list(PATHS[slug])
    assert_nothing_stored(raw, slug)


# -------------------------------------------------------------- wrong or missing charset

NAMES = {"São Paulo", "Zürich", "Kraków", "東京"}
CITY_ROWS = [
    ("3448439", "São Paulo", "Sao Paulo", "Sampa", "-23.5475", "-46.63611", "BR", "27"),
    ("2657896", "Zürich", "Zurich", "Zurigo", "47.36667", "8.55", "CH", "ZH"),
    ("3094802", "Kraków", "Krakow", "Krakau", "50.06143", "19.93658", "PL", "77"),
    ("1850147", "Tokyo", "Tokyo", "Tokio,東京", "35.6895", "139.69171", "JP", "40"),
]
ADMIN1 = "BR.27\tSão Paulo\tSao Paulo\t3448433\nCH.ZH\tZürich\tZurich\t2657895\n"
ADMIN1 += "PL.77\tMałopolskie\tLesser Poland\t858787\nJP.40\t東京都\tTokyo\t1850144\n"
COUNTRY_ROWS = [
    ("BR", "BRA", "076", "Brazil", "Brasília", "SA", "3469034"),
    ("CW", "CUW", "531", "Curaçao", "Willemstad", "NA", "7626836"),
    ("ST", "STP", "678", "São Tomé and Príncipe", "São Tomé", "AF", "2410758"),
]


def cities_zip() -> bytes:
    lines = []
    for geonameid, name, ascii_name, alternate, lat, lon, country, admin1 in CITY_ROWS:
        fields = [""] * 19
        fields[:6] = [geonameid, name, ascii_name, alternate, lat, lon]
        fields[6:9], fields[10], fields[14] = ["P", "PPLA", country], admin1, "1000000"
        lines.append("\t".join(fields))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("cities500.txt", "\n".join(lines) + "\n")
    return buffer.getvalue()


def countries_with_accents() -> bytes:
    lines = [geonames.COUNTRY_HEADER]
    for iso, iso3, numeric, name, capital, continent, geonameid in COUNTRY_ROWS:
        fields = [""] * 19
        fields[:3], fields[4:6], fields[8], fields[16] = (
            [iso, iso3, numeric],
            [name, capital],
            continent,
            geonameid,
        )
        lines.append("\t".join(fields))
    return ("\n".join(lines) + "\n").encode()


def emissions_export() -> bytes:
    """The live export's header and its first inventory row, once per name."""
    header, template = list(csv.reader(io.StringIO(EMISSIONS.decode())))[:2]
    rows = []
    for number, name in enumerate(sorted(NAMES)):
        row = dict(zip(header, template, strict=True))
        row.update({"Account Number": str(800_000 + number), "City": name})
        row["Organization"] = f"City of {name}"
        rows.append([row[column] for column in header])
    out = io.StringIO()
    csv.writer(out).writerows([header, *rows])
    return out.getvalue().encode("utf-8")


ENTITY_PREFIX = "http://www.wikidata.org/entity/"
ITEMS = {"Q174": ("pt", "São Paulo"), "Q72": ("de", "Zürich"), "Q31487": ("pl", "Kraków")}
ITEMS["Q1490"] = ("ja", "東京")
REFERENCE = "https://www.stadt-zürich.ch/partnerstädte"


def uri(qid: str) -> dict[str, str]:
    return {"type": "uri", "value": ENTITY_PREFIX + qid}


def twinning_page() -> dict[str, object]:
    bindings = [
        {
            "item": uri(item),
            "twin": uri(twin),
            "statement": uri(f"statement/{item}-{twin}"),
            "rank": {"type": "uri", "value": "http://wikiba.se/ontology#NormalRank"},
            "reference": {"type": "uri", "value": REFERENCE},
        }
        for item, twin in (("Q174", "Q72"), ("Q31487", "Q1490"))
    ]
    return {
        "head": {"vars": list(wd.selected_variables(wd.TWINNING_QUERY))},
        "results": {"bindings": bindings},
    }


def entities(ids: list[str]) -> dict[str, object]:
    found = {
        qid: {"id": qid, "labels": {lang: {"language": lang, "value": label}}, "claims": {}}
        for qid, (lang, label) in ITEMS.items()
        if qid in ids
    }
    return {"entities": found, "success": 1}


def utf8(document: object) -> bytes:
    """JSON with its non-ASCII characters as raw UTF-8, not \\u escapes, so that a
    client decoding by the header's charset would spoil them."""
    return json.dumps(document, ensure_ascii=False).encode("utf-8")


def respond(body: bytes, media_type: str, charset: str) -> Response:
    response = Response(body)
    if charset == "absent":
        del response.headers["Content-Type"]
    elif charset == "unstated":
        response.headers["Content-Type"] = media_type
    else:
        response.headers["Content-Type"] = f"{media_type}; charset={charset}"
    return response


def serve_names(slug: str, httpserver: HTTPServer, charset: str) -> None:
    """The four names in each source's files, as UTF-8 bytes, under `charset`."""
    if slug == "geonames":
        files = {
            "/cities500.zip": (cities_zip(), "application/zip"),
            "/countryInfo.txt": (countries_with_accents(), "text/plain"),
            "/admin1CodesASCII.txt": (ADMIN1.encode(), "text/plain"),
        }
        for path, (body, media_type) in files.items():
            httpserver.expect_request(path).respond_with_response(
                respond(body, media_type, charset)
            )
    elif slug == "cdp_emissions":
        httpserver.expect_request("/rows.csv").respond_with_response(
            respond(emissions_export(), "text/csv", charset)
        )
    else:
        sparql = "application/sparql-results+json"

        def query(request: Request) -> Response:
            if "wdt:P297" in request.args["query"]:
                codes = [("Q155", "BR"), ("Q39", "CH"), ("Q36", "PL"), ("Q17", "JP")]
                rows = [
                    {"country": uri(q), "iso2": {"type": "literal", "value": c}} for q, c in codes
                ]
                document = {"head": {"vars": ["country", "iso2"]}, "results": {"bindings": rows}}
                return respond(utf8(document), sparql, charset)
            return respond(utf8(twinning_page()), sparql, charset)

        def api(request: Request) -> Response:
            return respond(
                utf8(entities(request.args["ids"].split("|"))), "application/json", charset
            )

        httpserver.expect_request("/sparql").respond_with_handler(query)
        httpserver.expect_request("/w/api.php").respond_with_handler(api)


def names_read_back(slug: str, store: SnapshotStore) -> set[str]:
    """Every name the source's parsers read from what the store holds."""
    if slug == "geonames":
        read = {s.file_name: store.read(s) for s in store.snapshots(slug)}
        cities = geonames.parse_cities(read["cities500.zip"], "cities500.zip")
        countries = geonames.parse_countries(read["countryInfo.txt"])
        admin1 = geonames.parse_admin1(read["admin1CodesASCII.txt"])
        alternate = {a for names in cities["alternate_names"] for a in names.split(",")}
        return {
            *cities["name"],
            *alternate,
            *countries["country_name"],
            *countries["capital_name"],
            *admin1["admin1_name"],
        }
    (snapshot,) = store.snapshots(slug)
    if slug == "cdp_emissions":
        return set(
            cdp_emissions.parse_emissions(store.read(snapshot), snapshot.file_name)["city_name"]
        )
    fetched = wd.read_bundle(store.read(snapshot))
    labels = {label for e in fetched.entities.values() for label in e.labels.values()}
    return labels | {r for s in fetched.statements for r in s.references}


@pytest.mark.parametrize("charset", ["absent", "unstated", "iso-8859-1", "us-ascii"])
@pytest.mark.parametrize("slug", SOURCES)
def test_names_survive_a_wrong_or_missing_charset(
    slug: str, charset: str, tmp_path: Path, httpserver: HTTPServer
) -> None:
    serve_names(slug, httpserver, charset)
    store = SnapshotStore(tmp_path / "raw")
    assert fetch(slug, store, httpserver.url_for("/"), HttpResource(retries=0)) == []
    for _, response in httpserver.log:
        stated = response.headers.get("Content-Type")
        if charset == "absent":
            assert stated is None
        elif charset == "unstated":
            assert "charset" not in stated
        else:
            assert stated.endswith(f"; charset={charset}")
    found = names_read_back(slug, store)
    assert found >= NAMES
    if slug == "geonames":
        assert found >= {"Curaçao", "São Tomé and Príncipe", "Brasília", "Małopolskie", "東京都"}
    if slug == "wikidata":
        assert REFERENCE in found


# ------------------------------------------------------- killed in the middle of a download

# Runs one source's fetch into the store at argv[2] from the server at argv[3] as fetch()
# does, importing only what that needs (not Dagster), with a read timeout far longer than
# the test waits: the child is killed, never timed out.
CHILD = """
import sys
from pathlib import Path
from pipeline.http import build_session
from pipeline.snapshots import SnapshotStore

slug, store, base = sys.argv[1], SnapshotStore(Path(sys.argv[2])), sys.argv[3]
timeout = (5.0, 120.0)
if slug == "geonames":
    from assets.sources import geonames
    geonames.fetch_dump(store, build_session(retries=0), "cities500", base, timeout)
elif slug == "cdp_emissions":
    from assets.sources import cdp_emissions
    cdp_emissions.fetch(store, build_session(retries=0), base + "rows.csv", timeout)
else:
    from assets.sources import wikidata as wd
    session = build_session(retries=0, statuses=wd.SESSION_RETRY_STATUSES, honour_retry_after=False)
    wd.fetch(store, wd.WikidataClient(session, base + "sparql", base + "w/api.php", timeout))
"""


def wait_for(condition: Callable[[], bool], child: subprocess.Popen[bytes], what: str) -> None:
    for _ in range(1200):  # up to two minutes on a busy machine
        if condition() or child.poll() is not None:
            break
        time.sleep(0.05)
    assert condition(), f"the child never {what} (exit {child.poll()})"


@pytest.mark.parametrize("slug", SOURCES)
def test_a_fetch_killed_mid_download_leaves_no_snapshot_and_the_next_one_stores(
    slug: str, tmp_path: Path, httpserver: HTTPServer, stalling: Callable[[bytes], Stalling]
) -> None:
    # a body of 4 MiB announced, 1.5 MiB sent, then nothing: the child is mid-body
    server = stalling(head(4 * CHUNK) + b"x" * (3 * CHUNK // 2))
    raw = tmp_path / "raw"
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, slug, str(raw), server.base],
        cwd=PROJECT_ROOT,
        env={**os.environ, "PYTHONPATH": str(PROJECT_ROOT)},
    )
    try:
        wait_for(server.replied.is_set, child, "received the start of the body")
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=30)
    finally:
        if child.poll() is None:
            child.kill()
    assert child.returncode == -signal.SIGKILL
    store = SnapshotStore(raw)
    assert store.snapshots(slug) == [] and store.latest(slug) is None
    left = sorted(p.name for p in (raw / slug).iterdir()) if (raw / slug).exists() else []
    # every source holds a download in memory until it is whole and parsed: nothing on
    # disk (a store killed while it writes leaves a .tmp- folder, which the next store
    # removes: test_snapshots.py::test_a_killed_store_leaves_a_temporary_folder_...)
    assert left == []
    base, _ = serve(slug, httpserver)
    assert fetch(slug, store, base, HttpResource(retries=0)) == []
    stored = store.snapshots(slug)
    assert len(stored) == (3 if slug == "geonames" else 1)
    # the next store removed the leftover: raw/<source>/ holds the snapshots alone
    assert sorted(p.name for p in (raw / slug).iterdir()) == sorted(s.snapshot_id for s in stored)


# ------------------------------------------------ a 200 that is an error page or a captcha

ERROR_PAGES = {
    "html-error": b"<!DOCTYPE html><html><body><h1>502 Bad Gateway</h1></body></html>",
    "captcha": b"<html><head><title>Just a moment...</title></head><body><form "
    b'action="/challenge"><div class="g-recaptcha" data-sitekey="x"></div></form></body></html>',
    "json-error": b'{"error": {"code": "internal", "info": "Service unavailable"}}',
}


@pytest.mark.parametrize("page", list(ERROR_PAGES))
@pytest.mark.parametrize("slug", SOURCES)
def test_a_200_carrying_an_error_page_or_captcha_stores_nothing(
    slug: str, page: str, tmp_path: Path, httpserver: HTTPServer
) -> None:
    media = "application/json" if page == "json-error" else "text/html; charset=utf-8"
    for path in (*PATHS[slug], "/w/api.php"):
        httpserver.expect_request(path).respond_with_data(ERROR_PAGES[page], content_type=media)
    raw = tmp_path / "raw"
    try:
        errors = fetch(slug, SnapshotStore(raw), httpserver.url_for("/"), HttpResource(retries=0))
    except ParseError as error:  # CDP's parser refuses the page before anything is stored
        errors = [str(error)]
    assert errors and all(e.startswith(f"{slug}: ") for e in errors), errors
    if slug == "geonames":
        assert len(errors) == 3  # each dump file refused by its own parser
    assert_nothing_stored(raw, slug)
