"""Match a source's city name (with its country, and admin1 when given) to one GeoNames place.

Exact matching only: a name equal to a place's name or ASCII name, else to one of its
alternate names, after case, accents and punctuation are folded. Two candidates are never
settled by a guess: the reference is reported ambiguous with its candidates.
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

import pandas as pd

_NOT_WORD = re.compile(r"[^\w]+")


def normalise_name(name: str) -> str:
    """'São Paulo' -> 'sao paulo'; 'Washington, D.C.' -> 'washington d c'."""
    decomposed = unicodedata.normalize("NFKD", name)
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(_NOT_WORD.sub(" ", stripped.casefold()).split())


@dataclass(frozen=True)
class Resolution:
    """The outcome for one reference: a geonames id, or why there is none."""

    geonames_id: int | None
    method: str  # 'exact', 'alternate_name', 'unresolved' or 'ambiguous'
    candidates: tuple[int, ...] = ()

    @property
    def city_id(self) -> str | None:
        return None if self.geonames_id is None else f"gn:{self.geonames_id}"


class NameIndex:
    """Normalised names -> GeoNames ids, per country, for the countries asked about."""

    def __init__(self, gazetteer: pd.DataFrame, countries: Iterable[str]) -> None:
        wanted = set(countries)
        places = gazetteer[gazetteer["country_code"].isin(wanted)]
        self.admin1: dict[int, str | None] = {}
        self.primary: dict[tuple[str, str], set[int]] = defaultdict(set)
        self.alternate: dict[tuple[str, str], set[int]] = defaultdict(set)
        for row in places.itertuples(index=False):
            geonames_id = int(row.geonames_id)
            country = str(row.country_code)
            self.admin1[geonames_id] = None if pd.isna(row.admin1_code) else str(row.admin1_code)
            for name in (row.name, row.ascii_name):
                if isinstance(name, str) and name:
                    self.primary[(country, normalise_name(name))].add(geonames_id)
            if isinstance(row.alternate_names, str):
                for name in row.alternate_names.split(","):
                    if name:
                        self.alternate[(country, normalise_name(name))].add(geonames_id)

    def resolve(self, name: str, country_code: str, admin1_code: str | None = None) -> Resolution:
        key = (country_code, normalise_name(name))
        seen: set[int] = set()
        for method, table in (("exact", self.primary), ("alternate_name", self.alternate)):
            found = table.get(key, set())
            if admin1_code:
                found = {i for i in found if self.admin1.get(i) == admin1_code}
            seen |= found
            if len(found) == 1:
                return Resolution(next(iter(found)), method, tuple(sorted(found)))
            if len(found) > 1:
                return Resolution(None, "ambiguous", tuple(sorted(found)))
        return Resolution(None, "unresolved", tuple(sorted(seen)))


def explain(resolution: Resolution, name: str, country_code: str, admin1: str | None) -> str:
    """A reason a person can act on, for rejected_rows."""
    where = f"{country_code}" + (f" (admin1 {admin1})" if admin1 else "")
    if resolution.method == "ambiguous":
        ids = ", ".join(f"gn:{i}" for i in resolution.candidates)
        return (
            f"{len(resolution.candidates)} GeoNames places named {name!r} in {where}: {ids}; "
            "give admin1_code to choose"
        )
    return f"no GeoNames place named {name!r} in {where}"
