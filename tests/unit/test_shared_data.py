"""The parsers on the real recorded GeoNames dump in ../shared/data (skipped when absent)."""

from pathlib import Path

from assets.sources import geonames
from schemas.gazetteer import Gazetteer


def test_real_gazetteer_parses_whole(shared_data: Path) -> None:
    content = (shared_data / "geonames" / "cities15000.txt").read_bytes()
    frame = geonames.parse_cities(content, "cities15000.txt")
    assert len(frame) == 32_847
    assert frame["geonames_id"].is_unique
    frame["snapshot_id"] = "test"
    Gazetteer.validate(frame)
    tokyo = frame.set_index("geonames_id").loc[1850147]
    assert (tokyo["name"], tokyo["country_code"]) == ("Tokyo", "JP")


def test_real_country_table_parses_whole(shared_data: Path) -> None:
    frame = geonames.parse_countries((shared_data / "geonames" / "countryInfo.txt").read_bytes())
    assert len(frame) == 252
    assert frame["country_code"].is_unique
    assert "NA" in set(frame["country_code"])  # Namibia, not a missing value
