"""The releases folder as a download site: index.json, verifying a release folder, and
downloading from a local copy of a site (hostile and unknown entries refused)."""

import hashlib
import json
import shutil
from collections.abc import Callable
from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from pipeline import publish
from pipeline.site import DownloadError, download, parse_files, verify_release, write_index
from schemas.dictionary import dictionary
from tests.conftest import tree_hashes

FIRST, SECOND = "2026.11.22", "2026.11.22.1"


# One value per row and type, distinct across rows, so every key stays unique and the
# second release only adds rows to the first.
VALUES: dict[str, Callable[[int], object]] = {
    "VARCHAR": lambda i: f"v{i}",
    "BIGINT": lambda i: 2000 + i,
    "DOUBLE": lambda i: i + 0.5,
    "BOOLEAN": lambda i: i % 2 == 0,
}
DTYPES = {"VARCHAR": "string", "BIGINT": "Int64", "DOUBLE": "float64", "BOOLEAN": "boolean"}


def frame(table: str, rows: int) -> pd.DataFrame:
    """`rows` rows of every documented column of a table, typed as the release stores it."""
    doc = next(d for d in dictionary() if d.name == table)
    return pd.DataFrame(
        {
            c.name: pd.array([VALUES[c.dtype](i) for i in range(rows)], dtype=DTYPES[c.dtype])
            for c in doc.columns
        }
    )


def frames(rows: int) -> dict[str, pd.DataFrame]:
    """Every published table with `rows` rows, and one source."""
    tables = {name: frame(name, rows) for name in publish.TABLES}
    tables["sources"] = frame("sources", 1).assign(
        source="registry", role="networks", snapshot_id="s0", licence="CC BY 4.0"
    )
    return tables


def publish_two(root: Path) -> Path:
    """Two open releases of the same day (2 rows a table, then 3) and index.json."""
    for rows in (2, 3):
        publish.publish_release(
            root,
            frames(rows),
            "1.0.0",
            Path("/nonexistent"),
            extra={"edition": "open"},
            today=date(2026, 11, 22),
            texts={"ATTRIBUTION": f"Test data, release with {rows} rows a table.\n"},
        )
    write_index(root)
    return root


