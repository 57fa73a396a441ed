"""The curated registry: the committed files parse, every row is cited, and a changed
layout stops the run with the file and line named."""

import csv
from pathlib import Path

import pytest

from assets.sources import ParseError, registry
from pipeline.paths import PROJECT_ROOT
from schemas.codes import AGREEMENT_KINDS, COMMITMENT_KINDS, MEMBERSHIP_ROLES, NETWORK_FOCUS

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
