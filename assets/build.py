"""Pure functions that build the core tables from parsed source frames.

Every builder returns the accepted rows and the rejected ones (with rule and reason), so a
row is either published or recorded in `rejected_rows`, never silently dropped.
"""

from __future__ import annotations

import copy
import hashlib
import json
from dataclasses import astuple, dataclass, field

import pandas as pd
import pandera.pandas as pa
from pandera.errors import SchemaErrors

from assets.resolve import Resolver
from assets.sources import SourceFile, SourceInfo, number
from schemas.agreements import Agreements
from schemas.assessments import Assessments
from schemas.cities import Cities
from schemas.city_emissions import CityEmissions
from schemas.city_ids import CityIds
from schemas.codes import NO_MATCH, SPELLING_KEY
from schemas.commitments import Commitments
from schemas.memberships import Memberships
from schemas.networks import Networks
from schemas.provenance import Provenance
from schemas.published import FOREIGN_KEYS
from schemas.rejected_rows import RejectedRows
from schemas.sources import Sources
from schemas.unresolved_names import UnresolvedNames

REJECT_COLUMNS = list(RejectedRows.to_schema().columns)
PROVENANCE_COLUMNS = list(Provenance.to_schema().columns)


class SchemaChangedError(ValueError):
    """A frame fails its schema as a whole (a column missing or retyped): the source
    changed, so the run stops instead of rejecting every row."""


class RowsLostError(RuntimeError):
    """A builder's input rows do not add up to the rows it published plus those it
    rejected: a row would vanish without a reason, so the run stops."""


@dataclass(frozen=True)
class Tally:
    """Where a table's input rows went; rows_in = published + merged + rejected
    (check_conservation). Merged rows stand in a published row with others (a twinning
    both cities state is one agreement)."""

    rows_in: int = 0
    published: int = 0
    merged: int = 0
    rejected: int = 0

    def __add__(self, other: Tally) -> Tally:
        return Tally(*(a + b for a, b in zip(astuple(self), astuple(other), strict=True)))


@dataclass(frozen=True)
class Built:
    table: pd.DataFrame
    rejected: pd.DataFrame
    matches: pd.DataFrame = field(default_factory=lambda: empty_matches())
    tally: Tally = Tally()


def column_order(model: type[pa.DataFrameModel]) -> list[str]:
    """A table's columns with the provenance columns last, where analysts expect them."""
    columns = list(model.to_schema().columns)
    return [c for c in columns if c not in PROVENANCE_COLUMNS] + [
        c for c in PROVENANCE_COLUMNS if c in columns
    ]


def stable_id(prefix: str, *parts: object) -> str:
    """'mem:1f0c...': a hash of the natural key, the same whatever the input order."""
    key = "|".join("" if p is None or p is pd.NA else str(p) for p in parts)
    return f"{prefix}:{hashlib.sha256(key.encode()).hexdigest()[:16]}"


def empty_rejects() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype="str") for c in REJECT_COLUMNS})


class Rejects:
    """Collects the rows one table does not accept, described from the input as read.

    Derived frames keep the input's index (rows are only ever dropped), so any of them can
    name rows by index and the reject records the original row: its source_row, snapshot
    and every field as the source gave it.
    """

    def __init__(self, inputs: pd.DataFrame, table_name: str) -> None:
        self.inputs = inputs
        self.table_name = table_name
        self.parts: list[pd.DataFrame] = []
        self.rows: set = set()  # the input rows (index labels) rejected so far

    def add(
        self,
        index: pd.Index,
        rule: str,
        reasons: pd.Series | str,
        column: str | None = None,
        values: pd.Series | str | None = None,
    ) -> None:
        if len(index) == 0:
            return
        self.rows.update(index)
        rows = self.inputs.loc[index]
        payload = rows.drop(columns=["source_row", "source", "snapshot_id"], errors="ignore")
        self.parts.append(
            pd.DataFrame(
                {
                    "table_name": self.table_name,
                    "source": rows["source"],
                    "snapshot_id": rows["snapshot_id"],
                    "source_row": rows.get("source_row"),
                    "rule": rule,
                    "column_name": column,
                    "value": values,
                    "reason": reasons,
                    "record": json_records(payload),
                },
                index=rows.index,
            )[REJECT_COLUMNS]
        )

    def frame(self) -> pd.DataFrame:
        return concat_rejects(self.parts)


