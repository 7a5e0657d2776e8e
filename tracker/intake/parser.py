"""Checking a district report sheet (docs/sheet-format.md): from a :class:`WorkbookGrid` to figures and findings.

Pure: plain data in (the grid the safe reader produced, the settings, the day the file was received),
plain data out. Nothing here touches files or the database; the warnings that need the district's
history are in :mod:`tracker.intake.history`.

How a sheet is read (through :mod:`tracker.intake.table`):
- the sheet named ``Báo cáo`` (folded comparison), or the only sheet of the workbook;
- labels ``Đơn vị`` and ``Số liệu tính đến ngày`` anywhere in the first 20 rows, each matched whole;
  the value is the first non-empty cell to their right;
- the header row is the first row holding ``Mã chỉ tiêu``; columns are found by their header text;
- the rows below it, until the first empty row, name an indicator by key or label.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import date, timedelta

from tracker import findings as findings_module
from tracker.config import Indicator, Settings
from tracker.findings import Finding, Judged, make, ordered
from tracker.intake.grid import MAX_ROWS, Cell, WorkbookGrid, pick_sheet
from tracker.intake.matching import (
    HEADER_CODE,
    HEADER_LABEL,
    HEADER_NOTE,
    HEADER_PERIOD,
    HEADER_YTD,
    LABEL_AS_OF,
    LABEL_DISTRICT,
    SHEET_REPORT,
    Names,
)
from tracker.intake.table import CELL_ERRORS, LABEL_ROWS, Column, Row, Sheet, Table, TextColumn
from tracker.intake.values import read_date, read_number, shown
from tracker.messages import Bilingual, part
from tracker.text import format_date


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
class ParsedReport(Judged):
    """The result of checking one workbook. ``sheet`` is the sheet's name as written in the file."""

    sheet: str | None = None
    district: str | None = None
    as_of: date | None = None
    rows: list[ReportRow] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    district_cell: str | None = None  # the cell holding the district (a source's rule points at it)
    as_of_cell: str | None = None  # the cell holding the as-of date


    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def figures(self) -> list[ReportRow]:
        """The rows that carry a year-to-date figure."""
        return [r for r in self.rows if r.value is not None]


def open_years(settings: Settings, target_years: Collection[int] = ()) -> frozenset[int]:
    """The years a sheet may be dated in (docs/sheet-format.md §7): those with registered targets, plus
    ``[cluster] year`` and the year after it (the first January sheets come before the year is switched)."""
    year = settings.cluster.year
    return frozenset({year, year + 1, *target_years})


def parse_report(workbook: WorkbookGrid, settings: Settings, *, today: date | None = None,
                 names: Names | None = None, target_years: Collection[int] = ()) -> ParsedReport:
    """Check a district report workbook. ``today`` (the day the file was received, local time) enables
    the "date in the future" check. ``names`` may be passed to reuse the index across many files.
    ``target_years``: the years that have registered targets (:func:`open_years`)."""
    names = names or Names.of(settings)
    name = pick_sheet(workbook.sheet_names, SHEET_REPORT)
    if name is None or name not in workbook.sheets:
        listed = ", ".join(f"'{n}'" for n in workbook.sheet_names) or "—"
        return ParsedReport(findings=[make("no_report_sheet", sheet_name=SHEET_REPORT, listed=listed)])
    return _SheetParser(Sheet(workbook.sheets[name]), settings, names, today,
                        open_years(settings, target_years)).parse()


def _name(ind: Indicator) -> Bilingual:
    """How messages name an indicator."""
    return Bilingual(ind.label, ind.label_en)


def read_district(sheet: Sheet, settings: Settings, names: Names) -> tuple[str | None, str | None]:
    """The unit to the right of the ``Đơn vị`` label: (its code or None, the value's cell or None); what is
    wrong is reported on ``sheet``. The self-assessment workbook reads its unit with it too."""
    label = sheet.label(LABEL_DISTRICT)
    if label is None:
        sheet.report("district_missing", "no_label", label=LABEL_DISTRICT, rows=LABEL_ROWS)
        return None, None
    value = label.value
    if value is None:
        sheet.report("district_missing", "no_value", ref=label.cell.ref, label=LABEL_DISTRICT)
        return None, None
    read = read_number(value)
    if read.problem in CELL_ERRORS:
        sheet.problem(read, value.ref, what=part("district"))
        return None, value.ref
    code = names.district(value.value)
    if code is None:
        sheet.report("district_unknown", ref=value.ref, shown=shown(value), cluster=settings.cluster.name,
                     codes=", ".join(d.code for d in settings.districts))
    return code, value.ref


