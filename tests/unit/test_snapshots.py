"""The snapshot store: write-once, deduplicated, atomic, verified on read, one store of a
source at a time, and rid of what killed stores left behind."""

import errno
import fcntl
import hashlib
import json
import os
import shutil
import signal
import stat
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from pipeline.paths import PROJECT_ROOT
from pipeline.snapshots import SnapshotCorruptError, SnapshotError, SnapshotStore

T0 = datetime(2025, 11, 19, 10, 15, tzinfo=UTC)
T1 = datetime(2025, 11, 26, 10, 15, tzinfo=UTC)
T2 = datetime(2025, 12, 3, 10, 15, tzinfo=UTC)


def store_bytes(
    store: SnapshotStore, content: bytes, when: datetime, name: str = "countryInfo.txt"
):  # type: ignore[no-untyped-def]
    return store.store(
        "geonames", name, [content], "https://example.org/" + name, "CC BY 4.0", when
    )


def test_store_writes_file_and_manifest(tmp_path: Path) -> None:
    store = SnapshotStore(tmp_path)
    snapshot, created = store_bytes(store, b"AD\tAND\n", T0)
    assert created
    assert snapshot.snapshot_id == "20251119T101500000000Z-" + snapshot.sha256[:12]
    folder = tmp_path / "geonames" / snapshot.snapshot_id
    assert (folder / "countryInfo.txt").read_bytes() == b"AD\tAND\n"
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest == {
        "source": "geonames",
        "snapshot_id": snapshot.snapshot_id,
        "file_name": "countryInfo.txt",
        "origin": "https://example.org/countryInfo.txt",
        "retrieved_at": "2025-11-19T10:15:00.000000Z",
        "sha256": hashlib.sha256(b"AD\tAND\n").hexdigest(),
        "bytes": 7,
        "licence": "CC BY 4.0",
    }
    assert not stat.S_IMODE((folder / "countryInfo.txt").stat().st_mode) & stat.S_IWUSR


def test_identical_bytes_create_no_new_snapshot(tmp_path: Path) -> None:
    store = SnapshotStore(tmp_path)
    first, _ = store_bytes(store, b"same", T0)
    again, created = store_bytes(store, b"same", T1)
    assert not created
    assert again.snapshot_id == first.snapshot_id
    assert len(store.snapshots("geonames")) == 1
    assert not [p for p in (tmp_path / "geonames").iterdir() if p.name.startswith(".tmp")]


def test_changed_bytes_make_a_new_latest_and_keep_the_old(tmp_path: Path) -> None:
    store = SnapshotStore(tmp_path)
    old, _ = store_bytes(store, b"v1", T0)
    new, created = store_bytes(store, b"v2", T1)
    assert created
    assert store.latest("geonames", "countryInfo.txt") == new
    assert store.read(old) == b"v1"


def test_reverting_to_old_content_is_a_new_observation(tmp_path: Path) -> None:
    store = SnapshotStore(tmp_path)
    store_bytes(store, b"A", T0)
    store_bytes(store, b"B", T1)
    _, created = store_bytes(store, b"A", T2)
    assert created
    latest = store.latest("geonames", "countryInfo.txt")
    assert latest is not None
    assert store.read(latest) == b"A"
    assert len(store.snapshots("geonames")) == 3


def test_snapshots_stored_within_one_second_keep_their_order(tmp_path: Path) -> None:
    store = SnapshotStore(tmp_path)
    store.store("geonames", "countryInfo.txt", [b"v2"], "o", "CC BY 4.0")
    newest, _ = store.store("geonames", "countryInfo.txt", [b"v1"], "o", "CC BY 4.0")
    assert store.latest("geonames", "countryInfo.txt") == newest
    again, created = store.store("geonames", "countryInfo.txt", [b"v1"], "o", "CC BY 4.0")
    assert (again, created) == (newest, False)


def test_latest_is_per_file_name(tmp_path: Path) -> None:
    store = SnapshotStore(tmp_path)
    countries, _ = store_bytes(store, b"c", T0, "countryInfo.txt")
    admin1, _ = store_bytes(store, b"a", T1, "admin1CodesASCII.txt")
    assert store.latest("geonames", "countryInfo.txt") == countries
    assert store.latest("geonames") == admin1


def test_corrupted_snapshot_is_refused_naming_the_file(tmp_path: Path) -> None:
    store = SnapshotStore(tmp_path)
    snapshot, _ = store_bytes(store, b"original", T0)
    snapshot.path.chmod(0o644)
    snapshot.path.write_bytes(b"tampered")
    with pytest.raises(SnapshotCorruptError, match=str(snapshot.path)) as error:
        store.read(snapshot)
    assert snapshot.sha256 in str(error.value)


