"""CDP's targets and city-wide emissions: both header spellings, a header the parser does
not know, the mapping into commitments and city_emissions, the open edition leaving CDP's
rows out, and facts read in the recorded files."""

import csv
import hashlib
import io
import re
from pathlib import Path

import dagster as dg
import pandas as pd
import pytest
from pytest_httpserver import HTTPServer

from assets.build import build_city_emissions, build_commitments, stable_id
from assets.editions import RESTRICTED, attribution, open_edition
from assets.parsed import parsed_cdp_emissions__inventories, parsed_cdp_targets__targets
from assets.resolve import Resolver
from assets.sources import ParseError, SourceFile, cdp
from assets.sources import cdp_emissions as emissions
from assets.sources import cdp_targets as targets
from pipeline.http import FetchError, build_session
from pipeline.publish import TABLES
from pipeline.snapshots import SnapshotStore
from tests.conftest import FIXTURES, small_gazetteer

TARGETS = (FIXTURES / "cdp" / "targets.csv").read_bytes()
EMISSIONS = (FIXTURES / "cdp" / "emissions.csv").read_bytes()
PORTLAND_OR, TAIPEI = "gn:5746545", "gn:1668341"


def r_resaved(content: bytes) -> bytes:
    """The file as R's write.csv re-saves it: header punctuation as dots, empty cells NA."""
    rows = list(csv.reader(io.StringIO(content.decode())))
    header = [re.sub(r"[^0-9A-Za-z]", ".", h) for h in rows[0]]
    body = [[cell or "NA" for cell in row] for row in rows[1:]]
    out = io.StringIO()
    csv.writer(out).writerows([header, *body])  # NA unquoted, as R writes it
    return out.getvalue().encode()


def as_parsed(frame: pd.DataFrame, source: str) -> pd.DataFrame:
    return frame.assign(source=source, snapshot_id=f"{source}-snapshot")


@pytest.fixture(scope="module")
def resolver() -> Resolver:
    return Resolver.from_frames(small_gazetteer())


# ---------------------------------------------------------------------------- parsing


def test_target_rows_become_targets_and_no_target_rows_do_not() -> None:
    frame = targets.parse_targets(TARGETS, "targets.csv")
    columns = ["source_id", "target_type", "sector", "target_year", "reduction_pct"]
    everything = "All emissions sources included in city inventory"
    assert frame[columns].values.tolist() == [
        ["900001", "base_year_absolute", everything, "2030", "50"],
        ["900001", "fixed_level", "Transport", "2050", "100"],
        ["900003", "baseline_scenario", everything, "2030", "25"],
        ["900004", "base_year_intensity", "Energy", "2035", "30"],
        ["900005", "base_year_absolute", everything, "2030", "70"],
    ]
    portland = frame.iloc[0]
    assert (portland["city_name"], portland["admin1_code"]) == ("Portland", "OR")
    assert (portland["latitude"], portland["longitude"]) == (45.5234, -122.6762)
    assert portland["stated_kind"] == "Base year emissions (absolute) target"
    assert portland["stated_text"] == "Cut community emissions 50% below 1990 levels by 2030."
    assert portland["citation"] == (
        "CDP 2021 Cities Emissions Reduction Targets (targets.csv), account 900001 "
        "(City of Portland, OR)"
    )
    assert frame.iloc[2]["stated_text"] == "A quarter below business as usual by 2030."


def test_both_header_spellings_read_alike() -> None:
    live = targets.parse_targets(TARGETS, "t.csv")
    resaved = targets.parse_targets(r_resaved(TARGETS), "t.csv")
    pd.testing.assert_frame_equal(live, resaved)
    # re-saved so, the emissions file's 'BASIC' and 'BASIC+' totals read alike: refused
    with pytest.raises(ParseError, match=r"read alike \['total_basic_emissions_gpc'\]"):
        emissions.parse_emissions(r_resaved(EMISSIONS), "e.csv")


def test_na_is_missing_whatever_the_header_looks_like() -> None:
    # readr's write_csv keeps the header's words but writes NA for an empty cell
    body = b"\n".join(
        line.replace(b",,", b",NA,").replace(b",,", b",NA,") for line in TARGETS.splitlines()
    )
    header_kept = TARGETS.splitlines()[0] + b"\n" + b"\n".join(body.splitlines()[1:]) + b"\n"
    frame = targets.parse_targets(header_kept, "t.csv")
    pd.testing.assert_frame_equal(frame, targets.parse_targets(TARGETS, "t.csv"))


