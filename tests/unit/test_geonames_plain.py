"""GeoNames' fast reader (pyarrow, for dumps whose every line is plain) must make exactly
the frame the line-by-line reader makes, or hand the file over to it."""

import os
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from assets.sources import geonames
from tests.conftest import gazetteer_dump

SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "geonames"


def both(content: bytes) -> tuple[pd.DataFrame | None, pd.DataFrame]:
    text = content.decode("utf-8")
    return geonames._read_plain(text, content), geonames._read_line_by_line(text, "x.txt")


def test_the_bundled_dump_is_read_alike_by_both_readers() -> None:
    _, content = geonames._unzip_single(gazetteer_dump(), "cities500.zip")
    plain, lines = both(content)
    assert plain is not None and len(plain) > 200_000
    pd.testing.assert_frame_equal(plain, lines)


def test_the_recorded_cities15000_is_read_alike_by_both_readers() -> None:
    path = SHARED / "cities15000.txt"
    if not path.is_file():
        pytest.skip("recorded source files not found (../shared/data)")
    plain, lines = both(path.read_bytes())
    assert plain is not None and len(plain) == 32_847
    pd.testing.assert_frame_equal(plain, lines)


LINE = "\t".join(
    ["1", "A", "A", "", "1.0", "2.0", "P", "PPL", "CZ", *[""] * 5, "5", "", "", "", ""]
)


def test_blank_lines_keep_every_rows_line_number() -> None:
    plain, lines = both(f"\n{LINE}\n\n{LINE}\n".encode())
    assert plain is not None and list(plain.index) == [2, 4]
    pd.testing.assert_frame_equal(plain, lines)


@pytest.mark.parametrize(
    "content",
    [b"", b"\n\n", LINE.encode() + b"\r\n", (LINE + "\tx\n").encode(), ("a\u2028" + LINE).encode()],
    ids=["empty", "blank", "crlf", "20 fields", "unicode line separator"],
)
def test_anything_but_plain_lines_goes_to_the_line_by_line_reader(content: bytes) -> None:
    assert geonames._read_plain(content.decode(), content) is None


# letters, digits, punctuation, symbols and spaces: no line break of any kind
fields = st.text(alphabet=st.characters(categories=["L", "N", "P", "S", "Zs"]), max_size=6)


@settings(derandomize=bool(os.environ.get("CI")), max_examples=300)
@given(st.lists(st.one_of(st.just(""), st.lists(fields, min_size=19, max_size=19)), max_size=6))
def test_the_fast_reader_reads_any_plain_file_as_the_other_does(lines: list) -> None:
    text = "\n".join(line if isinstance(line, str) else "\t".join(line) for line in lines)
    content = text.encode("utf-8")
    plain = geonames._read_plain(text, content)
    if not any(lines):
        assert plain is None  # nothing to read: the other reader says what it says
        return
    assert plain is not None
    pd.testing.assert_frame_equal(plain, geonames._read_line_by_line(text, "x.txt"))
