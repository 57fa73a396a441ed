"""The pipeline's Dagster graph with empty bodies: the same assets, dependencies, checks and
steps, each body doing nothing. Run on the same executor and the same kind of instance as a
real build, its time is what Dagster's bookkeeping alone costs, which the framework-overhead
target compares a real build with."""

from __future__ import annotations

from collections.abc import Iterator

import dagster as dg

from pipeline.jobs import release_job


def empty_asset(assets_def: dg.AssetsDefinition) -> dg.AssetsDefinition:
    """An asset with the same op name and specs (keys, deps, groups) whose body only
    reports each key materialized, storing no value."""
    specs = list(assets_def.specs)

    @dg.multi_asset(name=assets_def.node_def.name, specs=specs)
    def _empty() -> Iterator[dg.MaterializeResult]:
        for spec in specs:
            yield dg.MaterializeResult(asset_key=spec.key)

    return _empty


def empty_check(checks_def: dg.AssetChecksDefinition) -> dg.AssetChecksDefinition:
    """A check with the same name and target that passes without reading anything."""
    specs = list(checks_def.check_specs)

    @dg.multi_asset_check(name=checks_def.node_def.name, specs=specs)
    def _empty() -> Iterator[dg.AssetCheckResult]:
        for spec in specs:
            yield dg.AssetCheckResult(asset_key=spec.asset_key, check_name=spec.name, passed=True)

    return _empty


def empty_definitions(defs: dg.Definitions) -> dg.Definitions:
    """`defs` with every asset and check body emptied, and the `release` job (same
    selection, same in-process executor); no resources are needed."""
    graph = defs.resolve_asset_graph()
    assets = {id(a): a for a in graph.assets_defs if a.is_executable and a.keys}
    checks = [c for c in defs.asset_checks or [] if isinstance(c, dg.AssetChecksDefinition)]
    return dg.Definitions(
        assets=[empty_asset(a) for a in assets.values()],
        asset_checks=[empty_check(c) for c in checks],
        jobs=[release_job],
    )


def empty_release_job() -> dg.JobDefinition:
    """The empty graph's `release` job over the data home in CITYDIP_HOME, by a
    module-level name dg.reconstructable can point at (bench.build.child runs it with
    dg.execute_job, as pipeline.cli.execute runs the real one)."""
    from pipeline.definitions import build_definitions

    return empty_definitions(build_definitions()).resolve_job_def("release")
