"""CSV for people: a cell a spreadsheet would run as a formula is shown, not run."""

import csv
import io

import pytest

from pipeline.exports import safe_cell, write_csv


@pytest.mark.parametrize(
    ("given", "written"),
    [
        ('=HYPERLINK("http://x","y")', '\'=HYPERLINK("http://x","y")'),
        ("+cmd|' /C calc'!A0", "'+cmd|' /C calc'!A0"),
        ("-2+3", "'-2+3"),
        ("@SUM(1+1)", "'@SUM(1+1)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("-46.63611", "-46.63611"),  # a number cannot be a formula: it stays a number
        ("+1e5", "+1e5"),
        ("São Paulo", "São Paulo"),
        ("a=b", "a=b"),
        (-70.26, -70.26),
        (None, None),
    ],
)
def test_formula_starts_are_neutralised(given: object, written: object) -> None:
    assert safe_cell(given) == written


def test_write_csv_neutralises_every_cell_and_counts_rows() -> None:
    out = io.StringIO()
    rows = [{"name": "=1+1", "note": "@x"}, {"name": "Kraków", "note": None}]
    assert write_csv(out, ["name", "note"], rows) == 2
    assert list(csv.reader(io.StringIO(out.getvalue()))) == [
        ["name", "note"],
        ["'=1+1", "'@x"],
        ["Kraków", ""],
    ]
