"""The two jobs: `release` builds from stored snapshots (no network); `refresh` fetches every
live source first. Both run in-process: on 2 cores the multiprocess executor costs ~3 s per
asset (10 trivial assets: 35 s against 4.6 s in-process)."""

import dagster as dg

from assets.sources.catalog import FETCHED

FETCHING_ASSETS = tuple(f"raw_{slug}" for slug in FETCHED)

release_job = dg.define_asset_job(
    name="release",
    selection=dg.AssetSelection.all(),
    executor_def=dg.in_process_executor,
    description="Build and publish a release from the stored snapshots; needs no network.",
)

refresh_job = dg.define_asset_job(
    name="refresh",
    selection=dg.AssetSelection.all(),
    executor_def=dg.in_process_executor,
    config={"ops": {name: {"config": {"fetch": True}} for name in FETCHING_ASSETS}},
    description="Fetch every live source into the snapshot store, then build and publish.",
)