@pytest.fixture(scope="module")
def published(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return publish_two(tmp_path_factory.mktemp("published") / "site")


@pytest.fixture
def site(published: Path, tmp_path: Path) -> Path:
    """A copy of the two releases each test may change."""
    return Path(shutil.copytree(published, tmp_path / "site", symlinks=True))


def test_the_index_lists_every_release_its_files_and_the_latest(site: Path) -> None:
    index = json.loads((site / "index.json").read_text())
    assert index["latest"] == SECOND
    assert [r["version"] for r in index["releases"]] == [FIRST, SECOND]
    for entry, rows in zip(index["releases"], (2, 3), strict=True):
        folder = site / entry["version"]
        manifest = json.loads((folder / "manifest.json").read_text())
        assert entry["schema_version"] == "1.0.0"
        assert entry["edition"] == "open"
        assert entry["created_at"] == manifest["created_at"]
        assert entry["rows"] == {name: 1 if name == "sources" else rows for name in publish.TABLES}
        paths = [f["path"] for f in entry["files"]]
        assert paths == sorted(paths)
        assert set(paths) == set(tree_hashes(folder))  # every file of the folder, manifest.json too
        assert {"ATTRIBUTION", "citydiplomacy.duckdb", "parquet/cities.parquet"} < set(paths)
        for file in entry["files"]:
            content = (folder / file["path"]).read_bytes()
            assert file["bytes"] == len(content)
            assert file["sha256"] == hashlib.sha256(content).hexdigest()
    attribution = {f["path"]: f for f in index["releases"][0]["files"]}["ATTRIBUTION"]
    assert attribution["bytes"] == len("Test data, release with 2 rows a table.\n") == 40


def test_the_index_is_the_same_bytes_when_nothing_changed_and_leaves_no_temp_file(
    site: Path,
) -> None:
    before = (site / "index.json").read_bytes()
    assert write_index(site) == site / "index.json"
    assert (site / "index.json").read_bytes() == before
    assert sorted(p.name for p in site.iterdir()) == [
        ".lock",
        FIRST,
        SECOND,
        "index.json",
        "latest",
    ]


def test_an_empty_warehouse_has_an_empty_index(tmp_path: Path) -> None:
    write_index(tmp_path / "releases")
    assert json.loads((tmp_path / "releases" / "index.json").read_text()) == {
        "latest": None,
        "releases": [],
    }


def test_verify_accepts_a_whole_release(site: Path) -> None:
    assert verify_release(site / FIRST) == []
    assert verify_release(site / "latest") == []


def test_verify_finds_a_changed_byte_a_missing_file_and_an_extra_file(site: Path) -> None:
    folder = site / SECOND
    listed = {f["path"]: f for f in json.loads((folder / "manifest.json").read_text())["files"]}
    parquet = folder / "parquet" / "cities.parquet"
    content = bytearray(parquet.read_bytes())
    content[100] ^= 0xFF
    parquet.write_bytes(bytes(content))
    (folder / "ATTRIBUTION").unlink()
    (folder / "DATA_DICTIONARY.md").write_text("shorter")
    (folder / "parquet" / "extra.parquet").write_bytes(b"PAR1")
    assert verify_release(folder) == [
        "ATTRIBUTION: missing",
        f"DATA_DICTIONARY.md: 7 bytes, manifest.json says {listed['DATA_DICTIONARY.md']['bytes']}",
        f"parquet/cities.parquet: sha256 {hashlib.sha256(content).hexdigest()}, "
        f"manifest.json says {listed['parquet/cities.parquet']['sha256']}",
        "parquet/extra.parquet: present but not in manifest.json",
    ]


def test_verify_without_a_manifest(tmp_path: Path) -> None:
    assert verify_release(tmp_path) == [f"manifest.json: missing in {tmp_path}"]
    (tmp_path / "manifest.json").write_text("[]")
    assert verify_release(tmp_path)[0].startswith("manifest.json: not a release manifest")


@pytest.mark.parametrize(
    "path", ["../x", "/etc/passwd", "parquet/../../x", "a//b", "./x", "..\\x", "parquet/"]
)
def test_a_file_list_with_a_path_outside_the_folder_is_refused(path: str) -> None:
    with pytest.raises(ValueError, match="refused unsafe path"):
        parse_files([{"path": path, "bytes": 1, "sha256": "0" * 64}], "index.json")


def test_download_from_a_local_folder_is_a_byte_identical_copy(site: Path, tmp_path: Path) -> None:
    said: list[str] = []
    to = tmp_path / "downloads"
    assert download(str(site), to, say=said.append) == to / SECOND
    assert tree_hashes(to / SECOND) == tree_hashes(site / SECOND)
    assert verify_release(to / SECOND) == []
    assert said == [
        f"downloaded release {SECOND} to {to / SECOND}: {len(tree_hashes(site / SECOND))} files, "
        f"{sum((site / SECOND / p).stat().st_size for p in tree_hashes(site / SECOND))} bytes, "
        "each matching index.json and manifest.json"
    ]
    assert download(str(site), to, version=FIRST) == to / FIRST
    assert tree_hashes(to / FIRST) == tree_hashes(site / FIRST)
    assert sorted(p.name for p in to.iterdir()) == [FIRST, SECOND]


def test_a_release_already_there_is_verified_not_overwritten(site: Path, tmp_path: Path) -> None:
    to = tmp_path / "downloads"
    download(str(site), to)
    said: list[str] = []
    assert download(str(site), to, say=said.append) == to / SECOND
    assert said == [f"{to / SECOND} already holds release {SECOND}, verified; not downloaded again"]
    (to / SECOND / "ATTRIBUTION").write_text("changed by hand\n")
    with pytest.raises(DownloadError, match=f"{to / SECOND} already exists and is not release"):
        download(str(site), to)
    assert (to / SECOND / "ATTRIBUTION").read_text() == "changed by hand\n"


def test_an_unknown_version_is_refused_naming_the_available_ones(
    site: Path, tmp_path: Path
) -> None:
    to = tmp_path / "downloads"
    message = f"no release '2030.01.01' at {site}; available: {FIRST}, {SECOND}"
    with pytest.raises(DownloadError, match=message.replace(".", r"\.")):
        download(str(site), to, version="2030.01.01")
    assert not to.exists() or list(to.iterdir()) == []


def test_a_corrupted_file_in_a_local_site_leaves_nothing(site: Path, tmp_path: Path) -> None:
    (site / SECOND / "parquet" / "sources.parquet").write_bytes(b"not parquet")
    to = tmp_path / "downloads"
    with pytest.raises(DownloadError, match=rf"{SECOND}/parquet/sources\.parquet: 11 bytes"):
        download(str(site), to)
    assert list(to.iterdir()) == []


def hostile(site: Path, change: str) -> None:
    """Rewrite the site's index.json as an attacker would."""
    index = json.loads((site / "index.json").read_text())
    latest = index["releases"][-1]
    if change == "path":
        latest["files"][0]["path"] = "../x"
    elif change == "version":
        latest["version"] = index["latest"] = "../../x"
    (site / "index.json").write_text(json.dumps(index))


@pytest.mark.parametrize(
    ("change", "message"),
    [("path", "refused unsafe path '../x'"), ("version", "'../../x' is not a release version")],
)
def test_a_hostile_index_is_refused(site: Path, tmp_path: Path, change: str, message: str) -> None:
    hostile(site, change)
    to = tmp_path / "deep" / "downloads"
    with pytest.raises(DownloadError, match=message.replace(".", r"\.")):
        download(str(site), to)
    assert not (tmp_path / "deep" / "x").exists() and not (tmp_path / "x").exists()
    assert not to.exists() or list(to.iterdir()) == []


def test_an_index_whose_manifest_lists_other_files_is_refused(site: Path, tmp_path: Path) -> None:
    """manifest.json matches its index entry, but the index adds a file the manifest lacks."""
    index = json.loads((site / "index.json").read_text())
    extra = {"path": "extra.bin", "bytes": 1, "sha256": "0" * 64}
    index["releases"][-1]["files"].append(extra)
    (site / "index.json").write_text(json.dumps(index))
    shutil.copy(site / SECOND / "ATTRIBUTION", site / SECOND / "extra.bin")
    to = tmp_path / "downloads"
    with pytest.raises(
        DownloadError,
        match=f"{SECOND}/extra.bin: manifest.json gives nothing, index.json gives 1 bytes",
    ):
        download(str(site), to)
    assert list(to.iterdir()) == []
