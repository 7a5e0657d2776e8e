"""The assessment workbook (docs/assessment.md §6): the ranking and proposals, then every unit's scores.

Two sheets, each a run of tables described as column specs (:mod:`tracker.sheets`):

- ``Kết quả`` — one row per unit in ranking order: self total, criteria total, bonus, penalty, final
  total, the difference, the award proposed or the award to vote on; then the proposals award by award;
- ``Chi tiết`` — one row per unit and code (criteria, bonus, penalty) with the self, cluster and final
  scores, and a total row per unit. A computed criterion shows what it comes from (the figure and the
  target, or the weeks on time and the weeks due), so every number can be traced. Where the cluster's
  score differs from the unit's own, the two scores and the difference are filled (a legend says so).

Scores are numbers (two decimals); every string goes through :func:`tracker.sheets.write_cell`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill

from tracker.assessment.rules import Assessment, CriterionScore, ExtraScore, ScoringTable, UnitAssessment
from tracker.assessment.words import AssessmentWords, proposal, vote_text
from tracker.reporting import palette
from tracker.reporting.xlsx import BOLD, CELL, CENTERED, STRONG, STYLE, TOTAL_FILL, print_setup, put
from tracker.sheets import Block, Column, Look, set_widths, write_cell, write_table

FMT_SCORE = "0.00"
FMT_FIGURE = "#,##0.##"
SHEETS = ("Kết quả", "Chi tiết")

DIFFERENCE_FILL = PatternFill("solid", fgColor=palette.argb(palette.FILL["behind"]))
AWARD_FILL = PatternFill("solid", fgColor=palette.argb(palette.FILL["achieved"]))
VOTE_FILL = PatternFill("solid", fgColor=palette.argb(palette.FILL["at_risk"]))
DIFFERENT = Look(fill=DIFFERENCE_FILL, border=CELL.border, font=BOLD)
TOTAL_ROW = Look(fill=TOTAL_FILL, border=CELL.border, font=BOLD)
TOTAL_CENTRED = Look(fill=TOTAL_FILL, border=CELL.border, font=BOLD, align=CENTERED.align)
DIFFERENCE_LEGEND = "Ô tô màu: điểm Cụm chấm khác điểm đơn vị tự chấm (cột Chênh lệch = Cụm chấm − Tự chấm)."


@dataclass(frozen=True)
class Line:
    """One row of ``Chi tiết``: a unit's criterion, bonus or penalty line, or its total."""

    unit: UnitAssessment
    kind: str  # "Tiêu chí" | "Điểm thưởng" | "Điểm trừ" | "Tổng cộng"
    code: str
    label: str
    group: str
    maximum: float | None
    how: str  # how it is scored: "Tự động: …" | "Chấm tay" | ""
    basis: str  # what a computed criterion comes from, in words
    figure: float | None  # the figure, or the weeks on time
    target: float | None  # the target, or the weeks due
    self: float | None
    cluster: float | None
    final: float | None

    @property
    def total(self) -> bool:
        return self.kind == "Tổng cộng"

    @property
    def difference(self) -> float | None:
        """Cluster − self where the cluster gave a score that is not the unit's own (a blank self counts as 0)."""
        if self.total or self.cluster is None or (self.self is not None and abs(self.cluster - self.self) < 0.005):
            return None
        return round(self.cluster - (self.self or 0.0), 2)


def lines(assessment: Assessment, table: ScoringTable, words: AssessmentWords) -> list[Line]:
    """Every unit's rows, units in ranking order, codes in the scoring table's order."""
    out: list[Line] = []
    for u in assessment.units:
        for c, score in zip(table.criteria, u.criteria, strict=True):
            out.append(_criterion_line(u, c, score, words))
        for kind, extras, scores in (("Điểm thưởng", table.bonus, u.bonus), ("Điểm trừ", table.penalty, u.penalty)):
            for e, score in zip(extras, scores, strict=True):
                out.append(_extra_line(u, kind, e.code, e.label, e.max, score))
        out.append(Line(u, "Tổng cộng", "", f"Tổng điểm (thang {words.points(assessment.total_points)} điểm)", "",
                        assessment.total_points, "", "", None, None, u.self_total, None, u.final_total))
    return out


