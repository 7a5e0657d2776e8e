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
import zlib

from tracker.intake.grid import UnreadableCode, UnreadableWorkbook
from tracker.messages import Bilingual, template

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


def unreadable(code: UnreadableCode, detail: str = "", detail_en: str | None = None,
               **fields: str) -> UnreadableWorkbook:
    """The refusal for ``code``, worded by the catalogue (``file_`` + ``code``, :mod:`tracker.messages`).

    ``detail`` goes into both messages unless ``detail_en`` gives the English one.
    """
    wording = template(f"file_{code}", "detail" if code == "not_workbook" and detail else "")
    params = {"detail": Bilingual(detail, detail if detail_en is None else detail_en), **fields}
    return UnreadableWorkbook(code, wording.render("vi", params), wording.render("en", params))


def _mb(size: int) -> str:
    return f"{size / 1024 / 1024:.1f} MB".replace(".", ",")


def check_size(data: bytes, limit: int = MAX_FILE_BYTES) -> None:
    """Refuse empty and oversized files before anything reads them."""
    if not data:
        raise unreadable(UnreadableCode.not_workbook, "tệp rỗng", "empty file")
    if len(data) > limit:
        raise unreadable(UnreadableCode.too_large, size=_mb(len(data)), limit=_mb(limit))


def sniff_container(data: bytes) -> str:
    """``"zip"`` or ``"ole"`` from the first bytes; anything else (PDF, text, random bytes) is refused."""
    if data.startswith(ZIP_MAGIC) or data.startswith(EMPTY_ZIP_MAGIC):
        return "zip"
    if data.startswith(OLE_MAGIC):
        return "ole"
    raise unreadable(UnreadableCode.not_workbook)


# ---------------------------------------------------------------------------------------------- zip


def check_zip(zf: zipfile.ZipFile) -> None:
    """Refuse zip bombs before anything decompresses: entry count, declared sizes, ratio, odd names.

    Sizes are the ones the zip declares; :func:`read_member` enforces them while decompressing.
    """
    infos = zf.infolist()
    if len(infos) > MAX_ZIP_ENTRIES:
        raise unreadable(
            UnreadableCode.zip_bomb, f"{len(infos)} phần > {MAX_ZIP_ENTRIES}", f"{len(infos)} parts > {MAX_ZIP_ENTRIES}"
        )
    total = 0
    seen: set[str] = set()
    for info in infos:
        name = info.filename
        key = name.replace("\\", "/").lstrip("/").casefold()
        if key in seen:
            raise unreadable(UnreadableCode.corrupt, f"phần trùng tên {name!r}", f"duplicate part {name!r}")
        seen.add(key)
        if name.startswith(("/", "\\")) or ".." in name.replace("\\", "/").split("/") or "\x00" in name:
            raise unreadable(UnreadableCode.corrupt, f"tên phần không hợp lệ {name!r}", f"bad part name {name!r}")
        if info.flag_bits & 0x1:
            raise unreadable(UnreadableCode.encrypted)
        total += info.file_size
        if total > MAX_UNCOMPRESSED_TOTAL:
            raise unreadable(
                UnreadableCode.zip_bomb,
                f"hơn {_mb(MAX_UNCOMPRESSED_TOTAL)} sau giải nén",
                f"over {_mb(MAX_UNCOMPRESSED_TOTAL)} uncompressed",
            )
        if info.file_size > MAX_PART_BYTES:
            raise unreadable(UnreadableCode.zip_bomb, f"{name}: {_mb(info.file_size)} > {_mb(MAX_PART_BYTES)}")
        if info.file_size > RATIO_MIN_BYTES and info.file_size > MAX_RATIO * max(info.compress_size, 1):
            ratio = info.file_size // max(info.compress_size, 1)
            raise unreadable(UnreadableCode.zip_bomb, f"{name}: tỉ lệ nén {ratio}:1",
                             f"{name}: compression ratio {ratio}:1")


def read_member(zf: zipfile.ZipFile, name: str, raw: bytes | None = None) -> bytes:
    """A zip member's bytes, never more than it declares nor more than ``MAX_PART_BYTES``.

    ``raw`` (the whole archive, when the caller has it) lets the usual member be taken straight from the
    bytes; anything unusual goes through :mod:`zipfile`, which gives the verdict."""
    info = zf.getinfo(name)
    limit = min(info.file_size, MAX_PART_BYTES)
    try:
        data = _member_direct(raw, info, limit) if raw is not None else None
        if data is None:
            with zf.open(info) as fh:
                data = fh.read(limit + 1)
    except UnreadableWorkbook:
        raise
    except RuntimeError as exc:  # "File is encrypted, password required"
        raise unreadable(UnreadableCode.encrypted) from exc
    except (zipfile.BadZipFile, EOFError, OSError, ValueError, NotImplementedError) as exc:
        raise unreadable(UnreadableCode.corrupt, f"{name}: {exc}") from exc
    except Exception as exc:  # zlib.error and friends
        raise unreadable(UnreadableCode.corrupt, f"{name}: {exc}") from exc
    if len(data) > limit:
        raise unreadable(UnreadableCode.zip_bomb, f"{name}: lớn hơn kích thước khai báo",
                         f"{name}: larger than declared")
    return data


