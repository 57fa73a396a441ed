"""Every validation rule of the published models has a case that makes it fail.

Each model gets one valid base row; each case changes that row (a value, or adds or removes
a column) and names the column and check that must appear in the failure cases.
"""

from typing import Any

import pandas as pd
import pandera.pandas as pa
import pytest
from pandera.errors import SchemaErrors

from schemas.agreements import Agreements
from schemas.assessments import Assessments
from schemas.cities import Cities
from schemas.city_emissions import CityEmissions
from schemas.city_ids import CityIds
from schemas.commitments import Commitments
from schemas.gazetteer import Gazetteer
from schemas.memberships import Memberships
from schemas.network_qid_review import NetworkQidReview
from schemas.networks import Networks
from schemas.rejected_rows import RejectedRows
from schemas.sources import Sources
from schemas.unresolved_names import UnresolvedNames

DROP = object()  # as a value in `changes`: remove the column

SHA = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"

BASE: dict[type[pa.DataFrameModel], dict[str, Any]] = {
    Cities: {
        "city_id": "gn:3067696",
        "name": "Prague",
        "ascii_name": "Prague",
        "country_code": "CZ",
        "admin1_code": "52",
        "admin1_name": "Hlavní město Praha",
        "latitude": 50.08804,
        "longitude": 14.42076,
        "population": 1165581,
        "geonames_id": 3067696,
        "wikidata_qid": "Q1085",
        "feature_code": "PPLC",
        "kinds": "big city",
        "source": "geonames",
        "snapshot_id": "geonames-cities15000-abc",
    },
    Networks: {
        "network_id": "c40",
        "name": "C40 Cities Climate Leadership Group",
        "acronym": "C40",
        "founded_year": 2005,
        "hq_city_name": "London",
        "hq_country_code": "GB",
        "hq_city_id": "gn:2643743",
        "website_url": "https://www.c40.org",
        "focus": "climate",
        "scope": "global",
        "scope_area": None,
        "member_count_stated": "96",
        "member_count_as_of": "2023",
        "wikidata_qid": "Q1004498",
        "notes": None,
        "source": "registry",
        "source_urls": "https://www.c40.org/about;https://en.wikipedia.org/wiki/C40",
        "snapshot_id": "registry-networks-abc",
    },
    Memberships: {
        "membership_id": "mem:0123456789abcdef",
        "network_id": "c40",
        "city_id": "gn:3067696",
        "role": "member",
        "joined_year": 2005,
        "left_year": 2020,
        "as_of_year": 2025,
        "source_city_name": "Praha",
        "source": "registry",
        "source_url": "https://www.c40.org/cities/",
        "citation": "C40 Cities, member list",
        "snapshot_id": "registry-memberships-abc",
    },
    Agreements: {
        "agreement_id": "agr:0123456789abcdef",
        "city_a_id": "gn:1668341",
        "city_b_id": "gn:3067696",
        "kind": "sister_city",
        "start_year": 2020,
        "start_date": "2020-01-13",
        "end_year": 2021,
        "is_reciprocal": None,
        "status": "ended",
        "stated_text": "Taipei signed a sister city agreement with Prague.",
        "city_a_source_name": "Taipei",
        "city_b_source_name": "Prague",
        "source": "registry",
        "source_url": "https://example.org/prague-taipei",
        "citation": "Prague City Hall press release, 13 January 2020",
        "snapshot_id": "registry-agreements-abc",
    },
    Commitments: {
        "commitment_id": "com:0123456789abcdef",
        "commitment_key": "cmk:0123456789abcdef",
        "city_id": "gn:5368361",
        "kind": "emissions_reduction",
        "stage": "interim",
        "target_type": "base_year_absolute",
        "sector": None,
        "target_year": 2030,
        "baseline_year": 1990,
        "reduction_pct": 50.0,
        "status": "In law",
        "stated_kind": "Emissions reduction target",
        "stated_text": "Cut emissions 50% below 1990 levels by 2030.",
        "city_source_name": "Los Angeles",
        "source_id": None,
        "source": "registry",
        "source_url": "https://example.org/la-green-new-deal",
        "citation": "L.A.'s Green New Deal, 2019",
        "snapshot_id": "registry-commitments-abc",
    },
    Assessments: {
        "assessment_id": "asm:0123456789abcdef",
        "city_id": "gn:2759794",
        "has_target": False,
        "end_target_stated": "No target",
        "interim_target_stated": "No target",
        "last_updated": "2022-06-30",
        "city_source_name": "Amsterdam",
        "source_id": "CIT-0001",
        "source": "net_zero_tracker",
        "source_url": "https://www.amsterdam.nl/en/policy/sustainability/",
        "citation": "Net Zero Tracker export snapshot_2022-12-20_13-07-14.xlsx, actor CIT-0001",
        "snapshot_id": "20221220T000000000000Z-abcdefabcdef",
    },
    CityEmissions: {
        "emissions_id": "emi:0123456789abcdef",
        "city_id": "gn:5746545",
        "inventory_year": 2019,
        "accounting_period": "2019-01-01 - 2019-12-31",
        "total_tco2e": 6_000_000.0,
        "total_basis": "scope 1 + scope 2",
        "direct_tco2e": None,
        "grid_energy_tco2e": None,
        "scope1_tco2e": 4_000_000.0,
        "scope2_tco2e": 2_000_000.0,
        "scope3_tco2e": None,
        "basic_tco2e": None,
        "basic_plus_tco2e": None,
        "protocol": "GPC",
        "gases": "CO2",
        "population": 650000,
        "population_year": 2020,
        "city_source_name": "Portland",
        "source_id": "900001",
        "source": "cdp_emissions",
        "source_url": "https://data.cdp.net/api/views/tmta-7i7p/rows.csv",
        "citation": "CDP 2021 City-wide Emissions, account 900001",
        "snapshot_id": "20211004T000000000000Z-abcdefabcdef",
    },
    Sources: {
        "snapshot_id": "registry-memberships-abc",
        "source": "registry",
        "role": "memberships",
        "file_name": "memberships.csv",
        "publisher": "citydiplomacy project",
        "origin": "raw/registry/memberships.csv",
        "licence": "CC BY 4.0",
        "attribution": "citydiplomacy curated registry",
        "sha256": SHA,
        "bytes": 1024,
        "retrieved_at": "2025-01-01T00:00:00Z",
        "note": None,
    },
    RejectedRows: {
        "table_name": "memberships",
        "source": "registry",
        "snapshot_id": "registry-memberships-abc",
        "source_row": "memberships.csv line 2",
        "rule": "city_unresolved",
        "column_name": "city_name",
        "value": "Atlantis",
        "reason": "no GeoNames place named 'Atlantis' in US",
        "record": '{"city_name": "Atlantis"}',
    },
    Gazetteer: {
        "geonames_id": 3067696,
        "name": "Prague",
        "ascii_name": "Prague",
        "alternate_names": "Praag,Prag,Praga,Praha",
        "latitude": 50.08804,
        "longitude": 14.42076,
        "feature_code": "PPLC",
        "country_code": "CZ",
        "admin1_code": "52",
        "population": 1165581,
        "snapshot_id": "geonames-cities15000-abc",
    },
}

