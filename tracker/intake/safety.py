"""Checks that run on untrusted bytes before any spreadsheet library touches them.

Pure functions over bytes and ``zipfile`` objects (no spreadsheet library imported): they decide what
kind of container a file is (by content, never by name), refuse password-protected files, zip bombs and
XML with DTDs, and read zip members with a hard size bound. Every refusal is an
:class:`~tracker.intake.grid.UnreadableWorkbook` with a stable ``code`` and a Vietnamese message first.
"""

from __future__ import annotations

import re
import struct
import zipfile

from tracker.intake.grid import UnreadableWorkbook

MAX_FILE_BYTES = 10 * 1024 * 1024  # a district report is ~10 KB; anything above 10 MB is refused unread
MAX_ZIP_ENTRIES = 1000  # a workbook has ~10-30 parts
MAX_UNCOMPRESSED_TOTAL = 100 * 1024 * 1024  # sum of the sizes the zip declares for its parts
MAX_PART_BYTES = 50 * 1024 * 1024  # one part (a sheet's XML) after decompression
MAX_RATIO = 100  # uncompressed / compressed, for parts above RATIO_MIN_BYTES (XML compresses ~5-20x)
RATIO_MIN_BYTES = 1024 * 1024
MAX_DECLARED_CELLS = 2_000_000  # a sheet declaring a larger used range (e.g. A1:XFD1048576) is refused

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP_MAGIC = b"PK\x03\x04"
EMPTY_ZIP_MAGIC = b"PK\x05\x06"
ODS_MIMETYPE = b"application/vnd.oasis.opendocument.spreadsheet"

_MESSAGES: dict[str, tuple[str, str]] = {
    "too_large": (
        "Tệp quá lớn ({size}); giới hạn là {limit}. Một báo cáo chỉ cần một bảng tính nhỏ.",
        "The file is too large ({size}); the limit is {limit}. A report needs only a small workbook.",
    ),
    "not_workbook": (
        "Tệp không phải là bảng tính đọc được (.xlsx, .xlsm, .xls hoặc .ods){detail}.",
        "The file is not a readable workbook (.xlsx, .xlsm, .xls or .ods){detail}.",
    ),
    "encrypted": (
        "Tệp được bảo vệ bằng mật khẩu nên không đọc được. Hãy gỡ mật khẩu (Tệp → Thông tin → Bảo vệ sổ làm "
        "việc) rồi gửi lại.",
        "The file is password-protected and cannot be read. Remove the password and send it again.",
    ),
    "zip_bomb": (
        "Tệp có cấu trúc nén bất thường ({detail}), có thể là tệp độc hại, nên không được đọc.",
        "The file's compressed structure is abnormal ({detail}), possibly malicious; it was not read.",
    ),
    "xml_attack": (
        "Tệp chứa khai báo XML không được phép (DTD/thực thể) trong phần {detail}, có thể là tệp độc hại, "
        "nên không được đọc.",
        "The file contains forbidden XML declarations (DTD/entities) in part {detail}, possibly malicious; "
        "it was not read.",
    ),
    "too_many_cells": (
        "Trang tính khai báo vùng dữ liệu quá lớn ({detail}) nên không được đọc.",
        "A sheet declares an oversized data range ({detail}); it was not read.",
    ),
    "timeout": (
        "Đọc tệp quá lâu (hơn {detail} giây) nên đã dừng; tệp có thể bị hỏng hoặc độc hại.",
        "Reading the file took too long (over {detail} s) and was stopped; the file may be damaged or malicious.",
    ),
    "crashed": (
        "Trình đọc bảng tính gặp sự cố khi đọc tệp này ({detail}); tệp có thể bị hỏng hoặc độc hại.",
        "The workbook reader failed on this file ({detail}); the file may be damaged or malicious.",
    ),
    "corrupt": (
        "Tệp bảng tính bị hỏng, không đọc được ({detail}). Hãy mở và lưu lại bằng Excel hoặc LibreOffice rồi gửi lại.",
        "The workbook is damaged and cannot be read ({detail}). Open and save it again in Excel or LibreOffice, "
        "then send it again.",
    ),
}


def unreadable(code: str, detail: str = "", detail_en: str | None = None, **fields: str) -> UnreadableWorkbook:
    """The refusal for ``code`` with its Vietnamese and English message filled in.

    ``detail`` goes into both messages unless ``detail_en`` gives the English one.
    """
    vi, en = _MESSAGES[code]
    if detail_en is None:
        detail_en = detail
    if code == "not_workbook":
        detail = f" ({detail})" if detail else ""
        detail_en = f" ({detail_en})" if detail_en else ""
    return UnreadableWorkbook(code, vi.format(detail=detail, **fields), en.format(detail=detail_en, **fields))


def _mb(size: int) -> str:
    return f"{size / 1024 / 1024:.1f} MB".replace(".", ",")


def check_size(data: bytes, limit: int = MAX_FILE_BYTES) -> None:
    """Refuse empty and oversized files before anything reads them."""
    if not data:
        raise unreadable("not_workbook", "tệp rỗng", "empty file")
    if len(data) > limit:
        raise unreadable("too_large", size=_mb(len(data)), limit=_mb(limit))


