"""The resolver against a plain dictionary, on the benchmark's cities500-size gazetteer: the
exact path (names as the gazetteer spells them, with their country) beside a dict lookup of
the same normalised names, and the fuzzy path (the same names with two letters swapped, so
no exact, alternate or affix rule answers). The targets are ratios: the exact path at least
half the dict's speed, the fuzzy path at least 5,000 names a second."""

from __future__ import annotations

import gc
import random
import statistics
import time
from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any

import pandas as pd

from assets.resolve import Resolver, normalise_name

SEED = 20_261_122
EXACT_NAMES = 100_000
FUZZY_NAMES = 5_000


def sample_names(gazetteer: pd.DataFrame, count: int, seed: int = SEED) -> list[tuple[str, str]]:
    """`count` (name, country) pairs drawn with replacement from the gazetteer's own names."""
    pairs = list(zip(gazetteer["name"].tolist(), gazetteer["country_code"].tolist(), strict=True))
    rng = random.Random(seed)
    return rng.choices([(n, c) for n, c in pairs if isinstance(n, str) and n], k=count)


def misspelt(pairs: Sequence[tuple[str, str]], resolver: Resolver) -> list[tuple[str, str]]:
    """Each name of 8 letters or more with two inner letters swapped, kept only when the
    swap leaves no name the exact or alternate tables know, so the fuzzy tier answers."""
    out = []
    for name, country in pairs:
        if len(name) < 8 or not name.isalpha():
            continue
        middle = len(name) // 2
        typo = name[: middle - 1] + name[middle] + name[middle - 1] + name[middle + 1 :]
        key = normalise_name(typo)
        if typo == name or key in resolver.primary.get(country, {}):
            continue
        if key in resolver.alternate.get(country, {}):
            continue
        out.append((typo, country))
    return out


def timed(call: Callable[[], object], repeats: int, names: int) -> dict[str, Any]:
    seconds = []
    for _ in range(repeats):
        start = time.perf_counter()
        call()
        seconds.append(time.perf_counter() - start)
    return {
        "names": names,
        "seconds_min": round(min(seconds), 4),
        "seconds_median": round(statistics.median(seconds), 4),
        "names_per_second_best": round(names / min(seconds)),
        "names_per_second_median": round(names / statistics.median(seconds)),
    }


def measure_resolver(
    gazetteer: pd.DataFrame, countries: pd.DataFrame, repeats: int
) -> dict[str, Any]:
    """Index build time, then the dict baseline, the exact path and the fuzzy path."""
    gc.collect()
    start = time.perf_counter()
    resolver = Resolver.from_frames(gazetteer, countries).freeze()
    build = time.perf_counter() - start
    pairs = sample_names(gazetteer, EXACT_NAMES)
    plain: dict[tuple[str, str], int] = {}
    for geonames_id, name, country in zip(
        gazetteer["geonames_id"].tolist(),
        gazetteer["name"].tolist(),
        gazetteer["country_code"].tolist(),
        strict=True,
    ):
        if isinstance(name, str):
            plain.setdefault((country, normalise_name(name)), int(geonames_id))
    resolve = resolver.resolve
    typos = misspelt(sample_names(gazetteer, FUZZY_NAMES * 3, SEED + 1), resolver)[:FUZZY_NAMES]
    fuzzy = [resolve(n, c) for n, c in typos]
    return {
        "gazetteer_rows": len(gazetteer),
        "index_build_seconds": round(build, 3),
        "dict_lookup": timed(
            lambda: [plain.get((c, normalise_name(n))) for n, c in pairs], repeats, len(pairs)
        ),
        "exact_path": timed(lambda: [resolve(n, c) for n, c in pairs], repeats, len(pairs)),
        "fuzzy_path": timed(lambda: [resolve(n, c) for n, c in typos], repeats, len(typos)),
        "fuzzy_methods": dict(Counter(r.method for r in fuzzy).most_common()),
    }
