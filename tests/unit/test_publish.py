"""Publishing: versions, atomic release folders, `latest`, refusals that leave the previous
release untouched."""

import hashlib
import json
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pyarrow.parquet as pq
import pytest

from pipeline import publish
from pipeline.publish import (
    ReleaseError,
    ReleaseLockedError,
    next_version,
    publish_release,
    version_key,
)
from schemas.dictionary import dictionary
from tests.conftest import tree_hashes

DAY = date(2026, 11, 22)


FILES = (("geonames", "cities"), ("geonames", "admin1"), ("registry", "networks"))


# Two rows of each documented column, typed as the release stores it: enough for every
# part of publishing (comments, views, the sample, the diff, datapackage.json, the report).
VALUES = {
    "VARCHAR": ["a", "b"],
    "BIGINT": [2000, 2001],
    "DOUBLE": [1.5, 2.5],
    "BOOLEAN": [True, False],
}
DTYPES = {"VARCHAR": "string", "BIGINT": "Int64", "DOUBLE": "float64", "BOOLEAN": "boolean"}


def frame(table: str, rows: int = 2) -> pd.DataFrame:
    doc = next(d for d in dictionary() if d.name == table)
    return pd.DataFrame(
        {
            c.name: pd.array((VALUES[c.dtype] * rows)[:rows], dtype=DTYPES[c.dtype])
            for c in doc.columns
        }
    )


def tables(sources: tuple[tuple[str, str], ...] = FILES) -> dict[str, pd.DataFrame]:
    frames = {name: frame(name) for name in publish.TABLES}
    frames["sources"] = frame("sources", len(sources)).assign(
        source=[source for source, _ in sources],
        role=[role for _, role in sources],
        snapshot_id=[f"s{i}" for i in range(len(sources))],
        licence="CC BY 4.0",
    )
    return frames


def release(root: Path, frames: dict[str, pd.DataFrame] | None = None) -> publish.Release:
    return publish_release(root, frames or tables(), "1.0.0", Path("/nonexistent"), today=DAY)


def test_versions_are_calendar_dates_then_a_counter() -> None:
    assert next_version([], DAY) == "2026.11.22"
    assert next_version(["2026.11.22"], DAY) == "2026.11.22.1"
    assert next_version(["2026.11.21.4", "2026.11.22", "2026.11.22.1"], DAY) == "2026.11.22.2"


def test_a_release_has_duckdb_parquet_and_a_manifest(tmp_path: Path) -> None:
    published = release(tmp_path)
    assert published.version == "2026.11.22"
    folder = tmp_path / "2026.11.22"
    assert (tmp_path / "latest").resolve() == folder
    with duckdb.connect(str(folder / "citydiplomacy.duckdb"), read_only=True) as con:
        assert con.execute("select count(*) from memberships").fetchone() == (2,)
    assert pq.read_table(folder / "parquet" / "cities.parquet").num_rows == 2
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["tables"]["agreements"] == {"rows": 2}
    assert manifest["schema_version"] == "1.0.0"
    assert manifest["git_commit"] is None
    listed = {f["path"]: f for f in manifest["files"]}
    parquet_files = [f"parquet/{t}.parquet" for t in publish.TABLES]
    assert set(listed) == {
        "citydiplomacy.duckdb",
        "DATA_DICTIONARY.md",
        "CHANGES.md",
        "CITATION.cff",
        "datapackage.json",
        "report.html",
        "views.sql",
        *parquet_files,
        "sample/citydiplomacy.duckdb",
        "sample/datapackage.json",
        *(f"sample/{path}" for path in parquet_files),
    }
    parquet = folder / "parquet" / "sources.parquet"
    assert (
        listed["parquet/sources.parquet"]["sha256"]
        == hashlib.sha256(parquet.read_bytes()).hexdigest()
    )
    assert pq.read_metadata(parquet).row_group(0).column(0).compression == "ZSTD"
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".tmp")] == []


