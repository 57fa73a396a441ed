"""Net Zero Tracker: the export spreadsheet of net zero and other emissions targets.

The Tracker assesses every city of more than 500,000 people, with or without a target, and
publishes the whole table as an .xlsx export whose URL carries its timestamp
(``https://download.zerotracker.net/csv/snapshot_<timestamp>.xlsx``). With no stable URL to
fetch, a user downloads the export and stores it with ``citydip import net_zero_tracker``.

The parser reads the city rows: each end target and each interim target becomes a
commitment, and every city row an assessment, so "no target" stays apart from "not covered".
Regions, countries and companies are counted, not read.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, replace
from datetime import date, datetime

import pandas as pd

from assets.sources import TARGET_COLUMNS, ParseError, SourceFile, SourceInfo, archives
from pipeline.snapshots import Snapshot, SnapshotStore

SOURCE = SourceInfo(
    slug="net_zero_tracker",
    publisher="Net Zero Tracker (Energy and Climate Intelligence Unit, Data-Driven EnviroLab, "
    "NewClimate Institute, Oxford Net Zero)",
    licence="CC BY 4.0",
    # the wording zerotracker.net/methodology asks users to cite
    attribution="Net Zero Tracker. Energy and Climate Intelligence Unit, Data-Driven "
    "EnviroLab, NewClimate Institute, Oxford Net Zero.",
    homepage="https://zerotracker.net/",
)

# The export's columns (2022-12 layout). The parser needs READ_COLUMNS; any other column it
# does not know is reported, so a new column is seen without stopping the build.
EXPORT_COLUMNS = (
    "last_updated", "id_code", "name", "country", "actor_type", "isin_id",
    "race_to_zero_member", "end_target", "end_target_percentage_reduction",
    "end_target_baseline_year", "end_target_intensity_unit", "end_target_baseline_emissions",
    "end_target_target_emissions", "end_target_bau_emissions", "end_target_other",
    "end_target_year", "end_target_status", "status_date", "interim_target",
    "interim_target_percentage_reduction", "interim_target_baseline_year",
    "interim_target_intensity_unit", "interim_target_baseline_emissions",
    "interim_target_target_emissions", "interim_target_bau_emissions",
    "interim_target_other", "interim_target_year", "end_target_text", "interim_target_text",
    "target_notes", "source_url", "gasses_coverage", "territorial_emissions",
    "consumption_emissions", "international_aviation", "international_shipping", "scope_1",
    "scope_2", "scope_3", "historical_emissions", "coverage_notes", "has_plan",
    "plan_options", "reporting_mechanism", "equity", "accountability", "governance_notes",
    "carbon_credit_offsets", "carbon_credit_conditions", "max_emission_offset",
    "conditions_other", "removals_targets", "cdr", "sinks_and_credits_notes", "memberships",
    "gdp_real", "annual_revenue", "population", "industry", "sector", "employees",
    "market_index", "ghg", "inventory_year", "higher_net_zero",
)  # fmt: skip
STAGES = ("end", "interim")
READ_COLUMNS = (
    "last_updated",
    "id_code",
    "name",
    "country",
    "actor_type",
    *(
        f"{stage}_target{suffix}"
        for stage in STAGES
        for suffix in (
            "",
            "_percentage_reduction",
            "_baseline_year",
            "_year",
            "_text",
            "_other",
        )
    ),
    "end_target_status",
    "source_url",
    "population",
)
CITY = "City"
NO_TARGET = "No target"

# The Tracker's target categories, coded as commitment kinds; a category not listed here
# keeps its own name as kind, so validation rejects the row and names it.
KINDS = {
    "Net zero": "net_zero",
    "Climate neutral": "climate_neutral",
    "Carbon neutral(ity)": "carbon_neutral",
    "GHG neutral(ity)": "ghg_neutral",
    "Zero carbon": "zero_carbon",
    "Zero emissions": "zero_emissions",
    "Climate positive": "climate_positive",
    "1.5°C target": "aligned_1_5c",
    "Emissions reduction target": "emissions_reduction",
    "Absolute emissions target": "emissions_reduction",
    "Emissions intensity target": "emissions_reduction",
    "Reduction v. BAU": "emissions_reduction",
    "Other": "other",
}
# Only the categories that say how a reduction is measured get a target type.
TARGET_TYPES = {
    "Emissions intensity target": "base_year_intensity",
    "Reduction v. BAU": "baseline_scenario",
}
# An .xlsx is a zip: no member may declare more than this unzipped (the 2022-12 export's
# sheet is 7 MB), so a zip bomb is refused before openpyxl inflates anything.
MAX_UNZIPPED_BYTES = 256 << 20
# Excel's last row. openpyxl yields every missing row before a far one, so a sheet that
# names a row past this is refused there rather than read for hours.
MAX_ROWS = 1_048_576
_EXPORT_DATE = re.compile(r"snapshot_(\d{4}-\d{2}-\d{2})")
_URL_START = re.compile(r",(?=https?://)")


@dataclass(frozen=True)
class Export:
    """The city rows of one export, what else it held, and the columns it added."""

    cities: pd.DataFrame
    skipped: dict[str, int]
    unknown_columns: list[str]


def parse_export(content: bytes, file_name: str) -> Export:
    """The export's city rows as text (numbers written plainly: 2050, 23.14), with
    `source_row` ('<file> row N', N as Excel numbers rows) and a citation.

    A missing or renamed column stops the parse with a ParseError naming it. The zip is
    checked before openpyxl opens it (assets.sources.archives): unsafe member paths,
    members over MAX_UNZIPPED_BYTES and damaged members are refused, naming the member.
    """
    from openpyxl import load_workbook

    archives.check_zip(content, SOURCE.slug, file_name, MAX_UNZIPPED_BYTES)

    try:
        book = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception as error:  # openpyxl raises zip, XML, key and value errors alike
        raise ParseError(
            SOURCE.slug, file_name, "file", f"not an .xlsx workbook ({error!r})"
        ) from error
    number = 1
    try:
        sheet = book.worksheets[0]
        # the sheet's declared dimension is not trusted: a wrong one drops the rows past it,
        # a wide one pads every missing row to thousands of cells
        sheet.reset_dimensions()
        rows = sheet.iter_rows(values_only=True)
        header = [_text(cell) for cell in next(rows, ())]
        columns = [(name or "").lower() for name in header]
        missing = [c for c in READ_COLUMNS if c not in columns]
        if missing:
            raise ParseError(
                SOURCE.slug,
                file_name,
                f"sheet {sheet.title!r} row 1",
                f"missing column(s) {missing}; the header is {header}",
            )
        where = {name: columns.index(name) for name in READ_COLUMNS}
        records = []
        skipped: dict[str, int] = {}
        for number, values in enumerate(rows, start=2):
            if number > MAX_ROWS:
                problem = f"past Excel's last row {MAX_ROWS}"
                raise ParseError(SOURCE.slug, file_name, f"row {number}", problem)
            if not any(v is not None and str(v).strip() for v in values):
                continue
            record = {name: _cell(values, i) for name, i in where.items()}
            kind = record["actor_type"] or "(none)"
            if kind != CITY:
                skipped[kind] = skipped.get(kind, 0) + 1
                continue
            at = where["last_updated"]
            record["last_updated"] = _date(values[at] if at < len(values) else None)
            record["source_row"] = f"{file_name} row {number}"
            records.append(record)
    except ParseError:
        raise
    except Exception as error:  # a damaged sheet fails while its rows are read
        raise ParseError(
            SOURCE.slug, file_name, f"row {number}", f"the sheet cannot be read ({error!r})"
        ) from error
    finally:
        book.close()
    cities = pd.DataFrame(records, columns=[*READ_COLUMNS, "source_row"], dtype="object")
    cities["citation"] = [
        _citation(file_name, code, name, url)
        for code, name, url in zip(
            cities["id_code"], cities["name"], cities["source_url"], strict=True
        )
    ]
    cities["source_url"] = cities["source_url"].map(_first_url)
    unknown = [c for c in columns if c and c not in EXPORT_COLUMNS]
    return Export(cities, skipped, unknown)


def city_targets(cities: pd.DataFrame) -> pd.DataFrame:
    """One row per end or interim target a city row states (not 'No target', not blank),
    in the columns the commitments builder reads."""
    rows = []
    for city in cities.to_dict("records"):
        for stage in STAGES:
            label = city[f"{stage}_target"]
            if label is None or label == NO_TARGET:
                continue
            rows.append(
                {
                    "city_name": city["name"],
                    "country_code": city["country"],
                    "admin1_code": None,
                    "latitude": None,
                    "longitude": None,
                    "population": city["population"],
                    "kind": KINDS.get(label, label),
                    "stage": stage,
                    "target_type": TARGET_TYPES.get(label),
                    "sector": None,
                    "target_year": city[f"{stage}_target_year"],
                    "baseline_year": city[f"{stage}_target_baseline_year"],
                    "reduction_pct": city[f"{stage}_target_percentage_reduction"],
                    # the Tracker states a status for the end target only
                    "status": city["end_target_status"] if stage == "end" else None,
                    "stated_kind": label,
                    "stated_text": city[f"{stage}_target_text"] or city[f"{stage}_target_other"],
                    "source_id": city["id_code"],
                    "source_url": city["source_url"],
                    "citation": city["citation"],
                    "source_row": f"{city['source_row']} ({stage} target)",
                }
            )
    return pd.DataFrame(rows, columns=TARGET_COLUMNS, dtype="object")


def city_assessments(cities: pd.DataFrame) -> pd.DataFrame:
    """One row per city row: what the Tracker states for its end and interim targets,
    'No target' included."""
    stated = cities[["end_target", "interim_target"]]
    has_any = stated.notna().any(axis=1)
    has_target = (stated.notna() & (stated != NO_TARGET)).any(axis=1)
    return pd.DataFrame(
        {
            "city_name": cities["name"],
            "country_code": cities["country"],
            "admin1_code": None,
            "population": cities["population"],
            "has_target": has_target.where(has_any, None).astype(object),
            "end_target_stated": cities["end_target"],
            "interim_target_stated": cities["interim_target"],
            "last_updated": cities["last_updated"],
            "source_id": cities["id_code"],
            "source_url": cities["source_url"],
            "citation": cities["citation"],
            "source_row": cities["source_row"],
        }
    )


def check_import(file_name: str, content: bytes) -> None:
    """Refuse a file that is not a Net Zero Tracker export with city rows."""
    export = parse_export(content, file_name)
    if export.cities.empty:
        raise ParseError(SOURCE.slug, file_name, "file", "the export has no City rows")


def export_date(file_name: str) -> str | None:
    """'2022-12-20' from 'snapshot_2022-12-20_13-07-14.xlsx'; None for another name."""
    match = _EXPORT_DATE.search(file_name)
    return match.group(1) if match else None


def select_files(store: SnapshotStore) -> dict[str, SourceFile | None]:
    """The newest export stored: by the date in its name, then by when it was stored; an
    export renamed without its date comes after every dated one."""
    snapshots = store.snapshots(SOURCE.slug)
    if not snapshots:
        return {"export": None}

    def vintage(snapshot: Snapshot) -> tuple[bool, str, str]:
        # an export whose name gives no date ranks below every dated one: when it was
        # stored says nothing of when it was exported
        dated = export_date(snapshot.file_name)
        return dated is not None, dated or "", snapshot.retrieved_at

    newest = max(snapshots, key=vintage)
    file = SourceFile.from_snapshot(newest, "export")
    dated = export_date(newest.file_name)
    note = f"export of {dated}" if dated else None
    return {"export": replace(file, note=note)}


def _text(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    text = str(value).strip()
    return text or None


def _cell(values: tuple, index: int) -> str | None:
    return _text(values[index]) if index < len(values) else None


def _date(value: object) -> str | None:
    if isinstance(value, datetime | date):
        return value.strftime("%Y-%m-%d")
    text = _text(value)
    if text and re.match(r"^\d{4}-\d{2}-\d{2}", text):
        return text[:10]
    return None


def _urls(text: str | None) -> list[str]:
    return [u.strip() for u in _URL_START.split(text)] if text else []


def _first_url(text: str | None) -> str | None:
    urls = [u for u in _urls(text) if re.match(r"^https?://\S+$", u)]
    return urls[0] if urls else None


def _citation(file_name: str, code: str | None, name: str | None, urls: str | None) -> str:
    documents = _urls(urls)
    cited = f"; documents: {', '.join(documents)}" if documents else ""
    return f"Net Zero Tracker export {file_name}, actor {code} ({name}){cited}"
