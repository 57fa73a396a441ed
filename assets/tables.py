"""Core layer: the published tables, built from the parsed frames by assets.build.

Each relationship table comes with a `<table>_rejected` output holding the rows it did not
accept; `rejected_rows` gathers them for the release.
"""

from collections.abc import Iterator
from typing import Any

import dagster as dg
import pandas as pd

from assets import build, build_members, build_wikidata
from assets.parsed import GATE
from assets.sources import SourceFile
from assets.sources.catalog import INFOS
from pipeline.inputs import files_read
from pipeline.resources import ResolverResource
from schemas.agreements import Agreements
from schemas.commitments import Commitments
from schemas.memberships import Memberships

CORE = "core"


def _table_metadata(frame: pd.DataFrame, rejected: pd.DataFrame | None = None) -> dict:
    metadata: dict = {
        "dagster/row_count": len(frame),
        "preview": dg.MetadataValue.md(frame.head(10).to_markdown(index=False)),
    }
    if rejected is not None:
        metadata["rejected_rows"] = len(rejected)
        if not rejected.empty:
            counts = rejected.groupby("rule").size().to_dict()
            metadata["rejected_by_rule"] = dg.MetadataValue.json(
                {str(k): int(v) for k, v in counts.items()}
            )
    return metadata


def _outs(table: str, description: str) -> dict[str, dg.AssetOut]:
    return {
        table: dg.AssetOut(group_name=CORE, kinds={"pandas"}, description=description),
        f"{table}_rejected": dg.AssetOut(
            group_name=CORE,
            kinds={"pandas"},
            description=f"Input rows the {table} table did not accept, with rule and reason.",
        ),
        f"{table}_matches": dg.AssetOut(
            group_name=CORE,
            kinds={"pandas"},
            description=f"How each city reference in {table} resolved, or why it did not.",
        ),
    }


def _emit(table: str, built: build.Built, **extra: Any) -> Iterator[dg.Output]:
    # every input row was published, merged into a published row or rejected (the
    # builders check it: build.check_conservation)
    yield dg.Output(
        built.table,
        output_name=table,
        metadata={
            **_table_metadata(built.table, built.rejected),
            "rows_in": built.tally.rows_in,
            "rows_merged": built.tally.merged,
            "rows_rejected": built.tally.rejected,
            **extra,
        },
    )
    yield dg.Output(
        built.rejected,
        output_name=f"{table}_rejected",
        metadata={"dagster/row_count": len(built.rejected)},
    )
    methods = built.matches.groupby("method").size()
    yield dg.Output(
        built.matches,
        output_name=f"{table}_matches",
        metadata={
            "dagster/row_count": len(built.matches),
            "by_method": dg.MetadataValue.json({str(k): int(v) for k, v in methods.items()}),
        },
    )


@dg.asset(group_name=CORE, kinds={"pandas"})
def network_qid_review(
    raw_wikidata: dict[str, SourceFile | None],
    parsed_registry__networks: pd.DataFrame,
    parsed_wikidata__network_items: pd.DataFrame,
    parsed_wikidata__network_candidates: pd.DataFrame,
) -> dg.Output[pd.DataFrame]:
    """For a curator: per registry network, whether the Wikidata fetch confirmed the QID
    the registry gives it, and the items named like it (candidates, never filled in)."""
    fetch = raw_wikidata["bundle"]
    frame = build_wikidata.review_network_qids(
        parsed_registry__networks,
        parsed_wikidata__network_items,
        parsed_wikidata__network_candidates,
        fetch.snapshot_id if fetch else None,
    )
    findings = frame.groupby("finding").size()
    return dg.Output(
        frame,
        metadata={
            **_table_metadata(frame),
            "by_finding": dg.MetadataValue.json({str(k): int(v) for k, v in findings.items()}),
        },
    )


