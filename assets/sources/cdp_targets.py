"""CDP 2021 city emissions-reduction targets: one commitment per target row.

Each row is one target a reporting city stated: its type (base year absolute or intensity,
baseline scenario, fixed level), the emissions it covers (sector), base and target years and
the percentage. 'No target' rows, and rows that state no type, are not commitments. The
dataset has no stable download URL, so it is imported (``citydip import cdp_targets``).
Restricted: see assets.sources.cdp.
"""

from __future__ import annotations

import pandas as pd

from assets.sources import TARGET_COLUMNS, Parsed, ParseError, cdp

SOURCE = cdp.source_info("cdp_targets")

# The dataset's columns as words; the last three were added by the R re-save.
COLUMNS = (
    "year_reported_to_cdp", "account_number", "organization", "city", "country",
    "cdp_region", "access", "city_boundary", "type_of_target", "sector",
    "identify_and_explain_sources_that_differ_from_the_inventory",
    "target_boundary_relative_to_city_boundary", "base_year", "year_target_was_set",
    "base_year_emissions_metric_tonnes_co2e", "percentage_reduction_target", "target_year",
    "target_year_absolute_emissions_metric_tonnes_co2e",
    "projected_population_in_target_year", "intensity_unit_emissions_per",
    "base_year_emissions_per_intensity_unit_metric_tonnes_co2e_per_denominator",
    "estimated_business_as_usual_absolute_emissions_in_target_year_metric_tonnes_co2e",
    "percentage_of_target_achieved_so_far",
    "select_the_initiatives_that_this_target_contributes_towards",
    "description_of_the_target_and_the_modelling_methodology_ies_and_parameters_used_to_define_it",
    "does_this_target_align_with_the_global_1_5_2_c_pathway_set_out_in_the_paris_agreement",
    "does_this_target_align_to_a_requirement_from_a_higher_level_of_government",
    "target_description", "population", "population_year", "city_location", "last_update",
    "name", "entity_type", "iso",
)  # fmt: skip
NEEDED = (
    "year_reported_to_cdp",
    "account_number",
    "organization",
    "city",
    "country",
    "type_of_target",
    "sector",
    "base_year",
    "percentage_reduction_target",
    "target_year",
    "target_description",
    "description_of_the_target_and_the_modelling_methodology_ies_and_parameters_used_to_define_it",
    "population",
    "city_location",
)
NO_TARGET = "No target"
TARGET_TYPES = {
    "Base year emissions (absolute) target": "base_year_absolute",
    "Base year intensity target": "base_year_intensity",
    "Baseline scenario (business as usual) target": "baseline_scenario",
    "Fixed level target": "fixed_level",
}


def parse_targets(content: bytes, file_name: str) -> pd.DataFrame:
    """One row per target a row states, in the columns the commitments builder reads."""
    return read_targets(content, file_name).frame


def read_targets(content: bytes, file_name: str) -> Parsed:
    """One row per target a row states, in the columns the commitments builder reads, and
    the columns the file has that the dataset does not (not read). A type this parser does
    not know stays as written in `target_type`, for validation to reject and name."""
    records, unknown = cdp.read_rows(content, SOURCE.slug, file_name, COLUMNS, NEEDED)
    rows = []
    for line, row in records:
        stated = row["type_of_target"]
        if stated is None or stated == NO_TARGET:
            continue
        account, organization = row["account_number"], row["organization"]
        rows.append(
            {
                **cdp.city_reference(row),
                "kind": "emissions_reduction",
                "stage": None,
                "target_type": TARGET_TYPES.get(stated, stated),
                "sector": row["sector"],
                "target_year": row["target_year"],
                "baseline_year": row["base_year"],
                "reduction_pct": row["percentage_reduction_target"],
                "status": None,
                "stated_kind": stated,
                "stated_text": row["target_description"]
                or row[
                    "description_of_the_target_and_the_modelling_methodology_ies_and_parameters"
                    "_used_to_define_it"
                ],
                "source_url": None,
                "citation": f"CDP {row['year_reported_to_cdp']} Cities Emissions Reduction "
                f"Targets ({file_name}), account {account} ({organization})",
                "source_row": f"{file_name} line {line}",
            }
        )
    return Parsed(pd.DataFrame(rows, columns=TARGET_COLUMNS, dtype="object"), unknown)


def check_import(file_name: str, content: bytes) -> None:
    """Refuse a file that is not the targets dataset or states no target."""
    if parse_targets(content, file_name).empty:
        raise ParseError(SOURCE.slug, file_name, "file", "no row states a target")
