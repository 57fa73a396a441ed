"""NameIndex: exact name matching against a small gazetteer of real GeoNames places."""

import pandas as pd
import pytest

from assets.resolve import NameIndex, Resolution, explain, normalise_name

PRAGUE, SAO_PAULO, TEL_AVIV = 3067696, 3448439, 293397
PORTLAND_OR, PORTLAND_ME = 5746545, 4975802
SPRINGFIELD_IL, SPRINGFIELD_MO = 4250542, 4409896

# geonames_id|name|ascii_name|alternate_names|latitude|longitude|feature|country|admin1|population
PLACES = """\
3067696|Prague|Prague|Praag,Prag,Praga,Praha|50.08804|14.42076|PPLC|CZ|52|1165581
3448439|São Paulo|Sao Paulo|Sampa,San Paulo|-23.5475|-46.63611|PPLA|BR|27|10021295
5746545|Portland|Portland||45.52345|-122.67621|PPLA2|US|OR|652503
4975802|Portland|Portland||43.66147|-70.25533|PPLA2|US|ME|68408
4250542|Springfield|Springfield||39.80172|-89.64371|PPLA|US|IL|116565
4409896|Springfield|Springfield||37.21533|-93.29824|PPLA2|US|MO|166810
293397|Tel Aviv|Tel Aviv|Tel Aviv-Yafo,Tel-Aviv|32.08088|34.78057|PPLA|IL|05|432892
"""

COLUMNS = [
    "geonames_id",
    "name",
    "ascii_name",
    "alternate_names",
    "latitude",
    "longitude",
    "feature_code",
    "country_code",
    "admin1_code",
    "population",
]
NUMBERS = {
    "geonames_id": "Int64",
    "latitude": "float64",
    "longitude": "float64",
    "population": "Int64",
}


def gazetteer() -> pd.DataFrame:
    """The places as the GeoNames parser gives them: text columns with None for empty."""
    rows = [line.split("|") for line in PLACES.splitlines()]
    frame = pd.DataFrame(rows, columns=COLUMNS, dtype=object)
    frame = frame.where(frame != "", None)
    return frame.astype(NUMBERS)


@pytest.fixture
def index() -> NameIndex:
    return NameIndex(gazetteer(), ["CZ", "BR", "US", "IL"])


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("São Paulo", "sao paulo"),
        ("Washington, D.C.", "washington d c"),
        ("  PRAGUE ", "prague"),
        ("Tel Aviv-Yafo", "tel aviv yafo"),
        ("Zürich", "zurich"),
    ],
)
def test_normalise_name(raw: str, expected: str) -> None:
    assert normalise_name(raw) == expected


def test_exact_name(index: NameIndex) -> None:
    found = index.resolve("Prague", "CZ")
    assert found == Resolution(PRAGUE, "exact", (PRAGUE,))
    assert found.city_id == "gn:3067696"


def test_exact_match_folds_case_and_punctuation(index: NameIndex) -> None:
    assert index.resolve("PRAGUE.", "CZ") == Resolution(PRAGUE, "exact", (PRAGUE,))


def test_alternate_name(index: NameIndex) -> None:
    assert index.resolve("Praha", "CZ") == Resolution(PRAGUE, "alternate_name", (PRAGUE,))


def test_alternate_name_with_hyphen(index: NameIndex) -> None:
    found = index.resolve("Tel Aviv-Yafo", "IL")
    assert (found.geonames_id, found.method) == (TEL_AVIV, "alternate_name")
    assert found.city_id == "gn:293397"


def test_accents_folded_without_ascii_name() -> None:
    # Without the ASCII name, 'Sao Paulo' still matches 'São Paulo' itself once folded.
    frame = gazetteer()
    frame["ascii_name"] = None
    found = NameIndex(frame, ["BR"]).resolve("Sao Paulo", "BR")
    assert found == Resolution(SAO_PAULO, "exact", (SAO_PAULO,))
    assert found.city_id == "gn:3448439"


def test_accented_input_matches(index: NameIndex) -> None:
    assert index.resolve("SÃO PAULO", "BR").geonames_id == SAO_PAULO


def test_same_name_twice_is_ambiguous(index: NameIndex) -> None:
    found = index.resolve("Portland", "US")
    assert found == Resolution(None, "ambiguous", (PORTLAND_ME, PORTLAND_OR))
    assert found.city_id is None


@pytest.mark.parametrize(("admin1", "expected"), [("OR", PORTLAND_OR), ("ME", PORTLAND_ME)])
def test_admin1_settles_ambiguity(index: NameIndex, admin1: str, expected: int) -> None:
    assert index.resolve("Portland", "US", admin1) == Resolution(expected, "exact", (expected,))


def test_springfield_is_never_guessed(index: NameIndex) -> None:
    # Missouri's Springfield is larger, but population does not choose.
    found = index.resolve("Springfield", "US")
    assert found.method == "ambiguous"
    assert found.geonames_id is None
    assert found.candidates == (SPRINGFIELD_IL, SPRINGFIELD_MO)
    assert index.resolve("Springfield", "US", "IL").geonames_id == SPRINGFIELD_IL


def test_wrong_admin1_is_unresolved(index: NameIndex) -> None:
    assert index.resolve("Portland", "US", "CA") == Resolution(None, "unresolved", ())


def test_unknown_name_is_unresolved(index: NameIndex) -> None:
    assert index.resolve("Atlantis", "US") == Resolution(None, "unresolved", ())


def test_country_filters_candidates(index: NameIndex) -> None:
    assert index.resolve("Prague", "DE") == Resolution(None, "unresolved", ())


def test_only_asked_countries_are_indexed() -> None:
    index = NameIndex(gazetteer(), ["US"])
    assert index.resolve("Prague", "CZ").method == "unresolved"
    assert index.resolve("Springfield", "US", "MO").geonames_id == SPRINGFIELD_MO
    assert set(index.admin1) == {PORTLAND_OR, PORTLAND_ME, SPRINGFIELD_IL, SPRINGFIELD_MO}


def test_explain_ambiguous_lists_candidates(index: NameIndex) -> None:
    found = index.resolve("Portland", "US")
    text = explain(found, "Portland", "US", None)
    assert text == (
        "2 GeoNames places named 'Portland' in US: gn:4975802, gn:5746545; "
        "give admin1_code to choose"
    )
    assert "admin1_code" in text


def test_explain_unresolved_names_place_and_admin1(index: NameIndex) -> None:
    found = index.resolve("Portland", "US", "CA")
    assert explain(found, "Portland", "US", "CA") == (
        "no GeoNames place named 'Portland' in US (admin1 CA)"
    )
    assert explain(index.resolve("Prague", "DE"), "Prague", "DE", None) == (
        "no GeoNames place named 'Prague' in DE"
    )
