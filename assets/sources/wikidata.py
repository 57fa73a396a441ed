"""Wikidata: twinning statements (P190) and the identity of every item they link.

Fetches, one request at a time and as Wikimedia asks of clients, every P190 statement with
its start and end qualifiers and reference URLs (Wikidata Query Service, paged), the ISO
codes of countries, and the labels and claims of every linked item (the `wbgetentities`
API, 50 ids a request). Every response is kept byte for byte in one zip snapshot, so a
build reads exactly what was received. Pure parse functions turn SPARQL JSON results and
entity JSON into rows. No Dagster here.
"""

from __future__ import annotations

import json
import re
import tempfile
import threading
import time
import zipfile
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, NamedTuple
from urllib.parse import urlencode

import pandas as pd
import requests

from assets.sources import ParseError, SourceFile, SourceInfo, archives
from pipeline.http import FetchError, read_body
from pipeline.snapshots import Facts, Snapshot, SnapshotStore, read_verified
from pipeline.volume import check_volume

SOURCE = SourceInfo(
    slug="wikidata",
    publisher="Wikidata contributors (Wikimedia Foundation)",
    licence="CC0 1.0",
    attribution="Wikidata (wikidata.org), CC0 1.0: no attribution required; cited as a courtesy",
    homepage="https://www.wikidata.org/",
)
SPARQL_URL = "https://query.wikidata.org/sparql"
API_URL = "https://www.wikidata.org/w/api.php"
ENTITY_PREFIX = "http://www.wikidata.org/entity/"
BUNDLE_FILE = "wikidata-responses.zip"
INDEX_MEMBER = "index.json"

# The query service stops a query at 60 s: read a little longer than that, and page the
# twinning query so each page stays well inside it (about 40,000 statements in all).
TIMEOUT = (10.0, 70.0)
PAGE_SIZE = 10_000
ENTITY_BATCH = 50  # wbgetentities' limit for ordinary clients
# Wikimedia asks clients to back off on 429/503 as Retry-After says (a minute when it says
# nothing); a wait beyond MAX_WAIT fails the source instead of stalling the weekly run.
DEFAULT_WAIT = 60.0
MAX_WAIT = 300.0
STATUS_RETRIES = 4
# The statuses the session itself may retry; 429 and 503 are the client's (see above), and
# a 500 from the query service is usually a query that ran out of time: not sent again.
SESSION_RETRY_STATUSES = (502, 504)


def session(http: Any) -> requests.Session:
    """The session Wikidata is fetched with, from the pipeline's HttpResource: urllib3
    retries only broken connections and gateway errors, and never waits out a
    Retry-After itself (WikidataClient does, capped)."""
    return http.session(statuses=SESSION_RETRY_STATUSES, honour_retry_after=False)


# maxlag=5 asks the API to refuse work while replication lags; it answers HTTP 200 with an
# error object and Retry-After, and the request is tried again.
MAXLAG = 5
MAXLAG_RETRIES = 6
MAX_BYTES = 256 << 20
# A fetch holds one response at a time, so the bundle's total bounds the time a build spends
# inflating it, not its memory. Labels in every language and all claims make an entity some
# tens of KB (Weimar's whole wbgetentities answer is 118 KB), so the 10,000 to 20,000 items
# P190 links may well come to more than archives.MAX_TOTAL_BYTES (1 GiB); this is 16 times
# that. The fetch stops at the same total, so every stored bundle can be read.
MAX_BUNDLE_BYTES = 16 << 30

# Wikidata time precision: 9 year, 10 month, 11 day. Coarser values (decade, century)
# give no year at all.
YEAR, MONTH, DAY = 9, 10, 11
RANKS = ("preferred", "normal", "deprecated")

XSD = "http://www.w3.org/2001/XMLSchema#"
WKT = "http://www.opengis.net/ont/geosparql#wktLiteral"
_NUMBER_TYPES = {XSD + t for t in ("integer", "int", "long", "short", "decimal")}
_FLOAT_TYPES = {XSD + "double", XSD + "float"}
_QID = re.compile(r"^Q[1-9][0-9]*\Z")
_POINT = re.compile(
    r"^\s*(?:<[^>]*>\s*)?Point\s*\(\s*([-+]?[0-9.eE+-]+)\s+([-+]?[0-9.eE+-]+)\s*\)\s*$",
    re.IGNORECASE,
)
_TIME = re.compile(r"^([+-]?)(\d{1,16})-(\d{2})-(\d{2})T")

# What both statement queries ask of each statement: start and end with their precision
# (P580, P582) and reference URLs (P854). Doubled braces: the queries are format strings.
STATEMENT_DETAILS = """\
  OPTIONAL {{
    ?statement pqv:P580 ?startValue .
    ?startValue wikibase:timeValue ?start ; wikibase:timePrecision ?startPrecision .
  }}
  OPTIONAL {{
    ?statement pqv:P582 ?endValue .
    ?endValue wikibase:timeValue ?end ; wikibase:timePrecision ?endPrecision .
  }}
  OPTIONAL {{ ?statement prov:wasDerivedFrom/pr:P854 ?reference . }}"""
