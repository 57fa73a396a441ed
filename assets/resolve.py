"""Resolve a source's city reference (name, country, and admin1, coordinates or a GeoNames id
when it has them) to one GeoNames place.

Accurate first, complete second. Candidates are looked for in tiers: the GeoNames id, the
exact name, an alternate name, the name with affixes such as "City of" or "Metropole"
removed, and last a fuzzy match inside the country. Coordinates confirm a candidate or
separate namesakes; a candidate far from the source's coordinates is refused. Candidates
that score alike are never settled by a guess: the reference is reported ambiguous.
"""

from __future__ import annotations

import bisect
import gc
import math
import re
import sys
import unicodedata
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import cache
from itertools import chain
from typing import NamedTuple

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pycountry
from rapidfuzz import fuzz, process

_NOT_WORD = re.compile(r"[^\w]+")
_PARENTHESES = re.compile(r"\([^)]*\)")
_ASIDE = re.compile(r"\(([^)]*)\)")

# Constituent countries and common names that pycountry does not list as countries.
COUNTRY_ALIASES = {
    "england": "GB",
    "scotland": "GB",
    "wales": "GB",
    "northern ireland": "GB",
    "great britain": "GB",
    "uk": "GB",
    "united kingdom": "GB",
    "usa": "US",
    "united states": "US",
    "united states of america": "US",
    "russia": "RU",
    "south korea": "KR",
    "korea": "KR",
    "north korea": "KP",
    "taiwan": "TW",
    "vietnam": "VN",
    "laos": "LA",
    "iran": "IR",
    "syria": "SY",
    "bolivia": "BO",
    "venezuela": "VE",
    "tanzania": "TZ",
    "moldova": "MD",
    "czechia": "CZ",
    "czech republic": "CZ",
    "turkey": "TR",
    "turkiye": "TR",
    "ivory coast": "CI",
    "cote d ivoire": "CI",
    "palestine": "PS",
    "state of palestine": "PS",
    "kosovo": "XK",
    "republic of korea": "KR",
    "taiwan greater china": "TW",
    "bolivia plurinational state of": "BO",
    "venezuela bolivarian republic of": "VE",
    "china hong kong special administrative region": "HK",
    "dem rep congo": "CD",
    "democratic republic of the congo": "CD",
    "bosnia herzegovina": "BA",
    "bosnia and herzegovina": "BA",
}

# Words sources put around a city's name; removed only when the name as given finds nothing.
# Seen in CDP, Net Zero Tracker and network member lists (2021-2025).
PREFIXES = (
    "government of the city of",
    "the local government of",
    "local government unit of",
    "city and county of",
    "london borough of",
    "royal borough of",
    "prefeitura municipal de",
    "prefeitura do municipio de",
    "prefeitura de",
    "municipalidad distrital de",
    "municipalidad provincial de",
    "municipalidad de la ciudad de",
    "municipalidad de",
    "municipalidad",
    "presidencia municipal de",
    "gobierno municipal de",
    "municipalite de",
    "gobierno autonomo municipal de",
    "alcaldia municipal de",
    "alcaldia de",
    "intendencia de",
    "municipality of",
    "municipio de",
    "municipio",
    "ayuntamiento de",
    "ayuntamiento",
    "ajuntament de",
    "commune de",
    "mairie de",
    "ville de",
    "citta di",
    "comune di",
    "the city of",
    "city of",
    "town of",
    "village of",
    "district of",
    "stadt",
    "gemeente",
)
SUFFIXES = (
    "municipal government",
    "metropolitan municipality",
    "municipal corporation",
    "metropolitan city",
    "metropolitan area",
    "city government",
    "city council",
    "borough council",
    "district council",
    "distrito capital",
    "federal capital territory",
    "capital district",
    "municipality",
    "municipal",
    "metropole",
    "metropolis",
    "council",
    "regency",
    "kommune",
    "kommun",
    "village",
    "city",
    "town",
    "cedex",
    "shi",
    "si",
    "gu",
    "nct",
)

# How far a candidate may lie from the source's own coordinates and still be that place;
# sources often give a big city's metropolitan centroid, 30-45 km from GeoNames' point.
CONFIRM_KM = 30.0
CONFIRM_KM_BIG_CITY = 60.0
BIG_CITY = 1_000_000
# A namesake this many times more populous than the next is not "alike": sources naming
# "Salvador, BR" mean the city of 2.9 million, not a village of 2,000.
DOMINANCE = 20.0
FUZZY_CUTOFF = 90.0
# Fuzzy searches over more names than this are narrowed by char_mask first.
FILTER_FROM = 64
# A source's own population for the city is evidence too: a namesake within 3 times of it
# agrees (sources count the municipality, GeoNames often the town: Rome 2.8M vs 2.3M,
# Lubumbashi 5.7M vs 2.2M), and one over 50 times smaller is another place (CDP's "Comas",
# a Lima district of 548,565, is not the Comas of 967 in GeoNames).
POPULATION_AGREES = 3.0
# A match found only on the source's point as corrected (swapped, or a sign restored) is
# less sure than one on the point as given.
SLIPPED_POINT_CONFIDENCE = 0.8
POPULATION_REFUTES = 50.0
# A name's places, most populous first (ties by id), as the index stores them.
Ranked = tuple[int, ...]
_NONE: Ranked = ()
_NO_NAMES: dict[str, Ranked] = {}

