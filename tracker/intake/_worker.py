"""The child side of the safe reader: turns untrusted bytes into a grid, inside a limited process.

``reader.py`` starts ``main()`` in a separate interpreter with a memory limit and talks to it over its
stdin/stdout with length-prefixed messages: request = JSON header + the file's bytes; reply = JSON
(a grid or a refusal). Replies are JSON, never pickle, so even a child subverted by a hostile file
cannot make the parent run code. Nothing here imports openpyxl (it drags numpy in: 10x the start-up
time and memory); python-calamine is imported once per worker.

Formats:
- xlsx/xlsm: our own streaming reader over the zip (defusedxml + size-bounded members). It gives what
  calamine does not: formula text, formulas with no cached value, error values (calamine shows them
  as ""), hidden rows; and it never allocates by the declared dimension (calamine aborts on
  ``XFD1048576``).
- xls/ods: python-calamine (values, merged ranges for xls, sheet visibility).
"""

from __future__ import annotations

import contextlib
import io
import json
import math
import os
import re
import struct
import sys
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from xml.etree.ElementTree import ParseError, fromstring, iterparse

from tracker.intake import grid as grid_module
from tracker.intake import safety
from tracker.intake.grid import (
    MAX_COLS,
    MAX_ROWS,
    Cell,
    CellValue,
    SheetGrid,
    UnreadableCode,
    UnreadableWorkbook,
    WorkbookGrid,
    pick_sheet,
)

MAX_SHEETS = 30  # sheets read per workbook (all names are listed)
MAX_MERGED = 10_000
MAX_TEXT_CHARS = 8_000_000  # text in the cells of one workbook's grid (Excel caps a cell at 32,767)

# ------------------------------------------------------------------------------------------ entry


def parse_workbook(data: bytes, sheet: str | None = None) -> WorkbookGrid:
    """Untrusted bytes → grid, or :class:`UnreadableWorkbook`. Run it only inside the limited child.

    With ``sheet``, an .xlsx/.xlsm is read only for the sheet :func:`~tracker.intake.grid.pick_sheet`
    chooses for that name (a district report needs no other; every sheet is still listed in
    ``sheet_names``). .xls and .ods are always read whole: calamine and the ODS stream go through every
    sheet anyway, and a copy rebuilt from their cells (the annotated copy) then keeps the other sheets.
    """
    safety.check_size(data)
    container = safety.sniff_container(data)
    if container == "ole":
        ole = safety.OleFile(data)
        kind = safety.ole_kind(ole)
        return _read_calamine(data, kind, _scan_biff(ole))
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError, ValueError) as exc:
        raise safety.unreadable(
            UnreadableCode.not_workbook, "tệp nén bị hỏng hoặc không trọn vẹn", "damaged or truncated zip"
        ) from exc
    with zf:
        safety.check_zip(zf)
        kind = safety.zip_kind(zf, data)
        if kind == "ods" and "META-INF/manifest.xml" in zf.namelist():
            manifest = safety.read_member(zf, "META-INF/manifest.xml", data)
            if b"encryption-data" in manifest:  # content.xml is ciphertext: say why it cannot be read
                raise safety.unreadable(UnreadableCode.encrypted)
        # Every XML part, not only those read here: whoever opens these bytes later (openpyxl for the
        # annotated copy) then never meets a DTD either. OPC forbids DTDs in packages anyway.
        parts: dict[str, bytes] = {}
        for info in zf.infolist():
            if info.filename.endswith((".xml", ".rels", ".vml")) and info.file_size:
                parts[info.filename] = safety.read_member(zf, info.filename, data)
                safety.forbid_dtd(info.filename, parts[info.filename])
        if kind == "ods":
            return _OdsReader(zf, parts).read()
        return _XlsxReader(zf, kind, parts, sheet).read()


# ------------------------------------------------------------------------------------------ xlsx

_WS_TYPE = "/worksheet"
_ESCAPED = re.compile(r"_x([0-9A-Fa-f]{4})_")
# Excel built-in number formats that show dates or times (ids 27-36 and 50-58 are East Asian dates).
_BUILTIN_DATE_IDS = frozenset({14, 15, 16, 17, 18, 19, 20, 21, 22, 45, 47, *range(27, 37), *range(50, 59)})
# Same rules as openpyxl.styles.numbers.is_date_format (not imported: it would pull numpy into the worker).
_FMT_STRIP = re.compile(r"""\[(?!(hh?|mm?|ss?)\])[^]]*\]|"[^"]*"|\\.|_.|\*.""")
_FMT_DATE = re.compile(r"(?<![_\\])[dmhysDMHYS]")
_FMT_DURATION = re.compile(r"\[hh?\](:mm(:ss(\.0*)?)?)?|\[mm?\](:ss(\.0*)?)?|\[ss?\](\.0*)?", re.IGNORECASE)
_EPOCH_1900 = datetime(1899, 12, 30)
_EPOCH_1904 = datetime(1904, 1, 1)


_LOCAL_NAMES: dict[str, str] = {}
# What small parts that repeat byte for byte across the files of one template were read as: the date
# styles of a styles part, the relationships of a .rels part (with its folder). Never mutated.
_DATE_STYLES: dict[bytes, frozenset[int]] = {}
_RELS: dict[tuple[str, bytes], dict[str, tuple[str, str]]] = {}