@dg.multi_asset(
    outs=_outs(
        "networks",
        "One row per city network (registry), with its headquarters city and the Wikidata "
        "QID the fetch confirmed.",
    ),
)
def networks(
    resolver: ResolverResource,
    parsed_registry__networks: pd.DataFrame,
    network_qid_review: pd.DataFrame,
    parsed_geonames__cities: pd.DataFrame,
    parsed_geonames__countries: pd.DataFrame,
    parsed_geonames__admin1: pd.DataFrame,
) -> Iterator[dg.Output]:
    index = resolver.for_gazetteer(
        parsed_geonames__cities, parsed_geonames__countries, parsed_geonames__admin1
    )
    confirmed = build_wikidata.confirmed_qids(network_qid_review)
    rows = parsed_registry__networks.assign(
        wikidata_qid=parsed_registry__networks["network_id"].map(confirmed)
    )
    built, unresolved_hq = build.build_networks(rows, index)
    yield from _emit("networks", built, unresolved_hq=unresolved_hq)


@dg.multi_asset(
    outs=_outs("memberships", "One row per city-network membership, with provenance."),
)
def memberships(
    resolver: ResolverResource,
    parsed_registry__memberships: pd.DataFrame,
    parsed_network_members__members: pd.DataFrame,
    parsed_eurocities_members__members: pd.DataFrame,
    parsed_wikidata__memberships: pd.DataFrame,
    wikidata_places: pd.DataFrame,
    parsed_geonames__cities: pd.DataFrame,
    parsed_geonames__countries: pd.DataFrame,
    parsed_geonames__admin1: pd.DataFrame,
    networks: pd.DataFrame,
) -> Iterator[dg.Output]:
    """The registry's memberships, then the member lists' (dated, a city a newer list
    leaves out has left), then Wikidata's; each source's rows that an earlier one states
    already are rejected with that reason."""
    index = resolver.for_gazetteer(
        parsed_geonames__cities, parsed_geonames__countries, parsed_geonames__admin1
    )
    curated = build.build_memberships(parsed_registry__memberships, index, networks)
    lists = pd.concat(
        [parsed_network_members__members, parsed_eurocities_members__members],
        ignore_index=True,
    )
    listed = build_members.build_list_memberships(
        lists, index, networks, existing=set(curated.table["membership_id"])
    )
    # a registry membership a newer member list leaves out has ended
    curated = build.Built(
        build_members.end_memberships(curated.table, listed.ended),
        curated.rejected,
        curated.matches,
        curated.tally,
    )
    so_far = build.combine(curated, listed.built, Memberships)
    stated = build_wikidata.build_memberships(
        parsed_wikidata__memberships,
        wikidata_places,
        networks,
        existing=set(so_far.table["membership_id"]),
    )
    built = build.combine(so_far, stated, Memberships)
    by_source = built.table.groupby("source").size()
    yield from _emit(
        "memberships",
        built,
        rows_by_source=dg.MetadataValue.json({str(k): int(v) for k, v in by_source.items()}),
    )


@dg.multi_asset(
    outs={
        "wikidata_places": dg.AssetOut(
            group_name=CORE,
            kinds={"pandas"},
            description="Each Wikidata item the statements link, with the city it is: the "
            "GeoNames place its P1566 names or the resolver finds, else the item itself.",
        ),
        "wikidata_places_matches": dg.AssetOut(
            group_name=CORE,
            kinds={"pandas"},
            description="How each Wikidata item was matched, for the crosswalk.",
        ),
    }
)
def wikidata_places(
    resolver: ResolverResource,
    parsed_wikidata__items: pd.DataFrame,
    parsed_geonames__cities: pd.DataFrame,
    parsed_geonames__countries: pd.DataFrame,
    parsed_geonames__admin1: pd.DataFrame,
) -> Iterator[dg.Output]:
    index = resolver.for_gazetteer(
        parsed_geonames__cities, parsed_geonames__countries, parsed_geonames__admin1
    )
    countries = set(parsed_geonames__countries["country_code"])
    places, matches = build_wikidata.identify_items(parsed_wikidata__items, index, countries)
    by_method = places.groupby("method").size()
    yield dg.Output(
        places,
        output_name="wikidata_places",
        metadata={
            "dagster/row_count": len(places),
            "by_method": dg.MetadataValue.json({str(k): int(v) for k, v in by_method.items()}),
        },
    )
    yield dg.Output(
        matches, output_name="wikidata_places_matches", metadata={"dagster/row_count": len(matches)}
    )