CONFIDENCE = {
    "id": 1.0,
    "exact": 1.0,
    "alternate_name": 0.95,
    "normalised": 0.9,
    "fuzzy": 0.8,
    "coordinates": 0.9,
}


# Every combining mark (accents, cedillas...), for str.translate to delete after NFKD.
_COMBINING = {cp: None for cp in range(sys.maxunicode + 1) if unicodedata.combining(chr(cp))}


def normalise_name(name: str) -> str:
    """'São Paulo' -> 'sao paulo'; 'Washington, D.C.' -> 'washington d c'.

    Called for every query and every indexed name, so ASCII names skip the Unicode work."""
    if not name.isascii():
        name = unicodedata.normalize("NFKD", name).translate(_COMBINING)
    # _NOT_WORD matches whole runs, so the result has single spaces once stripped
    return _NOT_WORD.sub(" ", name.casefold()).strip()


def char_mask(text: str) -> int:
    """The characters of `text` as bits of a 64-bit mask (character code mod 64). Each
    character one string has and the other lacks costs at least one insertion or
    deletion, and characters in distinct bits are distinct, so the bits two masks differ
    in never exceed the two strings' indel distance: a bound that rules names out of a
    fuzzy match without scoring them."""
    mask = 0
    for character in set(text):
        mask |= 1 << (ord(character) & 63)
    return mask


# _NOT_WORD, but stopping at the line feeds normalise_names puts between names
_NOT_WORD_OR_LINE = re.compile(r"[^\w\n]+")


def _non_word_to_blank(text: str) -> str:
    return _NOT_WORD_OR_LINE.sub(" ", text)


# Python's \w is str.isalnum() or "_" by Python's Unicode tables (14.0 in 3.11). Arrow's RE2
# has newer tables, in which these code points, unassigned in Python's, are letters or
# digits; they are listed so that the two split text alike. test_resolve_index's
# test_normalise_names_on_every_character fails if an upgrade of either changes that.
_LETTERS_ONLY_RE2_KNOWS = (
    r"\x{1123f}-\x{11240}\x{11f02}\x{11f04}-\x{11f10}\x{11f12}-\x{11f33}\x{11f50}-\x{11f59}"
    r"\x{1342f}\x{13441}-\x{13446}\x{1b132}\x{1b155}\x{1d2c0}-\x{1d2d3}\x{1df25}-\x{1df2a}"
    r"\x{1e030}-\x{1e06d}\x{1e4d0}-\x{1e4eb}\x{1e4f0}-\x{1e4f9}\x{2b739}\x{2ebf0}-\x{2ee5d}"
    r"\x{31350}-\x{323af}"
)
# _NOT_WORD_OR_LINE in RE2
_NOT_WORD_OR_LINE_RE2 = rf"(?:[^\p{{L}}\p{{N}}_\n]|[{_LETTERS_ONLY_RE2_KNOWS}])+"


def normalise_names(names: Sequence[str]) -> list[str]:
    """[normalise_name(n) for n in names], but in a few passes over all the names joined
    by line feeds rather than a call per name: indexing cities500 normalises 1.4 million.

    Each name comes out as it would alone: NFKD reorders marks only up to a starter,
    which a line feed is; dropping marks and casefold take each character on its own
    (casefold has no final-sigma rule); no character becomes a line feed; the regex
    stops at one; and no \\w character is whitespace, so each part strips as one name."""
    if not names:
        return []
    text = "\n".join(names)
    if text.count("\n") != len(names) - 1:
        # a line feed inside a name: a blank is the same to every step, and parts nothing
        text = "\n".join(name.replace("\n", " ") for name in names)
    if text.isascii():  # NFKD and dropping marks leave ASCII as it is
        words = _non_word_to_blank(text.casefold())
    else:
        text = unicodedata.normalize("NFKD", text)
        text = _replace(text, _MARKS, "", lambda t: t.translate(_COMBINING)).casefold()
        words = _replace(text, _NOT_WORD_OR_LINE_RE2, " ", _non_word_to_blank)
    return list(map(str.strip, words.split("\n")))


# _COMBINING as an RE2 character class, for Arrow
_MARKS = "[" + "".join(f"\\x{{{cp:x}}}" for cp in _COMBINING) + "]+"


def _replace(text: str, pattern: str, replacement: str, python: Callable[[str], str]) -> str:
    """Every match of an RE2 pattern replaced by Arrow, or `python(text)`, the same in
    Python, where Arrow cannot hold the text. On cities500's alternate names, dropping
    marks takes 0.15 s instead of 0.7 s by str.translate, and replacing non-word runs about
    half the time of Python's re, whose Unicode-aware \\w is slow."""
    try:
        whole = pa.array([text], pa.large_string())
    except UnicodeEncodeError:  # a lone surrogate, which UTF-8 and so Arrow cannot hold
        return python(text)
    return str(pc.replace_substring_regex(whole, pattern, replacement)[0].as_py())


def _affix_alternation(affixes: Iterable[str]) -> str:
    """Longest first, so 'municipalidad de' is taken before 'municipalidad'."""
    return "|".join(map(re.escape, sorted(affixes, key=len, reverse=True)))


