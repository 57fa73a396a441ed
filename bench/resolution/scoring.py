"""Judging what the resolver makes of each reference: resolve it (with or without the
source's point), say whether the match is correct (within CORRECT_KM of the source's point),
class the wrong matches (a slip in the source's point, a near or a far miss) and the failures
(by the resolver's reason), and summarise a source's outcomes as the figures the report prints
and the JSON keeps. It exists so that what counts as right, wrong or failed is defined once,
apart from how the figures are gathered or shown."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from assets.resolve import Resolution, Resolver, distance_km, point_slips, populations_agree
from bench.resolution.sources import Reference

# A resolved reference counts as correct when the matched place is this close to the
# source's own point.
CORRECT_KM = 30.0
EXAMPLE_ERRORS = 10
LISTED_FAILURES = 30

RESOLVED_METHODS = ("id", "exact", "alternate_name", "normalised", "fuzzy", "coordinates")
FAILED_METHODS = ("unresolved", "ambiguous", "conflict")
METHODS = RESOLVED_METHODS + FAILED_METHODS
# The resolver's reasons, by how they begin, as a few classes to count.
FAILURE_CLASSES = (
    ("unknown country", "unknown country"),
    ("no GeoNames place named", "no place of that name in the country"),
    ("no name match and no place nearby", "no name match, nothing near the point"),
    ("several places nearby", "no name match, several places near the point"),
    ("several places match within reach", "namesakes near the point"),
    ("the name matches places", "name matches only far from the point"),
    ("no name given", "no name given"),
)
_ALIKE = re.compile(r"\d+ places match alike")
# Names of bodies that are not one city (counties, regions, councils of several towns,
# intermunicipal boards): no gazetteer of populated places can hold them, so recall is also
# reported without them. Only a reporting aid; the resolver never sees this list.
NOT_ONE_CITY = re.compile(
    r"\b(county|counties|borough|shire|regency|region|regional|province|authority|"
    r"junta|metropolitan council|district council|county council|prefecture)\b",
    re.IGNORECASE,
)
SLIPPED = "source point swapped or sign-flipped"
DISPUTED = "source point disputed (no such place near it; populations agree)"


@dataclass(frozen=True)
class Outcome:
    """A reference, what the resolver made of it, the matched place's point and, when the
    reference has one too, how far apart they lie."""

    reference: Reference
    resolution: Resolution
    place: tuple[float, float] | None = None
    distance_km: float | None = None
    # a wrong match whose source point, not the match, is in doubt (see point_disputed)
    disputed: bool = False

    @property
    def resolved(self) -> bool:
        return self.resolution.geonames_id is not None

    @property
    def correct(self) -> bool | None:
        """True/False for a resolved reference with a point; None when it cannot be told."""
        if self.distance_km is None:
            return None
        return self.distance_km <= CORRECT_KM


def call_arguments(reference: Reference, use_coordinates: bool = False) -> tuple[Any, ...]:
    """Resolver.resolve's positional arguments for a reference: name, country, admin1, the
    point only when asked for and present, no GeoNames id, the population when given."""
    point = (reference.latitude, reference.longitude)
    if not (use_coordinates and reference.has_point):
        point = (None, None)
    return (reference.name, reference.country, reference.admin1, *point, None, reference.population)


def resolve_reference(
    resolver: Resolver, reference: Reference, use_coordinates: bool = False
) -> Resolution:
    """Resolve one reference, passing its point only when asked to (its admin1 and
    population always, when the source gives them)."""
    return resolver.resolve(*call_arguments(reference, use_coordinates))


def score(resolver: Resolver, reference: Reference, use_coordinates: bool = False) -> Outcome:
    """Resolve a reference and, when it has a point, measure how far the match lies."""
    resolution = resolve_reference(resolver, reference, use_coordinates)
    if resolution.geonames_id is None:
        return Outcome(reference, resolution)
    matched = resolver.places[resolution.geonames_id]
    place = (matched.latitude, matched.longitude)
    if reference.latitude is None or reference.longitude is None:
        return Outcome(reference, resolution, place)
    distance = distance_km(reference.latitude, reference.longitude, *place)
    disputed = distance > CORRECT_KM and point_disputed(resolver, reference, matched.population)
    return Outcome(reference, resolution, place, distance, disputed)


def point_disputed(resolver: Resolver, reference: Reference, matched_population: int) -> bool:
    """A wrong match is the source point's fault, not the resolver's, when two things both
    say so: no place of the name lies within reach of the point (resolving with the point
    is a conflict), and the source's own population agrees with the matched place's
    (populations_agree). CDP's "Cambridge, MA" (116,632 people) with a point in
    Minnesota, or "Rio Branco" (407,319) with one in Vitória, are such rows."""
    if not populations_agree(reference.population, matched_population):
        return False
    at_point = resolve_reference(resolver, reference, use_coordinates=True)
    return at_point.method == "conflict"


def error_class(outcome: Outcome) -> str:
    """Why a resolved reference lies beyond CORRECT_KM of the source's point: the source's
    point has a slip (a swapped or sign-flipped variant lies within reach of the match),
    a near miss (within twice the limit: a metropolitan centroid or a large municipality),
    or a far miss (a namesake, or a point geocoded elsewhere)."""
    ref, place = outcome.reference, outcome.place
    if place is not None and ref.latitude is not None and ref.longitude is not None:
        slips = point_slips(ref.latitude, ref.longitude)
        if any(distance_km(*p, *place) <= CORRECT_KM for p in slips):
            return SLIPPED
    if outcome.disputed:
        return DISPUTED
    if outcome.distance_km is not None and outcome.distance_km <= 2 * CORRECT_KM:
        return f"near miss ({CORRECT_KM:.0f}-{2 * CORRECT_KM:.0f} km)"
    return f"far miss (> {2 * CORRECT_KM:.0f} km)"


def failure_class(resolution: Resolution) -> str:
    """A failed resolution's reason as one of a few classes."""
    reason = resolution.reason or ""
    for prefix, label in FAILURE_CLASSES:
        if reason.startswith(prefix):
            return label
    if _ALIKE.match(reason):
        return "namesakes of like population"
    return resolution.method