def test_a_header_the_dataset_does_not_have_fails_naming_it() -> None:
    renamed = TARGETS.replace(b"Percentage reduction target", b"Reduction (%)", 1)
    with pytest.raises(ParseError) as error:
        targets.parse_targets(renamed, "t.csv")
    message = str(error.value)
    assert message.startswith("cdp_targets: t.csv, line 1: header not the dataset's")
    assert "unknown ['Reduction (%)']" in message
    assert "missing ['percentage_reduction_target']" in message


def test_an_unknown_target_type_is_kept_for_validation_to_reject(resolver: Resolver) -> None:
    changed = TARGETS.replace(b"Baseline scenario (business as usual) target", b"Net zero", 1)
    frame = as_parsed(targets.parse_targets(changed, "t.csv"), "cdp_targets")
    built = build_commitments(frame, resolver)
    rejected = built.rejected.set_index("source_row")
    assert rejected.loc["t.csv line 5", "value"] == "Net zero"
    assert rejected.loc["t.csv line 5", "column_name"] == "target_type"


def test_inventories_with_their_totals_and_how_each_was_read() -> None:
    frame = emissions.parse_emissions(EMISSIONS, "e.csv").set_index("source_id")
    assert list(frame.index) == ["900001", "900003"]  # Prague has none yet
    portland, taipei = frame.loc["900001"], frame.loc["900003"]
    assert (portland["total_tco2e"], portland["total_basis"]) == (6_000_000.0, "scope 1 + scope 2")
    assert (taipei["total_tco2e"], taipei["total_basis"]) == (
        15_000_000.0,
        "direct + grid-supplied energy",
    )
    # a fiscal year is the year it starts; CDP's population year 0 means unknown
    assert (taipei["inventory_year"], taipei["population_year"]) == ("2018", None)
    assert portland["source_url"] == emissions.EXPORT_URL


def test_no_total_is_made_up_from_a_part() -> None:
    total, basis = emissions._total({k: None for k in emissions.FIGURES} | {"direct_tco2e": "5"})
    assert (total, basis) == (None, None)


# ------------------------------------------------------------------------ schema drift
# One test per kind of drift, run on both CDP datasets: a column the parser reads that is
# missing or renamed fails the source; an added one is reported; order does not matter;
# a number column holding text is rejected by name when the table is built.

DATASETS = {
    "targets": (TARGETS, targets.read_targets, "cdp_targets"),
    "emissions": (EMISSIONS, emissions.read_emissions, "cdp_emissions"),
}


def cells(content: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(content.decode())))


def as_csv(rows: list[list[str]]) -> bytes:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    return out.getvalue().encode()


def with_cell(content: bytes, line: int, header: str, value: str) -> bytes:
    """The file with one cell (line as an editor counts it, column by header) changed."""
    rows = cells(content)
    rows[line - 1][rows[0].index(header)] = value
    return as_csv(rows)


@pytest.mark.parametrize("dataset", list(DATASETS))
def test_an_added_column_is_a_warning_not_a_failure(dataset: str) -> None:
    """CDP adds questions from year to year; a column the parser does not read is named,
    and the rows read as before."""
    content, read, _ = DATASETS[dataset]
    rows = cells(content)
    added = as_csv(
        [[*rows[0][:3], "Mayor", *rows[0][3:]]] + [[*r[:3], "x", *r[3:]] for r in rows[1:]]
    )
    parsed = read(added, "c.csv")
    assert parsed.unknown_columns == ["Mayor"]
    pd.testing.assert_frame_equal(parsed.frame, read(content, "c.csv").frame)
    assert read(content, "c.csv").unknown_columns == []


