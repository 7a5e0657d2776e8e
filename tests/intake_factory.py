"""Plain factory functions for intake tests: district report sheets as grids (for the pure parser) and
as real workbook bytes written by openpyxl (for ingestion).

A sheet is described as ``{"B4": value}``; a value may be a :class:`Formula` (no cached result when
written by openpyxl) or an :class:`ExcelError`.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from tracker.intake.grid import Cell, SheetGrid, WorkbookGrid

ROOT = Path(__file__).resolve().parent.parent

KEYS = ("new_unions", "agreements", "congresses", "new_members", "union_fees")
LABELS = {
    "new_unions": ("Thành lập CĐCS mới", "CĐCS"),
    "agreements": ("Thỏa ước lao động tập thể ký mới", "bản"),
    "congresses": ("Đại hội CĐCS hoàn thành", "cuộc"),
    "new_members": ("Phát triển đoàn viên mới", "người"),
    "union_fees": ("Thu kinh phí công đoàn", "triệu đồng"),
}
HEADER_ROW = 8
FIRST_ROW = 9
# Columns of the layout used here (the parser finds them by header text, never by position).
COLS = {"code": "A", "label": "B", "unit": "C", "target": "D", "ytd": "E", "period": "F", "note": "G"}
HEADERS = {"code": "Mã chỉ tiêu", "label": "Chỉ tiêu", "unit": "Đơn vị tính", "target": "Chỉ tiêu đăng ký",
           "ytd": "Luỹ kế từ đầu năm", "period": "Thực hiện trong kỳ", "note": "Ghi chú"}


DEFAULT_FIGURES = {"new_unions": 19, "agreements": 10, "congresses": 45, "new_members": 1300, "union_fees": 2100.5}


@dataclass(frozen=True)
class Formula:
    text: str
    cached: object = None  # the saved result, when the file "was saved by Excel"


@dataclass(frozen=True)
class ExcelError:
    code: str


def ref_of(ref: str) -> tuple[int, int]:
    """``"D9"`` → (9, 4)."""
    m = re.fullmatch(r"([A-Z]+)(\d+)", ref)
    assert m, ref
    col = 0
    for ch in m.group(1):
        col = col * 26 + ord(ch) - 64
    return int(m.group(2)), col


def ytd_cell(key: str) -> str:
    return f"{COLS['ytd']}{FIRST_ROW + KEYS.index(key)}"


def report_cells(district: object = "HBT", as_of: object = "30/06/2023", figures: dict | None = None,
                 periods: dict | None = None, notes: dict | None = None, keys: tuple[str, ...] = KEYS,
                 codes: dict | None = None) -> dict[str, object]:
    """A filled district report sheet in the usual layout: labels in rows 4-5, header in row 8.

    ``figures`` change the default figures (a None value leaves the cell blank)."""
    figures = {**DEFAULT_FIGURES, **(figures or {})}
    cells: dict[str, object] = {
        "A1": "BÁO CÁO TIẾN ĐỘ THỰC HIỆN CHỈ TIÊU THI ĐUA",
        "A4": "Đơn vị:", "B4": district,
        "A5": "Số liệu tính đến ngày:", "B5": as_of,
    }
    cells = {k: v for k, v in cells.items() if v is not None}
    for role, col in COLS.items():
        cells[f"{col}{HEADER_ROW}"] = HEADERS[role]
    for i, key in enumerate(keys):
        r = FIRST_ROW + i
        label, unit = LABELS[key]
        cells[f"A{r}"] = (codes or {}).get(key, key)
        cells[f"B{r}"] = label
        cells[f"C{r}"] = unit
        cells[f"D{r}"] = 100
        if figures.get(key) is not None:
            cells[f"E{r}"] = figures[key]
        if (periods or {}).get(key) is not None:
            cells[f"F{r}"] = periods[key]
        if (notes or {}).get(key) is not None:
            cells[f"G{r}"] = notes[key]
    return cells


def sheet_grid(cells: dict[str, object], name: str = "Báo cáo", merged: list[str] = (),
               hidden_rows: set[int] = frozenset(), truncated: bool = False) -> SheetGrid:
    grid = SheetGrid(name=name, hidden_rows=set(hidden_rows), truncated=truncated)
    for ref, value in cells.items():
        r, c = ref_of(ref)
        if isinstance(value, Formula):
            grid.cells[(r, c)] = Cell(r, c, value.cached, formula=value.text)
        elif isinstance(value, ExcelError):
            grid.cells[(r, c)] = Cell(r, c, None, error=value.code)
        else:
            grid.cells[(r, c)] = Cell(r, c, value)
    for span in merged:
        a, b = span.split(":")
        (r1, c1), (r2, c2) = ref_of(a), ref_of(b)
        grid.merged.append((r1, c1, r2, c2))
    return grid


def workbook_grid(*sheets: SheetGrid, fmt: str = "xlsx") -> WorkbookGrid:
    return WorkbookGrid(format=fmt, sheet_names=[s.name for s in sheets], sheets={s.name: s for s in sheets})


def report_grid(**kwargs) -> WorkbookGrid:
    return workbook_grid(sheet_grid(report_cells(**kwargs)))


def xlsx_bytes(sheets: dict[str, dict[str, object]], merged: dict[str, list[str]] | None = None,
               hidden_rows: dict[str, set[int]] | None = None) -> bytes:
    """A real .xlsx written by openpyxl: formulas have no cached value, like files written by scripts."""
    from openpyxl import Workbook

    wb = Workbook()
    wb.remove(wb.active)
    for name, cells in sheets.items():
        ws = wb.create_sheet(name)
        for ref, value in cells.items():
            if isinstance(value, Formula):
                ws[ref] = value.text
            elif isinstance(value, ExcelError):
                ws[ref] = value.code
                ws[ref].data_type = "e"
            else:
                ws[ref] = value
        for span in (merged or {}).get(name, []):
            ws.merge_cells(span)
        for r in (hidden_rows or {}).get(name, set()):
            ws.row_dimensions[r].hidden = True
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def report_xlsx(sheet: str = "Báo cáo", **kwargs) -> bytes:
    """A filled district report as .xlsx bytes."""
    return xlsx_bytes({sheet: report_cells(**kwargs)})


def report_for(district: str, as_of: date, figures: dict, **kwargs) -> bytes:
    return report_xlsx(district=district, as_of=as_of.strftime("%d/%m/%Y"), figures=figures, **kwargs)


def without_named_styles(xlsx: bytes) -> bytes:
    """The workbook as Gnumeric (``ssconvert``) writes it: a stylesheet without named cell styles, so
    openpyxl warns "Workbook contains no default style" when it opens it."""
    import zipfile

    source = zipfile.ZipFile(io.BytesIO(xlsx))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            part = source.read(info.filename)
            if info.filename == "xl/styles.xml":
                part = re.sub(rb"<cellStyles\b.*?</cellStyles>", b"", part)
                assert b"cellStyle " not in part
            target.writestr(info.filename, part)
    return buf.getvalue()