def pct(part: int, whole: int) -> float | None:
    return None if whole == 0 else round(100.0 * part / whole, 1)


def summarise(
    outcomes: Sequence[Outcome],
    names: Mapping[int, str] | None = None,
    examples: int = EXAMPLE_ERRORS,
    listed: int = LISTED_FAILURES,
) -> dict[str, Any]:
    """Rows, resolved %, precision % against the sources' points, counts by method and by
    failure class, the first `examples` wrong matches and the first `listed` failures."""
    names = names or {}
    methods = Counter(o.resolution.method for o in outcomes)
    resolved = [o for o in outcomes if o.resolved]
    judged = [o for o in resolved if o.correct is not None]
    correct = sum(1 for o in judged if o.correct)
    wrong = [o for o in judged if not o.correct]
    failed = [o for o in outcomes if not o.resolved]
    cities = [o for o in outcomes if not NOT_ONE_CITY.search(o.reference.name)]
    error_classes = Counter(error_class(o) for o in wrong)
    # right once the source's point is corrected (a swapped or sign-flipped variant lies
    # on the match), and wrong matches judged against a disputed point
    slipped, disputed = error_classes[SLIPPED], error_classes[DISPUTED]
    return {
        "rows": len(outcomes),
        "with_point": sum(1 for o in outcomes if o.reference.has_point),
        "resolved": len(resolved),
        "resolved_pct": pct(len(resolved), len(outcomes)),
        # the same over the rows whose name is not a county's, region's or board's
        "rows_one_city": len(cities),
        "resolved_one_city_pct": pct(sum(1 for o in cities if o.resolved), len(cities)),
        "resolved_with_point": len(judged),
        "correct": correct,
        "precision_pct": pct(correct, len(judged)),
        # the same with each slipped point corrected: a match on it counts as correct
        "correct_on_corrected_point": slipped,
        "precision_corrected_points_pct": pct(correct + slipped, len(judged)),
        # and the wrong matches against a disputed point left out (point_disputed)
        "precision_sound_points_pct": pct(correct + slipped, len(judged) - disputed),
        "methods": {m: methods[m] for m in METHODS if methods[m]},
        "unresolved": methods["unresolved"],
        "ambiguous": methods["ambiguous"],
        "conflict": methods["conflict"],
        "failure_classes": dict(Counter(failure_class(o.resolution) for o in failed)),
        "errors_total": len(wrong),
        "error_classes": dict(error_classes),
        "errors": [describe_error(o, names) for o in wrong[:examples]],
        "failures_total": len(failed),
        "failures": [describe_failure(o) for o in failed[:listed]],
    }


def describe_error(outcome: Outcome, names: Mapping[int, str]) -> dict[str, Any]:
    ref, gid = outcome.reference, outcome.resolution.geonames_id
    return {
        "name": ref.name,
        "country": ref.country,
        "method": outcome.resolution.method,
        "matched": f"{names.get(gid, '?')} gn:{gid}" if gid is not None else None,
        "distance_km": None if outcome.distance_km is None else round(outcome.distance_km, 1),
        "point": [ref.latitude, ref.longitude],
        "class": error_class(outcome),
    }


def describe_failure(outcome: Outcome) -> dict[str, Any]:
    ref = outcome.reference
    return {
        "name": ref.name,
        "country": ref.country,
        "admin1": ref.admin1,
        "method": outcome.resolution.method,
        "reason": outcome.resolution.reason,
    }


def measure(
    resolver: Resolver,
    references: Sequence[Reference],
    use_coordinates: bool = False,
    names: Mapping[int, str] | None = None,
    listed: int = LISTED_FAILURES,
) -> dict[str, Any]:
    """Resolve every reference and summarise (see `summarise`)."""
    outcomes = [score(resolver, r, use_coordinates) for r in references]
    return summarise(outcomes, names, listed=listed)