def _remember(memo: dict, key, value) -> None:
    """Keep ``value`` for a small part (at most 32 entries, oldest dropped first)."""
    size = len(key[-1] if isinstance(key, tuple) else key)
    if size <= 256 * 1024:
        if len(memo) >= 32:
            memo.pop(next(iter(memo)))
        memo[key] = value


def _local(tag: str) -> str:
    """Tag without namespace: accepts transitional and strict OOXML alike (memoised: called per element)."""
    name = _LOCAL_NAMES.get(tag)
    if name is None:
        name = tag[tag.rfind("}") + 1 :]
        if len(_LOCAL_NAMES) < 4096:
            _LOCAL_NAMES[tag] = name
    return name


_COL_NUMBERS: dict[str, int] = {}


def _ref_col(ref: str) -> int | None:
    """The column of a cell reference (``"D9"`` → 4), memoised; None when it is not one."""
    letters = ref.rstrip("0123456789")
    col = _COL_NUMBERS.get(letters)
    if col is None:
        if not (1 <= len(letters) <= 3 and letters.isascii() and letters.isalpha()) or len(letters) == len(ref):
            return None
        col = 0
        for ch in letters.upper():
            col = col * 26 + ord(ch) - 64
        if len(_COL_NUMBERS) < 20_000:
            _COL_NUMBERS[letters] = col
    return col


def _unescape(text: str) -> str:
    """OOXML writes control characters as ``_x000D_``."""
    return _ESCAPED.sub(lambda m: chr(int(m.group(1), 16)), text) if "_x" in text else text


_ENCODING = re.compile(rb"""^\s*<\?xml[^>]*?encoding\s*=\s*["']([A-Za-z0-9._-]+)["']""")
# Encodings in which "<!DOCTYPE" is the same bytes as in ASCII, so the byte scan of forbid_dtd is sound.
_ASCII_SAFE = frozenset({"utf-8", "utf8", "us-ascii", "ascii", "iso-8859-1", "latin-1", "latin1", "windows-1252"})


def _safe_xml(part: str, xml: bytes) -> bytes:
    """The part as UTF-8-compatible bytes with no DTD: the only XML our parsers ever see.

    DTDs and entity declarations are refused by :func:`safety.forbid_dtd` (``xml_attack``); UTF-16 is
    transcoded first; a declared encoding that could hide a DTD from the byte scan (EBCDIC...) is refused.
    """
    safety.forbid_dtd(part, xml)
    head = xml[:4]
    if head.startswith((b"\xff\xfe", b"\xfe\xff")) or b"\x00" in head:
        text = xml.decode("utf-16")
        return re.sub(r"^\s*<\?xml[^>]*\?>", "", text).encode("utf-8")
    m = _ENCODING.match(xml[:200])
    if m and m.group(1).decode().lower() not in _ASCII_SAFE:
        raise safety.unreadable(UnreadableCode.xml_attack, part)
    return xml


def _xml_root(part: str, xml: bytes):
    """A small part (rels, workbook, styles) as an element tree."""
    try:
        return fromstring(_safe_xml(part, xml))
    except ParseError as exc:
        raise safety.unreadable(UnreadableCode.corrupt, f"{part}: {exc}") from exc


def _xml_events(part: str, xml: bytes, events: tuple[str, ...] = ("end",)):
    """Streaming parse of a large part (sheets, shared strings) so that it can stop early."""
    try:
        yield from iterparse(io.BytesIO(_safe_xml(part, xml)), events=events)
    except ParseError as exc:
        raise safety.unreadable(UnreadableCode.corrupt, f"{part}: {exc}") from exc


def is_date_format(fmt: str) -> bool:
    fmt = _FMT_STRIP.sub("", fmt.split(";")[0])
    return _FMT_DATE.search(fmt) is not None


def _from_serial(value: float, epoch: datetime) -> CellValue:
    """Excel serial day number → date (whole days), datetime, or time (below one day)."""
    if not math.isfinite(value) or not -700_000 < value < 3_000_000:
        return value
    day, fraction = divmod(value, 1)
    delta = timedelta(milliseconds=round(fraction * 86_400_000))
    if 0 <= value < 1 and delta.days == 0:
        return (datetime.min + delta).time()
    if epoch is _EPOCH_1900 and 0 < value < 60:
        day += 1  # Excel's fictitious 29/02/1900
    result = epoch + timedelta(days=day) + delta
    return result.date() if result.time() == time(0) else result