def test_a_failed_download_leaves_no_snapshot_and_no_partial_file(tmp_path: Path) -> None:
    store = SnapshotStore(tmp_path)

    def broken():  # type: ignore[no-untyped-def]
        yield b"first half"
        raise ConnectionError("connection reset")

    with pytest.raises(ConnectionError):
        store.store("geonames", "cities15000.zip", broken(), "https://example.org/x", "CC BY 4.0")
    assert store.snapshots("geonames") == []
    assert list((tmp_path / "geonames").iterdir()) == []


def test_temporary_folders_are_never_read_as_snapshots(tmp_path: Path) -> None:
    store = SnapshotStore(tmp_path)
    leftover = tmp_path / "geonames" / ".tmp-0123"
    leftover.mkdir(parents=True)
    (leftover / "cities15000.zip").write_bytes(b"half")
    assert store.snapshots("geonames") == []


HOSTILE_NAMES = [
    "../escape.txt",
    "..",
    "a/b.txt",
    "a\\b.txt",
    "/etc/passwd",
    "nul\x00.txt",
    "line.txt\n",  # `$` in a pattern would let a final newline through
    "\uff43\uff49\uff54\uff49\uff45\uff53.txt",  # fullwidth letters
    "cities\u202etxt.exe",  # a right-to-left override
    "café.txt",
]


@pytest.mark.parametrize("name", [*HOSTILE_NAMES, "manifest.json", "", ".hidden"])
def test_unsafe_file_names_are_refused(tmp_path: Path, name: str) -> None:
    with pytest.raises(SnapshotError, match="invalid snapshot file name"):
        SnapshotStore(tmp_path).store("geonames", name, [b"x"], "o", "CC BY 4.0")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "source", [*HOSTILE_NAMES, "geonames\n", "Geonames", "\uff47\uff45\uff4f", ""]
)
def test_unsafe_source_names_are_refused(tmp_path: Path, source: str) -> None:
    with pytest.raises(SnapshotError, match="invalid source slug"):
        SnapshotStore(tmp_path).store(source, "x.txt", [b"x"], "o", "CC BY 4.0")
    assert list(tmp_path.iterdir()) == []


def test_import_of_a_missing_file_names_it(tmp_path: Path) -> None:
    with pytest.raises(SnapshotError, match="no such file to import"):
        SnapshotStore(tmp_path).store_file("geonames", tmp_path / "nope.txt", "CC BY 4.0")


def test_unreadable_manifest_is_named(tmp_path: Path) -> None:
    store = SnapshotStore(tmp_path)
    snapshot, _ = store_bytes(store, b"x", T0)
    manifest = Path(snapshot.folder) / "manifest.json"
    manifest.chmod(0o644)
    manifest.write_text("{not json")
    with pytest.raises(SnapshotError, match="unreadable snapshot manifest"):
        store.snapshots("geonames")


def test_a_list_date_is_recorded_and_read_back(tmp_path: Path) -> None:
    store = SnapshotStore(tmp_path)
    snapshot, _ = store.store("eurocities_members", "e.txt", [b"x"], "o", "facts", as_of="2025-06")
    manifest = json.loads((snapshot.path.parent / "manifest.json").read_text())
    assert manifest["as_of"] == "2025-06"
    assert store.latest("eurocities_members") == snapshot
    with pytest.raises(SnapshotError, match="as-of date '2025-6' is not YYYY-MM or YYYY-MM-DD"):
        store.store("eurocities_members", "f.txt", [b"y"], "o", "facts", as_of="2025-6")


# A store of argv[4]'s bytes into the store at argv[1] that hands on its first half,
# touches argv[2] and waits for argv[3] to exist before the second half: a live store
# holding its lock, which the test kills or lets finish.
STORING = """
import sys, time
from pathlib import Path
from pipeline.snapshots import SnapshotStore

root, marker, go, content = Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3]), sys.argv[4]
def chunks():
    yield content[:5].encode()
    marker.touch()
    while not go.exists():
        time.sleep(0.02)
    yield content[5:].encode()

SnapshotStore(root).store("geonames", "cities15000.zip", chunks(), "https://example.org/x", "CC")
"""


def storing(tmp_path: Path, content: str) -> tuple[subprocess.Popen[bytes], Path, Path]:
    """A store running in another process, stopped halfway: (process, its temporary
    folder, the file that lets it finish)."""
    marker, go = tmp_path / "halfway", tmp_path / "go"
    child = subprocess.Popen(
        [sys.executable, "-c", STORING, str(tmp_path / "raw"), str(marker), str(go), content],
        cwd=PROJECT_ROOT,
        env={**os.environ, "PYTHONPATH": str(PROJECT_ROOT)},
    )
    for _ in range(1200):  # up to a minute on a busy machine
        if marker.exists() or child.poll() is not None:
            break
        time.sleep(0.05)
    assert marker.exists(), f"the storing process never got halfway (exit {child.poll()})"
    (tmp,) = (tmp_path / "raw" / "geonames").glob(".tmp-*")
    return child, tmp, go


