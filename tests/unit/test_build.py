"""The table builders, on registry-shaped frames and a small gazetteer of real places."""

import hashlib
import json
from typing import Any

import pandas as pd
import pytest

from assets import build
from assets.build import (
    REJECT_COLUMNS,
    Built,
    Matches,
    Rejects,
    RowsLostError,
    SchemaChangedError,
    Tally,
    accept,
    build_agreements,
    build_cities,
    build_city_ids,
    build_commitments,
    build_memberships,
    build_networks,
    build_sources,
    build_unresolved_names,
    canonical_number,
    check_conservation,
    column_order,
    concat_rejects,
    drop_duplicates,
    resolution_quality,
    split_valid_rows,
    stable_id,
    without_unique,
)
from assets.build_wikidata import no_places
from assets.resolve import Resolver
from assets.sources import SourceFile, SourceInfo
from assets.sources.registry import COLUMNS
from schemas.agreements import Agreements
from schemas.cities import Cities
from schemas.commitments import Commitments
from schemas.memberships import Memberships
from schemas.networks import Networks
from tests.conftest import small_gazetteer

PRAGUE, TEL_AVIV, TAIPEI, PORTLAND_OR = "gn:3067696", "gn:293397", "gn:1668341", "gn:5746545"


@pytest.fixture
def gazetteer() -> pd.DataFrame:
    return small_gazetteer()


@pytest.fixture
def resolver(gazetteer: pd.DataFrame) -> Resolver:
    return Resolver.from_frames(gazetteer)


def registry(table: str, *rows: dict[str, Any]) -> pd.DataFrame:
    """A frame as the registry parser and the parsed asset make it: all-string object
    columns (missing -> None), 'source_row' ('<table>.csv line N'), source and snapshot_id."""
    columns = [*COLUMNS[table], "source_row"]
    records = [
        {c: row.get(c, f"{table}.csv line {n}" if c == "source_row" else None) for c in columns}
        for n, row in enumerate(rows, start=2)
    ]
    frame = pd.DataFrame(records, columns=columns, dtype=object)
    frame["source"] = "registry"
    frame["snapshot_id"] = f"registry-{table}-abc"
    return frame


def rejected_by_row(built: Built) -> dict[str, list[str]]:
    """source_row -> the rules that row broke."""
    return built.rejected.groupby("source_row")["rule"].apply(list).to_dict()


def only(frame: pd.DataFrame, **where: Any) -> pd.Series:
    """The one row of `frame` matching all of `where`."""
    mask = pd.Series(True, index=frame.index)
    for column, value in where.items():
        mask &= frame[column] == value
    assert mask.sum() == 1, frame
    return frame[mask].iloc[0]


# ---------------------------------------------------------------------------- memberships

NETWORKS = pd.DataFrame({"network_id": ["c40", "iclei"]})
MEMBER = {
    "network_id": "c40",
    "city_name": "Praha",
    "country_code": "CZ",
    "role": "member",
    "source_url": "https://www.c40.org/cities/",
    "as_of": "2025",
}


def memberships(resolver: Resolver, *rows: dict[str, Any]) -> Built:
    return build_memberships(registry("memberships", *rows), resolver, NETWORKS)


def test_membership_resolves_city(resolver: Resolver) -> None:
    built = memberships(resolver, MEMBER)
    assert list(built.table.columns) == column_order(Memberships)
    row = built.table.iloc[0]
    assert len(built.table) == 1
    assert row["city_id"] == PRAGUE
    assert row["membership_id"] == stable_id("mem", "c40", PRAGUE)
    assert row["membership_id"] == "mem:" + hashlib.sha256(b"c40|gn:3067696").hexdigest()[:16]
    assert row["source_city_name"] == "Praha"
    assert row["as_of_year"] == 2025
    assert str(built.table["as_of_year"].dtype) == "Int64"
    assert pd.isna(row["joined_year"])
    assert (row["role"], row["network_id"]) == ("member", "c40")
    assert (row["source"], row["snapshot_id"]) == ("registry", "registry-memberships-abc")
    assert row["source_url"] == "https://www.c40.org/cities/"
    assert built.rejected.empty
    assert list(built.rejected.columns) == REJECT_COLUMNS


def test_membership_admin1_chooses_between_namesakes(resolver: Resolver) -> None:
    row = {**MEMBER, "city_name": "Portland", "country_code": "US", "admin1_code": "OR"}
    built = memberships(resolver, row)
    assert built.table["city_id"].tolist() == [PORTLAND_OR]


def test_unresolved_city_is_rejected_with_record(resolver: Resolver) -> None:
    built = memberships(resolver, MEMBER, {**MEMBER, "city_name": "Atlantis"})
    assert built.table["source_city_name"].tolist() == ["Praha"]
    reject = only(built.rejected, rule="city_unresolved")
    assert reject["table_name"] == "memberships"
    assert reject["source_row"] == "memberships.csv line 3"
    assert (reject["column_name"], reject["value"]) == ("city_name", "Atlantis")
    assert reject["reason"] == "no GeoNames place named 'Atlantis' in CZ"
    assert (reject["source"], reject["snapshot_id"]) == ("registry", "registry-memberships-abc")
    record = json.loads(reject["record"])
    assert record["city_name"] == "Atlantis"
    assert record["country_code"] == "CZ"
    assert record["as_of"] == "2025"
    assert "source_row" not in record


