"""The report workbooks (openpyxl): sheets, native charts, conditional formatting, print setup.

Numbers are stored as numbers, rounded exactly as ``tracker status --format json`` rounds them, so
the workbook and the JSON always agree. Number formats are written with Excel's invariant symbols
(``#,##0``, ``#,##0.0#``, ``0.0"%"``): Excel and LibreOffice show them with the reader's own
separators, so a Vietnamese Windows shows ``1.234,5`` and an English one ``1,234.5``. The ``%`` is a
quoted literal, so 47.65 shows as ``47,7%`` without being multiplied by 100.

Every string (file names, sheet names, cells, notes and senders from uploads, and our own labels) goes
through :func:`tracker.safe_cells.write_text` (by :func:`tracker.sheets.write_cell`): illegal characters
stripped, at most 32,767 characters, forced to a text cell, so ``=HYPERLINK(...)`` typed by a district
stays text and never becomes a formula.

Each sheet is a run of tables described as column specs (:mod:`tracker.sheets`): a table is written
where the one above it ended, and charts, filters and conditional colours name the table's cells.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from openpyxl import Workbook
from openpyxl.chart import BarChart, LineChart, Reference
from openpyxl.chart.label import DataLabelList
from openpyxl.formatting.rule import FormulaRule
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.worksheet.pagebreak import Break
from openpyxl.worksheet.worksheet import Worksheet

from tracker.calendar import district_short_name, week_period
from tracker.progress import (
    STATUSES,
    ClusterProgress,
    DistrictProgress,
    IndicatorProgress,
    IndicatorSpec,
    Reporting,
    Status,
    reporting_label,
)
from tracker.reporting import highlights as week
from tracker.reporting import palette
from tracker.reporting.data import ReportData
from tracker.reporting.wording import (
    AMENDMENTS_TITLE,
    STATUS_VI,
    closed_lines,
    headline,
    reopen_hint,
    rules_paragraph,
)
from tracker.safe_cells import clean_text
from tracker.sheets import Block, Column, Look, Rule, TableStyle, set_widths, write_cell, write_table
from tracker.text import format_date, format_rank_change

FMT_COUNT = "#,##0"
FMT_AMOUNT = "#,##0.0#"
FMT_PERCENT = '0.0"%"'
FMT_CHANGE_COUNT = '+#,##0;-#,##0;"—"'
FMT_CHANGE_AMOUNT = '+#,##0.0#;-#,##0.0#;"—"'
FMT_SCORE = "0.0000"
FMT_DATE = "DD/MM/YYYY"
FMT_DATETIME = "DD/MM/YYYY HH:MM"

SHEETS = ("Tổng hợp", "Chi tiết", "Xếp hạng", "Tình hình nộp báo cáo", "Dữ liệu")

BOLD = Font(bold=True)
HEADER_FONT = Font(bold=True, color=palette.argb(palette.HEADER_INK))
HEADER_FILL = PatternFill("solid", fgColor=palette.argb(palette.HEADER_FILL))
TOTAL_FILL = PatternFill("solid", fgColor=palette.argb(palette.TOTAL_FILL))
_THIN = Side(style="thin", color="FFB0BEC5")
BOX = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
WRAP = Alignment(wrap_text=True, vertical="top")
CENTER = Alignment(horizontal="center", vertical="center", wrap_text=True)

# The looks of the report's cells, and how its tables are drawn.
CELL = Look(border=BOX)
CENTERED = Look(align=CENTER, border=BOX)
STRONG = Look(font=BOLD, border=BOX)
TOTAL = Look(fill=TOTAL_FILL, border=BOX)
HEADER = Look(font=HEADER_FONT, fill=HEADER_FILL, align=CENTER, border=BOX)
STYLE = TableStyle(header=HEADER, body=CELL, title=Look(font=BOLD), header_height=36)
PLAIN = replace(STYLE, body=Look())  # the data sheet: thousands of rows, no borders

# Words a conditional rule colours, and the status whose colours each one borrows.
STATUS_WORDS: dict[str, Status] = {STATUS_VI[s]: s for s in STATUSES}
REPORTING_WORDS: dict[str, Status] = {reporting_label(r): palette.REPORTING[r] for r in Reporting}


# ---------------------------------------------------------------------------------------------------
# The helpers every sheet shares


def put(ws: Worksheet, row: int, col: int, value, fmt: str | None = None, *, font: Font | None = None,
        fill: PatternFill | None = None, align: Alignment | None = None, border: bool = False):
    """Write a value we produced ourselves (numbers, dates, our own labels).

    Our own strings are still forced to text: a district name in the config could start with ``=``.
    """
    return write_cell(ws, row, col, value, fmt, Look(font=font, fill=fill, align=align, border=BOX if border else None))


def value_format(spec: IndicatorSpec) -> str:
    return FMT_COUNT if spec.kind == "count" else FMT_AMOUNT


def change_format(spec: IndicatorSpec) -> str:
    """A change this week as the e-mail writes it: ``+3``, ``-2``, ``—`` for no change."""
    return FMT_CHANGE_COUNT if spec.kind == "count" else FMT_CHANGE_AMOUNT


def print_setup(ws: Worksheet, title_rows: str | None = None) -> None:
    """A4 landscape, fit to one page wide (as many pages tall as needed), header rows repeated."""
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_options.horizontalCentered = True
    ws.page_margins.left = ws.page_margins.right = 0.4
    ws.page_margins.top = ws.page_margins.bottom = 0.5
    if title_rows:
        ws.print_title_rows = title_rows


def header_rows(block: Block) -> str:
    """The header row of ``block`` as print titles (repeated on every printed page)."""
    return f"{block.header}:{block.header}"


def colour_rules(ws: Worksheet, cells: str, reference: str, words: Mapping[str, Status]) -> None:
    """Colour ``cells`` by the word in ``reference`` (relative to the range's top-left cell): each word of
    ``words`` gets the fill and ink of its status, so the colours follow any edit of the words."""
    for word, status in words.items():
        fill = PatternFill("solid", fgColor=palette.argb(palette.FILL[status]),
                           bgColor=palette.argb(palette.FILL[status]))
        font = Font(color=palette.argb(palette.INK[status]))
        quoted = word.replace('"', '""')
        ws.conditional_formatting.add(
            cells, FormulaRule(formula=[f'{reference}="{quoted}"'], fill=fill, font=font, stopIfTrue=True))


STATUS_COLOURS = Rule(lambda ws, cells, ref: colour_rules(ws, cells, ref, STATUS_WORDS), by="Trạng thái")
REPORTING_COLOURS = Rule(lambda ws, cells, ref: colour_rules(ws, cells, ref, REPORTING_WORDS))


def _note(ws: Worksheet, row: int, text: str, last_col: int, height: float | None = None, *,
          bold: bool = False) -> int:
    ws.merge_cells(start_row=row, start_column=1, end_row=row, end_column=last_col)
    put(ws, row, 1, text, align=WRAP, font=BOLD if bold else None)
    if height:
        ws.row_dimensions[row].height = height
    return row + 1


@dataclass(frozen=True)
class Ranked:
    """A district with its JSON form (numbers rounded as ``tracker status --format json`` rounds them)."""

    district: DistrictProgress
    js: dict

    def percent(self, n: int) -> float | None:
        return self.js["indicators"][n]["percent"]


def ranked(progress: ClusterProgress, js: dict) -> list[Ranked]:
    return [Ranked(d, dj) for d, dj in zip(progress.districts, js["districts"], strict=True)]


def percent_columns(specs: Sequence[IndicatorSpec], width: float | None = None) -> list[Column[Ranked]]:
    """One ``<indicator> (%)`` column per indicator."""
    return [Column(f"{s.label} (%)", lambda r, n=n: r.percent(n), width, FMT_PERCENT) for n, s in enumerate(specs)]


def reporting_word(d: DistrictProgress) -> str:
    return reporting_label(d.reporting)


# ---------------------------------------------------------------------------------------------------
# The weekly / data workbook


def write_workbook(data: ReportData, path: Path, *, title: str, weekly: bool = False,
                   extra: Sequence[tuple[str, Callable[[Worksheet, ReportData], None]]] = ()) -> Path:
    """The five-sheet workbook of docs/outputs.md §3 (also the data workbook of the review pack, whose
    ``extra`` sheets, (name, writer), come right after the first one). The weekly one (``weekly``) shows
    the Trong tuần block on its summary."""
    wb = Workbook()
    wb.remove(wb.active)
    progress = data.progress
    js = progress.to_json()
    summary(wb.create_sheet(SHEETS[0]), data, js, title, weekly=weekly)
    for name, write in extra:
        write(wb.create_sheet(name), data)
    detail(wb.create_sheet(SHEETS[1]), progress, js)
    ranking(wb.create_sheet(SHEETS[2]), progress, js)
    reporting(wb.create_sheet(SHEETS[3]), data)
    lineage(wb.create_sheet(SHEETS[4]), data)
    wb.active = 0
    wb.properties.title = clean_text(title)
    wb.properties.creator = "Cluster tracker"
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    return path


def summary(ws: Worksheet, data: ReportData, js: dict, title: str, *, weekly: bool = False) -> None:
    """Page 1: headline, % table coloured by status, the status words, cluster totals, (weekly: the Trong
    tuần block), the amendments after close when there are, legend, rules. Then one page per native
    chart, then the week-by-week table the line chart draws from."""
    progress = data.progress
    last_col = 5 + len(progress.indicators)  # Hạng, Đơn vị, one column per indicator, Điểm, Báo cáo, Thay đổi hạng
    row = _summary_heading(ws, data, title, last_col)
    percents, words = _progress_tables(ws, row, progress, js)
    totals = write_table(ws, words.after(), _total_columns(), zip(progress.indicators, js["totals"], strict=True),
                         STYLE, title="Toàn Cụm")
    row = _week_highlights(ws, totals.after(), progress, last_col) if weekly else totals.after(0)
    if data.amendments:
        row = _amendments(ws, row + 1, data, last_col)
    row = _legend(ws, row + 1)
    row = _note(ws, row + 1, rules_paragraph(progress.rules), last_col, 96)
    chart_width = sum(set_widths(ws, percents).values()) * 0.2  # cm: about as wide as the tables above
    row = _chart_page(ws, _percent_chart(ws, percents, len(progress.indicators)), row + 1, chart_width)
    put(ws, row, 1, "Diễn biến toàn Cụm theo tuần (% so với tổng chỉ tiêu đăng ký)", font=BOLD)
    if data.history:
        _history(ws, row + 1, data.history, progress.indicators, chart_width)
    print_setup(ws)


def _summary_heading(ws: Worksheet, data: ReportData, title: str, last_col: int) -> int:
    """Title, date line and headline; returns the row after them and an empty one."""
    progress = data.progress
    put(ws, 1, 1, title, font=Font(bold=True, size=16))
    generated = f" · Lập lúc {data.generated_at:%d/%m/%Y %H:%M}" if data.generated_at else ""
    put(ws, 2, 1, f"Số liệu đến ngày {format_date(progress.as_of)} · {week_period(progress.as_of)}{generated}",
        font=Font(italic=True, color="FF455A64"))
    row = 3
    for line in closed_lines(data.closed):  # a closed period's figures (docs/closing.md §2)
        row = _note(ws, row, line, last_col, 16.0 * (1 + len(line) // 150), bold=line.startswith("Số liệu chốt"))
    return _note(ws, row, headline(progress), last_col, 34, bold=True) + 1


def _progress_tables(ws: Worksheet, row: int, progress: ClusterProgress, js: dict) -> tuple[Block, Block]:
    """Table 1: % of target, district × indicator. Table 2, right under it, the same grid in words; the
    colours of table 1 come from table 2 by conditional formatting (so they follow any edit)."""
    specs = progress.indicators
    rows = ranked(progress, js)
    rank = Column("Hạng", lambda r: r.js["rank"], 12, look=CENTERED)
    name = Column("Đơn vị", lambda r: r.district.name, 26)
    percents = write_table(ws, row, [
        rank, name, *percent_columns(specs, 15),
        Column("Điểm", lambda r: r.js["score"], 10, FMT_SCORE),
        Column("Báo cáo tuần này", lambda r: reporting_word(r.district), 15, look=CENTERED),
        Column("Thay đổi hạng", lambda r: format_rank_change(r.district.rank_change), 11, look=CENTERED),
    ], rows, STYLE, title="Tỷ lệ thực hiện so với chỉ tiêu đăng ký (%)")
    words = write_table(ws, percents.after(), [
        replace(rank, width=None), replace(name, width=None),
        *[Column(s.label, lambda r, n=n: STATUS_VI[r.js["indicators"][n]["status"]], look=CENTERED)
          for n, s in enumerate(specs)],
    ], rows, STYLE, title="Trạng thái")
    first, last = 2, 1 + len(specs)  # the indicator columns, in both tables
    colour_rules(ws, percents.cells(first, last), words.top(first), STATUS_WORDS)
    colour_rules(ws, words.cells(first, last), words.top(first), STATUS_WORDS)
    colour_rules(ws, percents.cells("Báo cáo tuần này"), percents.top("Báo cáo tuần này"), REPORTING_WORDS)
    ws.freeze_panes = percents.top(first)
    return percents, words


def _total_columns() -> list[Column[tuple[IndicatorSpec, dict]]]:
    """Table 3: cluster totals (column A keeps the indicator key, for people who filter or link)."""
    return [
        Column("Mã", lambda t: t[0].key, look=Look(font=Font(color="FF78909C"), border=BOX)),
        Column("Chỉ tiêu", lambda t: t[0].label, look=TOTAL),
        Column("Đơn vị tính", lambda t: t[0].unit, look=TOTAL),
        Column("Thực hiện", lambda t: t[1]["actual"], fmt=lambda t: value_format(t[0]), look=TOTAL),
        Column("Chỉ tiêu đăng ký", lambda t: t[1]["target"], fmt=lambda t: value_format(t[0]), look=TOTAL),
        Column("Tỷ lệ (%)", lambda t: t[1]["percent"], fmt=FMT_PERCENT, look=replace(TOTAL, font=BOLD)),
        Column("Thay đổi trong tuần", lambda t: t[1]["week_change"], fmt=lambda t: change_format(t[0]), look=TOTAL),
        Column("Cùng kỳ năm trước", lambda t: t[1]["last_year_actual"], fmt=lambda t: value_format(t[0]),
               look=TOTAL),
    ]


def _week_highlights(ws: Worksheet, row: int, progress: ClusterProgress, last_col: int) -> int:
    """The Trong tuần block (the e-mail's first highlights): a heading, then each list's title and lines."""
    row = _note(ws, row, week.TITLE, last_col, bold=True)
    for block in week.blocks(week.week_highlights(progress)):
        row = _note(ws, row, block["title"], last_col, bold=True)
        for line in block["lines"] or [block["empty"]]:
            row = _note(ws, row, f"• {line}" if block["lines"] else line, last_col)
    return row


def _amendments(ws: Worksheet, row: int, data: ReportData, last_col: int) -> int:
    """Figures of a closed period that changed after the close, and what the head may do about them."""
    row = _note(ws, row, AMENDMENTS_TITLE, last_col, bold=True)
    kinds = {s.key: s.kind for s in data.progress.indicators}
    wrapped = Look(align=WRAP, border=BOX)
    block = write_table(ws, row, [  # under the columns above: the unit's name falls in the wide Đơn vị column
        Column("Kỳ", lambda a: a.period, look=CENTERED),
        Column("Đơn vị", lambda a: a.district_name, look=wrapped),
        Column("Chỉ tiêu", lambda a: a.indicator_label, look=wrapped),
        Column("Chốt đến ngày", lambda a: a.closed_as_of, fmt=FMT_DATE),
        Column("Số liệu đã chốt", lambda a: a.closed_value,
               fmt=lambda a: FMT_COUNT if kinds.get(a.indicator) == "count" else FMT_AMOUNT),
        Column("Số liệu mới", lambda a: a.new_value,
               fmt=lambda a: FMT_COUNT if kinds.get(a.indicator) == "count" else FMT_AMOUNT),
    ], data.amendments, STYLE)
    return _note(ws, block.after(0), reopen_hint(data.amendments), last_col, 34)


def _legend(ws: Worksheet, row: int) -> int:
    """The status words in their colours; returns the row below."""
    put(ws, row, 1, "Chú giải:", font=BOLD)
    for n, status in enumerate(STATUSES):
        put(ws, row, 2 + n, STATUS_VI[status], align=CENTER, border=True,
            fill=PatternFill("solid", fgColor=palette.argb(palette.FILL[status])),
            font=Font(color=palette.argb(palette.INK[status])))
    return row + 1


def _percent_chart(ws: Worksheet, percents: Block, n_ind: int) -> BarChart:
    """The % table as horizontal bars, one colour per indicator."""
    bar = BarChart()
    bar.type = "bar"
    bar.grouping = "clustered"
    bar.title = "Tỷ lệ thực hiện so với chỉ tiêu (%)"
    bar.y_axis.numFmt = '0"%"'
    bar.add_data(Reference(ws, min_col=percents.column(2), max_col=percents.column(1 + n_ind),
                           min_row=percents.header, max_row=percents.last), titles_from_data=True)
    bar.set_categories(Reference(ws, min_col=percents.column("Đơn vị"), min_row=percents.first,
                                 max_row=percents.last))
    bar.x_axis.scaling.orientation = "maxMin"  # first-ranked district at the top
    bar.x_axis.delete = False
    bar.y_axis.delete = False
    bar.legend.position = "b"
    for n, series in enumerate(bar.series):
        series.graphicalProperties.solidFill = palette.SERIES[n % len(palette.SERIES)].lstrip("#")
    return bar


def _history(ws: Worksheet, row: int, history: Sequence[ClusterProgress], specs: Sequence[IndicatorSpec],
             chart_width: float) -> None:
    """The cluster's % week by week: a line chart at ``row``, the table it draws from under it."""
    table = write_table(ws, row + _chart_rows(13) + 1, [
        Column("Tuần", lambda p: week_period(p.as_of)),
        Column("Số liệu đến ngày", lambda p: p.as_of, fmt=FMT_DATE),
        *[Column(s.label, lambda p, k=s.key: _total_percent(p, k), fmt=FMT_PERCENT) for s in specs],
    ], history, STYLE)
    line = LineChart()
    line.title = "Tiến độ toàn Cụm theo tuần (%)"
    line.y_axis.numFmt = '0"%"'
    line.x_axis.number_format = "DD/MM"
    line.x_axis.delete = False
    line.y_axis.delete = False
    line.legend.position = "b"
    line.add_data(Reference(ws, min_col=table.column(2), max_col=table.column(1 + len(specs)),
                            min_row=table.header, max_row=table.last), titles_from_data=True)
    line.set_categories(Reference(ws, min_col=table.column(1), min_row=table.first, max_row=table.last))
    for n, series in enumerate(line.series):
        series.graphicalProperties.line.solidFill = palette.SERIES[n % len(palette.SERIES)].lstrip("#")
        series.graphicalProperties.line.width = 28000
        series.smooth = False
    line.width, line.height = chart_width, 13
    ws.add_chart(line, f"A{row}")


def _total_percent(progress: ClusterProgress, key: str) -> float | None:
    t = next((t for t in progress.totals if t.key == key), None)
    return None if t is None or t.percent is None else round(t.percent, 2)


def values_only() -> DataLabelList:
    """Data labels that show the value and nothing else. Every flag is written out: LibreOffice reads a
    missing one as "show", so ``showVal`` alone labelled each bar "LĐLĐ quận Hoàn Kiếm; Điểm: 0,8385",
    running into the next bar."""
    return DataLabelList(showVal=True, showCatName=False, showSerName=False, showLegendKey=False,
                         showPercent=False, showBubbleSize=False)


def _chart_rows(height_cm: float) -> int:
    """Rows (of the default 15 pt) a chart of this height covers."""
    return int(height_cm / 0.53) + 1


def _chart_page(ws: Worksheet, chart, row: int, width_cm: float, height_cm: float = 13) -> int:
    """Put ``chart`` at ``row``; what follows it starts a new printed page. Returns that first row."""
    chart.width, chart.height = width_cm, height_cm
    ws.add_chart(chart, f"A{row}")
    after = row + _chart_rows(height_cm) + 1
    ws.row_breaks.append(Break(id=after - 1))
    return after


@dataclass(frozen=True)
class _Line:
    """One row of the detail sheet: a district's indicator."""

    rank: Ranked
    spec: IndicatorSpec
    ind: IndicatorProgress
    js: dict


def detail(ws: Worksheet, progress: ClusterProgress, js: dict) -> None:
    specs = {s.key: s for s in progress.indicators}
    lines = [_Line(r, specs[ind.key], ind, ij) for r in ranked(progress, js)
             for ind, ij in zip(r.district.indicators, r.js["indicators"], strict=True)]

    def amount(line: _Line) -> str:
        return value_format(line.spec)

    table = write_table(ws, 1, [
        Column("Hạng", lambda line: line.rank.js["rank"], 7, look=CENTERED),
        Column("Mã đơn vị", lambda line: line.rank.district.code, 9),
        Column("Đơn vị", lambda line: line.rank.district.name, 26),
        Column("Mã chỉ tiêu", lambda line: line.ind.key, 13),
        Column("Chỉ tiêu", lambda line: line.spec.label, 30),
        Column("Đơn vị tính", lambda line: line.spec.unit, 11),
        Column("Thực hiện", lambda line: line.js["actual"], 12, amount),
        Column("Chỉ tiêu đăng ký", lambda line: line.js["target"], 12, amount),
        Column("Tỷ lệ (%)", lambda line: line.js["percent"], 10, FMT_PERCENT, rule=STATUS_COLOURS),
        Column("Cần đạt đến nay", lambda line: line.js["expected"], 12, FMT_AMOUNT),
        Column("Dự báo (theo nhịp hiện tại)", lambda line: line.js["projected"], 14, FMT_AMOUNT),
        Column("Trạng thái", lambda line: STATUS_VI[line.js["status"]], 20, look=CENTERED, rule=STATUS_COLOURS),
        Column("Ngày hoàn thành", lambda line: line.ind.achieved_on, 13, FMT_DATE),
        Column("Số liệu đến ngày", lambda line: line.ind.as_of, 13, FMT_DATE),
        Column("Thay đổi trong tuần", lambda line: line.js["week_change"], 12, lambda line: change_format(line.spec)),
        Column("Cùng kỳ năm trước", lambda line: line.js["last_year_actual"], 12, amount),
    ], lines, STYLE)
    ws.freeze_panes = table.top("Mã chỉ tiêu")
    ws.auto_filter.ref = table.ref()
    set_widths(ws, table)
    print_setup(ws, header_rows(table))


def ranking(ws: Worksheet, progress: ClusterProgress, js: dict) -> None:
    specs = progress.indicators
    table = write_table(ws, 1, [
        Column("Hạng", lambda r: r.js["rank"], 7, look=replace(CENTERED, font=BOLD)),
        Column("Mã đơn vị", lambda r: r.district.code, 10),
        Column("Đơn vị", lambda r: r.district.name, 28),
        Column("Điểm", lambda r: r.js["score"], 10, FMT_SCORE, look=STRONG),
        *percent_columns(specs, 15),
        Column("Số chỉ tiêu đã hoàn thành", lambda r: sum(1 for i in r.district.indicators if i.status == "achieved"),
               14, FMT_COUNT),
    ], ranked(progress, js), STYLE)
    ws.freeze_panes = table.top("Điểm")
    set_widths(ws, table)
    if table.rows:
        chart = BarChart()
        chart.type = "bar"
        chart.title = "Điểm thi đua"
        chart.add_data(Reference(ws, min_col=table.column("Điểm"), min_row=table.header, max_row=table.last),
                       titles_from_data=True)
        chart.set_categories(Reference(ws, min_col=table.column("Đơn vị"), min_row=table.first, max_row=table.last))
        chart.x_axis.scaling.orientation = "maxMin"
        chart.x_axis.delete = False
        chart.y_axis.delete = False
        chart.y_axis.numFmt = "0.00"
        chart.legend = None
        chart.dataLabels = values_only()
        chart.series[0].graphicalProperties.solidFill = palette.HEADER_FILL.lstrip("#")
        chart.width, chart.height = 20, 11
        ws.add_chart(chart, f"A{table.after(2)}")
    print_setup(ws, header_rows(table))


def reporting(ws: Worksheet, data: ReportData) -> None:
    """Who reported this week and when, every week of the year so far, and the data-quality notes."""
    progress = data.progress
    put(ws, 1, 1, _reporting_heading(progress), font=BOLD)
    week = _this_week(ws, data)
    weeks = _week_by_week(ws, week.after(), data)
    if progress.notes:
        write_table(ws, weeks.after(), [
            Column("Mã đơn vị", lambda n: n.district),
            Column("Loại", lambda n: n.kind),
            Column("Ngày số liệu", lambda n: n.as_of, fmt=FMT_DATE),
            Column("Chỉ tiêu", lambda n: n.indicator),
            Column("Ô", lambda n: n.cell),
            Column("Nội dung", lambda n: n.message_vi),
        ], progress.notes, STYLE, title="Lưu ý về số liệu")
    ws.freeze_panes = week.top(2)
    set_widths(ws, week, weeks)
    print_setup(ws, header_rows(week))


def _reporting_heading(progress: ClusterProgress) -> str:
    if progress.week_start and progress.week_deadline:
        return (f"Tình hình nộp báo cáo tuần {week_period(progress.as_of)} (từ {format_date(progress.week_start)} "
                f"đến {format_date(progress.as_of)}; hạn nộp {progress.week_deadline:%H:%M} "
                f"{format_date(progress.week_deadline)})")
    return f"Tình hình nộp báo cáo tuần {week_period(progress.as_of)} đến {format_date(progress.as_of)}"


def _this_week(ws: Worksheet, data: ReportData) -> Block:
    """Each district this week: its reporting word, when its first sheet came, its sheets so far."""
    by_code = {s.district: s for s in data.submissions}
    tz = ZoneInfo(data.progress.rules.timezone)

    def first_received(d: DistrictProgress) -> datetime | None:
        first = d.first_received_this_week
        return first.astimezone(tz).replace(tzinfo=None) if first else None

    def sheets(attribute: str):
        return lambda d: getattr(by_code[d.code], attribute) if d.code in by_code else None

    return write_table(ws, 2, [
        Column("Mã đơn vị", lambda d: d.code, 11),
        Column("Đơn vị", lambda d: d.name, 26),
        Column("Tuần này", reporting_word, 15, look=CENTERED, rule=REPORTING_COLOURS),
        Column("Nhận lúc", first_received, 17, FMT_DATETIME),
        Column("Số liệu gần nhất đến ngày", lambda d: d.last_as_of, 15, FMT_DATE),
        Column("Báo cáo được chấp nhận (từ đầu năm)", sheets("accepted"), 16, FMT_COUNT),
        Column("Báo cáo bị từ chối", sheets("rejected"), 12, FMT_COUNT),
        Column("Lần nộp gần nhất", sheets("last_received_at"), 17, FMT_DATETIME),
        Column("Tệp gần nhất", sheets("last_file_name"), 40),
    ], data.progress.districts, replace(STYLE, header_height=48))


def _week_by_week(ws: Worksheet, row: int, data: ReportData) -> Block:
    """Week by week, latest first: who reported on time, late, or not at all."""
    districts = data.progress.districts
    weeks = write_table(ws, row, [
        Column("Tuần", lambda p: week_period(p.as_of)),
        Column("Từ ngày", lambda p: p.week_start, fmt=FMT_DATE),
        Column("Đến ngày", lambda p: p.as_of, fmt=FMT_DATE),
        *[Column(district_short_name(d.name), lambda p, c=d.code: reporting_word(p.district(c)), 15, look=CENTERED)
          for d in districts],
    ], reversed(data.reporting_weeks()), STYLE, title="Theo từng tuần")
    if weeks.rows:
        colour_rules(ws, weeks.cells(3, -1), weeks.top(3), REPORTING_WORDS)
    return weeks


def lineage(ws: Worksheet, data: ReportData) -> None:
    """Every figure with where it came from: file, sheet, cell, sender, version."""
    specs = {s.key: s for s in data.progress.indicators}

    def amount(r) -> str:
        return value_format(specs[r.indicator]) if r.indicator in specs else FMT_AMOUNT

    table = write_table(ws, 1, [
        Column("Mã đơn vị", lambda r: r.district, 10),
        Column("Đơn vị", lambda r: r.district_name, 24),
        Column("Mã chỉ tiêu", lambda r: r.indicator, 13),
        Column("Chỉ tiêu", lambda r: r.indicator_label, 28),
        Column("Số liệu đến ngày", lambda r: r.as_of, 12, FMT_DATE),
        Column("Luỹ kế từ đầu năm", lambda r: r.value, 13, amount),
        Column("Thực hiện trong kỳ", lambda r: r.period_value, 12, amount),
        Column("Tệp", lambda r: r.file_name, 34),
        Column("Trang tính", lambda r: r.sheet, 11),
        Column("Ô", lambda r: r.cell, 7),
        Column("Thời điểm nhận", lambda r: _naive(r.received_at), 17, FMT_DATETIME),
        Column("Nguồn", lambda r: r.source, 9),
        Column("Người gửi", lambda r: r.sender, 22),
        Column("Mã báo cáo", lambda r: r.submission_id, 10),
        Column("Phiên bản", lambda r: "Hiện hành" if r.current else "Đã thay thế", 12),
        Column("Mã tệp (SHA-256)", lambda r: r.file_hash, 18),
        Column("Ghi chú", lambda r: r.note, 40),
    ], data.lineage, PLAIN)
    ws.freeze_panes = table.top(2)
    ws.auto_filter.ref = table.ref()
    set_widths(ws, table)
    print_setup(ws, header_rows(table))


def _naive(value: datetime | date | None):
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.replace(tzinfo=None)
    return value
