"""The copy marker: how copy c of a real name is spelt in the generated inputs.

Copy 0 is the name as the source gives it. Copy c > 0 gets one made-up word, a token of
pronounceable syllables ending in "zix" ('Bezix' for 1, 'Bizix' for 2, ...), never digits,
which a normaliser could read as a district number or a code. No token is a word of any
name, ASCII name or alternate name in cities15000, nor of the P190 crawl's labels (checked
for copies 1 to 9,999 on 2026-11-22; tests/unit/test_bench_inputs.py checks the first 199),
so a marked name can meet no real one.

Where the token goes keeps each copy resolving as the real name does (assets/resolve.py):
- after the name's core, before the words the resolver strips from its end ("Shima City"
  -> "Shima Bezix City", which strips to "shima bezix" as the real one strips to "shima"),
  so "City of", "Metropole" and the like still come off;
- in the part before a comma, so "City of Portland, ME" keeps its trailing state code;
- in every parenthesised aside too ("El Djazaïr (Algiers)"), which the resolver also reads
  as a name.
In a name without commas or parentheses the position depends only on its normalised words,
so two spellings that normalise alike (São Paulo, Sao Paulo) stay alike in every copy; and
the token is a word of its own, so no two copies of names normalise to the same key.

Fuzzy matching is where copies differ: a word shared by both names makes two names of one
copy more alike than the real ones, so a few names no place matched for real find one, or
several, in a copy (8 of the Net Zero Tracker's 1,177 cities in each copy, on cities500,
2026-11-22).
"""

from __future__ import annotations

import re
from functools import cache
from itertools import pairwise

from assets.resolve import PREFIXES, SUFFIXES, normalise_name

CONSONANTS = "bdfgkmnprstvz"
VOWELS = "aeiou"
SYLLABLES = tuple(c + v for c in CONSONANTS for v in VOWELS)
ENDING = "zix"

_WORD = re.compile(r"\w+")
_LAST_WORD = re.compile(r"\w+(?=\W*\Z)")
_ASIDE = re.compile(r"\(([^)]*)\)")


def _alternation(affixes: tuple[str, ...]) -> str:
    return "|".join(map(re.escape, sorted(affixes, key=len, reverse=True)))


# as assets.resolve.strip_affixes matches them
_PREFIX = re.compile(r"^(?:" + _alternation(PREFIXES) + r") (?=.)")
_SUFFIX = re.compile(r"(?<=.) (?:" + _alternation(SUFFIXES) + r")$")
_SUFFIX_ENDS = frozenset(suffix.rsplit(" ", 1)[-1] for suffix in SUFFIXES)


@cache
def token(copy: int) -> str:
    """The marker word of copy `copy` (>= 1): its number in base len(SYLLABLES), one
    syllable a digit, then ENDING."""
    if copy < 1:
        raise ValueError(f"copy {copy} has no marker: copy 0 is the real name")
    digits = []
    while copy:
        copy, digit = divmod(copy, len(SYLLABLES))
        digits.append(SYLLABLES[digit])
    return ("".join(reversed(digits)) + ENDING).capitalize()


def copy_name(name: str, copy: int) -> str:
    """Copy `copy` of a name: unchanged for copy 0, else with token(copy) inserted where
    _pieces splits it."""
    if copy == 0 or not name:
        return name
    return f" {token(copy)}".join(_pieces(name))


@cache
def _pieces(name: str) -> tuple[str, ...]:
    """`name` split where the token goes: after the core of the part before the first comma
    or parenthesis, and of each parenthesised aside. Cached: the gazetteer's names are
    marked once per copy, and most of the cost is finding these points."""
    # most names: ASCII words are their normalised words, and a last word no suffix ends
    # with leaves nothing for the resolver to strip
    last = _LAST_WORD.search(name)
    simple = name.isascii() and "," not in name and "(" not in name
    if simple and last and last.group(0).lower() not in _SUFFIX_ENDS:
        return name[: last.end()], name[last.end() :]
    points = []
    head_end = min((i for i in (name.find(","), name.find("(")) if i >= 0), default=len(name))
    if _WORD.search(name, 0, head_end):
        points.append(_core_end(name, 0, head_end))
    for aside in _ASIDE.finditer(name):
        start, end = aside.span(1)
        if _WORD.search(name, start, end):
            points.append(_core_end(name, start, end))
    if not points:  # no word outside the commas: the token goes at the end
        points.append(len(name))
    bounds = [0, *sorted(points), len(name)]
    return tuple(name[a:b] for a, b in pairwise(bounds))


def _core_end(name: str, start: int, end: int) -> int:
    """The position in name[start:end] after its last word that the resolver's affix
    stripping keeps; the end of its last word when its words do not line up one to one
    with the normalised name's (a ligature, a fraction sign)."""
    words = list(_WORD.finditer(name, start, end))
    normalised = normalise_name(name[start:end])
    if len(normalised.split()) != len(words):
        return words[-1].end()
    kept = len(words) - _stripped_suffix_words(normalised)
    return words[kept - 1].end()


def _stripped_suffix_words(normalised: str) -> int:
    """How many words assets.resolve.strip_affixes takes off the end of a normalised name
    (prefixes and suffixes come off in turn, as there)."""
    removed, name = 0, normalised
    while True:
        stripped = _PREFIX.sub("", name, count=1)
        suffix = _SUFFIX.search(stripped)
        if suffix:
            removed += len(suffix.group(0).split())
            stripped = stripped[: suffix.start()]
        if stripped == name:
            return removed
        name = stripped
