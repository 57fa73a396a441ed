"""The fuzzy tier's pre-filter (assets.resolve.char_mask): it may only rule out names that
could not score, so the tier finds exactly what scoring every name would find."""

import itertools
import os
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rapidfuzz import fuzz, process
from rapidfuzz.distance import Indel

import assets.resolve as resolve
from assets.resolve import FILTER_FROM, FUZZY_CUTOFF, Resolver, char_mask
from tests.conftest import small_gazetteer

SYLLABLES = ["ka", "lo", "mer", "vin", "sta", "dor", "bel", "ru", "zan", "tis", "ok", "hav"]


@settings(derandomize=bool(os.environ.get("CI")), max_examples=500)
@given(st.text(max_size=30), st.text(max_size=30))
def test_the_masks_never_differ_more_than_the_indel_distance(a: str, b: str) -> None:
    differ = int(np.bitwise_count(np.uint64(char_mask(a) ^ char_mask(b))))
    assert differ <= Indel.distance(a, b)


def many_places() -> pd.DataFrame:
    """Made-up names of two and three syllables in one country: far more than
    FILTER_FROM of each length, many of them near one another."""
    names = [
        "".join(parts).capitalize()
        for size in (2, 3)
        for parts in itertools.product(SYLLABLES, repeat=size)
    ]
    columns = [c for c in small_gazetteer().columns if c != "snapshot_id"]
    rows: dict[str, object] = {c: [None] * len(names) for c in columns}
    rows.update(
        geonames_id=range(1, len(names) + 1),
        name=names,
        ascii_name=names,
        country_code=["XX"] * len(names),
        latitude=[10.0] * len(names),
        longitude=[10.0] * len(names),
        population=[1000 + n for n in range(len(names))],
    )
    return pd.DataFrame(rows, columns=columns)


def scored_all(resolver: Resolver, key: str) -> set[int]:
    """The places of the best-scoring names, every name in the country scored."""
    keys = resolver.fuzzy_keys["XX"]
    hits = process.extract(key, keys, scorer=fuzz.ratio, score_cutoff=FUZZY_CUTOFF, limit=None)
    if not hits:
        return set()
    best = max(score for _, score, _ in hits)
    return {resolver.fuzzy_names["XX"][i][1] for _, score, i in hits if score == best}


def typos(names: list[str]) -> list[str]:
    """Each name with a letter dropped, one added and two swapped."""
    out = []
    for name in names:
        middle = len(name) // 2
        out.append(name[:middle] + name[middle + 1 :])
        out.append(name[:middle] + "e" + name[middle:])
        out.append(name[: middle - 1] + name[middle] + name[middle - 1] + name[middle + 1 :])
    return out


def test_the_filtered_search_finds_what_scoring_every_name_finds(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    resolver = Resolver.from_frames(many_places())
    assert len(resolver.fuzzy_keys["XX"]) > 10 * FILTER_FROM
    queries = typos(resolver.fuzzy_keys["XX"][::7])
    expected = [scored_all(resolver, q) for q in queries]
    scored: list[int] = []
    extract = process.extract

    def counting(key: str, choices: list[str], **kwargs: Any) -> list:
        scored.append(len(choices))
        return extract(key, choices, **kwargs)

    monkeypatch.setattr(resolve.process, "extract", counting)
    found = [set(resolver._fuzzy("XX", q)) for q in queries]
    matched = [f for f in found if f]
    assert len(matched) > len(queries) // 2  # most typos are still found
    for query, got, want in zip(queries, found, expected, strict=True):
        if len(want) <= 5:  # the tier keeps the best of its five highest scores
            assert got == want, query
    # the filter fired: rapidfuzz scored a small share of the names of each length
    assert "XX" in resolver._masks
    assert sum(scored) < 0.2 * len(queries) * len(resolver.fuzzy_keys["XX"])
