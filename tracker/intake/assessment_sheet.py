"""Checking a self-assessment workbook (docs/assessment.md §7): from a :class:`WorkbookGrid` to score lines and
findings. Pure: the computed scores and the cluster's years come in as arguments.

How the sheet is read (through :mod:`tracker.intake.table`, the weekly sheet's matching rules):
- the sheet named ``Tự chấm điểm`` (folded comparison), or the only sheet of the workbook;
- labels ``Đơn vị``, ``Năm`` and ``Số liệu tính đến ngày`` in the first 20 rows (the date may be absent:
  then 31/12 of the year);
- the header row is the first row holding ``Mã tiêu chí``; the column ``Điểm tự chấm`` is required,
  ``Tiêu chí`` and ``Giải trình, minh chứng`` optional; columns are found by header text;
- the rows below it until the first empty row; a row with no score and no code (or a text that is no
  code: a group's heading) is passed over.

A workbook is recognised by content (:func:`is_assessment`): a sheet named ``Tự chấm điểm``, or a workbook
of one sheet whose table is headed ``Mã tiêu chí`` (and not ``Mã chỉ tiêu``).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from datetime import date

from tracker import findings as findings_module
from tracker.assessment.rules import Computed, ScoringTable
from tracker.assessment.store import ScoreLine
from tracker.config import Settings
from tracker.findings import Finding, Judged, make, ordered
from tracker.intake.grid import MAX_ROWS, Cell, WorkbookGrid, pick_sheet
from tracker.intake.matching import (
    HEADER_CODE,
    HEADER_CRITERION,
    HEADER_CRITERION_CODE,
    HEADER_EXPLANATION,
    HEADER_SELF,
    LABEL_AS_OF,
    LABEL_YEAR,
    SHEET_ASSESSMENT,
    SHEET_REPORT,
    Names,
    fold,
    same,
)
from tracker.intake.parser import read_district
from tracker.intake.table import CELL_ERRORS, LABEL_ROWS, Column, Row, Sheet, Table, TextColumn
from tracker.intake.values import read_date, read_number, shown
from tracker.messages import PARTS, part
from tracker.text import format_date, format_number

# Computed scores as of a date: per unit code, per computed criterion code (tracker.assessment.computed).
ComputedAt = Callable[[date], Mapping[str, Mapping[str, Computed]]]
TOLERANCE = 0.01  # a computed criterion typed within this of the computed score is the same score


@dataclass
class ParsedAssessment(Judged):
    """The result of checking a self-assessment workbook. ``as_of`` is the assessment date its computed scores
    are as of (not a weekly as-of date: the submission keeps none)."""

    sheet: str | None = None
    district: str | None = None
    year: int | None = None
    as_of: date | None = None
    lines: list[ScoreLine] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    district_cell: str | None = None  # the cell holding the unit (a source's rule points at it)
    kind: str = "assessment"


    @property
    def ok(self) -> bool:
        return not self.errors


def is_assessment(workbook: WorkbookGrid) -> bool:
    """True for a self-assessment workbook: no ``Báo cáo`` sheet, and a ``Tự chấm điểm`` sheet, or one sheet
    whose table is headed ``Mã tiêu chí`` and not ``Mã chỉ tiêu``."""
    names = workbook.sheet_names
    if any(fold(n) == fold(SHEET_REPORT) for n in names):
        return False
    if any(fold(n) == fold(SHEET_ASSESSMENT) for n in names):
        return True
    if len(names) != 1 or names[0] not in workbook.sheets:
        return False
    values = [c.value for c in workbook.sheets[names[0]].cells.values()]
    return any(same(v, HEADER_CRITERION_CODE) for v in values) and not any(same(v, HEADER_CODE) for v in values)


def computed_source(c: Computed, as_of: date) -> str:
    """What a computed score comes from, in Vietnamese (the template's explanation cell)."""
    return _source(c, as_of).pick("vi")


def _source(c: Computed, as_of: date):
    if c.due is not None:
        return PARTS["computed_reporting"].fill(on_time=c.on_time, due=c.due, as_of=format_date(as_of))
    return PARTS["computed_indicator"].fill(actual=format_number(c.actual), target=format_number(c.target),
                                            as_of=format_date(as_of))


def parse_assessment(workbook: WorkbookGrid, settings: Settings, table: ScoringTable, *, years: Collection[int],
                     computed: ComputedAt, names: Names | None = None) -> ParsedAssessment:
    """Check a self-assessment workbook. ``years``: the years the cluster has; ``computed(A)``: the computed
    scores as of the assessment date A (called once, when the unit and the date are known)."""
    names = names or Names.of(settings)
    name = pick_sheet(workbook.sheet_names, SHEET_ASSESSMENT)
    if name is None or name not in workbook.sheets:
        listed = ", ".join(f"'{n}'" for n in workbook.sheet_names) or "—"
        return ParsedAssessment(findings=[make("no_report_sheet", sheet_name=SHEET_ASSESSMENT, listed=listed)])
    return _AssessmentParser(Sheet(workbook.sheets[name]), settings, table, names, years, computed).parse()


class _CodeColumn(Column):
    """``Mã tiêu chí``: a code of the scoring table, once per table. A row with no score and no code, or a
    text that is no code (a group's name typed in this column), is a heading and is passed over."""

    def __init__(self, table: ScoringTable):
        super().__init__(HEADER_CRITERION_CODE, "code")
        self.table = table
        self.codes = {fold(c): c for c in table.codes}
        self.seen: dict[str, str] = {}  # code -> its cell

    def clean(self, cell: Cell | None, row: Row) -> str | None:
        if cell is None:
            row.skip()
            if row.cell("score") is not None:
                row.report("criterion_unknown", "no_code", column="score", row=row.number,
                           codes=", ".join(self.table.codes))
            return None
        read = read_number(cell)
        if read.problem in CELL_ERRORS:
            row.skip()
            row.problem(read, self.key, what=part("indicator_code"))
            return None
        text = cell.value
        if isinstance(text, float) and text.is_integer():
            text = int(text)
        code = self.codes.get(fold(str(text)))
        if code is None:
            row.skip()
            if row.cell("score") is not None:  # with no score it is a heading ("I. Thực hiện …"): passed over
                row.report("criterion_unknown", ref=cell.ref, shown=shown(cell), codes=", ".join(self.table.codes))
            return None
        if code in self.seen:
            row.skip()
            row.report("criterion_duplicate", ref=cell.ref, code=code, first=self.seen[code])
            return None
        self.seen[code] = cell.ref
        return code


class ScoreColumn(Column):
    """A score: a number, 0..the code's maximum (the cross-check's ``Điểm Cụm chấm`` reads the same way).
    Returns (value or None, ok)."""

    def __init__(self, header: str, table: ScoringTable):
        super().__init__(header, "score")
        self.table = table

    def clean(self, cell: Cell | None, row: Row) -> tuple[float | None, bool]:
        code = row.values["code"]
        assert isinstance(code, str)
        read = read_number(cell)
        if read.problem is not None and row.problem(read, self.key, what=part("score", header=self.header, code=code)):
            return None, False
        if read.value is None:
            return None, True
        value = float(read.value)
        top = self.table.maximum(code)
        if value < 0:
            row.report("score_negative", column=self.key, code=code, shown=format_number(value))
            return None, False
        if value > top + 1e-9:
            row.report("score_above_max", column=self.key, code=code, shown=format_number(value),
                       max=format_number(top))
            return None, False
        return value, True


class _AssessmentParser:
    def __init__(self, sheet: Sheet, settings: Settings, table: ScoringTable, names: Names,
                 years: Collection[int], computed: ComputedAt):
        self.sheet, self.settings, self.table, self.names = sheet, settings, table, names
        self.years, self.computed = years, computed
        self.out = ParsedAssessment(sheet=sheet.name)

    def parse(self) -> ParsedAssessment:
        if self.sheet.grid.truncated:
            self.sheet.report("sheet_truncated", rows=MAX_ROWS)
        self.out.district, self.out.district_cell = read_district(self.sheet, self.settings, self.names)
        self.out.year = read_year(self.sheet, self.years)
        self.out.as_of = self.as_of()
        checked = self.rows()
        if checked is not None and self.out.district and self.out.as_of:
            self.check_computed(checked)
        self.out.findings = ordered(self.sheet.findings)
        return self.out

    def as_of(self) -> date | None:
        """``Số liệu tính đến ngày``, a date of the year; absent (or blank) → 31/12 of the year."""
        year = self.out.year
        label = self.sheet.label(LABEL_AS_OF)
        if label is None or label.value is None:
            return date(year, 12, 31) if year else None
        value = label.value
        read = read_date(value)
        if self.sheet.problem(read, value.ref, what=part("as_of")):
            return None
        if read.problem:
            self.sheet.report("assessment_date_invalid", ref=value.ref, shown=read.shown, year=year or "")
            return None
        assert isinstance(read.value, date)
        if year and read.value.year != year:
            self.sheet.report("assessment_date_invalid", "year", ref=value.ref, as_of=format_date(read.value),
                              year=year, label=LABEL_YEAR)
            return None
        return read.value if year else None

    def rows(self) -> list[tuple[ScoreLine, str]] | None:
        """The table's lines (with the cell of each score), or None when there is no table to read."""
        header = self.sheet.header(HEADER_CRITERION_CODE)
        if header is None:
            self.sheet.report("table_missing", "targets", header=HEADER_CRITERION_CODE)
            return None
        codes = _CodeColumn(self.table)
        table = Table(self.sheet, header, [codes, Column(HEADER_CRITERION, "label"),
                                           ScoreColumn(HEADER_SELF, self.table),
                                           TextColumn(HEADER_EXPLANATION, "explanation")])
        if "score" not in table.placed:
            self.sheet.report("score_column_missing", ref=table.ref("code"), header=HEADER_SELF)
            return None
        table.check_layout(anchor="code")
        lines: list[tuple[ScoreLine, str]] = []
        for row in table.rows():
            if row.skipped:
                continue
            value, ok = row.values["score"]  # type: ignore[misc]
            code = str(row.values["code"])
            line = ScoreLine(code, value, row.ref("score"), str(row.values.get("explanation") or ""))
            if ok:
                lines.append((line, row.ref("score")))
        if not codes.seen and not findings_module.errors(self.sheet.findings):
            self.sheet.report("table_empty", "assessment", ref=table.ref("code"))
        self.out.lines = [line for line, _ in lines]
        manual = manual_codes(self.table)
        given = {line.code: line for line, _ in lines}
        for code in manual:
            if code in given and given[code].value is None:
                self.sheet.report("score_blank", ref=given[code].cell, code=code)
            elif code not in codes.seen:
                self.sheet.report("score_blank", "missing", code=code)
        return lines

    def check_computed(self, lines: list[tuple[ScoreLine, str]]) -> None:
        """A computed criterion typed must be its computed score (within 0.01); blank is fine."""
        assert self.out.as_of is not None and self.out.district is not None
        computed_codes = {c.code for c in self.table.criteria if c.computed}
        typed = [(line, ref) for line, ref in lines if line.code in computed_codes and line.value is not None]
        if not typed:
            return
        mine = self.computed(self.out.as_of).get(self.out.district, {})
        for line, ref in typed:
            c = mine.get(line.code, Computed(None))
            assert line.value is not None
            if c.value is None:
                self.sheet.report("score_computed_mismatch", "not_applicable", ref=ref, code=line.code,
                                  shown=format_number(line.value))
            elif abs(line.value - c.value) > TOLERANCE + 1e-9:
                self.sheet.report("score_computed_mismatch", ref=ref, code=line.code, shown=format_number(line.value),
                                  computed=format_number(c.value), source=_source(c, self.out.as_of))


def read_year(sheet: Sheet, years: Collection[int]) -> int | None:
    """The year to the right of ``Năm``: one of ``years`` (the cluster's)."""
    label = sheet.label(LABEL_YEAR)
    if label is None:
        sheet.report("year_missing", "no_label", label=LABEL_YEAR, rows=LABEL_ROWS)
        return None
    if label.value is None:
        sheet.report("year_missing", "no_value", ref=label.cell.ref, label=LABEL_YEAR)
        return None
    read = read_number(label.value)
    if sheet.problem(read, label.value.ref, what=part("year")):
        return None
    value = read.value
    if value is None or not float(value).is_integer() or int(value) not in years:
        sheet.report("assessment_year_invalid", ref=label.value.ref, shown=shown(label.value),
                     years=", ".join(str(y) for y in sorted(years)))
        return None
    return int(value)


def manual_codes(table: ScoringTable) -> list[str]:
    """The codes people score: manual criteria, bonus and penalty lines, in the table's order."""
    return [c.code for c in table.criteria if not c.computed] + [e.code for e in (*table.bonus, *table.penalty)]
