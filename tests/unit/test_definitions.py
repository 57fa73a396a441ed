"""The code location loads, names follow the project's conventions, and every table has its
blocking schema check."""

import re

import dagster as dg
import yaml

from assets.checks import SCHEMAS
from pipeline.definitions import defs
from pipeline.paths import PROJECT_ROOT
from pipeline.publish import TABLES
from schemas.codes import SOURCES

CORE = set(TABLES)
# core assets the tables are built from but that are not published themselves
INTERMEDIATE = {"wikidata_places"}


def asset_keys() -> dict[str, dg.AssetSpec]:
    graph = defs.resolve_asset_graph()
    return {key.to_user_string(): graph.get(key) for key in graph.get_all_asset_keys()}  # type: ignore[misc]


def test_asset_names_follow_the_layers() -> None:
    nodes = asset_keys()
    for name, node in nodes.items():
        group = node.group_name  # type: ignore[attr-defined]
        if name.startswith("raw_"):
            assert group == "raw", name
        elif name.startswith("parsed_"):
            slugs = "|".join(SOURCES)
            assert re.fullmatch(rf"parsed_({slugs})__[a-z0-9_]+", name), name
            assert group == "parsed", name
        elif name == "release":
            assert group == "release"
        elif name == "build_inputs":  # the no-op gate: the raw layer's files, fingerprinted
            assert group == "raw"
        else:
            base = name.removesuffix("_rejected").removesuffix("_matches")
            assert name in CORE or base in CORE | INTERMEDIATE, name
            assert group == "core", name
    assert set(nodes) >= CORE


def test_every_asset_has_a_description() -> None:
    for name, node in asset_keys().items():
        assert node.description, name  # type: ignore[attr-defined]


def test_every_published_table_has_a_blocking_schema_check() -> None:
    graph = defs.resolve_asset_graph()
    blocking = {
        (key.asset_key.to_user_string(), key.name)
        for key in graph.asset_check_keys
        if graph.get_check_spec(key).blocking
    }
    for table in [*CORE, "parsed_geonames__cities"]:
        assert (table, f"{table}_schema") in blocking, table
        assert table in SCHEMAS


def test_the_weekly_refresh_is_stopped_until_started() -> None:
    schedule = defs.resolve_schedule_def("weekly_refresh")
    assert schedule.default_status == dg.DefaultScheduleStatus.STOPPED
    assert schedule.job_name == "refresh"
    assert schedule.cron_schedule == "0 3 * * 1"


def test_workspace_points_at_the_code_location() -> None:
    workspace = yaml.safe_load((PROJECT_ROOT / "workspace.yaml").read_text())
    assert workspace["load_from"][0]["python_module"]["module_name"] == "pipeline.definitions"


def test_the_code_location_loads_as_the_ui_loads_it() -> None:
    # resolve_job_def alone does not catch clashing op and job names; the UI's load does
    dg.Definitions.validate_loadable(defs)
