"""The write-once snapshot store for fetched and imported source files.

Layout: ``raw/<source>/<snapshot-id>/<file-name>`` beside a ``manifest.json``. A snapshot is
assembled in a hidden temporary folder and renamed into place, so a half-written file is
never visible under a snapshot's name; an existing snapshot is never modified. Imports no
Dagster, so the light CLI commands stay fast.

A run killed while it stores leaves its temporary folder behind; the next store of that
source removes it (see SnapshotStore.store).
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import logging
import os
import re
import shutil
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, fields
from datetime import UTC, datetime
from pathlib import Path

LOG = logging.getLogger(__name__)
MANIFEST = "manifest.json"
TMP_PREFIX = ".tmp-"
CHUNK = 1 << 20
_SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*\Z")
_SOURCE_SLUG = re.compile(r"^[a-z][a-z0-9_]*\Z")
AS_OF = re.compile(r"\d{4}-(0[1-9]|1[0-2])(-(0[1-9]|[12][0-9]|3[01]))?")


class SnapshotError(Exception):
    """A snapshot cannot be stored or read as asked."""


class SnapshotCorruptError(SnapshotError):
    """A stored file no longer matches the sha256 its manifest recorded."""


@dataclass(frozen=True)
class Snapshot:
    """What manifest.json records about one stored file."""

    source: str
    snapshot_id: str
    file_name: str
    origin: str
    retrieved_at: str
    sha256: str
    bytes: int
    licence: str
    folder: str
    # the date the material states it is from ('2025-06'), where that is not when it was
    # fetched: a member list copied from a page; absent from older manifests
    as_of: str | None = None
    # records the parser counted when the file was fetched (the volume check compares a new
    # fetch with it); absent from older manifests and from sources that count nothing
    rows: int | None = None
    # why the snapshot was stored despite a check (an acknowledged shrink); absent if none
    note: str | None = None
    # the server's validators for the fetched file, which the next fetch sends back in a
    # conditional request (a 304 then stores nothing); absent when the server gave none
    etag: str | None = None
    last_modified: str | None = None

    @property
    def path(self) -> Path:
        return Path(self.folder) / self.file_name

    def manifest(self) -> dict[str, object]:
        record = asdict(self)
        del record["folder"]
        for optional in ("as_of", *(f.name for f in fields(Facts))):
            if record[optional] is None:
                del record[optional]
        return record


@dataclass(frozen=True)
class Facts:
    """What a fetch or import learned about a file beyond its bytes, for its manifest:
    its row count, why it was stored despite a check, and the server's validators."""

    rows: int | None = None
    note: str | None = None
    etag: str | None = None
    last_modified: str | None = None


def utc_now() -> datetime:
    return datetime.now(UTC)


def snapshot_id_for(retrieved_at: datetime, sha256: str) -> str:
    """Ids sort by time and name their content: '20251119T101500123456Z-3f2a9c1d0b7e'.

    Microseconds keep two snapshots stored within one second in the order they were made.
    """
    return f"{retrieved_at.strftime('%Y%m%dT%H%M%S%fZ')}-{sha256[:12]}"