def _criterion_line(u: UnitAssessment, c, score: CriterionScore, words: AssessmentWords) -> Line:
    source = score.source
    figure = target = None
    if source is not None:
        figure, target = (source.actual, source.target) if c.indicator else (source.on_time, source.due)
    return Line(u, "Tiêu chí", c.code, c.label, c.group, c.points, words.how(c), words.basis(c, score),
                figure, target, score.self, score.cluster, score.final)


def _extra_line(u: UnitAssessment, kind: str, code: str, label: str, maximum: float, score: ExtraScore) -> Line:
    return Line(u, kind, code, label, "", maximum, "Chấm tay", "", None, None, score.self, score.cluster, score.final)


def _look(line: Line, *, differs: bool = False) -> Look:
    if line.total:
        return TOTAL_ROW
    return DIFFERENT if differs and line.difference is not None else CELL


def detail_columns() -> list[Column[Line]]:
    def plain(ln: Line) -> Look:
        return _look(ln)

    def marked(ln: Line) -> Look:
        return _look(ln, differs=True)

    def centred(ln: Line) -> Look:
        return TOTAL_CENTRED if ln.total else CENTERED

    return [
        Column("Hạng", lambda ln: ln.unit.rank, 6, look=centred),
        Column("Mã đơn vị", lambda ln: ln.unit.code, 9, look=centred),
        Column("Đơn vị", lambda ln: ln.unit.name, 26, look=plain),
        Column("Loại", lambda ln: ln.kind, 12, look=plain),
        Column("Mã tiêu chí", lambda ln: ln.code, 8, look=centred),
        Column("Tiêu chí", lambda ln: ln.label, 46, look=plain),
        Column("Điểm chuẩn / tối đa", lambda ln: ln.maximum, 11, FMT_FIGURE, plain),
        Column("Cách chấm", lambda ln: ln.how, 20, look=plain),
        Column("Thực hiện / số tuần đúng hạn", lambda ln: ln.figure, 13, FMT_FIGURE, plain),
        Column("Chỉ tiêu / số tuần phải nộp", lambda ln: ln.target, 13, FMT_FIGURE, plain),
        Column("Căn cứ tính điểm", lambda ln: ln.basis, 46, look=plain),
        Column("Tự chấm", lambda ln: ln.self, 10, FMT_SCORE, marked),
        Column("Cụm chấm", lambda ln: ln.cluster, 10, FMT_SCORE, marked),
        Column("Chênh lệch", lambda ln: ln.difference, 10, FMT_SCORE, marked),
        Column("Điểm cuối cùng", lambda ln: ln.final, 10, FMT_SCORE, plain),
    ]


def result_columns(words: AssessmentWords) -> list[Column[UnitAssessment]]:
    def proposed(u: UnitAssessment) -> Look:
        return Look(fill=AWARD_FILL if u.award else VOTE_FILL if u.vote_needed else None, border=CELL.border)

    return [
        Column("Hạng", lambda u: u.rank, 6, look=CENTERED),
        Column("Mã đơn vị", lambda u: u.code, 9, look=CENTERED),
        Column("Đơn vị", lambda u: u.name, 28),
        Column("Tự chấm", lambda u: u.self_total, 10, FMT_SCORE),
        Column("Điểm các tiêu chí (quy về thang điểm)", lambda u: u.criteria_total, 13, FMT_SCORE),
        Column("Điểm thưởng", lambda u: sum(b.final for b in u.bonus), 10, FMT_SCORE),
        Column("Điểm trừ", lambda u: sum(p.final for p in u.penalty), 10, FMT_SCORE),
        Column("Điểm cuối cùng", lambda u: u.final_total, 11, FMT_SCORE, STRONG),
        Column("Chênh lệch so với tự chấm", lambda u: round(u.final_total - u.self_total, 2), 12, FMT_SCORE),
        Column("Đề nghị khen thưởng", lambda u: u.award or "", 30, look=proposed),
        Column("Cần bỏ phiếu", lambda u: vote_text(u), 34, look=proposed),
    ]


