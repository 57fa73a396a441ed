"""Parsed layer: each source file read into a frame by its source module's pure parser."""

from collections.abc import Callable, Iterator
from pathlib import Path

import dagster as dg
import pandas as pd

from assets.sources import (
    TARGET_COLUMNS,
    Parsed,
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
from pipeline.snapshots import read_verified

# every parsed asset waits for the gate: when the build's inputs are those of the latest
# release, the gate yields nothing and all of them are skipped (assets.inputs)
GATE = "build_inputs"


def read_file(file: SourceFile) -> bytes:
    """The file's bytes, refused if they no longer match the recorded sha256."""
    return read_verified(Path(file.path), file.sha256)


def _metadata(frame: pd.DataFrame, file: SourceFile | None) -> dict:
    return {
        "dagster/row_count": len(frame),
        "snapshot_id": file.snapshot_id if file else "absent",
        "preview": dg.MetadataValue.md(frame.head(5).to_markdown(index=False)),
    }


def _report_unknown(
    context: dg.AssetExecutionContext, source: str, unknown: dict[str, list[str]]
) -> str:
    """Log a warning for each file with columns its parser does not know (they are not
    read: a source adding a column is reported, not failed); the same as metadata text."""
    for file_name, columns in unknown.items():
        if columns:
            context.log.warning(
                f"{source}: {file_name}: columns the parser does not know, not read: {columns}"
            )
    found = {name: columns for name, columns in unknown.items() if columns}
    if len(unknown) <= 1:
        return ", ".join(next(iter(found.values()), [])) or "none"
    return "; ".join(f"{name}: {', '.join(columns)}" for name, columns in found.items()) or "none"


@dg.asset(group_name="parsed", kinds={"pandas"}, deps=[GATE])
def parsed_geonames__cities(
    raw_geonames: dict[str, SourceFile | None],
) -> dg.Output[pd.DataFrame]:
    """The GeoNames gazetteer: one row per populated place (id, names, country, admin1,
    coordinates, population). An input for resolving cities, not a published table."""
    file = raw_geonames["cities"]
    assert file is not None
    frame = geonames.parse_file(read_file(file), file)
    frame["snapshot_id"] = file.snapshot_id
    return dg.Output(frame, metadata=_metadata(frame, file))


@dg.asset(group_name="parsed", kinds={"pandas"}, deps=[GATE])
def parsed_geonames__countries(
    raw_geonames: dict[str, SourceFile | None],
) -> dg.Output[pd.DataFrame]:
    """GeoNames countryInfo: one row per country (ISO2, ISO3, name, continent)."""
    file = raw_geonames["countries"]
    assert file is not None
    frame = geonames.parse_file(read_file(file), file)
    return dg.Output(frame, metadata=_metadata(frame, file))


@dg.asset(group_name="parsed", kinds={"pandas"}, deps=[GATE])
def parsed_geonames__admin1(
    raw_geonames: dict[str, SourceFile | None],
) -> dg.Output[pd.DataFrame]:
    """GeoNames admin1 codes: one row per first-level division ('US', 'CA' -> California).
    Empty when no admin1 snapshot is stored (the bundled copy has none)."""
    file = raw_geonames["admin1"]
    if file is None:
        frame = pd.DataFrame(
            {c: pd.Series(dtype="str") for c in ("country_code", "admin1_code", "admin1_name")}
        )
    else:
        frame = geonames.parse_file(read_file(file), file)
    return dg.Output(frame, metadata=_metadata(frame, file))


WIKIDATA_FRAMES = {
    "statements": "Wikidata's P190 (twinned administrative body) statements: one row per "
    "statement with rank, start and end, references and snapshot_id.",
    "memberships": "Wikidata's P463 (member of) statements naming a registry network's QID, "
    "as the statements.",
    "items": "The Wikidata items the statements link (twinned places, network members): "
    "label, ISO country, point, GeoNames id, population, kinds and snapshot_id.",
    "network_items": "The Wikidata items of the QIDs the registry gives its networks, as "
    "fetched (an absent one was not found).",
    "network_candidates": "Items whose English label or alias is a registry network's name "
    "or acronym: candidates for review.",
}


@dg.multi_asset(
    group_name="parsed",
    deps=[GATE],
    outs={
        f"parsed_wikidata__{name}": dg.AssetOut(kinds={"pandas"}, description=description)
        for name, description in WIKIDATA_FRAMES.items()
    },
)
def parsed_wikidata(
    raw_wikidata: dict[str, SourceFile | None], parsed_registry__networks: pd.DataFrame
) -> Iterator[dg.Output[pd.DataFrame]]:
    """Every frame from the stored fetch; empty (with their columns) when none is stored."""
    file = raw_wikidata["bundle"]
    fetched = (
        wikidata.Fetched([], {}, {})
        if file is None
        else wikidata.read_bundle(read_file(file), file.file_name)
    )
    network_qids = set(parsed_registry__networks["wikidata_qid"].dropna())
    frames = {
        "statements": wikidata.statements_frame(fetched),
        "memberships": wikidata.memberships_frame(fetched),
        "items": wikidata.items_frame(fetched, wikidata.linked_qids(fetched)),
        "network_items": wikidata.items_frame(fetched, network_qids),
        "network_candidates": wikidata.network_candidates_frame(fetched),
    }
    snapshot_id = file.snapshot_id if file else None
    for name, frame in frames.items():
        frame = frame.assign(snapshot_id=snapshot_id)
        yield dg.Output(
            frame, output_name=f"parsed_wikidata__{name}", metadata=_metadata(frame, file)
        )


@dg.multi_asset(
    group_name="parsed",
    deps=[GATE],
    outs={
        "parsed_net_zero_tracker__targets": dg.AssetOut(
            kinds={"pandas"},
            description="Each end or interim target a city row of the Net Zero Tracker "
            "export states, with its category, year, status, baseline, percentage and text.",
        ),
        "parsed_net_zero_tracker__assessments": dg.AssetOut(
            kinds={"pandas"},
            description="Each city row of the export, 'No target' included: what the "
            "Tracker states for the city's end and interim targets.",
        ),
    },
)
def parsed_net_zero_tracker(
    context: dg.AssetExecutionContext, raw_net_zero_tracker: dict[str, SourceFile | None]
) -> Iterator[dg.Output[pd.DataFrame]]:
    """The export's city rows; regions, countries and companies are counted, not read."""
    file = raw_net_zero_tracker["export"]
    if file is None:
        export = net_zero_tracker.Export(
            pd.DataFrame(columns=[*net_zero_tracker.READ_COLUMNS, "source_row", "citation"]),
            {},
            [],
        )
    else:
        export = net_zero_tracker.parse_export(read_file(file), file.file_name)
    unknown = _report_unknown(
        context,
        net_zero_tracker.SOURCE.slug,
        {file.file_name: export.unknown_columns} if file else {},
    )
    frames = {
        "targets": net_zero_tracker.city_targets(export.cities),
        "assessments": net_zero_tracker.city_assessments(export.cities),
    }
    for name, frame in frames.items():
        frame = frame.assign(
            source=net_zero_tracker.SOURCE.slug, snapshot_id=file.snapshot_id if file else None
        )
        metadata = _metadata(frame, file)
        metadata["rows_not_cities"] = dg.MetadataValue.json(export.skipped)
        metadata["unknown_columns"] = unknown
        yield dg.Output(frame, output_name=f"parsed_net_zero_tracker__{name}", metadata=metadata)


def member_lists_asset(slug: str) -> dg.AssetsDefinition:
    """parsed_<slug>__members: the rows of every stored list of one member list source."""
    module = {m.SOURCE.slug: m for m in (network_members, eurocities_members)}[slug]

    @dg.asset(
        name=f"parsed_{slug}__members",
        group_name="parsed",
        deps=[GATE],
        kinds={"pandas"},
        ins={"files": dg.AssetIn(f"raw_{slug}")},
        description=f"Every city the stored {slug} lists name, one row per list and city, "
        "with the list's date (as_of), source_row, source and snapshot_id.",
    )
    def _asset(
        context: dg.AssetExecutionContext, files: dict[str, SourceFile | None]
    ) -> dg.Output[pd.DataFrame]:
        frames, unknown = [], {}
        for file in files.values():
            if file is None:
                continue
            parsed = module.read_list(read_file(file), file)
            frames.append(parsed.frame.assign(snapshot_id=file.snapshot_id))
            unknown[file.file_name] = parsed.unknown_columns
        columns = [*network_members.MEMBER_COLUMNS, "snapshot_id"]
        frame = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=columns)
        frame["source"] = slug
        metadata = _metadata(frame, None)
        metadata["snapshot_id"] = ", ".join(files) or "absent"
        metadata["unknown_columns"] = _report_unknown(context, slug, unknown)
        return dg.Output(frame, metadata=metadata)

    return _asset


