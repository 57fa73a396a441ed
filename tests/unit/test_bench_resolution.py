"""The resolution benchmark's pure parts on tiny inline inputs in the sources' own formats:
CDP rows with either header spelling and WKT points, the pasted Eurocities list, the
registry and Net Zero Tracker frames, and the scoring of matches against source points."""

from __future__ import annotations

import io
from pathlib import Path

import pandas as pd
import pytest

from assets.resolve import Resolver, distance_km
from assets.sources.geonames import GAZETTEER_COLUMNS
from bench.resolution.report import format_table
from bench.resolution.run import main
from bench.resolution.scoring import (
    DISPUTED,
    NOT_ONE_CITY,
    error_class,
    measure,
    score,
)
from bench.resolution.sources import (
    LIVE_MISSING,
    R_MISSING,
    Reference,
    c40_references,
    net_zero_tracker_references,
    normalise_header,
    parse_eurocities,
    parse_point,
    read_cdp,
)
from bench.resolution.throughput import exact_path_references, repeat_to, time_calls

# geonames_id|name|ascii_name|alternate_names|latitude|longitude|feature|country|admin1|population
PLACES = """\
2624652|Aarhus|Aarhus|Århus,Orhus|56.15674|10.21076|PPLA2|DK|82|285273
3688689|Bogotá|Bogota|Santa Fe de Bogota|4.60971|-74.08175|PPLC|CO|34|7674366
9000001|Testville|Testville||50.0|10.0|PPL|DE|02|40000
"""
TESTVILLE = 9000001
KM_PER_DEGREE_LATITUDE = 6371.0088 * 3.141592653589793 / 180

R_RESAVED = """\
"Year.Reported.to.CDP","Account.Number","Organization","City","Country","Population","City.Location","iso"
2021,31154,"Bogotá Distrito Capital","Bogotá","Colombia",NA,"POINT (-74.0721 4.7110)","COL"
2021,31154,"Bogotá Distrito Capital","Bogotá","Colombia",7743955,"POINT (-74.0721 4.7110)","COL"
2021,834096,"City of Richmond, BC",NA,"Canada",NA,NA,"CAN"
"""

LIVE = """\
Year Reported to CDP,Account Number,Organization,City,Country,Population,City Location,Last update
2021,54354,City Government of Makati,Makati,Philippines,582602,POINT (121.024 14.5547),10/04/2021
2021,859138,Shima City,,Japan,,,10/04/2021
2021,31090,"City of Portland, ME",Portland,United States of America,66215,,10/04/2021
"""

EUROCITIES = """\
# copy pasted from website
Aarhus
denmark
Amiens Metropole
france
"""


@pytest.fixture(scope="module")
def resolver() -> Resolver:
    rows = [line.split("|") for line in PLACES.splitlines()]
    frame = pd.DataFrame(rows, columns=list(GAZETTEER_COLUMNS), dtype=object)
    frame = frame.astype(
        {"geonames_id": "Int64", "latitude": "float64", "longitude": "float64"}
    ).astype({"population": "Int64"})
    countries = pd.DataFrame({"country_code": ["DK", "DE"], "country_name": ["Denmark", "Germany"]})
    return Resolver.from_frames(frame, countries)


def north_of_testville(km: float) -> tuple[float, float]:
    return 50.0 + km / KM_PER_DEGREE_LATITUDE, 10.0


def test_both_cdp_header_spellings_normalise_alike() -> None:
    assert normalise_header("City.Location") == normalise_header("City Location")
    assert normalise_header("City.Location") == "city_location"
    assert normalise_header("Base.year.emissions..metric.tonnes.CO2e.") == normalise_header(
        "Base year emissions (metric tonnes CO2e)"
    )


def test_point_is_read_longitude_first_and_returned_latitude_first() -> None:
    assert parse_point("POINT (-74.0721 4.711)") == (4.711, -74.0721)
    assert parse_point("point(121.024 14.5547)") == (14.5547, 121.024)
    assert parse_point("NA") is None
    assert parse_point("") is None
    assert parse_point(None) is None
    assert parse_point("POINT (10 95)") is None  # latitude out of range


def test_r_resaved_cdp_gives_one_reference_per_account() -> None:
    refs = read_cdp(io.StringIO(R_RESAVED), "cdp_targets", R_MISSING)
    assert [r.key for r in refs] == ["31154", "834096"]
    bogota, richmond = refs
    assert (bogota.name, bogota.country) == ("Bogotá", "Colombia")
    assert (bogota.latitude, bogota.longitude) == (4.711, -74.0721)
    # the first row gives no population, the second does
    assert (bogota.population, bogota.admin1) == (7743955.0, None)
    # City is NA: the Organization stands in; NA location: no point
    assert richmond.name == "City of Richmond, BC"
    assert (richmond.country, richmond.admin1, richmond.population) == ("Canada", "BC", None)
    assert not richmond.has_point


