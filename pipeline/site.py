"""The releases folder as a static download site. `write_index` lists every release and its
files in index.json, so copying the folder to any static host publishes it; `download`
copies one release from such a site (or a local copy of it) and keeps it only when every
byte matches; `verify_release` re-checks a release folder against its manifest.
Imports no Dagster.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlparse

import requests

from pipeline.http import CHUNK, FetchError, build_session, fetch_chunks
from pipeline.publish import MANIFEST_FILE, Release, latest_release, list_releases, version_key

INDEX_FILE = "index.json"
INDEX_MAX_BYTES = 64 << 20
_SHA256 = re.compile(r"^[0-9a-f]{64}\Z")

Files = dict[str, tuple[int, str]]  # path -> (bytes, sha256)


class DownloadError(Exception):
    """A release was not downloaded, and nothing of it was left in the target folder."""


def write_index(root: Path) -> Path:
    """Write root/index.json: every release with its row counts and files (size, sha256),
    and which one is latest. Written whole or not at all, so a site being copied never
    shows half an index; sorted, so an unchanged warehouse gives the same bytes."""
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    latest = latest_release(root)
    index = {
        "latest": latest.version if latest else None,
        "releases": [index_entry(release) for release in list_releases(root)],
    }
    target = root / INDEX_FILE
    tmp = root / f".{INDEX_FILE}-{uuid.uuid4().hex[:8]}"
    try:
        tmp.write_text(json.dumps(index, indent=2, sort_keys=True) + "\n")
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
    return target


def index_entry(release: Release) -> dict[str, Any]:
    """One release as index.json lists it; manifest.json is hashed here since it cannot
    list itself."""
    manifest = release.manifest
    own = release.path / MANIFEST_FILE
    files = [
        {"path": f["path"], "bytes": f["bytes"], "sha256": f["sha256"]} for f in manifest["files"]
    ]
    files.append({"path": MANIFEST_FILE, "bytes": own.stat().st_size, "sha256": sha256_of(own)})
    return {
        "version": release.version,
        "schema_version": manifest.get("schema_version"),
        "created_at": manifest.get("created_at"),
        "edition": manifest.get("edition"),
        "rows": {name: table["rows"] for name, table in manifest.get("tables", {}).items()},
        "files": sorted(files, key=lambda f: f["path"]),
    }


def verify_release(folder: Path) -> list[str]:
    """Each way the folder differs from its manifest.json, one line naming the file: missing,
    another size, another sha256, or present but not listed. Empty when the release is whole."""
    folder = Path(folder)
    try:
        manifest = json.loads((folder / MANIFEST_FILE).read_bytes())
        listed = parse_files(manifest["files"], MANIFEST_FILE)
    except FileNotFoundError:
        return [f"{MANIFEST_FILE}: missing in {folder}"]
    except (ValueError, KeyError, TypeError) as error:
        return [f"{MANIFEST_FILE}: not a release manifest ({error})"]
    problems = []
    for path, (size, sha256) in sorted(listed.items()):
        file = folder / path
        if not file.is_file():
            problems.append(f"{path}: missing")
        elif (actual := file.stat().st_size) != size:
            problems.append(f"{path}: {actual} bytes, {MANIFEST_FILE} says {size}")
        elif (digest := sha256_of(file)) != sha256:
            problems.append(f"{path}: sha256 {digest}, {MANIFEST_FILE} says {sha256}")
    present = {p.relative_to(folder).as_posix() for p in folder.rglob("*") if not p.is_dir()}
    for path in sorted(present - set(listed) - {MANIFEST_FILE}):
        problems.append(f"{path}: present but not in {MANIFEST_FILE}")
    return problems


def download(
    source: str,
    to: Path,
    version: str | None = None,
    session: requests.Session | None = None,
    say: Callable[[str], None] = lambda line: None,
) -> Path:
    """Copy one release (`version`, or the site's latest) from a site (an http(s) base URL
    or a local folder) to `to/<version>`, and return that folder.

    Files go into a partial folder, each hashed as it arrives and checked against index.json
    (and manifest.json against its own entry there); the folder is renamed into place only
    when all match. Any failure raises DownloadError and removes the partial folder. A
    release already in `to` is verified, never overwritten. `say` hears what was done.
    """
    if is_url(source) and session is None:
        with build_session() as own:
            return download(source, to, version, own, say)
    index = read_index(source, session)
    entry = choose_release(index, version, source)
    version = str(entry["version"])
    try:
        files = parse_files(entry.get("files"), f"{INDEX_FILE}, release {version}")
    except ValueError as error:
        raise DownloadError(str(error)) from None
    if MANIFEST_FILE not in files:
        raise DownloadError(f"{INDEX_FILE}, release {version}: lists no {MANIFEST_FILE}")
    target = Path(to) / version
    if target.exists():
        return check_existing(target, version, files[MANIFEST_FILE], say)
    Path(to).mkdir(parents=True, exist_ok=True)
    partial = Path(to) / f".partial-{version}-{uuid.uuid4().hex[:8]}"
    partial.mkdir()
    try:
        fetch_file(source, session, version, MANIFEST_FILE, files[MANIFEST_FILE], partial)
        check_listing(partial / MANIFEST_FILE, files, version)
        for path, expected in sorted(files.items()):
            if path != MANIFEST_FILE:
                fetch_file(source, session, version, path, expected, partial)
        os.rename(partial, target)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    total = sum(size for size, _ in files.values())
    say(
        f"downloaded release {version} to {target}: {len(files)} files, {total} bytes, "
        f"each matching {INDEX_FILE} and {MANIFEST_FILE}"
    )
    return target


def is_url(source: str) -> bool:
    return urlparse(source).scheme in ("http", "https")


def read_chunks(
    source: str, path: str, session: requests.Session | None, max_bytes: int
) -> Iterator[bytes]:
    """The bytes of `path` under a site, in chunks; DownloadError naming the file when it
    cannot be read whole (HTTP error, broken transfer, missing file)."""
    if is_url(source):
        assert session is not None
        url = source.rstrip("/") + "/" + quote(path)
        try:
            yield from fetch_chunks(session, path, url, max_bytes=max_bytes)
        except FetchError as error:
            raise DownloadError(str(error)) from error
        return
    file = Path(source) / path
    try:
        with open(file, "rb") as handle:
            while chunk := handle.read(CHUNK):
                yield chunk
    except FileNotFoundError:
        raise DownloadError(f"{path}: not found at {file}") from None


def read_index(source: str, session: requests.Session | None) -> dict[str, Any]:
    body = b"".join(read_chunks(source, INDEX_FILE, session, INDEX_MAX_BYTES))
    try:
        index = json.loads(body)
    except ValueError as error:
        raise DownloadError(f"{INDEX_FILE} at {source} is not JSON: {error}") from None
    if not isinstance(index, dict) or not isinstance(index.get("releases"), list):
        raise DownloadError(f"{INDEX_FILE} at {source} has no list of releases")
    return index


def choose_release(index: dict[str, Any], version: str | None, source: str) -> dict[str, Any]:
    """The index's entry for `version` (or its latest); the version must be a release name,
    since it becomes a folder name."""
    releases = {
        r["version"]: r
        for r in index["releases"]
        if isinstance(r, dict) and isinstance(r.get("version"), str)
    }
    available = ", ".join(releases) or "none"
    wanted = version or index.get("latest")
    if not isinstance(wanted, str):
        raise DownloadError(f"{source} names no latest release; available: {available}")
    if wanted not in releases:
        raise DownloadError(f"no release {wanted!r} at {source}; available: {available}")
    try:
        version_key(wanted)
    except ValueError:
        raise DownloadError(f"{INDEX_FILE}: {wanted!r} is not a release version") from None
    return releases[wanted]


def parse_files(entries: Any, where: str) -> Files:
    """A file list as {path: (bytes, sha256)}; ValueError for a malformed entry, a repeated
    path, or a path that could land outside the release folder (absolute, '..', empty parts)."""
    if not isinstance(entries, list):
        raise ValueError(f"{where}: the file list is not a list")
    files: Files = {}
    for entry in entries:
        try:
            path, size, sha256 = entry["path"], entry["bytes"], entry["sha256"]
        except (KeyError, TypeError):
            raise ValueError(f"{where}: malformed file entry {entry!r}") from None
        parts = path.split("/") if isinstance(path, str) else [""]
        if any(p in ("", ".", "..") or "\\" in p or "\0" in p for p in parts):
            raise ValueError(f"{where}: refused unsafe path {path!r} (outside the release folder)")
        if type(size) is not int or size < 0:
            raise ValueError(f"{where}: {path}: bytes {size!r} is not a size")
        if not isinstance(sha256, str) or not _SHA256.match(sha256):
            raise ValueError(f"{where}: {path}: sha256 {sha256!r} is not a sha256")
        if path in files:
            raise ValueError(f"{where}: {path} is listed twice")
        files[path] = (size, sha256)
    return files


def fetch_file(
    source: str,
    session: requests.Session | None,
    version: str,
    path: str,
    expected: tuple[int, str],
    partial: Path,
) -> None:
    """Stream one file into the partial folder, hashing as it goes; DownloadError when its
    size or sha256 is not what index.json gives."""
    size, sha256 = expected
    name = f"{version}/{path}"
    target = partial / path
    target.parent.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    received = 0
    # a little past the expected size, so a longer file is caught here with its sizes
    with open(target, "wb") as handle:
        for chunk in read_chunks(source, name, session, max_bytes=size + CHUNK):
            received += len(chunk)
            if received > size:
                raise DownloadError(f"{name}: over {size} bytes, {INDEX_FILE} says {size}")
            digest.update(chunk)
            handle.write(chunk)
        handle.flush()
        os.fsync(handle.fileno())
    if received != size:
        raise DownloadError(f"{name}: {received} bytes, {INDEX_FILE} says {size}")
    if digest.hexdigest() != sha256:
        raise DownloadError(f"{name}: sha256 {digest.hexdigest()}, {INDEX_FILE} says {sha256}")


def check_listing(manifest: Path, files: Files, version: str) -> None:
    """The downloaded manifest must list exactly the files index.json gives, so each file
    is checked against both."""
    where = f"{version}/{MANIFEST_FILE}"
    try:
        listed = parse_files(json.loads(manifest.read_bytes())["files"], where)
    except (ValueError, KeyError, TypeError) as error:
        raise DownloadError(f"{where} is not a release manifest: {error}") from None
    indexed = {path: value for path, value in files.items() if path != MANIFEST_FILE}
    for path in sorted(set(listed) | set(indexed)):
        if listed.get(path) != indexed.get(path):
            raise DownloadError(
                f"{version}/{path}: {MANIFEST_FILE} gives {described(listed.get(path))}, "
                f"{INDEX_FILE} gives {described(indexed.get(path))}"
            )


def described(entry: tuple[int, str] | None) -> str:
    return "nothing" if entry is None else f"{entry[0]} bytes, sha256 {entry[1]}"


def check_existing(
    target: Path, version: str, manifest: tuple[int, str], say: Callable[[str], None]
) -> Path:
    """A release already downloaded is kept if it is whole and is the one the index names."""
    problems = verify_release(target)
    own = target / MANIFEST_FILE
    if own.is_file() and (digest := sha256_of(own)) != manifest[1]:
        problems.append(f"{MANIFEST_FILE}: sha256 {digest}, {INDEX_FILE} says {manifest[1]}")
    if problems:
        raise DownloadError(
            f"{target} already exists and is not release {version} as published: "
            + "; ".join(problems)
        )
    say(f"{target} already holds release {version}, verified; not downloaded again")
    return target


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()
