"""The Wikidata fetch of a benchmark home: one response bundle in the live layout
(assets.sources.wikidata.fetch_bundle), made from the 2016 P190 crawl.

What a build reads of a fetch, and what is made up here:
- twinning: the solutions bench.wikidata.crawl makes (crawl.bindings: the same made-up
  statement ids and fake QIDs as its `scaled` copies), made one copy of the crawl at a time
  (crawl.sparql_pages holds all at once: gigabytes at 100 copies). Pages hold 10,000
  statements as the live fetch's do, each copy's in ?statement order, copy after copy (the
  live service orders all statements as one list; the parser reads pages in any order);
- 13,862 of the 34,182 statements of each copy link two items with a place (below); the
  build rejects the others, as linking an item that is no city;
- network_labels: the registry networks' lookup, answered with no solutions;
- countries: every country in GeoNames' countryInfo.txt with a MADE-UP item id
  (country_qid): there is no table of real country QIDs in ../shared/data, and a build only
  needs the id to be the same in an item's P17 and in this answer;
- entities: every linked item, 50 a response as ENTITY_BATCH, labelled from names.tsv (as
  English: the crawl does not say the label's language). An item whose label is exactly
  the name of a cities15000 place (the most populous of that name) gets P17 (its country's
  made-up item) and P1566 (the place's GeoNames id); copy k of the item names the place's
  copy k mod `places_copies` in the generated gazetteer, with that copy's id and marked
  name, so both sources agree. Other items get no claims: the build finds no country for
  them and rejects their statements, as it does any item without one.
No membership or class-label responses: the registry gives no network a QID, and items get
no P31.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from assets.sources.wikidata import (
    COUNTRIES_QUERY,
    ENTITY_BATCH,
    ENTITY_PREFIX,
    PAGE_SIZE,
    SELECTED,
    TWINNING_QUERY,
    NetworkRef,
    ResponseBundle,
    network_label_query,
)
from bench.build.names import copy_name
from bench.wikidata.crawl import VARIABLES, Crawl, bindings, fake_qid

# Made-up country item ids: Q900000001.. from the ISO code's letters. Above every real QID
# (about 1.3e8) and below copy 1 of the crawl (crawl.FAKE_OFFSET, 1e9).
COUNTRY_QID_BASE = 900_000_000


def country_qid(iso2: str) -> str:
    """The made-up item id of a country: 'AD' -> 'Q900000004'."""
    first, second = (ord(letter) - ord("A") for letter in iso2)
    return f"Q{COUNTRY_QID_BASE + 26 * first + second + 1}"


@dataclass(frozen=True)
class Place:
    """A real cities15000 place an item's label names."""

    geonames_id: int
    country_code: str


@dataclass(frozen=True)
class Written:
    """What went into a bundle: statements, items, and responses of each kind."""

    statements: int
    items: int
    responses: dict[str, int]


def add_responses(
    bundle: ResponseBundle,
    crawl: Crawl,
    factor: int,
    places: dict[str, Place],
    places_copies: int,
    id_offset: int,
    countries: Sequence[str],
    networks: Sequence[NetworkRef],
) -> Written:
    """Add every response of a fetch to `bundle`, in the order fetch_bundle adds them."""
    responses = dict.fromkeys(("twinning", "network_labels", "countries", "entities"), 0)
    statements = 0
    for offset, page in _pages(crawl, factor):
        query = TWINNING_QUERY.format(limit=PAGE_SIZE, offset=offset)
        bundle.add("twinning", query, _json({"head": {"vars": VARIABLES}, "results": page}))
        statements += len(page["bindings"])
        responses["twinning"] += 1
    if label_query := network_label_query(networks):
        empty = {"head": {"vars": list(SELECTED["network_labels"])}, "results": {"bindings": []}}
        bundle.add("network_labels", label_query, _json(empty))
        responses["network_labels"] += 1
    bundle.add("countries", COUNTRIES_QUERY, _json(_countries(countries)))
    responses["countries"] += 1
    items = 0
    batch: dict[str, Any] = {}
    for entity in _entities(crawl, factor, places, places_copies, id_offset):
        batch[entity["id"]] = entity
        if len(batch) == ENTITY_BATCH:
            bundle.add("entities", "|".join(batch), _json({"entities": batch, "success": 1}))
            items, batch = items + len(batch), {}
            responses["entities"] += 1
    if batch:
        bundle.add("entities", "|".join(batch), _json({"entities": batch, "success": 1}))
        items += len(batch)
        responses["entities"] += 1
    return Written(statements, items, responses)


