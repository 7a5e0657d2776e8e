"""The review pack's own sheet of its data workbook: `So với cùng kỳ`, the figures against the same period
last year (docs/outputs.md §5). The workbook's other sheets are the weekly one's (:mod:`.xlsx`).

Only written when last year's figures exist (:func:`tracker.reporting.wording.has_last_year`). Numbers are
numbers, rounded as ``tracker status --format json`` rounds them; the change is a percentage of last
year's figure (:func:`tracker.reporting.wording.change_percent`), shown ``+12,5%`` / ``-3,0%``.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from openpyxl.styles import Font
from openpyxl.worksheet.worksheet import Worksheet

from tracker.progress import IndicatorSpec, same_day_last_year
from tracker.reporting.data import ReportData
from tracker.reporting.wording import change_percent, change_text
from tracker.reporting.xlsx import BOLD, STYLE, TOTAL, header_rows, print_setup, put, value_format
from tracker.sheets import Column, set_widths, write_table
from tracker.text import format_date

SHEET = "So với cùng kỳ"
TOTAL_BOLD = replace(TOTAL, font=BOLD)
FMT_CHANGE = '+0.0"%";-0.0"%";0.0"%"'


@dataclass(frozen=True)
class _Row:
    code: str
    name: str
    spec: IndicatorSpec
    actual: float | None
    last_year: float | None

    @property
    def change(self) -> float | None:
        value = change_percent(self.actual, self.last_year)
        return None if value is None else round(value, 2)


def _number(value: float | None) -> float | None:
    return None if value is None else round(value, 6)


def comparison(ws: Worksheet, data: ReportData) -> None:
    """The cluster's totals, then each unit's figures, against the same day last year."""
    p = data.progress
    put(ws, 1, 1, f"So với cùng kỳ năm {p.year - 1}", font=Font(bold=True, size=16))
    put(ws, 2, 1, f"Số liệu luỹ kế đến ngày {format_date(p.as_of)}, so với số liệu luỹ kế đến ngày "
                  f"{format_date(same_day_last_year(p.as_of))}. So với cùng kỳ (%) = (thực hiện − cùng kỳ) / "
                  "cùng kỳ × 100; để trống khi năm trước không có số liệu hoặc bằng 0.",
        font=Font(italic=True, color="FF455A64"))

    def amount(r: _Row) -> str:
        return value_format(r.spec)

    def look(r: _Row):
        return TOTAL_BOLD if r.code == "" else STYLE.body

    rows = []
    for s in p.indicators:
        t = p.total(s.key)
        rows.append(_Row("", "Toàn Cụm", s, t.actual, t.last_year_actual))
        rows += [_Row(d.code, d.name, s, d.indicator(s.key).actual, d.indicator(s.key).last_year_actual)
                 for d in data.districts_in_order()]
    table = write_table(ws, 4, [
        Column("Mã chỉ tiêu", lambda r: r.spec.key, 13, look=look),
        Column("Chỉ tiêu", lambda r: r.spec.label, 30, look=look),
        Column("Đơn vị tính", lambda r: r.spec.unit, 11, look=look),
        Column("Mã đơn vị", lambda r: r.code, 10, look=look),
        Column("Đơn vị", lambda r: r.name, 26, look=look),
        Column("Thực hiện", lambda r: _number(r.actual), 12, amount, look=look),
        Column("Cùng kỳ năm trước", lambda r: _number(r.last_year), 14, amount, look=look),
        Column("So với cùng kỳ (%)", lambda r: r.change, 14, FMT_CHANGE, look=look),
        Column("Nhận xét", _remark, 24, look=look),
    ], rows, STYLE)
    put(ws, table.after(), 1, "Cùng kỳ năm trước: số liệu luỹ kế của đơn vị đến cùng ngày, cùng tháng năm trước "
                              "(29/02 tính là 28/02); của toàn Cụm: tổng các đơn vị có số liệu.",
        font=Font(italic=True, color="FF455A64"))
    set_widths(ws, table)
    ws.freeze_panes = table.top("Thực hiện")
    ws.auto_filter.ref = table.ref()
    print_setup(ws, header_rows(table))


def _remark(r) -> str:
    """The change in words, or why there is none: no figure last year, none this year, or last year's was 0."""
    if r.last_year is None:
        return "Không có số liệu cùng kỳ"
    if r.actual is None:
        return "Chưa có số liệu năm nay"
    return change_text(r.change) or "Cùng kỳ bằng 0"
