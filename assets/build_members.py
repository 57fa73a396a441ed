"""Memberships from dated member lists (network_members, eurocities_members).

Every stored list is read, oldest first. A city that the newest list of its network names
is a member; one that only older lists name has left: its membership stays, with
`left_year` the year of the first list that no longer names it (it had left by then).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
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
from assets.resolve import Resolver, normalise_country
from schemas.memberships import Memberships

CITY_COLUMNS = ("city_name", "country_code", "admin1_code")


@dataclass(frozen=True)
class Listed:
    """The memberships the lists give, and for memberships another source states already,
    the end the lists show (membership id -> left year and the citation saying so)."""

    built: Built
    ended: dict[str, tuple[int, str]]


def build_list_memberships(
    rows: pd.DataFrame,
    resolver: Resolver,
    networks: pd.DataFrame,
    existing: set[str] | None = None,
) -> Listed:
    """One membership per network and city the lists name (rows in
    network_members.MEMBER_COLUMNS plus source and snapshot_id, uniquely indexed).
    Unresolved cities, unknown networks, a city named twice in one list, an older list's
    joined_year that is no year, and memberships another source states already
    (`existing` membership ids) are rejected with reasons."""
    rejects, matches = Rejects(rows, "memberships"), Matches(rows, "memberships")
    # a list's date counts whatever becomes of its rows: its absentees have left
    dates = _list_dates(rows)
    frame = resolve_cities(rows, resolver, rejects, matches, CITY_COLUMNS, "city_id")
    unsettled = _unsettled_countries(rows, frame)
    unknown = frame.index[~frame["network_id"].isin(networks["network_id"])]
    reason = "network_id is not in networks"
    rejects.add(unknown, "foreign_key", reason, "network_id", frame.loc[unknown, "network_id"])
    frame = frame.drop(index=unknown)
    records, groups = [], []
    for (network, city), members in _by_membership(frame).items():
        named = _first_per_list(members, rejects)
        newest = named[-1][1]
        country = normalise_country(newest["country_code"])
        # the first newer list that surely leaves the city out: one with names in the
        # city's country the resolver could not settle may name it in a spelling it missed
        left = next(
            (
                d
                for d in dates[network]
                if d > newest["as_of"] and country not in unsettled.get((network, d), set())
            ),
            None,
        )
        citations = [m["citation"] for _, m in named if m["citation"]]
        if left:
            citations.append(f"not in the list as of {left}")
        kept = _valid_joined_years(named, rejects)
        records.append(
            {
                "index": named[-1][0],
                "membership_id": stable_id("mem", network, city),
                "network_id": network,
                "city_id": city,
                "role": newest["role"],
                "joined_year": _earliest(m["joined_year"] for _, m in kept),
                "left_year": left[:4] if left else None,
                "as_of_year": newest["as_of"][:4],
                "source_city_name": newest["city_name"],
                "source": newest["source"],
                "source_url": newest["source_url"],
                "citation": "; ".join(dict.fromkeys(citations)),
                "snapshot_id": newest["snapshot_id"],
            }
        )
        # newest first: the published row stands for the older lists' rows
        order = [index for index, _ in reversed(kept)]
        groups.append(Grouped(order, newest["source_row"]))
    columns = list(Memberships.to_schema().columns)
    table = (
        pd.DataFrame(records).set_index("index").rename_axis(None)
        if records
        else pd.DataFrame({c: pd.Series(dtype=object) for c in columns})
    )
    stated = table["membership_id"].isin(existing or set())
    ended = {
        row.membership_id: (int(row.left_year), row.citation)
        for row in table[stated & table["left_year"].notna()].itertuples(index=False)
    }
    known = (stated, "another source states this membership already")
    built = accept_grouped(table, groups, known, Memberships, "membership_id", rejects, matches)
    return Listed(built, ended)


def end_memberships(table: pd.DataFrame, ended: dict[str, tuple[int, str]]) -> pd.DataFrame:
    """Another source's memberships that a newer member list leaves out, ended: left_year
    from the list (where the row has none and it is not before joined_year), and the lists
    added to the citation."""
    table = table.copy()
    for membership_id, (left_year, citation) in ended.items():
        at = table.index[table["membership_id"] == membership_id]
        for i in at:
            joined = table.at[i, "joined_year"]
            if pd.notna(table.at[i, "left_year"]) or (pd.notna(joined) and joined > left_year):
                continue
            table.at[i, "left_year"] = left_year
            before = table.at[i, "citation"]
            table.at[i, "citation"] = "; ".join(
                c for c in (before if isinstance(before, str) else None, citation) if c
            )
    return table


def _unsettled_countries(
    rows: pd.DataFrame, resolved: pd.DataFrame
) -> dict[tuple[str, str], set[str | None]]:
    """For each (network, list date), the countries of the rows whose city the resolver
    could not settle."""
    failed = rows.drop(index=resolved.index)
    unsettled: dict[tuple[str, str], set[str | None]] = defaultdict(set)
    for network, as_of, country in zip(
        failed["network_id"], failed["as_of"], failed["country_code"], strict=True
    ):
        unsettled[(network, as_of)].add(normalise_country(country))
    return unsettled


def _valid_joined_years(named: list[tuple[Any, dict]], rejects: Rejects) -> list[tuple[Any, dict]]:
    """The rows whose joined_year, if any, is a year; an older list's row whose
    joined_year is not is rejected on its own (the newest row's is left to validation,
    which rejects the membership with the value it states)."""
    kept = []
    for position, (index, member) in enumerate(named):
        year = member["joined_year"]
        newest = position == len(named) - 1
        if year is None or str(year).isdigit() or newest:
            kept.append((index, member))
            continue
        reason = (
            f"joined_year {year!r} is no year; the membership is published from "
            f"{named[-1][1]['source_row']}"
        )
        rejects.add(pd.Index([index]), "not_a_year", reason, "joined_year", str(year))
    return kept


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
