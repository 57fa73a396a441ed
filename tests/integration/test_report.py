"""report.html of a release built offline, opened in Debian's chromium: it renders with no
error and fetches nothing but its own file."""

import os
import struct
from pathlib import Path

import duckdb
import pytest

from pipeline.publish import DUCKDB_FILE
from pipeline.report import render_report

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def require_chromium() -> Path:
    """Debian's chromium; absent on a plain machine (skip), present in CI (`make browser`)."""
    if not CHROMIUM.is_file():
        if os.environ.get("CI"):
            pytest.fail(f"CI must have chromium at {CHROMIUM} (make browser installs it)")
        pytest.skip(f"chromium not found at {CHROMIUM}; `make browser` installs it")
    return CHROMIUM


def png_size(png: bytes) -> tuple[int, int]:
    """Width and height from a PNG's IHDR chunk, which always comes first."""
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and png[12:16] == b"IHDR"
    width, height = struct.unpack(">II", png[16:24])
    return width, height


def test_the_report_renders_offline_with_no_error(release_home: Path, tmp_path: Path) -> None:
    from playwright.sync_api import ConsoleMessage, Request, sync_playwright

    chromium = require_chromium()
    database = release_home / "warehouse" / "releases" / "latest" / DUCKDB_FILE
    with duckdb.connect(str(database), read_only=True) as con:
        version = con.execute("SELECT value FROM release_info WHERE key = 'version'").fetchone()
        agreements = con.execute("SELECT count(*) FROM agreements").fetchone()
        placed = con.execute(
            "SELECT count(DISTINCT city_id) FROM memberships JOIN cities USING (city_id) "
            "WHERE left_year IS NULL AND latitude IS NOT NULL AND longitude IS NOT NULL"
        ).fetchone()
    assert version and agreements and placed and placed[0] > 0
    report = tmp_path / "report.html"
    report.write_text(render_report(database), encoding="utf-8")
    screenshot = tmp_path / "report.png"

    errors: list[str] = []
    requests: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(chromium), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 800})

            def console(message: ConsoleMessage) -> None:
                if message.type == "error":
                    errors.append(f"console: {message.text}")

            def request(sent: Request) -> None:
                if sent.url != report.as_uri():
                    requests.append(sent.url)

            page.on("console", console)
            page.on("pageerror", lambda error: errors.append(f"page: {error}"))
            page.on("request", request)
            page.goto(report.as_uri(), wait_until="load")
            heading = page.locator("h1").inner_text()
            circles = page.locator("svg.map circle").count()
            page.screenshot(path=str(screenshot), full_page=True)
        finally:
            browser.close()

    assert errors == []
    assert requests == []  # anything fetched means the page is not self-contained
    assert heading == f"citydiplomacy release {version[0]}"
    assert circles == placed[0]
    png = screenshot.read_bytes()
    assert len(png) > 10_000
    width, height = png_size(png)
    assert width == 1280
    assert height > 800  # the full page, taller than the window
