"""Publishing releases: ``warehouse/releases/<version>/`` with the DuckDB file, Parquet files
and manifest.json, assembled in a temporary folder and renamed into place; ``latest`` moves
only after that. A published release is never modified. Imports no Dagster.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import logging
import os
import re
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from pipeline import changes, views
from pipeline.changes import CHANGES_FILE
from pipeline.citation import CITATION_FILE, citation
from pipeline.datapackage import DATAPACKAGE_FILE, datapackage
from pipeline.report import render_report
from pipeline.sample import SAMPLE_COUNTRIES, SAMPLE_FOLDER, sample_tables
from pipeline.views import VIEWS_FILE, create_views, views_sql
from schemas.dictionary import TableDoc, dictionary, markdown
from schemas.published import PUBLISHED

DUCKDB_FILE = "citydiplomacy.duckdb"
MANIFEST_FILE = "manifest.json"
LATEST = "latest"
TABLES = tuple(PUBLISHED)
DICTIONARY_FILE = "DATA_DICTIONARY.md"
REPORT_FILE = "report.html"
LOG = logging.getLogger(__name__)
# ASCII digits only, to the end of the text (not before a final newline, as `$` allows)
_VERSION = re.compile(r"^(\d{4})\.(\d{2})\.(\d{2})(?:\.(\d+))?\Z", re.ASCII)


class ReleaseError(Exception):
    """A release was refused; the previous release stays `latest`."""


class IdChurnError(ReleaseError):
    """Too many stable ids changed: downstream joins on ids would silently break."""


class ReleaseLockedError(ReleaseError):
    """Another release is being written into the same warehouse."""


@dataclass(frozen=True)
class Release:
    version: str
    path: Path
    manifest: dict[str, Any]


def version_key(version: str) -> tuple[int, int, int, int]:
    match = _VERSION.match(version)
    if not match:
        raise ValueError(f"not a release version: {version!r}")
    year, month, day, n = match.groups()
    return int(year), int(month), int(day), int(n or 0)


def next_version(existing: Iterable[str], today: date) -> str:
    """'2026.11.22' for the day's first release, then '2026.11.22.1', '2026.11.22.2', ..."""
    base = today.strftime("%Y.%m.%d")
    taken = [version_key(v)[3] for v in existing if v == base or v.startswith(base + ".")]
    if not taken:
        return base
    return f"{base}.{max(taken) + 1}"


def list_releases(root: Path) -> list[Release]:
    """Published releases, oldest first (folders with a manifest and a version name)."""
    root = Path(root)
    if not root.is_dir():
        return []
    found = []
    for folder in root.iterdir():
        manifest = folder / MANIFEST_FILE
        if folder.is_symlink() or not _VERSION.match(folder.name) or not manifest.is_file():
            continue
        found.append(Release(folder.name, folder, json.loads(manifest.read_text())))
    return sorted(found, key=lambda r: version_key(r.version))


def latest_release(root: Path) -> Release | None:
    link = Path(root) / LATEST
    if not link.is_symlink():
        return None
    target = link.resolve()
    manifest = target / MANIFEST_FILE
    if not manifest.is_file():
        return None
    return Release(target.name, target, json.loads(manifest.read_text()))


@contextmanager
def release_lock(root: Path) -> Iterator[None]:
    """One release at a time per warehouse: a second one is refused, not queued."""
    Path(root).mkdir(parents=True, exist_ok=True)
    with open(Path(root) / ".lock", "w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise ReleaseLockedError(
                f"another release is being written into {root}; try again when it has finished"
            ) from None
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


# What a release run writes before renaming it into place: its folder, the new `latest`
# link and the new index. Any of them still there when the lock is free is a leftover of a
# run that was killed; nothing under a release's final name is ever partial.
LEFTOVERS = (".tmp-*", ".latest-*", ".index.json-*")


def remove_leftovers(root: Path) -> list[str]:
    """Delete what killed runs left behind; call only while holding the release lock."""
    removed = []
    for pattern in LEFTOVERS:
        for path in sorted(Path(root).glob(pattern)):
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path)
            else:
                path.unlink()
            removed.append(path.name)
    if removed:
        LOG.warning(f"removed what an interrupted release left in {root}: {', '.join(removed)}")
    return removed


def git_commit(project_root: Path) -> tuple[str | None, bool | None]:
    """(commit, has uncommitted changes) of the project, or (None, None) outside git."""
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            cwd=project_root,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        status = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=project_root,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    except (OSError, subprocess.CalledProcessError):
        return None, None
    return commit, bool(status.strip())


