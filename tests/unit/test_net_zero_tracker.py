"""The Net Zero Tracker export: a strict parser of the live .xlsx layout, its mapping into
commitments and assessments, and the facts the recorded export states."""

import hashlib
import io
import zipfile
from collections.abc import Callable
from pathlib import Path

import dagster as dg
import pandas as pd
import pytest

from assets.build import build_assessments, build_commitments, stable_id
from assets.parsed import parsed_net_zero_tracker
from assets.resolve import Resolver
from assets.sources import ParseError, SourceFile
from assets.sources import net_zero_tracker as nzt
from pipeline.snapshots import SnapshotStore
from tests.conftest import NZT_ROWS, nzt_workbook, require_shared_data

FILE = "snapshot_2022-12-20_13-07-14.xlsx"
AMSTERDAM, BERLIN, LYON, PORTO = "gn:2759794", "gn:2950159", "gn:2996944", "gn:2735943"


def places() -> pd.DataFrame:
    """The four cities of the fixture as the GeoNames parser hands them on."""
    rows = [
        (2759794, "Amsterdam", 52.37403, 4.88969, "NL", "07", 741636),
        (2950159, "Berlin", 52.52437, 13.41053, "DE", "16", 3426354),
        (2996944, "Lyon", 45.74846, 4.84671, "FR", "84", 472317),
        (2735943, "Porto", 41.14961, -8.61099, "PT", "17", 249633),
    ]
    frame = pd.DataFrame(
        [
            {
                "geonames_id": i,
                "name": n,
                "ascii_name": n,
                "alternate_names": None,
                "latitude": lat,
                "longitude": lon,
                "feature_code": "PPLA",
                "country_code": cc,
                "admin1_code": a1,
                "population": pop,
            }
            for i, n, lat, lon, cc, a1, pop in rows
        ]
    )
    return frame.astype({"geonames_id": "Int64", "population": "Int64"})


@pytest.fixture
def resolver() -> Resolver:
    return Resolver.from_frames(places())


def parsed(content: bytes | None = None) -> nzt.Export:
    return nzt.parse_export(content or nzt_workbook(), FILE)


def as_parsed(frame: pd.DataFrame) -> pd.DataFrame:
    """As the parsed asset hands the frame on: with source and snapshot_id."""
    return frame.assign(source="net_zero_tracker", snapshot_id="20221220T000000000000Z-abc")


# --------------------------------------------------------------------------------- parser


def test_the_parser_reads_city_rows_and_counts_the_others() -> None:
    export = parsed()
    assert export.cities["name"].tolist() == ["Amsterdam", "Berlin", "Porto", "Lyon"]
    assert export.skipped == {"Region": 1, "Country": 1}
    assert export.unknown_columns == []
    amsterdam = export.cities.iloc[0]
    # numbers written plainly, dates as dates, rows as Excel numbers them
    assert amsterdam["end_target_year"] == "2050"
    assert amsterdam["interim_target_percentage_reduction"] == "55"
    assert amsterdam["last_updated"] == "2022-06-30"
    assert amsterdam["source_row"] == f"{FILE} row 2"
    # the first of several document URLs is the source URL; the citation keeps them all
    assert amsterdam["source_url"] == "https://www.amsterdam.nl/en/policy/sustainability/"
    assert amsterdam["citation"] == (
        f"Net Zero Tracker export {FILE}, actor CIT-0001 (Amsterdam); documents: "
        "https://www.amsterdam.nl/en/policy/sustainability/, https://example.org/b"
    )


def test_a_renamed_column_fails_the_parse_naming_it() -> None:
    columns = tuple("target_year" if c == "end_target_year" else c for c in nzt.EXPORT_COLUMNS)
    with pytest.raises(ParseError) as error:
        parsed(nzt_workbook(columns=columns))
    message = str(error.value)
    assert message.startswith(f"net_zero_tracker: {FILE}, sheet 'Sheet1' row 1: ")
    assert "missing column(s) ['end_target_year']" in message


def test_an_added_column_is_reported_not_fatal() -> None:
    export = parsed(nzt_workbook(columns=(*nzt.EXPORT_COLUMNS, "scope_4")))
    assert export.unknown_columns == ["scope_4"]
    assert len(export.cities) == 4