RECORD_CHUNK = 50_000


def json_records(frame: pd.DataFrame) -> list[str]:
    """Each row as a JSON object, nulls as null; RECORD_CHUNK rows at a time, since a
    dict per row of a million rejected rows at once would hold gigabytes."""
    texts: list[str] = []
    for start in range(0, len(frame), RECORD_CHUNK):
        chunk = frame.iloc[start : start + RECORD_CHUNK]
        records = chunk.astype(object).where(chunk.notna(), None).to_dict("records")
        texts.extend(json.dumps(r, ensure_ascii=False, default=str) for r in records)
    return texts


MATCH_COLUMNS = [
    "source",
    "snapshot_id",
    "source_table",
    "source_id",
    "wikidata_qid",
    "source_name",
    "source_country",
    "source_admin1",
    "city_id",
    "method",
    "confidence",
    "runner_up_id",
    "candidate_ids",
    "reason",
]


def empty_matches() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype="object") for c in MATCH_COLUMNS})


class Matches:
    """Collects how each city reference of one table was resolved (or why not): the
    crosswalk, the unresolved names and the resolution figures are made from it."""

    def __init__(self, inputs: pd.DataFrame, table_name: str) -> None:
        self.inputs = inputs
        self.table_name = table_name
        self.parts: list[pd.DataFrame] = []

    def add(self, found: pd.DataFrame) -> None:
        rows = self.inputs.loc[found.index]
        part = found.assign(
            source=rows["source"], snapshot_id=rows["snapshot_id"], source_table=self.table_name
        )
        self.parts.append(part[MATCH_COLUMNS])

    def frame(self) -> pd.DataFrame:
        kept = [p for p in self.parts if not p.empty]
        return pd.concat(kept, ignore_index=True) if kept else empty_matches()


def without_unique(model: type[pa.DataFrameModel]) -> pa.DataFrameSchema:
    """The model's schema minus its key's uniqueness, which is settled after validation so
    an invalid first row cannot shadow a valid later one."""
    schema = copy.deepcopy(model.to_schema())
    schema.unique = None
    return schema


def split_valid_rows(
    frame: pd.DataFrame, schema: pa.DataFrameSchema, rejects: Rejects
) -> pd.DataFrame:
    """Validate; hand rows that break a row-level rule to `rejects`, return the rest.

    A failed coercion makes later checks fail for the whole column, so validation repeats
    on the remaining rows until only whole-frame failures (a changed source) are left.
    """
    remaining = frame
    for _ in range(10):
        try:
            return schema.validate(remaining, lazy=True)
        except SchemaErrors as errors:
            cases = errors.failure_cases
            row_cases = without_echoes(cases[cases["index"].notna()])
            if row_cases.empty:
                raise SchemaChangedError(
                    f"{rejects.table_name}: the frame as a whole fails its schema:\n"
                    f"{cases.to_string(max_rows=20)}"
                ) from errors
            for (index, check), group in row_cases.groupby(["index", "check"], sort=True):
                where = pd.Index([index])
                if (group["schema_context"] == "Column").all():
                    # a column rule: one reject per failing column, naming its value
                    for column, case in group.groupby("column", sort=True):
                        value = str(case["failure_case"].iloc[0])
                        reason = f"{check} failed on {column}={value!r}"
                        rejects.add(where, str(check), reason, str(column), value)
                else:
                    # a whole-row rule (a dataframe check) names no single column
                    rejects.add(where, str(check), f"{check} failed", None, None)
            remaining = remaining.drop(index=row_cases["index"].unique())
    raise SchemaChangedError(f"{rejects.table_name}: validation did not settle after 10 rounds")