class _XlsxReader:
    def __init__(self, zf: zipfile.ZipFile, kind: str, parts: dict[str, bytes], only: str | None = None):
        self.zf = zf
        self.parts = parts  # the XML parts, already decompressed and checked
        self.kind = kind
        self.only = only
        self.names = set(zf.namelist())

    def part(self, name: str) -> bytes:
        if name not in self.names:
            raise safety.unreadable(UnreadableCode.corrupt, f"thiếu phần {name}", f"missing part {name}")
        cached = self.parts.get(name)
        return cached if cached is not None else safety.read_member(self.zf, name)

    def rels(self, owner: str) -> dict[str, tuple[str, str]]:
        """Relationship id → (type, part path) for the part ``owner``."""
        folder, _, base = owner.rpartition("/")
        rels_name = f"{folder}/_rels/{base}.rels" if folder else f"_rels/{base}.rels"
        if rels_name not in self.names:
            return {}
        xml = self.part(rels_name)
        known = _RELS.get((folder, xml))  # the same template gives the same relationship parts
        if known is not None:
            return known
        out = {}
        for el in _xml_root(rels_name, xml):
            if _local(el.tag) == "Relationship":
                target = el.get("Target", "")
                if el.get("TargetMode") == "External":
                    continue
                path = target.lstrip("/") if target.startswith("/") else _join(folder, target)
                out[el.get("Id", "")] = (el.get("Type", ""), path)
        _remember(_RELS, (folder, xml), out)
        return out

    def read(self) -> WorkbookGrid:
        root_rels = self.rels("")
        wb_path = next((p for t, p in root_rels.values() if t.endswith("/officeDocument")), "xl/workbook.xml")
        wb_rels = self.rels(wb_path)
        sheets: list[tuple[str, str, str]] = []  # name, state, rel id
        self.epoch = _EPOCH_1900
        for el in _xml_root(wb_path, self.part(wb_path)).iter():
            tag = _local(el.tag)
            if tag == "sheet":
                rid = next((v for k, v in el.attrib.items() if k.startswith("{") and _local(k) == "id"), "")
                sheets.append((el.get("name", ""), el.get("state", "visible"), rid))
            elif tag == "workbookPr" and el.get("date1904") in ("1", "true"):
                self.epoch = _EPOCH_1904
        shared_path = next((p for t, p in wb_rels.values() if t.endswith("/sharedStrings")), None)
        styles_path = next((p for t, p in wb_rels.values() if t.endswith("/styles")), None)
        self.date_styles = self.styles(styles_path)

        grids: dict[str, SheetGrid] = {}
        pending: list[tuple[SheetGrid, list[tuple[int, int, int, str | None]]]] = []
        wanted = _wanted(self.only, [s[0] for s in sheets])
        for name, state, rid in sheets[:MAX_SHEETS]:
            if not wanted(name):
                continue
            rel_type, path = wb_rels.get(rid, ("", ""))
            if not rel_type.endswith(_WS_TYPE):
                continue  # chart sheets, dialog sheets, macro sheets: listed, not read
            grid = SheetGrid(name=name, hidden=state in ("hidden", "veryHidden"))
            pending.append((grid, self.sheet(path, grid)))
            grids[name] = grid
        if any(refs for _, refs in pending):
            strings = self.shared_strings(shared_path, max(i for _, refs in pending for _, _, i, _ in refs))
            for grid, refs in pending:
                for row, col, index, formula in refs:
                    if index >= len(strings):
                        raise safety.unreadable(
                            UnreadableCode.corrupt,
                            f"{grid.name}: thiếu chuỗi dùng chung {index}",
                            f"{grid.name}: missing shared string {index}",
                        )
                    if strings[index] != "" or formula:
                        grid.cells[(row, col)] = Cell(row, col, strings[index], formula)
                grid.cells = dict(sorted(grid.cells.items()))  # row by row, like the other formats
        return WorkbookGrid(format=self.kind, sheet_names=[s[0] for s in sheets], sheets=grids)

    def styles(self, path: str | None) -> frozenset[int] | set[int]:
        """Indexes of the cell styles whose number format shows a date or time (not a duration like [h]:mm)."""
        if not path or path not in self.names:
            return set()
        xml = self.part(path)
        known = _DATE_STYLES.get(xml)  # the sheets of one template share their styles part byte for byte
        if known is not None:
            return known
        custom: dict[int, str] = {}
        xf_formats: list[int] = []
        for section in _xml_root(path, xml):
            tag = _local(section.tag)
            if tag == "numFmts":
                for el in section:
                    with contextlib.suppress(ValueError):
                        custom[int(el.get("numFmtId", "-1"))] = el.get("formatCode", "")
            elif tag == "cellXfs":
                for el in section:
                    try:
                        xf_formats.append(int(el.get("numFmtId", "0")))
                    except ValueError:
                        xf_formats.append(0)
        dates = set()
        for index, fmt_id in enumerate(xf_formats):
            if fmt_id in custom:
                code = custom[fmt_id]
                if is_date_format(code) and not _FMT_DURATION.match(code.split(";")[0]):
                    dates.add(index)
            elif fmt_id in _BUILTIN_DATE_IDS:  # 46, [h]:mm:ss, is a duration: left a number
                dates.add(index)
        _remember(_DATE_STYLES, xml, frozenset(dates))
        return dates

    def shared_strings(self, path: str | None, max_index: int) -> list[str]:
        """The shared strings up to ``max_index`` (the rest is never parsed)."""
        if not path or path not in self.names:
            return []
        out: list[str] = []
        xml = self.part(path)
        if len(xml) <= STREAM_ABOVE_BYTES:
            items = iter(_xml_root(path, xml))
        else:  # a large table is streamed and left as soon as the last string used was read
            items = (el for _, el in _xml_events(path, xml))
        for el in items:
            if _local(el.tag) != "si":
                continue
            pieces = []
            for child in el:
                tag = _local(child.tag)
                if tag == "t":
                    pieces.append(child.text or "")
                elif tag == "r":
                    pieces.extend(t.text or "" for t in child if _local(t.tag) == "t")
            out.append(_unescape("".join(pieces)))
            el.clear()
            if len(out) > max_index:
                break
        return out

    def sheet(self, path: str, grid: SheetGrid) -> list[tuple[int, int, int, str | None]]:
        """Fill ``grid`` from one worksheet part; returns the cells that point at shared strings."""
        refs: list[tuple[int, int, int, str | None]] = []
        shared_formulas: dict[str, tuple[str, str]] = {}
        row_no = 0
        for tag, el in _sheet_elements(path, self.part(path)):
            if tag == "row":
                try:
                    row_no = int(el.get("r", row_no + 1))
                except ValueError:
                    row_no += 1
                if row_no > MAX_ROWS:
                    if len(el):
                        grid.truncated = True
                    continue
                if el.get("hidden") in ("1", "true"):
                    grid.hidden_rows.add(row_no)
                self.row(el, row_no, grid, refs, shared_formulas)
            elif tag == "dimension":
                safety.check_dimension(f"{grid.name}", el.get("ref"))
            elif tag == "mergeCell":
                bounds = safety.parse_range(el.get("ref", ""))
                if bounds and bounds[0] <= MAX_ROWS and bounds[1] <= MAX_COLS and len(grid.merged) < MAX_MERGED:
                    grid.merged.append(bounds)
        return refs

    def row(self, row_el, row_no: int, grid: SheetGrid, refs: list, shared_formulas: dict) -> None:
        col = 0
        # The cell tags in this file's namespace ("{ns}c", "{ns}v", ...), built once per row, not per child.
        ns = row_el.tag[: -len("row")]
        c_tag, v_tag, f_tag, is_tag, t_tag = ns + "c", ns + "v", ns + "f", ns + "is", ns + "t"
        for c in row_el:
            if c.tag != c_tag and _local(c.tag) != "c":
                continue
            ref = c.get("r")
            col = (_ref_col(ref) if ref else None) or col + 1
            if col > MAX_COLS:
                if len(c):
                    grid.truncated = True
                continue
            kind = c.get("t", "n")
            v_text: str | None = None
            f_el = None
            inline = None
            if c.tag == c_tag:
                vt, ft, it, tt = v_tag, f_tag, is_tag, t_tag
            else:  # a cell in another namespace than its row (never seen, but legal XML)
                cns = c.tag[:-1]
                vt, ft, it, tt = cns + "v", cns + "f", cns + "is", cns + "t"
            for child in c:
                tag = child.tag
                if tag == vt:
                    v_text = child.text
                elif tag == ft:
                    f_el = child
                elif tag == it:
                    inline = child
            formula = (
                self.formula(f_el, ref or f"{_col_letters(col)}{row_no}", shared_formulas) if f_el is not None else None
            )
            value: CellValue = None
            error: str | None = None
            if kind == "s":
                if v_text is not None and v_text.strip().isdigit():
                    refs.append((row_no, col, int(v_text), formula))
                    continue
            elif kind == "inlineStr":
                if inline is not None:
                    value = _unescape("".join(t.text or "" for t in inline.iter(tt)))
            elif kind == "e":
                error = (v_text or "").strip() or None
            elif v_text is None or (v_text == "" and kind != "str"):
                value = None
            elif kind == "str":
                value = _unescape(v_text)
            elif kind == "b":
                value = v_text.strip() in ("1", "true")
            elif kind == "d":
                value = _iso_date(v_text)
            else:
                value = self.number(v_text, c.get("s"))
            if value is None and formula is None and error is None:
                continue
            if value == "" and formula is None:
                continue
            grid.cells[(row_no, col)] = Cell(row_no, col, value, formula, error)

    def number(self, text: str, style: str | None) -> CellValue:
        text = text.strip()
        try:
            number: int | float = float(text) if any(ch in text for ch in ".eEnN") else int(text)
        except ValueError:
            return text  # not a number despite its type: hand over the text, the parser will say so
        if style and style.isdigit():
            index = int(style)
            if index in self.date_styles:
                return _from_serial(float(number), self.epoch)
        return number

    @staticmethod
    def formula(f_el, ref: str, shared: dict[str, tuple[str, str]]) -> str:
        text = f_el.text or ""
        if f_el.get("t") == "shared" and (si := f_el.get("si")) is not None:
            if text:
                shared[si] = (text, ref)
            elif si in shared:
                master, origin = shared[si]
                return _translate("=" + master, origin, ref)
        return "=" + text


