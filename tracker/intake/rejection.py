"""What a rejected file leaves in quarantine, so the district can fix it and send it again.

A folder per rejected file holding: the original bytes, ``bao-cao-loi.txt`` (the error report,
Vietnamese then English) and ``<name>_can-sua.xlsx``, a copy of the workbook with the faulty cells
highlighted (red: error, yellow: warning) and commented. For .xlsx/.xlsm the copy is the district's own
workbook (macros dropped); for .xls/.ods, and for files too large to open safely in this process, the
copy is rebuilt from the cells the safe reader read.
"""

from __future__ import annotations

import io
import shutil
import warnings
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Protocol

from tracker.config import Settings
from tracker.findings import Finding
from tracker.intake.files import derived_name, safe_name, write_atomic
from tracker.intake.grid import MAX_COLS, MAX_ROWS_LIMIT, WorkbookGrid, column_letter
from tracker.intake.parser import ParsedReport
from tracker.safe_cells import clean_text, write_text
from tracker.text import format_datetime

REPORT_NAME = "bao-cao-loi.txt"
ANNOTATED_SUFFIX = "_can-sua.xlsx"
AUTHOR = "Cụm thi đua"
# Beyond this the copy is rebuilt from the cells read; for an .xlsx that is the report sheet alone (the
# intake reads no other), for .xls and .ods every sheet.
_OPEN_ORIGINAL_MAX_BYTES = 2 * 1024 * 1024


class Verdict(Protocol):
    """What the error report says about the file (:class:`tracker.intake.ingest.IngestResult` is one)."""

    file_name: str
    file_hash: str
    district: str | None
    as_of: date | None
    received_at: datetime | None

    @property
    def errors(self) -> list[Finding]: ...

    @property
    def warnings(self) -> list[Finding]: ...


@dataclass(frozen=True)
class RejectedFiles:
    """The files a rejection leaves in quarantine, made ready before any is written (and before the intake
    takes its lock): the original bytes, the annotated copy (None when the file could not be read) and the
    error report."""

    name: str  # the file's name as received
    original: bytes
    annotated: bytes | None
    report: str


def prepare_rejected(data: bytes, name: str, grid: WorkbookGrid | None, report: ParsedReport, verdict: Verdict,
                     settings: Settings) -> RejectedFiles:
    """The original, the annotated copy and the error report of a rejected file (no file written)."""
    annotated = annotated_workbook(data, grid, report.findings, report.sheet) if grid is not None else None
    annotated_name = derived_name(name, ANNOTATED_SUFFIX) if annotated is not None else None
    return RejectedFiles(name, data, annotated, rejection_text(verdict, settings, annotated_name))


def write_rejected(folder: Path, files: RejectedFiles) -> tuple[Path, Path, Path | None]:
    """Write the original, the annotated copy and the error report into ``folder`` under names that fit the
    file system; returns (original, error report, annotated copy). When one of them cannot be written, a folder
    made here is removed again: no half-filled or empty folder is left behind."""
    made = not folder.exists()
    try:
        original = write_atomic(folder / safe_name(files.name), files.original)
        annotated = None
        if files.annotated is not None:
            annotated = write_atomic(folder / derived_name(files.name, ANNOTATED_SUFFIX), files.annotated)
        report_path = write_atomic(folder / REPORT_NAME, files.report.encode("utf-8"))
    except BaseException:
        if made:
            shutil.rmtree(folder, ignore_errors=True)
        raise
    return original, report_path, annotated


def keep_rejected(folder: Path, data: bytes, name: str, grid: WorkbookGrid | None, report: ParsedReport,
                  verdict: Verdict, settings: Settings) -> tuple[Path, Path, Path | None]:
    """:func:`prepare_rejected`, then :func:`write_rejected` (``name`` is the name as received)."""
    return write_rejected(folder, prepare_rejected(data, name, grid, report, verdict, settings))