class SnapshotStore:
    """raw/<source>/<snapshot-id>/ folders, each holding one file and its manifest."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def store(
        self,
        source: str,
        file_name: str,
        chunks: Iterable[bytes],
        origin: str,
        licence: str,
        retrieved_at: datetime | None = None,
        as_of: str | None = None,
        facts: Facts | None = None,
    ) -> tuple[Snapshot, bool]:
        """Store bytes as a new snapshot; return (snapshot, created).

        Identical bytes to the newest snapshot of the same source and file name create
        nothing: the existing snapshot is returned with created=False. Comparing with the
        newest (not any) snapshot keeps 'latest' right when a source reverts to old content.

        One store of a source at a time: the store holds an exclusive flock on
        raw/.<source>.lock until it returns, and a second one (another process or thread)
        waits for it. While the lock is held every `.tmp-*` folder in raw/<source>/
        belongs to no live store, so the leftovers of killed runs are removed first. A
        lock, not an age, tells a dead download from a slow one: the kernel drops it when
        its process dies, even by SIGKILL. The lock is a file, because flock over NFS
        needs one open for writing, and it lies beside the source's folder, not in it, so
        raw/<source>/ holds snapshots alone. The lock is held while `chunks` are written,
        so a source that streamed its download into the store would hold it throughout.
        """
        if not _SOURCE_SLUG.match(source):
            raise SnapshotError(f"invalid source slug {source!r}")
        if not _SAFE_NAME.match(file_name) or file_name == MANIFEST:
            raise SnapshotError(f"{source}: invalid snapshot file name {file_name!r}")
        if as_of is not None and not AS_OF.fullmatch(as_of):
            raise SnapshotError(f"{source}: as-of date {as_of!r} is not YYYY-MM or YYYY-MM-DD")
        retrieved_at = retrieved_at or utc_now()
        source_dir = self.root / source
        source_dir.mkdir(parents=True, exist_ok=True)
        with _locked(self.root / f".{source}.lock"):
            remove_leftovers(source_dir)
            try:
                return self._store_locked(
                    source_dir,
                    source,
                    file_name,
                    _produced(chunks),
                    origin,
                    licence,
                    retrieved_at,
                    as_of,
                    facts or Facts(),
                )
            except _ProducerError as failed:  # the download's own error, as it was
                raise failed.error from failed.error.__cause__
            except OSError as error:  # a full disk, a read-only store: nothing was stored
                raise SnapshotError(
                    f"{source}: {file_name} could not be stored in {source_dir}: {error}"
                ) from error

    def _store_locked(
        self,
        source_dir: Path,
        source: str,
        file_name: str,
        chunks: Iterable[bytes],
        origin: str,
        licence: str,
        retrieved_at: datetime,
        as_of: str | None,
        facts: Facts,
    ) -> tuple[Snapshot, bool]:
        tmp = source_dir / f"{TMP_PREFIX}{uuid.uuid4().hex}"
        tmp.mkdir()
        try:
            digest = hashlib.sha256()
            size = 0
            with open(tmp / file_name, "wb") as out:
                for chunk in chunks:
                    digest.update(chunk)
                    size += len(chunk)
                    out.write(chunk)
                out.flush()
                os.fsync(out.fileno())
            sha256 = digest.hexdigest()
            newest = self.latest(source, file_name)
            if newest is not None and newest.sha256 == sha256:
                return newest, False
            snapshot_id = snapshot_id_for(retrieved_at, sha256)
            final = source_dir / snapshot_id
            snapshot = Snapshot(
                source=source,
                snapshot_id=snapshot_id,
                file_name=file_name,
                origin=origin,
                retrieved_at=retrieved_at.isoformat(timespec="microseconds").replace("+00:00", "Z"),
                sha256=sha256,
                bytes=size,
                licence=licence,
                folder=str(final),
                as_of=as_of,
                **asdict(facts),
            )
            (tmp / MANIFEST).write_text(json.dumps(snapshot.manifest(), indent=2) + "\n")
            os.chmod(tmp / file_name, 0o444)
            os.chmod(tmp / MANIFEST, 0o444)
            if final.exists():
                raise SnapshotError(f"{source}: snapshot {snapshot_id} exists already")
            os.rename(tmp, final)
            return snapshot, True
        finally:
            if tmp.exists():
                shutil.rmtree(tmp, ignore_errors=True)

    def store_file(
        self,
        source: str,
        path: Path,
        licence: str,
        file_name: str | None = None,
        as_of: str | None = None,
        facts: Facts | None = None,
    ) -> tuple[Snapshot, bool]:
        """Store a file a user downloaded by hand; its origin is the imported file's name."""
        path = Path(path)
        if not path.is_file():
            raise SnapshotError(f"{source}: no such file to import: {path}")
        return self.store(
            source,
            file_name or path.name,
            _read_chunks(path),
            origin=f"imported file {path.name}",
            licence=licence,
            as_of=as_of,
            facts=facts,
        )

    def snapshots(self, source: str) -> list[Snapshot]:
        """Every stored snapshot of a source, oldest first; temporary folders are ignored."""
        source_dir = self.root / source
        if not source_dir.is_dir():
            return []
        found = []
        for folder in sorted(source_dir.iterdir()):
            manifest = folder / MANIFEST
            if folder.name.startswith(".") or not manifest.is_file():
                continue
            found.append(_load_manifest(manifest))
        return sorted(found, key=lambda s: (s.retrieved_at, s.snapshot_id))

    def latest(self, source: str, file_name: str | None = None) -> Snapshot | None:
        """The newest snapshot of a source (of one file name, if given)."""
        matching = [s for s in self.snapshots(source) if file_name in (None, s.file_name)]
        return matching[-1] if matching else None

    def read(self, snapshot: Snapshot) -> bytes:
        """The snapshot's bytes, verified against the sha256 its manifest recorded."""
        return read_verified(snapshot.path, snapshot.sha256)


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    """An exclusive flock on the file at `path` (made if missing), waited for while
    another holder has it; closing the file releases it."""
    with open(path, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield


def remove_leftovers(source_dir: Path) -> list[str]:
    """Delete the `.tmp-*` folders of stores that were killed; call only while holding
    the source's lock (SnapshotStore.store), when no live store has one there. One that
    cannot be deleted is left with a warning: snapshots() never reads it, so it costs
    disk space, not the store."""
    removed = []
    for path in sorted(source_dir.glob(f"{TMP_PREFIX}*")):
        try:
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path)
            else:
                path.unlink()
        except OSError as error:
            LOG.warning(f"could not remove {path}, left by an interrupted store: {error}")
            continue
        removed.append(path.name)
    if removed:
        LOG.warning(f"removed what an interrupted store left in {source_dir}: {', '.join(removed)}")
    return removed


def read_verified(path: Path, sha256: str) -> bytes:
    """A file's bytes, or SnapshotCorruptError naming it if they changed since recorded."""
    content = Path(path).read_bytes()
    actual = hashlib.sha256(content).hexdigest()
    if actual != sha256:
        raise SnapshotCorruptError(
            f"{path}: sha256 is {actual} but {sha256} was recorded; "
            "the stored file was changed or damaged"
        )
    return content


class _ProducerError(Exception):
    """Carries an OSError the chunks' producer raised (requests' errors are OSErrors) past
    the store's handling of its own disk errors."""

    def __init__(self, error: OSError) -> None:
        self.error = error


def _produced(chunks: Iterable[bytes]) -> Iterator[bytes]:
    try:
        yield from chunks
    except OSError as error:
        raise _ProducerError(error) from None


def _read_chunks(path: Path) -> Iterator[bytes]:
    with open(path, "rb") as handle:
        while chunk := handle.read(CHUNK):
            yield chunk


def _load_manifest(path: Path) -> Snapshot:
    try:
        record = json.loads(path.read_text())
        return Snapshot(folder=str(path.parent), **record)
    except (ValueError, TypeError) as error:
        raise SnapshotError(f"{path}: unreadable snapshot manifest: {error}") from error
