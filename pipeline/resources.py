"""Dagster resources: the snapshot store, the warehouse and the HTTP client.

Each wraps a plain class from this package, so tests and the CLI use the same code
without Dagster.
"""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import requests

from pipeline.http import build_session
from pipeline.snapshots import SnapshotStore


class SnapshotStoreResource(dg.ConfigurableResource):
    """raw/: write-once snapshots of fetched or imported files, and the curated registry."""

    root: str

    def store(self) -> SnapshotStore:
        return SnapshotStore(Path(self.root))

    @property
    def registry_dir(self) -> Path:
        return Path(self.root) / "registry"


class WarehouseResource(dg.ConfigurableResource):
    """warehouse/releases/: published releases and the `latest` link."""

    root: str
    project_root: str

    @property
    def releases_dir(self) -> Path:
        return Path(self.root)


class HttpResource(dg.ConfigurableResource):
    """The one HTTP client for every fetching source: retries, timeouts, User-Agent."""

    retries: int = 3
    backoff_seconds: float = 2.0
    connect_timeout_seconds: float = 10.0
    read_timeout_seconds: float = 70.0

    def session(self) -> requests.Session:
        return build_session(retries=self.retries, backoff=self.backoff_seconds)

    @property
    def timeout(self) -> tuple[float, float]:
        return (self.connect_timeout_seconds, self.read_timeout_seconds)
