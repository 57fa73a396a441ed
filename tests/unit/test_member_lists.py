"""Member lists: the Eurocities page copy and the generic CSV format, their dates, and
memberships built across dated lists (a city a newer list leaves out has left)."""

import re
from pathlib import Path

import dagster as dg
import pandas as pd
import pytest

from assets.build import stable_id
from assets.build_members import build_list_memberships, end_memberships
from assets.parsed import member_lists_asset
from assets.resolve import Resolver
from assets.sources import ParseError
from assets.sources import eurocities_members as eurocities
from assets.sources import network_members as members
from pipeline.snapshots import SnapshotStore
from tests.conftest import small_gazetteer

PRAGUE, TEL_AVIV, TAIPEI = "gn:3067696", "gn:293397", "gn:1668341"
NETWORKS = pd.DataFrame({"network_id": ["eurocities", "c40"]})
EUROCITIES_TEXT = "# copy pasted from website\nPrague\nczech republic\n\nTel Aviv\nisrael\n"


@pytest.fixture(scope="module")
def resolver() -> Resolver:
    return Resolver.from_frames(small_gazetteer())


# ------------------------------------------------------------------------------- parsers


def test_eurocities_pairs_names_with_the_country_line_after_them() -> None:
    frame = eurocities.parse_members(EUROCITIES_TEXT.encode(), "eurocities.2025-06.txt", "2025-06")
    assert frame[["network_id", "city_name", "country_code", "role", "as_of"]].values.tolist() == [
        ["eurocities", "Prague", "czech republic", "member", "2025-06"],
        ["eurocities", "Tel Aviv", "israel", "member", "2025-06"],
    ]
    assert frame["source_row"].tolist() == [
        "eurocities.2025-06.txt line 2",
        "eurocities.2025-06.txt line 5",
    ]
    assert frame["citation"].iloc[0] == (
        "Eurocities member list as published on eurocities.eu, as of 2025-06 "
        "(copied as eurocities.2025-06.txt)"
    )


def test_eurocities_lines_out_of_step_stop_the_parse_where_they_slip() -> None:
    slipped = "Prague\nczech republic\nTel Aviv\nJaffa\nisrael\n"
    with pytest.raises(ParseError) as error:
        eurocities.parse_members(slipped.encode(), "e.txt", "2025-06")
    assert str(error.value) == (
        "eurocities_members: e.txt, line 4: expected the country of 'Tel Aviv' (line 3), "
        "found 'Jaffa'"
    )
    with pytest.raises(ParseError, match="line 3: 'Tel Aviv' has no country line after it"):
        eurocities.parse_members(b"Prague\nczechia\nTel Aviv\n", "e.txt", "2025-06")


def test_generic_csv_reads_required_and_optional_columns() -> None:
    text = (
        "network_id,name,country,joined_year,role,admin1\n"
        "c40,Portland,US,2008,,OR\n"
        "c40,Prague,CZ,,founding_member,\n"
    )
    frame = members.parse_members(text.encode(), "c40.2025-01.csv", "2025-01")
    assert frame[["city_name", "country_code", "admin1_code", "joined_year", "role"]].to_dict(
        "records"
    ) == [
        {
            "city_name": "Portland",
            "country_code": "US",
            "admin1_code": "OR",
            "joined_year": "2008",
            "role": "member",
        },
        {
            "city_name": "Prague",
            "country_code": "CZ",
            "admin1_code": None,
            "joined_year": None,
            "role": "founding_member",
        },
    ]
    assert frame["citation"].iloc[0] == "c40 member list c40.2025-01.csv, as of 2025-01"
    assert frame["source_row"].iloc[1] == "c40.2025-01.csv line 3"


@pytest.mark.parametrize(
    ("header", "problem"),
    [
        ("network_id,name,joined_year", "missing ['country'], twice [], unknown []"),
        ("network_id,city,country", "missing ['name'], twice [], unknown ['city']"),
        ("network_id,name,country,name", "missing [], twice ['name'], unknown []"),
    ],
    ids=["missing", "renamed", "twice"],
)
def test_generic_csv_with_a_header_it_does_not_know_fails(header: str, problem: str) -> None:
    """A required column removed or renamed, or one named twice, fails the list; the
    message names the columns."""
    content = f"{header}\nc40,Prague,CZ{',x' * (header.count(',') - 2)}\n".encode()
    with pytest.raises(ParseError) as error:
        members.parse_members(content, "members.csv", "2025")
    message = str(error.value)
    assert message.startswith("network_members: members.csv, line 1: header [")
    assert message.endswith(f"({problem})")


