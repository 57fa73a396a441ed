"""The project's one Dagster code location (loaded by workspace.yaml)."""

import dagster as dg

from assets import checks, inputs, parsed, raw, release, tables
from pipeline import paths
from pipeline.jobs import refresh_job, release_job
from pipeline.resources import (
    HttpResource,
    ResolverResource,
    SnapshotStoreResource,
    WarehouseResource,
    step_outputs,
)
from pipeline.schedules import weekly_refresh


def build_definitions(
    data_root: str | None = None, http: HttpResource | None = None
) -> dg.Definitions:
    """Definitions over a data folder (raw/, warehouse/); the project folder by default.
    Tests pass their own folder and an HTTP client without back-off."""
    root = paths.data_root() if data_root is None else paths.Path(data_root)
    return dg.Definitions(
        assets=[
            raw.raw_geonames,
            raw.raw_registry,
            raw.raw_wikidata,
            raw.raw_net_zero_tracker,
            *raw.raw_member_lists,
            *raw.raw_cdp,
            inputs.build_inputs,
            parsed.parsed_geonames__cities,
            parsed.parsed_geonames__countries,
            parsed.parsed_geonames__admin1,
            *parsed.parsed_registry_assets,
            parsed.parsed_wikidata,
            parsed.parsed_net_zero_tracker,
            *parsed.parsed_member_lists,
            parsed.parsed_cdp_targets__targets,
            parsed.parsed_cdp_emissions__inventories,
            tables.wikidata_places,
            tables.network_qid_review,
            tables.networks,
            tables.memberships,
            tables.agreements,
            tables.commitments,
            tables.assessments,
            tables.city_emissions,
            tables.crosswalk,
            tables.cities,
            tables.sources,
            tables.rejected_rows,
            release.release,
        ],
        asset_checks=[*checks.schema_checks, *checks.relation_checks],
        jobs=[release_job, refresh_job],
        schedules=[weekly_refresh],
        resources={
            "snapshots": SnapshotStoreResource(root=str(root / "raw")),
            "warehouse": WarehouseResource(
                root=str(root / "warehouse" / "releases"), project_root=str(paths.PROJECT_ROOT)
            ),
            "http": http or HttpResource(),
            "resolver": ResolverResource(),
            "io_manager": step_outputs,
        },
    )


defs = build_definitions()


def release_job_def() -> dg.JobDefinition:
    """The `release` job of `defs`, by a module-level name dg.reconstructable can point at."""
    return defs.resolve_job_def("release")


def refresh_job_def() -> dg.JobDefinition:
    """The `refresh` job of `defs`, likewise."""
    return defs.resolve_job_def("refresh")
