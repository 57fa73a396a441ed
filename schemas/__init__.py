"""pandera models for the published tables, one module per table, plus shared code lists.

This package imports nothing else from the project, so the data dictionary and any
downstream user can load it alone.
"""

# Semantic: a new column or code is a minor change, a removed or retyped one a major one.
# 1.1.0: 'wd:' city ids; cities.kinds; agreements.is_reciprocal; source_id in city_ids and
# unresolved_names; source 'wikidata'; crosswalk method 'wikidata_item'; the
# network_qid_review table.
# 1.2.0: sources 'net_zero_tracker', 'network_members', 'eurocities_members',
# 'cdp_targets' and 'cdp_emissions'; commitments.commitment_key, stage, target_type,
# sector, stated_kind and source_id; commitment kinds ghg_neutral, zero_carbon,
# zero_emissions, climate_positive and aligned_1_5c; commitments' target years within
# 2000-2100; the assessments and city_emissions tables.
# 1.3.0: the DuckDB file's `changes` table and the views agreement_pairs, network_members
# and city_profile (the published tables themselves are unchanged).
SCHEMA_VERSION = "1.3.0"