def test_a_killed_store_leaves_a_temporary_folder_the_next_store_removes(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    child, tmp, _ = storing(tmp_path, "first half, never finished")
    child.send_signal(signal.SIGKILL)
    child.wait(timeout=30)
    store = SnapshotStore(tmp_path / "raw")
    assert [p.name for p in tmp.iterdir()] == ["cities15000.zip"]  # no manifest
    # the half it had: on disk if Python had written it out, lost in its buffer if not
    assert (tmp / "cities15000.zip").read_bytes() in (b"", b"first")
    assert store.snapshots("geonames") == []
    snapshot, created = store_bytes(store, b"AD\tAND\n", T0)
    assert created
    assert [p.name for p in (tmp_path / "raw" / "geonames").iterdir()] == [snapshot.snapshot_id]
    assert f"removed what an interrupted store left in {tmp.parent}: {tmp.name}" in caplog.text


def test_a_store_waits_for_one_in_progress_and_leaves_its_folder_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    child, tmp, go = storing(tmp_path, "first half, then the second")
    store = SnapshotStore(tmp_path / "raw")
    waiting = threading.Event()
    flock = fcntl.flock

    def recording_flock(file: Any, operation: int) -> None:
        """flock, noting when an exclusive lock is found taken before waiting for it."""
        if operation == fcntl.LOCK_EX:
            try:
                return flock(file, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                waiting.set()
        return flock(file, operation)

    monkeypatch.setattr(fcntl, "flock", recording_flock)
    second = threading.Thread(target=store_bytes, args=(store, b"AD\tAND\n", T0))
    second.start()
    try:
        assert waiting.wait(timeout=60)  # the second store found the lock held
        assert second.is_alive()  # and waits: the first cannot finish until `go` exists
        assert [p.name for p in tmp.iterdir()] == ["cities15000.zip"]  # not removed
        assert not any(p.name != tmp.name for p in tmp.parent.iterdir())
    finally:
        go.touch()
        second.join(timeout=60)
        child.wait(timeout=60)
    assert child.returncode == 0 and not second.is_alive()
    first = store.latest("geonames", "cities15000.zip")
    assert first is not None and store.read(first) == b"first half, then the second"
    stored = {s.file_name for s in store.snapshots("geonames")}
    assert stored == {"cities15000.zip", "countryInfo.txt"}
    assert not list(tmp.parent.glob(".tmp-*"))
    # the lock lies beside the source's folder, which holds the snapshots alone
    assert sorted(p.name for p in (tmp_path / "raw").iterdir()) == [".geonames.lock", "geonames"]


def test_a_leftover_that_cannot_be_removed_costs_the_store_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    leftover = tmp_path / "geonames" / ".tmp-0123"
    leftover.mkdir(parents=True)
    rmtree = shutil.rmtree

    def refusing(path: Path, *args: Any, **kwargs: Any) -> None:
        if Path(path) == leftover:
            raise PermissionError(13, "Permission denied", str(path))
        rmtree(path, *args, **kwargs)

    monkeypatch.setattr(shutil, "rmtree", refusing)
    store = SnapshotStore(tmp_path)
    snapshot, created = store_bytes(store, b"AD\tAND\n", T0)
    assert created and store.snapshots("geonames") == [snapshot]
    assert sorted(p.name for p in leftover.parent.iterdir()) == [".tmp-0123", snapshot.snapshot_id]
    assert f"could not remove {leftover}, left by an interrupted store" in caplog.text


@pytest.mark.parametrize("failing", ["fsync", "manifest"])
def test_a_full_disk_stores_nothing_and_keeps_the_last_snapshot(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, failing: str
) -> None:
    store = SnapshotStore(tmp_path)
    first, _ = store_bytes(store, b"first", T0)
    before = {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}

    def no_space(*args: object) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    # the file's bytes reach the disk at fsync; then the manifest is written
    if failing == "fsync":
        monkeypatch.setattr(os, "fsync", no_space)
    else:
        monkeypatch.setattr(Path, "write_text", no_space)
    with pytest.raises(
        SnapshotError, match=r"geonames: countryInfo.txt could not be stored in .*No space left"
    ):
        store.store("geonames", "countryInfo.txt", [b"second"], "o", "CC BY 4.0", T0)
    monkeypatch.undo()
    assert store.latest("geonames") == first
    assert store.read(first) == b"first"
    after = {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    assert after == before  # no temporary folder left, nothing changed
