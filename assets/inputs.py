"""The gate that skips a build which would change nothing.

A release is a function of the files the raw assets select, the pipeline's code and the
edition (pipeline/inputs.py fingerprints them). When a run's fingerprint equals the latest
release's, the gate yields nothing, so Dagster skips every step after it: no parsing, no
tables, no new release; `force` builds anyway. The weekly refresh fetches first and then
meets the gate, so a week in which no source changed costs the fetches alone."""

from collections.abc import Iterator

import dagster as dg

from assets.editions import OPEN
from assets.sources import SourceFile
from pipeline.inputs import (
    FINGERPRINT,
    edition_of,
    files_read,
    fingerprint,
    unchanged_release,
)
from pipeline.resources import WarehouseResource


class BuildInputsConfig(dg.Config):
    force: bool = False
    """Build and publish even when nothing changed since the latest release."""


@dg.asset(group_name="raw", kinds={"python"}, output_required=False)
def build_inputs(
    context: dg.AssetExecutionContext,
    config: BuildInputsConfig,
    warehouse: WarehouseResource,
    raw_geonames: dict[str, SourceFile | None],
    raw_registry: dict[str, SourceFile],
    raw_wikidata: dict[str, SourceFile | None],
    raw_net_zero_tracker: dict[str, SourceFile | None],
    raw_network_members: dict[str, SourceFile | None],
    raw_eurocities_members: dict[str, SourceFile | None],
    raw_cdp_targets: dict[str, SourceFile | None],
    raw_cdp_emissions: dict[str, SourceFile | None],
) -> Iterator[dg.Output[str]]:
    """The fingerprint of every file the build reads, its code and edition; nothing (and
    every later step skipped) when the latest release was built from the same."""
    edition = edition_of(context.run.run_config)
    files = files_read(
        raw_geonames,
        raw_registry,
        raw_wikidata,
        raw_net_zero_tracker,
        raw_network_members,
        raw_eurocities_members,
        raw_cdp_targets,
        raw_cdp_emissions,
    )
    inputs = fingerprint(files, edition)
    folder = warehouse.releases_dir if edition == OPEN else warehouse.full_dir
    same = unchanged_release(folder, inputs)
    if same is not None and not config.force:
        context.log.info(
            f"nothing changed since release {same.version} (same source files, code and "
            f"edition: {inputs[:12]}); the build is skipped and nothing is published "
            "(config force: true builds anyway)"
        )
        return
    yield dg.Output(
        inputs,
        metadata={
            FINGERPRINT: inputs,
            "files": len(files),
            "latest_release": same.version if same else "built from other inputs, or none",
        },
    )