def test_live_cdp_header_and_empty_cells() -> None:
    refs = read_cdp(io.StringIO(LIVE), "cdp_emissions", LIVE_MISSING)
    assert [(r.name, r.country, r.admin1, r.population) for r in refs] == [
        ("Makati", "Philippines", None, 582602.0),
        ("Shima City", "Japan", None, None),
        ("Portland", "United States of America", "ME", 66215.0),
    ]
    assert (refs[0].latitude, refs[0].longitude) == (14.5547, 121.024)
    assert refs[1].latitude is None


def test_eurocities_pairs_after_the_comment_line() -> None:
    refs = parse_eurocities(EUROCITIES)
    assert [(r.name, r.country) for r in refs] == [
        ("Aarhus", "denmark"),
        ("Amiens Metropole", "france"),
    ]
    with pytest.raises(ValueError, match="'Amsterdam' has no country line after it"):
        parse_eurocities(EUROCITIES + "Amsterdam\n")


def test_registry_c40_rows_keep_admin1() -> None:
    frame = pd.DataFrame(
        {
            "network_id": ["c40", "eurocities", "c40"],
            "city_name": ["Phoenix", "Aarhus", "Lima"],
            "country_code": ["US", "DK", "PE"],
            "admin1_code": ["AZ", "", ""],
        }
    )
    refs = c40_references(frame)
    assert [(r.name, r.country, r.admin1) for r in refs] == [
        ("Phoenix", "US", "AZ"),
        ("Lima", "PE", None),
    ]


def test_net_zero_tracker_keeps_cities_only() -> None:
    frame = pd.DataFrame(
        {
            "name": ["Amsterdam", "Bavaria", "Austin, TX"],
            "country": ["NLD", "DEU", "USA"],
            "actor_type": ["City", "Region", "City"],
        }
    )
    refs = net_zero_tracker_references(frame)
    assert [(r.name, r.country) for r in refs] == [("Amsterdam", "NLD"), ("Austin, TX", "USA")]


def test_match_12_km_away_is_correct_and_45_km_away_is_wrong(resolver: Resolver) -> None:
    near = Reference("t", "1", "Testville", "Germany", None, *north_of_testville(12))
    far = Reference("t", "2", "Testville", "DE", None, *north_of_testville(45))
    assert score(resolver, near).distance_km == pytest.approx(12.0, abs=0.01)
    assert score(resolver, near).correct is True
    assert score(resolver, far).correct is False
    assert score(resolver, far).resolution.geonames_id == TESTVILLE


def test_measure_counts_recall_over_all_rows_and_precision_over_pointed_ones(
    resolver: Resolver,
) -> None:
    refs = [
        Reference("t", "1", "Testville", "DE", None, *north_of_testville(12)),
        Reference("t", "2", "Testville", "DE", None, *north_of_testville(45)),
        Reference("t", "3", "Nowhere", "DE", None, *north_of_testville(1)),
        Reference("t", "4", "Århus", "denmark"),
    ]
    result = measure(resolver, refs, names={TESTVILLE: "Testville, DE"})
    assert result["rows"] == 4
    assert result["resolved"] == 3
    assert result["resolved_pct"] == 75.0
    assert result["resolved_with_point"] == 2
    assert result["correct"] == 1
    assert result["precision_pct"] == 50.0
    assert result["methods"] == {"exact": 2, "alternate_name": 1, "unresolved": 1}
    assert result["unresolved"] == 1
    assert result["failure_classes"] == {"no place of that name in the country": 1}
    [error] = result["errors"]
    assert error["matched"] == f"Testville, DE gn:{TESTVILLE}"
    assert error["distance_km"] == pytest.approx(45.0, abs=0.1)
    assert error["class"] == "near miss (30-60 km)"


def test_with_coordinates_a_far_match_becomes_a_conflict(resolver: Resolver) -> None:
    refs = [Reference("t", "2", "Testville", "DE", None, *north_of_testville(45))]
    result = measure(resolver, refs, use_coordinates=True)
    assert result["conflict"] == 1
    assert result["resolved"] == 0
    assert result["precision_pct"] is None


def test_a_swapped_source_point_is_told_apart(resolver: Resolver) -> None:
    swapped = Reference("t", "5", "Testville", "DE", None, 10.0, 50.0)
    outcome = score(resolver, swapped)
    assert outcome.correct is False
    assert error_class(outcome) == "source point swapped or sign-flipped"
    assert distance_km(10.0, 50.0, 50.0, 10.0) > 1000
    # wrong against the point as given, right against it corrected: only the sound-points
    # figure counts it correct
    for use_coordinates in (False, True):
        result = measure(resolver, [swapped], use_coordinates=use_coordinates)
        assert result["resolved"] == 1
        assert (result["correct"], result["correct_on_corrected_point"]) == (0, 1)
        assert (result["precision_pct"], result["precision_corrected_points_pct"]) == (0.0, 100.0)
        assert result["precision_sound_points_pct"] == 100.0


