"""The volume check: a fetch with sharply fewer rows than the source's last snapshot is
never stored unless acknowledged, for every fetching source."""

import io
import json
import zipfile
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer

from assets.sources import ParseError, geonames
from assets.sources import cdp_emissions as emissions
from assets.sources import wikidata as wd
from pipeline.http import FetchError, build_session
from pipeline.snapshots import Facts, Snapshot, SnapshotStore
from pipeline.volume import MAX_SHRINK, VolumeError, check_volume
from tests.conftest import FIXTURES, gazetteer_dump, serve_geonames_dump, serve_wikidata
from tests.unit.test_wikidata import client_for

EMISSIONS = (FIXTURES / "cdp" / "emissions.csv").read_bytes()


def previous(rows: int | None) -> Snapshot:
    return Snapshot(
        source="geonames",
        snapshot_id="20261101T000000000000Z-0123456789ab",
        file_name="countryInfo.txt",
        origin="u",
        retrieved_at="2026-11-01T00:00:00.000000Z",
        sha256="0" * 64,
        bytes=1,
        licence="CC BY 4.0",
        folder="/nowhere",
        rows=rows,
    )


def never_counted(snapshot: Snapshot) -> int:
    raise AssertionError("the recorded count should have been used")


def test_a_fetch_within_the_limit_or_without_a_previous_snapshot_passes() -> None:
    assert MAX_SHRINK == 0.20
    assert check_volume("geonames", "countryInfo.txt", 80, previous(100), never_counted) is None
    assert check_volume("geonames", "countryInfo.txt", 5, None, never_counted) is None
    assert check_volume("geonames", "countryInfo.txt", 0, previous(0), never_counted) is None


def test_more_than_a_fifth_fewer_rows_is_refused_naming_both_counts() -> None:
    with pytest.raises(VolumeError) as refused:
        check_volume("geonames", "countryInfo.txt", 79, previous(100), never_counted)
    assert str(refused.value) == (
        "geonames: countryInfo.txt has 79 rows, 21% fewer than the 100 of snapshot "
        "20261101T000000000000Z-0123456789ab (limit 20%); not stored. If the source really "
        "shrank, run `citydip release --refresh --accept-shrink geonames`"
    )
    # a refused fetch fails the source like any failed fetch: the last snapshot is kept
    assert isinstance(refused.value, FetchError)


def test_an_empty_fetch_is_refused() -> None:
    with pytest.raises(VolumeError, match="has 0 rows, 100% fewer than the 250"):
        check_volume("wikidata", "b.zip", 0, previous(250), never_counted)


def test_an_acknowledged_drop_passes_with_a_note() -> None:
    note = check_volume("geonames", "countryInfo.txt", 10, previous(100), never_counted, True)
    assert note == (
        "geonames: countryInfo.txt has 10 rows, 90% fewer than the 100 of snapshot "
        "20261101T000000000000Z-0123456789ab (limit 20%); stored because the drop was "
        "acknowledged (--accept-shrink geonames)"
    )


def test_a_snapshot_stored_before_counts_were_recorded_is_counted_again() -> None:
    counted: list[str] = []

    def count(snapshot: Snapshot) -> int:
        counted.append(snapshot.snapshot_id)
        return 1000

    with pytest.raises(VolumeError, match="fewer than the 1,000 of snapshot"):
        check_volume("geonames", "countryInfo.txt", 700, previous(None), count)
    assert counted == ["20261101T000000000000Z-0123456789ab"]


# ------------------------------------------------------------------- each fetching source


def cut_gazetteer(share: float) -> bytes:
    """The test gazetteer zip with only its first `share` of lines."""
    with zipfile.ZipFile(io.BytesIO(gazetteer_dump())) as archive:
        (name,) = archive.namelist()
        lines = archive.read(name).splitlines(keepends=True)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(name, b"".join(lines[: int(len(lines) * share)]))
    return out.getvalue()


