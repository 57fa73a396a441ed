"""The whole-build benchmark's generated inputs (bench.build): the copy marker on hand-written
names, and homes written from the recorded files in ../shared/data at factors 1 and 2 with
a small gazetteer (two whole copies of cities15000 and part of a third): the rows each
source gets, that every stored file passes its source's parser, that copy c of a source
city names copy c of its gazetteer place and resolves as the real row does, that no two
copies meet after the resolver's normalisation, and that the same factor gives the same
bytes."""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from assets.resolve import Resolver, normalise_country, normalise_name, split_name, strip_affixes
from assets.sources import (
    cdp_emissions,
    cdp_targets,
    eurocities_members,
    geonames,
    net_zero_tracker,
    network_members,
    registry,
    wikidata,
)
from bench.build.inputs import ID_OFFSET, write_home
from bench.build.names import copy_name, token
from bench.wikidata.crawl import CRAWL, read_crawl, scaled, statement_uris
from pipeline.snapshots import SnapshotStore
from schemas.codes import NETWORK_ID_PATTERN
from tests.conftest import require_shared_data

GAZETTEER_ROWS = 70_000  # cities15000 twice (65,694 rows) and 4,306 rows of a third copy
STATEMENTS = 34_182
ITEMS = 10_055
NZT_ROWS, NZT_CITIES = 4_089, 1_177
EUROCITIES = 227
MODULES = {
    m.SOURCE.slug: m
    for m in (
        geonames,
        net_zero_tracker,
        cdp_targets,
        cdp_emissions,
        eurocities_members,
        network_members,
    )
}


# ---------------------------------------------------------------------------------------
# The marker, on hand-written names


def test_copy_zero_is_the_name_and_tokens_are_distinct_words() -> None:
    assert copy_name("São Paulo", 0) == "São Paulo"
    assert [token(c) for c in (1, 2, 3, 65)] == ["Bezix", "Bizix", "Bozix", "Bebazix"]
    tokens = [token(c) for c in range(1, 1000)]
    assert len(set(tokens)) == len(tokens)
    assert all(re.fullmatch(r"[A-Z][a-z]+", t) for t in tokens)
    with pytest.raises(ValueError):
        token(0)


@pytest.mark.parametrize(
    ("name", "marked"),
    [
        ("São Paulo", "São Paulo Bezix"),
        ("Shima City", "Shima Bezix City"),
        ("Suwon-si City Council", "Suwon Bezix-si City Council"),
        ("Aix-Marseille-Provence Metropole", "Aix-Marseille-Provence Bezix Metropole"),
        ("City of Portland, ME", "City of Portland Bezix, ME"),
        ("El Djazaïr (Algiers)", "El Djazaïr Bezix (Algiers Bezix)"),
        ("Zürich (Kreis 11)", "Zürich Bezix (Kreis 11 Bezix)"),
    ],
)
def test_the_token_goes_where_the_resolver_keeps_it(name: str, marked: str) -> None:
    assert copy_name(name, 1) == marked
    bare, code = split_name(name, "US")
    marked_bare, marked_code = split_name(marked, "US")
    assert marked_code == code
    # the resolver strips the same affixes from the copy and keeps the token
    kept = strip_affixes(normalise_name(marked_bare)).split()
    assert "bezix" in kept
    assert [w for w in kept if w != "bezix"] == strip_affixes(normalise_name(bare)).split()


def test_names_that_normalise_alike_stay_alike() -> None:
    for copy in (1, 7, 99):
        assert normalise_name(copy_name("São Paulo", copy)) == normalise_name(
            copy_name("Sao Paulo", copy)
        )


# ---------------------------------------------------------------------------------------
# Homes from the recorded files


@pytest.fixture(scope="module")
def data() -> Path:
    return require_shared_data()