STREAM_ABOVE_BYTES = 1024 * 1024  # parts larger than this are streamed instead of parsed whole


def _sheet_elements(part: str, xml: bytes):
    """(local tag, element) for the dimension, each row and each merged range of a worksheet part.

    A small part is parsed whole (fastest); a large one is streamed with each row dropped once handled,
    so memory stays flat however many rows it has.
    """
    if len(xml) <= STREAM_ABOVE_BYTES:
        for child in _xml_root(part, xml):
            tag = _local(child.tag)
            if tag == "dimension":
                yield tag, child
            elif tag == "sheetData":
                for row in child:
                    yield _local(row.tag), row
            elif tag == "mergeCells":
                for merged in child:
                    yield _local(merged.tag), merged
        return
    sheet_data = None
    for event, el in _xml_events(part, xml, ("start", "end")):
        tag = _local(el.tag)
        if event == "start":
            if tag == "sheetData":
                sheet_data = el
            continue
        if tag in ("row", "dimension", "mergeCell"):
            yield tag, el
            if tag == "row" and sheet_data is not None:
                sheet_data.remove(el)


def _col_letters(col: int) -> str:
    letters = ""
    while col:
        col, rem = divmod(col - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def _translate(formula: str, origin: str, dest: str) -> str:
    """A shared formula as it reads in ``dest`` (openpyxl's translator, imported only when needed)."""
    try:
        from openpyxl.formula.translate import Translator

        return Translator(formula, origin=origin).translate_formula(dest)
    except Exception:
        return formula


def _wanted(only: str | None, names: list[str]):
    """Which sheets to read: all of them, or the one :func:`pick_sheet` chooses for ``only``."""
    if only is None:
        return lambda name: True
    chosen = pick_sheet(names, only)
    return lambda name: name == chosen


def _join(folder: str, target: str) -> str:
    parts = [p for p in f"{folder}/{target}".split("/") if p not in ("", ".")]
    out: list[str] = []
    for p in parts:
        if p == "..":
            if out:
                out.pop()
        else:
            out.append(p)
    return "/".join(out)


def _iso_date(text: str) -> CellValue:
    try:
        value = datetime.fromisoformat(text.strip().rstrip("Z"))
    except ValueError:
        return text
    return value.date() if value.time() == time(0) else value


# ------------------------------------------------------------------------------------------ ods

_TABLE = "{urn:oasis:names:tc:opendocument:xmlns:table:1.0}"
_OFFICE = "{urn:oasis:names:tc:opendocument:xmlns:office:1.0}"
_TEXT = "{urn:oasis:names:tc:opendocument:xmlns:text:1.0}"
_STYLE = "{urn:oasis:names:tc:opendocument:xmlns:style:1.0}"
_CALCEXT = "{urn:org:documentfoundation:names:experimental:calc:xmlns:calcext:1.0}"
_T_TABLE, _T_ROW, _T_CELL, _T_COVERED = (_TABLE + t for t in ("table", "table-row", "table-cell", "covered-table-cell"))
_ODS_DURATION = re.compile(r"^-?PT(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?$")
_ODS_REF = re.compile(r"\[\.?([^\[\]]*?)\]")


class _OdsReader:
    """OpenDocument spreadsheets, streamed from ``content.xml``.

    Our own reader rather than calamine: calamine drops error values and formulas, and does not report
    merged cells or hidden rows for ODS. Repeated rows and columns are never expanded beyond the window.
    """

    def __init__(self, zf: zipfile.ZipFile, parts: dict[str, bytes]):
        self.zf = zf
        self.parts = parts

    def read(self) -> WorkbookGrid:
        hidden_styles: set[str] = set()
        sheet_names: list[str] = []
        grids: dict[str, SheetGrid] = {}
        grid: SheetGrid | None = None
        row_no = 0
        for event, el in _xml_events(
            "content.xml", self.parts.get("content.xml") or safety.read_member(self.zf, "content.xml"), ("start", "end")
        ):
            tag = el.tag
            if event == "start":
                if tag == _T_TABLE:
                    name = el.get(_TABLE + "name", f"Sheet{len(sheet_names) + 1}")
                    sheet_names.append(name)
                    grid = None
                    if len(grids) < MAX_SHEETS:
                        grid = SheetGrid(name=name, hidden=el.get(_TABLE + "style-name") in hidden_styles)
                        grids[name] = grid
                    row_no = 0
                continue
            if tag == _T_ROW:
                repeat = _repeat(el.get(_TABLE + "number-rows-repeated"))
                if grid is not None and row_no < MAX_ROWS:
                    hidden = el.get(_TABLE + "visibility", "visible") != "visible"
                    self.row(el, row_no + 1, repeat, hidden, grid)
                elif grid is not None and _row_has_content(el):
                    grid.truncated = True
                row_no += repeat
                el.clear()
            elif tag == _T_TABLE:
                grid = None
                el.clear()
            elif tag == _STYLE + "style" and el.get(_STYLE + "family") == "table":
                props = el.find(_STYLE + "table-properties")
                if props is not None and props.get(_TABLE + "display") == "false":
                    hidden_styles.add(el.get(_STYLE + "name", ""))
        return WorkbookGrid(format="ods", sheet_names=sheet_names, sheets=grids)

    def row(self, row_el, first_row: int, repeat: int, hidden: bool, grid: SheetGrid) -> None:
        cells: list[tuple[int, Cell]] = []  # (column, cell with row 0) of one copy of the row
        col = 1
        for c in row_el:
            if c.tag not in (_T_CELL, _T_COVERED):
                continue
            n = _repeat(c.get(_TABLE + "number-columns-repeated"))
            if c.tag == _T_CELL and (c.attrib or len(c)):
                cell = self.cell(c)
                if cell is not None:
                    for k in range(n):
                        if col + k > MAX_COLS:
                            grid.truncated = True
                            break
                        cells.append((col + k, cell))
                spans = (
                    _repeat(c.get(_TABLE + "number-rows-spanned")),
                    _repeat(c.get(_TABLE + "number-columns-spanned")),
                )
                if spans != (1, 1) and col <= MAX_COLS and len(grid.merged) < MAX_MERGED:
                    for k in range(min(repeat, MAX_ROWS - first_row + 1)):
                        grid.merged.append((first_row + k, col, first_row + k + spans[0] - 1, col + spans[1] - 1))
            col += n
        if repeat > 1 and cells and first_row + repeat - 1 > MAX_ROWS:
            grid.truncated = True
        for k in range(min(repeat, MAX_ROWS - first_row + 1)):
            r = first_row + k
            if hidden:
                grid.hidden_rows.add(r)
            for c_no, cell in cells:
                grid.cells[(r, c_no)] = Cell(r, c_no, cell.value, cell.formula, cell.error)

    @staticmethod
    def cell(c) -> Cell | None:
        formula = c.get(_TABLE + "formula")
        if formula is not None:
            formula = "=" + _ODS_REF.sub(
                r"\1", formula.split(":", 1)[1] if formula[:3] in ("of:", "oooc:") else formula
            )
            formula = formula.replace("==", "=", 1)
        kind = c.get(_OFFICE + "value-type")
        error = None
        value: CellValue = None
        if c.get(_CALCEXT + "value-type") == "error":
            error = _ods_text(c).strip() or "#VALUE!"
        elif kind in ("float", "percentage", "currency"):
            try:
                value = float(c.get(_OFFICE + "value", ""))
            except ValueError:
                value = _ods_text(c)
        elif kind == "date":
            value = _iso_date(c.get(_OFFICE + "date-value", ""))
        elif kind == "time":
            value = _ods_time(c.get(_OFFICE + "time-value", ""))
        elif kind == "boolean":
            value = c.get(_OFFICE + "boolean-value", "").lower() in ("true", "1")
        elif kind == "string":
            value = c.get(_OFFICE + "string-value")
            if not value:
                value = _ods_text(c)
        elif kind is None and formula is None:
            text = _ods_text(c)  # text without a type (hand-written files): keep it as text
            value = text or None
        if value == "":
            value = None
        if value is None and formula is None and error is None:
            return None
        return Cell(0, 0, value, formula, error)


def _repeat(text: str | None) -> int:
    if not text:
        return 1
    try:
        return max(1, min(int(text), 1 << 24))
    except ValueError:
        return 1


def _row_has_content(row_el) -> bool:
    return any(c.tag == _T_CELL and (c.get(_OFFICE + "value-type") or len(c)) for c in row_el)


def _ods_text(c) -> str:
    """The text a cell shows: its paragraphs (not its comments), with ODF's encoded spaces and tabs."""
    lines = []
    for p in c:
        if p.tag == _TEXT + "p":
            lines.append(_ods_inline(p))
    return "\n".join(lines)


def _ods_inline(el) -> str:
    out = [el.text or ""]
    for child in el:
        tag = child.tag
        if tag == _TEXT + "s":
            out.append(" " * _repeat(child.get(_TEXT + "c")))
        elif tag == _TEXT + "tab":
            out.append("\t")
        elif tag == _TEXT + "line-break":
            out.append("\n")
        elif tag != _OFFICE + "annotation":
            out.append(_ods_inline(child))
        out.append(child.tail or "")
    return "".join(out)


def _ods_time(text: str) -> CellValue:
    m = _ODS_DURATION.match(text.strip())
    if not m:
        return text
    seconds = int(m.group(1) or 0) * 3600 + int(m.group(2) or 0) * 60 + float(m.group(3) or 0)
    if 0 <= seconds < 86_400 and not text.strip().startswith("-"):
        return (datetime.min + timedelta(seconds=seconds)).time()
    return seconds / 86_400


# ------------------------------------------------------------------------------------------ xls


_BIFF_ERRORS = {
    0x00: "#NULL!",
    0x07: "#DIV/0!",
    0x0F: "#VALUE!",
    0x17: "#REF!",
    0x1D: "#NAME?",
    0x24: "#NUM!",
    0x2A: "#N/A",
}
_BIFF_VALUE_RECORDS = {0x0006, 0x00BD, 0x00FD, 0x0203, 0x0204, 0x0205, 0x027E}  # FORMULA MULRK LABELSST NUMBER ...


@dataclass
class _BiffSheet:
    errors: dict[tuple[int, int], str] = field(default_factory=dict)  # 1-based cell → error value
    hidden_rows: set[int] = field(default_factory=set)
    bounds: list[int] = field(default_factory=lambda: [1 << 30, -1, 1 << 30, -1])  # min/max row, min/max col


def _scan_biff(ole: safety.OleFile) -> dict[str, _BiffSheet]:
    """What calamine does not report for .xls, per sheet: error values and hidden rows (BIFF8 records).

    Also guards calamine: refuses an encrypted stream (FILEPASS) and a sheet whose cells span an absurd
    area (calamine allocates the whole rectangle). BIFF5 and older files are left to calamine alone.
    """
    if "workbook" not in ole.names:
        return {}
    stream = ole.stream("Workbook")
    offsets: dict[int, str] = {}
    sheets: dict[str, _BiffSheet] = {}
    current: _BiffSheet | None = None
    pos, end = 0, len(stream)
    while pos + 4 <= end:
        rec, size = struct.unpack_from("<HH", stream, pos)
        body = stream[pos + 4 : pos + 4 + size]
        start, pos = pos, pos + 4 + size
        if rec == 0x0809:  # BOF
            if start == 0 and len(body) >= 2 and struct.unpack_from("<H", body)[0] != 0x0600:
                return {}  # not BIFF8
            name = offsets.get(start)
            current = sheets.setdefault(name, _BiffSheet()) if name is not None else None
        elif rec == 0x000A:  # EOF
            current = None
        elif rec == 0x002F and current is None:  # FILEPASS: the workbook is encrypted
            raise safety.unreadable(UnreadableCode.encrypted)
        elif rec == 0x0085 and len(body) >= 8:  # BOUNDSHEET8: where each sheet's substream starts
            (ply_pos,) = struct.unpack_from("<I", body)
            cch, high = body[6], body[7] & 1
            raw = body[8 : 8 + cch * (2 if high else 1)]
            offsets[ply_pos] = raw.decode("utf-16-le" if high else "latin-1", "replace")
        elif current is not None and len(body) >= 4:
            row, col = struct.unpack_from("<HH", body)
            if rec in _BIFF_VALUE_RECORDS:
                b = current.bounds
                last_col = col + (len(body) - 6) // 6 - 1 if rec == 0x00BD else col  # MULRK spans columns
                b[0], b[1], b[2], b[3] = min(b[0], row), max(b[1], row), min(b[2], col), max(b[3], last_col)
            if row >= MAX_ROWS or col >= MAX_COLS:
                continue
            if rec == 0x0205 and len(body) >= 8 and body[7] == 1:  # BOOLERR holding an error
                current.errors[(row + 1, col + 1)] = _BIFF_ERRORS.get(body[6], "#VALUE!")
            elif rec == 0x0006 and len(body) >= 14 and body[12:14] == b"\xff\xff" and body[6] == 2:  # FORMULA → error
                current.errors[(row + 1, col + 1)] = _BIFF_ERRORS.get(body[8], "#VALUE!")
            elif rec == 0x0208 and len(body) >= 16 and struct.unpack_from("<I", body, 12)[0] & 0x20:  # ROW, hidden
                current.hidden_rows.add(row + 1)
    for name, sheet in sheets.items():
        r1, r2, c1, c2 = sheet.bounds
        if r2 >= 0 and (r2 - r1 + 1) * (c2 - c1 + 1) > safety.MAX_DECLARED_CELLS:
            raise safety.unreadable(UnreadableCode.too_many_cells, f"{name}: {r2 - r1 + 1} × {c2 - c1 + 1}")
    return sheets


def _read_calamine(data: bytes, kind: str, extras: dict[str, _BiffSheet] | None = None) -> WorkbookGrid:
    import python_calamine as pc

    try:
        wb = pc.CalamineWorkbook.from_filelike(io.BytesIO(data))
    except pc.PasswordError as exc:
        raise safety.unreadable(UnreadableCode.encrypted) from exc
    except (pc.CalamineError, ValueError, OSError) as exc:
        raise safety.unreadable(UnreadableCode.corrupt, str(exc)[:200]) from exc
    with wb:
        names = list(wb.sheet_names)
        grids: dict[str, SheetGrid] = {}
        for index, meta in enumerate(wb.sheets_metadata[:MAX_SHEETS]):
            if meta.typ != pc.SheetTypeEnum.WorkSheet:
                continue
            try:
                sheet = wb.get_sheet_by_index(index)
                rows = sheet.to_python(skip_empty_area=False, nrows=MAX_ROWS)
                merged = sheet.merged_cell_ranges or []
                end = sheet.end
            except pc.CalamineError as exc:
                raise safety.unreadable(UnreadableCode.corrupt, f"{meta.name}: {str(exc)[:200]}") from exc
            grid = SheetGrid(name=meta.name, hidden=meta.visible != pc.SheetVisibleEnum.Visible)
            if end is not None and (end[0] + 1 > MAX_ROWS or end[1] + 1 > MAX_COLS):
                grid.truncated = True
            for r, values in enumerate(rows, start=1):
                for c, value in enumerate(values[:MAX_COLS], start=1):
                    cell = _calamine_cell(r, c, value)
                    if cell is not None:
                        grid.cells[(r, c)] = cell
            for (r1, c1), (r2, c2) in merged[:MAX_MERGED]:
                if r1 < MAX_ROWS and c1 < MAX_COLS:
                    grid.merged.append((r1 + 1, c1 + 1, r2 + 1, c2 + 1))
            extra = (extras or {}).get(meta.name)
            if extra is not None:
                for (r, c), error in extra.errors.items():
                    grid.cells[(r, c)] = Cell(r, c, None, error=error)
                grid.hidden_rows |= extra.hidden_rows
                grid.cells = dict(sorted(grid.cells.items()))
            grids[meta.name] = grid
    return WorkbookGrid(format=kind, sheet_names=names, sheets=grids)


def _calamine_cell(row: int, col: int, value: object) -> Cell | None:
    if value is None or value == "":
        return None  # calamine shows error values as "": _scan_biff puts them back
    if isinstance(value, timedelta):
        value = value.total_seconds() / 86_400  # a duration: its Excel number of days
    return Cell(row, col, value)  # type: ignore[arg-type]


# ------------------------------------------------------------------------------------------ wire format


def _encode_value(value: CellValue) -> object:
    if isinstance(value, datetime):
        return ["dt", value.isoformat()]
    if isinstance(value, date):
        return ["d", value.isoformat()]
    if isinstance(value, time):
        return ["t", value.isoformat()]
    return value


def encode_grid(grid: WorkbookGrid) -> dict:
    text = sum(len(c.value) for s in grid.sheets.values() for c in s.cells.values() if isinstance(c.value, str))
    text += sum(len(c.formula or "") for s in grid.sheets.values() for c in s.cells.values())
    if text > MAX_TEXT_CHARS:  # e.g. one huge shared string repeated in every cell
        raise safety.unreadable(UnreadableCode.too_many_cells, f"{text:,} ký tự", f"{text:,} characters")
    return {
        "ok": True,
        "format": grid.format,
        "sheet_names": grid.sheet_names,
        "sheets": [
            {
                "name": s.name,
                "hidden": s.hidden,
                "truncated": s.truncated,
                "merged": s.merged,
                "hidden_rows": sorted(s.hidden_rows),
                "cells": [[c.row, c.col, _encode_value(c.value), c.formula, c.error] for c in s.cells.values()],
            }
            for s in grid.sheets.values()
        ],
    }


def encode_error(exc: UnreadableWorkbook) -> dict:
    return {"ok": False, "code": exc.code, "vi": exc.message_vi, "en": exc.message_en}


# ------------------------------------------------------------------------------------------ process loop

HEADER = struct.Struct("!II")  # request: JSON header length, payload length
REPLY = struct.Struct("!I")  # reply: JSON length
ACK = b"\x06"
MEMORY_HEADROOM = 768 * 1024 * 1024  # address space the worker may add on top of its start-up size
# The test hooks make the worker misbehave on purpose (abort, hang, exhaust its memory) so the tests can
# check that the parent survives. A worker honours them only when its environment has both this switch,
# which the test suite sets, and pytest's mark of a running test; it reads them once, at start. Otherwise
# a request's "debug" field is ignored, whatever sent it.
TEST_HOOKS_ENV = "TRACKER_READER_TEST_HOOKS"
_TEST_RUN_ENV = "PYTEST_CURRENT_TEST"


def _limit_resources() -> None:
    import resource

    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))  # an abort must not write a core file
    with open("/proc/self/status") as fh:
        vm_kb = next((int(line.split()[1]) for line in fh if line.startswith("VmSize:")), 0)
    limit = vm_kb * 1024 + int(os.environ.get("TRACKER_READER_HEADROOM", MEMORY_HEADROOM))
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