def test_a_second_release_never_touches_the_first(tmp_path: Path) -> None:
    first = release(tmp_path)
    before = tree_hashes(first.path)
    second = release(tmp_path)
    assert second.version == "2026.11.22.1"
    assert second.manifest["previous_version"] == "2026.11.22"
    assert tree_hashes(first.path) == before
    assert (tmp_path / "latest").resolve().name == "2026.11.22.1"


@pytest.mark.parametrize(
    "stage",
    [
        "write_duckdb",
        "record_changes",
        "write_parquet",
        "write_sample",
        "render_report",
        "write_datapackage",
        "file_hashes",
        "write manifest.json",
        "_fsync_tree",
        "rename into place",
        "point_latest",
    ],
)
def test_a_failure_at_any_stage_publishes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, stage: str
) -> None:
    first = release(tmp_path)
    before = tree_hashes(first.path)

    def fail(*args: object, **kwargs: object) -> None:
        raise OSError(28, "No space left on device")

    if stage == "write manifest.json":
        write_text = Path.write_text

        def fail_manifest(path: Path, *args: Any, **kwargs: Any) -> int:
            if path.name == publish.MANIFEST_FILE:
                fail()
            return write_text(path, *args, **kwargs)

        monkeypatch.setattr(Path, "write_text", fail_manifest)
    elif stage == "rename into place":
        monkeypatch.setattr(publish.os, "rename", fail)
    else:
        monkeypatch.setattr(publish, stage, fail)
    with pytest.raises(OSError, match="No space left"):
        release(tmp_path)
    monkeypatch.undo()
    assert (tmp_path / "latest").resolve().name == "2026.11.22"
    assert tree_hashes(first.path) == before
    names = sorted(p.name for p in tmp_path.iterdir() if not p.name.startswith(".lock"))
    if stage == "point_latest":
        # the folder was complete and renamed before the link failed: a whole release,
        # merely not yet `latest`
        assert names == ["2026.11.22", "2026.11.22.1", "index.json", "latest"]
    else:
        assert names == ["2026.11.22", "index.json", "latest"]


def test_a_release_that_drops_a_source_is_refused(tmp_path: Path) -> None:
    release(tmp_path)
    with pytest.raises(ReleaseError, match="had registry/networks, which this build lacks"):
        release(tmp_path, tables(sources=FILES[:2]))
    assert [r.version for r in publish.list_releases(tmp_path)] == ["2026.11.22"]


def test_a_release_that_drops_one_file_of_a_source_is_refused(tmp_path: Path) -> None:
    release(tmp_path)
    with pytest.raises(ReleaseError, match="had geonames/admin1, which this build lacks"):
        release(tmp_path, tables(sources=(FILES[0], FILES[2])))
    assert release(tmp_path, tables(sources=(*FILES, ("geonames", "countries")))).version == (
        "2026.11.22.1"
    )


def test_a_release_missing_a_table_is_refused(tmp_path: Path) -> None:
    frames = tables()
    del frames["commitments"]
    with pytest.raises(ReleaseError, match="needs exactly the tables"):
        release(tmp_path, frames)
    assert not (tmp_path / "latest").exists()


def test_two_releases_at_once_the_second_is_refused(tmp_path: Path) -> None:
    with publish.release_lock(tmp_path), pytest.raises(ReleaseLockedError, match="another release"):
        release(tmp_path)
    assert release(tmp_path).version == "2026.11.22"


