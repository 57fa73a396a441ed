"""The sample: a few countries' cities, the rows about them, and nothing that points out."""

import pandas as pd

from pipeline.sample import sample_tables
from tests.unit.test_publish import frame, tables


def test_the_sample_keeps_a_few_countries_and_the_rows_about_them() -> None:
    frames = tables()
    frames["cities"] = frame("cities", 4).assign(
        city_id=["gn:1", "gn:2", "gn:3", "gn:4"], country_code=["DE", "CN", "US", "JP"]
    )
    frames["networks"] = frame("networks", 1).assign(hq_city_id="gn:4")  # headquarters in JP
    frames["memberships"] = frame("memberships", 2).assign(city_id=["gn:1", "gn:2"])
    frames["agreements"] = frame("agreements", 3).assign(
        city_a_id=["gn:1", "gn:1", "gn:2"], city_b_id=["gn:3", "gn:2", "gn:4"]
    )
    frames["unresolved_names"] = frame("unresolved_names", 5).assign(
        source_country=pd.array(["USA", "france", "GBR", "CHN", None], dtype="string")
    )
    sample = sample_tables(frames, ("DE", "FR", "GB", "US"))
    assert list(sample["cities"]["city_id"]) == ["gn:1", "gn:3", "gn:4"]
    assert list(sample["memberships"]["city_id"]) == ["gn:1"]
    assert list(
        zip(sample["agreements"]["city_a_id"], sample["agreements"]["city_b_id"], strict=True)
    ) == [("gn:1", "gn:3")]
    assert list(sample["unresolved_names"]["source_country"]) == ["USA", "france", "GBR"]
    assert len(sample["networks"]) == 1 and len(sample["sources"]) == len(frames["sources"])
