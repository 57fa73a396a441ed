"""The analyst views on a hand-made release: counts and the latest target per city."""

import duckdb
import pandas as pd

from pipeline.views import create_views


def test_city_profile_counts_and_picks_the_latest_target_the_same_way_every_time() -> None:
    with duckdb.connect() as con:
        con.register(
            "cities_frame",
            pd.DataFrame(
                {
                    "city_id": ["gn:1", "gn:2"],
                    "name": ["A", "B"],
                    "country_code": ["DE", "FR"],
                    "admin1_name": [None, None],
                    "latitude": [1.0, 2.0],
                    "longitude": [1.0, 2.0],
                    "population": [10, 20],
                }
            ),
        )
        con.execute("CREATE TABLE cities AS SELECT * FROM cities_frame")
        con.execute(
            "CREATE TABLE networks AS SELECT 'c40' AS network_id, 'C40' AS name, 'C40' AS acronym"
        )
        con.execute(
            "CREATE TABLE memberships AS SELECT * FROM (VALUES "
            "('c40', 'gn:1', 'member', 2000, NULL, 'registry', NULL), "
            "('c40', 'gn:2', 'member', 2000, 2010, 'registry', NULL)) "
            "t(network_id, city_id, role, joined_year, left_year, source, source_url)"
        )
        con.execute(
            "CREATE TABLE agreements AS SELECT 'agr:1' AS agreement_id, 'twinning' AS kind, "
            "1950 AS start_year, NULL AS end_year, NULL AS status, 'gn:1' AS city_a_id, "
            "'gn:2' AS city_b_id, 'wikidata' AS source, NULL AS source_url"
        )
        con.execute(
            "CREATE TABLE commitments AS SELECT * FROM (VALUES "
            "('gn:1', 'net_zero', 2050), ('gn:1', 'climate_neutral', 2050), "
            "('gn:1', 'emissions_reduction', 2030), ('gn:1', 'zero_waste', NULL)) "
            "t(city_id, kind, target_year)"
        )
        create_views(con)
        profile = con.execute(
            "SELECT city_id, networks, agreements, commitments, latest_target_year, "
            "latest_target_kind FROM city_profile ORDER BY city_id"
        ).fetchall()
        pairs = con.execute(
            "SELECT city_a_name, city_b_name, city_b_country FROM agreement_pairs"
        ).fetchall()
        members = con.execute(
            "SELECT city_name, is_current FROM network_members ORDER BY city_name"
        ).fetchall()
    assert profile == [
        ("gn:1", 1, 1, 4, 2050, "net_zero"),  # of two 2050 targets, the later by name
        ("gn:2", 0, 1, 0, None, None),  # left its network in 2010
    ]
    assert pairs == [("A", "B", "FR")]
    assert members == [("A", True), ("B", False)]