def existing_outputs(folder: Path) -> tuple[Path | None, Path | None]:
    """The error report and the annotated copy kept in a quarantine folder earlier."""
    report = folder / REPORT_NAME
    annotated = next(iter(sorted(folder.glob("*" + ANNOTATED_SUFFIX))), None) if folder.is_dir() else None
    return (report if report.exists() else None), annotated


def rejection_text(result: Verdict, settings: Settings, annotated_name: str | None = None) -> str:
    """The error report: Vietnamese first, then English; every error and warning by cell."""
    tz = settings.tz
    received = format_datetime(result.received_at.astimezone(tz)) if result.received_at else "—"
    district = result.district or "—"
    as_of = result.as_of.strftime("%d/%m/%Y") if result.as_of else "—"
    year = getattr(result, "year", None)
    assessment = getattr(result, "kind", "report") == "assessment"  # a self-assessment (docs/assessment.md §7)
    about_vi = f"Bảng tự chấm điểm năm {year or '—'}" if assessment else f"Số liệu tính đến ngày: {as_of}"
    about_en = f"Self-assessment {year or '—'}" if assessment else f"As of: {as_of}"
    stored_vi = f"không có {'điểm' if assessment else 'số liệu'} nào của tệp được ghi nhận"
    stored_en = "none of its scores were stored" if assessment else "none of its figures were stored"

    def block(f: Finding, lang: str) -> str:
        return f"  - {f.text(lang)}"

    vi = [
        f"BÁO CÁO LỖI — {settings.cluster.name}",
        f"Tệp: {result.file_name}",
        f"Nhận lúc: {received}",
        f"Đơn vị: {district}    {about_vi}",
        f"Mã SHA-256: {result.file_hash}",
        "",
        f"Tệp bị từ chối vì có {len(result.errors)} lỗi; {stored_vi}.",
    ]
    if annotated_name:
        vi.append(f"Các ô có lỗi được tô đỏ và ghi chú trong bản '{annotated_name}': sửa các ô đó rồi gửi lại tệp.")
    else:
        vi.append("Hãy sửa các lỗi dưới đây rồi gửi lại tệp.")
    vi += ["", "Lỗi:"] + [block(f, "vi") for f in result.errors]
    if result.warnings:
        vi += ["", "Cảnh báo (không làm tệp bị từ chối):"] + [block(f, "vi") for f in result.warnings]
    en = [
        f"ERROR REPORT — {settings.cluster.name}",
        f"File: {result.file_name}",
        f"Received: {received}",
        f"District: {district}    {about_en}",
        f"SHA-256: {result.file_hash}",
        "",
        f"The file was rejected because of {len(result.errors)} error(s); {stored_en}.",
    ]
    if annotated_name:
        en.append(f"The faulty cells are highlighted and commented in '{annotated_name}': fix them and send the "
                  f"file again.")
    else:
        en.append("Fix the errors below and send the file again.")
    en += ["", "Errors:"] + [block(f, "en") for f in result.errors]
    if result.warnings:
        en += ["", "Warnings (they do not reject the file):"] + [block(f, "en") for f in result.warnings]
    return "\n".join(vi) + "\n\n" + "-" * 72 + "\n\n" + "\n".join(en) + "\n"


# -- the annotated copy ------------------------------------------------------------------------------------


def require_defused_openpyxl() -> None:
    """openpyxl expands XML entities unless defusedxml is installed (PITFALLS): refuse to open uploads then."""
    import openpyxl

    if not openpyxl.DEFUSEDXML:  # not an assert: it must hold under python -O too
        raise RuntimeError("defusedxml must be installed: openpyxl would expand XML entities in uploads")


def quiet_openpyxl_reading() -> None:
    """Silence what openpyxl says about an upload it reads ("Workbook contains no default style" for a
    Gnumeric file, parts it drops from the copy): nothing the district or the operator can act on, and
    printed on the terminal of whoever runs the intake.

    A filter added for good rather than ``warnings.catch_warnings()`` around the call: that one swaps
    the process's filters in and out, which is not safe while the portal ingests in several threads.
    Called each time (adding the same filter again replaces it) so it holds even after something reset
    the filters."""
    warnings.filterwarnings("ignore", category=UserWarning,
                            module=r"openpyxl\.(styles\.stylesheet|reader\.|worksheet\._reader)")


