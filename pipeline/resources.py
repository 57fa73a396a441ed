"""Dagster resources: the snapshot store, the warehouse, the HTTP client, the resolver's
index and where step outputs are kept.

Each wraps a plain class from this package, so tests and the CLI use the same code
without Dagster.
"""

from __future__ import annotations

import pickle
from pathlib import Path

import dagster as dg
import pandas as pd
import requests
from pydantic import PrivateAttr

from assets.resolve import Resolver
from pipeline.http import RETRY_STATUSES, build_session
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
    """warehouse/releases/ (the open editions) and warehouse/full/ (the full ones), each
    with its `latest` link."""

    root: str
    project_root: str

    @property
    def releases_dir(self) -> Path:
        return Path(self.root)

    @property
    def full_dir(self) -> Path:
        """warehouse/full/: the full editions, with rows of restricted sources."""
        return Path(self.root).parent / "full"


class HttpResource(dg.ConfigurableResource):
    """The one HTTP client for every fetching source: retries, timeouts, User-Agent."""

    retries: int = 3
    backoff_seconds: float = 2.0
    connect_timeout_seconds: float = 10.0
    read_timeout_seconds: float = 70.0

    def session(
        self, statuses: tuple[int, ...] = RETRY_STATUSES, honour_retry_after: bool = True
    ) -> requests.Session:
        """A session retrying `statuses`; a source that handles some itself leaves them out
        (see build_session)."""
        return build_session(
            retries=self.retries,
            backoff=self.backoff_seconds,
            statuses=statuses,
            honour_retry_after=honour_retry_after,
        )

    @property
    def timeout(self) -> tuple[float, float]:
        return (self.connect_timeout_seconds, self.read_timeout_seconds)


class ResolverResource(dg.ConfigurableResource):
    """The gazetteer's name index, built once per gazetteer snapshot and shared by every
    asset of an in-process run (indexing cities500 takes seconds)."""

    _built: dict[str, Resolver] = PrivateAttr(default_factory=dict)

    def for_gazetteer(
        self, gazetteer: pd.DataFrame, countries: pd.DataFrame, admin1: pd.DataFrame
    ) -> Resolver:
        key = str(gazetteer["snapshot_id"].iloc[0]) if len(gazetteer) else "empty"
        if key not in self._built:
            self._built.clear()
            self._built[key] = Resolver.from_frames(gazetteer, countries, admin1).freeze()
        return self._built[key]

    @property
    def builds(self) -> int:
        """How many indexes this resource has built (tests check it is one per run)."""
        return len(self._built)


class StepOutputs(dg.IOManager):
    """Where each asset's value waits for the steps that read it: a pickle per asset key
    under the instance's storage folder, as Dagster's own filesystem IO manager keeps
    them, but written with pickle protocol 5. Protocol 4 (Dagster's) copies every Arrow
    buffer of a frame into bytes first: storing the 100x benchmark's rejected rows (1.4 GB)
    added 4.1 GB and took 6.4 s; protocol 5 adds 1.4 GB and takes 1.9 s."""

    PROTOCOL = 5

    def __init__(self, base_dir: Path) -> None:
        self.base_dir = base_dir

    def path(self, key: dg.AssetKey) -> Path:
        return self.base_dir.joinpath(*key.path)

    def handle_output(self, context: dg.OutputContext, obj: object) -> None:
        path = self.path(context.asset_key)
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("wb") as file:
            pickle.dump(obj, file, protocol=self.PROTOCOL)

    def load_input(self, context: dg.InputContext) -> object:
        with self.path(context.asset_key).open("rb") as file:
            return pickle.load(file)


@dg.io_manager(description=StepOutputs.__doc__)
def step_outputs(init_context: dg.InitResourceContext) -> StepOutputs:
    if init_context.instance is None:  # only a resource built outside any run
        raise dg.DagsterInvariantViolationError("step outputs need a Dagster instance")
    return StepOutputs(Path(init_context.instance.storage_directory()))