@dg.multi_asset(
    outs=_outs(
        "agreements",
        "One row per unordered city pair and kind of agreement: the registry's, then "
        "Wikidata's twinnings.",
    ),
)
def agreements(
    resolver: ResolverResource,
    parsed_registry__agreements: pd.DataFrame,
    parsed_wikidata__statements: pd.DataFrame,
    wikidata_places: pd.DataFrame,
    parsed_geonames__cities: pd.DataFrame,
    parsed_geonames__countries: pd.DataFrame,
    parsed_geonames__admin1: pd.DataFrame,
) -> Iterator[dg.Output]:
    index = resolver.for_gazetteer(
        parsed_geonames__cities, parsed_geonames__countries, parsed_geonames__admin1
    )
    curated = build.build_agreements(parsed_registry__agreements, index)
    twinned = build_wikidata.build_agreements(
        parsed_wikidata__statements,
        wikidata_places,
        this_year=build_wikidata.fetch_year(parsed_wikidata__statements),
        existing={
            (row.city_a_id, row.city_b_id)
            for row in curated.table.itertuples(index=False)
            if row.kind in build_wikidata.TWINNED_KINDS
        },
    )
    by_source = {"registry": len(curated.table), "wikidata": len(twinned.table)}
    yield from _emit(
        "agreements",
        build.combine(curated, twinned, Agreements),
        rows_by_source=dg.MetadataValue.json(by_source),
    )


@dg.multi_asset(
    outs=_outs(
        "commitments",
        "One row per commitment a city has stated (the registry's, then the Net Zero "
        "Tracker's end and interim targets), with provenance.",
    ),
)
def commitments(
    resolver: ResolverResource,
    parsed_registry__commitments: pd.DataFrame,
    parsed_net_zero_tracker__targets: pd.DataFrame,
    parsed_cdp_targets__targets: pd.DataFrame,
    parsed_geonames__cities: pd.DataFrame,
    parsed_geonames__countries: pd.DataFrame,
    parsed_geonames__admin1: pd.DataFrame,
) -> Iterator[dg.Output]:
    """Each source's commitments, side by side: the same commitment stated by two
    sources is two rows sharing a commitment_key."""
    index = resolver.for_gazetteer(
        parsed_geonames__cities, parsed_geonames__countries, parsed_geonames__admin1
    )
    built = build.build_commitments(parsed_registry__commitments, index)
    for rows in (parsed_net_zero_tracker__targets, parsed_cdp_targets__targets):
        built = build.combine(built, build.build_commitments(rows, index), Commitments)
    by_source = built.table.groupby("source").size()
    yield from _emit(
        "commitments",
        built,
        rows_by_source=dg.MetadataValue.json({str(k): int(v) for k, v in by_source.items()}),
    )


@dg.multi_asset(
    outs=_outs(
        "city_emissions",
        "One row per city emissions inventory (CDP's city-wide emissions), as context for "
        "commitments; restricted, so published in the full edition only.",
    ),
)
def city_emissions(
    resolver: ResolverResource,
    parsed_cdp_emissions__inventories: pd.DataFrame,
    parsed_geonames__cities: pd.DataFrame,
    parsed_geonames__countries: pd.DataFrame,
    parsed_geonames__admin1: pd.DataFrame,
) -> Iterator[dg.Output]:
    index = resolver.for_gazetteer(
        parsed_geonames__cities, parsed_geonames__countries, parsed_geonames__admin1
    )
    yield from _emit(
        "city_emissions", build.build_city_emissions(parsed_cdp_emissions__inventories, index)
    )


@dg.multi_asset(
    outs=_outs(
        "assessments",
        "One row per city a commitments source assessed (the Net Zero Tracker's city rows), "
        "whether or not it found a target.",
    ),
)
def assessments(
    resolver: ResolverResource,
    parsed_net_zero_tracker__assessments: pd.DataFrame,
    parsed_geonames__cities: pd.DataFrame,
    parsed_geonames__countries: pd.DataFrame,
    parsed_geonames__admin1: pd.DataFrame,
) -> Iterator[dg.Output]:
    index = resolver.for_gazetteer(
        parsed_geonames__cities, parsed_geonames__countries, parsed_geonames__admin1
    )
    yield from _emit(
        "assessments", build.build_assessments(parsed_net_zero_tracker__assessments, index)
    )


