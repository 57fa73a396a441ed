"""The resolver on real GeoNames places: namesakes, spellings, affixes, countries given
several ways, coordinates that confirm or conflict, and the paths that refuse to guess."""

import gc

import pandas as pd
import pytest

from assets.resolve import (
    Resolver,
    distance_km,
    normalise_country,
    normalise_name,
    point_slips,
    spelled_out,
    split_name,
    strip_affixes,
)
from pipeline.resources import ResolverResource
from tests.conftest import small_gazetteer

PRAGUE, SAO_PAULO, TEL_AVIV, TAIPEI = 3067696, 3448439, 293397, 1668341
PORTLAND_OR, PORTLAND_ME = 5746545, 4975802
SPRINGFIELD_IL, SPRINGFIELD_MO = 4250542, 4409896
LONDON_GB, LONDON_CA = 2643743, 6058560
INDIANAPOLIS, AMIENS, BOGOTA, TOKYO, SALVADOR = 4259418, 3037854, 3688689, 1850147, 3450554
HAMLET = 9_999_999  # a made-up namesake of Salvador, for the population rule only

# geonames_id|name|ascii_name|alternate_names|latitude|longitude|feature|country|admin1|population
MORE = """\
2643743|London|London|Londres,Londra|51.50853|-0.12574|PPLC|GB|ENG|8961989
6058560|London|London|London Ontario|42.98339|-81.23304|PPL|CA|08|383822
4259418|Indianapolis|Indianapolis|Indy|39.76838|-86.15804|PPLA|US|IN|887642
3037854|Amiens|Amiens||49.9|2.3|PPLA2|FR|32|135429
3688689|Bogotá|Bogota|Santa Fe de Bogota|4.60971|-74.08175|PPLC|CO|34|7674366
1850147|Tokyo|Tokyo|Tōkyō,東京|35.6895|139.69171|PPLC|JP|40|8336599
3450554|Salvador|Salvador|Bahia|-12.97563|-38.49096|PPLA|BR|05|2711840
9999999|Salvador|Salvador||-20.0|-44.0|PPL|BR|15|2000
"""


def resolver_of(rows: list[tuple], admin1: pd.DataFrame | None = None) -> Resolver:
    """A resolver over a few made-up gazetteer rows, in the parsed gazetteer's columns."""
    columns = [c for c in small_gazetteer().columns if c != "snapshot_id"]
    return Resolver.from_frames(pd.DataFrame(rows, columns=columns), admin1=admin1)


@pytest.fixture(scope="module")
def resolver() -> Resolver:
    extra = pd.DataFrame(
        [line.split("|") for line in MORE.splitlines()],
        columns=[c for c in small_gazetteer().columns if c != "snapshot_id"],
    )
    extra = extra.where(extra != "", None).astype(
        {
            "geonames_id": "Int64",
            "latitude": "float64",
            "longitude": "float64",
            "population": "Int64",
        }
    )
    gazetteer = pd.concat([small_gazetteer().drop(columns="snapshot_id"), extra], ignore_index=True)
    countries = pd.DataFrame({"country_code": ["CZ"], "country_name": ["Česko"]})
    admin1 = pd.DataFrame(
        {"country_code": ["CA"], "admin1_code": ["08"], "admin1_name": ["Ontario"]}
    )
    return Resolver.from_frames(gazetteer, countries, admin1)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("São Paulo", "sao paulo"),
        ("Washington, D.C.", "washington d c"),
        ("  PRAGUE ", "prague"),
        ("Tel Aviv \u2013 Yafo", "tel aviv yafo"),
        ("Zürich", "zurich"),
    ],
)
def test_normalise_name(raw: str, expected: str) -> None:
    assert normalise_name(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("city of indianapolis", "indianapolis"),
        ("amiens metropole", "amiens"),
        ("bogota distrito capital", "bogota"),
        ("satte city", "satte"),
        ("ayuntamiento de murcia", "murcia"),
        ("prague", "prague"),
        ("suwon si city council", "suwon"),
        ("london borough of camden", "camden"),
        ("municipalidad distrital de miraflores", "miraflores"),
        ("municipalidad de la ciudad de neuquen", "neuquen"),
        ("municipalidad venado tuerto", "venado tuerto"),
        ("ayuntamiento san nicolas de los garza", "san nicolas de los garza"),
        ("presidencia municipal de saltillo", "saltillo"),
        ("gobierno municipal de toluca de lerdo", "toluca de lerdo"),
        ("government of the city of yogyakarta", "yogyakarta"),
        ("local government unit of vigan city", "vigan"),
        ("municipalite de delemont", "delemont"),
        ("the city of suzuka", "suzuka"),
        ("village of park forest", "park forest"),
        ("district of saanich", "saanich"),
        ("dobong gu municipal government", "dobong"),
    ],
)
def test_strip_affixes(raw: str, expected: str) -> None:
    assert strip_affixes(raw) == expected


