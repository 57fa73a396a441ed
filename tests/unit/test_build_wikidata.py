"""Wikidata into the tables: which city each item is, and one agreement per city pair."""

import json
from dataclasses import replace

import pandas as pd
import pytest

from assets import build_wikidata
from assets.build import build_cities, build_city_ids, combine
from assets.resolve import Resolver
from assets.sources import wikidata as wd
from schemas.agreements import Agreements
from tests.conftest import FIXTURES, small_gazetteer

SNAPSHOT = "20261122T000000000000Z-wikidata0001"
BIELEFELD, ROCHDALE, WEIMAR, TRIER = 2949186, 2639272, 2812482, 2821164
# the four cities' rows in GeoNames (bundled cities500)
EXTRA = [
    (WEIMAR, "Weimar", "Weimar", None, 50.9803, 11.32903, None, "DE", "15", 64727),
    (TRIER, "Trier", "Trier", None, 49.75565, 6.63935, None, "DE", "08", 100129),
    (BIELEFELD, "Bielefeld", "Bielefeld", None, 52.03333, 8.53333, None, "DE", "07", 331906),
    (ROCHDALE, "Rochdale", "Rochdale", None, 53.61766, -2.1552, None, "GB", "ENG", 97550),
]
COUNTRIES = {"DE", "GB", "PL", "CZ", "US"}


def gazetteer() -> pd.DataFrame:
    base = small_gazetteer()
    extra = pd.DataFrame(EXTRA, columns=[c for c in base.columns if c != "snapshot_id"])
    extra["snapshot_id"] = base["snapshot_id"].iloc[0]
    return pd.concat([base, extra.astype(base.dtypes.to_dict())], ignore_index=True)


def fetched() -> wd.Fetched:
    """The live-format fixtures, parsed as a stored fetch would be."""
    folder = FIXTURES / "wikidata"
    statements = [
        s
        for page in ("twinning-page-1.json", "twinning-page-2.json")
        for s in wd.twinning_statements(
            wd.parse_sparql_json((folder / page).read_bytes(), page), page
        )
    ]
    entities = wd.parse_entities((folder / "wbgetentities.json").read_bytes(), "entities")
    countries = {"Q183": "DE", "Q145": "GB", "Q36": "PL"}
    return wd.Fetched(statements, {e.qid: e for e in entities}, countries, {"Q1549591": "big city"})


@pytest.fixture(scope="module")
def resolver() -> Resolver:
    return Resolver.from_frames(gazetteer())


def places_of(data: wd.Fetched, resolver: Resolver) -> tuple[pd.DataFrame, pd.DataFrame]:
    items = wd.items_frame(data)
    items = items[items["qid"] != "Q1549591"].assign(snapshot_id=SNAPSHOT)  # a class: not linked
    return build_wikidata.identify_items(items, resolver, COUNTRIES)


def test_each_item_becomes_a_geonames_place_or_stays_itself(resolver: Resolver) -> None:
    places, matches = places_of(fetched(), resolver)
    by_qid = places.set_index("qid")
    # P1566 names the GeoNames place
    assert by_qid.loc["Q2112", ["city_id", "method"]].tolist() == [f"gn:{BIELEFELD}", "id"]
    # no P1566: the resolver finds it by label, country and point
    assert by_qid.loc["Q474605", ["city_id", "method"]].tolist() == [f"gn:{ROCHDALE}", "exact"]
    assert by_qid.loc["Q3138", ["city_id", "method"]].tolist() == [f"gn:{TRIER}", "exact"]
    # no GeoNames place of that name: the item is its own city, the reason kept
    zamosc = by_qid.loc["Q145972"]
    assert (zamosc["city_id"], zamosc["method"]) == ("wd:Q145972", "wikidata_item")
    assert "no GeoNames place named 'Zamość' in PL" in zamosc["reason"]
    assert set(matches["source_id"]) == set(places["qid"])
    assert (matches["source_table"] == "wikidata_items").all()


