"""`citydip`: build releases, import downloaded files, resolve a user's city list, list
snapshots and releases, download a published release, verify one and query one.

Only `release` and `dev` import Dagster (about 2 s of start-up); `import`, `resolve`,
`sources`, `releases`, `download`, `verify` and `query` stay light.
"""

from __future__ import annotations

import argparse
import csv
import math
import os
import sys
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

from assets.sources import number
from pipeline import paths
from pipeline.exports import write_csv
from pipeline.publish import (
    DUCKDB_FILE,
    Release,
    ReleaseLockedError,
    latest_release,
    list_releases,
    release_lock,
    sql_text,
)
from pipeline.snapshots import Facts, SnapshotError, SnapshotStore, read_verified

if TYPE_CHECKING:
    import dagster as dg


def source_module(slug: str) -> ModuleType:
    """The module of a source users import files of."""
    from assets.sources.catalog import IMPORTABLE, module

    if slug == "registry":
        raise SystemExit(
            "citydip: the registry is not imported: edit the CSV files in raw/registry/ "
            "and commit them"
        )
    found = module(slug)
    if found is None or slug not in IMPORTABLE:
        raise SystemExit(f"citydip: unknown source {slug!r}; sources: {', '.join(IMPORTABLE)}")
    return found


def cmd_import(args: argparse.Namespace) -> int:
    """Store a hand-downloaded file as a snapshot, after checking its parser accepts it."""
    from assets.sources import ParseError
    from assets.sources.network_members import list_date

    module = source_module(args.source)
    path = Path(args.file)
    if not path.is_file():
        print(f"citydip: no such file: {path}", file=sys.stderr)
        return 2
    dated = getattr(module, "DATED", False)  # a member list: each file is as of a date
    if args.as_of and not dated:
        print(f"citydip: --as-of is for member lists, not {args.source}", file=sys.stderr)
        return 2
    try:
        if dated:
            counted = module.check_import(path.name, path.read_bytes(), args.as_of)
        else:
            counted = module.check_import(path.name, path.read_bytes())
        snapshot, created = SnapshotStore(paths.raw_dir()).store_file(
            args.source,
            path,
            licence=module.SOURCE.licence,
            as_of=list_date(path.name, args.as_of) if dated else None,
            # a fetched source's checker counts rows, which its next fetch is compared with
            facts=Facts(rows=counted if isinstance(counted, int) else None),
        )
    except (ParseError, SnapshotError, ValueError) as error:
        print(f"citydip: not imported: {error}", file=sys.stderr)
        return 1
    if created:
        as_of = f" (as of {snapshot.as_of})" if snapshot.as_of else ""
        print(f"stored {path.name} as {args.source} snapshot {snapshot.snapshot_id}{as_of}")
    else:
        print(f"unchanged: {path.name} equals {args.source} snapshot {snapshot.snapshot_id}")
    print(f"  {snapshot.path}  sha256 {snapshot.sha256}  {snapshot.bytes} bytes")
    return 0


def cmd_sources(args: argparse.Namespace) -> int:
    """Each source's newest snapshot per file, its age and its licence."""
    from assets.sources import ParseError, registry
    from assets.sources.catalog import MODULES

    store = SnapshotStore(paths.raw_dir())
    now = datetime.now(UTC)
    print(f"{'source':<18} {'file':<34} {'snapshot':<40} {'age':>6}  licence")
    # what a build does without a stored file of the source
    without = {"geonames": "bundled copy used", "wikidata": "no Wikidata rows"}
    for module in MODULES:
        if module is registry:
            continue
        slug, licence = module.SOURCE.slug, module.SOURCE.licence
        meaning = without.get(slug, "no rows from it")
        snapshots = store.snapshots(slug)
        names = sorted({s.file_name for s in snapshots})
        if not names:
            print(f"{slug:<18} {'-':<34} {f'none stored ({meaning})':<40} {'-':>6}  {licence}")
        for name in names:
            newest = store.latest(slug, name)
            assert newest is not None
            taken = datetime.fromisoformat(newest.retrieved_at.replace("Z", "+00:00"))
            age = f"{(now - taken).days}d"
            print(f"{slug:<18} {name:<34} {newest.snapshot_id:<40} {age:>6}  {licence}")
    try:
        files = registry.select_files(paths.raw_dir() / "registry")
    except ParseError as error:
        print(f"registry   {error}")
        return 1
    for file in files.values():
        print(
            f"{'registry':<18} {file.file_name:<34} {file.snapshot_id:<40} {'-':>6}  "
            f"{registry.SOURCE.licence}"
        )
    return 0