def _json(document: object) -> bytes:
    """Compact UTF-8 JSON, as the API answers. The query service indents its answers, but
    indenting takes Python's slow encoder (minutes at 100 copies), and the parser reads
    either alike."""
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def _pages(crawl: Crawl, factor: int) -> Iterator[tuple[int, dict[str, list[Any]]]]:
    """(offset, results) of each twinning page, one copy of the crawl at a time (all of
    them at once would hold gigabytes at 100 copies); like crawl.sparql_pages, a total that
    is a multiple of the page size ends with an empty page."""
    page: list[Any] = []
    offset = 0
    for copy in range(factor):
        relations = [(fake_qid(a, copy), fake_qid(b, copy)) for a, b in crawl.relations]
        for solution in bindings(relations):
            page.append(solution)
            if len(page) == PAGE_SIZE:
                yield offset, {"bindings": page}
                offset, page = offset + PAGE_SIZE, []
    yield offset, {"bindings": page}


def _countries(codes: Sequence[str]) -> dict[str, Any]:
    rows = [
        {
            "country": {"type": "uri", "value": ENTITY_PREFIX + country_qid(code)},
            "iso2": {"type": "literal", "value": code},
        }
        for code in sorted(codes)
    ]
    return {"head": {"vars": list(SELECTED["countries"])}, "results": {"bindings": rows}}


def _entities(
    crawl: Crawl, factor: int, places: dict[str, Place], places_copies: int, id_offset: int
) -> Iterator[dict[str, Any]]:
    """Every item of every copy, by QID number as fetch_entities asks for them (copy k's
    QIDs all lie above copy k-1's)."""
    qids = sorted(crawl.qids, key=lambda q: int(q[1:]))
    for copy in range(factor):
        gazetteer_copy = copy % places_copies
        for qid in qids:
            item = fake_qid(qid, copy)
            label = crawl.names.get(qid)
            entity: dict[str, Any] = {"type": "item", "id": item, "labels": {}, "claims": {}}
            if label is not None:
                marked = copy_name(label, gazetteer_copy)
                entity["labels"]["en"] = {"language": "en", "value": marked}
            place = places.get(label) if label is not None else None
            if place is not None:
                geonames_id = place.geonames_id + gazetteer_copy * id_offset
                country = country_qid(place.country_code)
                entity["claims"] = {
                    "P17": [_claim(item, "P17", _item_value(country), "wikibase-item")],
                    "P1566": [_claim(item, "P1566", _string_value(geonames_id), "external-id")],
                }
            yield entity


def _claim(item: str, prop: str, datavalue: dict[str, Any], datatype: str) -> dict[str, Any]:
    return {
        "mainsnak": {
            "snaktype": "value",
            "property": prop,
            "datavalue": datavalue,
            "datatype": datatype,
        },
        "type": "statement",
        "id": f"{item}${prop}",
        "rank": "normal",
    }


def _item_value(qid: str) -> dict[str, Any]:
    value = {"entity-type": "item", "numeric-id": int(qid[1:]), "id": qid}
    return {"value": value, "type": "wikibase-entityid"}


def _string_value(number: int) -> dict[str, Any]:
    return {"value": str(number), "type": "string"}