BASE[CityIds] = {
    "city_id": "gn:3067696",
    "geonames_id": 3067696,
    "wikidata_qid": None,
    "source": "registry",
    "source_table": "memberships",
    "source_id": None,
    "source_name": "Praha",
    "source_country": "CZ",
    "source_admin1": None,
    "method": "alternate_name",
    "confidence": 0.95,
    "runner_up_id": "gn:3067695",
    "rows": 2,
    "snapshot_id": "registry-memberships-abc",
}
BASE[UnresolvedNames] = {
    "source": "registry",
    "source_table": "memberships",
    "source_id": None,
    "source_name": "Springfield",
    "source_country": "US",
    "source_admin1": None,
    "outcome": "ambiguous",
    "reason": "2 places match alike (gn:4409896, gn:4250542); give admin1 or coordinates",
    "candidate_ids": "gn:4409896, gn:4250542",
    "rows": 1,
    "snapshot_id": "registry-memberships-abc",
}
BASE[NetworkQidReview] = {
    "network_id": "mayors_for_peace",
    "network_name": "Mayors for Peace",
    "registry_qid": "Q747279",
    "finding": "confirmed",
    "qid": "Q747279",
    "label": "Mayors for Peace",
    "description": None,
    "matched_name": None,
    "snapshot_id": "20261122T000000000000Z-wikidata0001",
}
MODELS = list(BASE)
PROVENANCE_MODELS = [Memberships, Agreements, Commitments, Assessments, CityEmissions]
YEARS = {
    Networks: ["founded_year"],
    Memberships: ["joined_year", "left_year", "as_of_year"],
    Agreements: ["start_year", "end_year"],
    Commitments: ["baseline_year"],
    CityEmissions: ["inventory_year", "population_year"],
}


