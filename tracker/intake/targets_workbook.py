"""The targets workbook (`tracker targets template` / `tracker targets import`, docs/sheet-format.md §14).

Sheet ``Chỉ tiêu đăng ký`` (or the only sheet): the label ``Năm`` with the year to its right, a header
row holding ``Mã đơn vị`` and one column per indicator (headed by its key or label; other columns such
as ``Tên đơn vị`` are ignored), one row per district until the first empty row. A blank cell registers
nothing. The year to the right of ``Năm`` says which year the targets are registered for (from
:data:`FIRST_YEAR` to the year after ``[cluster] year``: last year's targets, or next year's before the switch).
An import is all or nothing: any error and no target is registered. Registering keeps the
history (:func:`tracker.targets.register_targets`): a value equal to the current target is not
registered again.
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from tracker import findings as findings_module
from tracker.config import Indicator, Settings
from tracker.findings import Finding, make, ordered
from tracker.intake.files import safe_name
from tracker.intake.grid import Cell, UnreadableWorkbook, WorkbookGrid, pick_sheet, refusal
from tracker.intake.matching import HEADER_DISTRICT_CODE, HEADER_DISTRICT_NAME, LABEL_YEAR, SHEET_TARGETS, Names
from tracker.intake.reader import read_workbook
from tracker.intake.table import LABEL_ROWS, Column, Header, Row, Sheet, Table
from tracker.intake.values import read_number, shown
from tracker.messages import Bilingual
from tracker.targets import Registration, current_targets, register_targets

if TYPE_CHECKING:
    from tracker.context import Context


FIRST_YEAR = 2000  # the earliest year a targets workbook may register for


@dataclass
class TargetsSheet:
    values: dict[tuple[str, str], float] = field(default_factory=dict)  # (district code, indicator key)
    year: int | None = None  # the year the targets are for (the `Năm` label)
    findings: list[Finding] = field(default_factory=list)

    @property
    def errors(self) -> list[Finding]:
        return findings_module.errors(self.findings)


class _DistrictColumn(Column):
    """``Mã đơn vị`` (or, when blank, ``Tên đơn vị``): the district of the row, once per table."""

    def __init__(self, names: Names):
        super().__init__(HEADER_DISTRICT_CODE, "district")
        self.names = names
        self.seen: dict[str, str] = {}  # district code -> its cell

    def clean(self, cell: Cell | None, row: Row) -> str | None:
        cell = cell or row.cell("district_name")
        district = self.names.district(cell.value) if cell is not None else None
        if district is None:
            row.report("district_unknown", "targets", column=self.key, ref=cell.ref if cell else None,
                       shown=shown(cell))
            return None
        if district in self.seen:
            row.report("district_duplicate", ref=cell.ref, district=district, first=self.seen[district])
            return None
        self.seen[district] = cell.ref
        return district


class _TargetColumn(Column):
    """A column headed by an indicator's key or label: the district's target, a number not negative, whole for
    a count. A blank cell registers nothing."""

    def __init__(self, header: str, ind: Indicator):
        super().__init__(header, "target:" + ind.key)
        self.ind = ind

    def clean(self, cell: Cell | None, row: Row) -> float | None:
        ind, read = self.ind, read_number(cell)
        name = Bilingual(ind.label, ind.label_en)
        if row.problem(read, self.key, variant="targets", indicator=ind.key, name=name) or read.value is None:
            return None
        if read.value < 0:
            row.report("value_negative", "targets", column=self.key, indicator=ind.key, shown=read.shown)
        elif ind.kind == "count" and not float(read.value).is_integer():
            row.report("value_fractional", "targets", column=self.key, indicator=ind.key, name=name, shown=read.shown)
        else:
            return float(read.value)
        return None


def parse_targets(workbook: WorkbookGrid, settings: Settings) -> TargetsSheet:
    """Check a targets workbook (pure)."""
    names = Names.of(settings)
    name = pick_sheet(workbook.sheet_names, SHEET_TARGETS)
    out = TargetsSheet()
    if name is None or name not in workbook.sheets:
        out.findings.append(make("no_targets_sheet", sheet_name=SHEET_TARGETS))
        return out
    sheet = Sheet(workbook.sheets[name])
    out.year = _check_year(sheet, settings.cluster.year)
    header = sheet.header(HEADER_DISTRICT_CODE)
    if header is None:
        sheet.report("table_missing", "targets", header=HEADER_DISTRICT_CODE)
    else:
        _read_table(sheet, header, _DistrictColumn(names), _target_columns(header, settings, names), out)
    out.findings = ordered(sheet.findings)
    return out


def _check_year(sheet: Sheet, year: int) -> int | None:
    """The year to the right of ``Năm``: a whole number from :data:`FIRST_YEAR` to ``year`` + 1 (None: an error
    was reported)."""
    label = sheet.label(LABEL_YEAR)
    if label is None:
        sheet.report("year_missing", "no_label", label=LABEL_YEAR, rows=LABEL_ROWS)
        return None
    if label.value is None:
        sheet.report("year_missing", "no_value", ref=label.cell.ref, label=LABEL_YEAR)
        return None
    value = read_number(label.value).value
    if isinstance(value, float) and value.is_integer() and FIRST_YEAR <= value <= year + 1:
        return int(value)
    sheet.report("year_invalid", ref=label.value.ref, shown=shown(label.value), first=FIRST_YEAR, last=year + 1,
                 year=year)
    return None


def _target_columns(header: Header, settings: Settings, names: Names) -> list[_TargetColumn]:
    """One column per header cell naming an indicator (the first one, for an indicator headed twice), left to
    right."""
    columns: list[_TargetColumn] = []
    taken: set[str] = set()
    for _c, cell in sorted(header.cells.items()):
        key = names.indicator(cell.value) if isinstance(cell.value, str) else None
        if key is not None and key not in taken:
            taken.add(key)
            columns.append(_TargetColumn(cell.value, settings.indicator(key)))
    return columns


def _read_table(sheet: Sheet, header: Header, districts: _DistrictColumn, targets: list[_TargetColumn],
                out: TargetsSheet) -> None:
    """The row loop: every cell is checked; a row's targets are kept when its district is known."""
    table = Table(sheet, header, [districts, Column(HEADER_DISTRICT_NAME, "district_name"), *targets],
                  whole_rows=True)
    if not targets:
        sheet.report("no_indicator_columns", ref=table.ref("district"))
    for row in table.rows():
        district = row.values["district"]
        if district is None:
            continue
        for column in targets:
            value = row.values[column.key]
            if value is not None:
                out.values[(district, column.ind.key)] = value
    if not districts.seen and not findings_module.errors(sheet.findings):
        sheet.report("table_empty", "targets", ref=table.ref("district"))