def test_generic_csv_with_a_short_row_fails_naming_the_line() -> None:
    with pytest.raises(ParseError, match=r"m\.csv, line 3: expected 3 fields, found 2"):
        members.parse_members(b"network_id,name,country\nc40,Prague,CZ\nc40,Oslo\n", "m.csv", "")


def test_a_list_is_dated_by_as_of_or_its_file_name() -> None:
    assert members.list_date("eurocities-members.2025-06.txt") == "2025-06"
    assert members.list_date("c40-2024-11-30.csv") == "2024-11-30"
    assert members.list_date("c40-2024-11-30.csv", "2025-01") == "2025-01"
    assert members.list_date("members.csv") is None
    assert members.list_date("members-2025-13.csv") is None  # no month 13


def test_a_list_without_a_date_is_not_imported() -> None:
    with pytest.raises(ParseError, match="a member list needs its date"):
        members.check_import("members.csv", b"network_id,name,country\nc40,Prague,CZ\n")
    members.check_import("members.csv", b"network_id,name,country\nc40,Prague,CZ\n", "2025-01")


def test_every_stored_list_is_read_oldest_first(tmp_path: Path) -> None:
    store = SnapshotStore(tmp_path)
    store.store("eurocities_members", "e.2025-06.txt", [b"b"], "x", "facts", as_of="2025-06")
    store.store("eurocities_members", "older.txt", [b"a"], "x", "facts", as_of="2024-06")
    files = members.select_lists(store, "eurocities_members")
    assert [members.dated(f) for f in files.values() if f] == ["2024-06", "2025-06"]


# ------------------------------------------------------------------------ schema drift

GENERIC = (
    "network_id,name,country,joined_year,role,admin1\n"
    "c40,Portland,US,2008,,OR\n"
    "c40,Prague,CZ,,founding_member,\n"
)


def test_an_added_column_is_a_warning_not_a_failure() -> None:
    """A list with a column of its own (a mayor, a website) still reads; the column is
    named so the run log can report it."""
    added = "\n".join(
        line + (",mayor" if number == 0 else f",m{number}")
        for number, line in enumerate(GENERIC.splitlines())
    )
    parsed = members.read_members(added.encode(), "c40.2025-01.csv", "2025-01")
    assert parsed.unknown_columns == ["mayor"]
    original = members.read_members(GENERIC.encode(), "c40.2025-01.csv", "2025-01")
    assert original.unknown_columns == []
    pd.testing.assert_frame_equal(parsed.frame, original.frame)


def test_reordered_columns_parse_to_the_same_rows() -> None:
    """Columns are read by name: the same list in another column order is the same rows."""
    rows = [line.split(",") for line in GENERIC.splitlines()]
    order = [5, 2, 4, 1, 3, 0]
    reordered = "".join(",".join(row[i] for i in order) + "\n" for row in rows)
    assert reordered.startswith("admin1,country,role,name,joined_year,network_id\n")
    pd.testing.assert_frame_equal(
        members.parse_members(reordered.encode(), "c40.2025-01.csv", "2025-01"),
        members.parse_members(GENERIC.encode(), "c40.2025-01.csv", "2025-01"),
    )