TWINNING_QUERY = """\
SELECT ?item ?twin ?statement ?rank ?start ?startPrecision ?end ?endPrecision ?reference
WHERE {{
  {{
    SELECT ?item ?statement ?twin WHERE {{
      ?item p:P190 ?statement .
      ?statement ps:P190 ?twin .
    }}
    ORDER BY ?statement
    LIMIT {limit}
    OFFSET {offset}
  }}
  ?statement wikibase:rank ?rank .
{details}
}}""".replace("{details}", STATEMENT_DETAILS)
# Members (P463) of one network; a network's members stay far below a page's size.
MEMBERSHIP_QUERY = """\
SELECT ?member ?network ?statement ?rank ?start ?startPrecision ?end ?endPrecision ?reference
WHERE {{
  VALUES ?network {{ wd:{qid} }}
  ?member p:P463 ?statement .
  ?statement ps:P463 ?network ; wikibase:rank ?rank .
{details}
}}""".replace("{details}", STATEMENT_DETAILS)
# Items whose English label or alias is a network's name or acronym: candidates for a
# curator to confirm, never taken silently.
NETWORK_LABEL_QUERY = """\
SELECT ?network ?name ?item ?itemLabel ?itemDescription WHERE {{
  VALUES (?network ?name) {{
{values}
  }}
  {{ ?item rdfs:label ?name . }} UNION {{ ?item skos:altLabel ?name . }}
  SERVICE wikibase:label {{ bd:serviceParam wikibase:language "en" . }}
}}"""
COUNTRIES_QUERY = """\
SELECT ?country ?iso2 WHERE {
  ?country wdt:P297 ?iso2 .
}"""


def selected_variables(query: str) -> tuple[str, ...]:
    """The variables a query's first SELECT names, as its result's head.vars lists them:
    'SELECT ?country ?iso2 WHERE {' -> ('country', 'iso2')."""
    select = next(line for line in query.splitlines() if line.startswith("SELECT"))
    return tuple(re.findall(r"\?(\w+)", select.split("WHERE")[0]))


# What each kind of stored SPARQL response must bind: a result whose head.vars lacks one
# (a variable renamed or dropped) fails the source, even when it has no solutions.
SELECTED = {
    "twinning": selected_variables(TWINNING_QUERY),
    "membership": selected_variables(MEMBERSHIP_QUERY),
    "network_labels": selected_variables(NETWORK_LABEL_QUERY),
    "countries": selected_variables(COUNTRIES_QUERY),
}
# What each kind of stored wbgetentities response was asked for (its `props`).
ENTITY_FIELDS = {"entities": ("labels", "claims"), "labels": ("labels",)}


# ---------------------------------------------------------------------------------------
# Fetching


_DELAY_SECONDS = re.compile(r"^[0-9]+$")


def retry_after_seconds(value: str | None, now: datetime | None = None) -> float:
    """Seconds a Retry-After header asks for: whole seconds or an HTTP date (RFC 9110),
    DEFAULT_WAIT when there is none. Anything else raises ValueError: a header that names
    no delay fails the source at once, as it does GeoNames and CDP (BoundedRetry), rather
    than have the client guess a wait."""
    if value is None:
        return DEFAULT_WAIT
    text = value.strip()
    if _DELAY_SECONDS.fullmatch(text):
        return float(text)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        raise ValueError(f"Retry-After {value!r} is no delay") from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


