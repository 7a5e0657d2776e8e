"""Checking a district report sheet (docs/sheet-format.md): from a :class:`WorkbookGrid` to figures and findings.

Pure: plain data in (the grid the safe reader produced, the settings, the day the file was received),
plain data out. Nothing here touches files or the database; the warnings that need the district's
history are in :mod:`tracker.intake.history`.

How a sheet is read:
- the sheet named ``Báo cáo`` (folded comparison), or the only sheet of the workbook;
- labels ``Đơn vị`` and ``Số liệu tính đến ngày`` anywhere in the first 20 rows, each matched whole;
  the value is the first non-empty cell to their right;
- the header row is the first row holding ``Mã chỉ tiêu``; columns are found by their header text;
- the rows below it, until the first empty row, name an indicator by key or label.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from tracker.config import Settings
from tracker.intake import findings as findings_module
from tracker.intake.findings import Finding, finding, ordered
from tracker.intake.grid import MAX_ROWS, Cell, SheetGrid, WorkbookGrid, column_letter, pick_sheet
from tracker.intake.matching import (
    HEADER_CODE,
    HEADER_LABEL,
    HEADER_NOTE,
    HEADER_PERIOD,
    HEADER_PREVIOUS,
    HEADER_TARGET,
    HEADER_UNIT,
    HEADER_YTD,
    LABEL_AS_OF,
    LABEL_DISTRICT,
    SHEET_REPORT,
    Names,
    fold,
    same,
)
from tracker.intake.values import Read, is_blank, read_date, read_number, shown, text_of
from tracker.text import format_date

LABEL_ROWS = 20  # labels are looked for in the first 20 rows

_COLUMNS = {
    fold(HEADER_CODE): "code",
    fold(HEADER_LABEL): "label",
    fold(HEADER_UNIT): "unit",
    fold(HEADER_TARGET): "target",
    fold(HEADER_PREVIOUS): "previous",
    fold(HEADER_YTD): "ytd",
    fold(HEADER_PERIOD): "period",
    fold(HEADER_NOTE): "note",
}
# Columns whose numbers are information, not a misplaced figure.
_INFO_COLUMNS = {"code", "label", "unit", "target", "previous"}


@dataclass(frozen=True)
class ReportRow:
    """One indicator row of the table. ``cell`` is the year-to-date cell (``F9``)."""

    indicator: str
    value: float | None  # year to date; None when left blank
    period_value: float | None  # "Thực hiện trong kỳ", when given
    note: str | None  # "Ghi chú", as typed
    row: int
    cell: str
    code_cell: str
    period_cell: str | None = None
    note_cell: str | None = None


@dataclass
class ParsedReport:
    """The result of checking one workbook. ``sheet`` is the sheet's name as written in the file."""

    sheet: str | None = None
    district: str | None = None
    as_of: date | None = None
    rows: list[ReportRow] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    district_cell: str | None = None  # the cells holding the district and the date (for the annotated copy)
    as_of_cell: str | None = None

    @property
    def errors(self) -> list[Finding]:
        return findings_module.errors(self.findings)

    @property
    def warnings(self) -> list[Finding]:
        return findings_module.warnings(self.findings)

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def figures(self) -> list[ReportRow]:
        """The rows that carry a year-to-date figure."""
        return [r for r in self.rows if r.value is not None]


def choose_sheet(workbook: WorkbookGrid) -> str | None:
    """The sheet named ``Báo cáo`` (any case, with or without diacritics), else the only sheet."""
    return pick_sheet(workbook.sheet_names, SHEET_REPORT)


def parse_report(workbook: WorkbookGrid, settings: Settings, *, today: date | None = None,
                 names: Names | None = None) -> ParsedReport:
    """Check a district report workbook. ``today`` (the day the file was received, local time) enables
    the "date in the future" check. ``names`` may be passed to reuse the index across many files."""
    names = names or Names.of(settings)
    name = choose_sheet(workbook)
    if name is None or name not in workbook.sheets:
        listed = ", ".join(f"'{n}'" for n in workbook.sheet_names) or "—"
        return ParsedReport(findings=[finding(
            "error", "no_report_sheet",
            f"Không tìm thấy trang '{SHEET_REPORT}' (tệp có các trang: {listed}); hãy đặt tên trang báo cáo "
            f"là '{SHEET_REPORT}'.",
            f"No sheet named '{SHEET_REPORT}' (the workbook has: {listed}); name the report sheet "
            f"'{SHEET_REPORT}'.")])
    return _SheetParser(workbook.sheets[name], settings, names, today).parse()