def without_echoes(cases: pd.DataFrame) -> pd.DataFrame:
    """The failure cases minus the dtype failure pandera adds after a failed coercion of
    the same cell: one bad value is one reject."""
    checks = cases["check"].astype(str)
    coerced = set(
        zip(
            cases.loc[checks.str.startswith("coerce_dtype("), "index"],
            cases.loc[checks.str.startswith("coerce_dtype("), "column"],
            strict=True,
        )
    )
    echo = checks.str.startswith("dtype(") & pd.Series(
        [(i, c) in coerced for i, c in zip(cases["index"], cases["column"], strict=True)],
        index=cases.index,
    )
    return cases[~echo]


def drop_duplicates(frame: pd.DataFrame, key: str, rejects: Rejects) -> pd.DataFrame:
    """Keep the first row of each key; later ones are rejected as duplicates of it."""
    duplicated = frame[key].duplicated(keep="first")
    firsts = frame.loc[~duplicated, key]
    where = rejects.inputs.reindex(firsts.index).get("source_row", pd.Series(index=firsts.index))
    first_row = dict(zip(firsts, where, strict=True))
    dupes = frame[duplicated]
    reasons = dupes[key].map(lambda k: f"duplicate of {first_row[k]} ({key} {k})")
    rejects.add(dupes.index, "duplicate", reasons, key, dupes[key])
    return frame[~duplicated]


def accept(
    frame: pd.DataFrame,
    model: type[pa.DataFrameModel],
    key: str,
    rejects: Rejects,
    matches: Matches,
) -> Built:
    """Validate row by row, settle duplicate keys among the valid rows, validate the whole;
    then check every input row is published or rejected."""
    table = _accepted(frame, model, key, rejects)
    tally = check_conservation(rejects, table.index)
    return Built(table.reset_index(drop=True), rejects.frame(), matches.frame(), tally)


def _accepted(
    frame: pd.DataFrame, model: type[pa.DataFrameModel], key: str, rejects: Rejects
) -> pd.DataFrame:
    """The valid, de-duplicated rows, still indexed like the builder's input."""
    valid = split_valid_rows(frame[column_order(model)], without_unique(model), rejects)
    unique = drop_duplicates(valid, key, rejects)
    return model.validate(unique)


def check_conservation(rejects: Rejects, published: pd.Index, merged: int = 0) -> Tally:
    """Rows in = rows published + rows rejected, row by row: every input row (by index) is
    published (or stands merged in a published row: `published` counts those, `merged`
    says how many) or rejected, and none is both. A builder that drops a row without
    rejecting it stops the run naming the row."""
    inputs = rejects.inputs
    name = rejects.table_name
    if not inputs.index.is_unique:
        raise RowsLostError(f"{name}: the builder's input rows have duplicate index labels")
    published_rows = set(published)
    lost = [i for i in inputs.index if i not in published_rows and i not in rejects.rows]
    both = published_rows & rejects.rows
    unknown = published_rows - set(inputs.index)
    if not (lost or both or unknown):
        return Tally(len(inputs), len(published_rows) - merged, merged, len(rejects.rows))
    source_row = inputs.get("source_row", pd.Series(inputs.index.astype(str), index=inputs.index))
    problems = []
    if lost:
        where = ", ".join(str(source_row[i]) for i in lost[:5])
        problems.append(f"{len(lost)} neither published nor rejected (first: {where})")
    if both:
        where = ", ".join(str(source_row[i]) for i in sorted(both, key=str)[:5])
        problems.append(f"{len(both)} both published and rejected (first: {where})")
    if unknown:
        problems.append(f"{len(unknown)} published rows stand for no input row")
    raise RowsLostError(
        f"{name}: of {len(inputs)} input rows, {len(published_rows)} published and "
        f"{len(rejects.rows)} rejected; " + "; ".join(problems)
    )


@dataclass(frozen=True)
class Grouped:
    """Input rows that one output row stands for (its index is the first's), and how to
    name that first row in a reason ('statement Q1$...', 'members.csv line 4')."""

    rows: list
    label: str