@dg.multi_asset(
    outs={
        "city_ids": dg.AssetOut(
            group_name=CORE,
            kinds={"pandas"},
            description="The crosswalk: one row per source spelling of a city (and the "
            "source's own id, where it has one) with the city it resolves to, the method, "
            "confidence and runner-up.",
        ),
        "unresolved_names": dg.AssetOut(
            group_name=CORE,
            kinds={"pandas"},
            description="One row per source spelling the resolver could not settle (no "
            "candidate, alike candidates, or candidates far from the source's coordinates), "
            "with the candidates.",
        ),
    }
)
def crosswalk(
    networks_matches: pd.DataFrame,
    memberships_matches: pd.DataFrame,
    agreements_matches: pd.DataFrame,
    commitments_matches: pd.DataFrame,
    assessments_matches: pd.DataFrame,
    city_emissions_matches: pd.DataFrame,
    wikidata_places_matches: pd.DataFrame,
) -> Iterator[dg.Output]:
    matches = [
        city_emissions_matches,
        networks_matches,
        memberships_matches,
        agreements_matches,
        commitments_matches,
        assessments_matches,
        wikidata_places_matches,
    ]
    for name, frame in (
        ("city_ids", build.build_city_ids(matches)),
        ("unresolved_names", build.build_unresolved_names(matches)),
    ):
        yield dg.Output(frame, output_name=name, metadata=_table_metadata(frame))


@dg.asset(group_name=CORE, kinds={"pandas"})
def cities(
    parsed_geonames__cities: pd.DataFrame,
    parsed_geonames__admin1: pd.DataFrame,
    networks: pd.DataFrame,
    memberships: pd.DataFrame,
    agreements: pd.DataFrame,
    commitments: pd.DataFrame,
    assessments: pd.DataFrame,
    city_emissions: pd.DataFrame,
    city_ids: pd.DataFrame,
    wikidata_places: pd.DataFrame,
) -> dg.Output[pd.DataFrame]:
    """One row per city that takes part in a membership, agreement or commitment, hosts a
    network, or is named by a source; identity, names and coordinates from GeoNames, or
    from Wikidata for the items no GeoNames place matched."""
    frame = build.build_cities(
        parsed_geonames__cities,
        parsed_geonames__admin1,
        wikidata_places,
        *build.city_references(
            networks, memberships, agreements, commitments, assessments, city_emissions, city_ids
        ),
    )
    return dg.Output(frame, metadata=_table_metadata(frame))


@dg.asset(group_name=CORE, kinds={"pandas"}, deps=[GATE])
def sources(
    raw_geonames: dict[str, SourceFile | None],
    raw_registry: dict[str, SourceFile],
    raw_wikidata: dict[str, SourceFile | None],
    raw_net_zero_tracker: dict[str, SourceFile | None],
    raw_network_members: dict[str, SourceFile | None],
    raw_eurocities_members: dict[str, SourceFile | None],
    raw_cdp_targets: dict[str, SourceFile | None],
    raw_cdp_emissions: dict[str, SourceFile | None],
) -> dg.Output[pd.DataFrame]:
    """One row per source file the build read: publisher, origin, licence, attribution,
    snapshot id and sha256. Every row of every table traces here by snapshot_id."""
    files = files_read(
        raw_geonames,
        raw_registry,
        raw_wikidata,
        raw_net_zero_tracker,
        raw_network_members,
        raw_eurocities_members,
        raw_cdp_targets,
        raw_cdp_emissions,
    )
    frame = build.build_sources(files, list(INFOS))
    return dg.Output(frame, metadata=_table_metadata(frame))


@dg.asset(group_name=CORE, kinds={"pandas"})
def rejected_rows(
    networks_rejected: pd.DataFrame,
    memberships_rejected: pd.DataFrame,
    agreements_rejected: pd.DataFrame,
    commitments_rejected: pd.DataFrame,
    assessments_rejected: pd.DataFrame,
    city_emissions_rejected: pd.DataFrame,
) -> dg.Output[pd.DataFrame]:
    """One row per input row a table did not accept and the rule it broke, with the whole
    input row as JSON: rejected, counted and kept, never silently dropped."""
    frame = build.concat_rejects(
        [
            networks_rejected,
            memberships_rejected,
            agreements_rejected,
            commitments_rejected,
            assessments_rejected,
            city_emissions_rejected,
        ]
    )
    return dg.Output(frame, metadata=_table_metadata(frame))