def test_a_far_match_is_the_points_fault_only_when_two_witnesses_say_so(
    resolver: Resolver,
) -> None:
    far = north_of_testville(200)
    # no Testville near the point, and the source counts 38,000 people (Testville: 40,000)
    agreeing = score(resolver, Reference("t", "6", "Testville", "DE", None, *far, 38_000))
    assert (agreeing.correct, agreeing.disputed) == (False, True)
    assert error_class(agreeing) == DISPUTED
    # the source's population is 10 times Testville's, or not given: the match is wrong
    for population in (400_000, None):
        other = score(resolver, Reference("t", "7", "Testville", "DE", None, *far, population))
        assert (other.correct, other.disputed) == (False, False)
        assert error_class(other) == "far miss (> 60 km)"
    result = measure(resolver, [Reference("t", "6", "Testville", "DE", None, *far, 38_000)])
    assert (result["precision_pct"], result["precision_sound_points_pct"]) == (0.0, None)


def test_a_namesake_near_the_point_makes_the_far_match_wrong() -> None:
    rows = [
        (1, "Neustadt", "Neustadt", None, 50.0, 10.0, None, "DE", "02", 40_000),
        (2, "Neustadt", "Neustadt", None, 52.0, 10.0, None, "DE", "06", 900),
    ]
    resolver = Resolver.from_frames(pd.DataFrame(rows, columns=list(GAZETTEER_COLUMNS)))
    # the source means the small Neustadt its point lies on, whatever its population says
    outcome = score(resolver, Reference("t", "8", "Neustadt", "DE", None, 52.0, 10.0, 41_000))
    assert outcome.resolution.geonames_id == 1
    assert (outcome.correct, outcome.disputed) == (False, False)


def test_throughput_inputs_are_deterministic(resolver: Resolver) -> None:
    gazetteer = pd.DataFrame(
        {"name": ["Aarhus", "Bogotá", None], "country_code": ["DK", "CO", "DE"]}
    )
    first = exact_path_references(gazetteer, 50, seed=7)
    assert first == exact_path_references(gazetteer, 50, seed=7)
    assert len(first) == 50
    assert {(r.name, r.country) for r in first} <= {("Aarhus", "DK"), ("Bogotá", "CO")}
    cycled = repeat_to(first[:3], 7)
    assert [r.key for r in cycled] == [r.key for r in [*first[:3], *first[:3], first[0]]]


def test_time_calls_reports_min_and_median_of_each_pass(resolver: Resolver) -> None:
    ticks = iter(range(100))
    refs = [Reference("t", "1", "Aarhus", "DK"), Reference("t", "2", "Bogota", "CO")]
    result = time_calls(resolver, refs, False, repeats=3, clock=lambda: float(next(ticks)))
    assert result["seconds"] == [1.0, 1.0, 1.0]
    assert result["calls"] == 2
    assert result["per_second_best"] == 2
    assert result["methods"] == {"exact": 2}


def test_table_right_aligns_numbers() -> None:
    table = format_table(["source", "rows"], [["c40", 97], ["net_zero_tracker", 1177]])
    assert table.splitlines() == [
        "source             rows",
        "----------------  -----",
        "c40                  97",
        "net_zero_tracker  1,177",
    ]


def test_main_exits_2_without_the_recorded_data(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "shared" / "data"
    assert main(["--data", str(missing), "--json", str(tmp_path / "out.json")]) == 2
    assert str(missing) in capsys.readouterr().err
    assert not (tmp_path / "out.json").exists()


@pytest.mark.parametrize(
    ("name", "one_city"),
    [
        ("Dane County, WI", False),
        ("West Midlands Combined Authority", False),
        ("Junta Intermunicipal de Medio Ambiente de la Costa Sur", False),
        ("Bellingen Shire", False),
        ("Swale Borough Council", False),
        ("City of Portland, ME", True),
        ("Bogotá Distrito Capital", True),
        ("Wyndham City Council", True),
        ("Regensburg", True),
    ],
)
def test_names_of_bodies_that_are_not_one_city(name: str, one_city: bool) -> None:
    assert (NOT_ONE_CITY.search(name) is None) is one_city


def test_recall_is_also_reported_without_such_bodies(resolver: Resolver) -> None:
    refs = [Reference("t", "1", "Testville", "DE"), Reference("t", "2", "Dane County", "DE")]
    result = measure(resolver, refs)
    assert (result["resolved_pct"], result["rows_one_city"]) == (50.0, 1)
    assert result["resolved_one_city_pct"] == 100.0