def test_split_name_takes_off_qualifiers_and_a_subdivision_code() -> None:
    assert split_name("City of Indianapolis, IN", "US") == ("City of Indianapolis", "IN")
    assert split_name("Dhaka (North & South)", "BD") == ("Dhaka", None)
    assert split_name("City of Edmonton, AB", "CA") == ("City of Edmonton", "AB")
    assert split_name("Tel Aviv, XX", "IL") == ("Tel Aviv, XX", None)
    assert split_name("London, UK", "GB") == ("London", None)
    assert split_name("Lille, France", "FR") == ("Lille", None)
    assert split_name("Columbia, South Carolina", "US") == ("Columbia", "SC")
    # ISO 3166-2 says 'Jiangsu Sheng' and 'Guangxi Zhuangzu Zizhiqu'; sources do not
    assert split_name("Changzhou, Jiangsu", "CN") == ("Changzhou", "JS")
    assert split_name("Yulin, Guangxi", "CN") == ("Yulin", "GX")
    assert split_name("Paris, Texas", "FR") == ("Paris, Texas", None)


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("CZ", "CZ"),
        ("CZE", "CZ"),
        ("Czechia", "CZ"),
        ("Czech Republic", "CZ"),
        ("Korea, Republic of", "KR"),
        ("England", "GB"),
        ("Scotland", "GB"),
        ("United States of America", "US"),
        ("Viet Nam", "VN"),
        ("Republic of Korea", "KR"),
        ("Taiwan, Greater China", "TW"),
        ("Bolivia (Plurinational State of)", "BO"),
        ("bosnia-herzegovina", "BA"),
        ("Atlantis", None),
        (None, None),
    ],
)
def test_normalise_country(given: str | None, expected: str | None) -> None:
    assert normalise_country(given) == expected


def test_a_country_three_ways_finds_the_same_city(resolver: Resolver) -> None:
    found = {resolver.resolve("Prague", c).geonames_id for c in ("CZ", "CZE", "Czechia")}
    assert found == {PRAGUE}
    # the gazetteer's own country names count too
    assert resolver.resolve("Prague", "Česko").geonames_id == PRAGUE


def test_exact_and_alternate_names(resolver: Resolver) -> None:
    exact = resolver.resolve("Prague", "CZ")
    assert (exact.geonames_id, exact.method, exact.confidence) == (PRAGUE, "exact", 1.0)
    assert exact.city_id == "gn:3067696"
    alternate = resolver.resolve("Praha", "CZ")
    assert (alternate.geonames_id, alternate.method) == (PRAGUE, "alternate_name")


def test_namesakes_in_different_countries(resolver: Resolver) -> None:
    assert resolver.resolve("London", "GB").geonames_id == LONDON_GB
    assert resolver.resolve("London", "Canada").geonames_id == LONDON_CA


