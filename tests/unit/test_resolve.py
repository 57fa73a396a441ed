"""NameIndex: exact name matching against a small gazetteer of real GeoNames places."""

import pytest

from assets.resolve import NameIndex, Resolution, explain, normalise_name
from tests.conftest import small_gazetteer

PRAGUE, SAO_PAULO, TEL_AVIV = 3067696, 3448439, 293397
PORTLAND_OR, PORTLAND_ME = 5746545, 4975802
SPRINGFIELD_IL, SPRINGFIELD_MO = 4250542, 4409896


@pytest.fixture
def index() -> NameIndex:
    return NameIndex(small_gazetteer(), ["CZ", "BR", "US", "IL"])


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
    frame = small_gazetteer()
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
    index = NameIndex(small_gazetteer(), ["US"])
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