@pytest.mark.parametrize(
    ("dataset", "asset", "rows"),
    [
        ("targets", parsed_cdp_targets__targets, 5),
        ("emissions", parsed_cdp_emissions__inventories, 2),
    ],
    ids=["targets", "emissions"],
)
def test_the_parsed_asset_logs_an_added_column_naming_source_and_file(
    tmp_path: Path,
    capfd: pytest.CaptureFixture[str],
    dataset: str,
    asset: dg.AssetsDefinition,
    rows: int,
) -> None:
    """The warning reaches the run log and the asset's metadata, as the Net Zero
    Tracker's does."""
    content, _, source = DATASETS[dataset]
    table = cells(content)
    added = as_csv([[*table[0], "Mayor"], *([*r, "x"] for r in table[1:])])
    path = tmp_path / "2021.csv"
    path.write_bytes(added)
    file = SourceFile(
        source, "file", "snap", path.name, str(path), "test",
        hashlib.sha256(added).hexdigest(), len(added),
    )  # fmt: skip
    output = asset(dg.build_asset_context(), **{f"raw_{source}": {"file": file}})
    assert (
        f"WARNING - system - {source}: 2021.csv: columns the parser does not know, "
        "not read: ['Mayor']" in capfd.readouterr().err
    )
    assert output.metadata["unknown_columns"].text == "Mayor"
    assert len(output.value) == rows


@pytest.mark.parametrize(
    ("dataset", "header", "column"),
    [
        ("targets", "Target year", "target_year"),
        ("emissions", "Accounting year", "accounting_year"),
        (
            "emissions",
            "TOTAL Scope 1 Emissions (metric tonnes CO2e)",
            "total_scope_1_emissions_metric_tonnes_co2e",
        ),
    ],
)
def test_a_removed_column_fails_naming_it(dataset: str, header: str, column: str) -> None:
    content, read, source = DATASETS[dataset]
    rows = cells(content)
    at = rows[0].index(header)
    removed = as_csv([r[:at] + r[at + 1 :] for r in rows])
    with pytest.raises(ParseError) as error:
        read(removed, "c.csv")
    assert str(error.value) == (
        f"{source}: c.csv, line 1: header not the dataset's: unknown [], missing "
        f"['{column}'], read alike []"
    )


def test_a_renamed_emissions_column_fails_naming_both_names() -> None:
    renamed = EMISSIONS.replace(b"Accounting year", b"Inventory year", 1)
    with pytest.raises(ParseError) as error:
        emissions.parse_emissions(renamed, "e.csv")
    assert str(error.value) == (
        "cdp_emissions: e.csv, line 1: header not the dataset's: unknown ['Inventory year'], "
        "missing ['accounting_year'], read alike []"
    )


@pytest.mark.parametrize("dataset", list(DATASETS))
def test_reordered_columns_parse_to_the_same_rows(dataset: str) -> None:
    content, read, _ = DATASETS[dataset]
    reordered = as_csv([row[::-1] for row in cells(content)])
    assert cells(reordered)[0][0] == "Last update"
    pd.testing.assert_frame_equal(read(reordered, "c.csv").frame, read(content, "c.csv").frame)


def test_a_target_year_in_words_is_rejected_naming_line_and_column(resolver: Resolver) -> None:
    """CDP's numbers are read as text; validation rejects a row whose number is not one,
    with its line, column and value, and keeps the others."""
    changed = with_cell(TARGETS, 2, "Target year", "twenty-thirty")
    frame = targets.parse_targets(changed, "t.csv")
    assert frame["target_year"].iloc[0] == "twenty-thirty"
    built = build_commitments(as_parsed(frame, "cdp_targets"), resolver)
    (reject,) = built.rejected[built.rejected["column_name"] == "target_year"].to_dict("records")
    assert (reject["source_row"], reject["rule"], reject["value"]) == (
        "t.csv line 2",
        "coerce_dtype('Int64')",
        "twenty-thirty",
    )
    # Portland's other target and Taipei's stay
    assert built.table[["city_id", "target_year"]].values.tolist() == [
        [PORTLAND_OR, 2050],
        [TAIPEI, 2030],
    ]


def test_a_population_in_words_is_kept_not_nulled() -> None:
    """CDP's population is evidence for the resolver, not a commitment's column: text
    that is no number stays as written in the parsed rows instead of becoming null."""
    changed = with_cell(TARGETS, 2, "Population", "n/a")
    frame = targets.parse_targets(changed, "t.csv")
    assert frame["population"].tolist()[:2] == ["n/a", 650000.0]


