"""The unit's self-assessment workbook (`tracker assess template`, docs/assessment.md §6).

Sheet ``Tự chấm điểm``: the labels ``Đơn vị``, ``Năm`` and ``Số liệu tính đến ngày`` (the assessment date
its computed scores are as of), then the table ``Mã tiêu chí``, ``Tiêu chí``, ``Điểm chuẩn``, ``Điểm tự
chấm``, ``Giải trình, minh chứng``: one row per criterion under its group's heading, then the bonus
(``Điểm thưởng``) and penalty (``Điểm trừ``) lines. Computed criteria are filled in and locked, with the
figure and target (or the weeks on time) they come from in the explanation cell; the unit types only the
manual scores (yellow, 0..max by data validation) and the explanations. The sheet is protected without a
password (against slips), like the weekly template (:mod:`tracker.intake.template`). Sheet ``Hướng dẫn``
says how to fill it in and send it. No formulas.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING

from tracker.assessment.rules import Computed, ScoringTable
from tracker.config import Settings
from tracker.intake.assessment_sheet import computed_source
from tracker.intake.matching import (
    HEADER_CRITERION,
    HEADER_CRITERION_CODE,
    HEADER_EXPLANATION,
    HEADER_MAX,
    HEADER_SELF,
    LABEL_AS_OF,
    LABEL_DISTRICT,
    LABEL_YEAR,
    SHEET_ASSESSMENT,
)
from tracker.sheets import Column, Look, TableStyle, set_widths, write_table
from tracker.text import format_date

if TYPE_CHECKING:
    from tracker.context import Context

SHEET_HELP = "Hướng dẫn"
HEADER_ROW = 9
HEADERS = (HEADER_CRITERION_CODE, HEADER_CRITERION, HEADER_MAX, HEADER_SELF, HEADER_EXPLANATION)
HEADING_BONUS = "Điểm thưởng (cộng thêm, tối đa theo cột Điểm chuẩn)"
HEADING_PENALTY = "Điểm trừ (trừ đi, tối đa theo cột Điểm chuẩn)"
NOT_APPLICABLE = "Không áp dụng cho đơn vị (không có chỉ tiêu đăng ký, hoặc chưa có tuần nào đến hạn báo cáo)."


@dataclass(frozen=True)
class _Line:
    """One row of the table: a heading (no code), a computed criterion, or a line the unit scores."""

    code: str | None
    label: str
    points: float | None = None
    score: float | None = None
    explanation: str | None = None
    computed: bool = False

    @property
    def heading(self) -> bool:
        return self.code is None


def _lines(table: ScoringTable, computed: dict[str, Computed], as_of: date,
           own: dict[str, float | None], explanations: dict[str, str]) -> list[_Line]:
    lines: list[_Line] = []
    group = None
    for c in table.criteria:
        if c.group and c.group != group:
            lines.append(_Line(None, c.group))
        group = c.group
        if c.computed:
            value = computed.get(c.code, Computed(None))
            text = computed_source(value, as_of) if value.applicable else NOT_APPLICABLE
            lines.append(_Line(c.code, c.label, c.points, value.value, "Tính tự động: " + text, computed=True))
        else:
            lines.append(_Line(c.code, c.label, c.points, own.get(c.code), explanations.get(c.code) or None))
    for heading, extras in ((HEADING_BONUS, table.bonus), (HEADING_PENALTY, table.penalty)):
        if extras:
            lines.append(_Line(None, heading))
        lines += [_Line(e.code, e.label, e.max, own.get(e.code), explanations.get(e.code) or None) for e in extras]
    return lines


@dataclass(frozen=True)
class _Looks:
    table: TableStyle
    heading: Look
    shown: Look
    number_shown: Look
    number: Look
    text: Look


def _looks() -> _Looks:
    from openpyxl.styles import Alignment, Border, Font, PatternFill, Protection, Side

    thin = Side(style="thin", color="808080")
    box = Border(left=thin, right=thin, top=thin, bottom=thin)
    grey, yellow = PatternFill("solid", fgColor="F2F2F2"), PatternFill("solid", fgColor="FFF2CC")
    wrap = Alignment(wrap_text=True, vertical="center")
    centre = Alignment(horizontal="center", vertical="center")
    unlocked = Protection(locked=False)
    header = Look(font=Font(bold=True), fill=PatternFill("solid", fgColor="DDEBF7"), border=box,
                  align=Alignment(wrap_text=True, horizontal="center", vertical="center"))
    return _Looks(
        table=TableStyle(header=header, header_height=32, row_height=32),
        heading=Look(font=Font(bold=True), fill=PatternFill("solid", fgColor="E2EFDA"), border=box, align=wrap),
        shown=Look(fill=grey, border=box, align=wrap),
        number_shown=Look(fill=grey, border=box, align=centre),
        number=Look(fill=yellow, border=box, protection=unlocked, align=centre),
        text=Look(fill=yellow, border=box, protection=unlocked, align=wrap),
    )


def _columns(looks: _Looks) -> list[Column[_Line]]:
    def pick(heading: Look, computed: Look, typed: Look):
        return lambda line: heading if line.heading else computed if line.computed else typed

    columns = [
        Column(HEADER_CRITERION_CODE, lambda line: line.code, 11, look=pick(looks.heading, looks.shown, looks.shown)),
        Column(HEADER_CRITERION, lambda line: line.label, 58, look=pick(looks.heading, looks.shown, looks.shown)),
        Column(HEADER_MAX, lambda line: line.points, 12, "0.##",
               pick(looks.heading, looks.number_shown, looks.number_shown)),
        Column(HEADER_SELF, lambda line: line.score, 12, "0.00",
               pick(looks.heading, looks.number_shown, looks.number)),
        Column(HEADER_EXPLANATION, lambda line: line.explanation, 56,
               look=pick(looks.heading, looks.shown, looks.text)),
    ]
    assert tuple(c.title for c in columns) == HEADERS
    return columns





def build_assessment_template(settings: Settings, table: ScoringTable, unit: str, year: int, as_of: date, *,
                              computed: dict[str, Computed] | None = None,
                              own: dict[str, float | None] | None = None,
                              explanations: dict[str, str] | None = None) -> bytes:
    """The workbook bytes. ``computed``: the unit's computed scores as of ``as_of``; ``own`` and
    ``explanations`` pre-fill the unit's own lines (its latest self-assessment, or the demo's)."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    name = settings.district(unit).name
    wb = Workbook()
    ws = wb.active
    ws.title = SHEET_ASSESSMENT
    looks = _looks()
    ws["A1"] = f"BẢNG TỰ CHẤM ĐIỂM THI ĐUA NĂM {year}"
    ws["A1"].font = Font(bold=True, size=14)
    ws["A2"] = settings.cluster.name
    ws["A2"].font = Font(italic=True)
    for row, label, value in ((4, LABEL_DISTRICT, name), (5, LABEL_YEAR, year),
                              (6, LABEL_AS_OF, datetime(as_of.year, as_of.month, as_of.day))):
        ws.cell(row=row, column=1, value=label + ":").font = Font(bold=True)
        # the value two columns on (the first non-empty cell to the right): the label spills over column B
        cell = ws.cell(row=row, column=3, value=value)
        cell.font = Font(bold=True)
        cell.alignment = Alignment(horizontal="left")
    ws["C6"].number_format = "dd/mm/yyyy"
    ws["A7"] = ("Điểm các tiêu chí tính từ số liệu (ô xám) đã điền sẵn và khoá. Đơn vị tự chấm các ô màu vàng "
                "(từ 0 đến điểm chuẩn) và ghi giải trình, minh chứng; để trống nếu chưa chấm. Xem trang 'Hướng dẫn'.")
    ws["A7"].font = Font(italic=True, color="595959")
    ws["A7"].alignment = Alignment(wrap_text=True, vertical="top")
    ws.merge_cells("A7:E7")
    ws.row_dimensions[7].height = 30
    lines = _lines(table, computed or {}, as_of, own or {}, explanations or {})
    block = write_table(ws, HEADER_ROW, _columns(looks), lines, looks.table)
    set_widths(ws, block)
    _validate(ws, block, lines)
    ws.freeze_panes = block.top(0)
    ws.protection.sheet = True  # no password: it guards against slips
    ws.protection.formatColumns = False
    ws.protection.formatRows = False
    ws.page_setup.orientation = "landscape"
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    _help_sheet(wb.create_sheet(SHEET_HELP), settings, name, year, as_of)
    wb.active = 0
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _validate(ws, block, lines: list[_Line]) -> None:
    """Each manual score: a decimal from 0 to its maximum."""
    from openpyxl.worksheet.datavalidation import DataValidation

    rules: dict[float, DataValidation] = {}
    for n, line in enumerate(lines):
        if line.heading or line.computed or line.points is None:
            continue
        dv = rules.get(line.points)
        if dv is None:
            top = f"{line.points:g}"
            dv = rules[line.points] = DataValidation(
                type="decimal", operator="between", formula1="0", formula2=top, allow_blank=True,
                showErrorMessage=True, errorTitle="Điểm không hợp lệ", error=f"Nhập điểm từ 0 đến {top}.")
            ws.add_data_validation(dv)
        dv.add(block.cell(HEADER_SELF, n))