_PREFIX = re.compile(r"^(?:" + _affix_alternation(PREFIXES) + r") (?=.)")
_SUFFIX = re.compile(r"(?<=.) (?:" + _affix_alternation(SUFFIXES) + r")$")


def strip_affixes(normalised: str) -> str:
    """'city of indianapolis' -> 'indianapolis'; 'amiens metropole' -> 'amiens';
    'suwon si city council' -> 'suwon'. Repeats until nothing more comes off."""
    name = normalised
    while True:
        stripped = _SUFFIX.sub("", _PREFIX.sub("", name, count=1), count=1)
        if stripped == name:
            return name
        name = stripped


# Abbreviations sources write and gazetteers spell out: 'St Nazaire' is 'Saint-Nazaire',
# 'St. Gallen' is 'Sankt Gallen', 'Ste-Foy' is 'Sainte-Foy'.
SPELLED_OUT = {"st": ("saint", "sankt"), "ste": ("sainte",), "ft": ("fort",), "mt": ("mount",)}


def spelled_out(normalised: str) -> list[str]:
    """The name with its first abbreviated word spelled out each way SPELLED_OUT knows:
    'st nazaire' -> ['saint nazaire', 'sankt nazaire']; no abbreviation, no variant."""
    words = normalised.split(" ")
    for at, word in enumerate(words):
        if word in SPELLED_OUT:
            return [" ".join([*words[:at], full, *words[at + 1 :]]) for full in SPELLED_OUT[word]]
    return []


def split_name(raw: str, country_code: str | None) -> tuple[str, str | None]:
    """The name without parenthesised qualifiers or a trailing qualifier, and the
    subdivision code the qualifier names, if any:
    'City of Indianapolis, IN' -> ('City of Indianapolis', 'IN');
    'Changzhou, Jiangsu' -> ('Changzhou', 'JS'); 'London, UK' -> ('London', None)."""
    if "," not in raw and "(" not in raw:
        return raw, None
    name = " ".join(_PARENTHESES.sub(" ", raw).split())
    head, comma, tail = name.rpartition(",")
    if not comma or not country_code or not head.strip():
        return name, None
    tail = tail.strip()
    if re.fullmatch(r"[A-Z]{2,3}", tail) and subdivision_name(country_code, tail):
        return head.strip(), tail
    code = subdivision_code(country_code, tail)
    if code is not None:
        return head.strip(), code
    if normalise_country(tail) == country_code:
        return head.strip(), None
    return name, None


def asides(raw: str) -> list[str]:
    """The texts in parentheses: 'Al Kuwayt (Kuwait City)' -> ['Kuwait City']."""
    return [m.strip() for m in _ASIDE.findall(raw) if m.strip()]


def subdivision_name(country_code: str, code: str) -> str | None:
    """'US', 'IN' -> 'Indiana' (ISO 3166-2 via pycountry), or None."""
    subdivision = pycountry.subdivisions.get(code=f"{country_code}-{code}")
    return subdivision.name if subdivision is not None else None


# Words ISO 3166-2 puts after a subdivision's name that sources and GeoNames leave out:
# 'Jiangsu Sheng', 'Beijing Shi', 'Guangxi Zhuangzu Zizhiqu', 'Hong Kong SAR'.
SUBDIVISION_WORDS = frozenset({"sheng", "shi", "zizhiqu", "zhuangzu", "huizu", "uygur", "sar"})


def subdivision_keys(name: str) -> set[str]:
    """A subdivision's name normalised, as given and without SUBDIVISION_WORDS:
    'Jiangsu Sheng' -> {'jiangsu sheng', 'jiangsu'}."""
    key = normalise_name(name)
    words = key.split()
    while len(words) > 1 and words[-1] in SUBDIVISION_WORDS:
        words.pop()
    return {key, " ".join(words)}


@cache
def _subdivisions(country_code: str) -> dict[str, str]:
    """Normalised subdivision names of a country -> their ISO 3166-2 codes ('JS')."""
    found = pycountry.subdivisions.get(country_code=country_code) or []
    return {key: s.code.split("-", 1)[1] for s in found for key in subdivision_keys(s.name)}


def subdivision_code(country_code: str, name: str) -> str | None:
    """'CN', 'Jiangsu' -> 'JS'; 'US', 'South Carolina' -> 'SC'; else None."""
    return _subdivisions(country_code).get(normalise_name(name))


def normalise_country(value: str | None, names: dict[str, str] | None = None) -> str | None:
    """ISO alpha-2 from an alpha-2 or alpha-3 code or a country name in a common spelling;
    `names` adds the gazetteer's own country names (normalised name -> alpha-2)."""
    if value is None or not str(value).strip():
        return None
    text = str(value).strip()
    key = normalise_name(text)
    if key in COUNTRY_ALIASES:
        return COUNTRY_ALIASES[key]
    if names and key in names:
        return names[key]
    try:
        return str(pycountry.countries.lookup(text).alpha_2)
    except LookupError:
        return None


def distance_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance (haversine), in kilometres."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6371.0088 * math.asin(math.sqrt(a))


