"""The build's inputs as one fingerprint: every file the raw assets select (each by
sha256), the pipeline's own code and the edition, hashed together. A release records it in
its manifest (`inputs_fingerprint`); a rebuild whose fingerprint equals the latest
release's would change nothing, so `citydip release` and the `build_inputs` gate
(assets/inputs.py) skip it. No Dagster here, so the CLI decides before starting a run.

A source's stale note (its refresh failed, the last snapshot kept) is not part of the
fingerprint: the data are those of the latest release, and the run log says the fetch
failed."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from functools import cache
from pathlib import Path
from typing import Any

from assets.editions import OPEN
from assets.sources import (
    SourceFile,
    cdp_emissions,
    cdp_targets,
    eurocities_members,
    geonames,
    net_zero_tracker,
    network_members,
    registry,
    wikidata,
)
from pipeline.paths import PROJECT_ROOT
from pipeline.publish import Release, latest_release
from pipeline.snapshots import SnapshotStore

# what the pipeline's behaviour depends on besides its inputs: its code and its locked
# dependencies (a new pandas or DuckDB can change a release too)
CODE_PACKAGES = ("assets", "pipeline", "schemas")
CODE_FILES = ("pyproject.toml", "uv.lock")
FINGERPRINT = "inputs_fingerprint"


@cache
def code_fingerprint(root: Path = PROJECT_ROOT) -> str:
    """sha256 over the pipeline's Python files and its lock file, by relative path."""
    digest = hashlib.sha256()
    paths = [p for package in CODE_PACKAGES for p in (root / package).rglob("*.py")]
    paths += [root / name for name in CODE_FILES if (root / name).is_file()]
    for path in sorted(paths):
        digest.update(path.relative_to(root).as_posix().encode() + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def fingerprint(files: Iterable[SourceFile | None], edition: str) -> str:
    """The build's inputs in one sha256: each file by source, role, name, content and the
    date a member list is from; the code; the edition."""
    entries = sorted({(f.source, f.role, f.file_name, f.sha256, f.as_of or "") for f in files if f})
    payload = {"files": entries, "code": code_fingerprint(), "edition": edition}
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()


def files_read(*selections: Mapping[str, SourceFile | None]) -> list[SourceFile]:
    """Every file the raw assets' selections name (a source without one names None)."""
    return [file for files in selections for file in files.values() if file is not None]


def newest_file(store: SnapshotStore, slug: str) -> dict[str, SourceFile | None]:
    """The newest stored file of a source users import whole (a CDP export)."""
    newest = store.latest(slug)
    return {"file": SourceFile.from_snapshot(newest, "file") if newest else None}


def selected_files(
    store: SnapshotStore, registry_dir: Path, gazetteer: str = geonames.DEFAULT_GAZETTEER
) -> list[SourceFile | None]:
    """Every file a build from the stored snapshots reads, chosen as the raw assets choose
    them (without fetching): what `citydip release` fingerprints before starting a run."""
    return [
        *geonames.select_files(store, gazetteer).values(),
        *registry.select_files(registry_dir).values(),
        *wikidata.select_files(store).values(),
        *net_zero_tracker.select_files(store).values(),
        *network_members.select_lists(store, network_members.SOURCE.slug).values(),
        *network_members.select_lists(store, eurocities_members.SOURCE.slug).values(),
        *newest_file(store, cdp_targets.SOURCE.slug).values(),
        *newest_file(store, cdp_emissions.SOURCE.slug).values(),
    ]


def unchanged_release(releases_dir: Path, inputs: str) -> Release | None:
    """The latest release in `releases_dir` if it was built from exactly these inputs."""
    latest = latest_release(releases_dir)
    if latest is not None and latest.manifest.get(FINGERPRINT) == inputs:
        return latest
    return None


def edition_of(run_config: Mapping[str, Any]) -> str:
    """The edition a run publishes, as its publish_release op is configured (the one place
    the edition is set)."""
    ops = run_config.get("ops") or {}
    return str(((ops.get("publish_release") or {}).get("config") or {}).get("edition", OPEN))
