"""Licence-aware editions of a release.

The **open** edition (the default) holds only rows of sources whose terms allow
redistribution. The **full** edition holds every row, restricted sources' too, and is
marked as not for redistribution. Restricted rows still help the build (resolving cities,
the crosswalk) of both; the open edition simply leaves them, and every city only they
name, out.
"""

from __future__ import annotations

import pandas as pd

from assets.build import city_references
from assets.sources.catalog import RESTRICTED

OPEN, FULL = "open", "full"
EDITIONS = (OPEN, FULL)
NOT_FOR_REDISTRIBUTION = (
    "NOT FOR REDISTRIBUTION: this full edition holds rows of sources whose terms restrict "
    "republishing ({sources}). Use it internally; publish the open edition."
)


def _rows_where(frame: pd.DataFrame, keep: pd.Series) -> pd.DataFrame:
    """frame[keep], numbered from 0; the frame itself when it keeps every row, since a copy
    of a large table would sit beside it in memory while the release is written."""
    if keep.all() and frame.index.equals(pd.RangeIndex(len(frame))):
        return frame
    return frame[keep].reset_index(drop=True)


def open_edition(tables: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """The tables without a row of a restricted source, and without the cities only such
    rows named (a city's presence would tell what the restricted source covers)."""
    kept = {
        name: (
            _rows_where(frame, ~frame["source"].isin(RESTRICTED))
            if "source" in frame.columns and name != "cities"
            else frame
        )
        for name, frame in tables.items()
    }
    used = pd.concat(
        [
            ids.dropna()
            for ids in city_references(
                kept["networks"],
                kept["memberships"],
                kept["agreements"],
                kept["commitments"],
                kept["assessments"],
                kept["city_emissions"],
                kept["city_ids"],
            )
        ]
    )
    cities = tables["cities"]
    kept["cities"] = _rows_where(cities, cities["city_id"].isin(set(used)))
    return kept


def attribution(sources: pd.DataFrame, edition: str) -> str:
    """The ATTRIBUTION file: every source of the edition with its licence and the wording
    its publisher asks for, reproduced exactly, and the files the release was built from."""
    lines = ["# Attribution", ""]
    restricted = sorted(set(sources["source"]) & RESTRICTED)
    if edition == FULL and restricted:
        lines += [NOT_FOR_REDISTRIBUTION.format(sources=", ".join(restricted)), ""]
    lines += [f"Edition: {edition}. Sources this release was built from:", ""]
    for slug, files in sources.groupby("source", sort=True):
        first = files.iloc[0]
        lines += [
            f"## {slug}",
            "",
            f"Publisher: {first['publisher']}",
            f"Licence: {first['licence']}",
            f"Attribution: {first['attribution']}",
            "Files: "
            + ", ".join(
                f"{f.file_name} (sha256 {f.sha256[:12]})" for f in files.itertuples(index=False)
            ),
            "",
        ]
    return "\n".join(lines)
