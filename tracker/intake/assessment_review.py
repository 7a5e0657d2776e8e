"""The cluster head's cross-check workbook (`tracker assess review-template` / `tracker assess import`,
docs/assessment.md §8).

Sheet ``Thẩm định``: the labels ``Năm`` and ``Số liệu tính đến ngày`` (the date the computed scores are as
of; absent → 31/12 of the year), a header row holding ``Mã đơn vị``, ``Mã tiêu chí``, ``Điểm tự chấm`` and
``Điểm Cụm chấm`` (also ``Tên đơn vị``, ``Tiêu chí``, ``Điểm chuẩn``, shown), one row per unit and code.
Computed rows are locked and shown for reference; ``Điểm Cụm chấm`` of the other rows is prefilled with
the cluster's score of the latest import, else the unit's self score. The import reads it through the safe
reader, checks every cell like a self-assessment (unknown unit or code, the same unit and code twice, a
score not a number, negative or above its maximum, a computed row typed differently from the computed
score, a year the cluster does not have) and records it all or nothing
(:func:`tracker.assessment.store.store_review`), its bytes kept in the archive. A blank ``Điểm Cụm chấm``
means not given.
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING

from tracker import findings as findings_module
from tracker.assessment.computed import computed_values, scoring_table
from tracker.assessment.rules import Computed, ScoringTable
from tracker.assessment.store import ScoreLine, cluster_scores, self_scores, store_review
from tracker.assessment.years import cluster_years
from tracker.config import Settings
from tracker.findings import Finding, make, ordered
from tracker.intake.assessment_sheet import TOLERANCE, ComputedAt, ScoreColumn, computed_source, read_year
from tracker.intake.files import archive_path, safe_name, write_atomic
from tracker.intake.grid import Cell, UnreadableWorkbook, WorkbookGrid, pick_sheet, refusal
from tracker.intake.matching import (
    HEADER_CLUSTER_SCORE,
    HEADER_CRITERION,
    HEADER_CRITERION_CODE,
    HEADER_DISTRICT_CODE,
    HEADER_DISTRICT_NAME,
    HEADER_MAX,
    HEADER_SELF,
    LABEL_AS_OF,
    LABEL_YEAR,
    SHEET_REVIEW,
    Names,
    fold,
)
from tracker.intake.reader import read_workbook
from tracker.intake.table import Column, Row, Sheet, Table
from tracker.intake.values import read_date, shown
from tracker.messages import part
from tracker.sheets import Column as SheetColumn
from tracker.sheets import Look, TableStyle, set_widths, write_table
from tracker.text import format_date, format_number

if TYPE_CHECKING:
    from tracker.context import Context

HEADER_ROW = 7
HEADERS = (HEADER_DISTRICT_CODE, HEADER_DISTRICT_NAME, HEADER_CRITERION_CODE, HEADER_CRITERION, HEADER_MAX,
           HEADER_SELF, HEADER_CLUSTER_SCORE)


# -- reading ---------------------------------------------------------------------------------------------------


@dataclass
class ParsedReview:
    sheet: str | None = None
    year: int | None = None
    as_of: date | None = None
    rows: list[tuple[str, ScoreLine]] = field(default_factory=list)  # (unit code, line): scored codes only
    findings: list[Finding] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not findings_module.errors(self.findings)


class _UnitColumn(Column):
    """``Mã đơn vị`` (or, when blank, ``Tên đơn vị``): the unit of the row."""

    def __init__(self, names: Names):
        super().__init__(HEADER_DISTRICT_CODE, "unit")
        self.names = names

    def clean(self, cell: Cell | None, row: Row) -> str | None:
        cell = cell or row.cell("unit_name")
        unit = self.names.district(cell.value) if cell is not None else None
        if unit is None:
            row.skip()
            row.report("district_unknown", "targets", column=self.key, ref=cell.ref if cell else None,
                       shown=shown(cell))
        return unit


class _ReviewCodeColumn(Column):
    """``Mã tiêu chí``: a code of the scoring table, once per unit."""

    def __init__(self, table: ScoringTable):
        super().__init__(HEADER_CRITERION_CODE, "code")
        self.table = table
        self.codes = {fold(c): c for c in table.codes}
        self.seen: dict[tuple[str, str], str] = {}

    def clean(self, cell: Cell | None, row: Row) -> str | None:
        text = cell.value if cell is not None else None
        if isinstance(text, float) and text.is_integer():
            text = int(text)
        code = self.codes.get(fold(str(text))) if text is not None else None
        if code is None:
            row.skip()
            row.report("criterion_unknown", column=self.key, shown=shown(cell), codes=", ".join(self.table.codes))
            return None
        unit = str(row.values["unit"])
        if (unit, code) in self.seen:
            row.skip()
            row.report("criterion_duplicate", "review", column=self.key, district=unit, code=code,
                       first=self.seen[(unit, code)])
            return None
        self.seen[(unit, code)] = row.ref(self.key)
        return code


def parse_review(workbook: WorkbookGrid, settings: Settings, table: ScoringTable, *, years: Collection[int],
                 computed: ComputedAt) -> ParsedReview:
    """Check a cross-check workbook (pure; the computed scores and the cluster's years come in)."""
    name = pick_sheet(workbook.sheet_names, SHEET_REVIEW)
    if name is None or name not in workbook.sheets:
        listed = ", ".join(f"'{n}'" for n in workbook.sheet_names) or "—"
        return ParsedReview(findings=[make("no_report_sheet", sheet_name=SHEET_REVIEW, listed=listed)])
    sheet = Sheet(workbook.sheets[name])
    out = ParsedReview(sheet=sheet.name, year=read_year(sheet, years))
    out.as_of = _as_of(sheet, out.year)
    header = sheet.header(HEADER_DISTRICT_CODE)
    if header is None:
        sheet.report("table_missing", "targets", header=HEADER_DISTRICT_CODE)
    else:
        _rows(sheet, Table(sheet, header, [_UnitColumn(Names.of(settings)), Column(HEADER_DISTRICT_NAME, "unit_name"),
                                           _ReviewCodeColumn(table), ScoreColumn(HEADER_CLUSTER_SCORE, table)]),
              table, out, computed)
    out.findings = ordered(sheet.findings)
    return out


def _as_of(sheet: Sheet, year: int | None) -> date | None:
    label = sheet.label(LABEL_AS_OF)
    if year is None:
        return None
    if label is None or label.value is None:
        return date(year, 12, 31)
    read = read_date(label.value)
    if sheet.problem(read, label.value.ref, what=part("as_of")):
        return None
    if read.problem or not isinstance(read.value, date):
        sheet.report("assessment_date_invalid", ref=label.value.ref, shown=read.shown, year=year)
        return None
    if read.value.year != year:
        sheet.report("assessment_date_invalid", "year", ref=label.value.ref, as_of=format_date(read.value), year=year,
                     label=LABEL_YEAR)
        return None
    return read.value


def _rows(sheet: Sheet, t: Table, table: ScoringTable, out: ParsedReview, computed: ComputedAt) -> None:
    if "code" not in t.placed:
        sheet.report("table_missing", "targets", header=HEADER_CRITERION_CODE)
        return
    if "score" not in t.placed:
        sheet.report("score_column_missing", ref=t.ref("unit"), header=HEADER_CLUSTER_SCORE)
        return
    t.check_layout(anchor="unit")
    computed_codes = {c.code for c in table.criteria if c.computed}
    values = computed(out.as_of) if out.as_of is not None else {}
    any_row = False
    for row in t.rows():
        if row.skipped:
            continue
        any_row = True
        unit, code = str(row.values["unit"]), str(row.values["code"])
        value, ok = row.values["score"]  # type: ignore[misc]
        if not ok:
            continue
        if code not in computed_codes:
            out.rows.append((unit, ScoreLine(code, value, row.ref("score"))))
        elif value is not None and out.as_of is not None:
            _check_computed(row, code, value, values.get(unit, {}).get(code, Computed(None)), out.as_of)
    if not any_row and not findings_module.errors(sheet.findings):
        sheet.report("table_empty", "assessment", ref=t.ref("unit"))


def _check_computed(row: Row, code: str, value: float, c: Computed, as_of: date) -> None:
    if c.value is None:
        row.report("score_computed_mismatch", "not_applicable", column="score", code=code, shown=format_number(value))
    elif abs(value - c.value) > TOLERANCE + 1e-9:
        row.report("score_computed_mismatch", column="score", code=code, shown=format_number(value),
                   computed=format_number(c.value), source=computed_source(c, as_of))


# -- importing -------------------------------------------------------------------------------------------------


@dataclass
class ReviewImport:
    file_name: str
    file_hash: str
    year: int | None = None
    findings: list[Finding] = field(default_factory=list)
    review_id: int | None = None
    scores: int = 0  # cluster scores given (not blank)
    stored_path: str | None = None

    @property
    def ok(self) -> bool:
        return not findings_module.errors(self.findings)


def import_review(ctx: Context, data: bytes, filename: str, *, year: int | None = None,
                  now: datetime | None = None) -> ReviewImport:
    """Read, check and record a cross-check workbook (all or nothing). ``year``: the year it must be of."""
    file_hash = hashlib.sha256(data).hexdigest()
    result = ReviewImport(safe_name(filename, "tham-dinh.xlsx"), file_hash)
    try:
        grid = read_workbook(data, result.file_name)
    except UnreadableWorkbook as exc:
        result.findings = [refusal(exc)]
        return result
    settings = ctx.settings
    with ctx.session() as session:
        years = cluster_years(session, settings)
        cache: dict[date, dict] = {}

        def computed(as_of: date):
            if as_of not in cache:
                cache[as_of] = computed_values(session, settings, as_of)
            return cache[as_of]

        parsed = parse_review(grid, settings, scoring_table(settings), years={year} & years if year else years,
                              computed=computed)
    result.findings, result.year = parsed.findings, parsed.year
    if not parsed.ok:
        return result
    assert parsed.year is not None
    stored = archive_path(settings.paths.archive / "tham-dinh", str(parsed.year), parsed.as_of or date.today(),
                          file_hash, result.file_name)
    write_atomic(stored, data)  # on disk before the import that names it is committed
    with ctx.session(write=True) as session:
        review = store_review(session, ctx.cluster_id, parsed.year, file_hash=file_hash, file_name=result.file_name,
                              stored_path=str(stored), rows=parsed.rows, sheet=parsed.sheet or SHEET_REVIEW, now=now)
        session.flush()
        result.review_id = review.id
    result.stored_path = str(stored)
    result.scores = sum(1 for _u, line in parsed.rows if line.value is not None)
    return result


# -- the template ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Line:
    unit: str
    unit_name: str
    code: str
    label: str
    points: float
    own: float | None
    cluster: float | None
    computed: bool


def build_review_template(settings: Settings, table: ScoringTable, year: int, as_of: date, *,
                          computed: dict[str, dict[str, Computed]], own: dict[str, dict[str, float | None]],
                          cluster: dict[str, dict[str, float | None]]) -> bytes:
    """The cross-check workbook bytes: one row per unit and code."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    lines = _review_lines(settings, table, computed, own, cluster)
    wb = Workbook()
    ws = wb.active
    ws.title = SHEET_REVIEW
    ws["A1"] = f"THẨM ĐỊNH KẾT QUẢ TỰ CHẤM ĐIỂM THI ĐUA NĂM {year}"
    ws["A1"].font = Font(bold=True, size=14)
    ws["A2"] = settings.cluster.name
    ws["A2"].font = Font(italic=True)
    for row, label, value in ((3, LABEL_YEAR, year), (4, LABEL_AS_OF, datetime(as_of.year, as_of.month, as_of.day))):
        ws.cell(row=row, column=1, value=label + ":").font = Font(bold=True)
        cell = ws.cell(row=row, column=4, value=value)  # the first non-empty cell to the label's right
        cell.font, cell.alignment = Font(bold=True), Alignment(horizontal="left")
    ws["D4"].number_format = "dd/mm/yyyy"
    ws["A5"] = (f"Ghi điểm Cụm chấm vào cột '{HEADER_CLUSTER_SCORE}' (ô màu vàng, từ 0 đến điểm chuẩn); để trống "
                "là Cụm không chấm (giữ điểm tự chấm). Dòng màu xám: điểm tính từ số liệu, chỉ để đối chiếu.")
    ws["A5"].font = Font(italic=True, color="595959")
    ws["A5"].alignment = Alignment(wrap_text=True, vertical="top")
    ws.merge_cells("A5:G5")
    ws.row_dimensions[5].height = 30
    looks = _looks()
    block = write_table(ws, HEADER_ROW, _review_columns(looks), lines, looks["table"])
    set_widths(ws, block)
    _review_validation(ws, block, lines)
    ws.freeze_panes = block.top(0)
    ws.auto_filter.ref = block.ref()
    ws.protection.sheet = True
    ws.protection.autoFilter = False
    ws.protection.sort = False
    ws.page_setup.orientation = "landscape"
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _review_lines(settings: Settings, table: ScoringTable, computed, own, cluster) -> list[_Line]:
    lines = []
    items = [(c.code, c.label, c.points, c.computed) for c in table.criteria]
    items += [(e.code, e.label, e.max, False) for e in (*table.bonus, *table.penalty)]
    for d in settings.districts:
        for code, label, points, is_computed in items:
            if is_computed:
                value = computed.get(d.code, {}).get(code, Computed(None)).value
                lines.append(_Line(d.code, d.name, code, label, points, value, value, True))
                continue
            mine = own.get(d.code, {}).get(code)
            given = cluster.get(d.code, {}).get(code)
            lines.append(_Line(d.code, d.name, code, label, points, mine, given if given is not None else mine, False))
    return lines


def _looks() -> dict:
    from openpyxl.styles import Alignment, Border, Font, PatternFill, Protection, Side

    thin = Side(style="thin", color="808080")
    box = Border(left=thin, right=thin, top=thin, bottom=thin)
    grey, yellow = PatternFill("solid", fgColor="F2F2F2"), PatternFill("solid", fgColor="FFF2CC")
    header = Look(font=Font(bold=True), fill=PatternFill("solid", fgColor="DDEBF7"), border=box,
                  align=Alignment(wrap_text=True, horizontal="center", vertical="center"))
    return {
        "table": TableStyle(header=header, header_height=32),
        "shown": Look(fill=grey, border=box, align=Alignment(vertical="center")),
        "number": Look(fill=grey, border=box, align=Alignment(horizontal="center", vertical="center")),
        "input": Look(fill=yellow, border=box, protection=Protection(locked=False),
                      align=Alignment(horizontal="center", vertical="center")),
        "computed": Look(fill=PatternFill("solid", fgColor="D9D9D9"), border=box,
                         align=Alignment(horizontal="center", vertical="center")),
    }


def _review_columns(looks: dict) -> list[SheetColumn[_Line]]:
    columns = [
        SheetColumn(HEADER_DISTRICT_CODE, lambda line: line.unit, 10, look=looks["shown"]),
        SheetColumn(HEADER_DISTRICT_NAME, lambda line: line.unit_name, 26, look=looks["shown"]),
        SheetColumn(HEADER_CRITERION_CODE, lambda line: line.code, 10, look=looks["shown"]),
        SheetColumn(HEADER_CRITERION, lambda line: line.label, 48, look=looks["shown"]),
        SheetColumn(HEADER_MAX, lambda line: line.points, 10, "0.##", looks["number"]),
        SheetColumn(HEADER_SELF, lambda line: line.own, 11, "0.00", looks["number"]),
        SheetColumn(HEADER_CLUSTER_SCORE, lambda line: line.cluster, 12, "0.00",
                    lambda line: looks["computed"] if line.computed else looks["input"]),
    ]
    assert tuple(c.title for c in columns) == HEADERS
    return columns


def _review_validation(ws, block, lines: list[_Line]) -> None:
    from openpyxl.worksheet.datavalidation import DataValidation

    rules: dict[float, DataValidation] = {}
    for n, line in enumerate(lines):
        if line.computed:
            continue
        if line.points not in rules:
            top = f"{line.points:g}"
            rules[line.points] = DataValidation(type="decimal", operator="between", formula1="0", formula2=top,
                                                allow_blank=True, showErrorMessage=True, errorTitle="Điểm không hợp lệ",
                                                error=f"Nhập điểm từ 0 đến {top}.")
            ws.add_data_validation(rules[line.points])
        rules[line.points].add(block.cell(HEADER_CLUSTER_SCORE, n))


def review_template(ctx: Context, year: int, as_of: date | None = None) -> bytes:
    """The cross-check workbook of ``year`` from the database: computed scores as of ``as_of`` (default 31/12),
    the latest self-assessments and the latest cross-check."""
    as_of = as_of or date(year, 12, 31)
    with ctx.session() as session:
        computed = computed_values(session, ctx.settings, as_of)
        own = self_scores(session, ctx.cluster_id, year)
        cluster = cluster_scores(session, ctx.cluster_id, year)
    return build_review_template(ctx.settings, scoring_table(ctx.settings), year, as_of, computed=computed, own=own,
                                 cluster=cluster)
