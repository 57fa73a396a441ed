"""One file fetched into the snapshot store, with the checks every fetch passes. Imports
no Dagster."""

from __future__ import annotations

from collections.abc import Callable

import requests

from pipeline.http import fetch_file
from pipeline.snapshots import Facts, Snapshot, SnapshotStore, read_verified
from pipeline.volume import check_volume


def fetch_and_store(
    store: SnapshotStore,
    session: requests.Session,
    source: str,
    licence: str,
    file_name: str,
    url: str,
    count: Callable[[str, bytes], int],
    previous: Snapshot | None,
    timeout: tuple[float, float] = (10.0, 70.0),
    max_bytes: int = 512 << 20,
    accept_shrink: bool = False,
) -> tuple[Snapshot, bool]:
    """Fetch `url` and store it as `file_name`; return (snapshot, created).

    In order: a conditional request with the validators of `previous` when it came from
    the same URL (a 304 stores nothing and returns `previous`, unchanged); the source's
    parser counts the rows (`count` raises the source's ParseError on a file it refuses,
    so an error page never becomes a snapshot); the volume check against `previous`
    (pipeline.volume); then the store, with the count, any note and the validators.
    """
    conditional = previous if previous is not None and previous.origin == url else None
    download = fetch_file(
        session,
        source,
        url,
        timeout,
        max_bytes,
        etag=conditional.etag if conditional else None,
        last_modified=conditional.last_modified if conditional else None,
    )
    if download is None:
        assert previous is not None  # a 304 answers only a conditional request
        return previous, False
    rows = count(file_name, download.content)

    def count_previous(snapshot: Snapshot) -> int:
        return count(snapshot.file_name, read_verified(snapshot.path, snapshot.sha256))

    note = check_volume(source, file_name, rows, previous, count_previous, accept_shrink)
    facts = Facts(rows, note, download.etag, download.last_modified)
    return store.store(source, file_name, [download.content], url, licence, facts=facts)