def test_a_same_country_namesake_told_apart_by_admin1(resolver: Resolver) -> None:
    assert resolver.resolve("Portland", "US", admin1="OR").geonames_id == PORTLAND_OR
    assert resolver.resolve("Portland", "US", admin1="ME").geonames_id == PORTLAND_ME
    assert resolver.resolve("Portland, ME", "US").geonames_id == PORTLAND_ME


@pytest.mark.parametrize("admin1", ["ME", "US-ME", "Maine", "maine "])
def test_admin1_as_an_iso_code_or_a_name(resolver: Resolver, admin1: str) -> None:
    assert resolver.resolve("Portland", "US", admin1=admin1).geonames_id == PORTLAND_ME


@pytest.mark.parametrize("admin1", ["08", "ON", "CA-ON", "Ontario"])
def test_admin1_outside_the_us_through_the_admin1_table(resolver: Resolver, admin1: str) -> None:
    assert resolver.admin1_code("CA", admin1) == "08"
    assert resolver.resolve("London", "Canada", admin1=admin1).geonames_id == LONDON_CA


def test_an_admin1_nobody_can_read_narrows_nothing(resolver: Resolver) -> None:
    assert resolver.admin1_code("CA", "Narnia") is None
    assert resolver.resolve("London", "CA", admin1="Narnia").geonames_id == LONDON_CA
    # a real subdivision with no place of the name in it still finds nothing
    found = resolver.resolve("Portland", "US", admin1="Texas")
    assert (found.geonames_id, found.method) == (None, "unresolved")
    assert "(admin1 TX)" in (found.reason or "")


def test_a_same_country_namesake_told_apart_by_coordinates(resolver: Resolver) -> None:
    found = resolver.resolve("Portland", "US", latitude=43.65, longitude=-70.26)
    assert (found.geonames_id, found.method) == (PORTLAND_ME, "exact")
    assert found.distance_km is not None and found.distance_km < 2
    assert found.runner_up == PORTLAND_OR


def test_coordinates_far_from_the_named_city_are_a_conflict(resolver: Resolver) -> None:
    # Brno's coordinates with Prague's name: 185 km apart, refused rather than accepted
    found = resolver.resolve("Prague", "CZ", latitude=49.19522, longitude=16.60796)
    assert found.geonames_id is None
    assert found.method == "conflict"
    assert "km or more from the source's coordinates" in (found.reason or "")
    assert found.distance_km is not None and 180 < found.distance_km < 190


def test_a_big_city_is_confirmed_further_out_than_a_small_one(resolver: Resolver) -> None:
    # CDP places Tokyo at (35.410, 139.410), about 40 km from GeoNames' point
    tokyo = resolver.resolve("Tokyo", "JP", latitude=35.410, longitude=139.410)
    assert (tokyo.geonames_id, tokyo.method) == (TOKYO, "exact")
    assert tokyo.distance_km is not None and 35 < tokyo.distance_km < 45
    # Amiens (135,000 people) 40 km from its point is refused
    amiens = resolver.resolve("Amiens", "FR", latitude=49.9 + 0.36, longitude=2.3)
    assert (amiens.geonames_id, amiens.method) == (None, "conflict")


def test_alike_namesakes_are_ambiguous_not_guessed(resolver: Resolver) -> None:
    found = resolver.resolve("Springfield", "US")
    assert (found.geonames_id, found.method) == (None, "ambiguous")
    assert set(found.candidates) == {SPRINGFIELD_IL, SPRINGFIELD_MO}
    assert found.runner_up == SPRINGFIELD_IL
    assert "give admin1 or coordinates" in (found.reason or "")


def test_a_namesake_dwarfed_by_a_city_is_not_alike(resolver: Resolver) -> None:
    found = resolver.resolve("Salvador", "BR")
    assert (found.geonames_id, found.runner_up) == (SALVADOR, HAMLET)
    assert found.confidence == pytest.approx(0.9)