@pytest.fixture(scope="module")
def homes(data: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Written once for the module: factor 1, factor 2, and factor 2 again elsewhere."""
    root = tmp_path_factory.mktemp("bench-inputs")
    written = {}
    for key, factor in (("one", 1), ("two", 2), ("two_again", 2)):
        result = write_home(root / key, factor, data, GAZETTEER_ROWS)
        written[key] = {"home": root / key, "result": result}
    return written


def store(homes: dict[str, Any], key: str) -> SnapshotStore:
    return SnapshotStore(homes[key]["home"] / "raw")


def summary(homes: dict[str, Any], key: str) -> dict[str, Any]:
    return {
        slug: {f["file"]: (f["rows"], f["records"]) for f in source["files"]}
        for slug, source in homes[key]["result"]["sources"].items()
    }


def test_rows_per_source_at_factors_one_and_two(homes: dict[str, Any]) -> None:
    one, two = summary(homes, "one"), summary(homes, "two")
    assert one["geonames"] == {"cities500.zip": (70_000, 70_000), "countryInfo.txt": (252, 252)}
    assert two["geonames"] == one["geonames"]  # the gazetteer does not scale
    assert one["wikidata"] == {"wikidata-responses.zip": (STATEMENTS, STATEMENTS)}
    assert two["wikidata"] == {"wikidata-responses.zip": (2 * STATEMENTS, 2 * STATEMENTS)}
    nzt = "snapshot_2022-12-20_13-07-14.xlsx"
    assert one["net_zero_tracker"] == {nzt: (None, NZT_ROWS)}
    assert two["net_zero_tracker"] == {nzt: (None, NZT_ROWS + NZT_CITIES)}  # City rows only
    targets = "2021_Cities_Emissions_Reduction_Targets.r-resaved.csv"
    assert one["cdp_targets"] == {targets: (None, 1_460)}
    assert two["cdp_targets"] == {targets: (None, 2_920)}
    assert one["cdp_emissions"] == {"2021_City-wide_Emissions.csv": (625, 989)}
    assert two["cdp_emissions"] == {"2021_City-wide_Emissions.csv": (1_250, 1_978)}
    listed = {"eurocities-members.2025-06.txt": (None, EUROCITIES)}
    assert one["eurocities_members"] == two["eurocities_members"] == listed
    assert one["network_members"] == {}
    copies = {"eurocities-members-copies.2025-06.csv": (None, EUROCITIES)}
    assert two["network_members"] == copies
    assert one["registry"] == {
        "networks.csv": (33, 33),
        "memberships.csv": (106, 106),
        "agreements.csv": (3, 3),
        "commitments.csv": (3, 3),
    }
    assert two["registry"]["networks.csv"] == (66, 66)
    assert two["registry"]["memberships.csv"] == (212, 212)
    wikidata_file = homes["two"]["result"]["sources"]["wikidata"]["files"][0]
    assert wikidata_file["items"] == 2 * ITEMS
    assert wikidata_file["responses"]["entities"] == -(-2 * ITEMS // wikidata.ENTITY_BATCH)
    assert json.loads(json.dumps(homes["two"]["result"])) == homes["two"]["result"]


@pytest.fixture(scope="module")
def export(homes: dict[str, Any]) -> pd.DataFrame:
    """The factor-2 home's Net Zero Tracker City rows, parsed as a build parses them."""
    raw = store(homes, "two")
    snapshot = raw.latest("net_zero_tracker")
    assert snapshot is not None
    return net_zero_tracker.parse_export(raw.read(snapshot), snapshot.file_name).cities


@pytest.fixture(scope="module")
def gazetteer(homes: dict[str, Any]) -> pd.DataFrame:
    """The factor-2 home's gazetteer as a build parses it, with each place's copy."""
    raw = store(homes, "two")
    snapshot = raw.latest("geonames", "cities500.zip")
    assert snapshot is not None
    frame = geonames.parse_cities(raw.read(snapshot), snapshot.file_name)
    return frame.assign(copy=frame["geonames_id"] // ID_OFFSET)


@pytest.fixture(scope="module")
def fetched(homes: dict[str, Any]) -> wikidata.Fetched:
    """The factor-2 home's Wikidata fetch as a build reads it."""
    raw = store(homes, "two")
    snapshot = raw.latest("wikidata", wikidata.BUNDLE_FILE)
    assert snapshot is not None
    return wikidata.read_bundle(raw.read(snapshot))


def test_every_stored_file_passes_its_parser(
    data: Path,
    homes: dict[str, Any],
    export: pd.DataFrame,
    gazetteer: pd.DataFrame,
    fetched: wikidata.Fetched,
) -> None:
    # the three large files of the factor-2 home, parsed by the fixtures as check_import
    # parses them, and the rest here
    assert len(export) == NZT_CITIES * 2 and len(gazetteer) == GAZETTEER_ROWS
    assert len(fetched.statements) + len(fetched.memberships) == 2 * STATEMENTS
    assert len(fetched.entities) == 2 * ITEMS and len(fetched.countries) == 252
    # the statements of bench.wikidata's copies of the crawl, made-up ids and all
    crawl = read_crawl(data / CRAWL)
    uris = statement_uris(scaled(crawl, 2).relations)
    assert {s.statement_id for s in fetched.statements} == {
        uri.rsplit("/", 1)[1].replace("-", "$", 1) for uri in uris
    }
    raw = store(homes, "one")
    bundle = raw.latest("wikidata", wikidata.BUNDLE_FILE)
    assert bundle is not None
    assert bundle.rows == wikidata.count_statements(raw.read(bundle)) == STATEMENTS
    raw = store(homes, "two")
    stored = {(s.source, s.file_name): s for slug in MODULES for s in raw.snapshots(slug)}
    assert len(stored) == 7
    for (slug, file_name), snapshot in stored.items():
        module = MODULES[slug]
        if getattr(module, "DATED", False):
            assert snapshot.as_of == "2025-06"
            module.check_import(file_name, raw.read(snapshot), snapshot.as_of)
        elif file_name not in ("cities500.zip", "snapshot_2022-12-20_13-07-14.xlsx"):
            assert snapshot.rows == module.check_import(file_name, raw.read(snapshot))
    assert stored["geonames", "cities500.zip"].rows == GAZETTEER_ROWS
    folder = homes["two"]["home"] / "raw" / "registry"
    frames = {
        table: registry.parse_registry_table((folder / f"{table}.csv").read_bytes(), table, table)
        for table in registry.COLUMNS
    }
    networks = frames["networks"]["network_id"]
    assert networks.str.fullmatch(NETWORK_ID_PATTERN).all()
    assert networks.is_unique and "eurocities_copy1" in set(networks)
    assert set(frames["memberships"]["network_id"]) <= set(networks)
    assert registry.select_files(folder).keys() == registry.COLUMNS.keys()


def test_gazetteer_copies(data: Path, gazetteer: pd.DataFrame) -> None:
    assert dict(Counter(gazetteer["copy"])) == {0: 32_847, 1: 32_847, 2: 4_306}
    real = gazetteer[gazetteer["copy"] == 0].set_index("geonames_id")
    first = gazetteer[gazetteer["copy"] == 1].set_index("geonames_id")
    first.index = first.index - ID_OFFSET
    assert (first.index == real.index).all()
    assert (first["name"] == [copy_name(n, 1) for n in real["name"]]).all()
    assert (first["country_code"] == real["country_code"]).all()
    assert (first["population"] == real["population"] // 2).all()
    assert ((first["latitude"] - real["latitude"]).abs() <= 0.0011).all()
    lines = (data / "geonames/cities15000.txt").read_text(encoding="utf-8").splitlines()
    assert real["name"].tolist() == [line.split("\t")[1] for line in lines]


def test_no_two_copies_meet_after_normalisation(data: Path, gazetteer: pd.DataFrame) -> None:
    keys = {
        copy: {normalise_name(n) for n in (*part["name"], *part["ascii_name"].dropna())}
        for copy, part in gazetteer.groupby("copy")
    }
    assert not keys[0] & keys[1] and not keys[0] & keys[2] and not keys[1] & keys[2]
    # no marker is a word of a real name, so no copy can take a real name's key
    words = {w for key in keys[0] for w in key.split()}
    crawl = read_crawl(data / CRAWL)
    words |= {w for label in crawl.names.values() for w in normalise_name(label).split()}
    assert not {token(c).lower() for c in range(1, 200)} & words


def test_copy_c_names_copy_c_of_its_place(
    gazetteer: pd.DataFrame, export: pd.DataFrame, fetched: wikidata.Fetched
) -> None:
    by_id = gazetteer.set_index("geonames_id")
    real = gazetteer[gazetteer["copy"] == 0]
    places: dict[tuple[str, str], list[int]] = {}
    for geonames_id, name, country in zip(
        real["geonames_id"], real["name"], real["country_code"], strict=True
    ):
        places.setdefault((name, country), []).append(int(geonames_id))
    # the Net Zero Tracker's copy 1 of a city names copy 1 of its place, in its country
    originals = export.set_index("id_code")
    copies = export[export["id_code"].str.endswith("-copy1")]
    assert len(copies) == NZT_CITIES
    checked = 0
    for code, name, country in zip(
        copies["id_code"], copies["name"], copies["country"], strict=True
    ):
        original = originals.loc[code.removesuffix("-copy1")]
        country_code = normalise_country(country)
        assert name == copy_name(original["name"], 1) and country == original["country"]
        for geonames_id in places.get((original["name"], str(country_code)), []):
            assert by_id.at[geonames_id + ID_OFFSET, "name"] == name
            assert by_id.at[geonames_id + ID_OFFSET, "country_code"] == country_code
            checked += 1
    assert checked == 839  # City rows named exactly as a place of their country
    # a Wikidata item of copy 1 names copy 1 of its place, and its country
    items = wikidata.items_frame(fetched)
    linked = items[items["geonames_id"].notna()]
    assert len(linked) == 2 * 4_988
    for label, country, geonames_id in zip(
        linked["label"], linked["country_code"], linked["geonames_id"], strict=True
    ):
        assert by_id.at[geonames_id, "name"] == label
        assert by_id.at[geonames_id, "country_code"] == country


def test_copies_resolve_as_the_real_rows(
    homes: dict[str, Any], gazetteer: pd.DataFrame, export: pd.DataFrame
) -> None:
    raw = store(homes, "two")
    lists = {}
    for slug in ("eurocities_members", "network_members"):
        snapshot = raw.latest(slug)
        assert snapshot is not None
        members = MODULES[slug].parse_members(raw.read(snapshot), snapshot.file_name, "2025-06")
        lists[slug] = members[["city_name", "country_code"]].assign(population=None)
    # the resolver indexes each country apart, so a gazetteer cut to the countries of
    # Eurocities' members resolves their rows as the whole one does (and builds faster)
    table = raw.latest("geonames", geonames.COUNTRY_FILE)
    assert table is not None
    names = geonames.parse_countries(raw.read(table))
    countries = {normalise_country(c) for c in lists["eurocities_members"]["country_code"]}
    resolver = Resolver.from_frames(gazetteer[gazetteer["country_code"].isin(countries)], names)

    def resolved(rows: pd.DataFrame) -> list[tuple[int | None, str]]:
        found = []
        for name, country, population in rows.itertuples(index=False):
            people = None if population is None else float(population)
            outcome = resolver.resolve(name, country, population=people)
            found.append((outcome.geonames_id, outcome.method))
        return found

    def shifted(outcomes: list[tuple[int | None, str]]) -> list[tuple[int | None, str]]:
        return [(None if i is None else i + ID_OFFSET, method) for i, method in outcomes]

    # Eurocities' list and its copy in the network_members format resolve alike
    real = resolved(lists["eurocities_members"])
    assert Counter(method for _, method in real) == {
        "exact": 183,
        "alternate_name": 13,
        "normalised": 12,
        "unresolved": 19,
    }
    assert resolved(lists["network_members"]) == shifted(real)
    # so do the Net Zero Tracker's cities in those countries, but for a name that no place
    # matched in the real rows and that finds a namesake copy by fuzzy matching: the
    # shared marker word makes two copies' names more alike than the real ones
    rows = export[export["country"].map(normalise_country).isin(countries)]
    rows = rows[["name", "country", "population"]]
    half = len(rows) // 2
    real, copied = resolved(rows.iloc[:half]), resolved(rows.iloc[half:])
    assert half > 100 and sum(i is not None for i, _ in real) > 100
    differ = [(r, c) for r, c in zip(shifted(real), copied, strict=True) if r != c]
    assert len(differ) <= 2 and all(r[0] is None for r, _ in differ)


def test_the_same_factor_gives_the_same_bytes(homes: dict[str, Any]) -> None:
    def hashes(key: str) -> dict[tuple[str, str], str]:
        raw = store(homes, key)
        return {(s.source, s.file_name): s.sha256 for slug in MODULES for s in raw.snapshots(slug)}

    first, again = hashes("two"), hashes("two_again")
    bundles = [
        store(homes, key).latest("wikidata", wikidata.BUNDLE_FILE) for key in ("two", "two_again")
    ]
    assert len(first) == 7 and first == again
    assert len({b.sha256 for b in bundles if b is not None}) == 1
    for table in registry.COLUMNS:
        paths = [
            homes[k]["home"] / "raw" / "registry" / f"{table}.csv" for k in ("two", "two_again")
        ]
        assert paths[0].read_bytes() == paths[1].read_bytes()


def test_a_gazetteer_smaller_than_cities15000_is_refused(data: Path, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="under cities15000"):
        write_home(tmp_path, 1, data, 32_846)
    with pytest.raises(ValueError, match="at least 1"):
        write_home(tmp_path, 0, data)