class Resolution(NamedTuple):
    """The outcome for one reference: a GeoNames id with how it was found, or why not.

    A NamedTuple, not a dataclass: the exact path makes one per call and a frozen
    dataclass's __init__ costs more than the lookup itself."""

    geonames_id: int | None
    # id, exact, alternate_name, normalised, fuzzy or coordinates; else unresolved,
    # ambiguous or conflict (a name match far from the source's coordinates)
    method: str
    confidence: float = 0.0
    candidates: tuple[int, ...] = ()
    runner_up: int | None = None
    # why it failed; for a match, a note when the source's point was read corrected
    reason: str | None = None
    # from the source's point (as corrected, when the reason says so)
    distance_km: float | None = None

    @property
    def city_id(self) -> str | None:
        return None if self.geonames_id is None else f"gn:{self.geonames_id}"


def _add(
    table: dict[str, Ranked],
    key: str,
    geonames_id: int,
    shared: list[tuple[dict[str, Ranked], str]],
) -> None:
    """The place under the key, once (a place's names come one after another); a key that
    comes to hold several places goes on the shared list, to be ranked when all are in."""
    found = table.get(key)
    if found is None:
        table[key] = (geonames_id,)
    elif found[-1] != geonames_id:
        table[key] = (*found, geonames_id)
        if len(found) == 1:
            shared.append((table, key))


@dataclass
class _Place:
    name: str
    country: str
    admin1: str | None
    latitude: float
    longitude: float
    population: int


