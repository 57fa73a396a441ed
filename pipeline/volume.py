"""The volume check every fetch passes before it is stored.

A source that suddenly answers with far fewer rows than its last snapshot (an empty
result, an export cut short, a service error that still parses) is far more likely broken
than shrunk. Such a fetch is refused, so the last snapshot stays the newest and the build
marks the source stale, unless an operator has looked and acknowledged the drop
(`citydip release --refresh --accept-shrink SOURCE`). Imports no Dagster.
"""

from __future__ import annotations

from collections.abc import Callable

from pipeline.http import FetchError
from pipeline.snapshots import Snapshot

# a fetch with more than this share fewer rows than the last snapshot is refused
MAX_SHRINK = 0.20


class VolumeError(FetchError):
    """A fetch has sharply fewer rows than the source's last snapshot; nothing was stored."""


def check_volume(
    source: str,
    file_name: str,
    rows: int,
    previous: Snapshot | None,
    count_rows: Callable[[Snapshot], int],
    accept_shrink: bool = False,
) -> str | None:
    """None when `rows` is within MAX_SHRINK of the previous snapshot's count (or there is
    none); a warning to log when the drop is larger but acknowledged; VolumeError when it
    is larger and not acknowledged.

    The previous count is the one its manifest recorded; a snapshot stored before counts
    were recorded is counted again with `count_rows`.
    """
    if previous is None:
        return None
    before = previous.rows if previous.rows is not None else count_rows(previous)
    if before == 0 or rows >= before * (1 - MAX_SHRINK):
        return None
    drop = f"{source}: {file_name} has {rows:,} rows, {1 - rows / before:.0%} fewer than the "
    drop += f"{before:,} of snapshot {previous.snapshot_id} (limit {MAX_SHRINK:.0%})"
    if accept_shrink:
        return f"{drop}; stored because the drop was acknowledged (--accept-shrink {source})"
    raise VolumeError(
        f"{drop}; not stored. If the source really shrank, run "
        f"`citydip release --refresh --accept-shrink {source}`"
    )
