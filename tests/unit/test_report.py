"""report.html from a tiny release file written as publishing writes one: the figures of
each section, escaping, self-containment, and a release with empty tables."""

from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pytest

from pipeline.publish import write_duckdb
from pipeline.report import render_report
from schemas.published import PUBLISHED

SCRIPT = "<script>alert(1)</script>"
INFO = {
    "version": "2026.11.22",
    "schema_version": "1.2.0",
    "edition": "open",
    "licence": "CC BY 4.0 <see ATTRIBUTION>",
}
CITE = {"citation": "test", "snapshot_id": "s1"}


def frame(table: str, rows: list[dict[str, Any]] | None = None) -> pd.DataFrame:
    """A table's rows as its pandera model accepts them, so the file is a real release's."""
    model = PUBLISHED[table]
    return model.validate(pd.DataFrame(rows or [], columns=list(model.to_schema().columns)))


def city(n: int, name: str, country: str, lat: float | None, lon: float | None) -> dict:
    if lat is None:
        return {
            "city_id": f"wd:Q{n}",
            "name": name,
            "country_code": country,
            "wikidata_qid": f"Q{n}",
            "source": "wikidata",
            "snapshot_id": "s2",
        }
    return {
        "city_id": f"gn:{n}",
        "geonames_id": n,
        "name": name,
        "country_code": country,
        "latitude": lat,
        "longitude": lon,
        "source": "geonames",
        "snapshot_id": "s0",
    }


def agreement(n: int, a: str, b: str, year: int | None, source: str = "registry") -> dict:
    return {
        "agreement_id": f"agr:{n:016x}",
        "city_a_id": a,
        "city_b_id": b,
        "kind": "twinning",
        "start_year": year,
        "city_a_source_name": a,
        "city_b_source_name": b,
        "source": source,
        **CITE,
    }


def membership(n: int, network: str, city_id: str, left: int | None = None) -> dict:
    return {
        "membership_id": f"mem:{n:016x}",
        "network_id": network,
        "city_id": city_id,
        "role": "member",
        "left_year": left,
        "source_city_name": city_id,
        "source": "registry",
        **CITE,
    }


def commitment(n: int, city_id: str, year: int | None) -> dict:
    return {
        "commitment_id": f"com:{n:016x}",
        "commitment_key": f"cmk:{n:016x}",
        "city_id": city_id,
        "kind": "net_zero",
        "target_year": year,
        "city_source_name": city_id,
        "source": "registry",
        **CITE,
    }


def network(network_id: str, name: str) -> dict:
    return {
        "network_id": network_id,
        "name": name,
        "focus": "climate",
        "scope": "global",
        "source": "registry",
        "source_urls": "https://example.org/",
        "snapshot_id": "s1",
    }


def spelling(source: str, name: str, rows: int, outcome: str | None = None) -> dict:
    common = {
        "source": source,
        "source_table": "memberships",
        "source_name": name,
        "rows": rows,
        "snapshot_id": "s1",
    }
    if outcome:
        return {**common, "outcome": outcome, "reason": "no candidate"}
    return {**common, "city_id": "gn:1", "geonames_id": 1, "method": "exact", "confidence": 1.0}


def empty_tables() -> dict[str, pd.DataFrame]:
    return {name: frame(name) for name in PUBLISHED}


def small_tables() -> dict[str, pd.DataFrame]:
    return empty_tables() | {
        "cities": frame(
            "cities",
            [
                city(1, SCRIPT, "FR", 48.85, 2.35),
                city(2, "Kyoto", "JP", 35.0, 135.75),
                city(3, "Boston", "US", 42.36, -71.06),
                city(5, "Nowhere", "ZZ", None, None),
            ],
        ),
        "networks": frame(
            "networks", [network("c40", "C40 & <Cities>"), network("iclei", "ICLEI")]
        ),
        "memberships": frame(
            "memberships",
            [
                membership(1, "c40", "gn:1"),
                membership(2, "c40", "gn:2"),
                membership(3, "c40", "gn:3", left=2020),
                membership(4, "iclei", "gn:1"),
            ],
        ),
        "agreements": frame(
            "agreements",
            [
                agreement(1, "gn:1", "gn:2", 1950),
                agreement(2, "gn:1", "gn:3", 1958),
                agreement(3, "gn:2", "gn:3", None),
                agreement(4, "gn:1", "wd:Q5", 1962, source="wikidata"),
            ],
        ),
        "commitments": frame(
            "commitments",
            [
                commitment(1, "gn:1", 2030),
                commitment(2, "gn:1", 2050),
                commitment(3, "gn:2", 2050),
                commitment(4, "gn:3", None),
            ],
        ),
        "city_ids": frame(
            "city_ids",
            [
                spelling("registry", "Paris", 2),
                spelling("registry", "Paname", 1),
                spelling("registry", "Ville de Paris", 1),
                spelling("wikidata", "Paris", 5),
            ],
        ),
        "unresolved_names": frame(
            "unresolved_names",
            [
                spelling("registry", "Springfield", 2, "unresolved"),
                spelling("wikidata", "Portland", 1, "ambiguous"),
            ],
        ),
    }


