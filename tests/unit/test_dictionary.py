"""The data dictionary: generated from the models, complete, and in the release."""

import pandera.pandas as pa
from pandera.typing import Series

from schemas.dictionary import DUCKDB_TYPES, dictionary, document, markdown, undocumented
from schemas.published import PUBLISHED


def test_every_published_table_and_column_is_described() -> None:
    docs = dictionary()
    assert [d.name for d in docs] == list(PUBLISHED)
    assert undocumented(docs) == []


def test_an_undescribed_column_is_caught() -> None:
    class Sketch(pa.DataFrameModel):
        described: Series[str] = pa.Field(description="Says what it is.")
        bare: Series[int]

        class Config:
            description = "A table."

    assert undocumented([document("sketch", Sketch)]) == ["sketch.bare"]


def test_every_column_has_a_duckdb_type() -> None:
    types = {c.dtype for d in dictionary() for c in d.columns}
    assert types <= set(DUCKDB_TYPES.values())


def test_the_dictionary_lists_code_lists_keys_and_row_rules() -> None:
    text = markdown(dictionary(), "2026.11.22", "1.2.0")
    commitments = text.split("## commitments\n", 1)[1].split("\n## ", 1)[0]
    assert "Key: `commitment_id` (unique)" in commitments
    assert "- Row rule: A baseline comes before its target year." in commitments
    kind = next(line for line in commitments.splitlines() if line.startswith("| `kind` |"))
    assert "one of: net_zero, climate_neutral, carbon_neutral" in kind
    year = next(line for line in commitments.splitlines() if line.startswith("| `target_year`"))
    assert year.startswith("| `target_year` | BIGINT | yes | >= 2000; <= 2100 | ")
