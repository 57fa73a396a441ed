"""Code lists and patterns shared by the table schemas."""

# 'gn:' + a GeoNames id; 'wd:' + a Wikidata QID for a place no GeoNames place matched
CITY_ID_PATTERN = r"^(?:gn:[1-9][0-9]*|wd:Q[1-9][0-9]*)$"
NETWORK_ID_PATTERN = r"^[a-z0-9][a-z0-9_]*$"
COUNTRY_CODE_PATTERN = r"^[A-Z]{2}$"
WIKIDATA_QID_PATTERN = r"^Q[1-9][0-9]*$"
URL_PATTERN = r"^https?://\S+$"
SHA256_PATTERN = r"^[0-9a-f]{64}$"

# Years before the first twinnings (1920s) or far in the future are typos, not facts.
MIN_YEAR = 1800
MAX_YEAR = 2100

SOURCES = (
    "geonames",
    "registry",
    "wikidata",
    "net_zero_tracker",
    "network_members",
    "eurocities_members",
    "cdp_targets",
    "cdp_emissions",
)

NETWORK_FOCUS = (
    "climate",
    "culture",
    "economy",
    "environment",
    "general",
    "governance",
    "health",
    "heritage",
    "peace",
    "resilience",
    "security",
)
NETWORK_SCOPE = ("global", "regional", "national")

MEMBERSHIP_ROLES = ("member", "founding_member", "associate_member", "observer")

AGREEMENT_KINDS = ("twinning", "sister_city", "friendship", "partnership", "cooperation_mou")
AGREEMENT_STATUS = ("active", "ended", "suspended")

COMMITMENT_KINDS = (
    "net_zero",
    "climate_neutral",
    "carbon_neutral",
    "ghg_neutral",
    "zero_carbon",
    "zero_emissions",
    "climate_positive",
    "aligned_1_5c",
    "emissions_reduction",
    "renewable_energy",
    "fossil_fuel_vehicle_ban",
    "other",
)
# A source that states a long-term (end) target and an interim one on the way.
COMMITMENT_STAGES = ("end", "interim")
# How a reduction is measured: against a base year's absolute emissions or its emissions
# per unit (of population, GDP...), against a business-as-usual projection, or as a level.
TARGET_TYPES = ("base_year_absolute", "base_year_intensity", "baseline_scenario", "fixed_level")
# A target due before 2000 or after 2100 is a typo, not a commitment.
TARGET_MIN_YEAR = 2000
TARGET_MAX_YEAR = 2100

# How the resolver found a city, and the outcomes where it did not.
MATCH_METHODS = ("id", "exact", "alternate_name", "normalised", "fuzzy", "coordinates")
# A Wikidata item no GeoNames place matched is its own city ('wd:Q...').
WIKIDATA_ITEM = "wikidata_item"
CROSSWALK_METHODS = (*MATCH_METHODS, WIKIDATA_ITEM)
NO_MATCH = ("unresolved", "ambiguous", "conflict")

# What tells one source spelling of a city from another in city_ids and unresolved_names.
SPELLING_KEY = [
    "source",
    "source_table",
    "source_id",
    "source_name",
    "source_country",
    "source_admin1",
]