@dataclass
class Resolver:
    """A gazetteer's names indexed per country, ready to resolve references.

    Build it once per gazetteer (the Dagster resource keeps it for a run): indexing
    cities15000 takes about 0.6 s, cities500 about 3 s (2 cores, 2026-11).
    """

    places: dict[int, _Place] = field(default_factory=dict)
    populations: dict[int, int] = field(default_factory=dict)
    # normalise_name of every primary spelling, computed while indexing: most queries are
    # spelt as the gazetteer spells them, and normalising is most of an exact lookup's cost
    keys: dict[str, str] = field(default_factory=dict)
    # country -> normalised name -> places; per country, so a lookup builds no tuple key
    primary: dict[str, dict[str, Ranked]] = field(default_factory=dict)
    alternate: dict[str, dict[str, Ranked]] = field(default_factory=dict)
    fuzzy_names: dict[str, list[tuple[str, int]]] = field(default_factory=lambda: defaultdict(list))
    # per country, the primary names sorted by length, so a fuzzy search scores only the
    # names whose length lets them reach FUZZY_CUTOFF (see _fuzzy)
    fuzzy_keys: dict[str, list[str]] = field(default_factory=dict)
    fuzzy_lengths: dict[str, list[int]] = field(default_factory=dict)
    grid: dict[tuple[str, int, int], list[int]] = field(default_factory=lambda: defaultdict(list))
    country_names: dict[str, str] = field(default_factory=dict)
    admin1_by_name: dict[tuple[str, str], str] = field(default_factory=dict)
    admin1_codes: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    _admin1: dict[tuple[str, str], str | None] = field(default_factory=dict)
    _countries: dict[str | None, str | None] = field(default_factory=dict)
    _masks: dict[str, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)

    @classmethod
    def from_frames(
        cls,
        gazetteer: pd.DataFrame,
        countries: pd.DataFrame | None = None,
        admin1: pd.DataFrame | None = None,
    ) -> Resolver:
        """The index of a parsed gazetteer (and its country and admin1 tables).

        Built with cyclic garbage collection paused: the index is millions of new objects,
        and each collection their making sets off walks all of them again (0.5 s of 3.6 on
        cities500). Reference counting still frees whatever the build drops."""
        resolver = cls()
        # plain lists: iterating Arrow-backed columns row by row costs more than the indexing
        ids = [int(i) for i in gazetteer["geonames_id"].tolist()]
        codes = gazetteer["country_code"].tolist()
        collecting = gc.isenabled()
        gc.disable()
        try:
            resolver._index_places(gazetteer, ids, codes)
            resolver._index_names(gazetteer, ids, codes)
        finally:
            if collecting:
                gc.enable()
        if countries is not None:
            for code, name in zip(
                countries["country_code"], countries["country_name"], strict=True
            ):
                resolver.country_names[normalise_name(str(name))] = str(code)
        if admin1 is not None and not admin1.empty:
            for code, a1, name in zip(
                admin1["country_code"], admin1["admin1_code"], admin1["admin1_name"], strict=True
            ):
                resolver.admin1_by_name[(str(code), normalise_name(str(name)))] = str(a1)
        return resolver

    def _index_places(self, gazetteer: pd.DataFrame, ids: list[int], codes: list[str]) -> None:
        """places, populations, admin1_codes and grid: one entry per row."""
        admin1s = [a if isinstance(a, str) else None for a in gazetteer["admin1_code"].tolist()]
        latitudes, longitudes = gazetteer["latitude"].tolist(), gazetteer["longitude"].tolist()
        population = gazetteer["population"]
        sizes = [
            0 if unknown else int(size)
            for size, unknown in zip(population.tolist(), population.isna().tolist(), strict=True)
        ]
        names = map(str, gazetteer["name"].tolist())
        points = map(float, latitudes), map(float, longitudes)
        self.places = dict(
            zip(ids, map(_Place, names, codes, admin1s, *points, sizes), strict=True)
        )
        self.populations = dict(zip(ids, sizes, strict=True))
        for country, admin1_code in zip(codes, admin1s, strict=True):
            if admin1_code is not None:
                self.admin1_codes[country].add(admin1_code)
        cells = zip(codes, map(math.floor, latitudes), map(math.floor, longitudes), strict=True)
        for cell, geonames_id in zip(cells, ids, strict=True):
            self.grid[cell].append(geonames_id)

    def _index_names(self, gazetteer: pd.DataFrame, ids: list[int], codes: list[str]) -> None:
        """keys, primary, alternate and the fuzzy lists, from each place's name, ascii name
        and alternate names, all normalised at once (normalise_names).

        Each name's places are a tuple from the start, and only the few names of several
        places are ranked (shared): most names are one place's."""
        names = zip(gazetteer["name"].tolist(), gazetteer["ascii_name"].tolist(), strict=True)
        own = [
            [n for n in {name, ascii_name} if isinstance(n, str) and n]
            for name, ascii_name in names
        ]
        other = [
            n.split(",") if isinstance(n, str) else []
            for n in gazetteer["alternate_names"].tolist()
        ]
        own_names = list(chain.from_iterable(own))
        own_keys = normalise_names(own_names)
        self.keys = dict(zip(own_names, own_keys, strict=True))
        # every name's key, in the order the names are listed: zip below takes from these
        # only as many as the place's list holds
        own_key = iter(own_keys)
        other_key = iter(normalise_names(list(chain.from_iterable(other))))
        primary: dict[str, dict[str, Ranked]] = {}
        alternate: dict[str, dict[str, Ranked]] = {}
        qualified: dict[str, dict[str, Ranked]] = {}
        shared: list[tuple[dict[str, Ranked], str]] = []  # names of several places, unranked
        fuzzy_names = self.fuzzy_names
        for geonames_id, country, spellings, other_names in zip(
            ids, codes, own, other, strict=True
        ):
            primary_names = primary.setdefault(country, {})
            alternate_names = alternate.setdefault(country, {})
            for each, key in zip(spellings, own_key, strict=False):
                _add(primary_names, key, geonames_id, shared)
                fuzzy_names[country].append((key, geonames_id))
                if "(" in each:
                    # also indexed as queries are read: without parenthesised qualifiers
                    bare = normalise_name(_PARENTHESES.sub(" ", each))
                    _add(qualified.setdefault(country, {}), bare, geonames_id, shared)
                    fuzzy_names[country].append((bare, geonames_id))
            for each, key in zip(other_names, other_key, strict=False):
                if not each:
                    continue
                # _add, inline: it runs a million times
                found = alternate_names.get(key)
                if found is None:
                    alternate_names[key] = (geonames_id,)
                elif found[-1] != geonames_id:
                    alternate_names[key] = (*found, geonames_id)
                    if len(found) == 1:
                        shared.append((alternate_names, key))
        for table, key in shared:
            table[key] = self._rank(set(table[key]))  # a set: an id twice in a gazetteer
        for country, bare_names in qualified.items():
            primary_names = primary.setdefault(country, {})
            for bare, found in bare_names.items():
                # 'Zürich' is the place of that name, not 'Zürich (Kreis 11)': a qualified
                # name answers to its bare form only where no place has it as its own
                primary_names.setdefault(bare, found)
        self.primary, self.alternate = primary, alternate
        for country, fuzzy in fuzzy_names.items():
            fuzzy.sort(key=lambda pair: len(pair[0]))
            self.fuzzy_keys[country] = [n for n, _ in fuzzy]
            self.fuzzy_lengths[country] = [len(n) for n, _ in fuzzy]

    def _rank(self, ids: Iterable[int]) -> Ranked:
        """Most populous first, ties by id: the order candidates are reported in."""
        ids = tuple(ids)
        if len(ids) == 1:
            return ids
        populations = self.populations
        return tuple(sorted(ids, key=lambda i: (-populations[i], i)))

    def freeze(self) -> Resolver:
        """Exempt the index, and all else alive now, from cyclic garbage collection for the
        rest of the process (gc.freeze), and return the resolver.

        The index is millions of objects that live as long as the process, and every full
        collection would walk them all: on cities500 that halves the exact path (80-100k
        names/s with it walked, about 140k frozen). Reference counting still frees them.
        Call once, after building an index that will serve many lookups."""
        gc.collect()
        gc.freeze()
        return self

    def place(self, geonames_id: int) -> tuple[str, float, float]:
        """(name, latitude, longitude) of a place in the gazetteer."""
        place = self.places[geonames_id]
        return place.name, place.latitude, place.longitude

    def resolve(
        self,
        name: str | None,
        country: str | None,
        admin1: str | None = None,
        latitude: float | None = None,
        longitude: float | None = None,
        geonames_id: int | None = None,
        population: float | None = None,
    ) -> Resolution:
        point = None if latitude is None and longitude is None else _point(latitude, longitude)
        if population is not None:
            population = _size(population)
        if geonames_id is not None and int(geonames_id) in self.places:
            return self._decide((int(geonames_id),), "id", point)
        try:
            country_code = self._countries[country]
        except KeyError:
            country_code = self._countries[country] = normalise_country(country, self.country_names)
        if not name or not isinstance(name, str) or name.isspace():
            return Resolution(None, "unresolved", reason="no name given")
        if country_code is None:
            return Resolution(None, "unresolved", reason=f"unknown country {country!r}")
        if admin1:
            admin1 = self.admin1_code(country_code, admin1)
        if "," in name or "(" in name:
            # a few places are named so in GeoNames ('Mianzhu, Deyang, Sichuan'): as given
            # first, before the qualifiers are read off
            whole = self.keys.get(name) or normalise_name(name)
            found = self._named(self.primary, country_code, whole, admin1)
            if found:
                return self._decide(found, "exact", point, population)
            bare, code = split_name(name, country_code)
            admin1 = admin1 or self._admin1_for(country_code, code)
        else:
            bare = name
        key = self.keys.get(bare) or normalise_name(bare)
        found = self.primary.get(country_code, _NO_NAMES).get(key, _NONE)  # the hot path
        if found and admin1:
            found = self._in_admin1(found, admin1)
        if found:
            if point is None and population is None and len(found) == 1:  # as _decide, faster
                return Resolution(found[0], "exact", CONFIDENCE["exact"], found)
            return self._decide(found, "exact", point, population)
        found = self._named(self.alternate, country_code, key, admin1)
        if found:
            return self._decide(found, "alternate_name", point, population)
        stripped = strip_affixes(key)
        for variant in dict.fromkeys([stripped, *spelled_out(stripped)]):
            if variant == key:
                continue
            found = self._named(self.primary, country_code, variant, admin1) or self._named(
                self.alternate, country_code, variant, admin1
            )
            if found:
                return self._decide(found, "normalised", point, population)
        for aside in asides(name):
            # 'Al Kuwayt (Kuwait City)', 'El Djazaïr (Algiers)': the name in parentheses
            # is another name of the same place
            other = normalise_name(aside)
            found = self._named(self.primary, country_code, other, admin1) or self._named(
                self.alternate, country_code, other, admin1
            )
            if found:
                return self._decide(found, "alternate_name", point, population)
        found = self._in_admin1(self._fuzzy(country_code, stripped), admin1)
        if found:
            return self._decide(found, "fuzzy", point, population)
        if point is not None:
            return self._nearest(country_code, point)
        where = country_code + (f" (admin1 {admin1})" if admin1 else "")
        return Resolution(None, "unresolved", reason=f"no GeoNames place named {name!r} in {where}")

    def admin1_code(self, country_code: str, given: str) -> str | None:
        """The gazetteer's admin1 code for a subdivision given as that code ('08'), an ISO
        3166-2 code ('ON', 'CA-ON') or a name ('Ontario'); None when it cannot be read, so
        that evidence nobody can check narrows nothing."""
        key = (country_code, given)
        if key not in self._admin1:
            self._admin1[key] = self._read_admin1(country_code, given.strip())
        return self._admin1[key]

    def _read_admin1(self, country_code: str, given: str) -> str | None:
        if given in self.admin1_codes.get(country_code, ()):
            return given
        iso = given.upper().removeprefix(f"{country_code}-")
        if subdivision_name(country_code, iso):
            return self._admin1_for(country_code, iso)
        by_name = self.admin1_by_name.get((country_code, normalise_name(given)))
        if by_name is not None:
            return by_name
        return self._admin1_for(country_code, subdivision_code(country_code, given))

    def _admin1_for(self, country_code: str, code: str | None) -> str | None:
        """A trailing subdivision code as the gazetteer's admin1 code ('US','IN' -> 'IN')."""
        if code is None:
            return None
        name = subdivision_name(country_code, code)
        for key in subdivision_keys(name or ""):
            by_name = self.admin1_by_name.get((country_code, key))
            if by_name is not None:
                return by_name
        # GeoNames uses the postal codes as US admin1 codes, so they hold without the table
        return code if country_code == "US" else None

    def _named(
        self,
        table: dict[str, dict[str, Ranked]],
        country_code: str,
        key: str,
        admin1: str | None,
    ) -> Ranked:
        """The places a name table lists for the name in the country (and admin1, if given)."""
        found = table.get(country_code, _NO_NAMES).get(key, _NONE)
        return self._in_admin1(found, admin1) if admin1 and found else found

    def _in_admin1(self, found: Ranked, admin1: str | None) -> Ranked:
        if not admin1:
            return found
        return tuple(i for i in found if self.places[i].admin1 == admin1)

    def _fuzzy(self, country_code: str, key: str) -> Ranked:
        names = self.fuzzy_names.get(country_code)
        if not names or len(key) < 4:
            return _NONE
        # fuzz.ratio is 100 * (1 - indel distance / total length), and the distance is at
        # least the difference in length: names too much shorter or longer cannot score
        share = FUZZY_CUTOFF / 100
        lengths = self.fuzzy_lengths[country_code]
        shortest = math.ceil(len(key) * share / (2 - share) - 1e-9)  # 1e-9: rounding at the
        longest = math.floor(len(key) * (2 - share) / share + 1e-9)  # boundary keeps it in
        low = bisect.bisect_left(lengths, shortest)
        high = bisect.bisect_right(lengths, longest)
        keys = self.fuzzy_keys[country_code]
        if high - low > FILTER_FROM:
            # nor can a name score whose letters differ from the key's in more places than
            # the distance allows (see char_mask): numpy drops most names before rapidfuzz
            masks, sizes = self._fuzzy_masks(country_code)
            differ = np.bitwise_count(masks[low:high] ^ np.uint64(char_mask(key)))
            allowed = (sizes[low:high] + len(key)) * (1 - share) + 1e-9
            index = (np.flatnonzero(differ <= allowed) + low).tolist()
        else:
            index = list(range(low, high))
        hits = process.extract(
            key,
            [keys[i] for i in index],
            scorer=fuzz.ratio,
            score_cutoff=FUZZY_CUTOFF,
            limit=5,
        )
        if not hits:
            return _NONE
        best = max(score for _, score, _ in hits)
        return self._rank({names[index[i]][1] for _, score, i in hits if score == best})

    def _fuzzy_masks(self, country_code: str) -> tuple[np.ndarray, np.ndarray]:
        """Each fuzzy key's char_mask and length as arrays, made on a country's first
        fuzzy search (most builds search few countries)."""
        found = self._masks.get(country_code)
        if found is None:
            keys = self.fuzzy_keys[country_code]
            masks = np.fromiter((char_mask(k) for k in keys), dtype=np.uint64, count=len(keys))
            sizes = np.asarray(self.fuzzy_lengths[country_code], dtype=np.int64)
            found = self._masks[country_code] = (masks, sizes)
        return found

    def _nearest(self, country_code: str, point: tuple[float, float]) -> Resolution:
        """No name matched: a place within CONFIRM_KM of the source's coordinates, if one
        stands out, is the city (method 'coordinates')."""
        # grid cells are 1 degree; a degree of longitude shrinks towards the poles
        lat_cell, lon_cell = math.floor(point[0]), math.floor(point[1])
        reach = 1 if abs(point[0]) < 60 else 3
        ids = [
            i
            for dlat in (-1, 0, 1)
            for dlon in range(-reach, reach + 1)
            for i in self.grid.get((country_code, lat_cell + dlat, lon_cell + dlon), ())
        ]
        near = sorted(
            (distance_km(*point, self.places[i].latitude, self.places[i].longitude), i) for i in ids
        )
        near = [(d, i) for d, i in near if d <= CONFIRM_KM]
        if not near:
            return Resolution(None, "unresolved", reason="no name match and no place nearby")
        if len(near) > 1 and near[1][0] < 2 * near[0][0] + 1:
            nearby = tuple(i for _, i in near[:5])
            return Resolution(None, "ambiguous", candidates=nearby, reason="several places nearby")
        distance, best = near[0]
        runner = near[1][1] if len(near) > 1 else None
        return Resolution(
            best, "coordinates", CONFIDENCE["coordinates"] * 0.8, (best,), runner, None, distance
        )

    def _reach(self, geonames_id: int) -> float:
        """How far from the source's point this place may lie and still be confirmed."""
        big = self.places[geonames_id].population >= BIG_CITY
        return CONFIRM_KM_BIG_CITY if big else CONFIRM_KM

    def _decide(
        self,
        ranked: Ranked,
        method: str,
        point: tuple[float, float] | None,
        population: float | None = None,
    ) -> Resolution:
        """One candidate, or the one the evidence singles out; never a guess among equals."""
        if point is None and population is None and len(ranked) == 1:
            return Resolution(ranked[0], method, CONFIDENCE[method], ranked)
        candidates = ranked
        if point is not None:
            distances = {
                i: distance_km(*point, self.places[i].latitude, self.places[i].longitude)
                for i in ranked
            }
            close = sorted((d, i) for i, d in distances.items() if d <= self._reach(i))
            if not close:
                nearest = min(distances.values())
                slipped = self._on_slipped_point(ranked, method, point, nearest)
                if slipped is not None:
                    return slipped
                return Resolution(
                    None,
                    "conflict",
                    candidates=candidates,
                    reason=f"the name matches places {nearest:.0f} km or more from the "
                    f"source's coordinates (limit {CONFIRM_KM:.0f} km, "
                    f"{CONFIRM_KM_BIG_CITY:.0f} km for cities of a million)",
                    distance_km=nearest,
                )
            if len(close) == 1 or close[1][0] > 2 * close[0][0] + 1:
                distance, best = close[0]
                runner = next((i for i in ranked if i != best), None)
                return Resolution(
                    best, method, CONFIDENCE[method], candidates, runner, None, distance
                )
            near = tuple(i for _, i in close)
            agreeing = self._agreeing(near, population)
            if len(agreeing) == 1:
                best = agreeing[0]
                return Resolution(
                    best,
                    method,
                    CONFIDENCE[method] * 0.9,
                    candidates,
                    next(i for i in near if i != best),
                    None,
                    distances[best],
                )
            return Resolution(None, "ambiguous", candidates=near, reason=_alike(close))
        dominant = self._dominant(ranked)
        if population is not None:
            if self._refuted(ranked, population):
                sizes = ", ".join(f"gn:{i} {self.populations[i]:,}" for i in ranked[:5])
                return Resolution(
                    None,
                    "conflict",
                    candidates=candidates,
                    reason=f"the source gives a population of {population:,.0f}; the places "
                    f"of that name have {sizes} (over {POPULATION_REFUTES:.0f} times fewer)",
                )
            agreeing = self._agreeing(ranked, population)
            if len(agreeing) == 1 and len(ranked) > 1:
                best = agreeing[0]
                if dominant is not None and dominant != best:
                    return Resolution(
                        None,
                        "ambiguous",
                        candidates=candidates,
                        runner_up=best,
                        reason=f"the source's population ({population:,.0f}) fits gn:{best}, "
                        f"but gn:{dominant} is over {DOMINANCE:.0f} times bigger",
                    )
                runner = next(i for i in ranked if i != best)
                return Resolution(best, method, CONFIDENCE[method] * 0.9, candidates, runner)
            if len(agreeing) > 1:
                ranked, dominant = agreeing, None
        if len(ranked) == 1:
            return Resolution(ranked[0], method, CONFIDENCE[method], candidates)
        if dominant is not None:
            return Resolution(
                dominant, method, CONFIDENCE[method] * 0.9, candidates, ranked[1], None
            )
        ids = ", ".join(f"gn:{i}" for i in ranked[:5])
        return Resolution(
            None,
            "ambiguous",
            candidates=candidates,
            runner_up=ranked[1],
            reason=f"{len(ranked)} places match alike ({ids}); give admin1 or coordinates",
        )

    def _on_slipped_point(
        self, ranked: Ranked, method: str, point: tuple[float, float], nearest: float
    ) -> Resolution | None:
        """The one candidate that lies within reach of the source's point once latitude
        and longitude are swapped or a sign restored (point_slips), or None.

        A slipped point that lands on the very place the name names is no coincidence: CDP
        puts San José, CR at (-84.08, 9.93) and Bradford at (53.79, 1.75). A name that
        still matches several places there, or none, stays a conflict."""
        hits = sorted(
            (distance_km(*slip, self.places[i].latitude, self.places[i].longitude), i, slip)
            for slip in point_slips(*point)
            for i in ranked
        )
        hits = [(d, i, slip) for d, i, slip in hits if d <= self._reach(i)]
        if len({i for _, i, _ in hits}) != 1:
            return None
        distance, best, slip = hits[0]
        return Resolution(
            best,
            method,
            CONFIDENCE[method] * SLIPPED_POINT_CONFIDENCE,
            ranked,
            next((i for i in ranked if i != best), None),
            f"the source's point ({point[0]:g}, {point[1]:g}) is {nearest:.0f} km from every "
            f"place of the name; read as ({slip[0]:g}, {slip[1]:g}), with latitude and "
            f"longitude swapped or a sign restored, it is {distance:.0f} km from this one",
            distance,
        )

    def _dominant(self, ranked: Ranked) -> int | None:
        """The first candidate when it is DOMINANCE times more populous than the next."""
        if len(ranked) < 2:
            return None
        first, second = (self.populations[i] for i in ranked[:2])
        return ranked[0] if first >= DOMINANCE * max(second, 1) else None

    def _agreeing(self, ranked: Ranked, population: float | None) -> Ranked:
        """The candidates whose GeoNames population is within POPULATION_AGREES times the
        source's; none when either is unknown."""
        if population is None:
            return _NONE
        return tuple(i for i in ranked if populations_agree(population, self.populations[i]))

    def _refuted(self, ranked: Ranked, population: float) -> bool:
        """Every candidate is over POPULATION_REFUTES times smaller than the source says (a
        village for a city of half a million): the name is some other place's. Only that
        way round: a source counting far fewer than the place has is more often a slip
        (CDP gives Antananarivo 1 inhabitant and Porto Velho 494) than a namesake."""
        return all(
            self.populations[i] > 0 and population > POPULATION_REFUTES * self.populations[i]
            for i in ranked
        )