# -- the columns of the table --------------------------------------------------------------------------------


class _IndicatorColumn(Column):
    """``Mã chỉ tiêu``: the indicator of the row (its config), by key or label, or, when the cell is empty, by
    the ``Chỉ tiêu`` cell. An unknown or repeated indicator makes the rest of the row meaningless."""

    def __init__(self, settings: Settings, names: Names):
        super().__init__(HEADER_CODE, "code")
        self.settings, self.names = settings, names
        self.seen: dict[str, str] = {}  # indicator key -> its code cell

    def clean(self, cell: Cell | None, row: Row) -> Indicator | None:
        label_cell = row.cell("label") if cell is None else None
        key = self.names.indicator(cell.value if cell is not None else label_cell.value if label_cell else None)
        if key is None:
            row.skip()
            if cell is not None and (read := read_number(cell)).problem in CELL_ERRORS:
                row.problem(read, self.key, what=part("indicator_code"))
                return None
            keys = ", ".join(i.key for i in self.settings.indicators)
            where = cell or label_cell
            if where is None:
                row.report("indicator_unknown", "no_code", column=self.key, row=row.number, keys=keys)
            else:
                row.report("indicator_unknown", ref=where.ref, shown=shown(where), keys=keys)
            return None
        ind = self.settings.indicator(key)
        if key in self.seen:
            row.skip()
            row.report("indicator_duplicate", column=self.key, indicator=key, name=_name(ind), first=self.seen[key])
            return None
        self.seen[key] = row.ref(self.key)
        return ind


class _FigureColumn(Column):
    """A figure of the row's indicator: a number; whole for a count (then rounded); not negative unless
    ``allow_negative`` (``Thực hiện trong kỳ`` may correct). ``key`` names the column's part of a sentence
    in messages too (:data:`tracker.messages.PARTS`)."""

    def __init__(self, header: str, key: str, *, allow_negative: bool):
        super().__init__(header, key)
        self.allow_negative = allow_negative

    def clean(self, cell: Cell | None, row: Row) -> float | None:
        ind = row.values["code"]
        assert isinstance(ind, Indicator)
        read = read_number(cell)
        if read.problem is not None and row.problem(read, self.key, indicator=ind.key,
                                                    what=part(self.key, header=self.header, name=_name(ind))):
            return None
        if read.value is None:
            return None
        assert isinstance(read.value, float)
        value = read.value
        if value < 0 and not self.allow_negative:
            row.report("value_negative", column=self.key, indicator=ind.key, name=_name(ind), shown=read.shown)
            return None
        if ind.kind == "count" and abs(value - round(value)) > 1e-9:
            row.report("value_fractional", column=self.key, indicator=ind.key, name=_name(ind), unit=ind.unit,
                       shown=read.shown)
            return None
        return float(round(value)) if ind.kind == "count" else value


# The other columns read, in the order their cells are checked (after the indicator's); the rest (``Đơn vị
# tính``, ``Chỉ tiêu đăng ký``, ``Lũy kế kỳ trước``) is information for the person filling the sheet.
_COLUMNS = (Column(HEADER_LABEL, "label"), _FigureColumn(HEADER_YTD, "ytd", allow_negative=False),
            _FigureColumn(HEADER_PERIOD, "period", allow_negative=True), TextColumn(HEADER_NOTE, "note"))


# -- the sheet -----------------------------------------------------------------------------------------------