@pytest.mark.parametrize(
    ("header", "column"),
    [
        ("Population", "population"),
        ("Population Year", "population_year"),
        ("TOTAL Scope 1 Emissions (metric tonnes CO2e)", "scope1_tco2e"),
    ],
)
def test_an_emissions_number_in_words_rejects_its_row_naming_the_column(
    resolver: Resolver, header: str, column: str
) -> None:
    changed = with_cell(EMISSIONS, 2, header, "n/a")
    frame = as_parsed(emissions.parse_emissions(changed, "e.csv"), "cdp_emissions")
    built = build_city_emissions(frame, resolver)
    (reject,) = built.rejected.to_dict("records")
    assert (reject["source_row"], reject["column_name"], reject["value"]) == (
        "e.csv line 2",
        column,
        "n/a",
    )
    assert reject["rule"].startswith("coerce_dtype(")
    assert built.table["source_id"].tolist() == ["900003"]  # Taipei's row is kept


def test_an_accounting_year_in_words_is_published_as_stated(resolver: Resolver) -> None:
    """The period is text by design; one not stated as 'YYYY-MM-DD - YYYY-MM-DD' gives no
    inventory_year, and the row keeps the words, so the null has its reason beside it."""
    changed = with_cell(EMISSIONS, 2, "Accounting year", "twenty-nineteen")
    frame = as_parsed(emissions.parse_emissions(changed, "e.csv"), "cdp_emissions")
    table = build_city_emissions(frame, resolver).table.set_index("city_id")
    assert pd.isna(table.loc[PORTLAND_OR, "inventory_year"])
    assert table.loc[PORTLAND_OR, "accounting_period"] == "twenty-nineteen"


# -------------------------------------------------------------------- into the tables


def test_cdp_targets_resolve_with_their_point_and_state(resolver: Resolver) -> None:
    frame = as_parsed(targets.parse_targets(TARGETS, "t.csv"), "cdp_targets")
    built = build_commitments(frame, resolver)
    assert built.table["city_id"].tolist() == [PORTLAND_OR, PORTLAND_OR, TAIPEI]
    assert built.table["sector"].tolist()[:2] == [
        "All emissions sources included in city inventory",
        "Transport",
    ]
    # the crosswalk carries CDP's account number
    matches = built.matches.set_index("source_name")
    assert matches.loc["Taipei", "source_id"] == "900003"
    # Springfield with no state, point or population stays ambiguous, and is kept; the
    # small gazetteer has no Berlin
    rejected = built.rejected[["rule", "value"]].values.tolist()
    assert rejected == [["city_ambiguous", "Springfield"], ["city_unresolved", "Berlin"]]


def test_inventories_become_city_emissions(resolver: Resolver) -> None:
    frame = as_parsed(emissions.parse_emissions(EMISSIONS, "e.csv"), "cdp_emissions")
    table = build_city_emissions(frame, resolver).table.set_index("city_id")
    assert table.loc[PORTLAND_OR, "inventory_year"] == 2019
    assert table.loc[TAIPEI, "total_tco2e"] == 15_000_000.0
    assert table.loc[TAIPEI, "source_id"] == "900003"


def test_cdp_is_restricted_and_cites_its_own_wording() -> None:
    assert {"cdp_targets", "cdp_emissions"} == RESTRICTED
    assert targets.SOURCE.attribution == (
        "This data was collected in partnership by CDP and ICLEI - Local Governments for "
        "Sustainability"
    )
    assert emissions.SOURCE.attribution == cdp.ATTRIBUTION


