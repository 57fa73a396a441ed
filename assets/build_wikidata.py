"""Pure functions that turn Wikidata's items and twinning statements into rows of the core
tables: the city each item is (a GeoNames place, or the item itself) and one agreement per
pair of cities, with every supporting statement cited.

Kept apart from assets/build.py because Wikidata states agreements as many directed
statements about items, where the other sources state one row per agreement.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd

from assets.build import (
    MATCH_COLUMNS,
    Built,
    Grouped,
    Matches,
    Rejects,
    accept_grouped,
    empty_matches,
    stable_id,
)
from assets.resolve import Resolution, Resolver
from assets.sources import number
from assets.sources.wikidata import ITEM_COLUMNS, ITEM_URL, SOURCE
from schemas.agreements import Agreements
from schemas.codes import WIKIDATA_ITEM, WIKIDATA_QID_PATTERN
from schemas.memberships import Memberships
from schemas.network_qid_review import NetworkQidReview

PLACE_COLUMNS = [*ITEM_COLUMNS, "city_id", "method", "confidence", "reason", "snapshot_id"]
TWINNING = "twinning"


def no_places() -> pd.DataFrame:
    """identify_items' places for a build without Wikidata."""
    return pd.DataFrame({c: pd.Series(dtype=object) for c in PLACE_COLUMNS})