class _SheetParser:
    def __init__(self, sheet: Sheet, settings: Settings, names: Names, today: date | None, years: frozenset[int]):
        self.sheet, self.settings, self.names, self.today, self.years = sheet, settings, names, today, years
        self.report = ParsedReport(sheet=sheet.name)

    def parse(self) -> ParsedReport:
        if self.sheet.grid.truncated:
            self.sheet.report("sheet_truncated", rows=MAX_ROWS)
        self.district()
        self.as_of()
        self.table()
        self.report.findings = ordered(self.sheet.findings)
        return self.report

    def district(self) -> None:
        self.report.district, self.report.district_cell = read_district(self.sheet, self.settings, self.names)

    def as_of(self) -> None:
        label = self.sheet.label(LABEL_AS_OF)
        if label is None:
            self.sheet.report("date_missing", "no_label", label=LABEL_AS_OF, rows=LABEL_ROWS)
            return
        value = label.value
        if value is None:
            self.sheet.report("date_missing", "no_value", ref=label.cell.ref, label=LABEL_AS_OF)
            return
        read = read_date(value)
        year = self.settings.cluster.year
        if self.sheet.problem(read, value.ref, what=part("as_of")):
            return
        if read.problem:
            self.sheet.report("date_invalid", ref=value.ref, shown=read.shown, year=year)
            return
        assert isinstance(read.value, date)
        as_of = read.value
        if self.today is not None and as_of > self.today + timedelta(days=1):
            self.sheet.report("date_future", ref=value.ref, as_of=format_date(as_of),
                              received=format_date(self.today))
            return
        if as_of.year not in self.years:
            self.sheet.report("date_outside_year", ref=value.ref, as_of=format_date(as_of), year=year,
                              as_of_year=as_of.year)
            return
        self.report.as_of = as_of
        self.report.as_of_cell = value.ref

    # -- the table -------------------------------------------------------------------------------------
    def table(self) -> None:
        header = self.sheet.header(HEADER_CODE)
        if header is None:
            self.sheet.report("table_missing", header=HEADER_CODE)
            return
        indicators = _IndicatorColumn(self.settings, self.names)
        table = Table(self.sheet, header, [indicators, *_COLUMNS])
        if "ytd" not in table.placed:
            self.sheet.report("ytd_column_missing", ref=table.ref("code"), header=HEADER_YTD)
            return
        if not table.body:
            self.sheet.report("table_empty", ref=table.ref("code"), row=header.row)
            return
        if self.sheet.grid.truncated and table.body[-1] >= MAX_ROWS:
            self.sheet.report("table_truncated", ref=table.ref("code"), rows=MAX_ROWS)
        table.check_layout(anchor="code")
        any_value = False
        for row in table.rows():
            any_value |= self.row(row, table)
        self.after_gap(table.body[-1] + 1, table)
        for ind in self.settings.indicators:
            if ind.key not in indicators.seen:
                self.sheet.report("indicator_missing", indicator=ind.key, name=_name(ind), key=ind.key)
        if not any_value and not findings_module.errors(self.sheet.findings):
            self.sheet.report("no_figures", ref=table.ref("ytd"), header=HEADER_YTD)

    def row(self, row: Row, table: Table) -> bool:
        """Take one cleaned table row; True if it carries a figure (valid or not)."""
        if row.skipped:
            return False
        ind = row.values["code"]
        assert isinstance(ind, Indicator)
        ytd_ref = row.ref("ytd")
        blank = row.cell("ytd") is None  # the table's cells are the non-blank ones
        if blank:
            misplaced = self.misplaced_figure(row, table)
            if misplaced is not None:
                row.report("figure_wrong_column", ref=misplaced.ref, indicator=ind.key, header=HEADER_YTD,
                           name=_name(ind), cell=misplaced.ref, shown=shown(misplaced), ytd_cell=ytd_ref)
            else:
                row.report("indicator_blank", ref=ytd_ref, indicator=ind.key, name=_name(ind))
        period_ref = row.ref("period") if "period" in table.placed else None
        note_ref = row.ref("note") if "note" in table.placed else None
        self.report.rows.append(ReportRow(ind.key, row.values["ytd"], row.values.get("period"), row.values.get("note"),
                                          row.number, ytd_ref, row.ref("code"), period_ref, note_ref))
        return not blank

    def misplaced_figure(self, row: Row, table: Table) -> Cell | None:
        """A number in this row outside the year-to-date column, where no number belongs."""
        header, placed = table.header, table.placed
        for c in range(header.first, header.last + 1):
            cell = self.sheet.cell(row.number, c)
            if cell is None:
                continue
            # a number in the period column, typed as a note, or in a column with no header at all
            if (c == placed.get("period") or c == placed.get("note") or c not in header.cells) and \
                    read_number(cell).value is not None:
                return cell
        return None

    def after_gap(self, empty_row: int, table: Table) -> None:
        """An indicator row after the first empty row would be silently ignored: say so."""
        look = [table.placed[k] for k in ("code", "label") if k in table.placed]
        for r in sorted(k for k in self.sheet.rows if k > empty_row):
            for c in look:
                cell = self.sheet.cell(r, c)
                if cell is not None and (key := self.names.indicator(cell.value)) is not None:
                    name = Bilingual(self.settings.indicator(key).label, key)
                    self.sheet.report("indicator_after_gap", ref=cell.ref, indicator=key, empty_row=empty_row,
                                      name=name, row=r)
                    return