@dataclass
class TargetsImport:
    file_name: str
    file_hash: str
    findings: list[Finding] = field(default_factory=list)
    registrations: list[Registration] = field(default_factory=list)
    year: int | None = None  # the year registered for

    @property
    def ok(self) -> bool:
        return not any(f.is_error for f in self.findings)

    @property
    def changed(self) -> int:
        return sum(1 for r in self.registrations if r.changed)


def import_targets(ctx: Context, data: bytes, filename: str) -> TargetsImport:
    """Read, check and register a targets workbook (all or nothing, in one transaction)."""
    file_hash = hashlib.sha256(data).hexdigest()
    result = TargetsImport(safe_name(filename, "chi-tieu.xlsx"), file_hash)
    try:
        grid = read_workbook(data, result.file_name)
    except UnreadableWorkbook as exc:
        result.findings = [refusal(exc)]
        return result
    sheet = parse_targets(grid, ctx.settings)
    result.findings = sheet.findings
    if not result.ok:
        return result
    assert sheet.year is not None
    result.year = sheet.year
    with ctx.session(write=True) as session:
        result.registrations = register_targets(session, ctx.cluster_id, sheet.year, sheet.values,
                                                source="workbook", source_ref=file_hash)
    return result


def build_targets_template(settings: Settings, current: dict[tuple[str, str], float] | None = None, *,
                           year: int | None = None) -> bytes:
    """The targets workbook of ``year`` (default ``[cluster] year``) with one row per district, pre-filled with
    that year's current targets."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
    from openpyxl.worksheet.datavalidation import DataValidation

    current = current or {}
    wb = Workbook()
    ws = wb.active
    ws.title = SHEET_TARGETS
    bold = Font(bold=True)
    thin = Side(style="thin", color="808080")
    box = Border(left=thin, right=thin, top=thin, bottom=thin)
    ws["A1"] = "ĐĂNG KÝ CHỈ TIÊU THI ĐUA"
    ws["A1"].font = Font(bold=True, size=14)
    ws["A2"] = settings.cluster.name
    ws["A3"], ws["B3"] = LABEL_YEAR + ":", year or settings.cluster.year
    ws["A3"].font = ws["B3"].font = bold
    ws["A4"] = ("Ghi chỉ tiêu đăng ký của từng đơn vị; ô để trống không đăng ký gì. Đăng ký lại một chỉ tiêu "
                "sẽ thay chỉ tiêu hiện hành, lịch sử đăng ký vẫn được lưu.")
    ws["A4"].font = Font(italic=True, color="595959")
    header_row = 6
    headers = [HEADER_DISTRICT_CODE, HEADER_DISTRICT_NAME] + [
        f"{i.label}" for i in settings.indicators]
    fill = PatternFill("solid", fgColor="DDEBF7")
    for c, text in enumerate(headers, start=1):
        cell = ws.cell(row=header_row, column=c, value=text)
        cell.font, cell.fill, cell.border = bold, fill, box
        cell.alignment = Alignment(wrap_text=True, horizontal="center", vertical="center")
        ws.column_dimensions[cell.column_letter].width = 12 if c == 1 else (28 if c == 2 else 18)
    ws.row_dimensions[header_row].height = 45
    units_row = header_row - 1
    for c, ind in enumerate(settings.indicators, start=3):
        ws.cell(row=units_row, column=c, value=f"({ind.unit})" if ind.unit else None).alignment = Alignment(
            horizontal="center")
    whole = DataValidation(type="whole", operator="greaterThanOrEqual", formula1="0", allow_blank=True,
                           showErrorMessage=True, error="Nhập số nguyên không âm.")
    decimal = DataValidation(type="decimal", operator="greaterThanOrEqual", formula1="0", allow_blank=True,
                             showErrorMessage=True, error="Nhập số không âm.")
    ws.add_data_validation(whole)
    ws.add_data_validation(decimal)
    for r, d in enumerate(settings.districts, start=header_row + 1):
        ws.cell(row=r, column=1, value=d.code).border = box
        ws.cell(row=r, column=2, value=d.name).border = box
        for c, ind in enumerate(settings.indicators, start=3):
            cell = ws.cell(row=r, column=c, value=current.get((d.code, ind.key)))
            cell.border = box
            cell.number_format = "#,##0" if ind.kind == "count" else "#,##0.00"
            (whole if ind.kind == "count" else decimal).add(cell.coordinate)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def targets_template(ctx: Context, year: int | None = None) -> bytes:
    """The targets workbook of ``year`` (default ``[cluster] year``), pre-filled with its current targets."""
    year = year or ctx.settings.cluster.year
    with ctx.session() as session:
        current = current_targets(session, ctx.cluster_id, year)
    return build_targets_template(ctx.settings, current, year=year)