parsed_member_lists = [
    member_lists_asset(network_members.SOURCE.slug),
    member_lists_asset(eurocities_members.SOURCE.slug),
]


@dg.asset(group_name="parsed", kinds={"pandas"}, deps=[GATE])
def parsed_cdp_targets__targets(
    context: dg.AssetExecutionContext, raw_cdp_targets: dict[str, SourceFile | None]
) -> dg.Output:
    """Each target a row of the CDP targets dataset states ('No target' rows are not
    targets), with its type, sector, years, percentage and the city as CDP names it."""
    return _one_csv(
        context,
        raw_cdp_targets["file"],
        cdp_targets.SOURCE.slug,
        cdp_targets.read_targets,
        TARGET_COLUMNS,
    )


@dg.asset(group_name="parsed", kinds={"pandas"}, deps=[GATE])
def parsed_cdp_emissions__inventories(
    context: dg.AssetExecutionContext, raw_cdp_emissions: dict[str, SourceFile | None]
) -> dg.Output:
    """Each city's emissions inventory in the CDP city-wide emissions dataset (rows of
    cities without one are not read): period, figures as stated and a total."""
    return _one_csv(
        context,
        raw_cdp_emissions["file"],
        cdp_emissions.SOURCE.slug,
        cdp_emissions.read_emissions,
        cdp_emissions.EMISSION_COLUMNS,
    )


