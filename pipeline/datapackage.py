"""datapackage.json: the release's Parquet files as a Frictionless Data Package, so that
any Data Package client can read, check and cite them. Written from the same data
dictionary as DATA_DICTIONARY.md and the DuckDB comments, with the release's sources,
licences, bytes and hashes."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from schemas.dictionary import ColumnDoc, TableDoc
from schemas.published import FOREIGN_KEYS

DATAPACKAGE_FILE = "datapackage.json"
FIELD_TYPES = {"VARCHAR": "string", "DOUBLE": "number", "BIGINT": "integer", "BOOLEAN": "boolean"}
# Licence names as the Open Definition / SPDX list spells them.
LICENCE_NAMES = {"CC BY 4.0": "CC-BY-4.0", "CC0 1.0": "CC0-1.0", "ODbL 1.0": "ODbL-1.0"}
_ONE_OF = "one of: "
_MATCHES = "matches "
_BOUND = re.compile(r"^(>=|<=) (-?[0-9.]+)$")


def field(column: ColumnDoc) -> dict[str, Any]:
    """One Table Schema field, its constraints read off the column's rules."""
    kind = FIELD_TYPES[column.dtype]
    constraints: dict[str, Any] = {"required": not column.nullable}
    for rule in column.rules:
        if rule.startswith(_ONE_OF):
            constraints["enum"] = rule.removeprefix(_ONE_OF).split(", ")
        elif rule.startswith(_MATCHES) and kind == "string":
            # Table Schema patterns match the whole value: drop the regex's own anchors
            constraints["pattern"] = rule.removeprefix(_MATCHES).removeprefix("^").removesuffix("$")
        elif bound := _BOUND.match(rule):
            number = float(bound[2]) if kind == "number" else int(float(bound[2]))
            constraints["minimum" if bound[1] == ">=" else "maximum"] = number
    return {
        "name": column.name,
        "type": kind,
        "description": column.description,
        "constraints": constraints,
    }


def table_schema(doc: TableDoc, order: Sequence[str]) -> dict[str, Any]:
    """Fields in the file's column `order`, the key, and the foreign keys the release's
    relation rules enforce. A key with a nullable column is declared unique (uniqueKeys),
    not primary: Table Schema's primary keys may not be null."""
    by_name = {c.name: c for c in doc.columns}
    if sorted(by_name) != sorted(order):
        raise ValueError(
            f"{doc.name}: the file's columns {sorted(order)} are not the documented "
            f"{sorted(by_name)}"
        )
    schema: dict[str, Any] = {
        "fields": [field(by_name[name]) for name in order],
        # Parquet stores real nulls. Readers that go through pandas (frictionless among
        # them) see a null integer or number as NaN, printed "nan": it means missing.
        "missingValues": ["", "nan"],
    }
    nullable = {c.name for c in doc.columns if c.nullable}
    if doc.key and not nullable & set(doc.key):
        schema["primaryKey"] = doc.key
    elif doc.key:
        schema["uniqueKeys"] = [doc.key]
    foreign = [
        {"fields": columns, "reference": {"resource": table, "fields": keys}}
        for columns, table, keys in FOREIGN_KEYS.get(doc.name, [])
    ]
    if foreign:
        schema["foreignKeys"] = foreign
    return schema


def datapackage(
    docs: Sequence[TableDoc],
    files: Sequence[Mapping[str, Any]],
    info: Mapping[str, str],
    sources: Sequence[Mapping[str, Any]],
    columns: Mapping[str, Sequence[str]],
) -> dict[str, Any]:
    """The descriptor: one resource per table (its Parquet file, bytes and sha256 from
    `files`, its fields in the order of `columns`), the release's version and licences,
    and every source snapshot."""
    by_path = {f["path"]: f for f in files}
    resources = []
    for doc in docs:
        path = f"parquet/{doc.name}.parquet"
        resources.append(
            {
                "name": doc.name,
                "path": path,
                "type": "table",
                "format": "parquet",
                "mediatype": "application/vnd.apache.parquet",
                "description": doc.description,
                "bytes": by_path[path]["bytes"],
                "hash": f"sha256:{by_path[path]['sha256']}",
                "schema": table_schema(doc, columns[doc.name]),
            }
        )
    licences = sorted({str(s["licence"]) for s in sources})
    return {
        "$schema": "https://datapackage.org/profiles/2.0/datapackage.json",
        "name": "citydiplomacy",
        "title": "City diplomacy: city networks, memberships, agreements and commitments",
        "version": info["version"],
        "created": info["created_at"],
        "description": (
            f"Release {info['version']} (schema {info['schema_version']}, "
            f"{info.get('edition') or 'open'} edition). {info.get('licence', '')}"
        ).strip(),
        "licenses": [
            {
                **({"name": LICENCE_NAMES[text]} if text in LICENCE_NAMES else {}),
                "title": text,
                "path": "ATTRIBUTION",
            }
            for text in licences
        ],
        "sources": [
            {
                "title": f"{s['publisher']}: {s['file_name']} ({s['snapshot_id']})",
                **({"path": s["origin"]} if str(s["origin"]).startswith("http") else {}),
            }
            for s in sources
        ],
        "resources": resources,
    }
