"""The curated registry: the committed files parse, every row is cited, and a changed
layout stops the run with the file and line named."""

import csv
import io
from pathlib import Path

import dagster as dg
import pandas as pd
import pytest

from assets.build import build_commitments, build_networks
from assets.parsed import registry_table_asset
from assets.resolve import Resolver
from assets.sources import ParseError, registry
from pipeline.paths import PROJECT_ROOT
from schemas.codes import AGREEMENT_KINDS, COMMITMENT_KINDS, MEMBERSHIP_ROLES, NETWORK_FOCUS
from tests.conftest import small_gazetteer

REGISTRY = PROJECT_ROOT / "raw" / "registry"


def parsed(table: str):  # type: ignore[no-untyped-def]
    path = REGISTRY / f"{table}.csv"
    return registry.parse_registry_table(path.read_bytes(), table, path.name)


def test_committed_registry_has_the_expected_facts() -> None:
    networks = parsed("networks").set_index("network_id")
    assert len(networks) == 33
    assert networks.loc["c40", "founded_year"] == "2005"
    assert networks.loc["c40", "member_count_stated"] == "96"
    assert "HQ DISAGREES" in networks.loc["c40", "notes"]
    assert networks.loc["climate_mayors", "hq_city_name"] is None
    assert set(networks["focus"]) <= set(NETWORK_FOCUS)
    memberships = parsed("memberships")
    c40 = memberships[memberships["network_id"] == "c40"]
    assert len(c40) == 97
    assert "Tel Aviv \u2013 Yafo" in set(c40["city_name"])  # C40 writes an en dash
    assert set(memberships["role"]) <= set(MEMBERSHIP_ROLES)
    assert memberships.iloc[0]["source_row"] == "memberships.csv line 2"


def test_seed_facts_are_transcribed_without_invented_dates() -> None:
    agreements = parsed("agreements")
    prague = agreements[agreements["city_a_name"] == "Prague"].iloc[0]
    assert (prague["city_b_name"], prague["kind"], prague["start_year"]) == (
        "Taipei",
        "sister_city",
        "2020",
    )
    assert prague["start_date"] is None  # the article says "January 2020", no day
    assert set(agreements["kind"]) <= set(AGREEMENT_KINDS)
    commitments = parsed("commitments")
    la = commitments[commitments["city_name"] == "Los Angeles"].iloc[0]
    assert (la["kind"], la["target_year"]) == ("carbon_neutral", "2050")
    assert set(commitments["kind"]) <= set(COMMITMENT_KINDS)


@pytest.mark.parametrize("table", list(registry.COLUMNS))
def test_every_registry_row_carries_a_citation(table: str) -> None:
    frame = parsed(table)
    if table == "networks":
        assert frame["source_urls"].notna().all()
    else:
        assert (frame["source_url"].notna() | frame["citation"].notna()).all()