def accept_grouped(
    table: pd.DataFrame,
    groups: list[Grouped],
    known: tuple[pd.Series, str],
    model: type[pa.DataFrameModel],
    key: str,
    rejects: Rejects,
    matches: Matches,
) -> Built:
    """accept() for rows that each stand for a group of input rows (indexed by the first),
    after rejecting the rows another source states already (`known`: a mask and the
    reason). When a group's row is not published, its other input rows are rejected too,
    each naming the first, so no input row is lost; when it is, they count as merged."""
    mask, reason = known
    duplicates = table.index[mask]
    rejects.add(duplicates, "duplicate", reason, key, table.loc[duplicates, key])
    accepted = _accepted(table.drop(index=duplicates), model, key, rejects)
    published = set(accepted[key])
    rows = dict(zip(table.index, table[key], strict=True))  # duplicates included
    merged = []
    for group in groups:
        first, others = group.rows[0], pd.Index(group.rows[1:])
        if rows.get(first) in published:
            merged.extend(others)
        elif len(others):
            reason = f"stands with {group.label} for one row, which was not published"
            rejects.add(others, "rejected_with_its_row", reason)
    tally = check_conservation(rejects, accepted.index.append(pd.Index(merged)), len(merged))
    return Built(accepted.reset_index(drop=True), rejects.frame(), matches.frame(), tally)


def combine(first: Built, second: Built, model: type[pa.DataFrameModel]) -> Built:
    """Two builds of one table from different sources as one, validated again so the
    columns keep the schema's types; their keys must not overlap (the second build rejects
    what the first already has)."""
    tables = [b.table for b in (first, second) if not b.table.empty]
    table = pd.concat(tables, ignore_index=True) if tables else first.table
    matches = [b.matches for b in (first, second) if not b.matches.empty]
    return Built(
        model.validate(table),
        concat_rejects([first.rejected, second.rejected]),
        pd.concat(matches, ignore_index=True) if matches else empty_matches(),
        first.tally + second.tally,
    )


def canonical_number(value: object) -> str:
    """'50', '50.0' and 50 hash alike; text that is no number stays as it is (and fails
    validation later)."""
    if value is None or value is pd.NA or (isinstance(value, float) and pd.isna(value)):
        return ""
    try:
        number = float(str(value))
    except ValueError:
        return str(value)
    return str(int(number)) if number.is_integer() else repr(number)


# Columns a source's rows may carry beside the name: evidence for the resolver, and the
# source's own id for the city's record, which goes into the crosswalk.
EVIDENCE_COLUMNS = ("latitude", "longitude", "population", "source_id")


def resolve_column(
    rows: pd.DataFrame,
    resolver: Resolver,
    name: str,
    country: str,
    admin1: str,
) -> pd.DataFrame:
    """How each row's city resolved: city_id (null where unresolved, ambiguous or in
    conflict), method, confidence, runner-up, candidates and reason, plus the reference
    as given; indexed like `rows`. Where the rows have them (EVIDENCE_COLUMNS), a point
    confirms a match or refuses a far one, a population tells namesakes apart, and the
    source's own id is recorded."""
    records = []
    for row in rows.itertuples(index=False):
        values = row._asdict()
        latitude, longitude, population = (
            number(values.get(c)) for c in ("latitude", "longitude", "population")
        )
        source_id = values.get("source_id")
        city_name, country_code, admin1_code = (
            v if isinstance(v, str) and v.strip() else None
            for v in (values[name], values[country], values[admin1])
        )
        given: dict[str, object] = {
            "source_id": source_id if isinstance(source_id, str) else None,
            "source_name": city_name,
            "source_country": country_code,
            "source_admin1": admin1_code,
        }
        if city_name is None or country_code is None:
            reason = f"{name} and {country} are both needed to find the city"
            records.append({**given, "method": "unresolved", "reason": reason})
            continue
        found = resolver.resolve(
            city_name, country_code, admin1_code, latitude, longitude, population=population
        )
        records.append(
            {
                **given,
                "city_id": found.city_id,
                "method": found.method,
                "confidence": found.confidence if found.city_id else None,
                "runner_up_id": f"gn:{found.runner_up}" if found.runner_up else None,
                "candidate_ids": ", ".join(f"gn:{i}" for i in found.candidates[:10]) or None,
                "reason": found.reason,
            }
        )
    columns = [c for c in MATCH_COLUMNS if c not in ("source", "snapshot_id", "source_table")]
    frame = pd.DataFrame(records, index=rows.index, columns=columns).astype(object)
    return frame.where(frame.notna(), None)