def _help_sheet(ws, settings: Settings, unit_name: str, year: int, as_of: date) -> None:
    from openpyxl.styles import Alignment, Font

    lines = [
        ("HƯỚNG DẪN TỰ CHẤM ĐIỂM THI ĐUA", True),
        (f"{settings.cluster.name} — {unit_name} — năm {year}, số liệu tính đến {format_date(as_of)}", False),
        ("", False),
        (f"1. Mở trang '{SHEET_ASSESSMENT}'. Không sửa tên đơn vị, năm và ngày số liệu.", False),
        ("2. Các tiêu chí tính từ số liệu báo cáo (ô xám) đã được Cụm tính sẵn theo số liệu đã nhận và chỉ tiêu "
         "đăng ký; không cần sửa. Nếu thấy sai, ghi rõ ở cột giải trình hoặc báo Cụm trưởng.", False),
        (f"3. Ghi điểm tự chấm vào các ô màu vàng của cột '{HEADER_SELF}', từ 0 đến số ở cột '{HEADER_MAX}'; "
         "có thể có phần thập phân. Ô để trống nghĩa là chưa tự chấm.", False),
        (f"4. Ghi căn cứ, minh chứng vào cột '{HEADER_EXPLANATION}'.", False),
        ("5. Điểm thưởng được cộng, điểm trừ bị trừ vào tổng điểm; mỗi dòng từ 0 đến mức tối đa ghi ở cột "
         f"'{HEADER_MAX}'.", False),
        ("6. Gửi tệp cho Cụm như báo cáo tuần: tải lên trang của đơn vị, hoặc gửi qua e-mail. Kết quả kiểm tra: "
         "'đã chấp nhận', hoặc 'bị từ chối' kèm danh sách lỗi theo từng ô. Gửi lại bảng mới sẽ thay bảng trước.",
         False),
    ]
    ws.column_dimensions["A"].width = 100
    for i, (text, strong) in enumerate(lines, start=1):
        cell = ws.cell(row=i, column=1, value=text or None)
        cell.alignment = Alignment(wrap_text=True, vertical="top")
        if strong:
            cell.font = Font(bold=True, size=13)
        ws.row_dimensions[i].height = 15 * max(1, -(-len(text) // 95))  # wrapped lines are not measured by all
    ws.page_setup.orientation = "landscape"
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.protection.sheet = True


def assessment_templates(ctx: Context, year: int, as_of: date | None = None) -> Callable[[str], bytes]:
    """A maker of every unit's self-assessment workbook of ``year`` as of ``as_of`` (default 31/12 of the
    year): the computed scores and the latest self-assessments are read once, on the first workbook made."""
    from tracker.assessment.computed import computed_values, scoring_table
    from tracker.assessment.store import self_assessments

    day = as_of or date(year, 12, 31)
    loaded: dict[str, dict] = {}

    def make(unit: str) -> bytes:
        if not loaded:
            with ctx.session() as session:
                loaded["computed"] = computed_values(session, ctx.settings, day)
                loaded["latest"] = self_assessments(session, ctx.cluster_id, year)
        latest = loaded["latest"].get(unit)
        return build_assessment_template(ctx.settings, scoring_table(ctx.settings), unit, year, day,
                                         computed=loaded["computed"].get(unit, {}),
                                         own=dict(latest.scores) if latest else {},
                                         explanations=dict(latest.explanations) if latest else {})

    return make


def unit_assessment_template(ctx: Context, unit: str, year: int, as_of: date | None = None) -> bytes:
    """The self-assessment workbook of ``unit`` (a code) for ``year`` as of ``as_of`` (default 31/12 of the
    year), with its computed scores, pre-filled with its latest accepted self-assessment of the year."""
    return assessment_templates(ctx, year, as_of)(unit)


def assessment_template_filename(unit: str, year: int) -> str:
    return f"tu-cham-diem_{unit}_{year}.xlsx"
