"""Pure functions that build the core tables from parsed source frames.

Every builder returns the accepted rows and the rejected ones (with rule and reason), so a
row is either published or recorded in `rejected_rows`, never silently dropped.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

import pandas as pd
import pandera.pandas as pa
from pandera.errors import SchemaErrors

from assets.resolve import NameIndex, explain
from assets.sources import SourceFile, SourceInfo
from schemas.agreements import Agreements
from schemas.cities import Cities
from schemas.commitments import Commitments
from schemas.memberships import Memberships
from schemas.networks import Networks
from schemas.provenance import Provenance
from schemas.rejected_rows import RejectedRows
from schemas.sources import Sources

REJECT_COLUMNS = list(RejectedRows.to_schema().columns)
PROVENANCE_COLUMNS = list(Provenance.to_schema().columns)


class SchemaChangedError(ValueError):
    """A frame fails its schema as a whole (a column missing or retyped): the source
    changed, so the run stops instead of rejecting every row."""


@dataclass(frozen=True)
class Built:
    table: pd.DataFrame
    rejected: pd.DataFrame


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


def rejects_for(
    rows: pd.DataFrame,
    table_name: str,
    rule: str,
    column: str | None,
    reasons: pd.Series | str,
    records: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """rejected_rows entries for `rows`; `records` (same index) keeps the input as read."""
    if rows.empty:
        return empty_rejects()
    originals = records.loc[rows.index] if records is not None else rows
    payload = originals.drop(columns=["source_row", "source", "snapshot_id"], errors="ignore")
    return pd.DataFrame(
        {
            "table_name": table_name,
            "source": rows["source"],
            "snapshot_id": rows["snapshot_id"],
            "source_row": rows.get("source_row"),
            "rule": rule,
            "column_name": column,
            "value": rows[column].astype("str") if column in rows.columns else None,
            "reason": reasons,
            "record": [
                json.dumps(r, ensure_ascii=False, default=str)
                for r in payload.astype(object).where(payload.notna(), None).to_dict("records")
            ],
        },
        index=rows.index,
    )[REJECT_COLUMNS]


def split_valid_rows(frame: pd.DataFrame, model: type[pa.DataFrameModel], table_name: str) -> Built:
    """Validate; move rows that break a row-level rule to rejects, keep the rest.

    A failed coercion makes later checks fail for the whole column, so validation repeats
    on the remaining rows until only whole-frame failures (a changed source) are left.
    """
    rejected = [empty_rejects()]
    remaining = frame
    for _ in range(10):
        try:
            valid = model.validate(remaining, lazy=True)
            return Built(valid.reset_index(drop=True), concat_rejects(rejected))
        except SchemaErrors as errors:
            cases = errors.failure_cases
            row_cases = cases[cases["index"].notna()]
            if row_cases.empty:
                raise SchemaChangedError(
                    f"{table_name}: the frame as a whole fails its schema:\n"
                    f"{cases.to_string(max_rows=20)}"
                ) from errors
            for (index, check), group in row_cases.groupby(["index", "check"], sort=True):
                row = remaining.loc[[index]]
                column = group["column"].iloc[0] if len(group) == 1 else None
                if column == table_name:
                    column = None
                value = str(group["failure_case"].iloc[0]) if column else None
                reason = f"{check} failed" + (f" on {column}={value!r}" if column else "")
                entry = rejects_for(row, table_name, str(check), None, reason)
                entry["column_name"] = column
                entry["value"] = value
                rejected.append(entry)
            remaining = remaining.drop(index=row_cases["index"].unique())
    raise SchemaChangedError(f"{table_name}: validation did not settle after 10 rounds")


def drop_duplicates(frame: pd.DataFrame, key: str, table_name: str) -> Built:
    """Keep the first row of each key; later ones are rejected as duplicates."""
    duplicated = frame[key].duplicated(keep="first")
    dupes = frame[duplicated]
    first_row = frame.drop_duplicates(key).set_index(key)["source_row"]
    reasons = dupes[key].map(lambda k: f"duplicate of {first_row[k]} ({key} {k})")
    return Built(frame[~duplicated], rejects_for(dupes, table_name, "duplicate", key, reasons))


def resolve_column(
    rows: pd.DataFrame,
    index: NameIndex,
    name: str,
    country: str,
    admin1: str,
) -> tuple[pd.Series, pd.Series]:
    """(city_id, reason) per row; city_id null where unresolved or ambiguous."""
    city_ids: list[str | None] = []
    reasons: list[str | None] = []
    for row in rows.itertuples(index=False):
        values = row._asdict()
        city_name, country_code, admin1_code = values[name], values[country], values[admin1]
        if not city_name or not country_code:
            city_ids.append(None)
            reasons.append(f"{name} and {country} are both needed to find the city")
            continue
        found = index.resolve(city_name, country_code, admin1_code)
        city_ids.append(found.city_id)
        reasons.append(
            None if found.city_id else explain(found, city_name, country_code, admin1_code)
        )
    return (
        pd.Series(city_ids, index=rows.index, dtype="object"),
        pd.Series(reasons, index=rows.index, dtype="object"),
    )


def build_networks(rows: pd.DataFrame, gazetteer: pd.DataFrame) -> tuple[Built, int]:
    """Networks from the registry; returns the result and how many stated HQs were not found.

    An unresolved headquarters keeps the network row: hq_city_name still states it and
    hq_city_id stays null.
    """
    frame = rows.copy()
    has_hq = frame["hq_city_name"].notna() & frame["hq_country_code"].notna()
    index = NameIndex(gazetteer, frame.loc[has_hq, "hq_country_code"].unique())
    frame["hq_admin1_code"] = None
    hq_ids, _ = resolve_column(
        frame[has_hq], index, "hq_city_name", "hq_country_code", "hq_admin1_code"
    )
    frame["hq_city_id"] = hq_ids.reindex(frame.index)
    unresolved_hq = int((has_hq & frame["hq_city_id"].isna()).sum())
    deduped = drop_duplicates(frame, "network_id", "networks")
    built = split_valid_rows(deduped.table[column_order(Networks)], Networks, "networks")
    return Built(built.table, concat_rejects([deduped.rejected, built.rejected])), unresolved_hq


def build_memberships(rows: pd.DataFrame, gazetteer: pd.DataFrame, networks: pd.DataFrame) -> Built:
    """One row per network and member city; the city found in the gazetteer."""
    frame = rows.copy()
    index = NameIndex(gazetteer, frame["country_code"].dropna().unique())
    frame["city_id"], reasons = resolve_column(
        frame, index, "city_name", "country_code", "admin1_code"
    )
    unresolved = frame[frame["city_id"].isna()]
    unknown_network = frame[
        frame["city_id"].notna() & ~frame["network_id"].isin(networks["network_id"])
    ]
    rejected = [
        rejects_for(
            unresolved, "memberships", "city_unresolved", "city_name", reasons[unresolved.index]
        ),
        rejects_for(
            unknown_network,
            "memberships",
            "foreign_key",
            "network_id",
            "network_id is not in networks",
        ),
    ]
    frame = frame.drop(index=unresolved.index.union(unknown_network.index))
    frame = frame.rename(columns={"city_name": "source_city_name", "as_of": "as_of_year"})
    frame["membership_id"] = [
        stable_id("mem", n, c) for n, c in zip(frame["network_id"], frame["city_id"], strict=True)
    ]
    deduped = drop_duplicates(frame, "membership_id", "memberships")
    built = split_valid_rows(deduped.table[column_order(Memberships)], Memberships, "memberships")
    return Built(built.table, concat_rejects([*rejected, deduped.rejected, built.rejected]))


def build_agreements(rows: pd.DataFrame, gazetteer: pd.DataFrame) -> Built:
    """One row per unordered city pair and kind, stored as city_a_id < city_b_id."""
    frame = rows.copy()
    countries = pd.concat([frame["city_a_country_code"], frame["city_b_country_code"]])
    index = NameIndex(gazetteer, countries.dropna().unique())
    rejected = []
    for side in ("a", "b"):
        ids, reasons = resolve_column(
            frame,
            index,
            f"city_{side}_name",
            f"city_{side}_country_code",
            f"city_{side}_admin1_code",
        )
        frame[f"city_{side}_id"] = ids
        unresolved = frame[ids.isna()]
        rejected.append(
            rejects_for(
                unresolved,
                "agreements",
                "city_unresolved",
                f"city_{side}_name",
                reasons[unresolved.index],
            )
        )
        frame = frame.drop(index=unresolved.index)
    same = frame[frame["city_a_id"] == frame["city_b_id"]]
    rejected.append(
        rejects_for(same, "agreements", "self_pair", "city_a_id", "both sides are the same city")
    )
    frame = frame.drop(index=same.index)
    swap = frame["city_a_id"] > frame["city_b_id"]
    for a, b in (("city_a_id", "city_b_id"), ("city_a_name", "city_b_name")):
        frame.loc[swap, [a, b]] = frame.loc[swap, [b, a]].to_numpy()
    frame = frame.rename(
        columns={"city_a_name": "city_a_source_name", "city_b_name": "city_b_source_name"}
    )
    frame["agreement_id"] = [
        stable_id("agr", a, b, k)
        for a, b, k in zip(frame["city_a_id"], frame["city_b_id"], frame["kind"], strict=True)
    ]
    deduped = drop_duplicates(frame, "agreement_id", "agreements")
    built = split_valid_rows(deduped.table[column_order(Agreements)], Agreements, "agreements")
    return Built(built.table, concat_rejects([*rejected, deduped.rejected, built.rejected]))


def build_commitments(rows: pd.DataFrame, gazetteer: pd.DataFrame) -> Built:
    """One row per stated commitment of a city."""
    frame = rows.copy()
    index = NameIndex(gazetteer, frame["country_code"].dropna().unique())
    frame["city_id"], reasons = resolve_column(
        frame, index, "city_name", "country_code", "admin1_code"
    )
    unresolved = frame[frame["city_id"].isna()]
    rejected = rejects_for(
        unresolved, "commitments", "city_unresolved", "city_name", reasons[unresolved.index]
    )
    frame = frame.drop(index=unresolved.index).rename(columns={"city_name": "city_source_name"})
    frame["commitment_id"] = [
        stable_id("com", *key)
        for key in frame[
            ["city_id", "kind", "target_year", "baseline_year", "reduction_pct", "source"]
        ].itertuples(index=False)
    ]
    deduped = drop_duplicates(frame, "commitment_id", "commitments")
    built = split_valid_rows(deduped.table[column_order(Commitments)], Commitments, "commitments")
    return Built(built.table, concat_rejects([rejected, deduped.rejected, built.rejected]))


def build_cities(
    gazetteer: pd.DataFrame, admin1: pd.DataFrame, *city_ids: pd.Series
) -> pd.DataFrame:
    """The gazetteer rows of every city some other table refers to, with admin1 names."""
    wanted = pd.concat([ids.dropna() for ids in city_ids]).unique()
    geonames_ids = {int(c.removeprefix("gn:")) for c in wanted}
    rows = gazetteer[gazetteer["geonames_id"].isin(geonames_ids)].copy()
    rows["city_id"] = "gn:" + rows["geonames_id"].astype("str")
    rows["wikidata_qid"] = None
    rows["source"] = "geonames"
    names = admin1[["country_code", "admin1_code", "admin1_name"]]
    rows = rows.merge(names, on=["country_code", "admin1_code"], how="left")
    rows = rows.sort_values("geonames_id")
    return Cities.validate(rows[column_order(Cities)]).reset_index(drop=True)


def build_sources(files: list[SourceFile], infos: list[SourceInfo]) -> pd.DataFrame:
    """One row per file the build read, with its publisher's licence and attribution."""
    by_slug = {info.slug: info for info in infos}
    rows = [
        {
            "snapshot_id": f.snapshot_id,
            "source": f.source,
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