def test_geonames_refuses_a_shrunken_gazetteer_then_stores_it_when_acknowledged(
    tmp_path: Path, httpserver: HTTPServer
) -> None:
    store = SnapshotStore(tmp_path)
    base = serve_geonames_dump(httpserver)
    stored, errors = geonames.fetch_dump(store, build_session(retries=0), "cities500", base)
    assert errors == {}
    full = stored[0][0]
    assert full.rows == geonames.check_import("cities500.zip", gazetteer_dump())
    assert full.rows is not None and full.rows > 1000
    manifest = json.loads((Path(full.folder) / "manifest.json").read_text())
    assert manifest["rows"] == full.rows

    httpserver.clear()
    serve_geonames_dump(httpserver, gazetteer=cut_gazetteer(0.5))
    stored, errors = geonames.fetch_dump(store, build_session(retries=0), "cities500", base)
    assert list(errors) == ["cities500.zip"]
    assert errors["cities500.zip"].startswith(
        f"geonames: cities500.zip has {full.rows // 2:,} rows, 50% fewer than the "
        f"{full.rows:,} of snapshot {full.snapshot_id}"
    )
    assert store.latest("geonames", "cities500.zip") == full
    assert [s.file_name for s, created in stored] == ["countryInfo.txt", "admin1CodesASCII.txt"]
    assert not any((tmp_path / "geonames").glob(".tmp-*"))

    stored, errors = geonames.fetch_dump(
        store, build_session(retries=0), "cities500", base, accept_shrink=True
    )
    assert errors == {}
    shrunk = store.latest("geonames", "cities500.zip")
    assert shrunk is not None and shrunk.snapshot_id != full.snapshot_id
    assert shrunk.rows == full.rows // 2
    assert shrunk.note is not None
    assert shrunk.note.endswith(
        "stored because the drop was acknowledged (--accept-shrink geonames)"
    )
    assert geonames.select_files(store, "cities500")["cities"].note == shrunk.note  # type: ignore[union-attr]


def test_geonames_never_stores_an_error_page_answered_with_200(
    tmp_path: Path, httpserver: HTTPServer
) -> None:
    base = serve_geonames_dump(httpserver, gazetteer=b"<html><body>Please wait...</body></html>")
    store = SnapshotStore(tmp_path)
    stored, errors = geonames.fetch_dump(store, build_session(retries=0), "cities500", base)
    assert errors == {
        "cities500.zip": "geonames: cities500.zip, archive: not a zip file: File is not a zip file"
    }
    assert store.latest("geonames", "cities500.zip") is None
    assert len(stored) == 2


def test_geonames_counts_a_previous_snapshot_without_a_recorded_count(
    tmp_path: Path, httpserver: HTTPServer
) -> None:
    store = SnapshotStore(tmp_path)
    # stored by an older version of the store: no row count in its manifest
    old, _ = store.store("geonames", "cities500.zip", [gazetteer_dump()], "u", "CC BY 4.0")
    assert old.rows is None
    base = serve_geonames_dump(httpserver, gazetteer=cut_gazetteer(0.3))
    _, errors = geonames.fetch_dump(store, build_session(retries=0), "cities500", base)
    assert "70% fewer than the" in errors["cities500.zip"]
    assert store.latest("geonames", "cities500.zip") == old


def test_cdp_refuses_a_shrunken_export(tmp_path: Path, httpserver: HTTPServer) -> None:
    header, *rows = EMISSIONS.splitlines(keepends=True)
    assert len(rows) == 3
    httpserver.expect_request("/rows.csv").respond_with_data(header + rows[0])
    store = SnapshotStore(tmp_path)
    full, _ = store.store(
        "cdp_emissions", emissions.FILE_NAME, [EMISSIONS], "u", "CC BY-NC 4.0", facts=Facts(rows=3)
    )
    session = build_session(retries=0)
    with pytest.raises(VolumeError, match="has 1 rows, 67% fewer than the 3 of snapshot"):
        emissions.fetch(store, session, httpserver.url_for("/rows.csv"))
    assert store.snapshots("cdp_emissions") == [full]
    shrunk, created = emissions.fetch(
        store, session, httpserver.url_for("/rows.csv"), accept_shrink=True
    )
    assert created and shrunk.rows == 1 and shrunk.note is not None


def test_cdp_refuses_an_export_with_no_inventory_at_all(
    tmp_path: Path, httpserver: HTTPServer
) -> None:
    httpserver.expect_request("/rows.csv").respond_with_data(EMISSIONS.splitlines()[0] + b"\n")
    store = SnapshotStore(tmp_path)
    with pytest.raises(ParseError, match="no row reports an inventory"):
        emissions.fetch(store, build_session(retries=0), httpserver.url_for("/rows.csv"))
    assert store.snapshots("cdp_emissions") == []


def test_wikidata_refuses_a_fetch_with_far_fewer_statements(
    tmp_path: Path, httpserver: HTTPServer
) -> None:
    serve_wikidata(httpserver)
    store = SnapshotStore(tmp_path)
    first, _ = wd.fetch(store, client_for(httpserver))
    fetched = wd.read_bundle(store.read(first))
    assert first.rows == len(fetched.statements) + len(fetched.memberships)
    assert first.rows is not None and first.rows > 0
    # the same store, as if the last fetch had had ten times as many statements
    bigger, _ = store.store(
        "wikidata",
        wd.BUNDLE_FILE,
        [b"an earlier fetch"],
        "u",
        "CC0 1.0",
        facts=Facts(rows=first.rows * 10),
    )
    with pytest.raises(VolumeError, match=f"has {first.rows} rows, 90% fewer"):
        wd.fetch(store, client_for(httpserver))
    assert store.latest("wikidata") == bigger