def resolve_cities(
    frame: pd.DataFrame,
    resolver: Resolver,
    rejects: Rejects,
    matches: Matches,
    columns: tuple[str, str, str],
    id_column: str,
) -> pd.DataFrame:
    """Add `id_column` from (name, country, admin1) columns; rows whose city is not found
    go to `rejects` with the reason and leave the frame. Every outcome goes to `matches`."""
    name, country, admin1 = columns
    found = resolve_column(frame, resolver, name, country, admin1)
    matches.add(found)
    frame = frame.assign(**{id_column: found["city_id"]})
    missing = frame[id_column].isna()
    for method in sorted(set(found.loc[missing, "method"])):
        # city_unresolved, city_ambiguous or city_conflict
        rows = frame.index[missing & (found["method"] == method)]
        rejects.add(rows, f"city_{method}", found.loc[rows, "reason"], name, frame.loc[rows, name])
    return frame.drop(index=frame.index[missing])


def build_networks(rows: pd.DataFrame, resolver: Resolver) -> tuple[Built, int]:
    """Networks from the registry; returns the result and how many stated HQs were not found.

    An unresolved headquarters keeps the network row: hq_city_name still states it and
    hq_city_id stays null.
    """
    rejects, matches = Rejects(rows, "networks"), Matches(rows, "networks")
    frame = rows.copy()
    has_hq = frame["hq_city_name"].notna() & frame["hq_country_code"].notna()
    found = resolve_column(
        frame[has_hq], resolver, "hq_city_name", "hq_country_code", "hq_admin1_code"
    )
    matches.add(found)
    frame["hq_city_id"] = found["city_id"].reindex(frame.index)
    unresolved_hq = int((has_hq & frame["hq_city_id"].isna()).sum())
    return accept(frame, Networks, "network_id", rejects, matches), unresolved_hq


def build_memberships(rows: pd.DataFrame, resolver: Resolver, networks: pd.DataFrame) -> Built:
    """One row per network and member city; the city found in the gazetteer."""
    rejects, matches = Rejects(rows, "memberships"), Matches(rows, "memberships")
    columns = ("city_name", "country_code", "admin1_code")
    frame = resolve_cities(rows, resolver, rejects, matches, columns, "city_id")
    unknown = frame.index[~frame["network_id"].isin(networks["network_id"])]
    rejects.add(
        unknown,
        "foreign_key",
        "network_id is not in networks",
        "network_id",
        frame.loc[unknown, "network_id"],
    )
    frame = frame.drop(index=unknown)
    frame = frame.rename(columns={"city_name": "source_city_name", "as_of": "as_of_year"})
    frame["membership_id"] = [
        stable_id("mem", n, c) for n, c in zip(frame["network_id"], frame["city_id"], strict=True)
    ]
    return accept(frame, Memberships, "membership_id", rejects, matches)


def build_agreements(rows: pd.DataFrame, resolver: Resolver) -> Built:
    """One row per unordered city pair and kind, stored as city_a_id < city_b_id."""
    rejects, matches = Rejects(rows, "agreements"), Matches(rows, "agreements")
    frame = rows.copy()
    for side in ("a", "b"):
        columns = (f"city_{side}_name", f"city_{side}_country_code", f"city_{side}_admin1_code")
        frame = resolve_cities(frame, resolver, rejects, matches, columns, f"city_{side}_id")
    same = frame.index[frame["city_a_id"] == frame["city_b_id"]]
    rejects.add(
        same, "self_pair", "both sides are the same city", "city_a_id", frame.loc[same, "city_a_id"]
    )
    frame = frame.drop(index=same)
    swap = frame["city_a_id"] > frame["city_b_id"]
    for a, b in (("city_a_id", "city_b_id"), ("city_a_name", "city_b_name")):
        first, second = frame[a].copy(), frame[b].copy()
        frame[a] = first.where(~swap, second)
        frame[b] = second.where(~swap, first)
    frame = frame.rename(
        columns={"city_a_name": "city_a_source_name", "city_b_name": "city_b_source_name"}
    )
    frame["is_reciprocal"] = pd.NA  # a registry row states an agreement, not who records it
    frame["agreement_id"] = [
        stable_id("agr", a, b, k)
        for a, b, k in zip(frame["city_a_id"], frame["city_b_id"], frame["kind"], strict=True)
    ]
    return accept(frame, Agreements, "agreement_id", rejects, matches)