def test_ambiguous_city_is_rejected_naming_candidates(resolver: Resolver) -> None:
    built = memberships(resolver, {**MEMBER, "city_name": "Springfield", "country_code": "US"})
    assert built.table.empty
    reject = only(built.rejected, rule="city_ambiguous")
    assert reject["reason"] == (
        "2 places match alike (gn:4409896, gn:4250542); give admin1 or coordinates"
    )


def test_city_without_country_is_rejected(resolver: Resolver) -> None:
    built = memberships(resolver, {**MEMBER, "country_code": None})
    reject = only(built.rejected, rule="city_unresolved")
    assert reject["reason"] == "city_name and country_code are both needed to find the city"


def test_missing_names_in_a_string_typed_frame_are_not_read_as_names(
    resolver: Resolver,
) -> None:
    rows = registry("memberships", MEMBER, {**MEMBER, "city_name": None}).astype(
        {"city_name": "str"}
    )
    built = build_memberships(rows, resolver, NETWORKS)
    assert built.table["city_id"].tolist() == [PRAGUE]
    reject = only(built.rejected, rule="city_unresolved")
    assert reject["reason"] == "city_name and country_code are both needed to find the city"


def test_unknown_network_is_a_foreign_key_reject(resolver: Resolver) -> None:
    built = memberships(resolver, MEMBER, {**MEMBER, "network_id": "nope"})
    assert built.table["network_id"].tolist() == ["c40"]
    reject = only(built.rejected, rule="foreign_key")
    assert reject["source_row"] == "memberships.csv line 3"
    assert (reject["column_name"], reject["value"]) == ("network_id", "nope")
    assert reject["reason"] == "network_id is not in networks"


def test_year_that_is_not_a_number_is_rejected_alone(resolver: Resolver) -> None:
    rows = [
        MEMBER,
        {**MEMBER, "city_name": "Tel Aviv", "country_code": "IL", "joined_year": "abc"},
        {**MEMBER, "city_name": "São Paulo", "country_code": "BR", "joined_year": "2012"},
    ]
    built = memberships(resolver, *rows)
    assert built.table["city_id"].tolist() == [PRAGUE, "gn:3448439"]
    assert built.table["joined_year"].tolist()[1] == 2012
    assert set(built.rejected["column_name"]) == {"joined_year"}
    assert set(built.rejected["value"]) == {"abc"}
    rules = built.rejected["rule"].tolist()
    assert "coerce_dtype('Int64')" in rules
    assert all("Int64" in r and ("coerce" in r or "dtype" in r) for r in rules)
    assert json.loads(built.rejected["record"].iloc[0])["city_name"] == "Tel Aviv"


def test_one_check_failing_in_two_columns_names_both(resolver: Resolver) -> None:
    built = memberships(resolver, {**MEMBER, "joined_year": "abc", "left_year": "xyz"})
    assert built.table.empty
    coerce = built.rejected[built.rejected["rule"] == "coerce_dtype('Int64')"]
    assert sorted(zip(coerce["column_name"], coerce["value"], strict=True)) == [
        ("joined_year", "abc"),
        ("left_year", "xyz"),
    ]
    assert set(coerce["source_row"]) == {"memberships.csv line 2"}


def test_role_outside_code_list_is_rejected(resolver: Resolver) -> None:
    built = memberships(
        resolver, MEMBER, {**MEMBER, "city_name": "Tel Aviv", "country_code": "IL", "role": "boss"}
    )
    assert built.table["city_id"].tolist() == [PRAGUE]
    (reject,) = built.rejected.to_dict("records")
    assert reject["rule"].startswith("isin(")
    assert "founding_member" in reject["rule"]
    assert (reject["column_name"], reject["value"]) == ("role", "boss")
    assert reject["reason"].endswith("failed on role='boss'")


def test_leaving_before_joining_is_rejected(resolver: Resolver) -> None:
    row = {**MEMBER, "joined_year": "2010", "left_year": "2005"}
    built = memberships(resolver, row, {**row, "network_id": "iclei", "left_year": "2010"})
    assert built.table["network_id"].tolist() == ["iclei"]
    assert built.table["left_year"].tolist() == [2010]
    (reject,) = built.rejected.to_dict("records")
    assert reject["rule"] == "left_after_joined"
    assert reject["reason"] == "left_after_joined failed"
    assert pd.isna(reject["column_name"])