def check_sources_kept(previous: Release | None, sources: pd.DataFrame) -> None:
    """Refuse a release that would silently drop a source, or a file of a source, that the
    previous release had (e.g. GeoNames admin1 names when only a bundled copy is left)."""
    if previous is None:
        return
    before = {(s["source"], s.get("role")) for s in previous.manifest.get("sources", [])}
    now = set(zip(sources["source"], sources["role"], strict=True))
    missing = sorted(f"{source}/{role}" for source, role in before - now)
    if missing:
        raise ReleaseError(
            f"release {previous.version} had {', '.join(missing)}, which this build lacks; "
            "a source that cannot be refreshed must keep its last snapshot"
        )


def publish_release(
    root: Path,
    tables: Mapping[str, pd.DataFrame],
    schema_version: str,
    project_root: Path,
    extra: Mapping[str, Any] | None = None,
    today: date | None = None,
    texts: Mapping[str, str] | None = None,
    licence: str = "see ATTRIBUTION",
    accept_id_churn: bool = False,
) -> Release:
    """Write a new release and point `latest` at it; `texts` are files written beside the
    data (and hashed with it).

    An error before the folder's rename publishes nothing. If only moving `latest` fails,
    the complete release stands in its folder and `latest` still names the previous one.
    """
    root = Path(root)
    if set(tables) != set(TABLES):
        raise ReleaseError(f"a release needs exactly the tables {TABLES}, got {sorted(tables)}")
    with release_lock(root):
        remove_leftovers(root)
        previous = latest_release(root)
        check_sources_kept(previous, tables["sources"])
        version = next_version((r.version for r in list_releases(root)), today or date.today())
        tmp = root / f".tmp-{version}-{uuid.uuid4().hex[:8]}"
        tmp.mkdir(parents=True)
        try:
            commit, dirty = git_commit(project_root)
            created_at = datetime.now(UTC).isoformat(timespec="seconds")
            info = {
                "version": version,
                "schema_version": schema_version,
                "created_at": created_at,
                "git_commit": commit or "",
                "licence": licence,
                "edition": str((extra or {}).get("edition", "")),
            }
            docs = dictionary()
            write_duckdb(tmp / DUCKDB_FILE, tables, docs, info)
            changed = record_changes(tmp / DUCKDB_FILE, previous, version)
            churn = check_id_churn(changed, previous, accept_id_churn)
            write_parquet(tmp / DUCKDB_FILE, tmp / "parquet", info)
            sources = sources_manifest(tables["sources"])
            write_sample(tmp / SAMPLE_FOLDER, tables, docs, info, sources)
            documents = {
                DICTIONARY_FILE: "\n".join(
                    [
                        markdown(docs, version, schema_version),
                        changes.dictionary_section(),
                        views.dictionary_section(),
                    ]
                ),
                CHANGES_FILE: changes.markdown(changed),
                VIEWS_FILE: views_sql(),
                CITATION_FILE: citation(info, sources),
                REPORT_FILE: render_report(tmp / DUCKDB_FILE),
                **(texts or {}),
            }
            for name, text in documents.items():  # the dictionary, ATTRIBUTION, ...
                (tmp / name).write_text(text)
            write_datapackage(tmp, docs, info, sources)
            manifest = {
                "version": version,
                "created_at": created_at,
                "git_commit": commit,
                "git_dirty": dirty,
                "schema_version": schema_version,
                "previous_version": previous.version if previous else None,
                "tables": {name: {"rows": len(tables[name])} for name in TABLES},
                "changes": {
                    "previous_version": changed.old_version,
                    "schema": changed.schema_changes(),
                    "rows": changed.counts(),
                    "id_churn": churn,
                    "id_churn_accepted": bool(churn) and accept_id_churn,
                },
                "sources": sources,
                **(extra or {}),
                "files": file_hashes(tmp),
            }
            (tmp / MANIFEST_FILE).write_text(json.dumps(manifest, indent=2, default=str) + "\n")
            _fsync_tree(tmp)
            final = root / version
            os.rename(tmp, final)
            point_latest(root, version)
            update_index(root)
            return Release(version, final, manifest)
        finally:
            if tmp.exists():
                shutil.rmtree(tmp, ignore_errors=True)


def update_index(root: Path) -> None:
    """Rewrite the download site's index.json. The release is already published and
    `latest`, so a failure here is logged, not raised; the next release rewrites it."""
    from pipeline.site import write_index  # site reads releases through this module

    try:
        write_index(root)
    except (OSError, KeyError, ValueError) as error:
        LOG.error(f"release published, but {root / 'index.json'} was not updated: {error}")