COMMITMENT_INPUTS = ["stage", "target_type", "sector", "stated_kind", "source_id"]
DISTINGUISHING = ("sector", "target_type", "stage")


def build_commitments(rows: pd.DataFrame, resolver: Resolver) -> Built:
    """One row per stated commitment of a city, from any source's rows in the registry's
    columns (plus, where the source has them, stage, target_type, stated_kind, source_id
    and population). A percentage may be written '55', '55%' or 55."""
    rows = rows.assign(**{c: None for c in COMMITMENT_INPUTS if c not in rows.columns})
    rejects, matches = Rejects(rows, "commitments"), Matches(rows, "commitments")
    columns = ("city_name", "country_code", "admin1_code")
    frame = resolve_cities(rows, resolver, rejects, matches, columns, "city_id")
    frame = frame.rename(columns={"city_name": "city_source_name"})
    frame["reduction_pct"] = frame["reduction_pct"].map(percentage)
    numbers = ["target_year", "baseline_year", "reduction_pct"]
    frame["commitment_id"] = [
        stable_id(
            "com",
            row.city_id,
            row.kind,
            *(canonical_number(getattr(row, n)) for n in numbers),
            row.source,
            *distinguishing(row._asdict()),
        )
        for row in frame[
            ["city_id", "kind", *numbers, "source", "source_id", "stated_text", *DISTINGUISHING]
        ].itertuples(index=False)
    ]
    frame["commitment_key"] = [
        stable_id("cmk", city, kind, canonical_number(year))
        for city, kind, year in frame[["city_id", "kind", "target_year"]].itertuples(index=False)
    ]
    return accept(frame, Commitments, "commitment_id", rejects, matches)


def distinguishing(row: dict) -> list[str]:
    """What tells apart a city's targets that agree in kind, years and percentage:
    sector, target type and stage where given (CDP's energy and transport targets, an
    absolute and an intensity one); and, in a source whose records have ids of their own
    (CDP, the Net Zero Tracker), the source's words, since two of its rows are two targets
    (Recife's two 2050 energy targets state no number). Only what is given is added, so
    the registry's ids stay as they were."""
    parts = [f"{n}={row[n]}" for n in DISTINGUISHING if isinstance(row[n], str)]
    if isinstance(row["source_id"], str) and isinstance(row["stated_text"], str):
        parts.append(f"stated_text={row['stated_text']}")
    return parts


def percentage(value: object) -> object:
    """'55%', '55 %' and '55' as 55.0; anything else as given, for validation to reject."""
    if isinstance(value, str):
        text = value.strip().removesuffix("%").strip()
        try:
            return float(text)
        except ValueError:
            return value
    return value


def build_city_emissions(rows: pd.DataFrame, resolver: Resolver) -> Built:
    """One row per city emissions inventory a source reports, its city found."""
    rejects, matches = Rejects(rows, "city_emissions"), Matches(rows, "city_emissions")
    columns = ("city_name", "country_code", "admin1_code")
    frame = resolve_cities(rows, resolver, rejects, matches, columns, "city_id")
    frame = frame.rename(columns={"city_name": "city_source_name"})
    frame["emissions_id"] = [
        stable_id("emi", source, account, period)
        for source, account, period in frame[
            ["source", "source_id", "accounting_period"]
        ].itertuples(index=False)
    ]
    return accept(frame, CityEmissions, "emissions_id", rejects, matches)


