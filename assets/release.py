"""Release layer: validate every table once more, then publish DuckDB + Parquet + manifest."""

from pathlib import Path

import dagster as dg
import pandas as pd

from assets.build import resolution_quality
from assets.checks import release_problems
from assets.editions import (
    EDITIONS,
    NOT_FOR_REDISTRIBUTION,
    OPEN,
    RESTRICTED,
    attribution,
    open_edition,
)
from pipeline.inputs import FINGERPRINT
from pipeline.publish import TABLES, ReleaseError, publish_release
from pipeline.resources import WarehouseResource
from schemas import SCHEMA_VERSION


class ReleaseConfig(dg.Config):
    edition: str = OPEN
    """'open' (the default: only sources whose terms allow redistribution, published in
    warehouse/releases/) or 'full' (every source, in warehouse/full/, not for
    redistribution)."""
    accept_id_churn: bool = False
    """Publish even though more than 1% of a table's rows changed stable id since the
    previous release (the diff's id_changed rows); set it only after reading them."""


# The op is named publish_release because the `release` job's graph is named `release`,
# and Dagster needs op and graph names to differ within a code location.
@dg.multi_asset(
    name="publish_release",
    specs=[
        dg.AssetSpec(
            "release",
            group_name="release",
            kinds={"duckdb", "parquet"},
            deps=[
                *TABLES,
                "parsed_geonames__countries",
                "parsed_geonames__cities",
                "build_inputs",
            ],
            description="A versioned release in warehouse/releases/<version>/ (the open "
            "edition; the full one goes to warehouse/full/<version>/): citydiplomacy.duckdb, "
            "one zstd Parquet file per table, ATTRIBUTION and manifest.json; `latest` moves "
            "to it once it is complete. With it: the data dictionary, datapackage.json, "
            "CHANGES.md (and a `changes` table), analyst views, report.html, CITATION.cff "
            "and a sample of a few countries in sample/.",
        )
    ],
)
def release(
    context: dg.AssetExecutionContext,
    config: ReleaseConfig,
    warehouse: WarehouseResource,
    cities: pd.DataFrame,
    networks: pd.DataFrame,
    memberships: pd.DataFrame,
    agreements: pd.DataFrame,
    commitments: pd.DataFrame,
    assessments: pd.DataFrame,
    city_emissions: pd.DataFrame,
    city_ids: pd.DataFrame,
    unresolved_names: pd.DataFrame,
    network_qid_review: pd.DataFrame,
    sources: pd.DataFrame,
    rejected_rows: pd.DataFrame,
    parsed_geonames__countries: pd.DataFrame,
    parsed_geonames__cities: pd.DataFrame,
    build_inputs: str,
) -> dg.MaterializeResult:
    """Validate every table once more, then publish them as one release."""
    tables = {
        "cities": cities,
        "networks": networks,
        "memberships": memberships,
        "agreements": agreements,
        "commitments": commitments,
        "assessments": assessments,
        "city_emissions": city_emissions,
        "city_ids": city_ids,
        "unresolved_names": unresolved_names,
        "network_qid_review": network_qid_review,
        "sources": sources,
        "rejected_rows": rejected_rows,
    }
    if config.edition not in EDITIONS:
        raise ReleaseError(f"edition {config.edition!r} is none of {EDITIONS}")
    if config.edition == OPEN:
        tables = open_edition(tables)
    problems = release_problems(tables, parsed_geonames__countries, len(parsed_geonames__cities))
    if problems:
        raise ReleaseError("blocking rules fail, nothing published: " + "; ".join(problems))
    published_sources = tables["sources"]
    notes = sorted({n for n in published_sources["note"].dropna()})
    restricted = sorted(set(published_sources["source"]) & RESTRICTED)
    published = publish_release(
        warehouse.releases_dir if config.edition == OPEN else warehouse.full_dir,
        tables,
        schema_version=SCHEMA_VERSION,
        project_root=Path(warehouse.project_root),
        extra={
            "edition": config.edition,
            "redistribution": (
                NOT_FOR_REDISTRIBUTION.format(sources=", ".join(restricted))
                if restricted
                else "every source's terms allow redistribution, with attribution (ATTRIBUTION)"
            ),
            "notes": notes,
            "rows_by_source": rows_by_source(tables),
            "resolution": resolution_quality(tables["city_ids"], tables["unresolved_names"]),
            "dagster_run_id": context.run.run_id,
            FINGERPRINT: build_inputs,
        },
        texts={"ATTRIBUTION": attribution(published_sources, config.edition)},
        licence=(
            NOT_FOR_REDISTRIBUTION.format(sources=", ".join(restricted))
            if restricted
            else "each source's licence applies to its rows; see ATTRIBUTION"
        ),
        accept_id_churn=config.accept_id_churn,
    )
    context.log.info(f"published release {published.version} at {published.path}")
    return dg.MaterializeResult(
        metadata={
            "version": published.version,
            "path": str(published.path),
            "edition": config.edition,
            **{f"rows_{name}": len(frame) for name, frame in tables.items()},
            "notes": "\n".join(notes) or "none",
        }
    )


def rows_by_source(tables: dict[str, pd.DataFrame]) -> dict[str, dict[str, int]]:
    """Per source, the rows it gave each table, rejected rows counted under
    'rejected_rows'; so a user sees how much of each source made it in."""
    counts: dict[str, dict[str, int]] = {}
    for name, frame in tables.items():
        if "source" not in frame.columns or name in ("cities", "sources"):
            continue
        for source, rows in frame.groupby("source").size().items():
            counts.setdefault(str(source), {})[name] = int(rows)
    return dict(sorted(counts.items()))
