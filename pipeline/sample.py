"""The sample release: the same tables cut down to a few countries, small enough for a
downstream project's CI, and consistent: every id a sample row refers to is in the sample."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pandas as pd

from assets.resolve import normalise_country

SAMPLE_FOLDER = "sample"
# Countries with networks, agreements and commitments in every edition so far.
SAMPLE_COUNTRIES = ("DE", "FR", "GB", "US")
CITY_TABLES = ("memberships", "commitments", "assessments", "city_emissions", "city_ids")


def sample_tables(
    tables: Mapping[str, pd.DataFrame], countries: Sequence[str] = SAMPLE_COUNTRIES
) -> dict[str, pd.DataFrame]:
    """Cities of `countries` (plus any network's headquarters city, so every network
    stays), the rows about those cities, agreements with both cities inside, unresolved
    names from those countries (however the source spells the country); networks,
    sources, the review list and rejected rows whole (they name no city, or are the
    provenance every row joins to)."""
    cities = tables["cities"]
    headquarters = set(tables["networks"]["hq_city_id"].dropna())
    keep = cities["country_code"].isin(countries) | cities["city_id"].isin(headquarters)
    kept = set(cities.loc[keep, "city_id"])
    sample = dict(tables)
    sample["cities"] = cities[keep]
    for name in CITY_TABLES:
        sample[name] = tables[name][tables[name]["city_id"].isin(kept)]
    agreements = tables["agreements"]
    sample["agreements"] = agreements[
        agreements["city_a_id"].isin(kept) & agreements["city_b_id"].isin(kept)
    ]
    unresolved = tables["unresolved_names"]  # the country as each source spells it
    given = unresolved["source_country"].astype(object)
    codes = given.where(given.notna(), None).map(normalise_country)
    sample["unresolved_names"] = unresolved[codes.isin(countries)]
    return {name: frame.reset_index(drop=True) for name, frame in sample.items()}