def build_assessments(rows: pd.DataFrame, resolver: Resolver) -> Built:
    """One row per city a source assessed, with what it states for the city's targets."""
    rejects, matches = Rejects(rows, "assessments"), Matches(rows, "assessments")
    columns = ("city_name", "country_code", "admin1_code")
    frame = resolve_cities(rows, resolver, rejects, matches, columns, "city_id")
    frame = frame.rename(columns={"city_name": "city_source_name"})
    frame["assessment_id"] = [
        stable_id("asm", source, city)
        for source, city in frame[["source", "city_id"]].itertuples(index=False)
    ]
    return accept(frame, Assessments, "assessment_id", rejects, matches)


CROSSWALK_KEY = SPELLING_KEY


def _by_spelling(matches: list[pd.DataFrame], resolved: bool, **columns: tuple) -> pd.DataFrame:
    """The references that did (or did not) resolve, one row per source spelling."""
    frame = pd.concat([m for m in matches if not m.empty] or [empty_matches()])
    frame = frame[frame["city_id"].notna() == resolved]
    grouped = frame.groupby(CROSSWALK_KEY, dropna=False, sort=True)
    return grouped.agg(snapshot_id=("snapshot_id", "first"), rows=("method", "size"), **columns)


def build_city_ids(matches: list[pd.DataFrame]) -> pd.DataFrame:
    """One row per source spelling that resolved, with its city and how it was found."""
    table = _by_spelling(
        matches,
        True,
        city_id=("city_id", "first"),
        method=("method", "first"),
        confidence=("confidence", "first"),
        runner_up_id=("runner_up_id", "first"),
        wikidata_qid=("wikidata_qid", "first"),
    ).reset_index()
    table["geonames_id"] = geonames_ids(table["city_id"])
    return CityIds.validate(table[list(CityIds.to_schema().columns)]).reset_index(drop=True)


def geonames_ids(city_ids: pd.Series) -> pd.Series:
    """The GeoNames id of each 'gn:' city id; null for 'wd:' ones."""
    geonames = city_ids.where(city_ids.str.startswith("gn:"))
    return geonames.str.removeprefix("gn:").astype("Int64")


def build_unresolved_names(matches: list[pd.DataFrame]) -> pd.DataFrame:
    """One row per source spelling the resolver could not settle, with its candidates."""
    table = _by_spelling(
        matches,
        False,
        outcome=("method", "first"),
        reason=("reason", "first"),
        candidate_ids=("candidate_ids", "first"),
    ).reset_index()
    columns = list(UnresolvedNames.to_schema().columns)
    return UnresolvedNames.validate(table[columns]).reset_index(drop=True)


def resolution_quality(city_ids: pd.DataFrame, unresolved: pd.DataFrame) -> dict:
    """Per source: input rows, rows resolved by each method, unresolved, ambiguous, conflict."""
    quality: dict[str, dict] = {}
    for source in sorted(set(city_ids["source"]) | set(unresolved["source"])):
        found = city_ids[city_ids["source"] == source].groupby("method")["rows"].sum()
        lost = unresolved[unresolved["source"] == source].groupby("outcome")["rows"].sum()
        quality[source] = {
            "rows": int(found.sum() + lost.sum()),
            "resolved": {str(k): int(v) for k, v in found.items()},
            **{outcome: int(lost.get(outcome, 0)) for outcome in NO_MATCH},
        }
    return quality


def city_references(
    networks: pd.DataFrame,
    memberships: pd.DataFrame,
    agreements: pd.DataFrame,
    commitments: pd.DataFrame,
    assessments: pd.DataFrame,
    city_emissions: pd.DataFrame,
    city_ids: pd.DataFrame,
) -> list[pd.Series]:
    """Every column of the other tables that names a city: what `cities` must cover. The
    columns are the foreign keys to cities that datapackage.json declares (FOREIGN_KEYS)."""
    frames = {
        "networks": networks,
        "memberships": memberships,
        "agreements": agreements,
        "commitments": commitments,
        "assessments": assessments,
        "city_emissions": city_emissions,
        "city_ids": city_ids,
    }
    return [
        frames[table][columns[0]]
        for table, keys in FOREIGN_KEYS.items()
        for columns, target, _ in keys
        if target == "cities"
    ]