def test_same_city_twice_in_a_network_is_a_duplicate(resolver: Resolver) -> None:
    # 'Praha' and 'Prague' are the same place: the second row repeats the first.
    built = memberships(resolver, MEMBER, {**MEMBER, "city_name": "Prague", "role": "observer"})
    assert built.table["source_city_name"].tolist() == ["Praha"]
    assert built.table["role"].tolist() == ["member"]
    reject = only(built.rejected, rule="duplicate")
    membership_id = stable_id("mem", "c40", PRAGUE)
    assert reject["source_row"] == "memberships.csv line 3"
    assert (reject["column_name"], reject["value"]) == ("membership_id", membership_id)
    assert (
        reject["reason"] == f"duplicate of memberships.csv line 2 (membership_id {membership_id})"
    )


def test_same_city_in_two_networks_is_two_memberships(resolver: Resolver) -> None:
    built = memberships(resolver, MEMBER, {**MEMBER, "network_id": "iclei"})
    assert built.table["membership_id"].tolist() == [
        stable_id("mem", "c40", PRAGUE),
        stable_id("mem", "iclei", PRAGUE),
    ]


MIXED_MEMBERSHIPS = [
    MEMBER,  # line 2: kept
    {**MEMBER, "city_name": "Atlantis"},  # line 3: city_unresolved
    {**MEMBER, "network_id": "nope"},  # line 4: foreign_key
    {**MEMBER, "city_name": "Prague"},  # line 5: duplicate of line 2
    {**MEMBER, "city_name": "Tel Aviv", "country_code": "IL", "joined_year": "abc"},  # line 6
    {**MEMBER, "city_name": "São Paulo", "country_code": "BR", "role": "boss"},  # line 7
    {**MEMBER, "city_name": "Taipei", "country_code": "TW", "source_url": None},  # line 8
    {**MEMBER, "network_id": "iclei", "joined_year": "2010", "left_year": "2005"},  # line 9
    {**MEMBER, "city_name": "Portland", "country_code": "US", "admin1_code": "OR"},  # line 10
]


def test_rows_rejected_before_validation_are_accounted(resolver: Resolver) -> None:
    built = memberships(resolver, *MIXED_MEMBERSHIPS)
    assert built.table["city_id"].tolist() == [PRAGUE, PORTLAND_OR]
    by_row = rejected_by_row(built)
    assert by_row["memberships.csv line 3"] == ["city_unresolved"]
    assert by_row["memberships.csv line 4"] == ["foreign_key"]
    assert by_row["memberships.csv line 5"] == ["duplicate"]
    # Rows 6-9 break schema rules: one entry each (a failed coercion is not also counted
    # as the wrong dtype).
    schema_rules = built.rejected.loc[
        ~built.rejected["rule"].isin(["city_unresolved", "foreign_key", "duplicate"]), "rule"
    ]
    assert sorted(schema_rules.str.split("(").str[0]) == [
        "coerce_dtype",
        "has_citation",
        "isin",
        "left_after_joined",
    ]


def test_every_input_row_is_published_or_rejected(resolver: Resolver) -> None:
    built = memberships(resolver, *MIXED_MEMBERSHIPS)
    rejected_rows = built.rejected["source_row"].nunique()
    assert len(built.table) + rejected_rows == len(MIXED_MEMBERSHIPS)
    assert built.tally == Tally(rows_in=9, published=2, merged=0, rejected=7)


def test_a_builder_that_drops_a_row_without_a_reason_stops_the_run(
    resolver: Resolver, monkeypatch: pytest.MonkeyPatch
) -> None:
    # a defect in de-duplication that loses the last row instead of rejecting it
    monkeypatch.setattr(build, "drop_duplicates", lambda frame, key, rejects: frame.iloc[:-1])
    with pytest.raises(RowsLostError) as lost:
        memberships(resolver, MEMBER, {**MEMBER, "city_name": "Tel Aviv", "country_code": "IL"})
    assert str(lost.value) == (
        "memberships: of 2 input rows, 1 published and 0 rejected; "
        "1 neither published nor rejected (first: memberships.csv line 3)"
    )


def test_a_row_both_published_and_rejected_or_invented_stops_the_run() -> None:
    inputs = pd.DataFrame({"source_row": ["f.csv line 2", "f.csv line 3"]}, index=[10, 11])
    rejects = Rejects(inputs, "agreements")
    rejects.inputs = inputs.assign(source="registry", snapshot_id="s")
    rejects.add(pd.Index([11]), "duplicate", "duplicate of f.csv line 2")
    assert check_conservation(rejects, pd.Index([10])) == Tally(2, 1, 0, 1)
    with pytest.raises(
        RowsLostError, match=r"1 both published and rejected \(first: f.csv line 3\)"
    ):
        check_conservation(rejects, pd.Index([10, 11]))
    with pytest.raises(RowsLostError, match="1 published rows stand for no input row"):
        check_conservation(rejects, pd.Index([10, 12]))
    doubled = Rejects(pd.DataFrame({"source_row": ["a", "b"]}, index=[1, 1]), "agreements")
    with pytest.raises(RowsLostError, match="input rows have duplicate index labels"):
        check_conservation(doubled, pd.Index([1]))