def test_the_open_edition_leaves_restricted_rows_and_the_cities_only_they_name_out() -> None:
    def rows(**columns: list) -> pd.DataFrame:
        return pd.DataFrame(columns)

    tables = {
        "cities": rows(city_id=["gn:1", "gn:2", "gn:3"], source=["geonames"] * 3),
        "networks": rows(network_id=["c40"], hq_city_id=[None]),
        "memberships": rows(city_id=["gn:1"], source=["registry"]),
        "agreements": rows(city_a_id=[], city_b_id=[], source=[]),
        "commitments": rows(city_id=["gn:1", "gn:2"], source=["net_zero_tracker", "cdp_targets"]),
        "assessments": rows(city_id=[], source=[]),
        "city_emissions": rows(city_id=["gn:3"], source=["cdp_emissions"]),
        "city_ids": rows(city_id=["gn:1", "gn:2"], source=["registry", "cdp_targets"]),
        "unresolved_names": rows(source=["cdp_targets", "registry"]),
        "rejected_rows": rows(source=["cdp_emissions"]),
        "sources": rows(source=["geonames", "cdp_targets"]),
        "network_qid_review": rows(network_id=["c40"]),
    }
    kept = open_edition(tables)
    assert kept["cities"]["city_id"].tolist() == ["gn:1"]  # gn:2, gn:3 only CDP named
    # every published table is either filtered by source or holds nothing a source gave
    # row by row; a new table must be put in one list or the other
    by_source = {"memberships", "agreements", "commitments", "assessments", "city_emissions"}
    by_source |= {"city_ids", "unresolved_names", "rejected_rows", "sources"}
    curated_or_derived = {"cities", "networks", "network_qid_review"}
    assert by_source | curated_or_derived == set(TABLES)
    for name in by_source:
        assert not set(kept[name]["source"]) & RESTRICTED, name
    assert kept["commitments"]["source"].tolist() == ["net_zero_tracker"]
    assert kept["city_emissions"].empty
    assert kept["network_qid_review"].equals(tables["network_qid_review"])
    # a table with no restricted row is not copied
    assert kept["memberships"] is tables["memberships"]
    assert kept["commitments"] is not tables["commitments"]


def test_the_open_edition_numbers_what_it_keeps_from_0() -> None:
    """A table that keeps every row is kept whole only when already numbered from 0."""
    memberships = pd.DataFrame({"city_id": ["gn:1"], "source": ["registry"]})
    tables = {
        "cities": pd.DataFrame({"city_id": ["gn:1"], "source": ["geonames"]}, index=[5]),
        "networks": pd.DataFrame({"network_id": ["c40"], "hq_city_id": [None]}),
        "memberships": memberships,
        "agreements": pd.DataFrame({"city_a_id": [], "city_b_id": [], "source": []}),
        **{
            name: pd.DataFrame({"city_id": [], "source": []})
            for name in ("commitments", "assessments", "city_emissions", "city_ids")
        },
    }
    kept = open_edition(tables)
    assert kept["cities"].index.tolist() == [0]
    assert kept["cities"]["city_id"].tolist() == ["gn:1"]
    assert kept["memberships"] is memberships


def test_the_attribution_file_names_each_source_and_marks_a_full_edition() -> None:
    sources = pd.DataFrame(
        {
            "source": ["geonames", "cdp_targets"],
            "publisher": ["GeoNames", cdp.PUBLISHER],
            "licence": ["CC BY 4.0", cdp.LICENCE],
            "attribution": ["GeoNames (geonames.org)", cdp.ATTRIBUTION],
            "file_name": ["cities500.zip", "targets.csv"],
            "sha256": ["a" * 64, "b" * 64],
        }
    )
    full = attribution(sources, "full")
    assert full.startswith("# Attribution\n\nNOT FOR REDISTRIBUTION")
    assert f"Attribution: {cdp.ATTRIBUTION}\n" in full
    assert "Files: targets.csv (sha256 bbbbbbbbbbbb)" in full
    opened = attribution(sources.iloc[:1], "open")
    assert "NOT FOR REDISTRIBUTION" not in opened
    assert "## geonames" in opened and "cdp" not in opened


# ------------------------------------------------------------------- the recorded files


def test_the_recorded_targets_state_bogota_s_target(shared_data: Path) -> None:
    path = shared_data / "cdp" / "2021_Cities_Emissions_Reduction_Targets.r-resaved.csv"
    frame = targets.parse_targets(path.read_bytes(), path.name)
    assert len(frame) == 1127  # 1,460 rows less 206 'No target' and 127 with no type
    bogota = frame[frame["source_id"] == "31154"].iloc[0]
    assert (bogota["city_name"], bogota["country_code"]) == ("Bogotá", "Colombia")
    assert bogota["target_type"] == "baseline_scenario"
    assert (bogota["baseline_year"], bogota["target_year"], bogota["reduction_pct"]) == (
        "2017",
        "2024",
        "15",
    )
    assert (bogota["latitude"], bogota["longitude"]) == (4.711, -74.0721)