def write(tmp_path: Path, rows: list[list[str]]) -> bytes:
    path = tmp_path / "memberships.csv"
    with open(path, "w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows(rows)
    return path.read_bytes()


HEADER = list(registry.COLUMNS["memberships"])


def test_a_renamed_column_stops_the_parse(tmp_path: Path) -> None:
    content = write(tmp_path, [[*HEADER[:-1], "as_of_date"]])
    with pytest.raises(ParseError, match=r"memberships.csv, line 1: .*unknown \['as_of_date'\]"):
        registry.parse_registry_table(content, "memberships", "memberships.csv")


def test_a_row_with_too_few_fields_is_named_by_line(tmp_path: Path) -> None:
    good = ["c40", "Paris", "FR", "", "member", "", "", "https://www.c40.org/cities/", "", "2025"]
    content = write(tmp_path, [HEADER, good, good[:5]])
    with pytest.raises(ParseError, match=r"line 3: expected 10 fields, found 5"):
        registry.parse_registry_table(content, "memberships", "memberships.csv")


def test_blank_lines_are_skipped_and_empty_cells_are_null(tmp_path: Path) -> None:
    good = ["c40", " Paris ", "FR", "", "member", "", "", "https://www.c40.org/cities/", "", "2025"]
    content = write(tmp_path, [HEADER, [], good])
    frame = registry.parse_registry_table(content, "memberships", "memberships.csv")
    assert frame.iloc[0]["city_name"] == "Paris"
    assert frame.iloc[0]["admin1_code"] is None
    assert frame.iloc[0]["source_row"] == "memberships.csv line 3"


def test_a_record_spanning_lines_is_named_by_its_first_line(tmp_path: Path) -> None:
    good = ["c40", "Paris", "FR", "", "member", "", "", "", "C40 list,\nas read in 2025", "2025"]
    content = write(tmp_path, [HEADER, good, [], good])
    frame = registry.parse_registry_table(content, "memberships", "memberships.csv")
    assert frame["source_row"].tolist() == ["memberships.csv line 2", "memberships.csv line 5"]
    assert frame.iloc[0]["citation"] == "C40 list,\nas read in 2025"


def test_a_missing_registry_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(ParseError, match=r"networks\.csv, file: missing"):
        registry.select_files(tmp_path)


# ------------------------------------------------------------------------ schema drift


def cells(table: str) -> list[list[str]]:
    with open(REGISTRY / f"{table}.csv", newline="", encoding="utf-8") as handle:
        return list(csv.reader(handle))


def as_csv(rows: list[list[str]]) -> bytes:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    return out.getvalue().encode()


def test_a_removed_column_fails_naming_it() -> None:
    rows = cells("memberships")
    at = rows[0].index("role")
    content = as_csv([row[:at] + row[at + 1 :] for row in rows])
    with pytest.raises(ParseError) as error:
        registry.parse_registry_table(content, "memberships", "memberships.csv")
    assert str(error.value) == (
        "registry: memberships.csv, line 1: header differs from the memberships layout "
        "(unknown [], missing ['role'], twice [])"
    )


def test_a_column_named_twice_fails_naming_it() -> None:
    rows = cells("commitments")
    content = as_csv([[*row, row[0]] for row in rows])
    with pytest.raises(ParseError, match=r"commitments.csv, line 1: .*twice \['city_name'\]"):
        registry.parse_registry_table(content, "commitments", "commitments.csv")


def test_an_added_column_is_a_warning_not_a_failure() -> None:
    """The registry is curated by hand: a column added ahead of the code that reads it is
    named, and the rows read as before."""
    rows = cells("agreements")
    added = [[*row[:2], "checked_by" if n == 0 else "ab", *row[2:]] for n, row in enumerate(rows)]
    result = registry.read_registry_table(as_csv(added), "agreements", "agreements.csv")
    assert result.unknown_columns == ["checked_by"]
    pd.testing.assert_frame_equal(result.frame, parsed("agreements"))
    original = (REGISTRY / "agreements.csv").read_bytes()
    assert registry.read_registry_table(original, "agreements", "x").unknown_columns == []


@pytest.mark.parametrize("table", list(registry.COLUMNS))
def test_reordered_columns_parse_to_the_same_rows(table: str) -> None:
    """Columns are found by name: every committed file, its columns reversed, reads the
    same rows from the same lines."""
    content = as_csv([row[::-1] for row in cells(table)])
    frame = registry.parse_registry_table(content, table, f"{table}.csv")
    pd.testing.assert_frame_equal(frame, parsed(table))


def test_the_parsed_asset_logs_an_added_column_naming_source_and_file(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    rows = cells("commitments")
    content = as_csv([[*rows[0], "reviewer"], *([*r, "x"] for r in rows[1:])])
    (tmp_path / "commitments.csv").write_bytes(content)
    for table in registry.COLUMNS:
        if table != "commitments":
            (tmp_path / f"{table}.csv").write_bytes((REGISTRY / f"{table}.csv").read_bytes())
    files = registry.select_files(tmp_path)
    output = registry_table_asset("commitments")(dg.build_asset_context(), raw_registry=files)
    assert (
        "WARNING - system - registry: commitments.csv: columns the parser does not know, "
        "not read: ['reviewer']" in capfd.readouterr().err
    )
    assert output.metadata["unknown_columns"].text == "reviewer"
    assert len(output.value) == len(rows) - 1


def test_a_year_in_words_is_rejected_naming_line_and_column(tmp_path: Path) -> None:
    """Registry values are read as text; the builder rejects a row whose number is not one,
    naming its line, column and value, and keeps the others."""
    header = list(registry.COLUMNS["commitments"])
    row = dict.fromkeys(header, "")
    row |= {"city_name": "Prague", "country_code": "CZ", "kind": "climate_neutral"}
    row |= {"source_url": "https://example.org/prague"}
    rows = [
        header,
        list((row | {"target_year": "twenty-thirty"}).values()),
        list((row | {"target_year": "2050"}).values()),
    ]
    frame = registry.parse_registry_table(as_csv(rows), "commitments", "commitments.csv")
    frame = frame.assign(source="registry", snapshot_id="registry-commitments-abc")
    built = build_commitments(frame, Resolver.from_frames(small_gazetteer()))
    (reject,) = built.rejected.to_dict("records")
    assert (reject["source_row"], reject["column_name"], reject["value"], reject["rule"]) == (
        "commitments.csv line 2",
        "target_year",
        "twenty-thirty",
        "coerce_dtype('Int64')",
    )
    assert built.table["target_year"].tolist() == [2050]


def test_a_founded_year_in_words_is_rejected_naming_line_and_column() -> None:
    """A year that is not a number rejects its network by name. member_count_stated is
    free text by design ('>2,500'), so words there are kept verbatim."""
    rows = cells("networks")
    rows[1][rows[0].index("founded_year")] = "two thousand five"
    rows[2][rows[0].index("member_count_stated")] = "about a hundred"
    frame = registry.parse_registry_table(as_csv(rows), "networks", "networks.csv")
    frame = frame.assign(source="registry", snapshot_id="registry-networks-abc")
    built, _ = build_networks(frame, Resolver.from_frames(small_gazetteer()))
    (reject,) = built.rejected.to_dict("records")
    assert (reject["source_row"], reject["column_name"], reject["value"]) == (
        "networks.csv line 2",
        "founded_year",
        "two thousand five",
    )
    assert "c40" not in set(built.table["network_id"])
    assert len(built.table) == len(rows) - 2
    assert "about a hundred" in set(built.table["member_count_stated"])


def test_a_refresh_asks_wikidata_about_the_networks_the_parsed_layer_reads(
    tmp_path: Path,
) -> None:
    """raw_wikidata reads networks.csv itself (the parsed registry waits for the gate):
    the same rows as the parsed layer, the same error for a bad file, and a file changed
    since it was selected is refused."""
    from assets.raw import registry_networks
    from pipeline.snapshots import SnapshotCorruptError

    networks = registry.select_files(REGISTRY)["networks"]
    read = registry_networks(networks)
    pd.testing.assert_frame_equal(read, parsed("networks"))
    assert read.loc[read["network_id"] == "c40", "acronym"].tolist() == ["C40"]

    folder = tmp_path / "registry"
    folder.mkdir()
    for path in REGISTRY.glob("*.csv"):
        (folder / path.name).write_bytes(path.read_bytes())
    bad = folder / "networks.csv"
    bad.write_text(bad.read_text(encoding="utf-8").replace("network_id", "id", 1))
    with pytest.raises(ParseError, match=r"registry: networks\.csv, line 1: header differs"):
        registry_networks(registry.select_files(folder)["networks"])
    selected = registry.select_files(folder)["networks"]
    bad.write_text("network_id\n")
    with pytest.raises(SnapshotCorruptError, match=r"networks\.csv: sha256 is"):
        registry_networks(selected)
