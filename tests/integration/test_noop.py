"""A build that would change nothing is not done: `citydip release` checks before starting a
run, and the job's `build_inputs` gate skips every step after the raw layer, so neither
publishes a release unless forced. Any changed input, registry file or code builds."""

import json
from pathlib import Path

import dagster as dg

from pipeline.definitions import build_definitions
from pipeline.inputs import FINGERPRINT, fingerprint, selected_files
from pipeline.resources import HttpResource
from pipeline.snapshots import SnapshotStore
from tests.integration.test_cli import run_citydip


def releases(home: Path) -> list[str]:
    folder = home / "warehouse" / "releases"
    return sorted(p.name for p in folder.iterdir() if p.name[0].isdigit())


def manifest(home: Path) -> dict:
    latest = home / "warehouse" / "releases" / "latest" / "manifest.json"
    return json.loads(latest.read_text())


def run_job(
    home: Path, instance: dg.DagsterInstance, force: bool = False
) -> dg.ExecuteInProcessResult:
    config = {"ops": {"build_inputs": {"config": {"force": force}}}}
    defs = build_definitions(str(home))
    return defs.resolve_job_def("release").execute_in_process(
        instance=instance, raise_on_error=False, run_config=config
    )


def outcomes(result: dg.ExecuteInProcessResult) -> dict[str, str]:
    found = {}
    for event in result.all_events:
        if event.is_step_success:
            found[event.step_key] = "ran"
        elif event.is_step_skipped:
            found[event.step_key] = "skipped"
    return found


def test_the_job_skips_an_unchanged_build_and_builds_when_forced(home: Path) -> None:
    with dg.DagsterInstance.ephemeral() as instance:
        first = run_job(home, instance)
        assert first.success
        assert len(releases(home)) == 1
        recorded = manifest(home)[FINGERPRINT]
        again = run_job(home, instance)
        assert again.success
        steps = outcomes(again)
        # the raw layer and the gate run, the gate yields nothing, and everything after it
        # is skipped, the registry's tables and the sources table included
        assert sorted(s for s, outcome in steps.items() if outcome == "ran") == [
            "build_inputs",
            "raw_cdp_emissions",
            "raw_cdp_targets",
            "raw_eurocities_members",
            "raw_geonames",
            "raw_net_zero_tracker",
            "raw_network_members",
            "raw_registry",
            "raw_wikidata",
        ]
        for step in ("parsed_registry__networks", "sources", "assessments", "publish_release"):
            assert steps[step] == "skipped", step
        assert not again.asset_materializations_for_node("publish_release")
        assert len(releases(home)) == 1
        forced = run_job(home, instance, force=True)
        assert forced.success and outcomes(forced)["publish_release"] == "ran"
    assert len(releases(home)) == 2
    assert manifest(home)[FINGERPRINT] == recorded


def test_a_changed_registry_file_builds(home: Path) -> None:
    with dg.DagsterInstance.ephemeral() as instance:
        assert run_job(home, instance).success
        before = manifest(home)[FINGERPRINT]
        networks = home / "raw" / "registry" / "networks.csv"
        networks.write_text(networks.read_text().replace("C40 Cities Climate", "C40 Climate"))
        assert outcomes(run_job(home, instance))["publish_release"] == "ran"
    assert len(releases(home)) == 2
    assert manifest(home)[FINGERPRINT] != before


def test_the_cli_starts_no_run_when_nothing_changed(home: Path) -> None:
    assert run_citydip(home, "release", "--log-level", "ERROR").returncode == 0
    first = releases(home)
    # the CLI's check reads the same files the raw assets chose for the release
    store, registry = SnapshotStore(home / "raw"), home / "raw" / "registry"
    assert fingerprint(selected_files(store, registry), "open") == manifest(home)[FINGERPRINT]
    again = run_citydip(home, "release", "--log-level", "ERROR")
    assert again.returncode == 0, again.stderr
    assert f"nothing changed since release {first[0]}" in again.stdout
    assert "nothing built, nothing published; --force builds anyway" in again.stdout
    assert releases(home) == first
    with dg.DagsterInstance.get() as instance:
        assert len(instance.get_runs()) == 1  # the check started no run
    forced = run_citydip(home, "release", "--log-level", "ERROR", "--force")
    assert "published the open edition of release" in forced.stdout, forced.stderr
    assert len(releases(home)) == 2
    # the full edition is its own: its first build is no no-op
    full = run_citydip(home, "release", "--log-level", "ERROR", "--edition", "full")
    assert "published the full edition" in full.stdout, full.stderr


def test_a_refresh_that_finds_nothing_new_publishes_nothing(home: Path) -> None:
    """A refresh always runs (it must fetch); with every fetch failing here (the URLs point
    at a closed port) the snapshots are unchanged, so the gate stops it."""
    with dg.DagsterInstance.ephemeral() as instance:
        assert run_job(home, instance).success
    first = releases(home)
    config = {
        "ops": {
            "raw_geonames": {"config": {"fetch": True, "base_url": "http://127.0.0.1:9/"}},
            "raw_wikidata": {"config": {"fetch": False}},
            "raw_cdp_emissions": {"config": {"fetch": True, "url": "http://127.0.0.1:9/x.csv"}},
        }
    }
    defs = build_definitions(str(home), http=HttpResource(retries=0, backoff_seconds=0))
    with dg.DagsterInstance.ephemeral() as instance:
        result = defs.resolve_job_def("refresh").execute_in_process(
            instance=instance, raise_on_error=False, run_config=config
        )
    assert result.success
    assert outcomes(result)["raw_geonames"] == "ran"
    assert outcomes(result)["publish_release"] == "skipped"
    assert releases(home) == first


def test_a_missing_registry_file_is_reported_by_the_run_not_the_check(home: Path) -> None:
    """The CLI's no-op check reads every input; one it cannot read is not its to report:
    the run starts and fails at the step that reads it, naming the file."""
    (home / "raw" / "registry" / "agreements.csv").unlink()
    done = run_citydip(home, "release", "--log-level", "ERROR")
    assert done.returncode == 1
    assert "no release published" in done.stderr
    assert (
        "step raw_registry: assets.sources.ParseError: registry: agreements.csv, file: missing"
        in (done.stderr)
    )
    assert "Traceback" not in done.stderr