def test_the_source_population_tells_alike_namesakes_apart(resolver: Resolver) -> None:
    # Portland OR (652,503) and Portland ME (68,408) are alike by the dominance rule, but a
    # source counting 600,000 means Oregon's and one counting 70,000 Maine's.
    assert resolver.resolve("Portland", "US").method == "ambiguous"
    oregon = resolver.resolve("Portland", "US", population=600_000)
    assert (oregon.geonames_id, oregon.runner_up) == (PORTLAND_OR, PORTLAND_ME)
    assert oregon.method == "exact"
    assert oregon.confidence == pytest.approx(0.9)
    assert resolver.resolve("Portland", "US", population=70_000).geonames_id == PORTLAND_ME


def test_a_population_that_fits_both_namesakes_settles_nothing(resolver: Resolver) -> None:
    # Springfield MO (166,810) and IL (116,565) are both within 3 times of 150,000
    found = resolver.resolve("Springfield", "US", population=150_000)
    assert (found.geonames_id, found.method) == (None, "ambiguous")
    assert set(found.candidates) == {SPRINGFIELD_IL, SPRINGFIELD_MO}


def test_a_population_fitting_only_a_dwarfed_namesake_is_ambiguous(resolver: Resolver) -> None:
    # the population says the hamlet of 2,000, size says Salvador, BA: evidence disagrees
    found = resolver.resolve("Salvador", "BR", population=2_500)
    assert (found.geonames_id, found.method, found.runner_up) == (None, "ambiguous", HAMLET)
    assert "over 20 times bigger" in (found.reason or "")
    assert resolver.resolve("Salvador", "BR", population=2_500_000).geonames_id == SALVADOR


def test_a_place_far_smaller_than_the_source_says_is_a_conflict(resolver: Resolver) -> None:
    # Amiens has 135,429; a source counting 9 million (66 times more) means another place
    found = resolver.resolve("Amiens", "FR", population=9_000_000)
    assert (found.geonames_id, found.method) == (None, "conflict")
    assert "population of 9,000,000" in (found.reason or "")
    assert resolver.resolve("Amiens", "FR", population=6_000_000).geonames_id == AMIENS


def test_a_source_counting_far_fewer_refutes_nothing(resolver: Resolver) -> None:
    # CDP gives Antananarivo 1 inhabitant: a slip, not another place
    assert resolver.resolve("Amiens", "FR", population=1).geonames_id == AMIENS


@pytest.mark.parametrize("missing", [None, float("nan"), 0, -5])
def test_a_missing_population_is_no_evidence(resolver: Resolver, missing: float | None) -> None:
    found = resolver.resolve("Springfield", "US", population=missing)
    assert (found.geonames_id, found.method) == (None, "ambiguous")
    assert resolver.resolve("Amiens", "FR", population=missing).geonames_id == AMIENS


def test_coordinates_outweigh_the_population(resolver: Resolver) -> None:
    found = resolver.resolve("Portland", "US", latitude=45.5, longitude=-122.7, population=1)
    assert found.geonames_id == PORTLAND_OR


@pytest.mark.parametrize(
    ("name", "country", "expected", "method"),
    [
        ("City of Indianapolis, IN", "United States of America", INDIANAPOLIS, "normalised"),
        ("Amiens Metropole", "France", AMIENS, "normalised"),
        ("Bogotá Distrito Capital", "Colombia", BOGOTA, "normalised"),
        ("Tel Aviv \u2013 Yafo", "Israel", TEL_AVIV, "alternate_name"),
        ("Taibei", "Taiwan", TAIPEI, "alternate_name"),
        ("東京", "JP", TOKYO, "alternate_name"),
        ("Indianopolis", "US", INDIANAPOLIS, "fuzzy"),
    ],
)
def test_spellings_sources_use(
    resolver: Resolver, name: str, country: str, expected: int, method: str
) -> None:
    found = resolver.resolve(name, country)
    assert (found.geonames_id, found.method) == (expected, method)