class _SheetParser:
    def __init__(self, sheet: SheetGrid, settings: Settings, names: Names, today: date | None):
        self.sheet, self.settings, self.names, self.today = sheet, settings, names, today
        self.report = ParsedReport(sheet=sheet.name)
        self.header_row = 0
        self.rows: dict[int, dict[int, Cell]] = {}
        for (r, c), cell in sheet.cells.items():
            if not is_blank(cell):
                self.rows.setdefault(r, {})[c] = cell

    # -- helpers -------------------------------------------------------------------------------------
    def add(self, severity, code, vi, en, ref: str | None = None, indicator: str | None = None) -> None:
        self.report.findings.append(finding(severity, code, vi, en, sheet=self.sheet.name, ref=ref,
                                            indicator=indicator))

    def cell(self, row: int, col: int) -> Cell | None:
        return self.rows.get(row, {}).get(col)

    def find_label(self, label: str) -> Cell | None:
        for r in sorted(k for k in self.rows if k <= LABEL_ROWS):
            for c in sorted(self.rows[r]):
                if same(self.rows[r][c].value, label):
                    return self.rows[r][c]
        return None

    def right_of(self, label: Cell) -> Cell | None:
        row = self.rows.get(label.row, {})
        return next((row[c] for c in sorted(row) if c > label.col), None)

    def problem(self, read: Read, ref: str, what_vi: str, what_en: str, indicator: str | None = None) -> bool:
        """Report a formula without a result, an Excel error or a non-number; True if there was one."""
        if read.problem == "excel_error":
            self.add("error", "excel_error",
                     f"Ô hiển thị giá trị lỗi Excel {read.shown} ({what_vi}); hãy nhập số liệu thật.",
                     f"The cell shows the Excel error {read.shown} ({what_en}); type the real figure.",
                     ref, indicator)
        elif read.problem == "formula_no_value":
            self.add("error", "formula_no_value",
                     f"Ô chứa công thức {read.shown} nhưng không có kết quả được lưu ({what_vi}); hãy mở tệp "
                     f"bằng Excel rồi lưu lại, hoặc nhập số trực tiếp.",
                     f"The cell holds the formula {read.shown} with no saved result ({what_en}); open and "
                     f"save the file in Excel, or type the number.", ref, indicator)
        elif read.problem == "not_number":
            self.add("error", "value_not_number",
                     f"'{read.shown}' không phải là số ({what_vi}).",
                     f"'{read.shown}' is not a number ({what_en}).", ref, indicator)
        else:
            return False
        return True

    # -- the sheet -------------------------------------------------------------------------------------
    def parse(self) -> ParsedReport:
        if self.sheet.truncated:
            self.add("warning", "sheet_truncated",
                     f"Trang lớn hơn giới hạn đọc ({MAX_ROWS} dòng); các ô ở xa bảng đã bị bỏ qua.",
                     f"The sheet is larger than what is read ({MAX_ROWS} rows); cells far from the table "
                     f"were ignored.")
        self.district()
        self.as_of()
        self.table()
        self.report.findings = ordered(self.report.findings)
        return self.report

    def district(self) -> None:
        label = self.find_label(LABEL_DISTRICT)
        if label is None:
            self.add("error", "district_missing",
                     f"Không tìm thấy nhãn '{LABEL_DISTRICT}' trong {LABEL_ROWS} dòng đầu; hãy ghi "
                     f"'{LABEL_DISTRICT}' và tên đơn vị bên phải.",
                     f"No '{LABEL_DISTRICT}' (district) label in the first {LABEL_ROWS} rows; write it with "
                     f"the district's name to its right.")
            return
        value = self.right_of(label)
        if value is None:
            self.add("error", "district_missing",
                     f"Chưa ghi tên đơn vị bên phải ô '{LABEL_DISTRICT}'.",
                     "The district is missing to the right of this label.", label.ref)
            return
        self.report.district_cell = value.ref
        read = read_number(value)
        if read.problem in ("excel_error", "formula_no_value"):
            self.problem(read, value.ref, "tên đơn vị", "district")
            return
        code = self.names.district(value.value)
        if code is None:
            codes = ", ".join(d.code for d in self.settings.districts)
            self.add("error", "district_unknown",
                     f"Đơn vị '{shown(value)}' không thuộc {self.settings.cluster.name}; ghi mã đơn vị "
                     f"({codes}) hoặc tên đơn vị.",
                     f"'{shown(value)}' is not a district of this cluster; write its code ({codes}) or "
                     f"its name.", value.ref)
            return
        self.report.district = code

    def as_of(self) -> None:
        label = self.find_label(LABEL_AS_OF)
        if label is None:
            self.add("error", "date_missing",
                     f"Không tìm thấy nhãn '{LABEL_AS_OF}' trong {LABEL_ROWS} dòng đầu.",
                     f"No '{LABEL_AS_OF}' (as-of date) label in the first {LABEL_ROWS} rows.")
            return
        value = self.right_of(label)
        if value is None:
            self.add("error", "date_missing",
                     f"Chưa ghi ngày số liệu bên phải ô '{LABEL_AS_OF}' (dạng dd/mm/yyyy).",
                     "The as-of date is missing to the right of this label (write dd/mm/yyyy).", label.ref)
            return
        self.report.as_of_cell = value.ref
        read = read_date(value)
        if read.problem in ("excel_error", "formula_no_value"):
            self.problem(read, value.ref, "ngày số liệu", "as-of date")
            return
        if read.problem:
            self.add("error", "date_invalid",
                     f"Ngày '{read.shown}' không hợp lệ; ghi ngày có thật theo dạng dd/mm/yyyy, "
                     f"ví dụ 30/06/{self.settings.cluster.year}.",
                     f"'{read.shown}' is not a valid date; write a real date as dd/mm/yyyy, "
                     f"e.g. 30/06/{self.settings.cluster.year}.", value.ref)
            return
        assert isinstance(read.value, date)
        as_of, year = read.value, self.settings.cluster.year
        if self.today is not None and as_of > self.today + timedelta(days=1):
            self.add("error", "date_future",
                     f"Ngày số liệu {format_date(as_of)} nằm trong tương lai (tệp nhận ngày "
                     f"{format_date(self.today)}).",
                     f"The as-of date {format_date(as_of)} is in the future (file received on "
                     f"{format_date(self.today)}).", value.ref)
            return
        if as_of.year != year:
            self.add("error", "date_outside_year",
                     f"Ngày số liệu {format_date(as_of)} không thuộc năm thi đua {year}.",
                     f"The as-of date {format_date(as_of)} is not in the cluster year {year}.", value.ref)
            return
        self.report.as_of = as_of

    # -- the table -------------------------------------------------------------------------------------
    def table(self) -> None:
        header = next((r for r in sorted(self.rows)
                       if any(same(c.value, HEADER_CODE) for c in self.rows[r].values())), None)
        if header is None:
            self.add("error", "table_missing",
                     f"Không tìm thấy bảng số liệu: cần một dòng tiêu đề có ô '{HEADER_CODE}'.",
                     f"No table: a header row with a '{HEADER_CODE}' cell is required.")
            return
        self.header_row = header
        columns: dict[str, int] = {}
        for c in sorted(self.rows[header]):
            role = _COLUMNS.get(fold(self.rows[header][c].value)) if isinstance(
                self.rows[header][c].value, str) else None
            if role and role not in columns:
                columns[role] = c
        code_ref = f"{column_letter(columns['code'])}{header}"
        if "ytd" not in columns:
            self.add("error", "ytd_column_missing",
                     f"Dòng tiêu đề không có cột '{HEADER_YTD}'.",
                     f"The header row has no '{HEADER_YTD}' (year to date) column.", code_ref)
            return
        first, last = min(self.rows[header]), max(self.rows[header])
        data_rows: list[int] = []
        r = header + 1
        while r <= MAX_ROWS and any(first <= c <= last for c in self.rows.get(r, {})):
            data_rows.append(r)
            r += 1
        ytd_ref = f"{column_letter(columns['ytd'])}{header}"
        if not data_rows:
            self.add("error", "table_empty",
                     f"Bảng không có dòng chỉ tiêu nào ngay dưới dòng tiêu đề (dòng {header}).",
                     f"The table has no indicator rows right below its header (row {header}).", code_ref)
            return
        if self.sheet.truncated and data_rows[-1] >= MAX_ROWS:
            self.add("error", "table_truncated",
                     f"Bảng dài quá {MAX_ROWS} dòng, không đọc hết được.",
                     f"The table runs past row {MAX_ROWS} and cannot be read whole.", code_ref)
        self.layout_checks(data_rows, first, last, columns)
        seen: dict[str, str] = {}
        any_value = False
        for r in data_rows:
            any_value |= self.row(r, columns, first, last, seen)
        self.after_gap(data_rows[-1] + 1, columns)
        for ind in self.settings.indicators:
            if ind.key not in seen:
                self.add("warning", "indicator_missing",
                         f"Bảng không có dòng cho chỉ tiêu '{ind.label}' ({ind.key}); chỉ tiêu này được coi "
                         f"là chưa báo cáo.",
                         f"The table has no row for '{ind.label_en}' ({ind.key}); it counts as not reported.",
                         indicator=ind.key)
        if not any_value and not self.report.errors:
            self.add("error", "no_figures",
                     f"Chưa điền số liệu nào ở cột '{HEADER_YTD}'.",
                     f"No figure is filled in the '{HEADER_YTD}' column.", ytd_ref)

    def layout_checks(self, data_rows: list[int], first: int, last: int, columns: dict[str, int]) -> None:
        top, bottom = data_rows[0], data_rows[-1]
        for r1, c1, r2, c2 in sorted(self.sheet.merged):
            if r2 >= top and r1 <= bottom and c2 >= first and c1 <= last:
                span = f"{column_letter(c1)}{r1}:{column_letter(c2)}{r2}"
                self.add("error", "merged_cells",
                         f"Bảng số liệu có ô gộp ({span}); hãy bỏ gộp ô (Unmerge) để mỗi chỉ tiêu một dòng.",
                         f"The table has merged cells ({span}); unmerge them so each indicator has its own row.",
                         f"{column_letter(c1)}{r1}")
        for r in data_rows:
            if r in self.sheet.hidden_rows:
                self.add("error", "hidden_row",
                         f"Dòng {r} của bảng đang bị ẩn; hãy hiện dòng (Unhide) và kiểm tra số liệu trong đó.",
                         f"Row {r} of the table is hidden; unhide it and check what it holds.",
                         f"{column_letter(columns['code'])}{r}")

    def row(self, r: int, columns: dict[str, int], first: int, last: int, seen: dict[str, str]) -> bool:
        """Check one table row; True if it carries a figure (valid or not)."""
        code_col = columns["code"]
        code_cell = self.cell(r, code_col)
        label_cell = self.cell(r, columns["label"]) if "label" in columns else None
        code_ref = f"{column_letter(code_col)}{r}"
        key = self.names.indicator(code_cell.value) if code_cell is not None else None
        if key is None and code_cell is None and label_cell is not None:
            key = self.names.indicator(label_cell.value)
        if key is None:
            if code_cell is not None and (read := read_number(code_cell)).problem in ("excel_error",
                                                                                      "formula_no_value"):
                self.problem(read, code_ref, "mã chỉ tiêu", "indicator code")
                return False
            where = code_cell or label_cell
            keys = ", ".join(i.key for i in self.settings.indicators)
            if where is None:
                self.add("error", "indicator_unknown",
                         f"Dòng {r} có số liệu nhưng không ghi mã chỉ tiêu ({keys}).",
                         f"Row {r} holds figures but names no indicator ({keys}).", code_ref)
            else:
                self.add("error", "indicator_unknown",
                         f"Chỉ tiêu '{shown(where)}' không có trong danh sách của cụm ({keys}).",
                         f"'{shown(where)}' is not an indicator of this cluster ({keys}).", where.ref)
            return False
        ind = self.settings.indicator(key)
        if key in seen:
            self.add("error", "indicator_duplicate",
                     f"Chỉ tiêu '{ind.label}' xuất hiện hai lần (đã có ở ô {seen[key]}).",
                     f"'{ind.label_en}' appears twice (already at {seen[key]}).", code_ref, key)
            return False
        seen[key] = code_ref

        ytd_col = columns["ytd"]
        ytd_ref = f"{column_letter(ytd_col)}{r}"
        ytd = read_number(self.cell(r, ytd_col))
        value = self.figure(ytd, ytd_ref, ind, f"{HEADER_YTD}", "year to date", allow_negative=False)

        period_value, period_ref = None, None
        if "period" in columns:
            period_ref = f"{column_letter(columns['period'])}{r}"
            period = read_number(self.cell(r, columns["period"]))
            period_value = self.figure(period, period_ref, ind, HEADER_PERIOD, "this period", allow_negative=True)
        note, note_ref = None, None
        if "note" in columns:
            note_ref = f"{column_letter(columns['note'])}{r}"
            note = text_of(self.cell(r, columns["note"]))

        if ytd.value is None and ytd.problem is None:
            misplaced = self.misplaced_figure(r, columns, first, last)
            if misplaced is not None:
                self.add("error", "figure_wrong_column",
                         f"Ô '{HEADER_YTD}' của chỉ tiêu '{ind.label}' để trống nhưng ô {misplaced.ref} có số "
                         f"'{shown(misplaced)}'; hãy ghi số lũy kế vào ô {ytd_ref}.",
                         f"The year-to-date cell of '{ind.label_en}' is blank but {misplaced.ref} holds the "
                         f"number '{shown(misplaced)}'; type the year-to-date figure in {ytd_ref}.",
                         misplaced.ref, key)
            else:
                self.add("warning", "indicator_blank",
                         f"Chỉ tiêu '{ind.label}' để trống (khác với số 0); chỉ tiêu này được coi là chưa "
                         f"báo cáo tuần này.",
                         f"'{ind.label_en}' is left blank (not the same as 0); it counts as not reported.",
                         ytd_ref, key)
        self.report.rows.append(ReportRow(key, value, period_value, note, r, ytd_ref, code_ref,
                                          period_ref, note_ref))
        return ytd.value is not None or ytd.problem is not None

    def figure(self, read: Read, ref: str, ind, what_vi: str, what_en: str, *, allow_negative: bool) -> float | None:
        if self.problem(read, ref, f"{what_vi} của chỉ tiêu '{ind.label}'", f"{what_en} of '{ind.label_en}'",
                        ind.key):
            return None
        if read.value is None:
            return None
        assert isinstance(read.value, float)
        value = read.value
        if value < 0 and not allow_negative:
            self.add("error", "value_negative",
                     f"Số lũy kế của chỉ tiêu '{ind.label}' không được âm ('{read.shown}').",
                     f"The year-to-date figure of '{ind.label_en}' cannot be negative ('{read.shown}').",
                     ref, ind.key)
            return None
        if ind.kind == "count" and abs(value - round(value)) > 1e-9:
            self.add("error", "value_fractional",
                     f"Chỉ tiêu '{ind.label}' đếm bằng số nguyên ({ind.unit}); '{read.shown}' có phần lẻ.",
                     f"'{ind.label_en}' is counted in whole numbers ({ind.unit}); '{read.shown}' has a "
                     f"fraction.", ref, ind.key)
            return None
        return float(round(value)) if ind.kind == "count" else value

    def misplaced_figure(self, r: int, columns: dict[str, int], first: int, last: int) -> Cell | None:
        """A number in this row outside the year-to-date column, where no number belongs."""
        header = self.rows[self.header_row]
        for c in range(first, last + 1):
            cell = self.cell(r, c)
            if cell is None:
                continue
            # a number in the period column, typed as a note, or in a column with no header at all
            if (c == columns.get("period") or c == columns.get("note") or c not in header) and \
                    read_number(cell).value is not None:
                return cell
        return None

    def after_gap(self, empty_row: int, columns: dict[str, int]) -> None:
        """An indicator row after the first empty row would be silently ignored: say so."""
        look = [columns["code"]] + ([columns["label"]] if "label" in columns else [])
        for r in sorted(k for k in self.rows if k > empty_row):
            for c in look:
                cell = self.cell(r, c)
                if cell is not None and (key := self.names.indicator(cell.value)) is not None:
                    label = self.settings.indicator(key).label
                    self.add("error", "indicator_after_gap",
                             f"Dòng {empty_row} trống nên bảng kết thúc ở đó; chỉ tiêu '{label}' ở dòng {r} sẽ bị "
                             f"bỏ qua. Hãy xoá dòng trống.",
                             f"Row {empty_row} is empty, so the table ends there and '{key}' in row {r} would be "
                             f"ignored. Delete the empty row.", cell.ref, key)
                    return
