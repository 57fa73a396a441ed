"""A release process killed while it writes: nothing partial is ever visible under a
release's final path, `latest` and the previous release are untouched, and the next run
removes what the killed one left behind."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pipeline import publish
from pipeline.paths import PROJECT_ROOT
from pipeline.site import verify_release
from tests.conftest import tree_hashes
from tests.unit.test_publish import release

# Publishes one release into argv[1], but `stage` first touches argv[2] and then hangs,
# so the test can kill the process at exactly that point.
CHILD = """
import sys, time
from pathlib import Path
from pipeline import publish
from tests.unit.test_publish import release

root, marker, stage = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3]
def hang(*args, **kwargs):
    marker.touch()
    time.sleep(600)

setattr(publish, stage, hang)
release(root)
"""


def killed_at(root: Path, stage: str, tmp_path: Path) -> None:
    marker = tmp_path / f"at-{stage}"
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(root), str(marker), stage],
        cwd=PROJECT_ROOT,
        env={**os.environ, "PYTHONPATH": str(PROJECT_ROOT)},
    )
    try:
        for _ in range(1200):  # up to two minutes for the child to reach the stage
            if marker.exists() or child.poll() is not None:
                break
            time.sleep(0.1)
        assert marker.exists(), f"the child never reached {stage} (exit {child.poll()})"
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=30)
    finally:
        if child.poll() is None:
            child.kill()


@pytest.mark.parametrize(
    "stage", ["write_parquet", "render_report", "write_datapackage", "point_latest"]
)
def test_a_release_killed_while_it_writes_leaves_nothing_partial(
    tmp_path: Path, stage: str
) -> None:
    root = tmp_path / "releases"
    first = release(root)
    before = tree_hashes(first.path)
    killed_at(root, stage, tmp_path)
    assert (root / "latest").resolve() == first.path
    assert tree_hashes(first.path) == before
    published = [r.version for r in publish.list_releases(root)]
    if stage == "point_latest":
        # killed after the rename: the new release is whole, merely not yet `latest`
        assert published == [first.version, f"{first.version}.1"]
        assert verify_release(root / f"{first.version}.1") == []
    else:
        assert published == [first.version]
        assert len(list(root.glob(".tmp-*"))) == 1  # the killed run's folder, unnamed
    after = release(root)  # the next run cleans up and publishes
    assert (root / "latest").resolve() == after.path
    assert not list(root.glob(".tmp-*")) and not list(root.glob(".latest-*"))
    assert verify_release(after.path) == []