def name_of(model: type[pa.DataFrameModel]) -> str:
    return model.Config.name


def frame(model: type[pa.DataFrameModel], rows: list[dict[str, Any]]) -> pd.DataFrame:
    out = pd.DataFrame(rows)
    if model is Gazetteer:  # no coercion: give the integer columns their nullable dtype
        for column in ("geonames_id", "population"):
            if column in out and (
                pd.api.types.is_numeric_dtype(out[column]) or out[column].isna().all()
            ):
                out[column] = out[column].astype("Int64")
    return out


def changed(model: type[pa.DataFrameModel], changes: dict[str, Any]) -> pd.DataFrame:
    row = {**BASE[model], **changes}
    return frame(model, [{k: v for k, v in row.items() if v is not DROP}])


def failures(model: type[pa.DataFrameModel], data: pd.DataFrame) -> pd.DataFrame:
    with pytest.raises(SchemaErrors) as info:
        model.validate(data, lazy=True)
    cases = info.value.failure_cases
    return cases.assign(check=cases["check"].astype(str), column=cases["column"].astype(str))


def case(
    model: type[pa.DataFrameModel],
    changes: dict[str, Any],
    column: str | None,
    check: str,
    label: str,
) -> Any:
    """One rule case: the changes to the base row, and the column and check that must fail
    (column None for a dataframe check, which pandera reports against every column)."""
    return pytest.param(model, changes, column, check, id=f"{name_of(model)}-{label}")