def _one_csv(
    context: dg.AssetExecutionContext,
    file: SourceFile | None,
    slug: str,
    read: Callable[[bytes, str], Parsed],
    columns: list[str],
) -> dg.Output:
    """A source of one CSV file parsed with its provenance, columns the parser does not
    know logged; no file stored: no rows, in the source's columns."""
    parsed = (
        read(read_file(file), file.file_name) if file else Parsed(pd.DataFrame(columns=columns), [])
    )
    unknown = {file.file_name: parsed.unknown_columns} if file else {}
    frame = parsed.frame.assign(source=slug, snapshot_id=file and file.snapshot_id)
    metadata = _metadata(frame, file)
    metadata["unknown_columns"] = _report_unknown(context, slug, unknown)
    return dg.Output(frame, metadata=metadata)


def registry_table_asset(table: str) -> dg.AssetsDefinition:
    """parsed_registry__<table>: one registry CSV as strings, with each row's line number."""

    @dg.asset(
        name=f"parsed_registry__{table}",
        group_name="parsed",
        kinds={"pandas"},
        deps=[GATE],
        description=f"The curated registry's {table}.csv: one row per line, as strings, "
        "with source, snapshot_id and source_row ('file line N') for provenance.",
    )
    def _asset(
        context: dg.AssetExecutionContext, raw_registry: dict[str, SourceFile]
    ) -> dg.Output[pd.DataFrame]:
        file = raw_registry[table]
        parsed = registry.read_registry_table(read_file(file), table, file.file_name)
        frame = parsed.frame
        frame["source"] = registry.SOURCE.slug
        frame["snapshot_id"] = file.snapshot_id
        metadata = _metadata(frame, file)
        metadata["unknown_columns"] = _report_unknown(
            context, registry.SOURCE.slug, {file.file_name: parsed.unknown_columns}
        )
        return dg.Output(frame, metadata=metadata)

    return _asset


parsed_registry_assets = [registry_table_asset(table) for table in registry.COLUMNS]
