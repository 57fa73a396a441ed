"""The Wikidata benchmark's conversion and counts on a tiny hand-written crawl in the 2016
crawl's TSV format (and on the real crawl when ../shared/data is present): the SPARQL JSON
pages the parser accepts, the paging, the made-up statement ids, the fake QIDs of the 10x
copies, and the figures of a whole measurement. Timings are never asserted."""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from assets.build_wikidata import PLACE_COLUMNS
from assets.sources.wikidata import parse_sparql_json, qid_of, twinning_statements
from bench.wikidata.crawl import (
    CRAWL,
    FAKE_OFFSET,
    VARIABLES,
    Crawl,
    bindings,
    fake_qid,
    places,
    read_crawl,
    scaled,
    sparql_pages,
    statement_uris,
)
from bench.wikidata.measure import build, measure_size, parse_pages, ratios
from bench.wikidata.run import main

# Q1 and Q2 state each other; Q3 states Q1 twice (the same link as two statements) and Q1
# does not state it back.
RELATIONS = "Q1\tQ2\nQ2\tQ1\nQ3\tQ1\nQ3\tQ1\n"
NAMES = "Q1\tBielefeld\nQ2\tRochdale\nQ3\tWeimar\n"
STATEMENT_URI = re.compile(
    r"^http://www\.wikidata\.org/entity/statement/(Q[1-9][0-9]*)-"
    r"[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$"
)


def write_crawl(root: Path, relations: str = RELATIONS, names: str = NAMES) -> Path:
    """A data folder holding the crawl at its place in ../shared/data."""
    folder = root / CRAWL
    folder.mkdir(parents=True)
    (folder / "relations.tsv").write_text(relations, encoding="utf-8")
    (folder / "names.tsv").write_text(names, encoding="utf-8")
    return root


@pytest.fixture
def crawl(tmp_path: Path) -> Crawl:
    return read_crawl(write_crawl(tmp_path) / CRAWL)


def all_bindings(pages: list[bytes]) -> list[dict[str, Any]]:
    return [b for page in pages for b in json.loads(page)["results"]["bindings"]]


def test_the_crawl_is_read_as_written(crawl: Crawl) -> None:
    assert crawl.relations == [("Q1", "Q2"), ("Q2", "Q1"), ("Q3", "Q1"), ("Q3", "Q1")]
    assert crawl.names == {"Q1": "Bielefeld", "Q2": "Rochdale", "Q3": "Weimar"}
    assert crawl.qids == {"Q1", "Q2", "Q3"}


def test_a_line_that_is_no_qid_pair_is_refused(tmp_path: Path) -> None:
    folder = write_crawl(tmp_path, relations="Q1\tQ2\nQ1 Q3\n") / CRAWL
    with pytest.raises(ValueError, match=r"relations\.tsv:2"):
        read_crawl(folder)


def test_pages_are_sparql_json_the_parser_accepts(crawl: Crawl) -> None:
    pages = sparql_pages(crawl.relations, page_size=2)
    # 2 + 2 statements, then the empty page the live fetch asks for after a full one
    assert [len(json.loads(p)["results"]["bindings"]) for p in pages] == [2, 2, 0]
    assert VARIABLES == [
        "item",
        "twin",
        "statement",
        "rank",
        "start",
        "startPrecision",
        "end",
        "endPrecision",
        "reference",
    ]
    rows = []
    for number, page in enumerate(pages):
        assert json.loads(page)["head"] == {"vars": VARIABLES}
        rows += parse_sparql_json(page, f"page {number}")
    assert len(rows) == 4
    assert {r["rank"] for r in rows} == {"http://wikiba.se/ontology#NormalRank"}
    statements = twinning_statements(rows, "pages")
    assert Counter((s.subject, s.object) for s in statements) == {
        ("Q1", "Q2"): 1,
        ("Q2", "Q1"): 1,
        ("Q3", "Q1"): 2,
    }
    assert {s.rank for s in statements} == {"normal"}
    assert all(s.start_year is None and s.references == () for s in statements)