CASES = [
    # --- provenance, on each relationship table
    *[
        c
        for m in PROVENANCE_MODELS
        for c in (
            case(m, {"source": "wikipedia"}, "source", "isin", "source-code"),
            case(m, {"source_url": "www.c40.org"}, "source_url", "str_matches", "url-scheme"),
            case(m, {"source_url": "ftp://c40.org"}, "source_url", "str_matches", "url-ftp"),
            case(m, {"source_url": "https://c40 org"}, "source_url", "str_matches", "url-space"),
            case(m, {"source_url": None, "citation": None}, None, "has_citation", "no-citation"),
        )
    ],
    # --- years: 1800..2100, and a year that is not a number
    *[
        c
        for m, columns in YEARS.items()
        for y in columns
        for c in (
            case(m, {y: 1799}, y, "greater_than_or_equal_to(1800)", f"{y}-low"),
            case(m, {y: 2101}, y, "less_than_or_equal_to(2100)", f"{y}-high"),
            case(m, {y: "abc"}, y, "coerce_dtype('Int64')", f"{y}-text"),
        )
    ],
    # --- cities
    case(Cities, {"city_id": "3067696"}, "city_id", "str_matches", "city_id-no-prefix"),
    case(Cities, {"city_id": "gn:0123"}, "city_id", "str_matches", "city_id-leading-zero"),
    case(Cities, {"city_id": "gn:"}, "city_id", "str_matches", "city_id-empty"),
    case(Cities, {"city_id": "xx:1085"}, "city_id", "str_matches", "city_id-other-prefix"),
    case(Cities, {"city_id": "wd:1085"}, "city_id", "str_matches", "city_id-wd-no-q"),
    case(Cities, {"geonames_id": 3067697}, None, "geonames_cities_are_complete", "gn-other-id"),
    case(Cities, {"latitude": None}, None, "geonames_cities_are_complete", "gn-no-point"),
    case(Cities, {"city_id": "wd:Q1085"}, None, "wikidata_cities_are_their_item", "wd-with-gn"),
    case(
        Cities,
        {"city_id": "wd:Q1085", "geonames_id": None, "wikidata_qid": "Q1086"},
        None,
        "wikidata_cities_are_their_item",
        "wd-other-item",
    ),
    case(Cities, {"country_code": "cz"}, "country_code", "str_matches", "country-lower"),
    case(Cities, {"country_code": "CZE"}, "country_code", "str_matches", "country-alpha3"),
    case(Cities, {"latitude": -90.5}, "latitude", "greater_than_or_equal_to(-90)", "lat-low"),
    case(Cities, {"latitude": 90.5}, "latitude", "less_than_or_equal_to(90)", "lat-high"),
    case(Cities, {"longitude": -180.5}, "longitude", "greater_than_or_equal_to(-180)", "lon-lo"),
    case(Cities, {"longitude": 180.5}, "longitude", "less_than_or_equal_to(180)", "lon-high"),
    case(Cities, {"population": -1}, "population", "greater_than_or_equal_to(0)", "pop-neg"),
    case(Cities, {"geonames_id": 0}, "geonames_id", "greater_than(0)", "geonames_id-zero"),
    case(Cities, {"wikidata_qid": "Q0"}, "wikidata_qid", "str_matches", "qid-zero"),
    case(Cities, {"wikidata_qid": "q1085"}, "wikidata_qid", "str_matches", "qid-lower"),
    case(Cities, {"wikidata_qid": "1085"}, "wikidata_qid", "str_matches", "qid-no-q"),
    case(Cities, {"source": "registry2"}, "source", "isin", "source-code"),
    # --- networks
    case(Networks, {"network_id": "C40"}, "network_id", "str_matches", "slug-upper"),
    case(Networks, {"network_id": "c-40"}, "network_id", "str_matches", "slug-hyphen"),
    case(Networks, {"network_id": "_c40"}, "network_id", "str_matches", "slug-underscore"),
    case(Networks, {"network_id": "c40 cities"}, "network_id", "str_matches", "slug-space"),
    case(Networks, {"hq_country_code": "UK "}, "hq_country_code", "str_matches", "hq-country"),
    case(Networks, {"hq_city_id": "gn:abc"}, "hq_city_id", "str_matches", "hq-city-id"),
    case(Networks, {"website_url": "c40.org"}, "website_url", "str_matches", "website"),
    case(Networks, {"focus": "cooking"}, "focus", "isin", "focus"),
    case(Networks, {"scope": "local"}, "scope", "isin", "scope"),
    case(Networks, {"wikidata_qid": "Q-1"}, "wikidata_qid", "str_matches", "qid"),
    case(Networks, {"source": "geonames2"}, "source", "isin", "source-code"),
    case(Networks, {"hq_country_code": None}, None, "hq_has_country", "hq-without-country"),
    # --- memberships
    case(Memberships, {"membership_id": "mem:XYZ"}, "membership_id", "str_matches", "id-hex"),
    case(
        Memberships,
        {"membership_id": "agr:0123456789abcdef"},
        "membership_id",
        "str_matches",
        "id-prefix",
    ),
    case(Memberships, {"membership_id": "mem:0123"}, "membership_id", "str_matches", "id-short"),
    case(Memberships, {"network_id": "C40"}, "network_id", "str_matches", "network-slug"),
    case(Memberships, {"city_id": "3067696"}, "city_id", "str_matches", "city_id"),
    case(Memberships, {"role": "boss"}, "role", "isin", "role"),
    case(Memberships, {"joined_year": 2021}, None, "left_after_joined", "left-before-joined"),
    # --- network_qid_review
    case(NetworkQidReview, {"finding": "probably"}, "finding", "isin", "finding-code"),
    case(NetworkQidReview, {"qid": "Q0"}, "qid", "str_matches", "qid-zero"),
    case(NetworkQidReview, {"network_id": "Mayors"}, "network_id", "str_matches", "network"),
    # --- agreements
    case(
        Agreements,
        {"is_reciprocal": "perhaps"},
        "is_reciprocal",
        "coerce_dtype('boolean')",
        "reciprocal-text",
    ),
    case(
        Agreements,
        {"agreement_id": "agr:0123456789ABCDEF"},
        "agreement_id",
        "str_matches",
        "id-upper-hex",
    ),
    case(Agreements, {"city_a_id": "gn:x"}, "city_a_id", "str_matches", "city_a_id"),
    case(Agreements, {"city_b_id": "3067696"}, "city_b_id", "str_matches", "city_b_id"),
    case(Agreements, {"kind": "alliance"}, "kind", "isin", "kind"),
    case(Agreements, {"status": "dormant"}, "status", "isin", "status"),
    case(Agreements, {"start_date": "2020/01/13"}, "start_date", "str_matches", "date-slashes"),
    case(Agreements, {"start_date": "13-01-2020"}, "start_date", "str_matches", "date-dmy"),
    case(
        Agreements,
        {"start_date": "2020-13-45", "start_year": 2020},
        "start_date",
        "start_date_is_a_date",
        "date-impossible",
    ),
    case(
        Agreements,
        {"start_date": "2019-02-29", "start_year": 2019},
        "start_date",
        "start_date_is_a_date",
        "date-not-a-leap-year",
    ),
    case(
        Agreements,
        {"city_a_id": "gn:3067696", "city_b_id": "gn:1668341"},
        None,
        "pair_in_canonical_order",
        "pair-swapped",
    ),
    case(Agreements, {"city_b_id": "gn:1668341"}, None, "pair_in_canonical_order", "self-pair"),
    case(Agreements, {"start_year": 2019}, None, "start_date_in_start_year", "date-year-differs"),
    case(Agreements, {"start_year": None}, None, "start_date_in_start_year", "date-no-year"),
    case(Agreements, {"end_year": 2019}, None, "end_after_start", "ends-before-start"),
    # --- commitments
    case(Commitments, {"commitment_id": "com:"}, "commitment_id", "str_matches", "id-empty"),
    case(Commitments, {"city_id": "gn:-5"}, "city_id", "str_matches", "city_id"),
    case(Commitments, {"kind": "zero_waste"}, "kind", "isin", "kind"),
    case(
        Commitments,
        {"reduction_pct": -1.0},
        "reduction_pct",
        "greater_than_or_equal_to(0)",
        "pct-negative",
    ),
    case(
        Commitments,
        {"reduction_pct": 150.0},
        "reduction_pct",
        "less_than_or_equal_to(100)",
        "pct-over-100",
    ),
    case(
        Commitments,
        {"reduction_pct": "half"},
        "reduction_pct",
        "coerce_dtype('float64')",
        "pct-text",
    ),
    case(
        Commitments,
        {"commitment_key": "com:0123456789abcdef"},
        "commitment_key",
        "str_matches",
        "key",
    ),
    case(Commitments, {"stage": "final"}, "stage", "isin", "stage"),
    case(Commitments, {"target_type": "absolute"}, "target_type", "isin", "target_type"),
    # a target is due within 2000-2100; earlier or later is a typo
    case(
        Commitments,
        {"target_year": 1999},
        "target_year",
        "greater_than_or_equal_to(2000)",
        "target-low",
    ),
    case(
        Commitments,
        {"target_year": 2101},
        "target_year",
        "less_than_or_equal_to(2100)",
        "target-high",
    ),
    case(
        Commitments, {"target_year": "soon"}, "target_year", "coerce_dtype('Int64')", "target-text"
    ),
    case(Commitments, {"baseline_year": 2030}, None, "baseline_before_target", "baseline-equal"),
    case(Commitments, {"baseline_year": 2040}, None, "baseline_before_target", "baseline-after"),
    # --- assessments
    case(Assessments, {"assessment_id": "asm:12"}, "assessment_id", "str_matches", "id"),
    case(Assessments, {"city_id": "Amsterdam"}, "city_id", "str_matches", "city_id"),
    case(Assessments, {"last_updated": "30/06/2022"}, "last_updated", "str_matches", "date"),
    case(Assessments, {"city_source_name": None}, "city_source_name", "not_nullable", "name"),
    case(Assessments, {"source": "cdp"}, "source", "isin", "source"),
    # --- city_emissions
    case(CityEmissions, {"emissions_id": "emi:1"}, "emissions_id", "str_matches", "id"),
    case(CityEmissions, {"city_id": "Portland"}, "city_id", "str_matches", "city_id"),
    case(CityEmissions, {"total_basis": "estimate"}, "total_basis", "isin", "basis"),
    case(
        CityEmissions,
        {"total_tco2e": -1.0},
        "total_tco2e",
        "greater_than_or_equal_to(0)",
        "total-negative",
    ),
    case(CityEmissions, {"population": -5}, "population", "greater_than_or_equal_to(0)", "pop"),
    # --- sources
    case(Sources, {"source": "wikipedia"}, "source", "isin", "source-code"),
    case(Sources, {"sha256": SHA.upper()}, "sha256", "str_matches", "sha-upper"),
    case(Sources, {"sha256": SHA[:-1]}, "sha256", "str_matches", "sha-short"),
    case(Sources, {"sha256": SHA + "0"}, "sha256", "str_matches", "sha-long"),
    case(Sources, {"bytes": -1}, "bytes", "greater_than_or_equal_to(0)", "bytes-negative"),
    # --- rejected rows
    case(RejectedRows, {"source": "manual"}, "source", "isin", "source-code"),
    # --- gazetteer (an input contract: no coercion, so types are checked as they are)
    case(Gazetteer, {"geonames_id": 0}, "geonames_id", "greater_than(0)", "id-zero"),
    case(Gazetteer, {"geonames_id": "3067696"}, "geonames_id", "dtype('Int64')", "id-text"),
    case(Gazetteer, {"latitude": -91.0}, "latitude", "greater_than_or_equal_to(-90)", "lat-low"),
    case(Gazetteer, {"latitude": 91.0}, "latitude", "less_than_or_equal_to(90)", "lat-high"),
    case(
        Gazetteer, {"longitude": -181.0}, "longitude", "greater_than_or_equal_to(-180)", "lon-low"
    ),
    case(Gazetteer, {"longitude": 181.0}, "longitude", "less_than_or_equal_to(180)", "lon-high"),
    case(Gazetteer, {"country_code": "Cz"}, "country_code", "str_matches", "country-case"),
    case(Gazetteer, {"population": -5}, "population", "greater_than_or_equal_to(0)", "pop-neg"),
    # --- every non-nullable column given None
    *[
        case(m, {c: None}, c, "not_nullable", f"{c}-null")
        for m in MODELS
        for c, column in m.to_schema().columns.items()
        if not column.nullable
    ],
    # --- every column required; strict: no unknown column
    *[
        case(m, {c: DROP}, name_of(m), "column_in_dataframe", f"{c}-missing")
        for m in MODELS
        for c in m.to_schema().columns
    ],
    *[case(m, {"extra": "x"}, name_of(m), "column_in_schema", "strict") for m in MODELS],
    # --- the crosswalk and the unresolved names
    case(CityIds, {"city_id": "3067696"}, "city_id", "str_matches", "xwalk-city-id"),
    case(CityIds, {"geonames_id": 0}, "geonames_id", "greater_than", "xwalk-geonames-id"),
    case(CityIds, {"method": "guess"}, "method", "isin", "xwalk-method"),
    case(CityIds, {"confidence": 1.5}, "confidence", "less_than_or_equal_to", "xwalk-conf"),
    case(CityIds, {"runner_up_id": "Q1"}, "runner_up_id", "str_matches", "xwalk-runner-up"),
    case(CityIds, {"wikidata_qid": "1085"}, "wikidata_qid", "str_matches", "xwalk-qid"),
    case(CityIds, {"rows": 0}, "rows", "greater_than", "xwalk-rows"),
    case(CityIds, {"source": "wikipedia"}, "source", "isin", "xwalk-source"),
    case(UnresolvedNames, {"outcome": "exact"}, "outcome", "isin", "unresolved-outcome"),
    case(UnresolvedNames, {"rows": 0}, "rows", "greater_than", "unresolved-rows"),
    case(UnresolvedNames, {"source": "wikipedia"}, "source", "isin", "unresolved-source"),
]


