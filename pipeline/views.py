"""Analyst views: the joins most questions start with, defined once in SQL. The DuckDB file
has them as views; the release's views.sql creates them over the Parquet files too."""

from __future__ import annotations

import duckdb

VIEWS_FILE = "views.sql"

# name -> (description, SELECT); each reads only published tables.
VIEWS: dict[str, tuple[str, str]] = {
    "agreement_pairs": (
        "Each agreement with both cities' names, countries and coordinates beside it.",
        """SELECT a.agreement_id, a.kind, a.start_year, a.end_year, a.status,
       a.city_a_id, ca.name AS city_a_name, ca.country_code AS city_a_country,
       ca.latitude AS city_a_latitude, ca.longitude AS city_a_longitude,
       a.city_b_id, cb.name AS city_b_name, cb.country_code AS city_b_country,
       cb.latitude AS city_b_latitude, cb.longitude AS city_b_longitude,
       a.source, a.source_url
FROM agreements a
JOIN cities ca ON ca.city_id = a.city_a_id
JOIN cities cb ON cb.city_id = a.city_b_id""",
    ),
    "network_members": (
        "Each membership with the network's name and the city's name, country and "
        "coordinates; is_current is true while no left_year is known.",
        """SELECT m.network_id, n.name AS network_name, n.acronym, m.city_id,
       c.name AS city_name, c.country_code, c.latitude, c.longitude,
       m.role, m.joined_year, m.left_year, m.left_year IS NULL AS is_current,
       m.source, m.source_url
FROM memberships m
JOIN networks n USING (network_id)
JOIN cities c USING (city_id)""",
    ),
    "city_profile": (
        "One row per city: how many networks it is a current member of, how many "
        "agreements and commitments it has, and its latest target year with that "
        "commitment's kind (null when it has no dated commitment; of two kinds with the "
        "same latest year, the later alphabetically).",
        """SELECT c.city_id, c.name, c.country_code, c.admin1_name, c.latitude, c.longitude,
       c.population,
       coalesce(m.networks, 0) AS networks,
       coalesce(a.agreements, 0) AS agreements,
       coalesce(t.commitments, 0) AS commitments,
       t.latest_target_year, t.latest_target_kind
FROM cities c
LEFT JOIN (
    SELECT city_id, count(DISTINCT network_id) AS networks
    FROM memberships WHERE left_year IS NULL GROUP BY city_id
) m USING (city_id)
LEFT JOIN (
    SELECT city_id, count(*) AS agreements FROM (
        SELECT city_a_id AS city_id FROM agreements
        UNION ALL SELECT city_b_id FROM agreements
    ) GROUP BY city_id
) a USING (city_id)
LEFT JOIN (
    SELECT city_id, count(*) AS commitments, max(target_year) AS latest_target_year,
           arg_max(kind, (target_year, kind)) FILTER (WHERE target_year IS NOT NULL)
               AS latest_target_kind
    FROM commitments GROUP BY city_id
) t USING (city_id)""",
    ),
}


def create_views(con: duckdb.DuckDBPyConnection, comments: bool = True) -> None:
    """Create every view on the connection's tables (or views over Parquet files)."""
    for name, (description, select) in VIEWS.items():
        con.execute(f'CREATE OR REPLACE VIEW "{name}" AS {select}')
        if comments:
            quoted = description.replace("'", "''")
            con.execute(f"COMMENT ON VIEW \"{name}\" IS '{quoted}'")


def views_sql() -> str:
    """views.sql: the views as statements a Parquet user can run after creating one view
    per Parquet file (as the README shows)."""
    parts = ["-- The release's analyst views; the tables they read are the Parquet files."]
    for name, (description, select) in VIEWS.items():
        parts.append(f"-- {description}\nCREATE OR REPLACE VIEW {name} AS\n{select};")
    return "\n\n".join(parts) + "\n"


def dictionary_section() -> str:
    """The views' entries in DATA_DICTIONARY.md, each with its SQL."""
    lines = ["## Views (DuckDB file; views.sql for the Parquet files)", ""]
    for name, (description, select) in VIEWS.items():
        lines += [f"### {name}", "", description, "", "```sql", select, "```", ""]
    return "\n".join(lines)