def test_schema_reject_names_its_source_row(resolver: Resolver) -> None:
    built = memberships(resolver, MEMBER, {**MEMBER, "network_id": "iclei", "role": "boss"})
    assert built.rejected["source_row"].tolist() == ["memberships.csv line 3"]


def test_schema_reject_records_the_input_row_as_read(resolver: Resolver) -> None:
    row = {**MEMBER, "network_id": "iclei", "admin1_code": "52", "role": "boss"}
    built = memberships(resolver, row)
    record = json.loads(built.rejected["record"].iloc[0])
    assert record == {c: row.get(c) for c in COLUMNS["memberships"]}


# ----------------------------------------------------------------------------- agreements

PAIR = {
    "city_a_name": "Taipei",
    "city_a_country_code": "TW",
    "city_b_name": "Tel Aviv",
    "city_b_country_code": "IL",
    "kind": "sister_city",
    "start_year": "2020",
    "citation": "City council minutes, 2020",
}


def swapped(row: dict[str, Any]) -> dict[str, Any]:
    out = dict(row)
    for field in ("name", "country_code", "admin1_code"):
        out[f"city_a_{field}"], out[f"city_b_{field}"] = (
            row.get(f"city_b_{field}"),
            row.get(f"city_a_{field}"),
        )
    return out


def test_pair_stored_in_string_order(resolver: Resolver) -> None:
    # Numerically 293397 < 1668341, but ids compare as strings: 'gn:1668341' < 'gn:293397'.
    # Line 2 is in canonical order already, line 3 is reversed.
    other = {**PAIR, "city_b_name": "Prague", "city_b_country_code": "CZ", "kind": "friendship"}
    built = build_agreements(registry("agreements", other, swapped(PAIR)), resolver)
    assert list(built.table.columns) == column_order(Agreements)
    assert built.rejected.empty
    stored = built.table.set_index("kind")
    assert tuple(stored.loc["sister_city", ["city_a_id", "city_b_id"]]) == (TAIPEI, TEL_AVIV)
    assert tuple(stored.loc["sister_city", ["city_a_source_name", "city_b_source_name"]]) == (
        "Taipei",
        "Tel Aviv",
    )
    assert stored.loc["sister_city", "agreement_id"] == stable_id(
        "agr", TAIPEI, TEL_AVIV, "sister_city"
    )
    assert stored.loc["sister_city", "start_year"] == 2020
    assert tuple(stored.loc["friendship", ["city_a_id", "city_b_id"]]) == (TAIPEI, PRAGUE)
    assert tuple(stored.loc["friendship", ["city_a_source_name", "city_b_source_name"]]) == (
        "Taipei",
        "Prague",
    )


def test_reversed_pair_alone_keeps_both_names(resolver: Resolver) -> None:
    built = build_agreements(registry("agreements", swapped(PAIR)), resolver)
    stored = built.table.iloc[0]
    assert (stored["city_a_id"], stored["city_b_id"]) == (TAIPEI, TEL_AVIV)
    assert (stored["city_a_source_name"], stored["city_b_source_name"]) == ("Taipei", "Tel Aviv")


def test_swap_keeps_source_spelling_with_its_city(resolver: Resolver) -> None:
    row = {**PAIR, "city_a_name": "Tel Aviv-Yafo", "city_a_country_code": "IL"}
    row |= {"city_b_name": "Praha", "city_b_country_code": "CZ"}
    built = build_agreements(registry("agreements", row, swapped(row)), resolver)
    stored = built.table.iloc[0]
    assert (stored["city_a_id"], stored["city_b_id"]) == (TEL_AVIV, PRAGUE)
    assert (stored["city_a_source_name"], stored["city_b_source_name"]) == (
        "Tel Aviv-Yafo",
        "Praha",
    )
    # The same pair in the other order is the same agreement.
    assert len(built.table) == 1
    reject = only(built.rejected, rule="duplicate")
    assert reject["source_row"] == "agreements.csv line 3"
    assert reject["reason"].startswith("duplicate of agreements.csv line 2 (agreement_id agr:")


def test_agreement_id_ignores_input_order(resolver: Resolver) -> None:
    one = build_agreements(registry("agreements", PAIR), resolver).table
    other = build_agreements(registry("agreements", swapped(PAIR)), resolver).table
    assert one["agreement_id"].tolist() == other["agreement_id"].tolist()
    assert one["agreement_id"].tolist() == [stable_id("agr", TAIPEI, TEL_AVIV, "sister_city")]
    assert other[["city_a_id", "city_b_id"]].values.tolist() == [[TAIPEI, TEL_AVIV]]


def test_kinds_are_separate_agreements(resolver: Resolver) -> None:
    built = build_agreements(registry("agreements", PAIR, {**PAIR, "kind": "friendship"}), resolver)
    assert built.table["agreement_id"].tolist() == [
        stable_id("agr", TAIPEI, TEL_AVIV, "sister_city"),
        stable_id("agr", TAIPEI, TEL_AVIV, "friendship"),
    ]