class WikidataClient:
    """GETs against the query service and the API, one at a time, with Wikimedia's
    etiquette: the session's User-Agent, Retry-After honoured on 429 and 503 (capped:
    beyond `max_wait` the source fails), maxlag retried, error bodies refused."""

    def __init__(
        self,
        session: requests.Session,
        sparql_url: str = SPARQL_URL,
        api_url: str = API_URL,
        timeout: tuple[float, float] = TIMEOUT,
        max_wait: float = MAX_WAIT,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.session = session
        self.sparql_url = sparql_url
        self.api_url = api_url
        self.timeout = timeout
        self.max_wait = max_wait
        self.sleep = sleep
        self.requests = 0
        # one request at a time, even if a caller shares the client between threads
        self._lock = threading.Lock()

    def get(self, url: str, params: Mapping[str, str], accept: str) -> bytes:
        """One GET; 429 and 503 are waited out as Retry-After says, up to STATUS_RETRIES
        times (a Retry-After that names no delay fails at once). Any other status but 200
        fails the source."""
        shown = f"{url}?{urlencode(params)}"
        for attempt in range(STATUS_RETRIES + 1):
            with self._lock:
                self.requests += 1
                try:
                    response = self.session.get(
                        url,
                        params=params,
                        headers={"Accept": accept},
                        timeout=self.timeout,
                        stream=True,
                    )
                except requests.RequestException as error:
                    raise FetchError(f"{SOURCE.slug}: GET {shown} failed: {error}") from error
                with response:
                    status = response.status_code
                    if status == 200:
                        body = read_body(
                            response, SOURCE.slug, shown, MAX_BYTES, self.session, self.timeout
                        )
                        return b"".join(body)
                    header = response.headers.get("Retry-After")
            if status not in (429, 503):
                raise FetchError(f"{SOURCE.slug}: GET {shown} answered HTTP {status}")
            try:
                wait = retry_after_seconds(header)
            except ValueError as error:
                raise FetchError(
                    f"{SOURCE.slug}: GET {shown} answered HTTP {status}: {error}; the source "
                    "fails rather than guess a wait"
                ) from None
            if attempt == STATUS_RETRIES:
                break
            self._wait(wait, f"HTTP {status}", shown)
        raise FetchError(
            f"{SOURCE.slug}: GET {shown} still answered HTTP {status} after {STATUS_RETRIES} waits"
        )

    def _wait(self, seconds: float, why: str, shown: str) -> None:
        if seconds > self.max_wait:
            raise FetchError(
                f"{SOURCE.slug}: GET {shown} answered {why} with Retry-After {seconds:.0f} s, "
                f"over the {self.max_wait:.0f} s this client waits; the source fails rather "
                "than stall the run"
            )
        self.sleep(seconds)

    def sparql(self, query: str) -> bytes:
        """A query's result as SPARQL JSON; a body that is not one (an HTML error page, a
        timeout's stack trace after a 200) fails the source."""
        params = {"query": query, "format": "json"}
        body = self.get(self.sparql_url, params, "application/sparql-results+json")
        problem = sparql_body_problem(body)
        if problem:
            raise FetchError(f"{SOURCE.slug}: query service answered 200 but {problem}")
        return body

    def entities(self, ids: Sequence[str], props: str = "labels|claims") -> bytes:
        """wbgetentities for up to ENTITY_BATCH ids (labels and claims, or what `props`
        asks). A maxlag refusal is waited out and tried again; any other API error fails
        the source."""
        if not 0 < len(ids) <= ENTITY_BATCH:
            raise ValueError(f"wbgetentities takes 1 to {ENTITY_BATCH} ids, not {len(ids)}")
        params = {
            "action": "wbgetentities",
            "ids": "|".join(ids),
            "props": props,
            "format": "json",
            "maxlag": str(MAXLAG),
        }
        for _ in range(MAXLAG_RETRIES + 1):
            body = self.get(self.api_url, params, "application/json")
            error = api_error(body)
            if error is None:
                return body
            code, info = error
            if code != "maxlag":
                raise FetchError(f"{SOURCE.slug}: wbgetentities answered error {code}: {info}")
            self._wait(float(MAXLAG), "maxlag", self.api_url)
        raise FetchError(f"{SOURCE.slug}: wbgetentities still lagging after {MAXLAG_RETRIES} tries")


def sparql_body_problem(body: bytes) -> str | None:
    """Why a 200 body is not a SPARQL JSON result, or None when it is one."""
    try:
        document = json.loads(body)
    except (ValueError, RecursionError) as error:  # RecursionError: nested too deeply
        return f"the body is not JSON ({error}): {body[:80]!r}"
    return sparql_document_problem(document)


def sparql_document_problem(document: object) -> str | None:
    """Why parsed JSON is not a SPARQL JSON result, or None when it is one."""
    if not isinstance(document, dict):
        return "the body is not a JSON object"
    bindings = document.get("results", {})
    if "head" not in document or not isinstance(bindings, dict) or "bindings" not in bindings:
        return "the body lacks head or results.bindings"
    if not isinstance(bindings["bindings"], list):
        return "results.bindings is not a list"
    return None


def api_error(body: bytes) -> tuple[str, str] | None:
    """(code, info) of an API error object sent with HTTP 200, None for data; a body that
    is not a JSON object is an error too."""
    try:
        document = json.loads(body)
    except (ValueError, RecursionError) as error:  # RecursionError: nested too deeply
        return "not-json", f"{error}: {body[:80]!r}"
    if not isinstance(document, dict):
        return "not-json", "the body is not a JSON object"
    if "error" in document:
        problem = document["error"]
        return str(problem.get("code", "unknown")), str(problem.get("info", ""))
    if "entities" not in document:
        return "no-entities", "the body has no entities"
    return None


class ResponseBundle:
    """The responses of one fetch, each kept as received, in a zip written as it goes
    (members are stored with a fixed timestamp, so the same responses make the same bytes
    and the snapshot store keeps one copy). index.json records what each member answers."""

    def __init__(self) -> None:
        # open for the bundle's life: closed by chunks() or close()
        self._file = tempfile.TemporaryFile()  # noqa: SIM115
        self._zip = zipfile.ZipFile(self._file, "w", compression=zipfile.ZIP_DEFLATED)
        self.index: list[dict[str, str]] = []
        self.bytes = 0

    def add(self, kind: str, request: str, body: bytes) -> None:
        name = f"{len(self.index) + 1:05d}-{kind}.json"
        self._grow(len(body), f"at response {len(self.index) + 1}, {kind}")
        self._zip.writestr(_member(name), body)
        self.index.append({"member": name, "kind": kind, "request": request})

    def _grow(self, size: int, where: str) -> None:
        """Count a member's bytes; past MAX_BUNDLE_BYTES in all the fetch fails, since no
        build would read the bundle (read_bundle)."""
        self.bytes += size
        if self.bytes > MAX_BUNDLE_BYTES:
            raise FetchError(
                f"{SOURCE.slug}: the responses come to more than {MAX_BUNDLE_BYTES} bytes "
                f"unzipped, the most a build reads ({where})"
            )

    def chunks(self) -> Iterator[bytes]:
        """Close the zip and yield its bytes."""
        index = json.dumps(self.index, indent=1).encode()
        self._grow(len(index), INDEX_MEMBER)
        self._zip.writestr(_member(INDEX_MEMBER), index)
        self._zip.close()
        self._file.seek(0)
        while chunk := self._file.read(1 << 20):
            yield chunk
        self._file.close()

    def close(self) -> None:
        """Drop a bundle that will not be stored (its temporary file goes with it)."""
        self._zip.close()
        self._file.close()


def _member(name: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=(2000, 1, 1, 0, 0, 0))
    info.compress_type = zipfile.ZIP_DEFLATED
    return info


def fetch_twinning(
    client: WikidataClient, bundle: ResponseBundle, page_size: int = PAGE_SIZE
) -> set[str]:
    """Every P190 statement, a page at a time; returns the QIDs of the items they link."""
    qids: set[str] = set()
    offset = 0
    while True:
        query = TWINNING_QUERY.format(limit=page_size, offset=offset)
        body = client.sparql(query)
        bundle.add("twinning", query, body)
        rows = parse_sparql_json(body, f"twinning page at offset {offset}", SELECTED["twinning"])
        statements = {row["statement"] for row in rows}
        for row in rows:
            qids.update(q for q in (qid_of(row["item"]), qid_of(row["twin"])) if q)
        if len(statements) < page_size:
            return qids
        offset += page_size


@dataclass(frozen=True)
class NetworkRef:
    """A registry network as the fetch asks about it: its id, the names it goes by and the
    QID the registry gives it, if any."""

    network_id: str
    names: tuple[str, ...]
    qid: str | None = None


def sparql_string(text: str) -> str:
    """A SPARQL string literal for `text`, quotes and backslashes escaped."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ")
    return f'"{escaped}"'


def network_label_query(networks: Iterable[NetworkRef]) -> str | None:
    pairs = [
        f"    ({sparql_string(n.network_id)} {sparql_string(name)}@en)"
        for n in networks
        for name in n.names
    ]
    return NETWORK_LABEL_QUERY.format(values="\n".join(pairs)) if pairs else None


def fetch_memberships(
    client: WikidataClient, bundle: ResponseBundle, networks: Iterable[NetworkRef]
) -> set[str]:
    """Every P463 statement naming a registry network's QID, one query per network;
    returns the members' QIDs."""
    members: set[str] = set()
    for network in networks:
        if network.qid is None or not _QID.match(network.qid):
            continue
        query = MEMBERSHIP_QUERY.format(qid=network.qid)
        body = client.sparql(query)
        bundle.add("membership", query, body)
        for row in parse_sparql_json(body, f"members of {network.qid}", SELECTED["membership"]):
            if qid := qid_of(row.get("member")):
                members.add(qid)
    return members


def _by_number(qids: Iterable[str]) -> list[str]:
    return sorted(qids, key=lambda q: int(q[1:]))


def fetch_entities(
    client: WikidataClient,
    bundle: ResponseBundle,
    qids: Iterable[str],
    batch: int = ENTITY_BATCH,
) -> set[str]:
    """Every item's labels and claims, `batch` ids a request; returns the QIDs of the
    classes the items are instances of (P31), whose labels name the items' kind."""
    classes: set[str] = set()
    ordered = _by_number(qids)
    for start in range(0, len(ordered), batch):
        ids = ordered[start : start + batch]
        body = client.entities(ids)
        bundle.add("entities", "|".join(ids), body)
        where = f"entities {ids[0]}..{ids[-1]}"
        for entity in parse_entities(body, where, ENTITY_FIELDS["entities"]):
            classes.update(entity.instance_of)
    return classes


def fetch_bundle(
    client: WikidataClient,
    networks: Sequence[NetworkRef] = (),
    page_size: int = PAGE_SIZE,
    batch: int = ENTITY_BATCH,
) -> ResponseBundle:
    """Twinning statements; the items named like each registry network (for review); the
    members of the networks whose QID the registry gives; country codes; every linked
    item's entity data (the networks' own items too, which confirms their QIDs); then the
    labels of the classes those items are instances of."""
    bundle = ResponseBundle()
    try:
        qids = fetch_twinning(client, bundle, page_size)
        if query := network_label_query(networks):
            bundle.add("network_labels", query, client.sparql(query))
        qids |= fetch_memberships(client, bundle, networks)
        qids |= {n.qid for n in networks if n.qid and _QID.match(n.qid)}
        bundle.add("countries", COUNTRIES_QUERY, client.sparql(COUNTRIES_QUERY))
        classes = fetch_entities(client, bundle, qids, batch) - qids
        ordered = _by_number(classes)
        for start in range(0, len(ordered), batch):
            ids = ordered[start : start + batch]
            bundle.add("labels", "|".join(ids), client.entities(ids, props="labels"))
    except BaseException:
        bundle.close()
        raise
    return bundle


def select_files(store: SnapshotStore) -> dict[str, SourceFile | None]:
    """The newest stored fetch, or None: a build without one has no Wikidata rows."""
    newest = store.latest(SOURCE.slug, BUNDLE_FILE)
    return {"bundle": None if newest is None else SourceFile.from_snapshot(newest, "bundle")}


def fetch(
    store: SnapshotStore,
    client: WikidataClient,
    networks: Sequence[NetworkRef] = (),
    accept_shrink: bool = False,
) -> tuple[Snapshot, bool]:
    """Fetch everything and store it as one snapshot; nothing is stored when any request
    fails, so a snapshot is always a whole fetch. The bundle is parsed first, and a fetch
    with sharply fewer statements than the last is refused (pipeline.volume)."""
    bundle = fetch_bundle(client, networks)
    origin = f"{client.sparql_url} and {client.api_url} ({client.requests} requests)"
    content = b"".join(bundle.chunks())
    rows = count_statements(content)
    previous = store.latest(SOURCE.slug, BUNDLE_FILE)
    note = check_volume(SOURCE.slug, BUNDLE_FILE, rows, previous, count_rows, accept_shrink)
    facts = Facts(rows=rows, note=note)
    return store.store(SOURCE.slug, BUNDLE_FILE, [content], origin, SOURCE.licence, facts=facts)


def count_statements(content: bytes, file_name: str = BUNDLE_FILE) -> int:
    """A fetch's size for the volume check: its twinning and membership statements."""
    fetched = read_bundle(content, file_name)
    return len(fetched.statements) + len(fetched.memberships)


def count_rows(snapshot: Snapshot) -> int:
    """The statements of a stored fetch whose manifest has no count."""
    return count_statements(read_verified(snapshot.path, snapshot.sha256), snapshot.file_name)


# ---------------------------------------------------------------------------------------
# Parsing


class LangString(NamedTuple):
    """A language-tagged literal ("Köln"@de)."""

    text: str
    lang: str


def qid_of(value: object) -> str | None:
    """The QID of an entity URI ('http://www.wikidata.org/entity/Q64' -> 'Q64'), or None."""
    if not isinstance(value, str) or not value.startswith(ENTITY_PREFIX):
        return None
    qid = value[len(ENTITY_PREFIX) :]
    return qid if _QID.match(qid) else None


def parse_wkt_point(text: str) -> tuple[float, float] | None:
    """A WKT 'Point(lon lat)' as (latitude, longitude); None if not a point on Earth."""
    match = _POINT.match(text)
    if not match:
        return None
    longitude, latitude = float(match.group(1)), float(match.group(2))
    if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
        return None
    return latitude, longitude


def wikidata_time(value: str | None, precision: int | None) -> tuple[int | None, str | None]:
    """(year, ISO date) of a Wikidata time at its precision: a year-precision time gives
    the year and no date ('+1953-00-00T00:00:00Z' is 1953, not 1 January 1953); a month
    gives the year; only a day gives a date. Coarser times and BCE years give nothing."""
    if value is None or precision is None or precision < YEAR:
        return None, None
    match = _TIME.match(value.strip())
    if not match or match.group(1) == "-":
        return None, None
    year = int(match.group(2))
    if precision >= DAY and match.group(3) != "00" and match.group(4) != "00":
        return year, f"{year:04d}-{match.group(3)}-{match.group(4)}"
    return year, None


def _term(term: Mapping[str, str], where: str) -> object:
    kind, value = term.get("type"), term.get("value")
    if value is None:
        raise ValueError(f"{where}: a term without a value")
    if kind == "uri":
        return value
    if kind == "bnode":
        return f"_:{value}"
    if kind not in ("literal", "typed-literal"):
        raise ValueError(f"{where}: unknown term type {kind!r}")
    if "xml:lang" in term:
        return LangString(value, term["xml:lang"])
    datatype = term.get("datatype")
    try:
        if datatype in _NUMBER_TYPES:
            number = float(value)
            return int(number) if number.is_integer() else number
        if datatype in _FLOAT_TYPES:
            return float(value)
    except ValueError:
        raise ValueError(f"{where}: {value!r} is not a number of type {datatype}") from None
    if datatype == WKT:
        point = parse_wkt_point(value)
        if point is None:
            raise ValueError(f"{where}: {value!r} is not a WKT point")
        return point
    return value


def parse_sparql_json(
    body: bytes, file_name: str, variables: Iterable[str] = ()
) -> list[dict[str, Any]]:
    """A SPARQL JSON result as one dict per solution: URIs and plain literals as str,
    language-tagged literals as LangString, numbers as int or float, WKT points as
    (latitude, longitude), dateTimes as their text. An unbound (optional) variable is
    absent from the dict; a binding the query did not select is kept and not read. A
    result whose head.vars lacks one of `variables` (what the query selects), and
    anything else unreadable, raises ParseError naming file and position."""
    try:
        document = json.loads(body)
    except (ValueError, RecursionError) as error:  # RecursionError: nested too deeply
        raise ParseError(SOURCE.slug, file_name, "start", f"not JSON: {error}") from None
    problem = sparql_document_problem(document)
    if problem:
        raise ParseError(SOURCE.slug, file_name, "top level", problem)
    head = document["head"]
    given = head.get("vars") if isinstance(head, dict) else None
    missing = [v for v in variables if not isinstance(given, list) or v not in given]
    if missing:
        raise ParseError(
            SOURCE.slug,
            file_name,
            "head",
            f"variable(s) {missing} the query selects are not in head.vars {given}",
        )
    rows = []
    for number, binding in enumerate(document["results"]["bindings"], start=1):
        where = f"solution {number}"
        if not isinstance(binding, dict):
            raise ParseError(SOURCE.slug, file_name, where, "a solution is not an object")
        try:
            rows.append({name: _term(term, name) for name, term in binding.items()})
        except (ValueError, AttributeError, TypeError) as error:
            raise ParseError(SOURCE.slug, file_name, where, str(error)) from None
    return rows


@dataclass(frozen=True, slots=True)  # slots: millions of them at a hundred times the size
class Statement:
    """One P190 (or P463) statement: subject, object, rank, dates and references."""

    statement_id: str
    subject: str
    object: str
    rank: str
    start_year: int | None = None
    start_date: str | None = None
    end_year: int | None = None
    end_date: str | None = None
    references: tuple[str, ...] = ()


def _statement_id(uri: str) -> str:
    """'http://www.wikidata.org/entity/statement/Q2112-71781c61-...' -> 'Q2112$71781c61-...'
    (the form entity JSON uses)."""
    tail = uri.rsplit("/", 1)[-1]
    subject, _, rest = tail.partition("-")
    return f"{subject}${rest}" if rest else tail


def twinning_statements(rows: Iterable[Mapping[str, Any]], file_name: str) -> list[Statement]:
    """P190 statements from the twinning query's solutions."""
    return query_statements(rows, file_name, "item", "twin")


def query_statements(
    rows: Iterable[Mapping[str, Any]], file_name: str, subject_var: str, object_var: str
) -> list[Statement]:
    """Statements from a statement query's solutions (several per statement when it has
    several references), one Statement each, references gathered."""
    found: dict[str, dict[str, Any]] = {}
    for number, row in enumerate(rows, start=1):
        subject = qid_of(row.get(subject_var))
        # 'unknown value' arrives as a blank-node IRI, not an item: kept as given, so the
        # builder can reject the statement with that reason
        target = qid_of(row.get(object_var)) or str(row.get(object_var) or "")
        where = f"solution {number}"
        if subject is None or not target or "statement" not in row:
            missing = f"{subject_var}, {object_var} or statement missing"
            raise ParseError(SOURCE.slug, file_name, where, missing)
        # the statement, its dates and references are URIs or plain literals (str); a
        # number, point or language-tagged literal there is no statement query's answer
        odd = [
            name
            for name in ("statement", "start", "end", "reference")
            if name in row and not isinstance(row[name], str)
        ]
        if odd:
            raise ParseError(SOURCE.slug, file_name, where, f"{odd} not a URI or plain literal")
        key = _statement_id(row["statement"])
        entry = found.setdefault(
            key,
            {
                "statement_id": key,
                "subject": subject,
                "object": target,
                "rank": str(row.get("rank", "")).rsplit("#", 1)[-1].removesuffix("Rank").lower(),
                "references": set(),  # a set: a list's `in` made many references quadratic
            },
        )
        for end in ("start", "end"):
            year, date = wikidata_time(row.get(end), _int(row.get(f"{end}Precision")))
            if year is not None:
                entry[f"{end}_year"], entry[f"{end}_date"] = year, date
        if row.get("reference"):
            entry["references"].add(row["reference"])
    return [
        Statement(**{**entry, "references": tuple(sorted(entry["references"]))})
        for entry in found.values()
    ]


def _int(value: object) -> int | None:
    return value if isinstance(value, int) else None


@dataclass(frozen=True, slots=True)
class Entity:
    """What the pipeline uses of a Wikidata item."""

    qid: str
    labels: dict[str, str] = field(default_factory=dict)
    country_qid: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    geonames_id: int | None = None
    population: int | None = None
    population_year: int | None = None
    instance_of: tuple[str, ...] = ()
    twinned_with: tuple[Statement, ...] = ()
    member_of: tuple[Statement, ...] = ()


def _value(snak: Mapping[str, Any]) -> Any:
    """A snak's value, or None for 'no value' / 'unknown value'."""
    if snak.get("snaktype") != "value":
        return None
    return snak.get("datavalue", {}).get("value")


def _best(statements: Iterable[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """Statements of the best rank present: preferred if any, else normal; never
    deprecated (Wikidata's own 'truthy' rule)."""
    kept = [s for s in statements if s.get("rank") in ("preferred", "normal")]
    preferred = [s for s in kept if s.get("rank") == "preferred"]
    return preferred or kept


def _qualifier_time(statement: Mapping[str, Any], prop: str) -> tuple[int | None, str | None]:
    for snak in statement.get("qualifiers", {}).get(prop, []):
        value = _value(snak)
        if isinstance(value, dict):
            return wikidata_time(value.get("time"), value.get("precision"))
    return None, None


def _references(statement: Mapping[str, Any]) -> tuple[str, ...]:
    urls = {
        value
        for reference in statement.get("references", [])
        for snak in reference.get("snaks", {}).get("P854", [])
        if isinstance(value := _value(snak), str)
    }
    return tuple(sorted(urls))


def _item_statements(qid: str, claims: Mapping[str, Any], prop: str) -> tuple[Statement, ...]:
    """Every non-deprecated statement of an item-valued property, with its dates."""
    found = []
    for statement in claims.get(prop, []):
        target = _value(statement.get("mainsnak", {}))
        if statement.get("rank") == "deprecated" or not isinstance(target, dict):
            continue
        start_year, start_date = _qualifier_time(statement, "P580")
        end_year, end_date = _qualifier_time(statement, "P582")
        found.append(
            Statement(
                statement_id=str(statement.get("id", "")),
                subject=qid,
                object=str(target.get("id")),
                rank=str(statement.get("rank")),
                start_year=start_year,
                start_date=start_date,
                end_year=end_year,
                end_date=end_date,
                references=_references(statement),
            )
        )
    return tuple(found)


def _population(claims: Mapping[str, Any]) -> tuple[int | None, int | None]:
    """(population, year): the preferred value, else the latest by its P585 point in
    time (a normal-rank figure from 1900 must not beat one from 2021)."""
    best = []
    for statement in _best(claims.get("P1082", [])):
        value = _value(statement.get("mainsnak", {}))
        if not isinstance(value, dict):
            continue
        try:
            amount = int(float(value["amount"]))
        except (KeyError, TypeError, ValueError, OverflowError):  # OverflowError: infinity
            continue
        year, _ = _qualifier_time(statement, "P585")
        best.append((statement.get("rank") == "preferred", year or 0, amount, year))
    if not best:
        return None, None
    _, _, amount, year = max(best)
    return amount, year


def _item_id(value: Mapping[str, Any]) -> str:
    """An item value's id; one that is no text (a list, say) would later be a key that
    cannot be hashed, so it is refused here, where parse_entities names the entity."""
    item = value["id"]
    if not isinstance(item, str):
        raise TypeError(f"an item id that is no text: {item!r:.40}")
    return item


def parse_entity(entity: Mapping[str, Any]) -> Entity:
    """One entity object (as wbgetentities or Special:EntityData give it)."""
    qid = str(entity["id"])
    claims = entity.get("claims", {})
    labels = {
        lang: label["value"]
        for lang, label in entity.get("labels", {}).items()
        if isinstance(label, dict) and "value" in label
    }
    country = next(
        (
            _item_id(v)
            for s in _best(claims.get("P17", []))
            if isinstance(v := _value(s["mainsnak"]), dict)
        ),
        None,
    )
    point = next(
        (v for s in _best(claims.get("P625", [])) if isinstance(v := _value(s["mainsnak"]), dict)),
        None,
    )
    geonames = next(
        (v for s in _best(claims.get("P1566", [])) if isinstance(v := _value(s["mainsnak"]), str)),
        None,
    )
    population, population_year = _population(claims)
    kinds = tuple(
        _item_id(v)
        for s in _best(claims.get("P31", []))
        if isinstance(v := _value(s["mainsnak"]), dict)
    )
    return Entity(
        qid=qid,
        labels=labels,
        country_qid=country,
        latitude=point.get("latitude") if point else None,
        longitude=point.get("longitude") if point else None,
        geonames_id=int(geonames) if geonames and geonames.isdigit() else None,
        population=population,
        population_year=population_year,
        instance_of=kinds,
        twinned_with=_item_statements(qid, claims, "P190"),
        member_of=_item_statements(qid, claims, "P463"),
    )


def parse_entities(body: bytes, file_name: str, fields: Sequence[str] = ()) -> list[Entity]:
    """Every entity in a wbgetentities response ({"entities": {...}}) or a single entity
    object. Missing items ({"missing": ""}) are skipped; an entity without one of `fields`
    (what the request asked for) or anything else unreadable raises ParseError naming the
    file and the entity. Fields not asked for are ignored."""
    try:
        document = json.loads(body)
    except (ValueError, RecursionError) as error:  # RecursionError: nested too deeply
        raise ParseError(SOURCE.slug, file_name, "start", f"not JSON: {error}") from None
    if not isinstance(document, dict):
        raise ParseError(SOURCE.slug, file_name, "top level", "not a JSON object")
    if "error" in document:
        raise ParseError(SOURCE.slug, file_name, "top level", f"an API error: {document['error']}")
    objects = document["entities"] if "entities" in document else {document.get("id"): document}
    if not isinstance(objects, dict):
        raise ParseError(SOURCE.slug, file_name, "top level", "entities is not a JSON object")
    entities = []
    for key, entity in objects.items():
        if not isinstance(entity, dict) or "missing" in entity:
            continue
        try:
            entities.append(parse_entity(entity))
        except (KeyError, TypeError, ValueError, AttributeError) as error:
            raise ParseError(
                SOURCE.slug, file_name, f"entity {key}", f"unreadable: {error!r}"
            ) from None
        missing = [f for f in fields if f not in entity]
        if missing:
            raise ParseError(
                SOURCE.slug,
                file_name,
                f"entity {key}",
                f"no {missing} field: the request asked for {list(fields)}",
            )
    return entities


@dataclass
class Fetched:
    """A stored fetch, parsed: twinning statements, entities by QID, country QID -> ISO2,
    and the English labels of the classes items are instances of."""

    statements: list[Statement]
    entities: dict[str, Entity]
    countries: dict[str, str]
    class_labels: dict[str, str] = field(default_factory=dict)
    memberships: list[Statement] = field(default_factory=list)
    network_candidates: list[dict[str, str | None]] = field(default_factory=list)


def read_bundle(content: bytes, file_name: str = BUNDLE_FILE) -> Fetched:
    """Parse every response in a stored fetch, in the order index.json lists them. The zip
    is checked first (assets.sources.archives): no member may declare more than MAX_BYTES
    unzipped, the most a fetch accepts for one response, nor all of them together more
    than MAX_BUNDLE_BYTES, the most a fetch keeps."""
    with archives.open_zip(content, SOURCE.slug, file_name, MAX_BYTES, MAX_BUNDLE_BYTES) as archive:
        return _read_responses(archive, file_name)


def _bundle_index(archive: zipfile.ZipFile, file_name: str) -> list[tuple[str, str]]:
    """(member, kind) of each response, as index.json lists them."""
    try:
        body = archives.read_member(archive, INDEX_MEMBER, SOURCE.slug, file_name)
    except KeyError:
        raise ParseError(SOURCE.slug, file_name, "archive", f"no {INDEX_MEMBER}") from None
    try:
        index = json.loads(body)
    except (ValueError, RecursionError) as error:  # RecursionError: nested too deeply
        where = f"member {INDEX_MEMBER}"
        raise ParseError(SOURCE.slug, file_name, where, f"not JSON: {error}") from None
    if not isinstance(index, list):
        raise ParseError(SOURCE.slug, file_name, f"member {INDEX_MEMBER}", "not a JSON list")
    entries = []
    for number, entry in enumerate(index, start=1):
        if not isinstance(entry, dict) or not all(
            isinstance(entry.get(key), str) for key in ("member", "kind")
        ):
            where = f"{INDEX_MEMBER} entry {number}"
            raise ParseError(SOURCE.slug, file_name, where, "no member and kind named")
        entries.append((entry["member"], entry["kind"]))
    return entries


def _read_responses(archive: zipfile.ZipFile, file_name: str) -> Fetched:
    statements: dict[str, Statement] = {}
    entities: dict[str, Entity] = {}
    countries: dict[str, str] = {}
    class_labels: dict[str, str] = {}
    memberships: dict[str, Statement] = {}
    candidates: list[dict[str, str | None]] = []
    for number, (member, kind) in enumerate(_bundle_index(archive, file_name), start=1):
        where = f"{file_name}:{member}"
        try:
            body = archives.read_member(archive, member, SOURCE.slug, file_name)
        except KeyError:
            listed = f"{INDEX_MEMBER} entry {number}"
            raise ParseError(
                SOURCE.slug, file_name, listed, f"member {member!r} is listed but missing"
            ) from None
        # each response is checked against what its request asked for
        rows = parse_sparql_json(body, where, SELECTED[kind]) if kind in SELECTED else []
        found = parse_entities(body, where, ENTITY_FIELDS[kind]) if kind in ENTITY_FIELDS else []
        if kind == "twinning":
            for s in twinning_statements(rows, where):
                statements[s.statement_id] = s
        elif kind == "countries":
            for row in rows:
                qid, code = qid_of(row.get("country")), row.get("iso2")
                if qid and isinstance(code, str) and re.fullmatch(r"[A-Z]{2}", code):
                    countries[qid] = code
        elif kind == "entities":
            entities.update((e.qid, e) for e in found)
        elif kind == "membership":
            for s in query_statements(rows, where, "member", "network"):
                memberships[s.statement_id] = s
        elif kind == "network_labels":
            for row in rows:
                candidates.append(_candidate(row))
        elif kind == "labels":
            for entity in found:
                if "en" in entity.labels:
                    class_labels[entity.qid] = entity.labels["en"]
        else:
            listed = f"{INDEX_MEMBER} entry {number}"
            raise ParseError(SOURCE.slug, file_name, listed, f"unknown kind {kind!r}")
    classes = {c for entity in entities.values() for c in entity.instance_of}
    for qid in classes - set(class_labels):  # a class that is also a linked item
        if qid in entities and "en" in entities[qid].labels:
            class_labels[qid] = entities[qid].labels["en"]
    return Fetched(
        list(statements.values()),
        entities,
        countries,
        class_labels,
        list(memberships.values()),
        candidates,
    )


def _candidate(row: Mapping[str, Any]) -> dict[str, str | None]:
    """A network label lookup's solution: the network, the name matched, the item."""

    def text(value: object) -> str | None:
        return (
            value.text
            if isinstance(value, LangString)
            else value
            if isinstance(value, str)
            else None
        )

    return {
        "network_id": text(row.get("network")),
        "matched_name": text(row.get("name")),
        "qid": qid_of(row.get("item")),
        "label": text(row.get("itemLabel")),
        "description": text(row.get("itemDescription")),
    }


# ---------------------------------------------------------------------------------------
# As frames for the pipeline

ITEM_URL = "https://www.wikidata.org/wiki/"
STATEMENT_COLUMNS = [
    "statement_id",
    "subject_qid",
    "object_qid",
    "rank",
    "start_year",
    "start_date",
    "end_year",
    "reference_urls",
    "source_row",
]
ITEM_COLUMNS = [
    "qid",
    "label",
    "label_lang",
    "country_code",
    "latitude",
    "longitude",
    "geonames_id",
    "population",
    "kinds",
]


def statements_frame(fetched: Fetched) -> pd.DataFrame:
    """One row per P190 statement, in statement-id order, with where it was read. Built a
    column at a time: a dict per statement held gigabytes at a hundred times the size."""
    ordered = sorted(fetched.statements, key=lambda s: s.statement_id)
    if not ordered:
        empty = pd.DataFrame([], columns=STATEMENT_COLUMNS)
        return empty.astype({"start_year": "Int64", "end_year": "Int64"})
    return pd.DataFrame(
        {
            "statement_id": [s.statement_id for s in ordered],
            "subject_qid": [s.subject for s in ordered],
            "object_qid": [s.object for s in ordered],
            "rank": [s.rank for s in ordered],
            "start_year": pd.array([s.start_year for s in ordered], dtype="Int64"),
            "start_date": pd.Series([s.start_date for s in ordered], dtype=object),
            "end_year": pd.array([s.end_year for s in ordered], dtype="Int64"),
            "reference_urls": pd.Series(
                [" ".join(s.references) or None for s in ordered], dtype=object
            ),
            "source_row": [f"statement {s.statement_id}" for s in ordered],
        },
        columns=STATEMENT_COLUMNS,
    )


def memberships_frame(fetched: Fetched) -> pd.DataFrame:
    """One row per P463 statement naming a registry network, as statements_frame."""
    return statements_frame(Fetched(fetched.memberships, {}, {}))


CANDIDATE_COLUMNS = ["network_id", "matched_name", "qid", "label", "description"]


def network_candidates_frame(fetched: Fetched) -> pd.DataFrame:
    """One row per item whose English label or alias is a registry network's name."""
    frame = pd.DataFrame(fetched.network_candidates, columns=CANDIDATE_COLUMNS)
    return frame.drop_duplicates(["network_id", "qid"]).sort_values(
        ["network_id", "qid"], ignore_index=True
    )


def best_label(labels: Mapping[str, str]) -> tuple[str | None, str | None]:
    """(label, language): English, else the multilingual label, else the first language
    in code order, so the choice never depends on the order Wikidata sent them in."""
    for lang in ("en", "mul", *sorted(labels)):
        if lang in labels:
            return labels[lang], lang
    return None, None


def linked_qids(fetched: Fetched) -> set[str]:
    """The items that may be cities: both ends of a twinning, a network's members."""
    return {q for s in fetched.statements for q in (s.subject, s.object)} | {
        s.subject for s in fetched.memberships
    }


def items_frame(fetched: Fetched, qids: Iterable[str] | None = None) -> pd.DataFrame:
    """One row per item (of `qids`, else every fetched one): its label, ISO country (from
    P17), point, GeoNames id, population and kinds (the English labels of its P31
    classes)."""
    wanted = set(fetched.entities) if qids is None else set(qids) & set(fetched.entities)
    rows = []
    for qid in _by_number(wanted):
        entity = fetched.entities[qid]
        label, lang = best_label(entity.labels)
        kinds = [fetched.class_labels.get(c, c) for c in entity.instance_of]
        rows.append(
            {
                "qid": qid,
                "label": label,
                "label_lang": lang,
                "country_code": fetched.countries.get(entity.country_qid or ""),
                "latitude": entity.latitude,
                "longitude": entity.longitude,
                "geonames_id": entity.geonames_id,
                "population": entity.population,
                "kinds": "; ".join(kinds) or None,
            }
        )
    frame = pd.DataFrame(rows, columns=ITEM_COLUMNS)
    return frame.astype({"geonames_id": "Int64", "population": "Int64"})