def _read_exact(stream, n: int) -> bytes | None:
    chunks, left = [], n
    while left:
        chunk = stream.read(left)
        if not chunk:
            return None
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def hooks_allowed(env: Mapping[str, str]) -> bool:
    """Whether a worker started with ``env`` obeys the test hooks: only inside a test run that asked for them."""
    return env.get(TEST_HOOKS_ENV) == "1" and bool(env.get(_TEST_RUN_ENV))


def _misbehave(header: dict) -> None:
    """The test hooks: ``abort``, ``sleep`` (``seconds``), ``memory`` (``bytes``)."""
    debug = header.get("debug")
    if debug == "abort":
        os.abort()
    if debug == "sleep":
        import time as _time

        _time.sleep(float(header.get("seconds", 60)))
    if debug == "memory":  # more address space than the limit allows (calloc: no real memory is touched)
        hog = bytearray(int(header.get("bytes", 1 << 40)))
        del hog


def _handle(header: dict, payload: bytes, *, test_hooks: bool = False) -> dict:
    if test_hooks:
        _misbehave(header)
    sheet = header.get("sheet")
    # The rows read per sheet: MAX_ROWS, or up to MAX_ROWS_LIMIT when the request asks (a summary of figures).
    global MAX_ROWS
    rows = header.get("max_rows")
    MAX_ROWS = rows if type(rows) is int and grid_module.MAX_ROWS <= rows <= grid_module.MAX_ROWS_LIMIT \
        else grid_module.MAX_ROWS
    try:
        return encode_grid(parse_workbook(payload, sheet if isinstance(sheet, str) else None))
    except UnreadableWorkbook as exc:
        return encode_error(exc)
    except MemoryError:
        raise
    except Exception as exc:  # a library bug on a strange file: refuse the file, keep the worker
        return encode_error(safety.unreadable(UnreadableCode.corrupt, f"{type(exc).__name__}: {str(exc)[:200]}"))


