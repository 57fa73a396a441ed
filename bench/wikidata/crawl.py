"""The 2016 P190 crawl (an edge list and a label list in ../shared/data) turned into what the
Wikidata path reads: SPARQL JSON pages of the twinning query in the live format, and the
places frame build_wikidata.identify_items would hand on. It exists because the project keeps
no product code for the crawl's TSV format: the benchmark converts it here, outside the timed
code, and can multiply it with fake QIDs to measure the path at ten times the size."""

from __future__ import annotations

import json
import re
import uuid
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from assets.build_wikidata import PLACE_COLUMNS
from assets.sources.wikidata import ENTITY_PREFIX, PAGE_SIZE, TWINNING_QUERY
from schemas.codes import WIKIDATA_ITEM

CRAWL = Path("wikidata/p190-crawl-2016")
RELATIONS = "relations.tsv"
NAMES = "names.tsv"

# Copy k of the crawl adds k * FAKE_OFFSET to every QID number. The largest real QID is
# about 1.3e8 (the crawl's is 2.3e7), so copies 1.. can never meet a real item.
FAKE_OFFSET = 10**9
STATEMENT_PREFIX = ENTITY_PREFIX + "statement/"
NORMAL_RANK = "http://wikiba.se/ontology#NormalRank"
# A fixed namespace makes the made-up statement ids the same on every run.
STATEMENT_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://citydiplomacy/bench/wikidata/p190")
SNAPSHOT_ID = "bench-wikidata-p190-crawl-2016"
# A made-up placeholder: the crawl has no countries, and build_agreements does not read it.
PLACEHOLDER_COUNTRY = "DE"

_QID = re.compile(r"^Q[1-9][0-9]*$")
# The query's variables, in its SELECT order (the head of every live result).
VARIABLES = re.findall(r"\?(\w+)", TWINNING_QUERY.split("WHERE", 1)[0])


@dataclass(frozen=True)
class Crawl:
    """The crawl as read: directed (item, twin) rows in file order, and labels by QID."""

    relations: list[tuple[str, str]]
    names: dict[str, str]

    @property
    def qids(self) -> set[str]:
        return {qid for pair in self.relations for qid in pair} | set(self.names)


def _tsv_rows(path: Path) -> list[tuple[str, str]]:
    """Two tab-separated fields a line; a line of any other shape is a changed file."""
    rows = []
    with path.open(encoding="utf-8") as lines:
        for number, line in enumerate(lines, start=1):
            line = line.rstrip("\r\n")
            if not line:
                continue
            fields = line.split("\t")
            if len(fields) != 2 or not _QID.match(fields[0]):
                raise ValueError(f"{path}:{number}: expected 'QID<TAB>value', got {line!r}")
            rows.append((fields[0], fields[1]))
    return rows


def read_crawl(folder: Path) -> Crawl:
    """relations.tsv (item QID, twin QID) and names.tsv (QID, label), read in place."""
    relations = _tsv_rows(folder / RELATIONS)
    for number, (_, twin) in enumerate(relations, start=1):
        if not _QID.match(twin):
            raise ValueError(f"{folder / RELATIONS}:{number}: {twin!r} is no QID")
    return Crawl(relations, dict(_tsv_rows(folder / NAMES)))


def fake_qid(qid: str, copy: int) -> str:
    """QID `qid` in copy `copy` of the crawl: copy 0 is the crawl itself."""
    return f"Q{int(qid[1:]) + copy * FAKE_OFFSET}"


def scaled(crawl: Crawl, factor: int) -> Crawl:
    """`factor` copies of the crawl, copy k with every QID (both ends of each row, and the
    labels) mapped by fake_qid(., k), so each copy links its own items as the crawl does."""
    if factor < 1:
        raise ValueError(f"factor must be at least 1, not {factor}")
    return Crawl(
        [(fake_qid(a, k), fake_qid(b, k)) for k in range(factor) for a, b in crawl.relations],
        {fake_qid(q, k): label for k in range(factor) for q, label in crawl.names.items()},
    )


def statement_uris(relations: Sequence[tuple[str, str]]) -> list[str]:
    """A made-up statement URI per row, in the live form ('.../statement/Q2112-<uuid>'):
    a uuid5 of item, twin and how many identical rows came before, so a row repeated in
    the crawl (the same link stated twice) is two statements, as on Wikidata."""
    seen: Counter[tuple[str, str]] = Counter()
    uris = []
    for item, twin in relations:
        occurrence = seen[item, twin]
        seen[item, twin] += 1
        name = f"{item}\t{twin}\t{occurrence}"
        uris.append(f"{STATEMENT_PREFIX}{item}-{uuid.uuid5(STATEMENT_NAMESPACE, name)}")
    return uris


def bindings(relations: Sequence[tuple[str, str]]) -> list[dict[str, dict[str, str]]]:
    """One solution per directed row, as the twinning query answers a statement without
    dates or references (those optional variables unbound), in ?statement order."""
    solutions = [
        {
            "item": {"type": "uri", "value": ENTITY_PREFIX + item},
            "twin": {"type": "uri", "value": ENTITY_PREFIX + twin},
            "statement": {"type": "uri", "value": uri},
            "rank": {"type": "uri", "value": NORMAL_RANK},
        }
        for (item, twin), uri in zip(relations, statement_uris(relations), strict=True)
    ]
    return sorted(solutions, key=lambda s: s["statement"]["value"])


def sparql_pages(relations: Sequence[tuple[str, str]], page_size: int = PAGE_SIZE) -> list[bytes]:
    """The bodies wikidata.fetch_twinning would store: `page_size` statements a page (each
    statement one solution here), until a page holds fewer, so a total that is a multiple
    of the page size ends with an empty page, as the live fetch does."""
    if page_size < 1:
        raise ValueError(f"page_size must be at least 1, not {page_size}")
    solutions = bindings(relations)
    pages = []
    for offset in range(0, len(solutions) + 1, page_size):
        document = {
            "head": {"vars": VARIABLES},
            "results": {"bindings": solutions[offset : offset + page_size]},
        }
        pages.append(json.dumps(document, indent=2, ensure_ascii=False).encode("utf-8"))
        if len(solutions) - offset < page_size:
            break
    return pages


def places(crawl: Crawl, snapshot_id: str = SNAPSHOT_ID) -> pd.DataFrame:
    """wikidata_places as identify_items leaves them when no item is a GeoNames place:
    each QID its own city ('wd:<QID>', method wikidata_item, confidence 1.0), labelled from
    names.tsv (language unknown), with PLACEHOLDER_COUNTRY as a made-up country."""
    qids = sorted(crawl.qids, key=lambda q: int(q[1:]))
    frame = pd.DataFrame(
        {
            "qid": qids,
            "label": [crawl.names.get(q) for q in qids],
            "label_lang": None,
            "country_code": PLACEHOLDER_COUNTRY,
            "latitude": None,
            "longitude": None,
            "geonames_id": pd.array([None] * len(qids), dtype="Int64"),
            "population": pd.array([None] * len(qids), dtype="Int64"),
            "kinds": None,
            "city_id": [f"wd:{q}" for q in qids],
            "method": WIKIDATA_ITEM,
            "confidence": 1.0,
            "reason": None,
            "snapshot_id": snapshot_id,
        },
        columns=PLACE_COLUMNS,
    )
    return frame