def point_slips(latitude: float, longitude: float) -> list[tuple[float, float]]:
    """The point as it would be had the source swapped latitude and longitude or dropped a
    sign (the slips seen in CDP's POINTs), without the point itself."""
    variants = {
        (sa * a, sb * b)
        for a, b in ((latitude, longitude), (longitude, latitude))
        for sa in (1, -1)
        for sb in (1, -1)
        if abs(a) <= 90.0
    }
    variants.discard((latitude, longitude))
    return sorted(variants)


def populations_agree(source: float | None, place: float) -> bool:
    """The source's population and a place's are both known and within POPULATION_AGREES
    times of each other."""
    if source is None or source <= 0 or place <= 0:
        return False
    return max(source, place) / min(source, place) <= POPULATION_AGREES


def _size(population: float | None) -> float | None:
    """The source's population as evidence: None when missing, NaN or not positive."""
    if population is None:
        return None
    population = float(population)
    return population if population > 0 else None  # NaN > 0 is False


def _point(latitude: float | None, longitude: float | None) -> tuple[float, float] | None:
    """The source's coordinates, or None when either is missing (None or NaN)."""
    if latitude is None or longitude is None:
        return None
    latitude, longitude = float(latitude), float(longitude)
    if math.isnan(latitude) or math.isnan(longitude):
        return None
    return latitude, longitude


def _alike(close: Iterable[tuple[float, int]]) -> str:
    return "several places match within reach of the coordinates: " + ", ".join(
        f"gn:{i} ({d:.0f} km)" for d, i in close
    )