def test_pages_hold_page_size_statements_in_statement_order(crawl: Crawl) -> None:
    pages = sparql_pages(crawl.relations, page_size=3)
    assert [len(json.loads(p)["results"]["bindings"]) for p in pages] == [3, 1]
    uris = [b["statement"]["value"] for b in all_bindings(pages)]
    assert uris == sorted(uris)  # the query's ORDER BY ?statement
    assert len(sparql_pages([], page_size=3)) == 1  # an empty result is one empty page


def test_each_row_gets_its_own_statement_id_in_the_live_form(crawl: Crawl) -> None:
    uris = statement_uris(crawl.relations)
    assert len(set(uris)) == 4  # the repeated row is two statements
    for (item, _), uri in zip(crawl.relations, uris, strict=True):
        match = STATEMENT_URI.match(uri)
        assert match is not None and match.group(1) == item
    assert statement_uris(crawl.relations) == uris  # the same on every run
    frame = parse_pages(sparql_pages(crawl.relations, page_size=2))
    assert frame["statement_id"].is_unique and len(frame) == 4
    assert frame["statement_id"].str.match(r"^Q[1-3]\$[0-9a-f-]{36}$").all()


def test_copies_map_both_ends_of_a_pair_alike(crawl: Crawl) -> None:
    assert fake_qid("Q1", 0) == "Q1"
    assert fake_qid("Q1", 3) == "Q3000000001"
    ten = scaled(crawl, 10)
    assert len(ten.relations) == 40
    for k in range(10):
        assert ten.relations[4 * k : 4 * k + 4] == [
            (fake_qid(a, k), fake_qid(b, k)) for a, b in crawl.relations
        ]
    assert ten.relations[4 * 3] == ("Q3000000001", "Q3000000002")
    assert ten.names["Q9000000002"] == "Rochdale"
    fakes = ten.qids - crawl.qids
    assert len(ten.qids) == 30 and len(fakes) == 27
    assert not fakes & crawl.qids
    assert min(int(q[1:]) for q in fakes) > FAKE_OFFSET
    # every copy's solutions are in the live format, with fake ids the parser accepts
    assert {qid_of(b["item"]["value"]) for b in bindings(ten.relations)} == {
        fake_qid(q, k) for k in range(10) for q in ("Q1", "Q2", "Q3")
    }
    with pytest.raises(ValueError):
        scaled(crawl, 0)


def test_every_item_is_its_own_city(crawl: Crawl) -> None:
    frame = places(crawl)
    assert list(frame.columns) == PLACE_COLUMNS
    assert frame["qid"].tolist() == ["Q1", "Q2", "Q3"]
    assert frame["city_id"].tolist() == ["wd:Q1", "wd:Q2", "wd:Q3"]
    assert set(frame["method"]) == {"wikidata_item"} and set(frame["confidence"]) == {1.0}
    assert frame["label"].tolist() == ["Bielefeld", "Rochdale", "Weimar"]
    unnamed = places(Crawl(crawl.relations, {"Q1": "Bielefeld"}))
    assert pd.isna(unnamed["label"].iloc[2])  # an item names.tsv lacks has no label


def test_a_measurement_counts_what_went_in_and_came_out(crawl: Crawl) -> None:
    one = measure_size(crawl, 1, repeats=1, page_size=2)
    assert (one["directed_rows"], one["items"], one["pages"]) == (4, 3, 3)
    assert (one["statements"], one["agreements"], one["reciprocal"]) == (4, 2, 1)
    assert (one["rejected"], one["rejected_by_rule"]) == (0, {})
    assert one["parse"]["runs"] == one["build"]["runs"] == 1
    assert one["parse"]["calls"] == one["build"]["calls"] == 4
    ten = measure_size(crawl, 10, repeats=1, page_size=2)
    assert (ten["statements"], ten["agreements"], ten["reciprocal"], ten["rejected"]) == (
        40,
        20,
        10,
        0,
    )
    assert ten["pages"] == 21  # 40 statements, 2 a page, then an empty page
    assert ratios(one, ten)["size_ratio"] == 10.0


