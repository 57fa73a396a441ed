"""One module per source: what it is (SourceInfo), how to fetch it and pure parse functions.

Nothing here imports Dagster, so the CLI and the unit tests use these modules directly.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pipeline.snapshots import Snapshot


@dataclass(frozen=True)
class SourceInfo:
    """Who publishes a source and on what terms; copied into every release's `sources`."""

    slug: str
    publisher: str
    licence: str
    attribution: str
    homepage: str
    # False where the terms forbid republishing: the rows reach only the full edition
    redistributable: bool = True


class ParseError(ValueError):
    """A source file does not have the layout its parser knows.

    The message names the source, the file and the position, so whoever reads the run log
    can open the file at the right place.
    """

    def __init__(self, source: str, file_name: str, position: str, problem: str) -> None:
        self.source = source
        self.file_name = file_name
        self.position = position
        super().__init__(f"{source}: {file_name}, {position}: {problem}")


@dataclass(frozen=True)
class SourceFile:
    """One file a build reads: a stored snapshot, a registry file or a bundled copy.

    This is what the raw assets hand to the parsed assets, and what the `sources` table
    and the release manifest record.
    """

    source: str
    role: str
    snapshot_id: str
    file_name: str
    path: str
    origin: str
    sha256: str
    bytes: int
    retrieved_at: str | None = None
    note: str | None = None
    as_of: str | None = None

    @classmethod
    def from_snapshot(cls, snapshot: Snapshot, role: str) -> SourceFile:
        """A stored snapshot as the file a build reads in `role`."""
        return cls(
            source=snapshot.source,
            role=role,
            snapshot_id=snapshot.snapshot_id,
            file_name=snapshot.file_name,
            path=str(snapshot.path),
            origin=snapshot.origin,
            sha256=snapshot.sha256,
            bytes=snapshot.bytes,
            retrieved_at=snapshot.retrieved_at,
            as_of=snapshot.as_of,
        )