_LOCAL_HEADER = struct.Struct("<4s2B4HL2L2H")  # zipfile.structFileHeader: 30 bytes before the name


def _member_direct(raw: bytes, info: zipfile.ZipInfo, limit: int) -> bytes | None:
    """A stored or deflated member read from the archive's bytes without :mod:`zipfile`'s per-member file
    object (a tenth of the time for the dozen small parts of a workbook). None when the member is not
    plain (another method, encryption, a local header that disagrees with the directory): zipfile reads
    it then. Like zipfile, it checks the CRC of a complete member."""
    if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED) or info.flag_bits & 0x1:
        return None
    offset = info.header_offset
    if offset < 0 or offset + _LOCAL_HEADER.size > len(raw):
        return None
    head = _LOCAL_HEADER.unpack_from(raw, offset)
    signature, method, name_len, extra_len = head[0], head[4], head[10], head[11]
    start = offset + _LOCAL_HEADER.size
    name = info.orig_filename.encode("utf-8" if info.flag_bits & 0x800 else "cp437", "surrogateescape")
    if signature != b"PK\x03\x04" or method != info.compress_type or raw[start:start + name_len] != name:
        return None
    start += name_len + extra_len
    body = raw[start:start + info.compress_size]
    if len(body) != info.compress_size:
        return None
    stored = method == zipfile.ZIP_STORED
    data = body[: limit + 1] if stored else zlib.decompressobj(-15).decompress(body, limit + 1)
    if len(data) <= limit and zlib.crc32(data) != info.CRC:
        raise unreadable(UnreadableCode.corrupt, f"{info.filename}: dữ liệu không khớp mã kiểm tra (CRC-32)",
                         f"{info.filename}: bad CRC-32")
    return data


def zip_kind(zf: zipfile.ZipFile, raw: bytes | None = None) -> str:
    """``xlsx``, ``xlsm`` or ``ods`` from the zip's entries; other zips (docx, xlsb, plain archives) are refused.
    ``raw``: the archive's bytes, as for :func:`read_member`."""
    names = set(zf.namelist())
    if "mimetype" in names and "content.xml" in names:
        mimetype = read_member(zf, "mimetype", raw).strip()
        if mimetype == ODS_MIMETYPE:
            return "ods"
        raise unreadable(
            UnreadableCode.not_workbook,
            "tài liệu OpenDocument nhưng không phải bảng tính",
            "an OpenDocument file but not a spreadsheet",
        )
    if "[Content_Types].xml" in names:
        if any(n.startswith("xl/") and n.endswith("workbook.bin") for n in names):
            raise unreadable(
                UnreadableCode.not_workbook,
                "định dạng .xlsb chưa được hỗ trợ, hãy lưu thành .xlsx",
                ".xlsb is not supported, save it as .xlsx",
            )
        if "xl/workbook.xml" in names or _content_types_mention(zf, raw, b"sheet.main+xml", b"sheet.macroEnabled"):
            macro = "xl/vbaProject.bin" in names or _content_types_mention(zf, raw, b"macroEnabled")
            return "xlsm" if macro else "xlsx"
    raise unreadable(UnreadableCode.not_workbook)


def _content_types_mention(zf: zipfile.ZipFile, raw: bytes | None, *needles: bytes) -> bool:
    text = read_member(zf, "[Content_Types].xml", raw)
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
            raise unreadable(UnreadableCode.corrupt, f"{part}: {exc}") from exc
        found = re.search(r"<!\s*(DOCTYPE|ENTITY)", text, re.IGNORECASE) is not None
    else:
        found = _DTD.search(xml) is not None
    if found:
        raise unreadable(UnreadableCode.xml_attack, part)


# ---------------------------------------------------------------------------------------------- ole


_FREE = 0xFFFFFFFA  # sector ids at or above this are markers (end of chain, free, FAT, DIFAT)