class Sections(HTMLParser):
    """Each <h2> section's table rows as lists of cell texts, and the whole text."""

    def __init__(self, page: str) -> None:
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}
        self.heading = ""
        self.cell: list[str] | None = None
        self.in_h2 = False
        self.feed(page)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "h2":
            self.in_h2, self.heading = True, ""
        elif tag == "tr":
            self.tables.setdefault(self.heading, []).append([])
        elif tag in ("td", "th"):
            self.cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag == "h2":
            self.in_h2 = False
        elif tag in ("td", "th") and self.cell is not None:
            self.tables[self.heading][-1].append("".join(self.cell))
            self.cell = None

    def handle_data(self, data: str) -> None:
        if self.in_h2:
            self.heading += data
        elif self.cell is not None:
            self.cell.append(data)


def write_release(path: Path, tables: dict[str, pd.DataFrame]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    write_duckdb(path, tables, info=INFO)
    return path


@pytest.fixture(scope="module")
def page(tmp_path_factory: pytest.TempPathFactory) -> str:
    folder = tmp_path_factory.mktemp("releases") / "2026.11.22"
    return render_report(write_release(folder / "r.duckdb", small_tables()))


def test_the_header_says_which_release(page: str) -> None:
    assert "<h1>citydiplomacy release 2026.11.22</h1>" in page
    assert "<title>citydiplomacy 2026.11.22</title>" in page
    assert "<dt>edition</dt><dd>open</dd>" in page
    assert "<dd>CC BY 4.0 &lt;see ATTRIBUTION&gt;</dd>" in page


def test_counts_per_table_and_per_source(page: str) -> None:
    rows = Sections(page).tables["Rows per table and source"]
    assert rows[0] == ["table", "rows", "geonames", "registry", "wikidata"]
    by_table = {row[0]: row[1:] for row in rows[1:]}
    assert list(by_table) == list(PUBLISHED)
    assert by_table["agreements"] == ["4", "", "3", "1"]
    assert by_table["cities"] == ["4", "3", "", "1"]
    assert by_table["city_ids"] == ["4", "", "3", "1"]
    assert by_table["network_qid_review"] == ["0", "-", "-", "-"]  # no source column
    assert by_table["rejected_rows"] == ["0", "", "", ""]


def test_agreements_by_decade_keep_unknown_dates(page: str) -> None:
    rows = Sections(page).tables["Agreements by decade of signature"]
    assert [row[:2] for row in rows] == [
        ["decade", "agreements"],
        ["1950s", "2"],
        ["1960s", "1"],
        ["unknown", "1"],
    ]


def test_largest_networks_count_current_members_by_name(page: str) -> None:
    rows = Sections(page).tables["Largest networks (top 20)"]
    assert [row[:2] for row in rows[1:]] == [["C40 & <Cities> (c40)", "2"], ["ICLEI (iclei)", "1"]]
    assert "C40 &amp; &lt;Cities&gt; (c40)" in page


def test_commitments_by_target_year(page: str) -> None:
    rows = Sections(page).tables["Commitments by target year"]
    assert [row[:2] for row in rows[1:]] == [["2030", "1"], ["2050", "2"], ["unknown", "1"]]


def test_resolution_quality_per_source(page: str) -> None:
    rows = Sections(page).tables["Resolution quality per source"]
    assert rows[1:] == [
        ["registry", "3", "1", "4", "2", "0", "0", "66.7"],
        ["wikidata", "1", "1", "5", "0", "1", "0", "83.3"],
    ]


def test_the_map_draws_agreements_and_current_members(page: str) -> None:
    svg = page.split('<svg class="map"', 1)[1].split("</svg>", 1)[0]
    assert svg.count("<circle") == 2  # Boston left its only network; Nowhere has no place
    assert 'cx="2.35" cy="-48.85"' in svg
    assert "M2.35 -48.85L135.75 -35.00" in svg  # the first city to Kyoto
    assert "3 city pairs with an agreement (of 4 agreements" in page
    assert "2 of 2 member cities" in page


def test_data_text_is_escaped_and_nothing_is_fetched(page: str) -> None:
    assert "<title>&lt;script&gt;alert(1)&lt;/script&gt;, FR: c40, iclei</title>" in page
    for reference in ("<script", 'src="http', "@import", "url(", "<link", "<img", "<iframe"):
        assert reference not in page


def test_a_release_with_empty_tables_renders(tmp_path: Path) -> None:
    database = write_release(tmp_path / "2026.01.02" / "r.duckdb", empty_tables())
    with duckdb.connect(str(database)) as con:
        con.execute("DROP TABLE release_info")
    page = render_report(database)
    assert "<h1>citydiplomacy release 2026.01.02</h1>" in page  # the folder names it
    assert "no release_info table" in page
    counts = Sections(page).tables["Rows per table and source"]
    assert counts[0] == ["table", "rows"]
    assert {row[1] for row in counts[1:]} == {"0"}
    assert page.count('<p class="none">none</p>') == 5  # every section but the counts
