"""The build's fingerprint: what makes two builds the same, and what does not."""

from dataclasses import replace
from pathlib import Path

from assets.sources import SourceFile
from pipeline.inputs import code_fingerprint, edition_of, fingerprint, selected_files
from pipeline.paths import PROJECT_ROOT
from pipeline.snapshots import SnapshotStore

FILE = SourceFile(
    source="cdp_targets",
    role="file",
    snapshot_id="cdp_targets-1",
    file_name="targets.csv",
    path="/nowhere/targets.csv",
    origin="import",
    sha256="a" * 64,
    bytes=10,
)
OTHER = replace(FILE, source="cdp_emissions", snapshot_id="cdp_emissions-1", sha256="b" * 64)


def test_the_same_files_in_any_order_give_the_same_fingerprint() -> None:
    assert fingerprint([FILE, OTHER, None], "open") == fingerprint([OTHER, FILE], "open")


def test_content_name_role_and_edition_each_change_it() -> None:
    base = fingerprint([FILE], "open")
    assert fingerprint([replace(FILE, sha256="c" * 64)], "open") != base
    assert fingerprint([replace(FILE, file_name="t2.csv")], "open") != base
    assert fingerprint([replace(FILE, role="other")], "open") != base
    assert fingerprint([replace(FILE, as_of="2025-06")], "open") != base
    assert fingerprint([FILE, OTHER], "open") != base
    assert fingerprint([FILE], "full") != base


def test_where_and_when_a_file_was_stored_and_its_stale_note_do_not() -> None:
    """The same bytes stored again (a new snapshot id, path, date) or kept after a failed
    fetch (a note) build the same release."""
    moved = replace(
        FILE,
        snapshot_id="cdp_targets-2",
        path="/elsewhere/targets.csv",
        retrieved_at="2026-11-22T00:00:00Z",
        note="stale: refresh failed",
    )
    assert fingerprint([moved], "open") == fingerprint([FILE], "open")


def test_the_code_fingerprint_follows_every_python_file_and_the_lock(tmp_path: Path) -> None:
    for package in ("assets", "pipeline", "schemas"):
        (tmp_path / package).mkdir()
        (tmp_path / package / "x.py").write_text("A = 1\n")
    (tmp_path / "uv.lock").write_text("version = 1\n")
    first = code_fingerprint(tmp_path)
    code_fingerprint.cache_clear()
    (tmp_path / "schemas" / "x.py").write_text("A = 2\n")
    second = code_fingerprint(tmp_path)
    code_fingerprint.cache_clear()
    (tmp_path / "uv.lock").write_text("version = 2\n")
    third = code_fingerprint(tmp_path)
    code_fingerprint.cache_clear()
    (tmp_path / "tests").mkdir()  # tests are not the pipeline's code
    (tmp_path / "tests" / "test_x.py").write_text("B = 1\n")
    assert len({first, second, third}) == 3
    assert code_fingerprint(tmp_path) == third
    code_fingerprint.cache_clear()


def test_the_edition_is_read_where_the_run_config_sets_it() -> None:
    assert edition_of({}) == "open"
    assert edition_of({"ops": {"publish_release": {"config": {"edition": "full"}}}}) == "full"
    assert edition_of({"ops": {"publish_release": {"config": {}}}}) == "open"


def test_an_empty_store_selects_the_bundled_gazetteer_and_the_registry(tmp_path: Path) -> None:
    files = [
        f for f in selected_files(SnapshotStore(tmp_path), PROJECT_ROOT / "raw" / "registry") if f
    ]
    assert sorted({f.source for f in files}) == ["geonames", "registry"]
    assert {f.role for f in files if f.source == "registry"} == {
        "agreements",
        "commitments",
        "memberships",
        "networks",
    }