def test_a_qualified_name_in_the_gazetteer_is_found_as_sources_write_it() -> None:
    gazetteer = small_gazetteer()
    gazetteer.loc[0, ["name", "ascii_name"]] = "Frankfurt (Oder)"
    found = Resolver.from_frames(gazetteer).resolve("Frankfurt (Oder)", "CZ")
    assert (found.geonames_id, found.method) == (PRAGUE, "exact")


def test_a_trailing_country_is_not_part_of_the_name(resolver: Resolver) -> None:
    assert resolver.resolve("London, UK", "GBR").geonames_id == LONDON_GB


def test_a_geonames_id_wins(resolver: Resolver) -> None:
    found = resolver.resolve("whatever", "ZZ", geonames_id=PRAGUE)
    assert (found.geonames_id, found.method, found.confidence) == (PRAGUE, "id", 1.0)


def test_coordinates_alone_find_the_place_when_the_name_does_not(resolver: Resolver) -> None:
    found = resolver.resolve("Hlavní město", "CZ", latitude=50.09, longitude=14.43)
    assert (found.geonames_id, found.method) == (PRAGUE, "coordinates")


@pytest.mark.parametrize(
    ("name", "country", "reason"),
    [
        ("Atlantis", "CZ", "no GeoNames place named 'Atlantis' in CZ"),
        ("Prague", "Atlantis", "unknown country 'Atlantis'"),
        ("", "CZ", "no name given"),
    ],
)
def test_no_candidate_says_why(resolver: Resolver, name: str, country: str, reason: str) -> None:
    found = resolver.resolve(name, country)
    assert (found.geonames_id, found.method, found.reason) == (None, "unresolved", reason)


def test_distance_km() -> None:
    assert distance_km(50.08804, 14.42076, 49.19522, 16.60796) == pytest.approx(185, abs=2)
    assert distance_km(0, 0, 0, 0) == 0


def test_the_resource_builds_one_index_per_gazetteer_snapshot() -> None:
    resource = ResolverResource()
    gazetteer = small_gazetteer()
    empty = pd.DataFrame(columns=["country_code", "country_name"])
    first = resource.for_gazetteer(gazetteer, empty, pd.DataFrame())
    assert resource.for_gazetteer(gazetteer, empty, pd.DataFrame()) is first
    assert resource.builds == 1
    other = gazetteer.assign(snapshot_id="another-snapshot")
    assert resource.for_gazetteer(other, empty, pd.DataFrame()) is not first


def test_the_population_settles_namesakes_both_near_the_point() -> None:
    # two made-up namesakes 11 km apart, both within reach of a point between them
    rows = [
        (1, "Villanueva", "Villanueva", None, 40.00, -3.00, "PPL", "ES", "29", 50_000),
        (2, "Villanueva", "Villanueva", None, 40.10, -3.00, "PPL", "ES", "29", 2_000),
    ]
    resolver = resolver_of(rows)
    between = {"latitude": 40.05, "longitude": -3.0}
    assert resolver.resolve("Villanueva", "ES", **between).method == "ambiguous"
    found = resolver.resolve("Villanueva", "ES", **between, population=45_000)
    assert (found.geonames_id, found.runner_up, found.method) == (1, 2, "exact")
    assert found.distance_km == pytest.approx(5.56, abs=0.01)


def test_fuzzy_reaches_names_exactly_at_the_cutoff() -> None:
    # 'kirchdorfer' (11) against 'kirchdorf' (9): 100 * 2 * 9 / 20 = 90, the cutoff itself;
    # the length window that spares the scorer must not cut it off
    rows = [(1, "Kirchdorf", "Kirchdorf", None, 48.0, 12.0, None, "DE", "02", 5_000)]
    resolver = resolver_of(rows)
    assert resolver.resolve("Kirchdorfer", "DE")[:2] == (1, "fuzzy")
    assert resolver.resolve("Kirchdorfxy", "DE")[:2] == (1, "fuzzy")
    assert resolver.resolve("Kirchdorferx", "DE").method == "unresolved"  # 85.7


