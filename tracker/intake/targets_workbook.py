"""The targets workbook (`tracker targets template` / `tracker targets import`, docs/sheet-format.md §14).

Sheet ``Chỉ tiêu đăng ký`` (or the only sheet): the label ``Năm`` with the year to its right, a header
row holding ``Mã đơn vị`` and one column per indicator (headed by its key or label; other columns such
as ``Tên đơn vị`` are ignored), one row per district until the first empty row. A blank cell registers
nothing. An import is all or nothing: any error and no target is registered. Registering keeps the
history (:func:`tracker.targets.register_targets`): a value equal to the current target is not
registered again.
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from tracker import findings as findings_module
from tracker.config import Settings
from tracker.findings import Finding, make, ordered
from tracker.intake.grid import MAX_ROWS, Cell, UnreadableWorkbook, WorkbookGrid, column_letter, refusal
from tracker.intake.matching import HEADER_DISTRICT_CODE, HEADER_DISTRICT_NAME, LABEL_YEAR, SHEET_TARGETS, Names, same
from tracker.intake.values import is_blank, read_number, shown
from tracker.messages import Bilingual

if TYPE_CHECKING:
    from tracker.context import Context
    from tracker.targets import Registration

_LABEL_ROWS = 20


@dataclass
class TargetsSheet:
    values: dict[tuple[str, str], float] = field(default_factory=dict)  # (district code, indicator key)
    findings: list[Finding] = field(default_factory=list)

    @property
    def errors(self) -> list[Finding]:
        return findings_module.errors(self.findings)


def parse_targets(workbook: WorkbookGrid, settings: Settings) -> TargetsSheet:
    """Check a targets workbook (pure)."""
    names = Names.of(settings)
    name = next((n for n in workbook.sheet_names if same(n, SHEET_TARGETS)), None)
    if name is None and len(workbook.sheet_names) == 1:
        name = workbook.sheet_names[0]
    out = TargetsSheet()
    if name is None or name not in workbook.sheets:
        out.findings.append(make("no_targets_sheet", sheet_name=SHEET_TARGETS))
        return out
    sheet = workbook.sheets[name]
    rows: dict[int, dict[int, Cell]] = {}
    for (r, c), cell in sheet.cells.items():
        if not is_blank(cell):
            rows.setdefault(r, {})[c] = cell

    def add(code: str, variant: str = "", /, *, ref: str | None = None, indicator: str | None = None,
            **params: object) -> None:
        out.findings.append(make(code, variant, sheet=name, ref=ref, indicator=indicator, **params))

    label = next((rows[r][c] for r in sorted(rows) if r <= _LABEL_ROWS for c in sorted(rows[r])
                  if same(rows[r][c].value, LABEL_YEAR)), None)
    year = settings.cluster.year
    if label is None:
        add("year_missing", "no_label", label=LABEL_YEAR, rows=_LABEL_ROWS)
    else:
        value = next((rows[label.row][c] for c in sorted(rows[label.row]) if c > label.col), None)
        read = read_number(value)
        if value is None:
            add("year_missing", "no_value", ref=label.ref, label=LABEL_YEAR)
        elif read.value != year:
            add("year_invalid", ref=value.ref, shown=shown(value), year=year)
    header = next((r for r in sorted(rows) if any(same(c.value, HEADER_DISTRICT_CODE) for c in rows[r].values())),
                  None)
    if header is None:
        add("table_missing", "targets", header=HEADER_DISTRICT_CODE)
        out.findings = ordered(out.findings)
        return out
    code_col = next(c for c, cell in sorted(rows[header].items()) if same(cell.value, HEADER_DISTRICT_CODE))
    name_col = next((c for c, cell in sorted(rows[header].items()) if same(cell.value, HEADER_DISTRICT_NAME)), None)
    columns: dict[int, str] = {}
    for c, cell in sorted(rows[header].items()):
        key = names.indicator(cell.value) if isinstance(cell.value, str) else None
        if key is not None and key not in columns.values():
            columns[c] = key
    if not columns:
        add("no_indicator_columns", ref=f"{column_letter(code_col)}{header}")
    seen: dict[str, str] = {}
    r = header + 1
    while r <= MAX_ROWS and rows.get(r):
        row = rows[r]
        code_cell = row.get(code_col) or (row.get(name_col) if name_col else None)
        code_ref = f"{column_letter(code_col)}{r}"
        district = names.district(code_cell.value) if code_cell is not None else None
        if district is None:
            add("district_unknown", "targets", ref=code_cell.ref if code_cell else code_ref, shown=shown(code_cell))
        elif district in seen:
            add("district_duplicate", ref=code_cell.ref, district=district, first=seen[district])
            district = None
        else:
            seen[district] = code_cell.ref
        for c, key in columns.items():
            ind = settings.indicator(key)
            ind_name = Bilingual(ind.label, ind.label_en)
            ref = f"{column_letter(c)}{r}"
            read = read_number(row.get(c))
            if read.problem == "excel_error":
                add("excel_error", "targets", ref=ref, indicator=key, shown=read.shown)
            elif read.problem == "formula_no_value":
                add("formula_no_value", "targets", ref=ref, indicator=key, shown=read.shown)
            elif read.problem:
                add("value_not_number", "targets", ref=ref, indicator=key, shown=read.shown, name=ind_name)
            elif read.value is None:
                continue
            elif read.value < 0:
                add("value_negative", "targets", ref=ref, indicator=key, shown=read.shown)
            elif ind.kind == "count" and not float(read.value).is_integer():
                add("value_fractional", "targets", ref=ref, indicator=key, name=ind_name, shown=read.shown)
            elif district is not None:
                out.values[(district, key)] = float(read.value)
        r += 1
    if not seen and not out.errors:
        add("table_empty", "targets", ref=f"{column_letter(code_col)}{header}")
    out.findings = ordered(out.findings)
    return out


@dataclass
class TargetsImport:
    file_name: str
    file_hash: str
    findings: list[Finding] = field(default_factory=list)
    registrations: list[Registration] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not any(f.is_error for f in self.findings)

    @property
    def changed(self) -> int:
        return sum(1 for r in self.registrations if r.changed)


def import_targets(ctx: Context, data: bytes, filename: str) -> TargetsImport:
    """Read, check and register a targets workbook (all or nothing, in one transaction)."""
    from tracker.intake.files import safe_name
    from tracker.intake.reader import read_workbook
    from tracker.targets import register_targets

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
    with ctx.session(write=True) as session:
        result.registrations = register_targets(session, ctx.cluster_id, ctx.settings.cluster.year, sheet.values,
                                                source="workbook", source_ref=file_hash)
    return result


def build_targets_template(settings: Settings, current: dict[tuple[str, str], float] | None = None) -> bytes:
    """The targets workbook with one row per district, pre-filled with the current targets."""
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
    ws["A3"], ws["B3"] = LABEL_YEAR + ":", settings.cluster.year
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


def targets_template(ctx: Context) -> bytes:
    from tracker.targets import current_targets

    with ctx.session() as session:
        current = current_targets(session, ctx.cluster_id, ctx.settings.cluster.year)
    return build_targets_template(ctx.settings, current)