def test_the_agreements_built_from_the_pages(crawl: Crawl) -> None:
    built = build(parse_pages(sparql_pages(crawl.relations)), places(crawl))
    table = built.table.set_index(["city_a_id", "city_b_id"])
    assert sorted(table.index) == [("wd:Q1", "wd:Q2"), ("wd:Q1", "wd:Q3")]
    assert table.loc[("wd:Q1", "wd:Q2"), "is_reciprocal"]
    one_way = table.loc[("wd:Q1", "wd:Q3")]
    assert not one_way["is_reciprocal"]
    assert one_way["citation"].count("Q3$") == 2  # both statements cited
    assert (one_way["city_a_source_name"], one_way["city_b_source_name"]) == ("Bielefeld", "Weimar")
    assert built.rejected.empty


def test_ratios_are_large_over_small() -> None:
    def size(statements: int, parse: float, build: float) -> dict[str, Any]:
        return {
            "statements": statements,
            "parse": {"seconds_min": parse, "seconds_median": parse * 2},
            "build": {"seconds_min": build, "seconds_median": build},
        }

    assert ratios(size(100, 1.0, 2.0), size(1000, 9.5, 30.0)) == {
        "size_ratio": 10.0,
        "parse_seconds_min": 9.5,
        "parse_seconds_median": 9.5,
        "build_seconds_min": 15.0,
        "build_seconds_median": 15.0,
    }


def test_the_command_writes_its_figures(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = write_crawl(tmp_path / "data")
    out = tmp_path / "wikidata.json"
    assert main(["--data", str(data), "--repeats", "1", "--json", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "== scaling: 10x / 1x ==" in printed and "target: at most" in printed
    report = json.loads(out.read_text(encoding="utf-8"))
    assert [s["factor"] for s in report["sizes"]] == [1, 10]
    assert [s["agreements"] for s in report["sizes"]] == [2, 20]
    assert report["repeats"] == 1 and report["ratios"]["size_ratio"] == 10.0


def test_the_command_names_a_missing_folder(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "nowhere"
    assert main(["--data", str(missing), "--json", str(tmp_path / "out.json")]) == 2
    assert f"{missing} is missing" in capsys.readouterr().err
    tmp_path.joinpath("empty").mkdir()
    assert main(["--data", str(tmp_path / "empty")]) == 2
    assert f"{tmp_path / 'empty' / CRAWL} is missing" in capsys.readouterr().err
    assert not (tmp_path / "out.json").exists()


def test_the_real_crawl(shared_data: Path) -> None:
    """The 2016 crawl at 1x: one solution per directed row, and one agreement per
    undirected pair. Its 3 repeated rows (4 extra copies, e.g. Q3104 -> Q213560 twice) get
    statement ids of their own, so all 34,182 rows stay statements and fold into their
    pair's agreement; it has no self-pairs, so nothing is rejected."""
    crawl = read_crawl(shared_data / CRAWL)
    repeated = Counter(crawl.relations)
    assert sum(n - 1 for n in repeated.values() if n > 1) == 4
    assert not any(a == b for a, b in crawl.relations)
    pages = sparql_pages(crawl.relations)
    assert [len(json.loads(p)["results"]["bindings"]) for p in pages] == [
        10_000,
        10_000,
        10_000,
        4_182,
    ]
    figures = measure_size(crawl, 1, repeats=1)
    assert (figures["directed_rows"], figures["statements"]) == (34_182, 34_182)
    assert figures["items"] == 10_055
    assert (figures["agreements"], figures["rejected"]) == (17_401, 0)
    assert figures["reciprocal"] == 16_777