def test_same_city_on_both_sides_is_a_self_pair(resolver: Resolver) -> None:
    row = {**PAIR, "city_a_name": "Prague", "city_a_country_code": "CZ"}
    row |= {"city_b_name": "Praha", "city_b_country_code": "CZ"}
    built = build_agreements(registry("agreements", PAIR, row), resolver)
    assert len(built.table) == 1
    reject = only(built.rejected, rule="self_pair")
    assert reject["source_row"] == "agreements.csv line 3"
    assert (reject["column_name"], reject["value"]) == ("city_a_id", PRAGUE)
    assert reject["reason"] == "both sides are the same city"


def test_unresolved_side_is_named(resolver: Resolver) -> None:
    built = build_agreements(registry("agreements", {**PAIR, "city_b_name": "Atlantis"}), resolver)
    reject = only(built.rejected, rule="city_unresolved")
    assert (reject["column_name"], reject["value"]) == ("city_b_name", "Atlantis")
    assert reject["reason"] == "no GeoNames place named 'Atlantis' in IL"
    assert json.loads(reject["record"])["city_a_name"] == "Taipei"


def test_start_date_outside_start_year_is_rejected(resolver: Resolver) -> None:
    good = {**PAIR, "start_date": "2020-01-13"}
    bad = {**PAIR, "kind": "friendship", "start_year": "2019", "start_date": "2020-01-13"}
    built = build_agreements(registry("agreements", good, bad), resolver)
    assert built.table["kind"].tolist() == ["sister_city"]
    assert built.table["start_date"].tolist() == ["2020-01-13"]
    assert built.rejected["rule"].tolist() == ["start_date_in_start_year"]


def test_agreement_ending_before_start_is_rejected(resolver: Resolver) -> None:
    built = build_agreements(registry("agreements", {**PAIR, "end_year": "2019"}), resolver)
    assert built.table.empty
    assert built.rejected["rule"].tolist() == ["end_after_start"]


def test_rejected_reversed_pair_records_the_input_row(resolver: Resolver) -> None:
    row = {**PAIR, "city_a_name": "Prague", "city_a_country_code": "CZ"}
    built = build_agreements(registry("agreements", PAIR, swapped(row), row), resolver)
    reject = only(built.rejected, rule="duplicate")
    assert reject["source_row"] == "agreements.csv line 4"
    record = json.loads(reject["record"])
    side_a = record.get("city_a_name", record.get("city_a_source_name"))
    assert (side_a, record["city_a_country_code"]) == ("Prague", "CZ")


# ---------------------------------------------------------------------------- commitments

TARGET = {
    "city_name": "Portland",
    "country_code": "US",
    "admin1_code": "OR",
    "kind": "emissions_reduction",
    "target_year": "2030",
    "baseline_year": "1990",
    "reduction_pct": "50",
    "source_url": "https://www.portland.gov/climate-emergency",
}


def test_commitment_row(resolver: Resolver) -> None:
    built = build_commitments(registry("commitments", TARGET), resolver)
    assert list(built.table.columns) == column_order(Commitments)
    row = built.table.iloc[0]
    assert row["city_id"] == PORTLAND_OR
    assert row["city_source_name"] == "Portland"
    assert (row["target_year"], row["baseline_year"], row["reduction_pct"]) == (2030, 1990, 50.0)
    assert row["commitment_id"] == stable_id(
        "com", PORTLAND_OR, "emissions_reduction", "2030", "1990", "50", "registry"
    )


def test_commitment_id_is_stable(resolver: Resolver) -> None:
    other = {**TARGET, "city_name": "Prague", "country_code": "CZ", "admin1_code": None}
    first = build_commitments(registry("commitments", TARGET, other), resolver).table
    again = build_commitments(registry("commitments", TARGET, other), resolver).table
    reordered = build_commitments(registry("commitments", other, TARGET), resolver).table
    assert first["commitment_id"].tolist() == again["commitment_id"].tolist()
    assert sorted(first["commitment_id"]) == sorted(reordered["commitment_id"])
    assert first["commitment_id"].str.fullmatch(r"com:[0-9a-f]{16}").all()
    assert first["commitment_id"].nunique() == 2


def test_reduction_over_100_percent_is_rejected(resolver: Resolver) -> None:
    bad = {**TARGET, "target_year": "2035", "reduction_pct": "150"}
    built = build_commitments(registry("commitments", TARGET, bad), resolver)
    assert built.table["reduction_pct"].tolist() == [50.0]
    (reject,) = built.rejected.to_dict("records")
    assert reject["rule"] == "less_than_or_equal_to(100)"
    assert reject["column_name"] == "reduction_pct"
    assert float(reject["value"]) == 150.0


@pytest.mark.parametrize("baseline", ["2030", "2040"])
def test_baseline_not_before_target_is_rejected(resolver: Resolver, baseline: str) -> None:
    built = build_commitments(
        registry("commitments", {**TARGET, "baseline_year": baseline}), resolver
    )
    assert built.table.empty
    assert built.rejected["rule"].tolist() == ["baseline_before_target"]


