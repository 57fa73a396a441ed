"""The resolver's index as Resolver.from_frames builds it, against the plain build it
replaced (reference_index): every field equal, on a sample of the cases that could tell
them apart. And normalise_names against normalise_name one name at a time, on arbitrary
text, on every character and on every name of the bundled cities500."""

from __future__ import annotations

import gc
import json
import math
import os
import sys
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from assets.resolve import _PARENTHESES, Resolver, _Place, normalise_name, normalise_names
from assets.sources import geonames
from tests.conftest import ascii_form

settings.register_profile(
    "names",
    deadline=None,  # timing is noisy and the project makes no timed assertions
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile(
    "names-ci", settings.get_profile("names"), derandomize=True, database=None, print_blob=True
)
PROFILE = settings.get_profile("names-ci" if os.environ.get("CI") else "names")


def reference_index(
    gazetteer: pd.DataFrame,
    countries: pd.DataFrame | None = None,
    admin1: pd.DataFrame | None = None,
) -> Resolver:
    """Resolver.from_frames as it was before it was made faster (7763b45): a row and a
    name at a time, every name's places a set until all are in, then each ranked."""
    resolver = Resolver()
    primary_sets: dict[str, dict[str, set[int]]] = {}
    alternate_sets: dict[str, dict[str, set[int]]] = {}
    qualified: dict[str, dict[str, set[int]]] = {}
    columns = ["geonames_id", "name", "ascii_name", "alternate_names", "country_code"]
    columns += ["admin1_code", "latitude", "longitude", "population"]
    rows = zip(*(gazetteer[c].tolist() for c in columns), strict=True)
    for geonames_id, name, ascii_name, alternates, country, *rest in rows:
        admin1_code, latitude, longitude, population = rest
        geonames_id = int(geonames_id)
        primary = primary_sets.setdefault(country, {})
        alternate = alternate_sets.setdefault(country, {})
        place = _Place(
            name=str(name),
            country=country,
            admin1=admin1_code if isinstance(admin1_code, str) else None,
            latitude=float(latitude),
            longitude=float(longitude),
            population=0 if pd.isna(population) else int(population),
        )
        resolver.places[geonames_id] = place
        if place.admin1 is not None:
            resolver.admin1_codes[country].add(place.admin1)
        resolver.populations[geonames_id] = place.population
        resolver.grid[(country, math.floor(latitude), math.floor(longitude))].append(geonames_id)
        for each in {name, ascii_name}:
            if isinstance(each, str) and each:
                key = resolver.keys[each] = normalise_name(each)
                primary.setdefault(key, set()).add(geonames_id)
                resolver.fuzzy_names[country].append((key, geonames_id))
                if "(" in each:
                    bare = normalise_name(_PARENTHESES.sub(" ", each))
                    qualified.setdefault(country, {}).setdefault(bare, set()).add(geonames_id)
                    resolver.fuzzy_names[country].append((bare, geonames_id))
        if isinstance(alternates, str):
            for each in alternates.split(","):
                if each:
                    alternate.setdefault(normalise_name(each), set()).add(geonames_id)
    for country, bare_names in qualified.items():
        own_names = primary_sets.setdefault(country, {})
        for bare, ids in bare_names.items():
            own_names.setdefault(bare, ids)
    for tables, field in ((primary_sets, "primary"), (alternate_sets, "alternate")):
        ranked = {c: {n: resolver._rank(i) for n, i in t.items()} for c, t in tables.items()}
        setattr(resolver, field, ranked)
    for country, names in resolver.fuzzy_names.items():
        names.sort(key=lambda pair: len(pair[0]))
        resolver.fuzzy_keys[country] = [n for n, _ in names]
        resolver.fuzzy_lengths[country] = [len(n) for n, _ in names]
    if countries is not None:
        for code, name in zip(countries["country_code"], countries["country_name"], strict=True):
            resolver.country_names[normalise_name(str(name))] = str(code)
    if admin1 is not None and not admin1.empty:
        for code, a1, name in zip(
            admin1["country_code"], admin1["admin1_code"], admin1["admin1_name"], strict=True
        ):
            resolver.admin1_by_name[(str(code), normalise_name(str(name)))] = str(a1)
    return resolver


INDEX = (
    "places",
    "populations",
    "keys",
    "primary",
    "alternate",
    "fuzzy_names",
    "fuzzy_keys",
    "fuzzy_lengths",
    "grid",
    "country_names",
    "admin1_by_name",
    "admin1_codes",
)


def in_order(value: Any) -> Any:
    """The value with every dict as its list of items, so that == compares order too."""
    if isinstance(value, dict):
        return [(key, in_order(item)) for key, item in value.items()]
    if isinstance(value, list):
        return [in_order(item) for item in value]
    return value


def assert_same_index(built: Resolver, reference: Resolver) -> None:
    for name in INDEX:
        new, old = getattr(built, name), getattr(reference, name)
        assert type(new) is type(old), name
        assert new == old, name
        # nothing reads these dicts in order today, but fuzzy_names is a list, and an
        # index built in another order is one a later change could come to depend on
        assert in_order(new) == in_order(old), f"{name}: the same entries in another order"


NAN = float("nan")
# geonames_id, name, ascii_name, alternate_names, latitude, longitude, country, admin1,
# population: the cases that could set the two builds apart
TRICKY = [
    (1, "Springfield", "Springfield", "Springfield,,Spfld,", 39.8, -89.6, "US", "IL", 116565),
    (2, "Springfield", "Springfield", None, 37.2, -93.3, "US", "MO", 166810),
    (3, "Portland", "Portland", "PDX,Rose City", 45.5, -122.7, "US", "OR", 1000),
    (4, "Portland", "Portland", "PDX", 43.7, -70.3, "US", "ME", 1000),  # a tie
    (5, "London", "London", "Londres,Londra,London", 51.5, -0.1, "GB", "ENG", 8961989),
    (6, "London", "London", "London Ontario", 43.0, -81.2, "CA", "08", 383822),
    (7, "Zürich", "Zurich", "Zuerich,Zürich,ZURICH,Tsuerich", 47.4, 8.5, "CH", "ZH", 341730),
    (8, "Zürich (Kreis 11)", "Zurich (Kreis 11)", "Oerlikon", 47.4, 8.5, "CH", "ZH", 72000),
    (9, "Al Kuwayt (Kuwait City)", "Al Kuwayt (Kuwait City)", "", 29.4, 48.0, "KW", "02", 60064),
    (10, "Bogotá (D.C.)", "Bogota (D.C.)", ",,,", 4.6, -74.1, "CO", NAN, NAN),
    (11, "São Paulo", "Sao Paulo", "Sampa,SAO PAULO,São Paulo", -23.5, -46.6, "BR", "27", 10021295),
    (12, "Sampa", "Sampa", "Sampa", -20.0, -44.0, "BR", None, None),
    (13, "Łódź", "Lodz", "Lodsch,Łódź", 51.8, 19.5, "PL", "74", 768755),
    (14, "東京", "Tokyo", "Tōkyō,東京,Tokio", 35.7, 139.7, "JP", "40", 8336599),
    (15, "Σάμος", "Samos", "ΣΑΜΟΣ,Σαμος,σάμος", 37.8, 26.9, "GR", "47", 6000),
    (16, "İstanbul", "Istanbul", "Straße,ﬁnale,½ Moon,Ǆ", 41.0, 29.0, "TR", "34", 14804116),
    (17, "-", None, "(),—,Dash", 0.5, 0.5, "XX", "", 0),
    # a namesake in the same admin1; then 7 again, whose last row is the one that counts
    (18, "Zürich", "Zurich", "Zürich", 47.3, 8.6, "CH", "ZH", 341730),
    (7, "Zürich", "Zürich", "Züri", 47.4, 8.5, "CH", "ZH", 400000),
]
COLUMNS = ["geonames_id", "name", "ascii_name", "alternate_names", "latitude", "longitude"]
COLUMNS += ["country_code", "admin1_code", "population"]


def tricky_gazetteer(strings: str) -> pd.DataFrame:
    frame = pd.DataFrame(TRICKY, columns=COLUMNS, dtype=object)
    frame = frame.astype({c: strings for c in ["name", "ascii_name", "alternate_names"]})
    numbers = {"geonames_id": "Int64", "latitude": "float64", "longitude": "float64"}
    return frame.astype({**numbers, "population": "Int64"})


@pytest.mark.parametrize("strings", ["object", "str"])  # Python strings, and Arrow's
def test_the_index_is_the_one_the_plain_build_makes(strings: str) -> None:
    gazetteer = tricky_gazetteer(strings)
    countries = pd.DataFrame({"country_code": ["CZ", "GR"], "country_name": ["Česko", "Ελλάς"]})
    admin1 = pd.DataFrame(
        {
            "country_code": ["CA", "CH"],
            "admin1_code": ["08", "ZH"],
            "admin1_name": ["Ontario", "Zürich"],
        }
    )
    built = Resolver.from_frames(gazetteer, countries, admin1)
    assert_same_index(built, reference_index(gazetteer, countries, admin1))
    # the cases the sample is for are in it
    assert built.primary["US"]["portland"] == (3, 4)
    assert built.primary["CH"]["zurich"] == (7, 18)
    assert built.primary["CH"]["zurich kreis 11"] == (8,)
    assert built.primary["CO"]["bogota"] == (10,)  # no place is named so: the bare form
    assert built.alternate["BR"]["sampa"] == (11, 12)
    assert built.alternate["XX"][""] == (17,)  # '()' and '—': names that normalise to ''
    assert built.populations[10] == 0 and built.places[10].admin1 is None


def test_the_index_of_an_empty_gazetteer_is_empty() -> None:
    gazetteer = tricky_gazetteer("object").iloc[:0]
    assert_same_index(Resolver.from_frames(gazetteer), reference_index(gazetteer))


def test_building_pauses_garbage_collection_and_only_then() -> None:
    Resolver.from_frames(tricky_gazetteer("object"))
    assert gc.isenabled()
    gc.disable()
    try:
        Resolver.from_frames(tricky_gazetteer("object"))
        assert not gc.isenabled()  # left as the caller had it
    finally:
        gc.enable()
    with pytest.raises(KeyError):
        Resolver.from_frames(tricky_gazetteer("object").drop(columns="alternate_names"))
    assert gc.isenabled()


# Characters the joined text could trip on: line breaks and blanks, separators, the Greek
# sigmas, marks alone, characters NFKD or casefold make several of, one beyond the BMP.
AWKWARD = (
    "\n\r\t \x85\u2028\xa0,-_()\u2044"
    + "\u03a3\u03c3\u03c2\u0386"
    + "\u0130\u0301\u0345\u0308ßﬁ½Ǆ\ufeff\U0001d518"
)
names_lists = st.lists(st.text(st.one_of(st.characters(), st.sampled_from(AWKWARD))))


@settings(PROFILE, max_examples=500)
@given(names=names_lists)
def test_normalise_names_is_normalise_name_of_each(names: list[str]) -> None:
    assert normalise_names(names) == [normalise_name(name) for name in names]


@pytest.mark.parametrize(
    "names",
    [
        [],
        [""],
        ["", "", "-"],
        ["Σ", "ΑΣ", "ΣΑΣ ", "Ὀδυσσεύς"],  # casefold has no final sigma, unlike lower
        ["a\nb", "São Paulo", "\n"],  # a line feed inside a name, read as a blank
        ["a\ud800b", "x\u0301y", "Zürich"],  # a lone surrogate: no Arrow for the marks
        ["-\u0301-", "a\u0301 \u0301b", " \u0301", "\u0301x"],  # marks between blanks
    ],
)
def test_normalise_names_on_its_edge_cases(names: list[str]) -> None:
    assert normalise_names(names) == [normalise_name(name) for name in names]


def test_normalise_names_on_every_character() -> None:
    """Every code point (surrogates apart) in names of 50 neighbours, so each one is read
    beside others: hypothesis draws few of the marks and expansions that matter."""
    points = [cp for cp in range(sys.maxunicode + 1) if not 0xD800 <= cp <= 0xDFFF]
    names = ["".join(map(chr, points[at : at + 50])) for at in range(0, len(points), 50)]
    assert normalise_names(names) == [normalise_name(name) for name in names]


def test_normalise_names_on_every_name_of_the_bundled_cities500() -> None:
    path = Path(geonames.bundled_file("cities500.json", "cities").path)
    records = json.loads(path.read_bytes()).values()
    names = [r["name"] for r in records]
    names += [ascii_form(n) for n in names]  # as GeoNames' dump has them; the copy has none
    names += [a for r in records for a in r["alternatenames"]]
    assert len(names) > 1_500_000
    assert normalise_names(names) == [normalise_name(name) for name in names]