def test_the_parsed_asset_logs_an_added_column_naming_source_and_file(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    """Each list with a column the parser does not know is named in the run log and the
    asset's metadata; a list without one is not."""
    store = SnapshotStore(tmp_path)
    plain = b"network_id,name,country\nc40,Prague,CZ\n"
    extra = b"network_id,name,country,mayor\nc40,Prague,CZ,x\nc40,Lima,PE,y\n"
    store.store("network_members", "c40.2024-01.csv", [plain], "x", "facts", as_of="2024-01")
    store.store("network_members", "c40.2025-01.csv", [extra], "x", "facts", as_of="2025-01")
    asset = member_lists_asset("network_members")
    output = asset(dg.build_asset_context(), files=members.select_lists(store, "network_members"))
    assert output.value["source_row"].tolist() == [
        "c40.2024-01.csv line 2",
        "c40.2025-01.csv line 2",
        "c40.2025-01.csv line 3",
    ]
    log = capfd.readouterr().err
    assert (
        "WARNING - system - network_members: c40.2025-01.csv: columns the parser does not "
        "know, not read: ['mayor']" in log
    )
    assert "c40.2024-01.csv: columns" not in log
    assert output.metadata["unknown_columns"].text == "c40.2025-01.csv: mayor"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        # a heading above the list is read as a name, and the first name as its country
        (
            "Full members\nPrague\nczech republic\n",
            "line 2: expected the country of 'Full members' (line 1), found 'Prague'",
        ),
        # a line added under each member (here its membership since) puts them out of step
        (
            "Prague\nczech republic\nsince 1991\nTel Aviv\nisrael\n",
            "line 4: expected the country of 'since 1991' (line 3), found 'Tel Aviv'",
        ),
        # the country line removed
        (
            "Prague\nTel Aviv\n",
            "line 2: expected the country of 'Prague' (line 1), found 'Tel Aviv'",
        ),
        # country before name: only caught because a city's name is no country's
        (
            "czech republic\nPrague\nisrael\nTel Aviv\n",
            "line 2: expected the country of 'czech republic' (line 1), found 'Prague'",
        ),
    ],
    ids=["heading-added", "line-added", "country-removed", "name-and-country-swapped"],
)
def test_a_changed_eurocities_layout_fails_naming_the_line(text: str, message: str) -> None:
    """The page copy has no header: its columns are the alternating name and country
    lines, and any change to that layout is caught where a country line names no country.
    A heading that happens to be a country's name, or a swap where every city is named
    like a country, would not be caught."""
    with pytest.raises(ParseError) as error:
        eurocities.parse_members(text.encode(), "e.2025-06.txt", "2025-06")
    assert str(error.value) == f"eurocities_members: e.2025-06.txt, {message}"


# ------------------------------------------------------------------------- memberships


def list_rows(*lists: tuple[str, str, list[tuple[str, str]]]) -> pd.DataFrame:
    """Parsed rows of several lists: (network, as_of, [(name, country), ...]) each."""
    frames = []
    for number, (network, as_of, cities) in enumerate(lists):
        text = "network_id,name,country\n" + "".join(f"{network},{n},{c}\n" for n, c in cities)
        frame = members.parse_members(text.encode(), f"list{number}.csv", as_of)
        frames.append(frame.assign(snapshot_id=f"snap-{number}", source="network_members"))
    return pd.concat(frames, ignore_index=True)


def test_a_city_missing_from_a_newer_list_has_left_and_is_kept(resolver: Resolver) -> None:
    rows = list_rows(
        ("eurocities", "2024-06", [("Prague", "CZ"), ("Tel Aviv", "IL"), ("Taipei", "TW")]),
        ("eurocities", "2025-06", [("Prague", "CZ"), ("Tel Aviv", "IL")]),
    )
    built = build_list_memberships(rows, resolver, NETWORKS).built
    table = built.table.set_index("city_id")
    assert sorted(table.index) == sorted([PRAGUE, TEL_AVIV, TAIPEI])
    assert pd.isna(table.loc[PRAGUE, "left_year"])
    assert table.loc[PRAGUE, "as_of_year"] == 2025
    assert table.loc[PRAGUE, "snapshot_id"] == "snap-1"  # the newest list naming it
    assert table.loc[TAIPEI, "left_year"] == 2025
    assert table.loc[TAIPEI, "as_of_year"] == 2024
    assert table.loc[TAIPEI, "citation"] == (
        "eurocities member list list0.csv, as of 2024-06; not in the list as of 2025-06"
    )
    assert table.loc[PRAGUE, "citation"] == (
        "eurocities member list list0.csv, as of 2024-06; "
        "eurocities member list list1.csv, as of 2025-06"
    )
    assert table.loc[PRAGUE, "membership_id"] == stable_id("mem", "eurocities", PRAGUE)
    assert built.rejected.empty