@pytest.mark.parametrize("model", MODELS, ids=name_of)
def test_base_row_is_valid(model: type[pa.DataFrameModel]) -> None:
    data = frame(model, [BASE[model]])
    assert sorted(data.columns) == sorted(model.to_schema().columns)
    valid = model.validate(data, lazy=True)
    assert len(valid) == 1


@pytest.mark.parametrize(("model", "changes", "column", "check"), CASES)
def test_rule_fails(
    model: type[pa.DataFrameModel], changes: dict[str, Any], column: str | None, check: str
) -> None:
    cases = failures(model, changed(model, changes))
    hits = cases[cases["check"].str.contains(check, regex=False)]
    assert not hits.empty, cases[["column", "check", "failure_case"]].to_string()
    if column is not None:
        assert column in set(hits["column"]), hits[["column", "check"]].to_string()


def test_missing_and_extra_column_name_the_column() -> None:
    missing = failures(Memberships, changed(Memberships, {"role": DROP}))
    assert missing.loc[missing["check"] == "column_in_dataframe", "failure_case"].tolist() == [
        "role"
    ]
    extra = failures(Memberships, changed(Memberships, {"country_code": "CZ"}))
    assert extra.loc[extra["check"] == "column_in_schema", "failure_case"].tolist() == [
        "country_code"
    ]