def test_ambiguous_commitment_city(resolver: Resolver) -> None:
    built = build_commitments(registry("commitments", {**TARGET, "admin1_code": None}), resolver)
    assert built.table.empty
    reject = only(built.rejected, rule="city_ambiguous")
    assert reject["source_row"] == "commitments.csv line 2"
    assert "gn:5746545, gn:4975802" in reject["reason"]


# ------------------------------------------------------------------------------- networks

NETWORK = {
    "network_id": "c40",
    "name": "C40 Cities Climate Leadership Group",
    "acronym": "C40",
    "founded_year": "2005",
    "hq_city_name": "Prague",
    "hq_country_code": "CZ",
    "website_url": "https://www.c40.org",
    "focus": "climate",
    "scope": "global",
    "source_urls": "https://www.c40.org/about",
}


def test_networks(resolver: Resolver) -> None:
    rows = registry(
        "networks",
        NETWORK,
        {**NETWORK, "network_id": "iclei", "hq_city_name": "Bonn", "hq_country_code": "DE"},
        {**NETWORK, "network_id": "cookbook", "focus": "cooking"},
        {**NETWORK, "network_id": "nohq", "hq_city_name": None, "hq_country_code": None},
    )
    built, unresolved_hq = build_networks(rows, resolver)
    assert unresolved_hq == 1  # Bonn is not in the resolver; 'nohq' states no HQ
    table = built.table.set_index("network_id")
    assert list(built.table.columns) == column_order(Networks)
    assert list(table.index) == ["c40", "iclei", "nohq"]
    assert table.loc["c40", "hq_city_id"] == PRAGUE
    assert table.loc["c40", "founded_year"] == 2005
    assert pd.isna(table.loc["iclei", "hq_city_id"])
    assert table.loc["iclei", "hq_city_name"] == "Bonn"
    assert pd.isna(table.loc["nohq", "hq_city_id"])
    (reject,) = built.rejected.to_dict("records")
    assert reject["rule"].startswith("isin(")
    assert (reject["column_name"], reject["value"]) == ("focus", "cooking")
    assert json.loads(reject["record"])["network_id"] == "cookbook"


def test_ambiguous_hq_is_counted_and_kept(resolver: Resolver) -> None:
    row = {**NETWORK, "hq_city_name": "Portland", "hq_country_code": "US"}
    built, unresolved_hq = build_networks(registry("networks", row), resolver)
    assert unresolved_hq == 1
    assert built.table["network_id"].tolist() == ["c40"]
    assert built.table["hq_city_id"].isna().all()


def test_hq_admin1_settles_a_namesake_headquarters(resolver: Resolver) -> None:
    row = {**NETWORK, "hq_city_name": "Portland", "hq_country_code": "US", "hq_admin1_code": "ME"}
    built, unresolved_hq = build_networks(registry("networks", row), resolver)
    assert unresolved_hq == 0
    assert built.table["hq_city_id"].tolist() == ["gn:4975802"]


def test_duplicate_network_id(resolver: Resolver) -> None:
    rows = registry("networks", NETWORK, {**NETWORK, "name": "C40 again"})
    built, _ = build_networks(rows, resolver)
    assert built.table["name"].tolist() == ["C40 Cities Climate Leadership Group"]
    reject = only(built.rejected, rule="duplicate")
    assert reject["reason"] == "duplicate of networks.csv line 2 (network_id c40)"


# ------------------------------------------------------------------ validation and helpers


def membership_frame(**changes: Any) -> pd.DataFrame:
    row = {
        "membership_id": stable_id("mem", "c40", PRAGUE),
        "network_id": "c40",
        "city_id": PRAGUE,
        "role": "member",
        "joined_year": "2005",
        "left_year": None,
        "as_of_year": "2025",
        "source_city_name": "Praha",
        "source": "registry",
        "source_url": None,
        "citation": "C40 member list",
        "snapshot_id": "registry-memberships-abc",
        **changes,
    }
    return pd.DataFrame([row], dtype=object)


