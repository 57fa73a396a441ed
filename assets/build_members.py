"""Memberships from dated member lists (network_members, eurocities_members).

Every stored list is read, oldest first. A city that the newest list of its network names
is a member; one that only older lists name has left: its membership stays, with
`left_year` the year of the first list that no longer names it (it had left by then).
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import pandas as pd

from assets.build import (
    Built,
    Grouped,
    Matches,
    Rejects,
    accept_grouped,
    resolve_cities,
    stable_id,
)
from assets.resolve import Resolver
from schemas.memberships import Memberships

CITY_COLUMNS = ("city_name", "country_code", "admin1_code")


def build_list_memberships(
    rows: pd.DataFrame,
    resolver: Resolver,
    networks: pd.DataFrame,
    existing: set[str] | None = None,
) -> Built:
    """One membership per network and city the lists name (rows in
    network_members.MEMBER_COLUMNS plus source and snapshot_id, uniquely indexed).
    Unresolved cities, unknown networks, a city named twice in one list and memberships
    another source states already (`existing` membership ids) are rejected with reasons."""
    rejects, matches = Rejects(rows, "memberships"), Matches(rows, "memberships")
    # a list's date counts whatever becomes of its rows: its absentees have left
    dates = _list_dates(rows)
    frame = resolve_cities(rows, resolver, rejects, matches, CITY_COLUMNS, "city_id")
    unknown = frame.index[~frame["network_id"].isin(networks["network_id"])]
    reason = "network_id is not in networks"
    rejects.add(unknown, "foreign_key", reason, "network_id", frame.loc[unknown, "network_id"])
    frame = frame.drop(index=unknown)
    records, groups = [], []
    for (network, city), members in _by_membership(frame).items():
        named = _first_per_list(members, rejects)
        newest = named[-1][1]
        later = [d for d in dates[network] if d > newest["as_of"]]
        citations = [m["citation"] for _, m in named if m["citation"]]
        if later:
            citations.append(f"not in the list as of {later[0]}")
        records.append(
            {
                "index": named[-1][0],
                "membership_id": stable_id("mem", network, city),
                "network_id": network,
                "city_id": city,
                "role": newest["role"],
                "joined_year": _earliest(m["joined_year"] for _, m in named),
                "left_year": later[0][:4] if later else None,
                "as_of_year": newest["as_of"][:4],
                "source_city_name": newest["city_name"],
                "source": newest["source"],
                "source_url": newest["source_url"],
                "citation": "; ".join(dict.fromkeys(citations)),
                "snapshot_id": newest["snapshot_id"],
            }
        )
        # newest first: the published row stands for the older lists' rows
        order = [index for index, _ in reversed(named)]
        groups.append(Grouped(order, newest["source_row"]))
    columns = list(Memberships.to_schema().columns)
    table = (
        pd.DataFrame(records).set_index("index").rename_axis(None)
        if records
        else pd.DataFrame({c: pd.Series(dtype=object) for c in columns})
    )
    stated = "another source states this membership already"
    known = (table["membership_id"].isin(existing or set()), stated)
    return accept_grouped(table, groups, known, Memberships, "membership_id", rejects, matches)


def _list_dates(rows: pd.DataFrame) -> dict[str, list[str]]:
    """The dates of each network's lists, oldest first."""
    dates: dict[str, set[str]] = defaultdict(set)
    for network, as_of in zip(rows["network_id"], rows["as_of"], strict=True):
        dates[network].add(as_of)
    return {network: sorted(found) for network, found in dates.items()}


def _by_membership(frame: pd.DataFrame) -> dict[tuple[str, str], list[tuple[Any, dict]]]:
    """The rows naming each (network, city), oldest list first, in plain Python."""
    records = frame.astype(object).where(frame.notna(), None).to_dict("records")
    groups: dict[tuple[str, str], list[tuple[Any, dict]]] = defaultdict(list)
    for index, record in zip(frame.index, records, strict=True):
        groups[(record["network_id"], record["city_id"])].append((index, record))
    for members in groups.values():
        members.sort(key=lambda member: (member[1]["as_of"], member[1]["snapshot_id"]))
    return dict(sorted(groups.items()))


def _first_per_list(members: list[tuple[Any, dict]], rejects: Rejects) -> list[tuple[Any, dict]]:
    """One row per list naming the city; a second row of the same list that names the
    same city (another spelling of it) is rejected as a duplicate of the first."""
    first: dict[str, tuple[Any, dict]] = {}
    for index, member in members:
        if member["snapshot_id"] in first:
            earlier = first[member["snapshot_id"]][1]
            reason = (
                f"the list names this city already at {earlier['source_row']} "
                f"({earlier['city_name']!r})"
            )
            rejects.add(pd.Index([index]), "duplicate", reason, "city_name", member["city_name"])
        else:
            first[member["snapshot_id"]] = (index, member)
    return list(first.values())


def _earliest(years: Any) -> object:
    """The earliest joined year any list states; text that is no year is kept, for
    validation to reject."""
    stated = [y for y in years if y is not None]
    numbers = [int(y) for y in stated if str(y).isdigit()]
    if len(numbers) < len(stated):
        return next(y for y in stated if not str(y).isdigit())
    return min(numbers) if numbers else None
