"""A whole refresh, and the CLI commands after it, write nowhere but raw/, warehouse/ and
the project's Dagster instance.

Python's audit hooks see every file the run's Python code opens for writing, creates,
renames, links, changes the mode of or removes. DuckDB and Arrow write from C++ and are
not seen, but the paths they write are ones the project's Python code hands them (the
release's temporary folder in warehouse/).
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path
from typing import Any

import dagster as dg
import pytest
from pytest_httpserver import HTTPServer

from pipeline import cli
from pipeline.cli import use_dagster_home
from pipeline.definitions import build_definitions
from pipeline.resources import HttpResource
from pipeline.snapshots import SnapshotStore
from tests.conftest import FIXTURES, nzt_workbook, serve_geonames_dump, serve_wikidata

WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_TRUNC
# events whose first argument is a path the call changes
CHANGES = ("os.mkdir", "os.remove", "os.rmdir", "os.chmod", "os.truncate", "shutil.rmtree")
RECORDING: list[tuple[str, str, int]] | None = None
# asked now, so tempfile's one-off probe of the folder (a named file it writes and
# removes) happens before anything is recorded
TEMP = os.path.abspath(tempfile.gettempdir())


def _path(value: Any) -> str | None:
    if isinstance(value, int) or value is None:
        return None  # a file descriptor: its open was seen already
    return os.path.abspath(os.fsdecode(value))


def _record(event: str, args: tuple[Any, ...]) -> None:
    if RECORDING is None:
        return
    if event == "open":
        path, mode, flags = args
        writes = isinstance(mode, str) and any(c in mode for c in "wax+")
        flags = flags if isinstance(flags, int) else 0
        if (writes or flags & WRITE_FLAGS) and (where := _path(path)):
            RECORDING.append((event, where, flags))
    elif event in ("os.rename", "os.replace"):
        RECORDING.extend((event, p, 0) for a in args[:2] if (p := _path(a)))
    elif event in ("os.symlink", "os.link"):
        if where := _path(args[1]):
            RECORDING.append((event, where, 0))
    elif event in CHANGES and args and (where := _path(args[0])):
        RECORDING.append((event, where, 0))


sys.addaudithook(_record)  # stays for the session; records only while RECORDING is a list


def outside(writes: list[tuple[str, str, int]], allowed: list[Path]) -> list[tuple[str, str]]:
    """The writes under none of `allowed`. An anonymous temporary file (tempfile's
    TemporaryFile: the temp folder itself opened with O_TMPFILE, so the file has no name
    and is gone when closed) leaves no file anywhere and is not counted."""
    found = []
    for event, where, _ in writes:
        if event == "open" and where == TEMP:
            continue
        if not any(Path(where).is_relative_to(root) for root in allowed):
            found.append((event, where))
    return found


def test_outside_catches_a_stray_write(tmp_path: Path) -> None:
    global RECORDING
    RECORDING = []
    try:
        (tmp_path / "stray.txt").write_text("x")
        os.mkdir(tmp_path / "dir")
        with tempfile.TemporaryFile() as anonymous:
            anonymous.write(b"gone when closed")
    finally:
        writes, RECORDING = RECORDING, None
    assert outside(writes, [tmp_path / "raw"]) == [
        ("open", str(tmp_path / "stray.txt")),
        ("os.mkdir", str(tmp_path / "dir")),
    ]
    assert outside(writes, [tmp_path]) == []


def test_a_refresh_writes_only_in_raw_warehouse_and_the_dagster_instance(
    home: Path, httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    global RECORDING
    monkeypatch.setenv("CITYDIP_CONTACT", "https://example.org/citydiplomacy-tests")
    monkeypatch.chdir(home.parent)  # a stray relative path would land beside home/
    config = {
        "ops": {
            "raw_geonames": {
                "config": {"fetch": True, "base_url": serve_geonames_dump(httpserver)}
            },
            "raw_wikidata": {"config": serve_wikidata(httpserver)},
            "raw_cdp_emissions": {
                "config": {"fetch": True, "url": httpserver.url_for("/rows.csv")}
            },
        }
    }
    httpserver.expect_request("/rows.csv").respond_with_data(
        (FIXTURES / "cdp" / "emissions.csv").read_bytes(), content_type="text/csv"
    )
    export = home.parent / "snapshot_2022-12-20_13-07-14.xlsx"  # a user's download
    export.write_bytes(nzt_workbook())
    defs = build_definitions(str(home), http=HttpResource(retries=1, backoff_seconds=0))
    use_dagster_home()
    RECORDING = []
    try:
        with dg.DagsterInstance.get() as instance:
            result = defs.resolve_job_def("refresh").execute_in_process(
                instance=instance, raise_on_error=False, run_config=config
            )
        # the commands that write into the home, and those that only read releases
        commands = [
            ["import", "net_zero_tracker", str(export)],
            ["sources"],
            ["releases"],
            ["verify", "latest"],
            ["diff", "latest", "latest"],
        ]
        exits = [cli.main(command) for command in commands]
    finally:
        writes, RECORDING = RECORDING, None
    assert result.success
    assert exits == [0, 0, 0, 0, 0]
    assert SnapshotStore(home / "raw").latest("cdp_emissions") is not None
    where = {
        Path(w).relative_to(home).parts[0] for _, w, _ in writes if Path(w).is_relative_to(home)
    }
    assert where == {"raw", "warehouse", ".dagster"}  # each was written, and seen
    assert outside(writes, [home / "raw", home / "warehouse", home / ".dagster"]) == []