def identify_items(
    items: pd.DataFrame, resolver: Resolver, countries: set[str]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The city each item (a row of wikidata.items_frame plus its snapshot_id) is, as
    (places, matches).

    In order: the GeoNames place its P1566 names, when the gazetteer has it; else the
    place the resolver finds from its label, country, point and population; else, when
    the item has a country GeoNames knows, the item itself ('wd:Q...', method
    wikidata_item), with the resolver's reason kept. An item without such a country is
    no city: its statements are rejected with the reason.
    """
    records, found = [], []
    for item in items.itertuples(index=False):
        given = None if pd.isna(item.country_code) else str(item.country_code)
        country = given if given in countries else None
        label = item.label if isinstance(item.label, str) else None
        resolution = resolver.resolve(
            label,
            country,
            None,
            number(item.latitude),
            number(item.longitude),
            None if pd.isna(item.geonames_id) else int(item.geonames_id),
            None if pd.isna(item.population) else int(item.population),
        )
        if resolution.method == "coordinates":
            # no name matched: the place nearest an item's point is no evidence (a region's
            # point lies near some village), so the item stays itself
            reason = f"no GeoNames place of the name; gn:{resolution.geonames_id} lies near"
            resolution = Resolution(None, "unresolved", reason=reason)
        record = {
            "city_id": resolution.city_id,
            "method": resolution.method,
            "confidence": resolution.confidence if resolution.city_id else None,
            "reason": resolution.reason,
        }
        if resolution.city_id is None and country is not None:
            record.update(city_id=f"wd:{item.qid}", method=WIKIDATA_ITEM, confidence=1.0)
        elif country is None and resolution.city_id is None:
            if given:
                why = f"its country's ISO code {given!r} is no GeoNames country"
            else:
                why = "it has no country (P17) with an ISO 3166-1 code (P297)"
            record["reason"] = f"Wikidata item {item.qid} is no city: {why}"
        records.append({**item._asdict(), **record})
        found.append(
            {
                "source": SOURCE.slug,
                "snapshot_id": item.snapshot_id,
                "source_table": "wikidata_items",
                "source_id": item.qid,
                "wikidata_qid": item.qid,
                "source_name": label or item.qid,
                "source_country": given,
                "source_admin1": None,
                **record,
                "runner_up_id": f"gn:{resolution.runner_up}" if resolution.runner_up else None,
                "candidate_ids": ", ".join(f"gn:{i}" for i in resolution.candidates[:10]) or None,
            }
        )
    places = pd.DataFrame(records, columns=PLACE_COLUMNS)
    matches = pd.DataFrame(found, columns=MATCH_COLUMNS) if found else empty_matches()
    return places, matches


def fetch_year(statements: pd.DataFrame) -> int:
    """The year the statements were fetched, from their snapshot id ('20261122T...'), so
    that rebuilding the same snapshot in another year says the same about which
    agreements have ended; the current year without statements."""
    ids = statements["snapshot_id"].dropna()
    stamp = str(ids.iloc[0]) if len(ids) else ""
    return int(stamp[:4]) if stamp[:4].isdigit() else datetime.now(UTC).year


TWINNED_KINDS = ("twinning", "sister_city")  # what P190 states, under either name


def build_agreements(
    statements: pd.DataFrame,
    places: pd.DataFrame,
    this_year: int,
    existing: set[tuple[str, str]] | None = None,
) -> Built:
    """One 'twinning' agreement per pair of cities that P190 statements (rows of
    wikidata.statements_frame plus their snapshot_id) link, citing every statement.
    Deprecated statements, statements whose item is no city, self-pairs and pairs
    another source already states as twinned (`existing`: (city_a_id, city_b_id) of its
    twinning and sister_city rows) are rejected with the reason; so is every statement
    of a pair whose row is rejected.

    is_reciprocal: both cities' items state the link. start_year: the earliest stated
    (start_date only when that statement gives the day). end_year: the latest stated end;
    status 'ended' once that year has come, else null (Wikidata does not say an agreement
    is active)."""
    rows = statements.assign(source=SOURCE.slug)
    rejects, matches = Rejects(rows, "agreements"), Matches(rows, "agreements")
    frame = _current(rows, rejects)
    by_qid = places.set_index("qid")
    frame = _as_cities(frame, by_qid, rejects, "subject_qid", "city_a_id")
    frame = _as_cities(frame, by_qid, rejects, "object_qid", "city_b_id")
    same = frame.index[frame["city_a_id"] == frame["city_b_id"]]
    rejects.add(
        same, "self_pair", "both items are the same city", "city_a_id", frame.loc[same, "city_a_id"]
    )
    frame = frame.drop(index=same)
    a, b = frame["city_a_id"], frame["city_b_id"]
    keys = pd.DataFrame({"first": a.where(a < b, b), "second": b.where(a < b, a)})
    names = _labels(by_qid["label"])
    tables, grouped = [], []
    for groups in _statement_chunks(frame, keys, _pair_of):
        tables.append(_pairs(groups, names, this_year))
        grouped.extend(_as_rows(groups))
    table = pd.concat(tables) if len(tables) > 1 else tables[0]
    table["agreement_id"] = [
        stable_id("agr", a, b, TWINNING)
        for a, b in zip(table["city_a_id"], table["city_b_id"], strict=True)
    ]
    pairs = pd.Series(list(zip(table["city_a_id"], table["city_b_id"], strict=True)), table.index)
    stated = "another source states this pair already, as a twinning or sister-city agreement"
    known = (pairs.isin(existing or set()), stated)
    return accept_grouped(table, grouped, known, Agreements, "agreement_id", rejects, matches)


def _current(rows: pd.DataFrame, rejects: Rejects) -> pd.DataFrame:
    """The statements Wikidata does not mark deprecated and whose value is an item; the
    others are rejected with the reason."""
    deprecated = rows.index[rows["rank"] == "deprecated"]
    reason = "Wikidata marks the statement deprecated"
    rejects.add(deprecated, "deprecated_statement", reason, "rank", "deprecated")
    rows = rows.drop(index=deprecated)
    no_item = rows.index[~rows["object_qid"].astype(str).str.fullmatch(r"Q[1-9][0-9]*")]
    reason = "the statement's value is no item (Wikidata's 'unknown value')"
    rejects.add(no_item, "not_an_item", reason, "object_qid", rows.loc[no_item, "object_qid"])
    return rows.drop(index=no_item)


def _as_cities(
    frame: pd.DataFrame, by_qid: pd.DataFrame, rejects: Rejects, column: str, city_column: str
) -> pd.DataFrame:
    """`city_column` set to the city of the item in `column`; rows whose item is no city
    are rejected with the item's reason."""
    city = frame[column].map(by_qid["city_id"])
    missing = frame.index[city.isna()]
    items = frame.loc[missing, column]
    # one lookup of the whole column, not one per row (a million rows at 100 copies)
    reasons = items.map(by_qid["reason"]).astype(object)
    unknown = reasons.isna() | (reasons == "")
    reasons[unknown] = [f"Wikidata item {q} was not fetched" for q in items[unknown]]
    rejects.add(missing, "city_unresolved", reasons, column, frame.loc[missing, column])
    return frame.drop(index=missing).assign(**{city_column: city.drop(index=missing)})


def build_memberships(
    statements: pd.DataFrame,
    places: pd.DataFrame,
    networks: pd.DataFrame,
    existing: set[str] | None = None,
) -> Built:
    """One membership per network and city that P463 statements (rows of
    wikidata.memberships_frame plus snapshot_id) state, citing every statement: joined_year
    the earliest start, left_year the latest end. The network is the one whose confirmed
    wikidata_qid the statement names. Deprecated statements, members that are no city and
    memberships another source already states are rejected with the reason."""
    rows = statements.assign(source=SOURCE.slug)
    rejects, matches = Rejects(rows, "memberships"), Matches(rows, "memberships")
    frame = _current(rows, rejects)
    by_qid = places.set_index("qid")
    frame = _as_cities(frame, by_qid, rejects, "subject_qid", "city_id")
    confirmed = networks.dropna(subset=["wikidata_qid"]).set_index("wikidata_qid")["network_id"]
    frame = frame.assign(network_id=frame["object_qid"].map(confirmed))
    unknown = frame.index[frame["network_id"].isna()]
    reason = "the network's QID is no registry network's confirmed wikidata_qid"
    rejects.add(unknown, "foreign_key", reason, "object_qid", frame.loc[unknown, "object_qid"])
    frame = frame.drop(index=unknown)
    names = _labels(by_qid["label"])
    records = []
    groups = _statement_groups(frame, lambda s: (s["network_id"], s["city_id"]))
    for (network, city), members in groups.items():
        statements = [s for _, s in members]
        first = statements[0]
        starts = [s["start_year"] for s in statements if s["start_year"] is not None]
        ends = [s["end_year"] for s in statements if s["end_year"] is not None]
        records.append(
            {
                "index": members[0][0],
                "membership_id": stable_id("mem", network, city),
                "network_id": network,
                "city_id": city,
                "role": "member",
                "joined_year": int(min(starts)) if starts else None,
                "left_year": int(max(ends)) if ends else None,
                "as_of_year": None,
                "source_city_name": names.get(first["subject_qid"]) or first["subject_qid"],
                "source": SOURCE.slug,
                "source_url": ITEM_URL + str(first["subject_qid"]),
                "citation": _citation("P463", statements),
                "snapshot_id": first["snapshot_id"],
            }
        )
    table = (
        pd.DataFrame(records).set_index("index").rename_axis(None)
        if records
        else pd.DataFrame({c: pd.Series(dtype=object) for c in Memberships.to_schema().columns})
    )
    stated = "another source states this membership already"
    known = (table["membership_id"].isin(existing or set()), stated)
    return accept_grouped(
        table, _as_rows(groups), known, Memberships, "membership_id", rejects, matches
    )


REVIEW_COLUMNS = [
    "network_id",
    "network_name",
    "registry_qid",
    "finding",
    "qid",
    "label",
    "description",
    "matched_name",
    "snapshot_id",
]


def review_network_qids(
    registry: pd.DataFrame,
    network_items: pd.DataFrame,
    candidates: pd.DataFrame,
    snapshot_id: str | None,
) -> pd.DataFrame:
    """For a curator, one or more rows per registry network: its QID 'confirmed' (the
    fetch found that item) or 'not_found'; 'invalid_qid' for a value that is no QID and
    'shared_qid' for one two networks give (neither is confirmed); for a network without
    a confirmed QID, each item named like it ('candidate'), or 'no_candidate'. Without a
    stored fetch nothing can be confirmed: 'not_checked'."""
    labels = network_items.set_index("qid")["label"] if len(network_items) else pd.Series()
    given_qids = registry["wikidata_qid"].dropna()
    shared = set(given_qids[given_qids.duplicated(keep=False)])
    rows = []
    for network in registry.itertuples(index=False):
        given = network.wikidata_qid if isinstance(network.wikidata_qid, str) else None
        base = {
            "network_id": network.network_id,
            "network_name": network.name,
            "registry_qid": given,
            "snapshot_id": snapshot_id,
        }
        if given is not None and not re.fullmatch(WIKIDATA_QID_PATTERN, given):
            rows.append({**base, "finding": "invalid_qid"})
            given = None
        elif given in shared:
            rows.append({**base, "finding": "shared_qid", "qid": given})
            given = None
        if snapshot_id is None:
            rows.append({**base, "finding": "not_checked"})
            continue
        if given is not None and given in labels.index:
            rows.append({**base, "finding": "confirmed", "qid": given, "label": labels[given]})
            continue
        if given is not None:
            rows.append({**base, "finding": "not_found", "qid": given})
        found = candidates[candidates["network_id"] == network.network_id]
        for candidate in found.itertuples(index=False):
            rows.append(
                {
                    **base,
                    "finding": "candidate",
                    "qid": candidate.qid,
                    "label": candidate.label,
                    "description": candidate.description,
                    "matched_name": candidate.matched_name,
                }
            )
        if found.empty:
            rows.append({**base, "finding": "no_candidate"})
    return NetworkQidReview.validate(pd.DataFrame(rows, columns=REVIEW_COLUMNS))


def confirmed_qids(review: pd.DataFrame) -> dict[str, str]:
    """network_id -> the registry QID the fetch confirmed."""
    confirmed = review[review["finding"] == "confirmed"]
    return dict(zip(confirmed["network_id"], confirmed["qid"], strict=True))


Statement = dict[str, Any]


def _labels(labels: pd.Series) -> dict[str, str]:
    """QID -> label, leaving out items without one (their QID stands in for the name)."""
    return {qid: label for qid, label in labels.items() if isinstance(label, str)}


def _statement_groups(
    frame: pd.DataFrame, key: Callable[[Statement], tuple[str, str]]
) -> dict[tuple[str, str], list[tuple[Any, Statement]]]:
    """The statements of each key, as (row index, fields) in statement-id order, in plain
    Python: tens of thousands of small pandas groups would cost minutes."""
    records = frame.astype(object).where(frame.notna(), None).to_dict("records")
    groups: dict[tuple[str, str], list[tuple[Any, Statement]]] = defaultdict(list)
    for index, record in zip(frame.index, records, strict=True):
        groups[key(record)].append((index, record))
    for members in groups.values():
        members.sort(key=lambda member: member[1]["statement_id"])
    return dict(sorted(groups.items()))


# Statements turned into dicts at once, at most (about a group more): a dict per statement
# of millions held gigabytes.
CHUNK_STATEMENTS = 100_000


def _statement_chunks(
    frame: pd.DataFrame, keys: pd.DataFrame, key: Callable[[Statement], tuple[str, str]]
) -> Iterator[dict[tuple[str, str], list[tuple[Any, Statement]]]]:
    """_statement_groups(frame, key), about CHUNK_STATEMENTS statements at a time: every
    group whole and in one chunk, the groups in key order across chunks. `keys` holds each
    row's key as two columns, 'first' and 'second' (what `key` gives), to sort by. An
    empty frame gives one empty chunk."""
    order = keys.assign(statement_id=frame["statement_id"]).sort_values(
        ["first", "second", "statement_id"], kind="stable"
    )
    starts = np.flatnonzero(~order.duplicated(subset=["first", "second"]).to_numpy())
    start = 0
    while True:
        later = starts[starts >= start + CHUNK_STATEMENTS]
        end = int(later[0]) if len(later) else len(order)
        yield _statement_groups(frame.loc[order.index[start:end]], key)
        if end >= len(order):
            return
        start = end


def _pair_of(statement: Statement) -> tuple[str, str]:
    """The unordered pair of cities a statement links, as (lower id, higher id)."""
    a, b = statement["city_a_id"], statement["city_b_id"]
    return (a, b) if a < b else (b, a)


def _as_rows(groups: dict[tuple[str, str], list[tuple[Any, Statement]]]) -> list[Grouped]:
    """Each group's row indexes, first statement first, with how to name that statement."""
    return [
        Grouped([index for index, _ in members], f"statement {members[0][1]['statement_id']}")
        for members in groups.values()
    ]


def _pairs(
    groups: dict[tuple[str, str], list[tuple[Any, Statement]]],
    names: dict[str, str],
    this_year: int,
) -> pd.DataFrame:
    """One row per unordered city pair, indexed by its first statement's row."""
    rows = []
    for (a, b), members in groups.items():
        statements = [s for _, s in members]
        first = statements[0]
        directions = {(s["city_a_id"], s["city_b_id"]) for s in statements}
        dated = [s for s in statements if s["start_year"] is not None]
        start = min(dated, key=_earliest) if dated else None
        ends = [s["end_year"] for s in statements if s["end_year"] is not None]
        end_year = int(max(ends)) if ends else None
        a_side, b_side = first["subject_qid"], first["object_qid"]
        if first["city_a_id"] != a:
            a_side, b_side = b_side, a_side
        rows.append(
            {
                "index": members[0][0],
                "city_a_id": a,
                "city_b_id": b,
                "kind": TWINNING,
                "start_year": None if start is None else int(start["start_year"]),
                "start_date": None if start is None else start["start_date"],
                "end_year": end_year,
                "is_reciprocal": len(directions) == 2,
                "status": "ended" if end_year is not None and end_year <= this_year else None,
                "stated_text": _stated(statements, names),
                "city_a_source_name": names.get(a_side) or a_side,
                "city_b_source_name": names.get(b_side) or b_side,
                "source": SOURCE.slug,
                "source_url": ITEM_URL + str(first["subject_qid"]),
                "citation": _citation("P190", statements),
                "snapshot_id": first["snapshot_id"],
            }
        )
    if not rows:
        columns = [c for c in Agreements.to_schema().columns if c != "agreement_id"]
        return pd.DataFrame({c: pd.Series(dtype=object) for c in columns})
    return pd.DataFrame(rows).set_index("index").rename_axis(None)


def _earliest(statement: Statement) -> tuple[int, bool, str]:
    """Sort key for the earliest start; of statements giving that year, one giving the day."""
    return statement["start_year"], statement["start_date"] is None, statement["statement_id"]


def _citation(prop: str, statements: list[Statement]) -> str:
    """'Wikidata P190 statements Q1$...; Q2$...; references: https://...': every statement
    behind a row, and the reference URLs they give."""
    text = f"Wikidata {prop} statements " + "; ".join(s["statement_id"] for s in statements)
    urls = sorted({u for s in statements for u in (s["reference_urls"] or "").split()})
    return text + (f"; references: {' '.join(urls)}" if urls else "")


def _stated(statements: list[Statement], names: dict[str, Any]) -> str:
    """'Bielefeld (Q2112) twinned with Rochdale (Q474605) from 1953; ...', per statement."""

    def named(qid: str) -> str:
        label = names.get(qid)
        return f"{label} ({qid})" if isinstance(label, str) else qid

    parts = []
    for statement in statements:
        text = f"{named(statement['subject_qid'])} twinned with {named(statement['object_qid'])}"
        if statement["start_year"] is not None:
            text += f" from {statement['start_date'] or int(statement['start_year'])}"
        if statement["end_year"] is not None:
            text += f" until {int(statement['end_year'])}"
        parts.append(text)
    return "Wikidata: " + "; ".join(parts)
