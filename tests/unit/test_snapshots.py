"""The snapshot store: write-once, deduplicated, atomic, and verified on read."""

import hashlib
import json
import stat
from datetime import UTC, datetime
from pathlib import Path

import pytest

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