def sniff_container(data: bytes) -> str:
    """``"zip"`` or ``"ole"`` from the first bytes; anything else (PDF, text, random bytes) is refused."""
    if data.startswith(ZIP_MAGIC) or data.startswith(EMPTY_ZIP_MAGIC):
        return "zip"
    if data.startswith(OLE_MAGIC):
        return "ole"
    raise unreadable("not_workbook")


# ---------------------------------------------------------------------------------------------- zip


def check_zip(zf: zipfile.ZipFile) -> None:
    """Refuse zip bombs before anything decompresses: entry count, declared sizes, ratio, odd names.

    Sizes are the ones the zip declares; :func:`read_member` enforces them while decompressing.
    """
    infos = zf.infolist()
    if len(infos) > MAX_ZIP_ENTRIES:
        raise unreadable(
            "zip_bomb", f"{len(infos)} phần > {MAX_ZIP_ENTRIES}", f"{len(infos)} parts > {MAX_ZIP_ENTRIES}"
        )
    total = 0
    seen: set[str] = set()
    for info in infos:
        name = info.filename
        key = name.replace("\\", "/").lstrip("/").casefold()
        if key in seen:
            raise unreadable("corrupt", f"phần trùng tên {name!r}", f"duplicate part {name!r}")
        seen.add(key)
        if name.startswith(("/", "\\")) or ".." in name.replace("\\", "/").split("/") or "\x00" in name:
            raise unreadable("corrupt", f"tên phần không hợp lệ {name!r}", f"bad part name {name!r}")
        if info.flag_bits & 0x1:
            raise unreadable("encrypted")
        total += info.file_size
        if total > MAX_UNCOMPRESSED_TOTAL:
            raise unreadable(
                "zip_bomb",
                f"hơn {_mb(MAX_UNCOMPRESSED_TOTAL)} sau giải nén",
                f"over {_mb(MAX_UNCOMPRESSED_TOTAL)} uncompressed",
            )
        if info.file_size > MAX_PART_BYTES:
            raise unreadable("zip_bomb", f"{name}: {_mb(info.file_size)} > {_mb(MAX_PART_BYTES)}")
        if info.file_size > RATIO_MIN_BYTES and info.file_size > MAX_RATIO * max(info.compress_size, 1):
            ratio = info.file_size // max(info.compress_size, 1)
            raise unreadable("zip_bomb", f"{name}: tỉ lệ nén {ratio}:1", f"{name}: compression ratio {ratio}:1")


def read_member(zf: zipfile.ZipFile, name: str) -> bytes:
    """A zip member's bytes, never more than it declares nor more than ``MAX_PART_BYTES``."""
    info = zf.getinfo(name)
    limit = min(info.file_size, MAX_PART_BYTES)
    try:
        with zf.open(info) as fh:
            data = fh.read(limit + 1)
    except RuntimeError as exc:  # "File is encrypted, password required"
        raise unreadable("encrypted") from exc
    except (zipfile.BadZipFile, EOFError, OSError, ValueError, NotImplementedError) as exc:
        raise unreadable("corrupt", f"{name}: {exc}") from exc
    except Exception as exc:  # zlib.error and friends
        raise unreadable("corrupt", f"{name}: {exc}") from exc
    if len(data) > limit:
        raise unreadable("zip_bomb", f"{name}: lớn hơn kích thước khai báo", f"{name}: larger than declared")
    return data


def zip_kind(zf: zipfile.ZipFile) -> str:
    """``xlsx``, ``xlsm`` or ``ods`` from the zip's entries; other zips (docx, xlsb, plain archives) are refused."""
    names = set(zf.namelist())
    if "mimetype" in names and "content.xml" in names:
        mimetype = read_member(zf, "mimetype").strip()
        if mimetype == ODS_MIMETYPE:
            return "ods"
        raise unreadable(
            "not_workbook",
            "tài liệu OpenDocument nhưng không phải bảng tính",
            "an OpenDocument file but not a spreadsheet",
        )
    if "[Content_Types].xml" in names:
        if any(n.startswith("xl/") and n.endswith("workbook.bin") for n in names):
            raise unreadable(
                "not_workbook",
                "định dạng .xlsb chưa được hỗ trợ, hãy lưu thành .xlsx",
                ".xlsb is not supported, save it as .xlsx",
            )
        if "xl/workbook.xml" in names or _content_types_mention(zf, b"sheet.main+xml", b"sheet.macroEnabled"):
            macro = "xl/vbaProject.bin" in names or _content_types_mention(zf, b"macroEnabled")
            return "xlsm" if macro else "xlsx"
    raise unreadable("not_workbook")


def _content_types_mention(zf: zipfile.ZipFile, *needles: bytes) -> bool:
    text = read_member(zf, "[Content_Types].xml")
    return any(needle in text for needle in needles)


# ---------------------------------------------------------------------------------------------- xml

_DTD = re.compile(rb"<!\s*(DOCTYPE|ENTITY)", re.IGNORECASE)