class OleFile:
    """A minimal, defensive reader of OLE compound files ([MS-CFB]): the directory and small streams.

    Enough to tell .xls from encrypted OOXML and .doc, and to read an .xls ``Workbook`` stream. Every
    offset is bounds-checked and every chain bounded by the number of sectors, so a malformed file
    raises ``corrupt`` and never loops.
    """

    def __init__(self, data: bytes):
        if len(data) < 512 or not data.startswith(OLE_MAGIC):
            raise unreadable(UnreadableCode.not_workbook)
        self.data = data
        try:
            self._parse()
        except (struct.error, ValueError, IndexError) as exc:
            raise unreadable(UnreadableCode.corrupt, f"OLE: {exc}") from exc

    def _parse(self) -> None:
        data = self.data
        shift, mini_shift = struct.unpack_from("<HH", data, 30)
        if shift not in (9, 12) or mini_shift != 6:
            raise ValueError(f"sector shift {shift}/{mini_shift}")
        self.size = 1 << shift
        self.n_sectors = (len(data) - 512 + self.size - 1) // self.size
        n_fat, first_dir = struct.unpack_from("<II", data, 44)
        self.mini_cutoff, first_minifat, _n_minifat, first_difat, n_difat = struct.unpack_from("<IIIII", data, 56)
        fat_sectors = [s for s in struct.unpack_from("<109I", data, 76) if s < _FREE][: n_fat or 109]
        difat, hops = first_difat, 0
        while difat < _FREE and hops < min(n_difat, self.n_sectors):
            ids = struct.unpack(f"<{self.size // 4}I", self._sector(difat))
            fat_sectors += [s for s in ids[:-1] if s < _FREE]
            difat, hops = ids[-1], hops + 1
        self.fat: list[int] = []
        for s in fat_sectors[: self.n_sectors]:
            self.fat.extend(struct.unpack(f"<{self.size // 4}I", self._sector(s)))
        self.entries: dict[str, tuple[int, int, int]] = {}  # casefolded name → (type, start, size)
        directory = self._chain(first_dir, 1 << 24)
        root: tuple[int, int, int] | None = None
        for off in range(0, len(directory) - 127, 128):
            name_len = struct.unpack_from("<H", directory, off + 64)[0]
            kind = directory[off + 66]
            if kind not in (1, 2, 5) or not 2 <= name_len <= 64:
                continue
            name = directory[off : off + name_len - 2].decode("utf-16-le", "replace")
            start = struct.unpack_from("<I", directory, off + 116)[0]
            size = struct.unpack_from("<Q" if shift == 12 else "<I", directory, off + 120)[0]
            entry = (kind, start, size)
            if kind == 5 and root is None:
                root = entry
            self.entries.setdefault(name.casefold(), entry)
        self.minifat: list[int] = []
        self.ministream = b""
        if root is not None and first_minifat < _FREE:
            raw = self._chain(first_minifat, MAX_PART_BYTES)
            self.minifat = list(struct.unpack(f"<{len(raw) // 4}I", raw[: len(raw) // 4 * 4]))
            self.ministream = self._chain(root[1], min(root[2], MAX_PART_BYTES))

    def _sector(self, index: int) -> bytes:
        if index >= self.n_sectors:
            raise ValueError(f"sector {index} out of range")
        start = 512 + index * self.size
        return self.data[start : start + self.size]

    def _chain(self, start: int, limit: int) -> bytes:
        out: list[bytes] = []
        current, visited, total = start, 0, 0
        while current < _FREE and visited <= self.n_sectors and total < limit:
            out.append(self._sector(current))
            total += self.size
            if current >= len(self.fat):
                break
            current, visited = self.fat[current], visited + 1
        return b"".join(out)[:limit]

    @property
    def names(self) -> set[str]:
        """Casefolded names of the storages and streams."""
        return set(self.entries)

    def stream(self, name: str) -> bytes:
        """A stream's bytes (at most ``MAX_PART_BYTES``); ``corrupt`` if it is shorter than it declares."""
        kind, start, size = self.entries[name.casefold()]
        if size > MAX_PART_BYTES:
            raise unreadable(UnreadableCode.zip_bomb, f"{name}: {_mb(size)}")
        try:
            if size >= self.mini_cutoff:
                body = self._chain(start, size)
            else:  # small streams live in 64-byte sectors of the mini stream
                pieces, current, visited = [], start, 0
                while current < _FREE and visited <= len(self.minifat) and len(pieces) * 64 < size:
                    pieces.append(self.ministream[current * 64 : current * 64 + 64])
                    if current >= len(self.minifat):
                        break
                    current, visited = self.minifat[current], visited + 1
                body = b"".join(pieces)[:size]
        except (struct.error, ValueError, IndexError) as exc:
            raise unreadable(UnreadableCode.corrupt, f"OLE {name}: {exc}") from exc
        if len(body) < size:
            raise unreadable(UnreadableCode.corrupt, f"OLE {name}: thiếu dữ liệu", f"OLE {name}: truncated")
        return body


def ole_kind(ole: OleFile) -> str:
    """``xls`` for a BIFF workbook; refuses encrypted OOXML (``EncryptionInfo``) and other OLE files (.doc)."""
    names = ole.names
    if "encryptioninfo" in names or "encryptedpackage" in names:
        raise unreadable(UnreadableCode.encrypted)
    if "workbook" in names or "book" in names:
        return "xls"
    raise unreadable(UnreadableCode.not_workbook, "tệp Office nhưng không phải bảng tính",
                     "an Office file but not a workbook")


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
        raise unreadable(UnreadableCode.too_many_cells, f"{part}: {ref}")