def test_every_file_says_which_release_and_schema_it_is(tmp_path: Path) -> None:
    published = release(tmp_path)
    kv = pq.read_schema(published.path / "parquet" / "memberships.parquet").metadata
    assert kv[b"version"] == b"2026.11.22"
    assert kv[b"schema_version"] == b"1.0.0"
    assert kv[b"licence"] == b"see ATTRIBUTION"
    with duckdb.connect(str(published.path / "citydiplomacy.duckdb"), read_only=True) as con:
        info = dict(con.execute("select key, value from release_info").fetchall())
        comment = con.execute(
            "select comment from duckdb_tables() where table_name = 'memberships'"
        ).fetchone()
    assert info["version"] == "2026.11.22" and info["schema_version"] == "1.0.0"
    assert info["created_at"] == published.manifest["created_at"]
    assert comment == ("One row per city-network membership.",)
    dictionary = (published.path / "DATA_DICTIONARY.md").read_text()
    assert dictionary.startswith("# Data dictionary: release 2026.11.22 (schema 1.0.0)")


def test_a_failed_index_update_leaves_the_release_published_and_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from pipeline import site

    def fail(root: Path) -> Path:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(site, "write_index", fail)
    published = release(tmp_path)
    assert (tmp_path / "latest").resolve() == published.path
    assert not (tmp_path / "index.json").exists()
    assert "release published, but" in caplog.text and "No space left" in caplog.text


def test_a_release_removes_what_an_interrupted_one_left_behind(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    first = release(tmp_path)
    before = tree_hashes(first.path)
    (tmp_path / ".tmp-2026.11.22.1-deadbeef" / "parquet").mkdir(parents=True)
    (tmp_path / ".tmp-2026.11.22.1-deadbeef" / "citydiplomacy.duckdb").write_bytes(b"half")
    (tmp_path / ".latest-0badc0de").symlink_to("2026.11.22.1")
    (tmp_path / ".index.json-12345678").write_text("{")
    second = release(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        ".lock",
        "2026.11.22",
        "2026.11.22.1",
        "index.json",
        "latest",
    ]
    assert tree_hashes(first.path) == before and second.version == "2026.11.22.1"
    assert "removed what an interrupted release left" in caplog.text


@pytest.mark.parametrize(
    "version",
    [
        "../2026.11.22",
        "2026.11.22/..",
        "2026.11.22\n",
        "2026.11.22\x00",
        "\uff12\uff10\uff12\uff16.11.22",
        "2026.11.22.\u0661",
    ],
)
def test_a_release_version_with_separators_nul_or_unusual_characters_is_refused(
    version: str,
) -> None:
    with pytest.raises(ValueError, match="not a release version"):
        version_key(version)


def test_duckdb_and_parquet_keep_a_formula_like_value_as_given(tmp_path: Path) -> None:
    # only CSV exports neutralise formulas (pipeline.exports); the data files keep values
    frames = tables()
    names = ['=HYPERLINK("http://example.org","x")', "-2+3"]
    frames["networks"] = frames["networks"].assign(name=pd.array(names, dtype="string"))
    published = release(tmp_path, frames)
    with duckdb.connect(str(published.path / publish.DUCKDB_FILE), read_only=True) as con:
        stored = [r[0] for r in con.execute("select name from networks order by name").fetchall()]
    assert sorted(stored) == sorted(names)
    parquet = pq.read_table(published.path / "parquet" / "networks.parquet")
    assert sorted(parquet.column("name").to_pylist()) == sorted(names)


def test_release_files_are_written_under_a_memory_limit_spilling_beside_the_file(
    tmp_path: Path,
) -> None:
    """DuckDB would take up to 80% of the machine beside the build's own tables. It spills
    into a folder beside the file being written (inside the warehouse, never elsewhere),
    gone once the connection closes, so no release file is ever a spill file."""
    database = tmp_path / "release" / "citydiplomacy.duckdb"
    database.parent.mkdir()
    with publish.writing_connection(database) as con:
        limit, spill = con.execute(
            "SELECT current_setting('memory_limit'), current_setting('temp_directory')"
        ).fetchone() or ("", "")
        assert Path(spill).is_dir() and Path(spill).parent == database.parent
    assert (publish.DUCKDB_MEMORY_LIMIT, limit) == ("2GB", "1.8 GiB")  # 2e9 bytes
    assert sorted(p.name for p in database.parent.iterdir()) == ["citydiplomacy.duckdb"]
