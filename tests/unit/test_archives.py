"""The zip checks every archive format goes through (assets.sources.archives): GeoNames'
dump, the Wikidata response bundle and the Net Zero Tracker .xlsx each refuse, naming the
file, a member path that is absolute or climbs out, a member declaring more bytes than the
cap (a zip bomb, refused before anything is inflated) and a member lying about its size."""

from __future__ import annotations

import io
import struct
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType

import pytest

from assets.sources import ParseError, archives, geonames, wikidata
from assets.sources import net_zero_tracker as nzt
from tests.conftest import nzt_workbook
from tests.unit.parser_inputs import sample_zip, unzipped, wikidata_bundle, zipped

NZT_FILE = "snapshot_2022-12-20_13-07-14.xlsx"


@dataclass(frozen=True)
class Format:
    """An archive format: its source, a file name, its parser, a valid archive, the
    module attribute holding its cap, a member its parser always reads and the module and
    attribute holding the cap on all members together."""

    source: str
    file_name: str
    parse: Callable[[bytes], object]
    valid: Callable[[], bytes]
    module: ModuleType
    cap: str
    read: str
    total: tuple[ModuleType, str] = (archives, "MAX_TOTAL_BYTES")

    def __repr__(self) -> str:
        return self.source


FORMATS = [
    Format("geonames", "cities15000.zip", lambda c: geonames.parse_cities(c, "cities15000.zip"),
           sample_zip, geonames, "MAX_UNZIPPED_BYTES", "cities15000.txt"),
    Format("wikidata", wikidata.BUNDLE_FILE, wikidata.read_bundle, wikidata_bundle, wikidata,
           "MAX_BYTES", "index.json", (wikidata, "MAX_BUNDLE_BYTES")),
    Format("net_zero_tracker", NZT_FILE, lambda c: nzt.parse_export(c, NZT_FILE), nzt_workbook,
           nzt, "MAX_UNZIPPED_BYTES", "xl/workbook.xml"),
]  # fmt: skip
formats = pytest.mark.parametrize("archive", FORMATS, ids=repr)


def refused(archive: Format, content: bytes) -> str:
    with pytest.raises(ParseError) as raised:
        archive.parse(content)
    assert (raised.value.source, raised.value.file_name) == (archive.source, archive.file_name)
    return str(raised.value)


def declaring(content: bytes, member: str, size: int) -> bytes:
    """The archive with `member`'s uncompressed size in the central directory (which
    zipfile reads) rewritten to `size`; its data is left as it was."""
    out = bytearray(content)
    at = out.find(b"PK\x01\x02")
    while at != -1:
        (name_length,) = struct.unpack_from("<H", out, at + 28)
        if out[at + 46 : at + 46 + name_length] == member.encode():
            struct.pack_into("<I", out, at + 24, size)
            return bytes(out)
        at = out.find(b"PK\x01\x02", at + 46)
    raise AssertionError(f"no {member} in the central directory")


@formats
@pytest.mark.parametrize("member", ["../x.txt", "a/../../x.txt", "/tmp/x.txt", "C:x.txt"])
def test_a_member_outside_the_archive_s_folder_is_refused(archive: Format, member: str) -> None:
    content = zipped({**unzipped(archive.valid()), member: b"x"})
    message = refused(archive, content)
    assert (
        message == f"{archive.source}: {archive.file_name}, archive: unsafe member path {[member]}"
    )


@formats
def test_a_zip_bomb_is_refused_by_its_declared_size(
    archive: Format, monkeypatch: pytest.MonkeyPatch
) -> None:
    bomb = zipped({**unzipped(archive.valid()), "zeros.bin": b"\0" * 1_000_000})
    assert len(bomb) < len(archive.valid()) + 5_000  # a thousandfold: a zip bomb's shape
    monkeypatch.setattr(archive.module, archive.cap, 100_000)
    assert refused(archive, bomb) == (
        f"{archive.source}: {archive.file_name}, member zeros.bin: declares 1000000 bytes "
        "unzipped, over the cap of 100000"
    )


@formats
def test_many_members_each_under_the_cap_are_refused_by_their_total(
    archive: Format, monkeypatch: pytest.MonkeyPatch
) -> None:
    valid = unzipped(archive.valid())
    members = {f"part-{n}.bin": b"\0" * 90_000 for n in range(20)}
    monkeypatch.setattr(archive.module, archive.cap, 100_000)
    assert max(len(data) for data in valid.values()) < 100_000
    monkeypatch.setattr(*archive.total, 1_000_000)
    total = sum(len(data) for data in valid.values()) + 20 * 90_000
    assert refused(archive, zipped({**valid, **members})) == (
        f"{archive.source}: {archive.file_name}, archive: its {len(valid) + 20} members "
        f"declare {total} bytes unzipped in all, over the cap of 1000000"
    )


@formats
def test_a_member_declaring_4_gb_is_refused_before_it_is_inflated(archive: Format) -> None:
    """The member holds one byte: had anything inflated it, its CRC would have failed
    instead. The format's own cap applies."""
    content = declaring(
        zipped({**unzipped(archive.valid()), "big.bin": b"x"}), "big.bin", 2**32 - 1
    )
    cap = getattr(archive.module, archive.cap)
    assert refused(archive, content) == (
        f"{archive.source}: {archive.file_name}, member big.bin: declares {2**32 - 1} bytes "
        f"unzipped, over the cap of {cap}"
    )


@formats
def test_a_member_that_lies_about_its_size_fails_its_crc(archive: Format) -> None:
    """zipfile inflates no more than the declared size, so a member declaring less than it
    holds is cut short and fails its CRC: a ParseError naming it, never more bytes read."""
    lying = declaring(archive.valid(), archive.read, 10)
    assert refused(archive, lying) == (
        f"{archive.source}: {archive.file_name}, member {archive.read}: damaged member: "
        f"Bad CRC-32 for file {archive.read!r}"
    )


@formats
def test_a_file_that_is_no_zip_is_refused(archive: Format) -> None:
    assert refused(archive, b"<html>Service unavailable</html>") == (
        f"{archive.source}: {archive.file_name}, archive: not a zip file: File is not a zip file"
    )


@pytest.mark.parametrize(
    ("name", "unsafe"),
    [
        ("cities15000.txt", False),
        ("xl/worksheets/sheet1.xml", False),
        ("a..b.txt", False),
        ("../x", True),
        ("a/../../x", True),
        ("..\\x", True),
        ("/etc/passwd", True),
        ("\\\\server\\share\\x", True),
        ("C:x", True),
        ("C:\\x", True),
    ],
)
def test_unsafe_member_paths(name: str, unsafe: bool) -> None:
    assert archives.unsafe_member(name) is unsafe


def test_check_zip_reads_every_member_and_closes_the_archive() -> None:
    """What the .xlsx check does before openpyxl: each member is read (so a damaged one is
    named) and nothing stays open."""
    content = zipped({"a.txt": b"a", "b.txt": b"b" * 1000})
    archives.check_zip(content, "s", "f.zip", 1000)
    with pytest.raises(ParseError, match=r"^s: f\.zip, member b\.txt: declares 1000 bytes"):
        archives.check_zip(content, "s", "f.zip", 999)


def test_read_member_leaves_a_missing_member_to_its_caller() -> None:
    with zipfile.ZipFile(io.BytesIO(zipped({"a.txt": b"a"}))) as archive:
        assert archives.read_member(archive, "a.txt", "s", "f.zip") == b"a"
        with pytest.raises(KeyError):
            archives.read_member(archive, "b.txt", "s", "f.zip")