def forbid_dtd(part: str, xml: bytes) -> None:
    """Refuse XML that declares a DTD or entities (billion laughs, external entities).

    Spreadsheet XML never has a DTD, so any declaration is refused outright, before a parser sees it;
    UTF-16 parts are checked in their decoded form.
    """
    head = xml[:4]
    if head.startswith((b"\xff\xfe", b"\xfe\xff")) or b"\x00" in head:
        try:
            text = xml.decode("utf-16")
        except UnicodeDecodeError as exc:
            raise unreadable("corrupt", f"{part}: {exc}") from exc
        found = re.search(r"<!\s*(DOCTYPE|ENTITY)", text, re.IGNORECASE) is not None
    else:
        found = _DTD.search(xml) is not None
    if found:
        raise unreadable("xml_attack", part)


# ---------------------------------------------------------------------------------------------- ole


def ole_stream_names(data: bytes) -> set[str]:
    """Names of the entries in an OLE compound file's directory (enough to tell .xls from encrypted OOXML).

    A minimal reader of the format ([MS-CFB]) with every offset bounds-checked and every chain bounded:
    a malformed file raises ``corrupt``, never loops.
    """
    if len(data) < 512 or not data.startswith(OLE_MAGIC):
        raise unreadable("not_workbook")
    try:
        sector_shift = struct.unpack_from("<H", data, 30)[0]
        if sector_shift not in (9, 12):
            raise ValueError(f"sector shift {sector_shift}")
        size = 1 << sector_shift
        n_fat, first_dir = struct.unpack_from("<II", data, 44)
        first_difat, n_difat = struct.unpack_from("<II", data, 68)
        n_sectors = (len(data) - 512) // size + 1

        def sector(index: int) -> bytes:
            if index >= n_sectors:
                raise ValueError(f"sector {index} out of range")
            start = (index + 1) * size
            return data[start : start + size]

        fat_sectors = [s for s in struct.unpack_from("<109I", data, 76) if s < 0xFFFFFFFA][: n_fat or 109]
        difat, hops = first_difat, 0
        while difat < 0xFFFFFFFA and hops < min(n_difat, n_sectors):
            ids = struct.unpack(f"<{size // 4}I", sector(difat))
            fat_sectors += [s for s in ids[:-1] if s < 0xFFFFFFFA]
            difat, hops = ids[-1], hops + 1
        fat: list[int] = []
        for s in fat_sectors[:n_sectors]:
            fat.extend(struct.unpack(f"<{size // 4}I", sector(s)))
        names: set[str] = set()
        current, visited = first_dir, 0
        while current < 0xFFFFFFFA and visited < n_sectors:
            block = sector(current)
            for off in range(0, len(block) - 127, 128):
                name_len = struct.unpack_from("<H", block, off + 64)[0]
                kind = block[off + 66]
                if kind in (1, 2, 5) and 2 <= name_len <= 64:
                    names.add(block[off : off + name_len - 2].decode("utf-16-le", "replace"))
            if current >= len(fat):
                break
            current, visited = fat[current], visited + 1
        return names
    except (struct.error, ValueError) as exc:
        raise unreadable("corrupt", f"OLE: {exc}") from exc


def ole_kind(data: bytes) -> str:
    """``xls`` for a BIFF workbook; refuses encrypted OOXML (``EncryptionInfo``) and other OLE files (.doc)."""
    names = {n.casefold() for n in ole_stream_names(data)}
    if "encryptioninfo" in names or "encryptedpackage" in names:
        raise unreadable("encrypted")
    if "workbook" in names or "book" in names:
        return "xls"
    raise unreadable("not_workbook", "tệp Office nhưng không phải bảng tính", "an Office file but not a workbook")


def parse_range(ref: str) -> tuple[int, int, int, int] | None:
    """``"A3:C4"`` → (3, 1, 4, 3); ``"B2"`` → (2, 2, 2, 2); None when it is not a cell range."""
    parts = ref.strip().upper().replace("$", "").split(":")
    if len(parts) not in (1, 2):
        return None
    cells = [cell_index(p) for p in parts]
    if any(c is None for c in cells):
        return None
    (r1, c1), (r2, c2) = cells[0], cells[-1]  # type: ignore[misc]
    return min(r1, r2), min(c1, c2), max(r1, r2), max(c1, c2)


_REF = re.compile(r"([A-Z]{1,3})([0-9]{1,7})")


def cell_index(ref: str) -> tuple[int, int] | None:
    """``"D9"`` → (9, 4) (row, column, 1-based); None for anything else."""
    m = _REF.fullmatch(ref)
    if not m:
        return None
    col = 0
    for ch in m.group(1):
        col = col * 26 + ord(ch) - 64
    return int(m.group(2)), col


def check_dimension(part: str, ref: str | None) -> None:
    """Refuse a sheet whose declared used range is absurd (``A1:XFD1048576`` makes calamine abort)."""
    if not ref:
        return
    bounds = parse_range(ref)
    if bounds is None:
        return
    r1, c1, r2, c2 = bounds
    cells = (r2 - r1 + 1) * (c2 - c1 + 1)
    if cells > MAX_DECLARED_CELLS:
        raise unreadable("too_many_cells", f"{part}: {ref}")