def record_changes(database: Path, previous: Release | None, version: str) -> changes.Diff:
    """Diff the new release file against the previous release's and store the rows in its
    `changes` table. A previous release whose file cannot be read stops the release: a
    release is not published without its diff."""
    with writing_connection(database) as con:
        if previous is None:
            con.execute("ATTACH ':memory:' AS previous")
        else:
            try:
                con.execute(
                    f"ATTACH '{sql_text(str(previous.path / DUCKDB_FILE))}' AS previous (READ_ONLY)"
                )
            except duckdb.Error as error:
                raise ReleaseError(
                    f"cannot diff against release {previous.version}: "
                    f"{previous.path / DUCKDB_FILE}: {error}"
                ) from error
        (current,) = con.execute("SELECT current_database()").fetchone() or ("",)
        found = changes.diff(
            con, "previous", current, previous.version if previous else None, version
        )
        con.execute("DETACH previous")
        con.register("frame", found.rows)
        con.execute(
            f"CREATE TABLE {changes.CHANGES_TABLE} AS SELECT "
            + ", ".join(f"CAST({c} AS VARCHAR) AS {c}" for c in changes.COLUMNS)
            + " FROM frame"
        )
        con.unregister("frame")
        con.execute(
            f"COMMENT ON TABLE {changes.CHANGES_TABLE} IS '{sql_text(changes.DESCRIPTION)}'"
        )
        for column, text in changes.COLUMN_DOCS.items():
            con.execute(f"COMMENT ON COLUMN {changes.CHANGES_TABLE}.{column} IS '{sql_text(text)}'")
        con.execute("CHECKPOINT")
    return found


def check_id_churn(
    found: changes.Diff, previous: Release | None, accepted: bool
) -> dict[str, float]:
    """Stop a release whose stable ids moved for more than changes.MAX_ID_CHURN of a table's
    previous rows, unless a person accepted it (`citydip release --accept-id-churn`)."""
    if previous is None:
        return {}
    before = {t: int(v.get("rows", 0)) for t, v in previous.manifest.get("tables", {}).items()}
    churn = changes.id_churn(found, before)
    if churn and not accepted:
        shares = ", ".join(f"{t} {share:.1%}" for t, share in churn.items())
        moved = found.rows[
            (found.rows["change"] == "id_changed") & found.rows["table_name"].isin(churn)
        ]
        examples = "; ".join(
            f"{r.table_name} {r.previous_id} -> {r.row_id}" for r in moved.head(10).itertuples()
        )
        raise IdChurnError(
            f"stable ids changed since release {previous.version} for {shares} of the rows "
            f"(more than {changes.MAX_ID_CHURN:.0%}), {len(moved)} in all, e.g. {examples}. "
            "If the change is intended, release again with --accept-id-churn (then `citydip "
            f"diff {previous.version} latest --rows` lists every id_changed row)"
        )
    return churn


def write_sample(
    folder: Path,
    tables: Mapping[str, pd.DataFrame],
    docs: list[TableDoc],
    info: Mapping[str, str],
    sources: list[dict[str, Any]],
) -> None:
    """sample/: the release's layout (DuckDB file with views, Parquet files,
    datapackage.json) for the sample countries only."""
    folder.mkdir()
    sample = sample_tables(tables)
    sample_info = {**info, "sample_of": f"countries {', '.join(SAMPLE_COUNTRIES)}"}
    write_duckdb(folder / DUCKDB_FILE, sample, docs, sample_info)
    write_parquet(folder / DUCKDB_FILE, folder / "parquet", sample_info)
    write_datapackage(folder, docs, sample_info, sources)


def write_datapackage(
    folder: Path, docs: list[TableDoc], info: Mapping[str, str], sources: list[dict[str, Any]]
) -> None:
    """datapackage.json for the Parquet files in `folder`, fields in the files' order."""
    with duckdb.connect(str(folder / DUCKDB_FILE), read_only=True) as con:
        columns: dict[str, list[str]] = {}
        for table, column in con.execute(
            "SELECT table_name, column_name FROM duckdb_columns() ORDER BY column_index"
        ).fetchall():
            columns.setdefault(table, []).append(column)
    descriptor = datapackage(
        docs, file_hashes(folder / "parquet", "parquet"), info, sources, columns
    )
    (folder / DATAPACKAGE_FILE).write_text(json.dumps(descriptor, indent=2) + "\n")