@pytest.mark.parametrize("model", [m for m in MODELS if getattr(m.Config, "unique", None)])
def test_unique_key(model: type[pa.DataFrameModel]) -> None:
    # pandera names the key's columns that hold a value (a null admin1 is not reported)
    key = {c for c in model.Config.unique if BASE[model][c] is not None}
    cases = failures(model, frame(model, [BASE[model], BASE[model]]))
    hits = cases[cases["check"] == "multiple_fields_uniqueness"]
    assert set(hits["column"]) == key
    # both rows are flagged, once for each key column reported
    assert sorted(hits["index"].tolist()) == [0] * len(key) + [1] * len(key)


def test_rejected_rows_has_no_unique_key() -> None:
    # One input row may break several rules, so it may appear several times.
    row = BASE[RejectedRows]
    assert len(RejectedRows.validate(frame(RejectedRows, [row, row]))) == 2


def test_models_without_unique_key() -> None:
    assert [m for m in MODELS if not getattr(m.Config, "unique", None)] == [RejectedRows]


@pytest.mark.parametrize(
    ("model", "changes"),
    [
        # A URL or a citation each suffices.
        *[(m, {"source_url": None}) for m in PROVENANCE_MODELS],
        *[(m, {"citation": None}) for m in PROVENANCE_MODELS],
        # Open-ended or undated rows are allowed.
        (Memberships, {"left_year": None, "joined_year": None, "as_of_year": None}),
        (Memberships, {"left_year": 2005}),
        (Agreements, {"start_date": None, "start_year": None, "end_year": None}),
        (Agreements, {"start_date": None}),
        (Agreements, {"end_year": 2020}),
        (Agreements, {"city_a_id": "gn:10", "city_b_id": "gn:9"}),  # string order
        (Commitments, {"baseline_year": None, "reduction_pct": None}),
        (Commitments, {"reduction_pct": 0.0, "target_year": 2100, "baseline_year": 1800}),
        (Commitments, {"target_year": 2000, "baseline_year": 1990}),
        (Commitments, {"stage": None, "target_type": None, "stated_kind": None}),
        (Commitments, {"source_id": "CIT-0001", "source": "net_zero_tracker"}),
        (Assessments, {"has_target": True, "end_target_stated": "Net zero"}),
        (CityEmissions, {"total_tco2e": None, "total_basis": None, "inventory_year": None}),
        (Assessments, {"has_target": None, "end_target_stated": None, "last_updated": None}),
        (Commitments, {"reduction_pct": 100.0}),
        (Networks, {"hq_city_id": None, "hq_country_code": None, "hq_city_name": None}),
        (Networks, {"hq_city_id": None}),
        (Cities, {"latitude": -90.0, "longitude": 180.0, "population": 0}),
        # a Wikidata-only city: no GeoNames id, and its item may have no point
        (
            Cities,
            {
                "city_id": "wd:Q1085",
                "geonames_id": None,
                "latitude": None,
                "longitude": None,
                "ascii_name": None,
                "source": "wikidata",
            },
        ),
        (Agreements, {"is_reciprocal": True, "source": "wikidata"}),
        (CityIds, {"city_id": "wd:Q1085", "geonames_id": None, "method": "wikidata_item"}),
        # a registry value that is no QID is kept as written, to report it
        (NetworkQidReview, {"registry_qid": "https://www.wikidata.org/wiki/Q747279"}),
        (NetworkQidReview, {"finding": "not_checked", "qid": None, "snapshot_id": None}),
        (Gazetteer, {"population": None, "ascii_name": None, "alternate_names": None}),
    ],
    ids=lambda v: name_of(v) if isinstance(v, type) else "-".join(v),
)
def test_allowed_variants_still_valid(
    model: type[pa.DataFrameModel], changes: dict[str, Any]
) -> None:
    valid = model.validate(changed(model, changes), lazy=True)
    assert len(valid) == 1
    for column, value in changes.items():
        if value is None:
            assert valid[column].isna().all()
        else:
            assert valid[column].iloc[0] == value


def test_coercion_turns_registry_strings_into_types() -> None:
    data = changed(Memberships, {"joined_year": "2005", "left_year": None, "as_of_year": "2025"})
    valid = Memberships.validate(data)
    assert str(valid["joined_year"].dtype) == "Int64"
    assert valid["joined_year"].iloc[0] == 2005
    assert valid["as_of_year"].iloc[0] == 2025
    assert valid["left_year"].isna().all()