def test_a_p1566_outside_the_gazetteer_falls_back_to_the_resolver(resolver: Resolver) -> None:
    # Wikidata's own P1566 for Bielefeld (3221125) is not a populated place in GeoNames
    data = fetched()
    entity = data.entities["Q2112"]
    data.entities["Q2112"] = replace(entity, geonames_id=3221125)
    places, _ = places_of(data, resolver)
    bielefeld = places.set_index("qid").loc["Q2112"]
    assert (bielefeld["city_id"], bielefeld["method"]) == (f"gn:{BIELEFELD}", "exact")


def test_an_item_without_a_known_country_is_no_city(resolver: Resolver) -> None:
    data = fetched()
    data.countries.pop("Q36")  # Zamość's country unknown
    places, _ = places_of(data, resolver)
    zamosc = places.set_index("qid").loc["Q145972"]
    assert zamosc["city_id"] is None or pd.isna(zamosc["city_id"])
    assert zamosc["reason"] == (
        "Wikidata item Q145972 is no city: it has no country (P17) with an ISO 3166-1 code (P297)"
    )


def statements_of(data: wd.Fetched) -> pd.DataFrame:
    return wd.statements_frame(data).assign(snapshot_id=SNAPSHOT)


def agreements_of(
    data: wd.Fetched, resolver: Resolver, existing: set[str] | None = None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    places, _ = places_of(data, resolver)
    built = build_wikidata.build_agreements(statements_of(data), places, 2026, existing)
    return built.table.set_index(["city_a_id", "city_b_id"]), built.rejected


def test_one_agreement_per_pair_with_every_statement_cited(resolver: Resolver) -> None:
    table, _ = agreements_of(fetched(), resolver)
    assert len(table) == 2
    places, _ = places_of(fetched(), resolver)
    built = build_wikidata.build_agreements(statements_of(fetched()), places, 2026)
    # both cities state the Rochdale-Bielefeld twinning: two statements, one row
    assert built.tally.merged == 1
    assert built.tally.rows_in == len(statements_of(fetched()))
    assert built.tally.rows_in == (
        built.tally.published + built.tally.merged + built.tally.rejected
    )
    # stored in id order: 'gn:2639272' (Rochdale) before 'gn:2949186' (Bielefeld)
    pair = table.loc[(f"gn:{ROCHDALE}", f"gn:{BIELEFELD}")]
    assert pair["kind"] == "twinning"
    assert bool(pair["is_reciprocal"]) is True
    assert pair["start_year"] == 1953 and pd.isna(pair["start_date"])  # year precision
    assert pd.isna(pair["end_year"]) and pd.isna(pair["status"])
    assert pair["citation"] == (
        "Wikidata P190 statements Q2112$fa2b9dbe-44c4-e3aa-b1b7-6725768477cf; "
        "Q474605$0a1b2c3d-0000-4000-8000-000000000001; references: "
        "http://www.rochdale.gov.uk/leisure-and-culture/Pages/20-things-to-know.aspx "
        "https://example.org/bielefeld/partnerstaedte https://example.org/rochdale/twin-towns"
    )
    assert pair["source_url"] == "https://www.wikidata.org/wiki/Q2112"
    assert pair["stated_text"].startswith(
        "Wikidata: Bielefeld (Q2112) twinned with Rochdale (Q474605) from 1953; "
    )
    assert (pair["city_a_source_name"], pair["city_b_source_name"]) == ("Rochdale", "Bielefeld")
    assert (pair["source"], pair["snapshot_id"]) == ("wikidata", SNAPSHOT)


def test_statements_read_a_chunk_at_a_time_make_the_same_agreements(
    resolver: Resolver, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A pair's statements stay in one chunk, so the rows, their order, the rejects and
    the tally do not depend on the chunk's size."""
    places, _ = places_of(fetched(), resolver)
    statements = statements_of(fetched())
    whole = build_wikidata.build_agreements(statements, places, 2026)
    monkeypatch.setattr(build_wikidata, "CHUNK_STATEMENTS", 1)
    chunked = build_wikidata.build_agreements(statements, places, 2026)
    pd.testing.assert_frame_equal(chunked.table, whole.table)
    pd.testing.assert_frame_equal(chunked.rejected, whole.rejected)
    assert chunked.tally == whole.tally
    assert whole.tally.merged == 1 and len(whole.table) == 2
    chunks = list(
        build_wikidata._statement_chunks(
            statements.iloc[:0], pd.DataFrame({"first": [], "second": []}), lambda s: ("", "")
        )
    )
    assert chunks == [{}]


def test_an_ended_agreement_and_a_one_sided_one(resolver: Resolver) -> None:
    table, _ = agreements_of(fetched(), resolver)
    pair = table.loc[(f"gn:{WEIMAR}", f"gn:{TRIER}")]  # stored as the smaller id first
    assert bool(pair["is_reciprocal"]) is False
    assert (pair["start_year"], pair["start_date"]) == (1987, "1987-05-24")
    assert (pair["end_year"], pair["status"]) == (2020, "ended")
    assert (pair["city_a_source_name"], pair["city_b_source_name"]) == ("Weimar", "Trier")


def test_an_end_still_to_come_is_not_ended(resolver: Resolver) -> None:
    data = fetched()
    places, _ = places_of(data, resolver)
    built = build_wikidata.build_agreements(statements_of(data), places, 2019)
    pair = built.table.set_index(["city_a_id", "city_b_id"]).loc[(f"gn:{WEIMAR}", f"gn:{TRIER}")]
    assert pair["end_year"] == 2020 and pd.isna(pair["status"])


def test_deprecated_statements_are_rejected_with_the_reason(resolver: Resolver) -> None:
    _, rejected = agreements_of(fetched(), resolver)
    (row,) = rejected.itertuples(index=False)
    assert (row.rule, row.source, row.table_name) == (
        "deprecated_statement",
        "wikidata",
        "agreements",
    )
    assert row.source_row == "statement Q3955$b5e22794-4cd3-f3ce-a44b-20473d5e3ebb"
    assert '"object_qid": "Q145972"' in row.record


def test_statements_on_items_that_are_no_city_or_the_same_city(resolver: Resolver) -> None:
    data = fetched()
    data.countries.pop("Q145")  # Rochdale's country unknown: both its statements go
    table, rejected = agreements_of(data, resolver)
    lost = rejected[rejected["rule"] == "city_unresolved"]
    assert len(lost) == 2
    assert set(lost["reason"]) == {
        "Wikidata item Q474605 is no city: it has no country (P17) with an ISO 3166-1 code (P297)"
    }
    assert list(table.index) == [(f"gn:{WEIMAR}", f"gn:{TRIER}")]
    # Trier's item matched to Weimar's place: a self-pair
    places, _ = places_of(fetched(), resolver)
    places.loc[places["qid"] == "Q3138", "city_id"] = f"gn:{WEIMAR}"
    built = build_wikidata.build_agreements(statements_of(fetched()), places, 2026)
    assert "self_pair" in set(built.rejected["rule"])


def test_a_pair_another_source_states_is_not_published_twice(resolver: Resolver) -> None:
    # the registry states Rochdale-Bielefeld (as sister cities, say): both of Wikidata's
    # statements for the pair are rejected, neither is lost
    pair = (f"gn:{ROCHDALE}", f"gn:{BIELEFELD}")
    again, rejected = agreements_of(fetched(), resolver, existing={pair})
    assert list(again.index) == [(f"gn:{WEIMAR}", f"gn:{TRIER}")]
    duplicate = rejected[rejected["rule"] == "duplicate"]
    assert duplicate["source_row"].tolist() == [
        "statement Q2112$fa2b9dbe-44c4-e3aa-b1b7-6725768477cf"
    ]
    assert duplicate["reason"].tolist() == [
        "another source states this pair already, as a twinning or sister-city agreement"
    ]
    (follower,) = rejected[rejected["rule"] == "rejected_with_its_row"].itertuples(index=False)
    assert follower.source_row == "statement Q474605$0a1b2c3d-0000-4000-8000-000000000001"
    assert follower.reason == (
        "stands with statement Q2112$fa2b9dbe-44c4-e3aa-b1b7-6725768477cf for one row, "
        "which was not published"
    )


def test_cities_take_their_items_and_wikidata_only_cities_their_own_row(
    resolver: Resolver,
) -> None:
    places, matches = places_of(fetched(), resolver)
    cities = build_cities(
        gazetteer(),
        pd.DataFrame(columns=["country_code", "admin1_code", "admin1_name"]),
        places,
        pd.Series([f"gn:{BIELEFELD}", f"gn:{ROCHDALE}", "wd:Q145972"]),
    ).set_index("city_id")
    assert cities.loc[f"gn:{BIELEFELD}", "wikidata_qid"] == "Q2112"
    assert cities.loc[f"gn:{BIELEFELD}", "kinds"] == "big city"
    assert cities.loc[f"gn:{BIELEFELD}", "source"] == "geonames"
    zamosc = cities.loc["wd:Q145972"]
    assert (zamosc["name"], zamosc["country_code"], zamosc["source"]) == (
        "Zamość",
        "PL",
        "wikidata",
    )
    assert pd.isna(zamosc["geonames_id"]) and pd.isna(zamosc["latitude"])
    assert zamosc["wikidata_qid"] == "Q145972" and zamosc["snapshot_id"] == SNAPSHOT
    crosswalk = build_city_ids([matches]).set_index("source_id")
    assert crosswalk.loc["Q2112", ["city_id", "method", "wikidata_qid"]].tolist() == [
        f"gn:{BIELEFELD}",
        "id",
        "Q2112",
    ]
    assert crosswalk.loc["Q145972", "method"] == "wikidata_item"
    assert pd.isna(crosswalk.loc["Q145972", "geonames_id"])


# --- memberships and the networks' QIDs ----------------------------------------------------

REGISTRY = pd.DataFrame(
    {
        "network_id": ["mayors_for_peace", "climate_alliance", "c40", "eurocities"],
        "name": [
            "Mayors for Peace",
            "Climate Alliance (Klima-Bündnis)",
            "C40 Cities Climate Leadership Group",
            "Eurocities",
        ],
        "wikidata_qid": ["Q747279", "Q999999999", None, None],
    }
)


def candidates() -> pd.DataFrame:
    folder = FIXTURES / "wikidata"
    body = (folder / "network-labels.json").read_bytes()
    rows = wd.parse_sparql_json(body, "network-labels.json")
    data = wd.Fetched([], {}, {}, network_candidates=[wd._candidate(r) for r in rows])
    return wd.network_candidates_frame(data)


def network_items() -> pd.DataFrame:
    data = fetched()
    return wd.items_frame(data, {"Q747279", "Q999999999"})


def test_a_registry_qid_is_confirmed_only_when_the_fetch_found_its_item() -> None:
    review = build_wikidata.review_network_qids(REGISTRY, network_items(), candidates(), SNAPSHOT)
    found = {
        (r.network_id, r.finding, r.qid if isinstance(r.qid, str) else None)
        for r in review.itertuples(index=False)
    }
    assert found == {
        ("mayors_for_peace", "confirmed", "Q747279"),
        ("climate_alliance", "not_found", "Q999999999"),
        ("climate_alliance", "candidate", "Q1768108"),
        ("c40", "candidate", "Q99999901"),
        ("c40", "candidate", "Q99999902"),
        ("eurocities", "no_candidate", None),
    }
    assert build_wikidata.confirmed_qids(review) == {"mayors_for_peace": "Q747279"}
    # without a stored fetch nothing is confirmed
    unchecked = build_wikidata.review_network_qids(REGISTRY, network_items(), candidates(), None)
    assert set(unchecked["finding"]) == {"not_checked"}
    assert build_wikidata.confirmed_qids(unchecked) == {}


def memberships_of(
    networks: pd.DataFrame, resolver: Resolver, existing: set[str] | None = None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    body = (FIXTURES / "wikidata" / "members-Q747279.json").read_bytes()
    rows = wd.parse_sparql_json(body, "members")
    data = fetched()
    data.memberships = wd.query_statements(rows, "members", "member", "network")
    places, _ = places_of(data, resolver)
    statements = wd.memberships_frame(data).assign(snapshot_id=SNAPSHOT)
    built = build_wikidata.build_memberships(statements, places, networks, existing)
    return built.table.set_index("city_id"), built.rejected


def test_memberships_from_member_of_statements(resolver: Resolver) -> None:
    networks = pd.DataFrame({"network_id": ["mayors_for_peace"], "wikidata_qid": ["Q747279"]})
    table, rejected = memberships_of(networks, resolver)
    assert rejected.empty
    bielefeld = table.loc[f"gn:{BIELEFELD}"]
    assert (bielefeld["network_id"], bielefeld["role"], bielefeld["joined_year"]) == (
        "mayors_for_peace",
        "member",
        1984,
    )
    assert pd.isna(bielefeld["left_year"])
    assert bielefeld["citation"] == (
        "Wikidata P463 statements Q2112$EB6FE0A1-B1DD-40D5-8329-E9CCE7094031; references: "
        "http://www.mayorsforpeace.org/english/membercity/map/europe.html"
    )
    assert bielefeld["source_city_name"] == "Bielefeld"
    rochdale = table.loc[f"gn:{ROCHDALE}"]
    assert (rochdale["joined_year"], rochdale["left_year"]) == (2001, 2015)


def test_a_membership_of_an_unconfirmed_network_or_already_stated_is_rejected(
    resolver: Resolver,
) -> None:
    unconfirmed = pd.DataFrame({"network_id": ["mayors_for_peace"], "wikidata_qid": [None]})
    table, rejected = memberships_of(unconfirmed, resolver)
    assert table.empty
    assert rejected["rule"].tolist() == ["foreign_key", "foreign_key"]
    assert set(rejected["value"]) == {"Q747279"}
    networks = pd.DataFrame({"network_id": ["mayors_for_peace"], "wikidata_qid": ["Q747279"]})
    first, _ = memberships_of(networks, resolver)
    known = {first.loc[f"gn:{BIELEFELD}", "membership_id"]}
    again, rejected = memberships_of(networks, resolver, known)
    assert list(again.index) == [f"gn:{ROCHDALE}"]
    assert rejected["reason"].tolist() == ["another source states this membership already"]


def test_two_builds_combine_into_one_validated_table(resolver: Resolver) -> None:
    places, _ = places_of(fetched(), resolver)
    statements = statements_of(fetched())
    bielefeld = statements["subject_qid"].isin(["Q2112", "Q474605"])
    first = build_wikidata.build_agreements(statements[bielefeld], places, 2026)
    second = build_wikidata.build_agreements(statements[~bielefeld], places, 2026)
    combined = combine(first, second, Agreements)
    assert len(combined.table) == 2
    assert str(combined.table["is_reciprocal"].dtype) == "boolean"
    assert combined.rejected["rule"].tolist() == ["deprecated_statement"]


def test_an_item_without_a_label_is_named_by_its_qid(resolver: Resolver) -> None:
    data = fetched()
    trier = data.entities["Q3138"]
    data.entities["Q3138"] = replace(trier, labels={})
    places, _ = places_of(data, resolver)
    # with no label the resolver has no name: Trier's item is its own city
    assert places.set_index("qid").loc["Q3138", "city_id"] == "wd:Q3138"
    built = build_wikidata.build_agreements(statements_of(data), places, 2026)
    pair = built.table.set_index("city_b_id").loc["wd:Q3138"]
    assert pair["city_b_source_name"] == "Q3138"
    assert pair["stated_text"].startswith("Wikidata: Weimar (Q3955) twinned with Q3138 from ")
    assert "not_nullable" not in set(built.rejected["rule"])
    admin1 = pd.DataFrame(columns=["country_code", "admin1_code", "admin1_name"])
    cities = build_cities(gazetteer(), admin1, places, pd.Series(["wd:Q3138"]))
    assert cities["name"].tolist() == ["Q3138"]
    _, matches = places_of(data, resolver)
    crosswalk = build_city_ids([matches]).set_index("source_id")
    assert crosswalk.loc["Q3138", "source_name"] == "Q3138"


def test_a_region_near_a_village_stays_its_own_item(resolver: Resolver) -> None:
    # a made-up region item named like no place, its point 2 km from Trier
    data = fetched()
    trier = data.entities["Q3138"]
    data.entities["Q3138"] = replace(
        trier, labels={"en": "Region Trier-Saar"}, latitude=49.74, longitude=6.63
    )
    places, _ = places_of(data, resolver)
    region = places.set_index("qid").loc["Q3138"]
    assert (region["city_id"], region["method"]) == ("wd:Q3138", "wikidata_item")
    assert region["reason"] == f"no GeoNames place of the name; gn:{TRIER} lies near"


def test_an_unknown_value_is_rejected_not_a_parse_error(resolver: Resolver) -> None:
    body = json.loads((FIXTURES / "wikidata" / "twinning-page-1.json").read_bytes())
    genid = "http://www.wikidata.org/.well-known/genid/0c1d2e3f4a5b6c7d"
    body["results"]["bindings"][0]["twin"] = {"type": "uri", "value": genid}
    rows = wd.parse_sparql_json(json.dumps(body).encode(), "page-1")
    statements = wd.twinning_statements(rows, "page-1")
    assert {s.object for s in statements} == {genid, "Q2112"}
    data = fetched()
    data.statements = statements
    places, _ = places_of(data, resolver)
    built = build_wikidata.build_agreements(statements_of(data), places, 2026)
    (rejected,) = built.rejected.itertuples(index=False)
    assert (rejected.rule, rejected.value) == ("not_an_item", genid)
    assert len(built.table) == 1  # Rochdale's own statement still makes the pair


def test_a_malformed_or_shared_registry_qid_is_reported_not_confirmed() -> None:
    registry = REGISTRY.assign(
        wikidata_qid=["https://www.wikidata.org/wiki/Q747279", "Q1768108", "Q1768108", None]
    )
    review = build_wikidata.review_network_qids(registry, network_items(), candidates(), SNAPSHOT)
    findings = review.groupby("network_id")["finding"].apply(set).to_dict()
    assert "invalid_qid" in findings["mayors_for_peace"]
    assert "shared_qid" in findings["climate_alliance"] and "shared_qid" in findings["c40"]
    assert build_wikidata.confirmed_qids(review) == {}
    invalid = review[review["finding"] == "invalid_qid"]
    assert invalid["registry_qid"].tolist() == ["https://www.wikidata.org/wiki/Q747279"]


def test_the_day_is_kept_when_another_statement_gives_only_the_year(resolver: Resolver) -> None:
    data = fetched()
    statements = statements_of(data)
    # Trier's side states the same 1987 start at year precision
    extra = statements[statements["object_qid"] == "Q3138"].assign(
        statement_id="Q3138$00000000-0000-4000-8000-000000000003",
        subject_qid="Q3138",
        object_qid="Q3955",
        start_date=None,
        end_year=pd.NA,
        source_row="statement Q3138$00000000-0000-4000-8000-000000000003",
    )
    both = pd.concat([extra, statements], ignore_index=True)
    places, _ = places_of(data, resolver)
    built = build_wikidata.build_agreements(both, places, 2026)
    pair = built.table.set_index("city_b_id").loc[f"gn:{TRIER}"]
    assert (pair["start_year"], pair["start_date"], bool(pair["is_reciprocal"])) == (
        1987,
        "1987-05-24",
        True,
    )


def test_the_fetch_year_comes_from_the_snapshot_id() -> None:
    frame = pd.DataFrame({"snapshot_id": ["20241122T101500123456Z-3f2a9c1d0b7e"]})
    assert build_wikidata.fetch_year(frame) == 2024