def write_assessment_book(assessment: Assessment, table: ScoringTable, words: AssessmentWords, path: Path) -> Path:
    """The workbook of ``assessment`` at ``path``."""
    wb = Workbook()
    results = wb.active
    results.title = SHEETS[0]
    _results_sheet(results, assessment, table, words)
    _detail_sheet(wb.create_sheet(SHEETS[1]), assessment, table, words)
    props = wb.properties
    props.title = words.title
    props.creator = props.lastModifiedBy = words.cluster_short
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    return path


def _heading(ws, title: str, subtitle: str) -> None:
    put(ws, 1, 1, title, font=Font(bold=True, size=14))
    put(ws, 2, 1, subtitle)


def _results_sheet(ws, assessment: Assessment, table: ScoringTable, words: AssessmentWords) -> None:
    _heading(ws, words.title, words.subtitle)
    block = write_table(ws, 4, result_columns(words), assessment.units, STYLE)
    row = block.after()
    last = block.column(-1)
    put(ws, row, 1, "Đề nghị khen thưởng", font=BOLD)
    for award, text in proposal(assessment, table):
        row += 1
        put(ws, row, 2, award, font=BOLD, align=Alignment(wrap_text=True, vertical="top"))
        ws.merge_cells(start_row=row, start_column=2, end_row=row, end_column=3)
        _paragraph(ws, row, 4, last, text, lines=1 + len(text) // 110)
    row += 2
    write_cell(ws, row, 2, "", look=Look(fill=AWARD_FILL, border=CELL.border))
    put(ws, row, 3, "Được đề nghị khen thưởng (tự động theo thứ hạng)")
    write_cell(ws, row + 1, 2, "", look=Look(fill=VOTE_FILL, border=CELL.border))
    put(ws, row + 1, 3, "Bằng điểm ở ranh giới một danh hiệu: Hội nghị bỏ phiếu")
    _paragraph(ws, row + 3, 1, last, words.rules, lines=4)
    set_widths(ws, block)
    ws.freeze_panes = ws.cell(row=block.first, column=4)
    print_setup(ws, f"{block.header}:{block.header}")


def _paragraph(ws, row: int, first: int, last: int, text: str, *, lines: int) -> None:
    """Text across the columns ``first`` to ``last`` (merged, wrapped), ``lines`` lines tall: it stays inside
    the printed width instead of running on to the right."""
    put(ws, row, first, text, align=Alignment(wrap_text=True, vertical="top"))
    ws.merge_cells(start_row=row, start_column=first, end_row=row, end_column=last)
    ws.row_dimensions[row].height = 15 * lines


def _detail_sheet(ws, assessment: Assessment, table: ScoringTable, words: AssessmentWords) -> None:
    _heading(ws, f"Chi tiết chấm điểm theo tiêu chí - {words.cluster_short} - năm {assessment.year}", words.subtitle)
    block: Block = write_table(ws, 4, detail_columns(), lines(assessment, table, words), STYLE)
    ws.auto_filter.ref = block.ref()
    legend = block.after()
    write_cell(ws, legend, block.column("Mã tiêu chí"), "", look=DIFFERENT)
    put(ws, legend, block.column("Tiêu chí"), DIFFERENCE_LEGEND)
    set_widths(ws, block)
    ws.freeze_panes = ws.cell(row=block.first, column=4)
    print_setup(ws, f"{block.header}:{block.header}")