def test_a_chinese_province_after_the_name_picks_the_namesake() -> None:
    # two made-up Suzhous of like size, in GeoNames' Jiangsu (04) and Anhui (01)
    rows = [
        (1, "Suzhou", "Suzhou", None, 31.3, 120.6, None, "CN", "04", 4_000_000),
        (2, "Suzhou", "Suzhou", None, 33.6, 116.9, None, "CN", "01", 1_000_000),
    ]
    admin1 = pd.DataFrame(
        {
            "country_code": ["CN", "CN"],
            "admin1_code": ["04", "01"],
            "admin1_name": ["Jiangsu", "Anhui"],
        }
    )
    resolver = resolver_of(rows, admin1)
    assert resolver.resolve("Suzhou", "CHN").method == "ambiguous"
    assert resolver.resolve("Suzhou, Jiangsu", "CHN").geonames_id == 1
    assert resolver.resolve("Suzhou, Anhui", "CHN").geonames_id == 2
    assert resolver.resolve("Suzhou", "CHN", admin1="Anhui Sheng").geonames_id == 2


def test_freeze_keeps_the_index_out_of_the_collectors_walks() -> None:
    resolver = Resolver.from_frames(small_gazetteer())
    gc.unfreeze()
    assert resolver.freeze() is resolver
    frozen = gc.get_freeze_count()
    gc.unfreeze()  # leave the process as the other tests expect it
    assert frozen >= len(resolver.places)  # each place record is tracked, so it is frozen
    assert resolver.resolve("Prague", "CZ").geonames_id == PRAGUE


def test_a_gazetteer_name_with_a_comma_is_found_as_written() -> None:
    # GeoNames names one place 'Mianzhu, Deyang, Sichuan'; Sichuan must not be read off
    rows = [(1815059, "Mianzhu, Deyang, Sichuan", None, None, 31.3, 104.2, None, "CN", "32", 0)]
    resolver = resolver_of(rows)
    found = resolver.resolve("Mianzhu, Deyang, Sichuan", "CN")
    assert (found.geonames_id, found.method) == (1815059, "exact")


def test_point_slips_are_the_swapped_and_sign_flipped_variants() -> None:
    slips = point_slips(50.0, 10.0)
    assert (10.0, 50.0) in slips  # swapped
    assert (50.0, -10.0) in slips and (-50.0, 10.0) in slips  # a sign dropped
    assert (-10.0, -50.0) in slips  # both
    assert (50.0, 10.0) not in slips
    # a longitude beyond 90 cannot have been the latitude
    assert all(abs(lat) <= 90 for lat, _ in point_slips(40.0, 120.0))


def test_a_swapped_or_unsigned_source_point_is_read_corrected() -> None:
    # CDP's own slips: San José, CR at (-84.0796, 9.9326); Bradford at (53.792, 1.754)
    rows = [
        (1, "San José", "San Jose", None, 9.93333, -84.08333, None, "CR", "08", 335_007),
        (2, "Bradford", "Bradford", None, 53.79391, -1.75206, None, "GB", "ENG", 299_310),
    ]
    resolver = resolver_of(rows)
    san_jose = resolver.resolve("San José", "CR", latitude=-84.0796, longitude=9.9326)
    assert (san_jose.geonames_id, san_jose.method) == (1, "exact")
    assert san_jose.confidence == pytest.approx(0.8)
    assert san_jose.distance_km is not None and san_jose.distance_km < 2
    assert "read as (9.9326, -84.0796)" in (san_jose.reason or "")
    bradford = resolver.resolve("Bradford", "GB", latitude=53.792, longitude=1.754)
    assert (bradford.geonames_id, bradford.method) == (2, "exact")
    assert "read as (53.792, -1.754)" in (bradford.reason or "")
    # a point that is merely elsewhere is still a conflict
    far = resolver.resolve("Bradford", "GB", latitude=51.5, longitude=-0.12)
    assert (far.geonames_id, far.method) == (None, "conflict")


