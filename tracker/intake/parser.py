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

from tracker import findings as findings_module
from tracker.config import Indicator, Settings
from tracker.findings import Finding, make, ordered
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
from tracker.messages import Bilingual, part
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
# What the reader says about a cell that cannot be read as a number (values.Read.problem) → the finding.
_CELL_PROBLEMS = {"excel_error": "excel_error", "formula_no_value": "formula_no_value",
                  "not_number": "value_not_number"}


def _name(ind: Indicator) -> Bilingual:
    """How messages name an indicator."""
    return Bilingual(ind.label, ind.label_en)


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
    district_cell: str | None = None  # the cell holding the district (a source's rule points at it)

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


def parse_report(workbook: WorkbookGrid, settings: Settings, *, today: date | None = None,
                 names: Names | None = None) -> ParsedReport:
    """Check a district report workbook. ``today`` (the day the file was received, local time) enables
    the "date in the future" check. ``names`` may be passed to reuse the index across many files."""
    names = names or Names.of(settings)
    name = pick_sheet(workbook.sheet_names, SHEET_REPORT)
    if name is None or name not in workbook.sheets:
        listed = ", ".join(f"'{n}'" for n in workbook.sheet_names) or "—"
        return ParsedReport(findings=[make("no_report_sheet", sheet_name=SHEET_REPORT, listed=listed)])
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
    def add(self, code: str, variant: str = "", /, *, ref: str | None = None, indicator: str | None = None,
            **params: object) -> None:
        self.report.findings.append(make(code, variant, sheet=self.sheet.name, ref=ref, indicator=indicator,
                                         **params))

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

    def problem(self, read: Read, ref: str, what: Bilingual, indicator: str | None = None) -> bool:
        """Report a formula without a result, an Excel error or a non-number; True if there was one."""
        code = _CELL_PROBLEMS.get(read.problem or "")
        if code is None:
            return False
        self.add(code, ref=ref, indicator=indicator, shown=read.shown, what=what)
        return True

    # -- the sheet -------------------------------------------------------------------------------------
    def parse(self) -> ParsedReport:
        if self.sheet.truncated:
            self.add("sheet_truncated", rows=MAX_ROWS)
        self.district()
        self.as_of()
        self.table()
        self.report.findings = ordered(self.report.findings)
        return self.report

    def district(self) -> None:
        label = self.find_label(LABEL_DISTRICT)
        if label is None:
            self.add("district_missing", "no_label", label=LABEL_DISTRICT, rows=LABEL_ROWS)
            return
        value = self.right_of(label)
        if value is None:
            self.add("district_missing", "no_value", ref=label.ref, label=LABEL_DISTRICT)
            return
        self.report.district_cell = value.ref
        read = read_number(value)
        if read.problem in ("excel_error", "formula_no_value"):
            self.problem(read, value.ref, part("district"))
            return
        code = self.names.district(value.value)
        if code is None:
            codes = ", ".join(d.code for d in self.settings.districts)
            self.add("district_unknown", ref=value.ref, shown=shown(value), cluster=self.settings.cluster.name,
                     codes=codes)
            return
        self.report.district = code

    def as_of(self) -> None:
        label = self.find_label(LABEL_AS_OF)
        if label is None:
            self.add("date_missing", "no_label", label=LABEL_AS_OF, rows=LABEL_ROWS)
            return
        value = self.right_of(label)
        if value is None:
            self.add("date_missing", "no_value", ref=label.ref, label=LABEL_AS_OF)
            return
        read = read_date(value)
        if read.problem in ("excel_error", "formula_no_value"):
            self.problem(read, value.ref, part("as_of"))
            return
        if read.problem:
            self.add("date_invalid", ref=value.ref, shown=read.shown, year=self.settings.cluster.year)
            return
        assert isinstance(read.value, date)
        as_of, year = read.value, self.settings.cluster.year
        if self.today is not None and as_of > self.today + timedelta(days=1):
            self.add("date_future", ref=value.ref, as_of=format_date(as_of), received=format_date(self.today))
            return
        if as_of.year != year:
            self.add("date_outside_year", ref=value.ref, as_of=format_date(as_of), year=year)
            return
        self.report.as_of = as_of

    # -- the table -------------------------------------------------------------------------------------
    def table(self) -> None:
        header = next((r for r in sorted(self.rows)
                       if any(same(c.value, HEADER_CODE) for c in self.rows[r].values())), None)
        if header is None:
            self.add("table_missing", header=HEADER_CODE)
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
            self.add("ytd_column_missing", ref=code_ref, header=HEADER_YTD)
            return
        first, last = min(self.rows[header]), max(self.rows[header])
        data_rows: list[int] = []
        r = header + 1
        while r <= MAX_ROWS and any(first <= c <= last for c in self.rows.get(r, {})):
            data_rows.append(r)
            r += 1
        ytd_ref = f"{column_letter(columns['ytd'])}{header}"
        if not data_rows:
            self.add("table_empty", ref=code_ref, row=header)
            return
        if self.sheet.truncated and data_rows[-1] >= MAX_ROWS:
            self.add("table_truncated", ref=code_ref, rows=MAX_ROWS)
        self.layout_checks(data_rows, first, last, columns)
        seen: dict[str, str] = {}
        any_value = False
        for r in data_rows:
            any_value |= self.row(r, columns, first, last, seen)
        self.after_gap(data_rows[-1] + 1, columns)
        for ind in self.settings.indicators:
            if ind.key not in seen:
                self.add("indicator_missing", indicator=ind.key, name=_name(ind), key=ind.key)
        if not any_value and not self.report.errors:
            self.add("no_figures", ref=ytd_ref, header=HEADER_YTD)

    def layout_checks(self, data_rows: list[int], first: int, last: int, columns: dict[str, int]) -> None:
        top, bottom = data_rows[0], data_rows[-1]
        for r1, c1, r2, c2 in sorted(self.sheet.merged):
            if r2 >= top and r1 <= bottom and c2 >= first and c1 <= last:
                self.add("merged_cells", ref=f"{column_letter(c1)}{r1}",
                         span=f"{column_letter(c1)}{r1}:{column_letter(c2)}{r2}")
        for r in data_rows:
            if r in self.sheet.hidden_rows:
                self.add("hidden_row", ref=f"{column_letter(columns['code'])}{r}", row=r)

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
                self.problem(read, code_ref, part("indicator_code"))
                return False
            where = code_cell or label_cell
            keys = ", ".join(i.key for i in self.settings.indicators)
            if where is None:
                self.add("indicator_unknown", "no_code", ref=code_ref, row=r, keys=keys)
            else:
                self.add("indicator_unknown", ref=where.ref, shown=shown(where), keys=keys)
            return False
        ind = self.settings.indicator(key)
        if key in seen:
            self.add("indicator_duplicate", ref=code_ref, indicator=key, name=_name(ind), first=seen[key])
            return False
        seen[key] = code_ref

        ytd_col = columns["ytd"]
        ytd_ref = f"{column_letter(ytd_col)}{r}"
        ytd = read_number(self.cell(r, ytd_col))
        value = self.figure(ytd, ytd_ref, ind, part("ytd", header=HEADER_YTD, name=_name(ind)), allow_negative=False)

        period_value, period_ref = None, None
        if "period" in columns:
            period_ref = f"{column_letter(columns['period'])}{r}"
            period = read_number(self.cell(r, columns["period"]))
            period_value = self.figure(period, period_ref, ind, part("period", header=HEADER_PERIOD, name=_name(ind)),
                                       allow_negative=True)
        note, note_ref = None, None
        if "note" in columns:
            note_ref = f"{column_letter(columns['note'])}{r}"
            note = text_of(self.cell(r, columns["note"]))

        if ytd.value is None and ytd.problem is None:
            misplaced = self.misplaced_figure(r, columns, first, last)
            if misplaced is not None:
                self.add("figure_wrong_column", ref=misplaced.ref, indicator=key, header=HEADER_YTD,
                         name=_name(ind), cell=misplaced.ref, shown=shown(misplaced), ytd_cell=ytd_ref)
            else:
                self.add("indicator_blank", ref=ytd_ref, indicator=key, name=_name(ind))
        self.report.rows.append(ReportRow(key, value, period_value, note, r, ytd_ref, code_ref,
                                          period_ref, note_ref))
        return ytd.value is not None or ytd.problem is not None

    def figure(self, read: Read, ref: str, ind, what: Bilingual, *, allow_negative: bool) -> float | None:
        if self.problem(read, ref, what, ind.key):
            return None
        if read.value is None:
            return None
        assert isinstance(read.value, float)
        value = read.value
        if value < 0 and not allow_negative:
            self.add("value_negative", ref=ref, indicator=ind.key, name=_name(ind), shown=read.shown)
            return None
        if ind.kind == "count" and abs(value - round(value)) > 1e-9:
            self.add("value_fractional", ref=ref, indicator=ind.key, name=_name(ind), unit=ind.unit,
                     shown=read.shown)
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
                    name = Bilingual(self.settings.indicator(key).label, key)
                    self.add("indicator_after_gap", ref=cell.ref, indicator=key, empty_row=empty_row, name=name,
                             row=r)
                    return
