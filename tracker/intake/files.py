"""Where received files are kept: accepted bytes in the archive, rejected ones in quarantine.

Names are derived from the content hash, so storing the same bytes twice writes the same file and two
different files never collide. Writes are atomic (a temporary file, then a rename).

A file system limits each name to ``NAME_MAX`` (255) *bytes*, and a Vietnamese letter takes 2 or 3 bytes
in UTF-8: every name built here is measured in bytes, cut on a character boundary and keeps its
extension. The name the district gave stays whole in the database (:func:`received_name`).
"""

from __future__ import annotations

import os
import re
import tempfile
import unicodedata
from datetime import date
from pathlib import Path

from tracker.text import nfc

NAME_MAX = 255  # bytes in one path component (ext4, XFS, Btrfs, ZFS; APFS and NTFS count more loosely)
# Stored names stay this far under NAME_MAX, so that a temporary sibling named after a file still fits:
# write_atomic's ".tmp-XXXXXXXX" prefix, or rsync's ".<name>.XXXXXX" while a backup copies the archive.
STORED_NAME_MAX = NAME_MAX - 32
# Longer than any file system allows: not a name a person typed (the database keeps the rest of it).
RECEIVED_NAME_MAX_CHARS = 1000

_UNSAFE = re.compile(r"[\\/:*?\"<>|\x00-\x1f\x7f]+")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]+")
_EXTENSION = re.compile(r"\.[0-9A-Za-z]{1,8}$")  # .xlsx, .xls, .ods, .XLSM; not ". Tuần 26"


def _text(filename: object) -> str:
    """A name as NFC text that encodes to UTF-8: a name read from a disk in another encoding comes with
    lone surrogates (Python's surrogateescape), which become U+FFFD here."""
    text = str(filename or "")
    try:
        raw = text.encode("utf-8", "surrogateescape")  # back to the bytes on the disk
    except UnicodeEncodeError:
        raw = text.encode("utf-8", "surrogatepass")
    return nfc(raw.decode("utf-8", "replace"))


def received_name(filename: str, default: str = "bao-cao.xlsx") -> str:
    """The file's name as the district gave it, for the database and every message: its last path
    component (a browser or a mail client may send a path) in NFC, without control characters (which
    PostgreSQL refuses in text and nobody can read). Only an absurd name, longer than any file system
    allows, is shortened, keeping its extension."""
    name = _CONTROL.sub(" ", _text(filename)).replace("\\", "/").rsplit("/", 1)[-1].strip()
    if len(name) > RECEIVED_NAME_MAX_CHARS:
        stem, ext = split_extension(name)
        name = stem[: RECEIVED_NAME_MAX_CHARS - len(ext)] + ext
    return name or default


def split_extension(name: str) -> tuple[str, str]:
    """``("Báo cáo tuần 26", ".xlsx")``; no extension when the name has no short ASCII one."""
    m = _EXTENSION.search(name)
    if m is None or m.start() == 0:
        return name, ""
    return name[: m.start()], m.group()


def fit_name(name: str, max_bytes: int = STORED_NAME_MAX) -> str:
    """``name`` in at most ``max_bytes`` bytes of UTF-8 (``max_bytes`` ≥ 16): the part before the extension
    is cut on a character boundary, never inside a letter or between a letter and its accents; the
    extension is kept."""
    name = _text(name)
    if len(name.encode()) <= max_bytes:
        return name
    stem, ext = split_extension(name)
    return (cut_text(stem, max_bytes - len(ext.encode())) or "tep") + ext


def cut_text(text: str, max_bytes: int) -> str:
    """The longest start of ``text`` within ``max_bytes`` bytes of UTF-8 that ends between two whole
    characters (a letter keeps the combining marks that follow it, or goes with them), without
    trailing spaces, dots or dashes."""
    size = kept = 0
    for ch in text:
        size += len(ch.encode())
        if size > max_bytes:
            break
        kept += 1
    while 0 < kept < len(text) and unicodedata.combining(text[kept]):
        kept -= 1
    return text[:kept].rstrip(" .-_")


def safe_name(filename: str, default: str = "bao-cao.xlsx", max_bytes: int = STORED_NAME_MAX) -> str:
    """The last part of an uploaded file's name, fit to be stored: nothing a file system chokes on, at
    most ``max_bytes`` bytes.

    Vietnamese letters are kept; path separators, control characters and leading dots are not.
    """
    name = _text(filename).replace("\\", "/").rsplit("/", 1)[-1]
    name = _UNSAFE.sub("-", name)
    name = re.sub(r"\s+", " ", name).strip(" .-")
    return fit_name(name, max_bytes) if name else default


def derived_name(name: str, suffix: str) -> str:
    """A file kept next to ``name``: its stem and ``suffix`` (``bao-cao`` + ``_can-sua.xlsx``), within
    :data:`STORED_NAME_MAX` bytes."""
    stem = split_extension(safe_name(name))[0]
    return (cut_text(stem, STORED_NAME_MAX - len(suffix.encode())) or "tep") + suffix


def write_atomic(path: Path, data: bytes) -> Path:
    """Write ``data`` to ``path`` so that a reader never sees half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    # The temporary name stays short whatever the final one: only its extension is carried over.
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=split_extension(path.name)[1])
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def _prefix(day: date, file_hash: str) -> str:
    return f"{day.isoformat()}_{file_hash[:12]}_"


def archive_path(archive: Path, district: str, as_of: date, file_hash: str, filename: str) -> Path:
    """``archive/HBT/2023-06-30_1a2b3c4d5e6f_bao-cao.xlsx``."""
    prefix = _prefix(as_of, file_hash)
    return archive / district / (prefix + safe_name(filename, max_bytes=STORED_NAME_MAX - len(prefix)))


def quarantine_dir(quarantine: Path, received: date, file_hash: str, filename: str) -> Path:
    """``quarantine/2023-06-30_1a2b3c4d5e6f_bao-cao/``: the original, the error report, the annotated copy.

    A folder already there is another rejection's (the same bytes refused again on the same day for
    another reason, say sent through another district's link): it is never written over, the next free
    one is taken (``..._bao-cao-2/``)."""
    prefix = _prefix(received, file_hash)
    stem = split_extension(safe_name(filename))[0]
    n = 1
    while True:
        tail = f"-{n}" if n > 1 else ""
        folder = quarantine / (prefix + (cut_text(stem, STORED_NAME_MAX - len(prefix) - len(tail)) or "tep") + tail)
        if not folder.exists():
            return folder
        n += 1