def build_cities(
    gazetteer: pd.DataFrame, admin1: pd.DataFrame, places: pd.DataFrame, *city_ids: pd.Series
) -> pd.DataFrame:
    """Every city some other table refers to: its gazetteer row with admin1 name, or for a
    'wd:' city its Wikidata item. `places` are the Wikidata items with the city each one
    is (see build_wikidata.identify_items); a GeoNames city takes the QID and kinds of the
    item matched to it."""
    wanted = set(pd.concat([ids.dropna() for ids in city_ids]).unique())
    geonames = {int(c.removeprefix("gn:")) for c in wanted if c.startswith("gn:")}
    rows = gazetteer[gazetteer["geonames_id"].isin(geonames)].copy()
    rows["city_id"] = "gn:" + rows["geonames_id"].astype("str")
    linked = linked_items(places)
    rows["wikidata_qid"] = rows["city_id"].map(linked["qid"])
    rows["kinds"] = rows["city_id"].map(linked["kinds"])
    rows["source"] = "geonames"
    names = admin1[["country_code", "admin1_code", "admin1_name"]]
    rows = rows.merge(names, on=["country_code", "admin1_code"], how="left")
    rows = rows.sort_values("geonames_id")
    own = places[places["city_id"].isin(wanted) & places["city_id"].str.startswith("wd:")]
    items = own.assign(
        name=own["label"].where(own["label"].notna(), own["qid"]),  # no label: the QID
        ascii_name=None,
        admin1_code=None,
        admin1_name=None,
        geonames_id=pd.NA,
        wikidata_qid=own["qid"],
        feature_code=None,
        source="wikidata",
    ).sort_values("qid", key=lambda q: q.str[1:].astype(int))
    columns = column_order(Cities)
    parts = [part[columns] for part in (rows, items) if not part.empty]
    table = pd.concat(parts, ignore_index=True) if parts else rows[columns]
    return Cities.validate(table).reset_index(drop=True)


def linked_items(places: pd.DataFrame) -> pd.DataFrame:
    """For each GeoNames city some Wikidata item was matched to, the one item it takes
    (QID and kinds): the item whose own GeoNames id (P1566) named it first, then the
    surest match, then the oldest item (lowest QID number)."""
    matched = places[places["city_id"].notna() & places["city_id"].str.startswith("gn:")]
    if matched.empty:
        return pd.DataFrame({"qid": pd.Series(dtype=object), "kinds": pd.Series(dtype=object)})
    ranked = matched.assign(
        by_id=matched["method"] != "id",
        surest=-matched["confidence"].astype(float),
        number=matched["qid"].str[1:].astype(int),
    ).sort_values(["city_id", "by_id", "surest", "number"])
    return ranked.drop_duplicates("city_id").set_index("city_id")[["qid", "kinds"]]


def build_sources(files: list[SourceFile], infos: list[SourceInfo]) -> pd.DataFrame:
    """One row per file the build read, with its publisher's licence and attribution."""
    by_slug = {info.slug: info for info in infos}
    rows = [
        {
            "snapshot_id": f.snapshot_id,
            "source": f.source,
            "role": f.role,
            "file_name": f.file_name,
            "publisher": by_slug[f.source].publisher,
            "origin": f.origin,
            "licence": by_slug[f.source].licence,
            "attribution": by_slug[f.source].attribution,
            "sha256": f.sha256,
            "bytes": f.bytes,
            "retrieved_at": f.retrieved_at,
            "note": f.note,
        }
        for f in files
    ]
    return Sources.validate(pd.DataFrame(rows, columns=list(Sources.to_schema().columns)))


def concat_rejects(frames: list[pd.DataFrame]) -> pd.DataFrame:
    """Several reject frames as one `rejected_rows` frame."""
    kept = [f for f in frames if not f.empty]
    if not kept:
        return empty_rejects()
    return RejectedRows.validate(pd.concat(kept, ignore_index=True)[REJECT_COLUMNS])
