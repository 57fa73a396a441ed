"""report.html: a one-page summary of a release, read from the release's own DuckDB file.

Users open the page offline beside the data, so it is self-contained: inline CSS and SVG,
no script, nothing fetched (its Content-Security-Policy allows nothing else). Every text
that comes from the data is escaped.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape
from pathlib import Path

import duckdb

from schemas.published import PUBLISHED

Count = tuple[str, int]
Point = tuple[float, float, str]  # longitude, latitude, label
Line = tuple[float, float, float, float]  # longitude and latitude of each end
# source; names resolved, not resolved; rows resolved, unresolved, ambiguous, conflict
Resolution = tuple[str, int, int, int, int, int, int]

NONE = '<p class="none">none</p>'
TOP_NETWORKS = 20

STYLE = """
body { font: 15px/1.45 system-ui, sans-serif; color: #222; margin: 2rem auto; max-width: 72rem;
       padding: 0 1rem; }
h1 { margin-bottom: .3rem; } h2 { margin-top: 2.2rem; border-bottom: 1px solid #ddd; }
dl { display: grid; grid-template-columns: max-content auto; gap: .1rem 1rem; margin: 0; }
dt { color: #666; } dd { margin: 0; }
table { border-collapse: collapse; } .wide { overflow-x: auto; }
th, td { padding: .15rem .6rem; text-align: left; border-bottom: 1px solid #eee; }
td.n, th.n { text-align: right; font-variant-numeric: tabular-nums; }
.none, .note { color: #666; } .bar { fill: #3b6ea5; }
svg.map { width: 100%; height: auto; background: #f4f8fb; border: 1px solid #ccd; }
"""


def render_report(database: Path) -> str:
    """The report page of the release in `database`, opened read-only (a published
    release is never modified)."""
    with duckdb.connect(str(database), read_only=True) as con:
        present = table_names(con)
        info = read_release_info(con, present)
        sections = [
            (
                "Rows per table and source",
                counts_table(count_rows(con, present), count_rows_by_source(con, present)),
            ),
            (
                "Agreements by decade of signature",
                bar_table("decade", "agreements", count_agreements_by_decade(con, present)),
            ),
            (
                f"Largest networks (top {TOP_NETWORKS})",
                bar_table("network", "members", count_members_by_network(con, present))
                + '<p class="note">Members: memberships with no left_year.</p>',
            ),
            (
                "Commitments by target year",
                bar_table("target year", "commitments", count_commitments_by_year(con, present)),
            ),
            (
                "Resolution quality per source",
                resolution_table(count_resolution_by_source(con, present)),
            ),
            ("Map", world_map(agreement_lines(con, present), member_points(con, present))),
        ]
    version = dict(info).get("version") or database.parent.name
    body = "".join(f"<section><h2>{escape(t)}</h2>{html}</section>" for t, html in sections)
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta http-equiv="Content-Security-Policy" '
        "content=\"default-src 'none'; style-src 'unsafe-inline'\">"
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>citydiplomacy {escape(version)}</title><style>{STYLE}</style></head><body>"
        f"<header><h1>citydiplomacy release {escape(version)}</h1>{info_list(info)}</header>"
        f"<main>{body}</main></body></html>\n"
    )


def table_names(con: duckdb.DuckDBPyConnection) -> set[str]:
    """The tables the file holds: an older release lacks some of today's."""
    return {row[0] for row in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}


def read_release_info(con: duckdb.DuckDBPyConnection, present: set[str]) -> list[tuple[str, str]]:
    """The file's own (key, value) statement of which release it is, if it has one."""
    if "release_info" not in present:
        return []
    return [
        (str(k), str(v)) for k, v in con.execute("SELECT key, value FROM release_info").fetchall()
    ]


def count_rows(con: duckdb.DuckDBPyConnection, present: set[str]) -> list[Count]:
    """Rows of each published table, in release order."""
    return [
        (name, _scalar(con, f'SELECT count(*) FROM "{name}"'))
        for name in PUBLISHED
        if name in present
    ]


def count_rows_by_source(
    con: duckdb.DuckDBPyConnection, present: set[str]
) -> dict[str, dict[str, int]]:
    """Per table with a `source` column: the rows each source gave it."""
    with_source = {
        row[0]
        for row in con.execute(
            "SELECT table_name FROM duckdb_columns() WHERE column_name = 'source'"
        ).fetchall()
    }
    return {
        name: dict(
            con.execute(
                f"SELECT coalesce(source, '(none)'), count(*) FROM \"{name}\" GROUP BY ALL"
            ).fetchall()
        )
        for name in PUBLISHED
        if name in present and name in with_source
    }


def count_agreements_by_decade(con: duckdb.DuckDBPyConnection, present: set[str]) -> list[Count]:
    """Agreements per decade of start_year (a start_date always falls in it); those with
    no known year are their own bucket, never dropped."""
    if "agreements" not in present:
        return []
    rows = con.execute(
        "SELECT start_year // 10 * 10 AS decade, count(*) FROM agreements "
        "GROUP BY decade ORDER BY decade NULLS LAST"
    ).fetchall()
    return [("unknown" if d is None else f"{d}s", n) for d, n in rows]


def count_members_by_network(con: duckdb.DuckDBPyConnection, present: set[str]) -> list[Count]:
    """The networks with the most current members (no left_year), with their names."""
    if not {"memberships", "networks"} <= present:
        return []
    rows = con.execute(
        "SELECT coalesce(n.name, m.network_id), m.network_id, count(*) AS members "
        "FROM memberships m LEFT JOIN networks n USING (network_id) "
        "WHERE m.left_year IS NULL GROUP BY ALL ORDER BY members DESC, 1, 2 LIMIT ?",
        [TOP_NETWORKS],
    ).fetchall()
    return [(f"{name} ({network_id})", n) for name, network_id, n in rows]


def count_commitments_by_year(con: duckdb.DuckDBPyConnection, present: set[str]) -> list[Count]:
    """Commitments per target year; those with no target year are their own bucket."""
    if "commitments" not in present:
        return []
    rows = con.execute(
        "SELECT target_year, count(*) FROM commitments GROUP BY ALL ORDER BY 1 NULLS LAST"
    ).fetchall()
    return [("unknown" if year is None else str(year), n) for year, n in rows]


def count_resolution_by_source(
    con: duckdb.DuckDBPyConnection, present: set[str]
) -> list[Resolution]:
    """Per source, as assets.build.resolution_quality counts it: spellings (names) resolved
    and not, and the input rows behind them, resolved or unresolved, ambiguous, conflict."""
    if not {"city_ids", "unresolved_names"} <= present:
        return []
    return con.execute(
        """
        WITH found AS (
            SELECT source, count(*) AS names, sum(rows) AS rows FROM city_ids GROUP BY source
        ), lost AS (
            SELECT source, count(*) AS names,
                   sum(rows) FILTER (WHERE outcome = 'unresolved') AS unresolved,
                   sum(rows) FILTER (WHERE outcome = 'ambiguous') AS ambiguous,
                   sum(rows) FILTER (WHERE outcome = 'conflict') AS conflict
            FROM unresolved_names GROUP BY source
        )
        SELECT source, coalesce(found.names, 0), coalesce(lost.names, 0),
               coalesce(found.rows, 0), coalesce(unresolved, 0), coalesce(ambiguous, 0),
               coalesce(conflict, 0)
        FROM found FULL JOIN lost USING (source) ORDER BY source
        """
    ).fetchall()


def agreement_lines(con: duckdb.DuckDBPyConnection, present: set[str]) -> tuple[list[Line], int]:
    """Each city pair with an agreement whose two cities have coordinates, and how many
    agreements there are in all (the map says how many it could not draw)."""
    if not {"agreements", "cities"} <= present:
        return [], 0
    lines = con.execute(
        "SELECT DISTINCT a.longitude, a.latitude, b.longitude, b.latitude FROM agreements g "
        "JOIN cities a ON a.city_id = g.city_a_id JOIN cities b ON b.city_id = g.city_b_id "
        "WHERE a.latitude IS NOT NULL AND a.longitude IS NOT NULL "
        "AND b.latitude IS NOT NULL AND b.longitude IS NOT NULL ORDER BY ALL"
    ).fetchall()
    return lines, _scalar(con, "SELECT count(*) FROM agreements")


def member_points(con: duckdb.DuckDBPyConnection, present: set[str]) -> tuple[list[Point], int]:
    """Each current member city (no left_year) with coordinates, labelled with its name
    and networks, and how many current member cities there are in all."""
    if not {"memberships", "cities"} <= present:
        return [], 0
    points = con.execute(
        "SELECT c.longitude, c.latitude, "
        "c.name || ', ' || c.country_code || ': ' || string_agg(DISTINCT m.network_id, ', ' "
        "ORDER BY m.network_id) FROM memberships m JOIN cities c USING (city_id) "
        "WHERE m.left_year IS NULL AND c.latitude IS NOT NULL AND c.longitude IS NOT NULL "
        "GROUP BY c.city_id, c.longitude, c.latitude, c.name, c.country_code ORDER BY ALL"
    ).fetchall()
    return points, _scalar(
        con, "SELECT count(DISTINCT city_id) FROM memberships WHERE left_year IS NULL"
    )


def info_list(info: Sequence[tuple[str, str]]) -> str:
    """The release_info rows as a definition list."""
    if not info:
        return '<p class="note">This file has no release_info table.</p>'
    items = "".join(f"<dt>{escape(k)}</dt><dd>{escape(v)}</dd>" for k, v in info)
    return f"<dl>{items}</dl>"


def counts_table(counts: Sequence[Count], by_source: dict[str, dict[str, int]]) -> str:
    """One row per table: its rows, then the rows each source gave it ('-' for a table
    without a source column)."""
    if not counts:
        return NONE
    sources = sorted({s for per_table in by_source.values() for s in per_table})
    head = "".join(f'<th class="n">{escape(s)}</th>' for s in sources)
    rows = []
    for name, total in counts:
        given = by_source.get(name)
        cells = "".join(
            f'<td class="n">{"-" if given is None else given.get(s, "")}</td>' for s in sources
        )
        rows.append(f'<tr><td>{escape(name)}</td><td class="n">{total}</td>{cells}</tr>')
    return (
        f'<div class="wide"><table><tr><th>table</th><th class="n">rows</th>{head}</tr>'
        f"{''.join(rows)}</table></div>"
    )


def bar_table(label: str, value: str, counts: Sequence[Count]) -> str:
    """A bar chart as a table: label, count and an inline SVG bar scaled to the largest."""
    if not counts:
        return NONE
    most = max(n for _, n in counts) or 1
    rows = "".join(
        f'<tr><td>{escape(name)}</td><td class="n">{n}</td><td><svg width="300" height="12" '
        f'role="img" aria-label="{n}"><rect class="bar" width="{300 * n / most:.1f}" '
        'height="12"/></svg></td></tr>'
        for name, n in counts
    )
    return (
        f'<table><tr><th>{escape(label)}</th><th class="n">{escape(value)}</th><th></th></tr>'
        f"{rows}</table>"
    )


def resolution_table(figures: Sequence[Resolution]) -> str:
    """Resolution figures per source, with the share of input rows resolved."""
    if not figures:
        return NONE
    headers = (
        "names resolved",
        "names not resolved",
        "rows resolved",
        "unresolved",
        "ambiguous",
        "conflict",
        "rows resolved %",
    )
    rows = []
    for source, *numbers in figures:
        total = sum(numbers[2:])
        share = f"{100 * numbers[2] / total:.1f}" if total else ""
        cells = "".join(f'<td class="n">{v}</td>' for v in [*numbers, share])
        rows.append(f"<tr><td>{escape(source)}</td>{cells}</tr>")
    head = "".join(f'<th class="n">{h}</th>' for h in headers)
    return (
        f'<div class="wide"><table><tr><th>source</th>{head}</tr>{"".join(rows)}</table></div>'
        '<p class="note">Names are source spellings (city_ids, unresolved_names); rows are '
        "the input rows that used them.</p>"
    )


def world_map(lines: tuple[list[Line], int], points: tuple[list[Point], int]) -> str:
    """An equirectangular map (x = longitude, y = -latitude) with a 30-degree graticule:
    agreements as straight lines between their cities, member cities as points."""
    (drawn, agreements), (placed, members) = lines, points
    if not drawn and not placed:
        return NONE
    grid = "".join(f"M{x} -90V90" for x in range(-180, 181, 30)) + "".join(
        f"M-180 {y}H180" for y in range(-90, 91, 30)
    )
    paths = "".join(f"M{x1:.2f} {-y1:.2f}L{x2:.2f} {-y2:.2f}" for x1, y1, x2, y2 in drawn)
    dots = "".join(
        f'<circle cx="{x:.2f}" cy="{-y:.2f}" r="0.9"><title>{escape(label)}</title></circle>'
        for x, y, label in placed
    )
    return (
        '<svg class="map" viewBox="-180 -90 360 180" role="img" '
        'aria-label="Agreements and network members on a world map">'
        f'<path d="{grid}" fill="none" stroke="#ccd" stroke-width="0.3"/>'
        '<path d="M-180 0H180M0 -90V90" fill="none" stroke="#aab" stroke-width="0.4"/>'
        f'<path d="{paths}" fill="none" stroke="#c0392b" stroke-opacity="0.6" '
        'stroke-width="0.35"/>'
        f'<g fill="#3b6ea5" fill-opacity="0.8">{dots}</g></svg>'
        f'<p class="note">Red lines: {len(drawn)} city pairs with an agreement (of '
        f"{agreements} agreements; a pair is drawn once, and not at all when a city lacks "
        f"coordinates). Blue points: {len(placed)} of {members} member cities (hover for "
        "name and networks). Graticule every 30 degrees.</p>"
    )


def _scalar(con: duckdb.DuckDBPyConnection, sql: str) -> int:
    row = con.execute(sql).fetchone()
    return int(row[0]) if row else 0