def test_the_recorded_emissions_state_makati_s_inventory(shared_data: Path) -> None:
    path = shared_data / "cdp" / "2021_City-wide_Emissions.csv"
    frame = emissions.parse_emissions(path.read_bytes(), path.name)
    assert len(frame) == 625  # the rows whose city reports an inventory
    makati = frame[frame["source_id"] == "54354"].iloc[0]
    assert makati["inventory_year"] == "2018"
    assert makati["direct_tco2e"] == "782045.75"
    assert makati["total_tco2e"] is None  # no figure for grid-supplied energy
    assert frame["total_basis"].value_counts().to_dict() == {
        "direct + grid-supplied energy": 264,
        "scope 1 + scope 2": 38,
    }


# -------------------------------------------------------------------------- fetching


def test_a_refresh_downloads_the_emissions_export_once(
    tmp_path: Path, httpserver: HTTPServer
) -> None:
    httpserver.expect_request("/rows.csv").respond_with_data(EMISSIONS, content_type="text/csv")
    store = SnapshotStore(tmp_path)
    session = build_session(retries=0, backoff=0)
    snapshot, created = emissions.fetch(store, session, httpserver.url_for("/rows.csv"))
    assert created and snapshot.file_name == emissions.FILE_NAME
    assert store.read(snapshot) == EMISSIONS
    assert snapshot.origin == httpserver.url_for("/rows.csv")
    again, created = emissions.fetch(store, session, httpserver.url_for("/rows.csv"))
    assert (again, created) == (snapshot, False)


def test_an_error_page_or_a_failed_download_stores_nothing(
    tmp_path: Path, httpserver: HTTPServer
) -> None:
    httpserver.expect_request("/page").respond_with_data(
        "<html>Service unavailable</html>", content_type="text/html"
    )
    httpserver.expect_request("/gone").respond_with_data("", status=404)
    store = SnapshotStore(tmp_path)
    session = build_session(retries=0, backoff=0)
    with pytest.raises(ParseError, match=r"cdp_emissions: 2021_City-wide_Emissions\.csv, line 1"):
        emissions.fetch(store, session, httpserver.url_for("/page"))
    with pytest.raises(FetchError, match="answered HTTP 404"):
        emissions.fetch(store, session, httpserver.url_for("/gone"))
    assert store.snapshots("cdp_emissions") == []


def test_two_targets_differing_only_in_type_or_words_are_two_commitments(
    resolver: Resolver,
) -> None:
    lines = TARGETS.decode().splitlines(keepends=True)
    portland = lines[1]
    as_intensity = portland.replace(
        "Base year emissions (absolute) target", "Base year intensity target"
    )
    other_words = portland.replace("Cut community emissions", "Cut municipal emissions")
    content = "".join([lines[0], portland, as_intensity, other_words, portland]).encode()
    built = build_commitments(
        as_parsed(targets.parse_targets(content, "t.csv"), "cdp_targets"), resolver
    )
    assert len(built.table) == 3
    assert built.table["commitment_id"].nunique() == 3
    # the same row twice is one commitment; the second is kept as a duplicate
    (reject,) = built.rejected.to_dict("records")
    assert (reject["rule"], reject["source_row"]) == ("duplicate", "t.csv line 5")
    # the registry's ids do not change: no source id, so its words are not hashed
    registry_row = {
        "city_name": "Portland", "country_code": "US", "admin1_code": "OR",
        "kind": "emissions_reduction", "target_year": "2030", "baseline_year": "1990",
        "reduction_pct": "50", "status": None, "stated_text": "Cut emissions.",
        "source_url": "https://example.org/pdx", "citation": None, "source": "registry",
        "snapshot_id": "registry-commitments-abc", "source_row": "commitments.csv line 2",
    }  # fmt: skip
    curated = build_commitments(pd.DataFrame([registry_row]), resolver).table
    assert curated["commitment_id"].tolist() == [
        stable_id("com", PORTLAND_OR, "emissions_reduction", "2030", "1990", "50", "registry")
    ]