def test_a_slipped_point_on_two_namesakes_stays_a_conflict() -> None:
    # made-up namesakes at (50, 10) and (10, 50): (-50, 10) slips onto both
    rows = [
        (1, "Twin", "Twin", None, 50.0, 10.0, None, "DE", "01", 10_000),
        (2, "Twin", "Twin", None, 10.0, 50.0, None, "DE", "01", 10_000),
    ]
    resolver = resolver_of(rows)
    assert resolver.resolve("Twin", "DE", latitude=50.0, longitude=10.0)[:2] == (1, "exact")
    found = resolver.resolve("Twin", "DE", latitude=-50.0, longitude=10.0)
    assert (found.geonames_id, found.method) == (None, "conflict")


def test_a_name_in_parentheses_is_tried_as_another_name_of_the_place() -> None:
    # the Net Zero Tracker writes 'Al Kuwayt (Kuwait City)', 'El Djazaïr (Algiers)'
    rows = [
        (285787, "Kuwait City", "Kuwait City", "Al Kuwayt", 29.37, 47.98, "PPLC", "KW", "02", 0),
        (2507480, "Algiers", "Algiers", "Alger,Dzayer", 36.73, 3.09, "PPLC", "DZ", "01", 0),
    ]
    resolver = resolver_of(rows)
    algiers = resolver.resolve("El Djazaïr (Algiers)", "DZA")
    assert (algiers.geonames_id, algiers.method) == (2507480, "alternate_name")
    # the name outside the parentheses still comes first
    kuwait = resolver.resolve("Al Kuwayt (Somewhere Else)", "KW")
    assert (kuwait.geonames_id, kuwait.method) == (285787, "alternate_name")
    assert resolver.resolve("Nowhere (Nothing)", "KW").method == "unresolved"


def test_a_place_named_so_beats_its_qualified_districts() -> None:
    # GeoNames names Zürich's districts 'Zürich (Kreis 11)'; 'Zurich' is the city
    rows = [
        (2657896, "Zürich", "Zurich", None, 47.37, 8.55, "PPLA", "CH", "ZH", 415367),
        (6295533, "Zürich (Kreis 11)", "Zurich (Kreis 11)", None, 47.42, 8.52, "PPLX", "CH",
         "ZH", 54260),
        (6295532, "Zürich (Kreis 3)", "Zurich (Kreis 3)", None, 47.36, 8.50, "PPLX", "CH",
         "ZH", 46018),
        (1, "Springfield (North)", None, None, 40.0, 8.0, "PPL", "CH", "ZH", 100),
        (2, "Springfield (South)", None, None, 39.0, 8.0, "PPL", "CH", "ZH", 100),
    ]  # fmt: skip
    resolver = resolver_of(rows)
    zurich = resolver.resolve("Zurich", "CH")
    assert (zurich.geonames_id, zurich.method) == (2657896, "exact")
    assert resolver.resolve("Zürich (Kreis 3)", "CH").geonames_id == 6295532
    # with no place of the bare name, the qualified ones still answer to it
    assert set(resolver.resolve("Springfield", "CH").candidates) == {1, 2}


def test_an_abbreviated_saint_or_fort_is_spelled_out() -> None:
    rows = [
        (2976341, "Saint-Nazaire", "Saint-Nazaire", None, 47.27, -2.2, "PPLA3", "FR", "52", 69993),
        (4920423, "Fort Wayne", "Fort Wayne", None, 41.13, -85.13, "PPLA2", "US", "IN", 264488),
    ]
    resolver = resolver_of(rows)
    nazaire = resolver.resolve("St Nazaire", "FR")
    assert (nazaire.geonames_id, nazaire.method) == (2976341, "normalised")
    assert resolver.resolve("Ft. Wayne", "US").geonames_id == 4920423
    assert spelled_out("st nazaire") == ["saint nazaire", "sankt nazaire"]
    assert spelled_out("stuttgart") == []
