"""Zip archives the parsers read in memory: GeoNames' dump, the Wikidata response bundle
and the Net Zero Tracker's .xlsx. One check for all three, so none can drift from the others.

An archive is refused before anything is inflated when a member's path is absolute, names
a drive or climbs out (`..`), or when a member declares more bytes unzipped than the
caller's cap or all members more than the caller's total (a zip bomb). zipfile never inflates
a member past its declared size, so a member that lies about its size fails its CRC check
instead: a ParseError naming it.
Nothing is ever extracted to disk.
"""

from __future__ import annotations

import io
import lzma
import zipfile
import zlib
from pathlib import PurePosixPath

from assets.sources import ParseError

# What zipfile raises while reading a damaged archive or member: a bad header, directory or
# CRC (BadZipFile); a member offset before the archive's start (ValueError: negative seek);
# a corrupt deflate, bzip2 or LZMA stream (zlib.error, OSError, LZMAError); a stream cut
# short (EOFError); a compression method it does not know or an encrypted member
# (NotImplementedError, RuntimeError).
ZIP_ERRORS = (
    zipfile.BadZipFile,
    ValueError,
    zlib.error,
    lzma.LZMAError,
    EOFError,
    OSError,
    NotImplementedError,
    RuntimeError,
)


# What an archive read whole (GeoNames' dump, an .xlsx that openpyxl loads) may declare in
# all: many members each under their cap are a zip bomb too (GeoNames' cities500 unzips to
# about 40 MB). A reader that holds one member at a time passes its own, larger total.
MAX_TOTAL_BYTES = 1 << 30


def unsafe_member(name: str) -> bool:
    """A member path that would land outside the folder it was extracted into."""
    path = PurePosixPath(name.replace("\\", "/"))
    return path.is_absolute() or ".." in path.parts or ":" in name


def open_zip(
    content: bytes,
    source: str,
    file_name: str,
    max_member_bytes: int,
    max_total_bytes: int | None = None,
) -> zipfile.ZipFile:
    """The archive, with every member's path and declared size checked; nothing inflated.
    The members together may declare `max_total_bytes` (MAX_TOTAL_BYTES when None)."""
    cap = MAX_TOTAL_BYTES if max_total_bytes is None else max_total_bytes
    try:
        archive = zipfile.ZipFile(io.BytesIO(content))
    except ZIP_ERRORS as error:
        raise ParseError(source, file_name, "archive", f"not a zip file: {error}") from error
    members = archive.infolist()
    unsafe = [m.filename for m in members if unsafe_member(m.filename)]
    if unsafe:
        archive.close()
        raise ParseError(source, file_name, "archive", f"unsafe member path {unsafe}")
    for member in members:
        if member.file_size > max_member_bytes:
            archive.close()
            raise ParseError(
                source,
                file_name,
                f"member {member.filename}",
                f"declares {member.file_size} bytes unzipped, over the cap of {max_member_bytes}",
            )
    total = sum(member.file_size for member in members)
    if total > cap:
        archive.close()
        raise ParseError(
            source,
            file_name,
            "archive",
            f"its {len(members)} members declare {total} bytes unzipped in all, over the "
            f"cap of {cap}",
        )
    return archive


def read_member(archive: zipfile.ZipFile, member: str, source: str, file_name: str) -> bytes:
    """One member's bytes; a damaged member is a ParseError naming it (a missing one is
    the caller's KeyError, since what it means differs by format)."""
    try:
        return archive.read(member)
    except ZIP_ERRORS as error:
        raise ParseError(
            source, file_name, f"member {member}", f"damaged member: {error}"
        ) from error


def check_zip(content: bytes, source: str, file_name: str, max_member_bytes: int) -> None:
    """Refuse an archive a third-party reader (openpyxl) will open itself: paths and
    declared sizes first, then every member read once, so a damaged one is named here."""
    with open_zip(content, source, file_name, max_member_bytes) as archive:
        for member in archive.infolist():
            read_member(archive, member.filename, source, file_name)
