"""Where the project keeps its data: raw/ (snapshots and the registry), warehouse/releases/
and the Dagster instance's home. CITYDIP_HOME moves all three (tests use it); by default
they sit in the project folder."""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]


def data_root() -> Path:
    return Path(os.environ.get("CITYDIP_HOME") or PROJECT_ROOT)


def raw_dir() -> Path:
    return data_root() / "raw"


def releases_dir() -> Path:
    return data_root() / "warehouse" / "releases"


def full_releases_dir() -> Path:
    """The full editions (rows of restricted sources included): not for redistribution."""
    return data_root() / "warehouse" / "full"


def dagster_home() -> Path:
    """The Dagster instance's home (run history, logs); git-ignored."""
    return Path(os.environ.get("DAGSTER_HOME") or data_root() / ".dagster")