RESOLVE_COLUMNS = (
    "city_id",
    "geonames_id",
    "wikidata_qid",
    "matched_name",
    "latitude",
    "longitude",
    "method",
    "confidence",
    "reason",
)


def load_resolver(gazetteer: str) -> tuple[Any, str]:
    """The resolver over the gazetteer a release would use now (the newest snapshot, or the
    bundled copy), and a line saying which one it is."""
    from assets.resolve import Resolver
    from assets.sources import geonames

    files = geonames.select_files(SnapshotStore(paths.raw_dir()), gazetteer)
    frames = {
        role: geonames.parse_file(read_verified(Path(file.path), file.sha256), file)
        for role, file in files.items()
        if file is not None
    }
    resolver = Resolver.from_frames(frames["cities"], frames["countries"], frames.get("admin1"))
    resolver.freeze()
    cities = files["cities"]
    assert cities is not None
    return resolver, f"gazetteer {cities.snapshot_id} ({len(frames['cities'])} places)"


def cmd_resolve(args: argparse.Namespace) -> int:
    """Append a GeoNames identity to every row of a user's CSV; empty, with the reason,
    where the city is unresolved, ambiguous or in conflict with the row's coordinates."""
    with open(args.input, newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        header = list(reader.fieldnames or [])
        rows = list(reader)
    wanted = [args.name_col, args.country_col, args.admin1_col, args.lat_col, args.lon_col]
    wanted.append(args.population_col)
    unknown = [c for c in wanted if c and c not in header]
    if unknown:
        print(f"citydip: {args.input} has no column {unknown[0]!r} ({header})", file=sys.stderr)
        return 2
    clashing = [c for c in RESOLVE_COLUMNS if c in header]
    if clashing:
        print(f"citydip: {args.input} already has a column {clashing[0]!r}", file=sys.stderr)
        return 2
    if bool(args.lat_col) != bool(args.lon_col):
        print("citydip: give both --lat-col and --lon-col, or neither", file=sys.stderr)
        return 2
    resolver, which = load_resolver(args.gazetteer)
    methods: dict[str, int] = {}
    write_csv(sys.stdout, [*header, *RESOLVE_COLUMNS], resolved_rows(args, rows, resolver, methods))
    summary = ", ".join(f"{m} {n}" for m, n in sorted(methods.items()))
    print(f"citydip: resolved {len(rows)} rows against {which}: {summary}", file=sys.stderr)
    return 0


def resolved_rows(
    args: argparse.Namespace, rows: list[dict[str, str]], resolver: Any, methods: dict[str, int]
) -> Iterator[dict[str, object]]:
    """Each input row with the RESOLVE_COLUMNS appended; `methods` counts the outcomes."""
    for row in rows:
        latitude = number(row.get(args.lat_col)) if args.lat_col else None
        longitude = number(row.get(args.lon_col)) if args.lon_col else None
        found = resolver.resolve(
            row[args.name_col],
            row[args.country_col],
            (row.get(args.admin1_col) or None) if args.admin1_col else None,
            latitude,
            longitude,
            population=number(row.get(args.population_col)) if args.population_col else None,
        )
        methods[found.method] = methods.get(found.method, 0) + 1
        extra: dict[str, object] = {c: "" for c in RESOLVE_COLUMNS}
        extra.update(method=found.method, reason=found.reason or "")
        if found.geonames_id is not None:
            name, lat, lon = resolver.place(found.geonames_id)
            extra.update(
                city_id=found.city_id,
                geonames_id=found.geonames_id,
                matched_name=name,
                latitude=lat,
                longitude=lon,
                confidence=f"{found.confidence:.2f}",
            )
        yield {**row, **extra}


def cmd_releases(args: argparse.Namespace) -> int:
    """Published releases of an edition with their row counts; the latest is marked."""
    full = args.edition == "full"
    root = paths.full_releases_dir() if full else paths.releases_dir()
    releases = list_releases(root)
    if not releases:
        command = "citydip release" + (" --edition full" if full else "")
        print(f"no releases in {root}; build one with `{command}`")
        return 0
    latest = latest_release(root)
    for release in releases:
        marker = "*" if latest and latest.version == release.version else " "
        counts = ", ".join(
            f"{name} {info['rows']}" for name, info in release.manifest["tables"].items()
        )
        print(f"{marker} {release.version:<14} {release.manifest['created_at']}  {counts}")
    print(f"(* = latest: {root / 'latest'})")
    return 0


def cmd_download(args: argparse.Namespace) -> int:
    """Copy one release from a download site (a URL or a folder), every file checked."""
    from pipeline.site import DownloadError, download

    try:
        download(args.source, Path(args.to), args.version, say=print)
    except (DownloadError, OSError) as error:
        print(f"citydip: not downloaded: {error}", file=sys.stderr)
        return 1
    return 0


def find_release(name: str, edition: str) -> Path | None:
    """A release folder: a path first, else a version (or `latest`) of the edition's
    releases; None, said on stderr, when there is neither."""
    root = paths.full_releases_dir() if edition == "full" else paths.releases_dir()
    if not name.isprintable():  # NUL, a newline, a bidirectional override...
        print(f"citydip: no release {name!r}: the name has a control character", file=sys.stderr)
        return None
    folder = next((f for f in (Path(name), root / name) if f.is_dir()), None)
    if folder is None:
        print(
            f"citydip: no release {name!r}: not a folder, nor a release in {root}", file=sys.stderr
        )
        return None
    return folder.resolve()


def cmd_diff(args: argparse.Namespace) -> int:
    """What changed from release A to release B: schema changes, then counts per table;
    with --rows, every changed row as CSV."""
    import duckdb

    from pipeline.changes import COLUMNS, ROW_CHANGES, diff

    old, new = find_release(args.old, args.edition), find_release(args.new, args.edition)
    if old is None or new is None:
        return 2
    with duckdb.connect() as con:
        for alias, folder in (("a", old), ("b", new)):
            try:
                con.execute(
                    f"ATTACH '{sql_text(str(folder / DUCKDB_FILE))}' AS {alias} (READ_ONLY)"
                )
            except duckdb.Error as error:
                print(f"citydip: cannot read {folder / DUCKDB_FILE}: {error}", file=sys.stderr)
                return 2
        found = diff(con, "a", "b", old.name, new.name)
    if args.rows:
        records = found.rows.astype(object).where(found.rows.notna(), None)
        write_csv(sys.stdout, COLUMNS, records.to_dict("records"))
        return 0
    print(f"changes from {old.name} to {new.name}")
    for line in found.schema_changes():
        print(f"  schema: {line}")
    print(f"  {'table':<20}" + "".join(f"{c:>12}" for c in ROW_CHANGES))
    for table, counts in found.counts().items():
        print(f"  {table:<20}" + "".join(f"{counts[c]:>12}" for c in ROW_CHANGES))
    return 0


def cmd_verify(args: argparse.Namespace) -> int:
    """Re-check a release folder's files against its manifest.json."""
    from pipeline.site import verify_release

    folder = find_release(args.release, args.edition)
    if folder is None:
        return 2
    problems = verify_release(folder)
    for problem in problems:
        print(f"{folder.name}: {problem}", file=sys.stderr)
    if problems:
        print(
            f"citydip: release {folder.name} at {folder} failed: {len(problems)} problem(s)",
            file=sys.stderr,
        )
        return 1
    print(f"release {folder.name} at {folder}: every file matches manifest.json")
    return 0


def cmd_query(args: argparse.Namespace) -> int:
    """One reading query on a release under DuckDB's own limits (pipeline.query): the first
    --max-rows rows as a table, or every row as CSV."""
    import duckdb

    from pipeline import query

    folder = find_release(args.release, args.edition)
    if folder is None:
        return 2
    database = folder / DUCKDB_FILE
    if not database.is_file():
        print(f"citydip: release {folder.name} has no {DUCKDB_FILE} at {folder}", file=sys.stderr)
        return 2
    if args.csv and args.csv != "-":
        target = Path(args.csv).resolve()
        if target.is_relative_to(folder):  # a published release is never modified
            print(f"citydip: --csv {args.csv} is inside the release folder", file=sys.stderr)
            return 2
        if not target.parent.is_dir():
            print(f"citydip: --csv {args.csv}: no folder {target.parent}", file=sys.stderr)
            return 2
    sql = sys.stdin.read() if args.sql == "-" else args.sql
    try:
        con = query.connect(database, args.memory_limit)
    except duckdb.Error as error:
        print(f"citydip: cannot open {database}: {error}", file=sys.stderr)
        return 2
    with con:
        try:
            statement = query.reading_statement(con, sql)
            with query.time_bound(con, args.timeout):
                con.execute(statement)
                if args.csv:
                    return query.write_result_csv(con, args.csv)
                if statement.type == duckdb.StatementType.EXPLAIN:
                    query.print_plan(con)
                else:
                    query.print_table(con, args.max_rows)
                return 0
        except query.QueryRefused as error:
            print(f"citydip: query refused: {error}", file=sys.stderr)
            return 2
        except query.QueryTimeout as error:
            print(f"citydip: {error} (--timeout {args.timeout:g}); stopped", file=sys.stderr)
            return 1
        except duckdb.PermissionException as error:  # what the settings keep out
            print(f"citydip: query refused: {error}", file=sys.stderr)
            return 2
        except duckdb.OutOfMemoryException as error:
            print(f"citydip: query failed: {error}", file=sys.stderr)
            print(f"citydip: (the limit is --memory-limit {args.memory_limit})", file=sys.stderr)
            return 1
        except duckdb.Error as error:
            print(f"citydip: query failed: {error}", file=sys.stderr)
            return 1
        except OSError as error:  # writing --csv
            print(f"citydip: cannot write {args.csv}: {error}", file=sys.stderr)
            return 1


def use_dagster_home() -> Path:
    """Point Dagster at the project's instance (run history persists between commands);
    telemetry is off because the project's machines have no network."""
    home = paths.dagster_home()
    home.mkdir(parents=True, exist_ok=True)
    config = home / "dagster.yaml"
    if not config.exists():
        config.write_text("telemetry:\n  enabled: false\n")
    os.environ["DAGSTER_HOME"] = str(home)
    return home


def cmd_dev(args: argparse.Namespace) -> int:
    """`dagster dev` on the project's workspace and instance: the UI plus the daemon."""
    use_dagster_home()
    dagster = Path(sys.executable).parent / "dagster"
    workspace = paths.PROJECT_ROOT / "workspace.yaml"
    os.chdir(paths.PROJECT_ROOT)
    os.execv(dagster, [str(dagster), "dev", "-w", str(workspace), *args.dagster_args])
    return 0  # not reached: execv replaces this process


def cmd_release(args: argparse.Namespace) -> int:
    """Run the `release` job (or `refresh`) in-process on the project's Dagster instance, so
    the run shows in the UI's history. One at a time per data home: a second run started
    meanwhile is refused at once (two at once raced to create the instance's database and
    one crashed). Without --refresh or --force, a build that would change nothing is not
    started at all."""
    home = use_dagster_home()
    from assets.sources.catalog import FETCHED

    if args.accept_shrink and not args.refresh:
        print("citydip: --accept-shrink is for a refresh (--refresh)", file=sys.stderr)
        return 2
    if unknown := sorted(set(args.accept_shrink) - set(FETCHED)):
        print(
            f"citydip: --accept-shrink {', '.join(unknown)}: not a fetched source "
            f"({', '.join(FETCHED)})",
            file=sys.stderr,
        )
        return 2
    full = args.edition == "full"
    releases = paths.full_releases_dir() if full else paths.releases_dir()
    if not (args.refresh or args.force) and (same := unchanged_since(releases, args.edition)):
        print(
            f"nothing changed since release {same.version} (the same source files, registry "
            "and pipeline code): nothing built, nothing published; --force builds anyway"
        )
        return 0
    import dagster as dg

    try:
        with release_lock(home), dg.DagsterInstance.get() as instance:
            result = execute(
                "refresh" if args.refresh else "release", instance, release_run_config(args)
            )
    except ReleaseLockedError:
        print(
            f"citydip: another `citydip release` is running on the instance in {home}; "
            "nothing was done, try again when it has finished",
            file=sys.stderr,
        )
        return 1
    failures = [
        f"{event.step_key}: {root_cause(event.event_specific_data.error)}"  # type: ignore[union-attr]
        for event in result.all_events
        if event.is_step_failure
    ]
    failed_checks = [
        evaluation.check_name
        for evaluation in result.get_asset_check_evaluations()
        if not evaluation.passed and evaluation.severity == dg.AssetCheckSeverity.ERROR
    ]
    if not result.success or failures or failed_checks:
        print(
            f"citydip: {result.job_def.name} failed (run {result.run_id}); no release published",
            file=sys.stderr,
        )
        for line in failures:
            print(f"  step {line}", file=sys.stderr)
        for name in failed_checks:
            print(f"  check failed: {name}", file=sys.stderr)
        return 1
    latest = latest_release(releases)
    assert latest is not None
    if not result.asset_materializations_for_node("publish_release"):
        print(
            f"nothing changed since release {latest.version} (the same source files, registry "
            f"and pipeline code): nothing published (run {result.run_id}); --force builds anyway"
        )
        return 0
    print(
        f"published the {args.edition} edition of release {latest.version} at {latest.path} "
        f"(run {result.run_id})"
    )
    if full:
        print(f"  {latest.manifest['redistribution']}")
    for note in latest.manifest.get("notes", []):
        print(f"  note: {note}")
    return 0


def execute(
    job_name: str, instance: dg.DagsterInstance, run_config: dict[str, Any]
) -> dg.JobExecutionResult:
    """Run a job of the code location in this process, as the daemon's run worker does.

    Not JobDefinition.execute_in_process: that keeps every step's output in memory until
    the run ends, for tests to read back, and a build's outputs are every table twice
    over (at a hundred times the sources' size, gigabytes). dg.execute_job stores them
    with the IO manager only."""
    import dagster as dg

    from pipeline import definitions

    target = definitions.refresh_job_def if job_name == "refresh" else definitions.release_job_def
    return dg.execute_job(
        dg.reconstructable(target), instance=instance, run_config=run_config, raise_on_error=False
    )


def unchanged_since(releases: Path, edition: str) -> Release | None:
    """The latest release if it was built from the stored snapshots, registry and code a
    build would read now: checked before Dagster is even imported, so a no-op costs
    about 3 s. A file that cannot be read is left to the run, which reports it with its
    step, as every build failure is reported."""
    from assets.sources import ParseError
    from pipeline.inputs import fingerprint, selected_files, unchanged_release

    try:
        files = selected_files(SnapshotStore(paths.raw_dir()), paths.raw_dir() / "registry")
    except (ParseError, SnapshotError, OSError):
        return None
    return unchanged_release(releases, fingerprint(files, edition))


def release_run_config(args: argparse.Namespace) -> dict[str, Any]:
    """The run config `citydip release` gives the job: log level, edition, and what the
    operator acknowledged (id churn, a source's shrink)."""
    ops: dict[str, Any] = {
        "publish_release": {
            "config": {"edition": args.edition, "accept_id_churn": args.accept_id_churn}
        }
    }
    if args.force:
        ops["build_inputs"] = {"config": {"force": True}}
    for source in args.accept_shrink:
        ops[f"raw_{source}"] = {"config": {"fetch": True, "accept_shrink": True}}
    return {"loggers": {"console": {"config": {"log_level": args.log_level}}}, "ops": ops}


def root_cause(error: Any) -> str:
    """The project's own message inside Dagster's wrapper (a SerializableErrorInfo chain)."""
    while error.cause is not None:
        error = error.cause
    return str(error.message).strip()


def count(text: str) -> int:
    """A whole number of at least 0, for argparse."""
    if not (text.isascii() and text.isdigit()):
        raise argparse.ArgumentTypeError(f"not a whole number of at least 0: {text!r}")
    return int(text)


def seconds(text: str) -> float:
    """A positive, finite number of seconds a timer can wait, for argparse."""
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not 0 < value <= threading.TIMEOUT_MAX:  # False for NaN
        raise argparse.ArgumentTypeError(f"not a positive number of seconds: {text!r}")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="citydip", description="The city diplomacy open dataset: build and inspect releases."
    )
    sub = parser.add_subparsers(dest="command", required=True)
    release = sub.add_parser("release", help="build and publish a release from stored snapshots")
    release.add_argument(
        "--refresh", action="store_true", help="fetch every live source first (needs network)"
    )
    release.add_argument(
        "--log-level", default="INFO", choices=["DEBUG", "INFO", "WARNING", "ERROR"]
    )
    release.add_argument(
        "--edition",
        default="open",
        choices=["open", "full"],
        help="open (default): only sources whose terms allow redistribution, in "
        "warehouse/releases/; full: every source, in warehouse/full/, not for redistribution",
    )
    release.add_argument(
        "--force",
        action="store_true",
        help="build and publish even when no source file, registry file or pipeline code "
        "changed since the latest release (by default such a run publishes nothing)",
    )
    release.add_argument(
        "--accept-id-churn",
        action="store_true",
        help="publish even though more than 1%% of a table's rows changed stable id since the "
        "previous release (read `citydip diff` first)",
    )
    release.add_argument(
        "--accept-shrink",
        action="append",
        default=[],
        metavar="SOURCE",
        help="with --refresh: store SOURCE's fetch even though it has over 20%% fewer rows "
        "than its last snapshot (check the source first; repeat for several sources)",
    )
    release.set_defaults(func=cmd_release)
    dev = sub.add_parser("dev", help="the Dagster UI and daemon on this project")
    dev.add_argument("dagster_args", nargs=argparse.REMAINDER, help="passed to `dagster dev`")
    dev.set_defaults(func=cmd_dev)
    imported = sub.add_parser("import", help="store a hand-downloaded file as a snapshot")
    imported.add_argument("source", help="source slug (citydip sources lists them)")
    imported.add_argument("file", help="the downloaded file")
    imported.add_argument(
        "--as-of",
        help="for a member list: the date it is from (YYYY-MM or YYYY-MM-DD), when its "
        "file name does not say",
    )
    imported.set_defaults(func=cmd_import)
    resolve = sub.add_parser(
        "resolve", help="add GeoNames city ids to a CSV of your own (written to stdout)"
    )
    resolve.add_argument("input", help="a UTF-8 CSV file with a header row")
    resolve.add_argument("--name-col", required=True, help="column with the city name")
    resolve.add_argument("--country-col", required=True, help="column with the country")
    resolve.add_argument(
        "--admin1-col",
        help="column with the first-level subdivision: GeoNames admin1 code, ISO 3166-2 code "
        "('ON', 'CA-ON') or name ('Ontario')",
    )
    resolve.add_argument("--lat-col", help="column with the latitude (with --lon-col)")
    resolve.add_argument("--lon-col", help="column with the longitude (with --lat-col)")
    resolve.add_argument(
        "--population-col",
        help="column with the city's population, to tell namesakes apart and refuse a match "
        "50 times bigger or smaller",
    )
    resolve.add_argument(
        "--gazetteer", default="cities500", help="GeoNames gazetteer (as releases use)"
    )
    resolve.set_defaults(func=cmd_resolve)
    sub.add_parser("sources", help="each source's snapshots, age and licence").set_defaults(
        func=cmd_sources
    )
    releases = sub.add_parser("releases", help="published releases with row counts")
    releases.add_argument(
        "--edition", default="open", choices=["open", "full"], help="which edition's releases"
    )
    releases.set_defaults(func=cmd_releases)
    fetched = sub.add_parser(
        "download", help="copy a published release from a download site, every file checked"
    )
    fetched.add_argument(
        "--from",
        dest="source",
        required=True,
        help="the site: its base URL (http or https, where index.json is) or a local folder",
    )
    fetched.add_argument("--to", required=True, help="folder to put <version>/ in")
    fetched.add_argument("--version", help="release version (default: the site's latest)")
    fetched.set_defaults(func=cmd_download)
    verify = sub.add_parser("verify", help="re-check a release folder against its manifest")
    verify.add_argument(
        "release", help="a release folder, or a version (or `latest`) of the edition's releases"
    )
    verify.add_argument(
        "--edition", default="open", choices=["open", "full"], help="where a version is looked up"
    )
    verify.set_defaults(func=cmd_verify)
    changes = sub.add_parser("diff", help="what changed between two releases")
    changes.add_argument("old", help="the earlier release: a folder, or a version")
    changes.add_argument("new", help="the later release: a folder, a version or `latest`")
    changes.add_argument("--rows", action="store_true", help="every changed row, as CSV")
    changes.add_argument(
        "--edition", default="open", choices=["open", "full"], help="where versions are looked up"
    )
    changes.set_defaults(func=cmd_diff)
    ask = sub.add_parser("query", help="run one read-only SQL query on a release")
    ask.add_argument(
        "release",
        nargs="?",
        default="latest",
        help="a release folder, or a version (default: latest) of the edition's releases",
    )
    ask.add_argument("sql", help="one SELECT (WITH, DESCRIBE, SHOW, ...); - reads it from stdin")
    ask.add_argument(
        "--edition", default="open", choices=["open", "full"], help="where a version is looked up"
    )
    ask.add_argument(
        "--csv", metavar="FILE", help="write every row as CSV to FILE (- for stdout), not a table"
    )
    ask.add_argument(
        "--max-rows", type=count, default=100, metavar="N", help="rows the table shows (100)"
    )
    ask.add_argument(
        "--timeout", type=seconds, default=60.0, metavar="S", help="stop the query after S s (60)"
    )
    ask.add_argument(
        "--memory-limit", default="1GB", metavar="SIZE", help="DuckDB's memory limit (1GB)"
    )
    ask.set_defaults(func=cmd_query)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