def test_the_parsed_asset_logs_an_added_column_naming_source_and_file(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    content = nzt_workbook(columns=(*nzt.EXPORT_COLUMNS, "scope_4"))
    path = tmp_path / FILE
    path.write_bytes(content)
    file = SourceFile(
        "net_zero_tracker", "export", "snap", FILE, str(path), "test",
        hashlib.sha256(content).hexdigest(), len(content),
    )  # fmt: skip
    outputs = list(parsed_net_zero_tracker(dg.build_asset_context(), {"export": file}))
    assert (
        f"WARNING - system - net_zero_tracker: {FILE}: columns the parser does not know, "
        "not read: ['scope_4']" in capfd.readouterr().err
    )
    assert [o.metadata["unknown_columns"].text for o in outputs] == ["scope_4", "scope_4"]


def test_a_removed_column_fails_naming_it() -> None:
    columns = tuple(c for c in nzt.EXPORT_COLUMNS if c != "population")
    with pytest.raises(ParseError) as error:
        parsed(nzt_workbook(columns=columns))
    message = str(error.value)
    assert message.startswith(f"net_zero_tracker: {FILE}, sheet 'Sheet1' row 1: ")
    assert "missing column(s) ['population']" in message


@pytest.mark.parametrize(
    "columns",
    [tuple(reversed(nzt.EXPORT_COLUMNS)), tuple(sorted(nzt.EXPORT_COLUMNS))],
    ids=["reversed", "sorted"],
)
def test_reordered_columns_parse_to_the_same_rows(columns: tuple[str, ...]) -> None:
    """Columns are found by name in the header row, so their order does not matter."""
    export = parsed(nzt_workbook(columns=columns))
    pd.testing.assert_frame_equal(export.cities, parsed().cities)
    assert (export.skipped, export.unknown_columns) == ({"Region": 1, "Country": 1}, [])


def test_a_file_that_is_no_workbook_fails_clearly() -> None:
    with pytest.raises(ParseError, match=rf"net_zero_tracker: {FILE}, archive: not a zip file"):
        parsed(b"<html>Service unavailable</html>")


def test_import_refuses_an_export_without_city_rows() -> None:
    only_regions = [r for r in NZT_ROWS if r["actor_type"] != "City"]
    with pytest.raises(ParseError, match="the export has no City rows"):
        nzt.check_import(FILE, nzt_workbook(only_regions))


# ------------------------------------------------------------------------------- mapping


def test_end_and_interim_targets_become_rows_and_no_target_none() -> None:
    targets = nzt.city_targets(parsed().cities)
    got = targets[["city_name", "stage", "kind", "target_year", "status"]].values.tolist()
    assert got == [
        ["Amsterdam", "end", "climate_neutral", "2050", "In policy document"],
        ["Amsterdam", "interim", "emissions_reduction", "2030", None],
        ["Berlin", "end", "climate_neutral", "2045", "In law"],
        ["Berlin", "interim", "emissions_reduction", "2030", None],
        ["Lyon", "end", "net_zero", "1995", "Declaration / pledge"],
    ]
    assert targets["source_row"].iloc[1] == f"{FILE} row 2 (interim target)"
    assert targets["stated_kind"].iloc[0] == "Climate neutral"
    assert targets["stated_text"].iloc[0].startswith("Amsterdam aims for a 95%")


def test_categories_code_kind_and_target_type() -> None:
    rows = [
        {**NZT_ROWS[2], "end_target": "Reduction v. BAU", "interim_target": "Zero waste"},
    ]
    targets = nzt.city_targets(parsed(nzt_workbook(rows)).cities)
    assert targets[["kind", "target_type"]].values.tolist() == [
        ["emissions_reduction", "baseline_scenario"],
        ["Zero waste", None],  # not a category the project knows: validation names it
    ]


def test_assessments_keep_no_target_apart_from_unknown() -> None:
    rows = [*NZT_ROWS[:3], {**NZT_ROWS[3], "end_target": None}]
    assessments = nzt.city_assessments(parsed(nzt_workbook(rows)).cities)
    assert assessments[["city_name", "has_target"]].values.tolist() == [
        ["Amsterdam", True],
        ["Berlin", True],
        ["Porto", False],
        ["Lyon", None],
    ]
    assert assessments["end_target_stated"].tolist()[2] == "No target"


def test_the_newest_export_is_chosen_by_the_date_in_its_name(tmp_path: Path) -> None:
    store = SnapshotStore(tmp_path)
    store.store("net_zero_tracker", "snapshot_2023-05-01_10-00-00.xlsx", [b"new"], "x", "CC")
    store.store("net_zero_tracker", FILE, [b"older export, imported later"], "x", "CC")
    chosen = nzt.select_files(store)["export"]
    assert chosen is not None
    assert chosen.file_name == "snapshot_2023-05-01_10-00-00.xlsx"
    assert chosen.note == "export of 2023-05-01"
    store.store("net_zero_tracker", "export.xlsx", [b"renamed, imported last"], "x", "CC")
    assert nzt.select_files(store)["export"].file_name == "snapshot_2023-05-01_10-00-00.xlsx"  # type: ignore[union-attr]
    assert nzt.select_files(SnapshotStore(tmp_path / "empty")) == {"export": None}


# ------------------------------------------------------------------- into the core tables


def test_targets_become_commitments_with_provenance(resolver: Resolver) -> None:
    built = build_commitments(as_parsed(nzt.city_targets(parsed().cities)), resolver)
    table = built.table.set_index(["city_id", "stage"])
    amsterdam_end = table.loc[(AMSTERDAM, "end")]
    assert amsterdam_end["kind"] == "climate_neutral"
    assert amsterdam_end["target_year"] == 2050
    assert amsterdam_end["status"] == "In policy document"
    assert amsterdam_end["source_id"] == "CIT-0001"
    assert amsterdam_end["city_source_name"] == "Amsterdam"
    interim = table.loc[(AMSTERDAM, "interim")]
    assert (interim["reduction_pct"], interim["baseline_year"]) == (55.0, 1990)
    # '70%' as the export may write it reads as 70
    assert table.loc[(BERLIN, "interim")]["reduction_pct"] == 70.0
    assert built.table["source"].unique().tolist() == ["net_zero_tracker"]


def test_a_target_year_outside_2000_2100_is_rejected_with_its_reason(
    resolver: Resolver,
) -> None:
    built = build_commitments(as_parsed(nzt.city_targets(parsed().cities)), resolver)
    assert LYON not in set(built.table["city_id"])
    (reject,) = built.rejected.to_dict("records")
    assert reject["rule"] == "greater_than_or_equal_to(2000)"
    assert reject["column_name"] == "target_year"
    assert reject["reason"] == "greater_than_or_equal_to(2000) failed on target_year='1995'"
    assert reject["source_row"] == f"{FILE} row 5 (end target)"
    assert reject["source"] == "net_zero_tracker"


@pytest.mark.parametrize("written", ["55", "55%", " 55 % ", 55, 55.0])
def test_a_percentage_reads_the_same_however_written(resolver: Resolver, written: object) -> None:
    row = {**NZT_ROWS[0], "interim_target_percentage_reduction": written}
    targets = nzt.city_targets(parsed(nzt_workbook([row])).cities)
    built = build_commitments(as_parsed(targets), resolver)
    assert built.table.set_index("stage").loc["interim", "reduction_pct"] == 55.0


def test_a_percentage_that_is_no_number_is_rejected(resolver: Resolver) -> None:
    row = {**NZT_ROWS[0], "interim_target_percentage_reduction": "about half"}
    targets = nzt.city_targets(parsed(nzt_workbook([row])).cities)
    built = build_commitments(as_parsed(targets), resolver)
    assert built.table["stage"].tolist() == ["end"]
    (reject,) = built.rejected.to_dict("records")  # one bad value, one reject
    assert reject["rule"] == "coerce_dtype('float64')"
    assert (reject["column_name"], reject["value"]) == ("reduction_pct", "about half")


def test_an_unknown_category_is_rejected_naming_it(resolver: Resolver) -> None:
    row = {**NZT_ROWS[2], "end_target": "Zero waste", "end_target_year": 2040.0}
    built = build_commitments(
        as_parsed(nzt.city_targets(parsed(nzt_workbook([row])).cities)), resolver
    )
    assert built.table.empty
    (reject,) = built.rejected.to_dict("records")
    assert reject["rule"].startswith("isin(('net_zero', ")
    assert (reject["column_name"], reject["value"]) == ("kind", "Zero waste")


def test_the_same_commitment_from_two_sources_shares_a_key(resolver: Resolver) -> None:
    tracked = build_commitments(as_parsed(nzt.city_targets(parsed().cities)), resolver).table
    curated = pd.DataFrame(
        [
            {
                "city_name": "Berlin",
                "country_code": "DE",
                "admin1_code": None,
                "kind": "climate_neutral",
                "target_year": "2045",
                "baseline_year": None,
                "reduction_pct": None,
                "status": None,
                "stated_text": "Berlin will be climate neutral by 2045.",
                "source_url": "https://example.org/berlin",
                "citation": None,
                "source": "registry",
                "snapshot_id": "registry-commitments-abc",
                "source_row": "commitments.csv line 2",
            }
        ]
    )
    registry_row = build_commitments(curated, resolver).table.iloc[0]
    tracker_row = tracked.set_index(["city_id", "stage"]).loc[(BERLIN, "end")]
    assert registry_row["commitment_key"] == tracker_row["commitment_key"]
    assert registry_row["commitment_key"] == stable_id("cmk", BERLIN, "climate_neutral", "2045")
    assert registry_row["commitment_id"] != tracker_row.name  # two rows, two provenances
    assert registry_row["source"] == "registry"
    assert registry_row["stage"] is None or pd.isna(registry_row["stage"])


def test_assessed_cities_with_and_without_targets(resolver: Resolver) -> None:
    built = build_assessments(as_parsed(nzt.city_assessments(parsed().cities)), resolver)
    table = built.table.set_index("city_id")
    assert table.loc[PORTO, "has_target"] == False  # noqa: E712 (a nullable boolean)
    assert table.loc[PORTO, "end_target_stated"] == "No target"
    assert table.loc[AMSTERDAM, "has_target"] == True  # noqa: E712
    assert table.loc[AMSTERDAM, "last_updated"] == "2022-06-30"
    assert table.loc[BERLIN, "assessment_id"] == stable_id("asm", "net_zero_tracker", BERLIN)
    assert built.rejected.empty


def test_an_unresolved_city_is_rejected_not_dropped(resolver: Resolver) -> None:
    row = {**NZT_ROWS[2], "name": "Atlantis", "country": "PRT"}
    built = build_assessments(
        as_parsed(nzt.city_assessments(parsed(nzt_workbook([row])).cities)), resolver
    )
    assert built.table.empty
    (reject,) = built.rejected.to_dict("records")
    assert reject["rule"] == "city_unresolved"
    assert reject["table_name"] == "assessments"
    assert built.matches["source_country"].tolist() == ["PRT"]


# -------------------------------------------------------------------- the recorded export


@pytest.fixture(scope="module")
def recorded() -> nzt.Export:
    path = require_shared_data() / "net-zero-tracker" / FILE
    return nzt.parse_export(path.read_bytes(), FILE)


def test_the_recorded_export_has_its_stated_actors(recorded: nzt.Export) -> None:
    assert len(recorded.cities) == 1177
    assert recorded.skipped == {"Country": 198, "Region": 713, "Company": 2001}
    assert recorded.unknown_columns == []


def test_the_recorded_export_states_amsterdam_and_berlin(recorded: nzt.Export) -> None:
    targets = nzt.city_targets(recorded.cities).set_index(["city_name", "stage"])
    amsterdam = targets.loc[("Amsterdam", "end")]
    assert (amsterdam["kind"], amsterdam["target_year"], amsterdam["status"]) == (
        "climate_neutral",
        "2050",
        "In policy document",
    )
    interim = targets.loc[("Amsterdam", "interim")]
    assert (interim["reduction_pct"], interim["baseline_year"], interim["target_year"]) == (
        "55",
        "1990",
        "2030",
    )
    berlin = targets.loc[("Berlin", "end")]
    assert (berlin["target_year"], berlin["status"]) == ("2045", "In law")


def test_the_recorded_export_counts_cities_without_targets(recorded: nzt.Export) -> None:
    assessments = nzt.city_assessments(recorded.cities)
    counts = assessments["has_target"].value_counts(dropna=False).to_dict()
    assert counts == {False: 768, True: 407, None: 2}
    assert len(nzt.city_targets(recorded.cities)) == 600


def damaged(member: str, change: Callable[[bytes], bytes]) -> bytes:
    """The fixture workbook with one of its zip members changed."""
    source = zipfile.ZipFile(io.BytesIO(nzt_workbook()))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as target:
        for item in source.infolist():
            data = source.read(item)
            target.writestr(item, change(data) if item.filename == member else data)
    return out.getvalue()


@pytest.mark.parametrize(
    "content",
    [
        damaged("xl/worksheets/sheet1.xml", lambda xml: xml[: len(xml) // 2]),
        damaged("xl/worksheets/sheet1.xml", lambda xml: xml.replace(b"<v>2050</v>", b"<v>abc</v>")),
        damaged("xl/workbook.xml", lambda xml: xml[:40]),
        damaged("xl/styles.xml", lambda xml: b"<styleSheet"),
    ],
    ids=["sheet-cut-short", "number-cell-with-text", "workbook-cut-short", "styles-broken"],
)
def test_a_damaged_workbook_fails_with_the_project_s_error(content: bytes) -> None:
    with pytest.raises(ParseError, match=rf"^net_zero_tracker: {FILE}, (file|row \d+): "):
        parsed(content)
