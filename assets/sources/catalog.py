"""Every source the pipeline reads, in one list: who publishes each and on what terms
(the `sources` table, the editions, `citydip sources` and `citydip import` read it here)."""

from __future__ import annotations

from types import ModuleType

from assets.sources import (
    SourceInfo,
    cdp_emissions,
    cdp_targets,
    eurocities_members,
    geonames,
    net_zero_tracker,
    network_members,
    registry,
    wikidata,
)

MODULES: tuple[ModuleType, ...] = (
    geonames,
    registry,
    wikidata,
    net_zero_tracker,
    network_members,
    eurocities_members,
    cdp_targets,
    cdp_emissions,
)
INFOS: tuple[SourceInfo, ...] = tuple(m.SOURCE for m in MODULES)
# the sources a user stores a downloaded file of (`citydip import`)
IMPORTABLE = tuple(m.SOURCE.slug for m in MODULES if hasattr(m, "check_import"))
# the sources a refresh fetches from the live web
FETCHED = (geonames.SOURCE.slug, wikidata.SOURCE.slug, cdp_emissions.SOURCE.slug)
RESTRICTED = frozenset(info.slug for info in INFOS if not info.redistributable)


def module(slug: str) -> ModuleType | None:
    """The source's module, or None for a slug no source has."""
    return next((m for m in MODULES if m.SOURCE.slug == slug), None)