def main() -> None:
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is for the parent; we exit when stdin closes
    out = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # stray prints from libraries go to stderr, never into the protocol
    stdin = sys.stdin.buffer
    import python_calamine  # noqa: F401  (loaded before the limit, once per worker)

    test_hooks = hooks_allowed(os.environ)
    _limit_resources()
    while True:
        head = _read_exact(stdin, HEADER.size)
        if head is None:
            os._exit(0)  # the parent closed the pipe: nothing to clean up worth waiting for
        header_len, payload_len = HEADER.unpack(head)
        header = json.loads(_read_exact(stdin, header_len) or b"{}")
        payload = _read_exact(stdin, payload_len) or b""
        out.write(ACK)  # receipt: from now on a death of this process is the file's doing
        out.flush()
        try:
            reply = _handle(header, payload, test_hooks=test_hooks)
        except MemoryError:
            reply = {"ok": False, "code": UnreadableCode.crashed, "restart": True}
        except BaseException as exc:  # Rust panics (pyo3 PanicException) derive from BaseException
            if isinstance(exc, (KeyboardInterrupt, SystemExit)):
                raise
            reply = {"ok": False, "code": UnreadableCode.crashed, "restart": True, "detail": type(exc).__name__}
        body = json.dumps(reply, ensure_ascii=False).encode()
        out.write(REPLY.pack(len(body)) + body)
        out.flush()
        if reply.get("restart"):
            return  # the heap may be in a bad state: let the parent start a fresh worker