# DuckDB takes up to 80% of the machine's memory by default, on top of the tables the
# build holds in pandas; the diff against the previous release joined every table's old
# and new rows and added 5 GB at 100 times the sources' size. Past this much it spills
# to a temporary folder beside the file, inside the release being assembled (so within
# the warehouse), removed when the connection closes, before the files are hashed.
DUCKDB_MEMORY_LIMIT = "2GB"


@contextmanager
def writing_connection(
    database: Path, read_only: bool = False
) -> Iterator[duckdb.DuckDBPyConnection]:
    """A connection to a release file being written, under DUCKDB_MEMORY_LIMIT."""
    with tempfile.TemporaryDirectory(prefix=".duckdb-spill-", dir=database.parent) as spill:
        config: dict[str, str | bool | int | float | list[str]] = {
            "memory_limit": DUCKDB_MEMORY_LIMIT,
            "temp_directory": spill,
        }
        with duckdb.connect(str(database), read_only=read_only, config=config) as con:
            yield con


def write_duckdb(
    path: Path,
    tables: Mapping[str, pd.DataFrame],
    docs: list[TableDoc] | None = None,
    info: Mapping[str, str] | None = None,
) -> None:
    """The tables, each table and column commented with its dictionary entry, and a
    `release_info` table (key, value) saying which release and schema the file is."""
    with writing_connection(path) as con:
        for name in TABLES:
            con.register("frame", tables[name])
            con.execute(f'CREATE TABLE "{name}" AS SELECT * FROM frame')
            con.unregister("frame")
        for doc in docs or []:  # COMMENT ON takes no parameters: literals, quoted
            con.execute(f"COMMENT ON TABLE \"{doc.name}\" IS '{sql_text(doc.description)}'")
            present = {row[0] for row in con.execute(f'DESCRIBE "{doc.name}"').fetchall()}
            for column in (c for c in doc.columns if c.name in present):
                con.execute(
                    f'COMMENT ON COLUMN "{doc.name}"."{column.name}" IS '
                    f"'{sql_text(column.description)}'"
                )
        create_views(con)
        con.execute("CREATE TABLE release_info (key VARCHAR, value VARCHAR)")
        if info:
            con.executemany("INSERT INTO release_info VALUES (?, ?)", list(info.items()))
        con.execute("COMMENT ON TABLE release_info IS 'Which release and schema this file is.'")
        con.execute(
            "COMMENT ON COLUMN release_info.key IS 'version, schema_version, created_at, "
            "git_commit, licence or edition.'"
        )
        con.execute("COMMENT ON COLUMN release_info.value IS 'Its value, as text.'")
        con.execute("CHECKPOINT")


def write_parquet(database: Path, folder: Path, info: Mapping[str, str] | None = None) -> None:
    """One zstd Parquet file per table, written by DuckDB from the release's own file, with
    the release's version, schema version and licence in its key-value metadata."""
    folder.mkdir()
    metadata = ", ".join(f"{key}: '{sql_text(value)}'" for key, value in (info or {}).items())
    options = "FORMAT parquet, COMPRESSION zstd" + (
        f", KV_METADATA {{{metadata}}}" if metadata else ""
    )
    with writing_connection(database, read_only=True) as con:
        for name in TABLES:
            target = sql_text(str(folder / f"{name}.parquet"))
            con.execute(f"COPY \"{name}\" TO '{target}' ({options})")


def sql_text(text: str) -> str:
    """Text inside a single-quoted SQL literal."""
    return text.replace("'", "''")


def file_hashes(folder: Path, prefix: str = "") -> list[dict[str, Any]]:
    """Path (under `prefix`), bytes and sha256 of every file below `folder`."""
    entries = []
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        entries.append(
            {
                "path": "/".join(filter(None, [prefix, path.relative_to(folder).as_posix()])),
                "bytes": path.stat().st_size,
                "sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
            }
        )
    return entries


def sources_manifest(sources: pd.DataFrame) -> list[dict[str, Any]]:
    records = sources.astype(object).where(sources.notna(), None).to_dict("records")
    return [{str(k): v for k, v in r.items()} for r in records]


def point_latest(root: Path, version: str) -> None:
    """Swap the `latest` symlink in one rename, so readers see the old or the new release."""
    tmp_link = root / f".latest-{uuid.uuid4().hex[:8]}"
    os.symlink(version, tmp_link)
    os.replace(tmp_link, root / LATEST)


def _fsync_tree(folder: Path) -> None:
    for path in folder.rglob("*"):
        if path.is_file():
            with open(path, "rb") as handle:
                os.fsync(handle.fileno())
