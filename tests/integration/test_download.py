"""Downloading a release over HTTP from the releases folder served as a static site, and the
`citydip download` and `citydip verify` commands."""

import hashlib
import json
import shutil
import threading
from collections.abc import Iterator
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from pipeline import cli
from pipeline.http import build_session
from pipeline.site import DownloadError, download, verify_release
from tests.conftest import tree_hashes
from tests.unit.test_site import FIRST, SECOND, publish_two

TARGET = "parquet/sources.parquet"  # most files come before it: the partial folder has some


class SiteHandler(SimpleHTTPRequestHandler):
    """Serves the folder as a static host would; paths in `server.cut` break off halfway."""

    def do_GET(self) -> None:
        relative = self.path.lstrip("/")
        if relative in getattr(self.server, "cut", set()):
            body = (Path(self.directory) / relative).read_bytes()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body[: len(body) // 2])
            self.close_connection = True
            return
        super().do_GET()

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def published(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return publish_two(tmp_path_factory.mktemp("published") / "site")


def copy(published: Path, to: Path) -> Path:
    return Path(shutil.copytree(published, to, symlinks=True))


@pytest.fixture
def served(published: Path, tmp_path: Path) -> Iterator[tuple[str, Path, ThreadingHTTPServer]]:
    """A copy of two releases and index.json on a static HTTP server at 127.0.0.1:
    (URL, folder, server)."""
    root = copy(published, tmp_path / "site")
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(SiteHandler, directory=str(root)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/", root, server
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def expected(root: Path, path: str) -> dict[str, Any]:
    """The index's entry for one file of the latest release."""
    index = json.loads((root / "index.json").read_text())
    return {f["path"]: f for f in index["releases"][-1]["files"]}[path]


def test_download_over_http_is_a_byte_identical_release(
    served: tuple[str, Path, ThreadingHTTPServer], tmp_path: Path
) -> None:
    url, root, _ = served
    to = tmp_path / "downloads"
    assert download(url, to) == to / SECOND
    assert tree_hashes(to / SECOND) == tree_hashes(root / SECOND)
    assert verify_release(to / SECOND) == []
    assert download(url.rstrip("/"), to, version=FIRST) == to / FIRST
    assert tree_hashes(to / FIRST) == tree_hashes(root / FIRST)
    assert sorted(p.name for p in to.iterdir()) == [FIRST, SECOND]


def corrupt(file: Path) -> str:
    content = bytearray(file.read_bytes())
    content[-10] ^= 0xFF
    file.write_bytes(bytes(content))
    return hashlib.sha256(content).hexdigest()


@pytest.mark.parametrize("damage", ["corrupted", "truncated", "missing", "interrupted"])
def test_a_damaged_file_on_the_server_is_refused_and_leaves_nothing(
    served: tuple[str, Path, ThreadingHTTPServer], tmp_path: Path, damage: str
) -> None:
    url, root, server = served
    file = root / SECOND / TARGET
    entry = expected(root, TARGET)
    if damage == "corrupted":
        actual = corrupt(file)
        message = f"{SECOND}/{TARGET}: sha256 {actual}, index.json says {entry['sha256']}"
    elif damage == "truncated":
        file.write_bytes(file.read_bytes()[:100])
        message = f"{SECOND}/{TARGET}: 100 bytes, index.json says {entry['bytes']}"
    elif damage == "missing":
        file.unlink()
        message = f"{SECOND}/{TARGET}: GET {url}{SECOND}/{TARGET} answered HTTP 404"
    else:
        server.cut = {f"{SECOND}/{TARGET}"}  # type: ignore[attr-defined]
        message = f"{SECOND}/{TARGET}: GET {url}{SECOND}/{TARGET} broke off"
    to = tmp_path / "downloads"
    with pytest.raises(DownloadError, match=message.replace(".", r"\.")):
        download(url, to, session=build_session(retries=0))
    assert list(to.iterdir()) == []


def test_a_manifest_that_is_not_the_indexed_one_is_refused(
    served: tuple[str, Path, ThreadingHTTPServer], tmp_path: Path
) -> None:
    url, root, _ = served
    manifest = root / SECOND / "manifest.json"
    manifest.write_text(manifest.read_text().replace('"1.0.0"', '"9.9.9"'))
    entry = expected(root, "manifest.json")
    to = tmp_path / "downloads"
    with pytest.raises(DownloadError, match=f"{SECOND}/manifest.json: sha256 [0-9a-f]{{64}}, "):
        download(url, to)
    assert entry["bytes"] == manifest.stat().st_size  # same size: only the hash tells
    assert list(to.iterdir()) == []


def test_an_unknown_version_over_http_names_the_available_ones(
    served: tuple[str, Path, ThreadingHTTPServer], tmp_path: Path
) -> None:
    url, _, _ = served
    with pytest.raises(DownloadError, match=f"available: {FIRST}, {SECOND}$".replace(".", r"\.")):
        download(url, tmp_path / "downloads", version="2026.11.23")


def test_a_site_without_an_index_is_refused(tmp_path: Path) -> None:
    with pytest.raises(DownloadError, match=f"index.json: not found at {tmp_path}/index.json"):
        download(str(tmp_path), tmp_path / "downloads")


def test_cli_download_then_again(
    served: tuple[str, Path, ThreadingHTTPServer],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    url, root, _ = served
    to = tmp_path / "downloads"
    assert cli.main(["download", "--from", url, "--to", str(to)]) == 0
    files = len(tree_hashes(root / SECOND))
    assert f"downloaded release {SECOND} to {to / SECOND}: {files} files" in capsys.readouterr().out
    assert cli.main(["download", "--from", url, "--to", str(to), "--version", SECOND]) == 0
    assert f"already holds release {SECOND}, verified" in capsys.readouterr().out
    assert tree_hashes(to / SECOND) == tree_hashes(root / SECOND)


def test_cli_download_failures_exit_1(
    served: tuple[str, Path, ThreadingHTTPServer],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    url, root, _ = served
    to = tmp_path / "downloads"
    assert cli.main(["download", "--from", url, "--to", str(to), "--version", "2030.01.01"]) == 1
    err = capsys.readouterr().err
    assert err == (
        f"citydip: not downloaded: no release '2030.01.01' at {url}; available: {FIRST}, {SECOND}\n"
    )
    actual = corrupt(root / FIRST / "citydiplomacy.duckdb")
    assert cli.main(["download", "--from", url, "--to", str(to), "--version", FIRST]) == 1
    err = capsys.readouterr().err
    assert f"not downloaded: {FIRST}/citydiplomacy.duckdb: sha256 {actual}, index.json" in err
    assert list(to.iterdir()) == []


@pytest.fixture
def warehouse(published: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A data home with the two releases as open editions and as full ones."""
    monkeypatch.setenv("CITYDIP_HOME", str(tmp_path / "home"))
    copy(published, tmp_path / "home" / "warehouse" / "releases")
    copy(published, tmp_path / "home" / "warehouse" / "full")
    return tmp_path / "home" / "warehouse"


def test_cli_verify_a_good_release(warehouse: Path, capsys: pytest.CaptureFixture[str]) -> None:
    releases = warehouse / "releases"
    assert cli.main(["verify", FIRST]) == 0
    good = f"release {FIRST} at {releases / FIRST}: every file matches manifest.json\n"
    assert capsys.readouterr().out == good
    assert cli.main(["verify", "latest"]) == 0
    assert capsys.readouterr().out.startswith(f"release {SECOND} at {releases / SECOND}:")
    assert cli.main(["verify", str(releases / FIRST)]) == 0
    assert capsys.readouterr().out == good
    assert cli.main(["verify", SECOND, "--edition", "full"]) == 0
    assert f"at {warehouse / 'full' / SECOND}: every file" in capsys.readouterr().out


def test_cli_verify_reports_each_problem_and_exits_1(
    warehouse: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = warehouse / "releases" / SECOND
    (folder / "ATTRIBUTION").unlink()
    (folder / "notes.txt").write_text("added by hand\n")
    assert cli.main(["verify", SECOND]) == 1
    assert capsys.readouterr().err == (
        f"{SECOND}: ATTRIBUTION: missing\n"
        f"{SECOND}: notes.txt: present but not in manifest.json\n"
        f"citydip: release {SECOND} at {folder} failed: 2 problem(s)\n"
    )
    assert cli.main(["verify", SECOND, "--edition", "full"]) == 0


def test_cli_verify_of_no_release_exits_2(
    warehouse: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["verify", "2030.01.01"]) == 2
    assert "no release '2030.01.01': not a folder, nor a release in" in capsys.readouterr().err