def annotated_workbook(data: bytes, grid: WorkbookGrid, findings: list[Finding], report_sheet: str | None
                       ) -> bytes | None:
    """The workbook with every finding's cell highlighted and commented (.xlsx bytes)."""
    from openpyxl import Workbook, load_workbook

    require_defused_openpyxl()  # the one place the main process opens an upload with openpyxl

    wb = None
    small = len(data) <= _OPEN_ORIGINAL_MAX_BYTES and not any(s.truncated for s in grid.sheets.values())
    if grid.format in ("xlsx", "xlsm") and small:
        quiet_openpyxl_reading()
        try:  # the bytes passed the safe reader's zip and XML checks; openpyxl runs with defusedxml
            wb = load_workbook(io.BytesIO(data), keep_vba=False, keep_links=False, rich_text=False)
        except Exception:  # noqa: BLE001 - a file openpyxl cannot open gets the rebuilt copy
            wb = None
    if wb is None:
        wb = Workbook()
        wb.remove(wb.active)
        for name in grid.sheet_names:
            if name in grid.sheets:
                _rebuild_sheet(wb.create_sheet(clean_text(name)[:31] or "Sheet"), grid.sheets[name])
        if not wb.sheetnames:
            return None
    _mark(wb, findings, report_sheet)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _rebuild_sheet(ws, sheet) -> None:
    for (r, c), cell in sheet.cells.items():
        if r > MAX_ROWS_LIMIT or c > MAX_COLS:  # the most any read takes in (a summary's rows included)
            continue
        target = ws.cell(row=r, column=c)
        if cell.error:
            write_text(target, cell.error)
        elif cell.value is None and cell.formula:
            write_text(target, cell.formula)
        elif isinstance(cell.value, str):
            write_text(target, cell.value)
        elif isinstance(cell.value, datetime | date):
            target.value = cell.value
            target.number_format = "dd/mm/yyyy"
        elif cell.value is not None:
            target.value = cell.value
    for r1, c1, r2, c2 in sheet.merged:
        ws.merge_cells(f"{column_letter(c1)}{r1}:{column_letter(c2)}{r2}")
    for r in sheet.hidden_rows:
        ws.row_dimensions[r].hidden = True


def _mark(wb, findings: list[Finding], report_sheet: str | None) -> None:
    from openpyxl.comments import Comment
    from openpyxl.styles import PatternFill

    fills = {"error": PatternFill("solid", fgColor="FFC7CE"), "warning": PatternFill("solid", fgColor="FFEB9C")}
    by_cell: dict[tuple[str, str], list[Finding]] = {}
    loose: list[Finding] = []
    for f in findings:
        if f.sheet and f.ref and f.sheet in wb.sheetnames:
            by_cell.setdefault((f.sheet, f.ref), []).append(f)
        else:
            loose.append(f)
    sheet_name = report_sheet if report_sheet in wb.sheetnames else wb.sheetnames[0]
    if loose:
        by_cell.setdefault((sheet_name, "A1"), []).extend(loose)
    for (sheet, ref), items in by_cell.items():
        cell = wb[sheet][ref]
        if type(cell).__name__ == "MergedCell":  # inside a merged range: mark its top-left cell
            for rng in wb[sheet].merged_cells.ranges:
                if ref in rng:
                    cell = wb[sheet].cell(row=rng.min_row, column=rng.min_col)
                    break
        severity = "error" if any(f.is_error for f in items) else "warning"
        cell.fill = fills[severity]
        text = "\n".join(f"[{'LỖI' if f.is_error else 'CẢNH BÁO'}] {f.message_vi}\n({f.message_en})" for f in items)
        comment = Comment(clean_text(text), AUTHOR)
        comment.width, comment.height = 320, min(60 + 70 * len(items), 400)
        cell.comment = comment