def test_a_city_back_in_the_newest_list_has_not_left(resolver: Resolver) -> None:
    rows = list_rows(
        ("eurocities", "2023-06", [("Taipei", "TW")]),
        ("eurocities", "2024-06", [("Prague", "CZ")]),
        ("eurocities", "2025-06", [("Taipei", "TW"), ("Prague", "CZ")]),
    )
    table = build_list_memberships(rows, resolver, NETWORKS).built.table.set_index("city_id")
    assert table["left_year"].isna().all()


def test_a_newer_list_of_another_network_ends_nothing(resolver: Resolver) -> None:
    rows = list_rows(
        ("eurocities", "2024-06", [("Prague", "CZ")]),
        ("c40", "2025-06", [("Taipei", "TW")]),
    )
    table = build_list_memberships(rows, resolver, NETWORKS).built.table
    assert table["left_year"].isna().all()


def test_list_rows_another_source_states_are_rejected_with_the_reason(
    resolver: Resolver,
) -> None:
    rows = list_rows(("eurocities", "2025-06", [("Prague", "CZ"), ("Taipei", "TW")]))
    existing = {stable_id("mem", "eurocities", PRAGUE)}
    built = build_list_memberships(rows, resolver, NETWORKS, existing).built
    assert built.table["city_id"].tolist() == [TAIPEI]
    (reject,) = built.rejected.to_dict("records")
    assert (reject["rule"], reject["source_row"]) == ("duplicate", "list0.csv line 2")
    assert reject["reason"] == "another source states this membership already"


def test_one_city_named_twice_in_a_list_is_one_membership(resolver: Resolver) -> None:
    rows = list_rows(("eurocities", "2025-06", [("Tel Aviv", "IL"), ("Tel Aviv-Yafo", "IL")]))
    built = build_list_memberships(rows, resolver, NETWORKS).built
    assert built.table["city_id"].tolist() == [TEL_AVIV]
    (reject,) = built.rejected.to_dict("records")
    assert reject["rule"] == "duplicate"
    assert reject["reason"] == "the list names this city already at list0.csv line 2 ('Tel Aviv')"


def test_unknown_networks_and_cities_are_rejected_not_dropped(resolver: Resolver) -> None:
    rows = list_rows(("iclei", "2025-06", [("Prague", "CZ")]))
    rows = pd.concat([rows, list_rows(("c40", "2025-06", [("Atlantis", "GR")]))])
    rows = rows.reset_index(drop=True)
    built = build_list_memberships(rows, resolver, NETWORKS).built
    assert built.table.empty
    assert sorted(built.rejected["rule"]) == ["city_unresolved", "foreign_key"]
    assert len(built.table) + len(built.rejected) == len(rows)


def joined_lists(old_year: str, new_year: str) -> pd.DataFrame:
    text = "network_id,name,country,joined_year\n"
    old = members.parse_members(
        (text + f"c40,Prague,CZ,{old_year}\n").encode(), "old.csv", "2024-01"
    ).assign(snapshot_id="s0", source="network_members")
    new = members.parse_members(
        (text + f"c40,Prague,CZ,{new_year}\n").encode(), "new.csv", "2025-01"
    ).assign(snapshot_id="s1", source="network_members")
    return pd.concat([old, new], ignore_index=True)


def test_a_joined_year_that_is_no_year_in_the_newest_list_rejects_the_membership(
    resolver: Resolver,
) -> None:
    built = build_list_memberships(joined_lists("2005", "in 2005"), resolver, NETWORKS).built
    assert built.table.empty
    by_row = dict(zip(built.rejected["source_row"], built.rejected["rule"], strict=True))
    assert by_row == {
        "new.csv line 2": "coerce_dtype('Int64')",
        "old.csv line 2": "rejected_with_its_row",
    }


def test_an_older_list_s_bad_joined_year_costs_only_its_own_row(resolver: Resolver) -> None:
    built = build_list_memberships(joined_lists("c. 2005", "2006"), resolver, NETWORKS).built
    (row,) = built.table.to_dict("records")
    assert (row["city_id"], row["joined_year"], row["as_of_year"]) == (PRAGUE, 2006, 2025)
    (reject,) = built.rejected.to_dict("records")
    assert (reject["rule"], reject["source_row"], reject["value"]) == (
        "not_a_year",
        "old.csv line 2",
        "c. 2005",
    )


