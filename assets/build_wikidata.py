"""Pure functions that turn Wikidata's items and twinning statements into rows of the core
tables: the city each item is (a GeoNames place, or the item itself) and one agreement per
pair of cities, with every supporting statement cited.

Kept apart from assets/build.py because Wikidata states agreements as many directed
statements about items, where the other sources state one row per agreement.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from typing import Any

import pandas as pd

from assets.build import (
    MATCH_COLUMNS,
    Built,
    Matches,
    Rejects,
    accept,
    empty_matches,
    stable_id,
)
from assets.resolve import Resolver
from assets.sources.wikidata import ITEM_COLUMNS, ITEM_URL, SOURCE
from schemas.agreements import Agreements
from schemas.codes import WIKIDATA_ITEM
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
        resolution = resolver.resolve(
            item.label,
            country,
            None,
            _number(item.latitude),
            _number(item.longitude),
            None if pd.isna(item.geonames_id) else int(item.geonames_id),
            None if pd.isna(item.population) else int(item.population),
        )
        record = {
            "city_id": resolution.city_id,
            "method": resolution.method,
            "confidence": resolution.confidence if resolution.city_id else None,
            "reason": resolution.reason,
        }
        if resolution.city_id is None and country is not None:
            record.update(city_id=f"wd:{item.qid}", method=WIKIDATA_ITEM, confidence=1.0)
        elif country is None and resolution.city_id is None:
            stated = f" ({given!r} is no GeoNames country)" if given else ""
            record["reason"] = f"Wikidata item {item.qid} has no country (P17){stated}"
        records.append({**item._asdict(), **record})
        found.append(
            {
                "source": SOURCE.slug,
                "snapshot_id": item.snapshot_id,
                "source_table": "wikidata_items",
                "source_id": item.qid,
                "wikidata_qid": item.qid,
                "source_name": item.label,
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


def _number(value: object) -> float | None:
    return None if value is None or pd.isna(value) else float(value)  # type: ignore[arg-type]


def build_agreements(
    statements: pd.DataFrame,
    places: pd.DataFrame,
    this_year: int,
    existing: set[str] | None = None,
) -> Built:
    """One 'twinning' agreement per pair of cities that P190 statements (rows of
    wikidata.statements_frame plus their snapshot_id) link, citing every
    statement. Deprecated statements, statements whose item is no city, self-pairs and
    pairs another source already states with the same kind are rejected with the reason.

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
    table = _pairs(frame, by_qid["label"], this_year)
    table["agreement_id"] = [
        stable_id("agr", a, b, TWINNING)
        for a, b in zip(table["city_a_id"], table["city_b_id"], strict=True)
    ]
    known = table.index[table["agreement_id"].isin(existing or set())]
    rejects.add(
        known,
        "duplicate",
        "another source states this pair and kind already",
        "agreement_id",
        table.loc[known, "agreement_id"],
    )
    return accept(table.drop(index=known), Agreements, "agreement_id", rejects, matches)


def _current(rows: pd.DataFrame, rejects: Rejects) -> pd.DataFrame:
    """The statements Wikidata does not mark deprecated; the others are rejected."""
    deprecated = rows.index[rows["rank"] == "deprecated"]
    reason = "Wikidata marks the statement deprecated"
    rejects.add(deprecated, "deprecated_statement", reason, "rank", "deprecated")
    return rows.drop(index=deprecated)


def _as_cities(
    frame: pd.DataFrame, by_qid: pd.DataFrame, rejects: Rejects, column: str, city_column: str
) -> pd.DataFrame:
    """`city_column` set to the city of the item in `column`; rows whose item is no city
    are rejected with the item's reason."""
    city = frame[column].map(by_qid["city_id"])
    missing = frame.index[city.isna()]
    reasons = frame.loc[missing, column].map(
        lambda q: by_qid["reason"].get(q) or f"Wikidata item {q} was not fetched"
    )
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
                "citation": "Wikidata P463 statements "
                + "; ".join(s["statement_id"] for s in statements),
                "snapshot_id": first["snapshot_id"],
            }
        )
    table = (
        pd.DataFrame(records).set_index("index").rename_axis(None)
        if records
        else pd.DataFrame({c: pd.Series(dtype=object) for c in Memberships.to_schema().columns})
    )
    known = table.index[table["membership_id"].isin(existing or set())]
    rejects.add(
        known,
        "duplicate",
        "another source states this membership already",
        "membership_id",
        table.loc[known, "membership_id"],
    )
    return accept(table.drop(index=known), Memberships, "membership_id", rejects, matches)


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
    fetch found that item) or 'not_found'; for a network without a confirmed QID, each
    item named like it ('candidate'), or 'no_candidate'. Without a stored fetch nothing
    can be confirmed: every network is 'not_checked'."""
    labels = network_items.set_index("qid")["label"] if len(network_items) else pd.Series()
    rows = []
    for network in registry.itertuples(index=False):
        given = network.wikidata_qid if isinstance(network.wikidata_qid, str) else None
        base = {
            "network_id": network.network_id,
            "network_name": network.name,
            "registry_qid": given,
            "snapshot_id": snapshot_id,
        }
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


def _pairs(frame: pd.DataFrame, labels: pd.Series, this_year: int) -> pd.DataFrame:
    """One row per unordered city pair, indexed by its first statement's row."""
    names = _labels(labels)
    groups = _statement_groups(
        frame, lambda s: (min(s["city_a_id"], s["city_b_id"]), max(s["city_a_id"], s["city_b_id"]))
    )
    rows = []
    for (a, b), members in groups.items():
        statements = [s for _, s in members]
        first = statements[0]
        directions = {(s["city_a_id"], s["city_b_id"]) for s in statements}
        dated = [s for s in statements if s["start_year"] is not None]
        start = min(dated, key=lambda s: (s["start_year"], s["statement_id"])) if dated else None
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
                "citation": "Wikidata P190 statements "
                + "; ".join(s["statement_id"] for s in statements),
                "snapshot_id": first["snapshot_id"],
            }
        )
    if not rows:
        columns = [c for c in Agreements.to_schema().columns if c != "agreement_id"]
        return pd.DataFrame({c: pd.Series(dtype=object) for c in columns})
    return pd.DataFrame(rows).set_index("index").rename_axis(None)


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