def provenance_inputs(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.assign(source_row=[f"memberships.csv line {i + 2}" for i in range(len(frame))])


def test_split_valid_rows_keeps_valid_rows() -> None:
    frame = pd.concat(
        [membership_frame(), membership_frame(membership_id="mem:" + "0" * 16, joined_year="x")],
        ignore_index=True,
    )
    rejects = Rejects(provenance_inputs(frame), "memberships")
    valid = split_valid_rows(frame, without_unique(Memberships), rejects)
    assert valid["joined_year"].tolist() == [2005]
    rejected = rejects.frame()
    assert rejected["rule"].tolist() == ["coerce_dtype('Int64')"]
    assert set(rejected["table_name"]) == {"memberships"}
    assert set(rejected["source_row"]) == {"memberships.csv line 3"}


def test_split_valid_rows_missing_column_stops_the_run() -> None:
    frame = membership_frame().drop(columns=["role"])
    rejects = Rejects(provenance_inputs(frame), "memberships")
    with pytest.raises(SchemaChangedError, match="memberships: the frame as a whole fails") as info:
        split_valid_rows(frame, without_unique(Memberships), rejects)
    assert "column_in_dataframe" in str(info.value)
    assert "role" in str(info.value)


def test_split_valid_rows_unknown_column_stops_the_run() -> None:
    frame = membership_frame(country_code="CZ")
    rejects = Rejects(provenance_inputs(frame), "memberships")
    with pytest.raises(SchemaChangedError, match="column_in_schema"):
        split_valid_rows(frame, without_unique(Memberships), rejects)


def test_drop_duplicates_keeps_first() -> None:
    frame = pd.DataFrame(
        {"key": ["a", "b", "a", "a"], "source_row": ["l2", "l3", "l4", "l5"]}
    ).assign(source="registry", snapshot_id="s")
    rejects = Rejects(frame, "t")
    kept = drop_duplicates(frame, "key", rejects)
    assert kept["source_row"].tolist() == ["l2", "l3"]
    rejected = rejects.frame()
    assert rejected["source_row"].tolist() == ["l4", "l5"]
    assert rejected["reason"].tolist() == ["duplicate of l2 (key a)"] * 2
    assert json.loads(rejected["record"].iloc[0]) == {"key": "a"}


def test_an_invalid_first_row_does_not_shadow_a_valid_duplicate() -> None:
    frame = pd.concat([membership_frame(role="boss"), membership_frame()], ignore_index=True)
    inputs = provenance_inputs(frame)
    built = accept(
        frame, Memberships, "membership_id", Rejects(inputs, "memberships"), Matches(inputs, "x")
    )
    assert built.table["role"].tolist() == ["member"]
    assert built.rejected["rule"].tolist() == [
        "isin(('member', 'founding_member', 'associate_member', 'observer'))"
    ]


def test_commitment_ids_hash_numbers_not_their_spelling() -> None:
    assert canonical_number("50") == canonical_number("50.0") == canonical_number(50) == "50"
    assert canonical_number("42.5") == "42.5"
    assert canonical_number(None) == canonical_number(pd.NA) == ""
    assert canonical_number("about 50") == "about 50"


def test_stable_id() -> None:
    assert (
        stable_id("mem", "c40", PRAGUE)
        == "mem:" + hashlib.sha256(b"c40|gn:3067696").hexdigest()[:16]
    )
    assert stable_id("x", None, "a") == stable_id("x", pd.NA, "a") == stable_id("x", "", "a")
    assert stable_id("agr", "a", "b") != stable_id("agr", "b", "a")
    assert stable_id("com", 2030) == stable_id("com", "2030")


def test_column_order_puts_provenance_last() -> None:
    assert column_order(Memberships)[-4:] == ["source", "source_url", "citation", "snapshot_id"]
    assert column_order(Memberships)[0] == "membership_id"
    assert column_order(Networks)[-2:] == ["source", "snapshot_id"]
    assert column_order(Cities)[-2:] == ["source", "snapshot_id"]
    assert sorted(column_order(Agreements)) == sorted(Agreements.to_schema().columns)


def test_concat_rejects_of_nothing() -> None:
    out = concat_rejects([])
    assert out.empty
    assert list(out.columns) == REJECT_COLUMNS


# --------------------------------------------------------------------------------- cities

ADMIN1 = pd.DataFrame(
    {
        "country_code": ["CZ", "US", "US", "BR"],
        "admin1_code": ["52", "OR", "ME", "27"],
        "admin1_name": ["Hlavní město Praha", "Oregon", "Maine", "São Paulo"],
    }
)


def test_build_cities(gazetteer: pd.DataFrame) -> None:
    cities = build_cities(
        gazetteer,
        ADMIN1,
        no_places(),
        pd.Series([PORTLAND_OR, None, PRAGUE]),
        pd.Series([PRAGUE], dtype=object),
        pd.Series([TAIPEI]),
    )
    assert list(cities.columns) == column_order(Cities)
    assert cities["city_id"].tolist() == [TAIPEI, PRAGUE, PORTLAND_OR]
    assert cities["geonames_id"].tolist() == [1668341, 3067696, 5746545]
    assert cities["admin1_name"].tolist()[1:] == ["Hlavní město Praha", "Oregon"]
    assert pd.isna(cities["admin1_name"].iloc[0])  # no TW row in the admin1 frame
    assert cities["name"].tolist() == ["Taipei", "Prague", "Portland"]
    assert set(cities["source"]) == {"geonames"}
    assert set(cities["snapshot_id"]) == {"geonames-cities15000-abc"}
    assert cities["wikidata_qid"].isna().all() and cities["kinds"].isna().all()
    assert list(cities.index) == [0, 1, 2]


def test_build_cities_without_admin1_names(gazetteer: pd.DataFrame) -> None:
    empty = pd.DataFrame({c: pd.Series(dtype="str") for c in ADMIN1.columns})
    cities = build_cities(gazetteer, empty, no_places(), pd.Series(["gn:3448439"]))
    assert cities["city_id"].tolist() == ["gn:3448439"]
    assert cities["name"].tolist() == ["São Paulo"]
    assert cities["admin1_name"].isna().all()


# -------------------------------------------------------------------------------- sources

REGISTRY_INFO = SourceInfo(
    slug="registry",
    publisher="citydiplomacy project",
    licence="CC BY 4.0",
    attribution="citydiplomacy curated registry",
    homepage="raw/registry/",
)
GEONAMES_INFO = SourceInfo(
    slug="geonames",
    publisher="GeoNames",
    licence="CC BY 4.0",
    attribution="GeoNames (geonames.org), licensed under CC BY 4.0",
    homepage="https://www.geonames.org/",
)


def source_file(source: str, name: str, content: bytes, **extra: Any) -> SourceFile:
    sha = hashlib.sha256(content).hexdigest()
    return SourceFile(
        source=source,
        role=name.split(".")[0],
        snapshot_id=f"{source}-{name.split('.')[0]}-{sha[:12]}",
        file_name=name,
        path=f"/data/{name}",
        origin=f"https://example.org/{name}",
        sha256=sha,
        bytes=len(content),
        **extra,
    )


def test_build_sources() -> None:
    files = [
        source_file("registry", "memberships.csv", b"network_id,city_name\n"),
        source_file(
            "geonames",
            "cities15000.zip",
            b"PK\x03\x04",
            retrieved_at="2025-01-01T00:00:00Z",
            note="stale copy",
        ),
    ]
    sources = build_sources(files, [GEONAMES_INFO, REGISTRY_INFO])
    assert sources["snapshot_id"].tolist() == [f.snapshot_id for f in files]
    assert sources["file_name"].tolist() == ["memberships.csv", "cities15000.zip"]
    assert sources["publisher"].tolist() == ["citydiplomacy project", "GeoNames"]
    assert sources["licence"].tolist() == ["CC BY 4.0", "CC BY 4.0"]
    assert sources["attribution"].tolist() == [
        "citydiplomacy curated registry",
        "GeoNames (geonames.org), licensed under CC BY 4.0",
    ]
    assert sources["bytes"].tolist() == [21, 4]
    assert sources["sha256"].tolist() == [f.sha256 for f in files]
    assert pd.isna(sources["retrieved_at"].iloc[0])
    assert sources["retrieved_at"].iloc[1] == "2025-01-01T00:00:00Z"
    assert sources["note"].iloc[1] == "stale copy"


def test_build_sources_needs_the_source_info() -> None:
    files = [source_file("geonames", "countryInfo.txt", b"AD\tAND")]
    with pytest.raises(KeyError, match="geonames"):
        build_sources(files, [REGISTRY_INFO])


# -------------------------------------------------------- crosswalk and resolution figures


def test_the_crosswalk_and_unresolved_names_come_from_every_reference(
    resolver: Resolver,
) -> None:
    built = memberships(
        resolver,
        MEMBER,
        {**MEMBER, "network_id": "iclei"},
        {**MEMBER, "city_name": "Springfield", "country_code": "US"},
        {**MEMBER, "city_name": "Atlantis"},
    )
    crosswalk = build_city_ids([built.matches])
    assert crosswalk[["source_name", "source_country", "city_id", "method", "rows"]].to_dict(
        "records"
    ) == [
        {
            "source_name": "Praha",
            "source_country": "CZ",
            "city_id": PRAGUE,
            "method": "alternate_name",
            "rows": 2,
        }
    ]
    assert crosswalk.iloc[0]["geonames_id"] == 3067696
    assert crosswalk.iloc[0]["confidence"] == pytest.approx(0.95)
    unresolved = build_unresolved_names([built.matches]).set_index("source_name")
    assert unresolved.loc["Springfield", "outcome"] == "ambiguous"
    assert unresolved.loc["Springfield", "candidate_ids"] == "gn:4409896, gn:4250542"
    assert unresolved.loc["Atlantis", "outcome"] == "unresolved"
    assert resolution_quality(crosswalk, unresolved.reset_index()) == {
        "registry": {
            "rows": 4,
            "resolved": {"alternate_name": 2},
            "unresolved": 1,
            "ambiguous": 1,
            "conflict": 0,
        }
    }


def test_rejected_records_are_the_same_json_whatever_the_chunk(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    frame = pd.DataFrame(
        {
            "name": pd.Series(["Köln", None, "Lyon", "Graz", "Ulm"], dtype="str"),
            "year": pd.array([1950, None, 2001, None, 7], dtype="Int64"),
        }
    )
    whole = build.json_records(frame)
    assert whole[0] == '{"name": "Köln", "year": 1950}'
    assert whole[1] == '{"name": null, "year": null}'
    monkeypatch.setattr(build, "RECORD_CHUNK", 2)
    assert build.json_records(frame) == whole
    assert build.json_records(frame.iloc[:0]) == []