def test_a_newer_list_with_a_name_it_could_not_settle_there_ends_nothing(
    resolver: Resolver,
) -> None:
    # Tel Aviv may be the newer list's 'Tel Aviv-Jaffa Municipality', which no place is
    # named; Taipei's absence is sure: nothing in TW went unsettled
    rows = list_rows(
        ("eurocities", "2024-06", [("Tel Aviv", "IL"), ("Taipei", "TW"), ("Prague", "CZ")]),
        ("eurocities", "2025-06", [("Tel Aviv-Jaffa Municipality", "IL"), ("Prague", "CZ")]),
    )
    table = build_list_memberships(rows, resolver, NETWORKS).built.table.set_index("city_id")
    assert pd.isna(table.loc[TEL_AVIV, "left_year"])
    assert table.loc[TAIPEI, "left_year"] == 2025


def test_a_membership_another_source_states_is_ended_by_a_newer_list(
    resolver: Resolver,
) -> None:
    rows = list_rows(
        ("eurocities", "2024-06", [("Prague", "CZ"), ("Taipei", "TW")]),
        ("eurocities", "2025-06", [("Prague", "CZ")]),
    )
    taipei = stable_id("mem", "eurocities", TAIPEI)
    listed = build_list_memberships(rows, resolver, NETWORKS, {taipei})
    assert listed.built.table["city_id"].tolist() == [PRAGUE]
    left, citation = listed.ended[taipei]
    assert left == 2025 and citation.endswith("not in the list as of 2025-06")
    registry = pd.DataFrame(
        {
            "membership_id": [taipei],
            "joined_year": pd.array([1986], dtype="Int64"),
            "left_year": pd.array([None], dtype="Int64"),
            "citation": ["Founding members, eurocities.eu"],
        }
    )
    ended = end_memberships(registry, listed.ended)
    assert ended["left_year"].tolist() == [2025]
    assert ended["citation"].iloc[0].startswith("Founding members, eurocities.eu; eurocities")
    # a left year before the registry's joined year is not applied
    early = registry.assign(joined_year=pd.array([2030], dtype="Int64"))
    assert end_memberships(early, listed.ended)["left_year"].isna().all()


# -------------------------------------------------------------------- the recorded list


def test_the_recorded_eurocities_list_parses_whole(shared_data: Path) -> None:
    path = shared_data / "networks" / "eurocities-members.2025-06.txt"
    frame = eurocities.parse_members(path.read_bytes(), path.name, "2025-06")
    assert len(frame) == 227
    first = frame.iloc[0]
    assert (first["city_name"], first["country_code"]) == ("Aarhus", "denmark")
    named = dict(zip(frame["city_name"], frame["country_code"], strict=True))
    assert named["Barcelona"] == "spain"
    assert named["Bergen"] == "norway"
    assert frame["country_code"].value_counts()["france"] == 25


def test_the_readme_example_list_parses() -> None:
    from pipeline.paths import PROJECT_ROOT

    readme = (PROJECT_ROOT / "README.md").read_text()
    (example,) = re.findall(r"```csv\n(.*?)```", readme, re.S)
    frame = members.parse_members(example.encode(), "members.2025-06.csv", "2025-06")
    assert frame[["network_id", "city_name", "admin1_code", "role"]].values.tolist() == [
        ["c40", "Portland", "OR", "member"],
        ["c40", "Paris", None, "member"],
    ]


def test_a_broken_quote_is_reported_where_its_record_starts() -> None:
    text = 'network_id,name,country\nc40,Prague,CZ\nc40,"Oslo,NO\nc40,Lima,PE\nc40,Rome,IT\n'
    with pytest.raises(ParseError, match=r"m\.csv, record from line 3: "):
        members.parse_members(text.encode(), "m.csv", "2025")


def test_eurocities_lines_are_counted_as_an_editor_counts_them() -> None:
    text = "Prague\nczech republic\nTel\u0085Aviv\nJaffa\n"  # a NEL inside a name
    with pytest.raises(ParseError, match=r"e\.txt, line 4: expected the country of"):
        eurocities.parse_members(text.encode(), "e.txt", "2025-06")
