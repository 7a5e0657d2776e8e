"""The report workbooks (openpyxl): sheets, native charts, conditional formatting, print setup.

Numbers are stored as numbers, rounded exactly as ``tracker status --format json`` rounds them, so
the workbook and the JSON always agree. Number formats are written with Excel's invariant symbols
(``#,##0``, ``#,##0.0#``, ``0.0"%"``): Excel and LibreOffice show them with the reader's own
separators, so a Vietnamese Windows shows ``1.234,5`` and an English one ``1,234.5``. The ``%`` is a
quoted literal, so 47.65 shows as ``47,7%`` without being multiplied by 100.

Every string that came from an upload (file names, sheet names, cells, notes, senders) goes through
:func:`put_text`: illegal characters stripped, at most 32,767 characters, forced to a text cell, so
``=HYPERLINK(...)`` typed by a district stays text and never becomes a formula.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from pathlib import Path

from openpyxl import Workbook
from openpyxl.chart import BarChart, LineChart, Reference
from openpyxl.chart.label import DataLabelList
from openpyxl.formatting.rule import FormulaRule
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from tracker.progress import STATUSES, ClusterProgress, IndicatorSpec
from tracker.reporting import palette
from tracker.reporting.data import ReportData
from tracker.reporting.wording import STATUS_VI, district_short_name, headline, rules_paragraph, week_period
from tracker.safe_cells import clean_text, write_text
from tracker.text import format_date

FMT_COUNT = "#,##0"
FMT_AMOUNT = "#,##0.0#"
FMT_PERCENT = '0.0"%"'
FMT_SCORE = "0.0000"
FMT_DATE = "DD/MM/YYYY"
FMT_DATETIME = "DD/MM/YYYY HH:MM"

SHEETS = ("Tổng hợp", "Chi tiết", "Xếp hạng", "Tình hình nộp báo cáo", "Dữ liệu")

_BOLD = Font(bold=True)
_HEADER_FONT = Font(bold=True, color=palette.argb(palette.HEADER_INK))
_HEADER_FILL = PatternFill("solid", fgColor=palette.argb(palette.HEADER_FILL))
_TOTAL_FILL = PatternFill("solid", fgColor=palette.argb(palette.TOTAL_FILL))
_THIN = Side(style="thin", color="FFB0BEC5")
_BOX = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
_WRAP = Alignment(wrap_text=True, vertical="top")
_CENTER = Alignment(horizontal="center", vertical="center", wrap_text=True)


# ---------------------------------------------------------------------------------------------------
# Safe cells


def put_text(ws: Worksheet, row: int, col: int, value: object | None):
    """Write text that came from outside (an upload) so it can only ever be text (:mod:`tracker.safe_cells`)."""
    return write_text(ws.cell(row=row, column=col), value)


def put(ws: Worksheet, row: int, col: int, value, fmt: str | None = None, *, font: Font | None = None,
        fill: PatternFill | None = None, align: Alignment | None = None, border: bool = False):
    """Write a value we produced ourselves (numbers, dates, our own labels).

    Our own strings are still forced to text: a district name in the config could start with ``=``.
    """
    is_text = isinstance(value, str)
    cell = put_text(ws, row, col, value) if is_text else ws.cell(row=row, column=col, value=value)
    if fmt:
        cell.number_format = fmt
    if font:
        cell.font = font
    if fill:
        cell.fill = fill
    if align:
        cell.alignment = align
    if border:
        cell.border = _BOX
    return cell


def value_format(spec: IndicatorSpec) -> str:
    return FMT_COUNT if spec.kind == "count" else FMT_AMOUNT


def header_cells(ws: Worksheet, row: int, titles: Sequence[str], start_col: int = 1, height: float = 36) -> None:
    for n, title in enumerate(titles):
        put(ws, row, start_col + n, title, font=_HEADER_FONT, fill=_HEADER_FILL, align=_CENTER, border=True)
    ws.row_dimensions[row].height = height


def set_widths(ws: Worksheet, widths: dict[int, float]) -> None:
    for col, width in widths.items():
        ws.column_dimensions[get_column_letter(col)].width = width


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


def _status_rules(ws: Worksheet, target_range: str, status_cell: str) -> None:
    """Colour ``target_range`` by the status word in ``status_cell`` (relative to the range's top-left cell)."""
    for status in STATUSES:
        fill = PatternFill("solid", fgColor=palette.argb(palette.FILL[status]),
                           bgColor=palette.argb(palette.FILL[status]))
        font = Font(color=palette.argb(palette.INK[status]))
        word = STATUS_VI[status].replace('"', '""')
        ws.conditional_formatting.add(
            target_range, FormulaRule(formula=[f'{status_cell}="{word}"'], fill=fill, font=font, stopIfTrue=True))


def _text_rules(ws: Worksheet, target_range: str, top_left: str, colours: dict[str, str]) -> None:
    for word, status in colours.items():
        fill = PatternFill("solid", fgColor=palette.argb(palette.FILL[status]),
                           bgColor=palette.argb(palette.FILL[status]))
        ws.conditional_formatting.add(
            target_range, FormulaRule(formula=[f'{top_left}="{word}"'], fill=fill,
                                      font=Font(color=palette.argb(palette.INK[status])), stopIfTrue=True))


def _note(ws: Worksheet, row: int, text: str, last_col: int, height: float | None = None, *,
          bold: bool = False) -> int:
    ws.merge_cells(start_row=row, start_column=1, end_row=row, end_column=last_col)
    put(ws, row, 1, text, align=_WRAP, font=_BOLD if bold else None)
    if height:
        ws.row_dimensions[row].height = height
    return row + 1


# ---------------------------------------------------------------------------------------------------
# The weekly / data workbook


def write_workbook(data: ReportData, path: Path, *, title: str) -> Path:
    """The five-sheet workbook of docs/outputs.md §3 (also the data workbook of the review pack)."""
    wb = Workbook()
    wb.remove(wb.active)
    progress = data.progress
    js = progress.to_json()
    summary(wb.create_sheet(SHEETS[0]), data, js, title)
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


def summary(ws: Worksheet, data: ReportData, js: dict, title: str) -> None:
    """Page 1: headline, % table coloured by status, the status words, cluster totals, legend, rules.
    Then one page per native chart, then the week-by-week table the line chart draws from."""
    progress = data.progress
    specs = progress.indicators
    n_ind = len(specs)
    last_col = 4 + n_ind  # Hạng, Đơn vị, one column per indicator, Điểm, Báo cáo tuần này
    put(ws, 1, 1, title, font=Font(bold=True, size=16))
    generated = f" · Lập lúc {data.generated_at:%d/%m/%Y %H:%M}" if data.generated_at else ""
    put(ws, 2, 1, f"Số liệu đến ngày {format_date(progress.as_of)} · {week_period(progress.as_of)}{generated}",
        font=Font(italic=True, color="FF455A64"))
    row = _note(ws, 3, headline(progress), last_col, 34, bold=True) + 1

    # Table 1: % of target, district × indicator. Table 2, right under it, the same grid in words; the
    # colours of table 1 come from table 2 by conditional formatting (so they follow any edit).
    n_d = len(progress.districts)
    put(ws, row, 1, "Tỷ lệ thực hiện so với chỉ tiêu đăng ký (%)", font=_BOLD)
    row += 1
    header_row = row
    header_cells(ws, row, ["Hạng", "Đơn vị", *[f"{s.label} (%)" for s in specs], "Điểm", "Báo cáo tuần này"])
    status_header = header_row + n_d + 3
    offset = status_header - header_row
    for d, dj in zip(progress.districts, js["districts"], strict=True):
        row += 1
        put(ws, row, 1, dj["rank"], align=_CENTER, border=True)
        put(ws, row, 2, d.name, border=True)
        put(ws, row + offset, 1, dj["rank"], align=_CENTER, border=True)
        put(ws, row + offset, 2, d.name, border=True)
        for n, ij in enumerate(dj["indicators"]):
            put(ws, row, 3 + n, ij["percent"], FMT_PERCENT, border=True)
            put(ws, row + offset, 3 + n, STATUS_VI[ij["status"]], border=True, align=_CENTER)
        put(ws, row, 3 + n_ind, dj["score"], FMT_SCORE, border=True)
        put(ws, row, 4 + n_ind, _week_word(d.reported_this_week, d.late), border=True, align=_CENTER)
    districts_end = row
    put(ws, status_header - 1, 1, "Trạng thái", font=_BOLD)
    header_cells(ws, status_header, ["Hạng", "Đơn vị", *[s.label for s in specs]])
    first_status = f"{get_column_letter(3)}{status_header + 1}"
    body = f"C{header_row + 1}:{get_column_letter(2 + n_ind)}{districts_end}"
    words = f"C{status_header + 1}:{get_column_letter(2 + n_ind)}{status_header + n_d}"
    _status_rules(ws, body, first_status)
    _status_rules(ws, words, first_status)
    col = get_column_letter(4 + n_ind)
    _text_rules(ws, f"{col}{header_row + 1}:{col}{districts_end}", f"{col}{header_row + 1}", _WEEK_COLOURS)
    ws.freeze_panes = ws.cell(row=header_row + 1, column=3)
    row = status_header + n_d

    # Table 3: cluster totals (column A keeps the indicator key, for people who filter or link).
    row += 2
    put(ws, row, 1, "Toàn Cụm", font=_BOLD)
    row += 1
    header_cells(ws, row, ["Mã", "Chỉ tiêu", "Đơn vị tính", "Thực hiện", "Chỉ tiêu đăng ký", "Tỷ lệ (%)"])
    for spec, tj in zip(specs, js["totals"], strict=True):
        row += 1
        put(ws, row, 1, spec.key, font=Font(color="FF78909C"), border=True)
        put(ws, row, 2, spec.label, border=True, fill=_TOTAL_FILL)
        put(ws, row, 3, spec.unit, border=True, fill=_TOTAL_FILL)
        put(ws, row, 4, tj["actual"], value_format(spec), border=True, fill=_TOTAL_FILL)
        put(ws, row, 5, tj["target"], value_format(spec), border=True, fill=_TOTAL_FILL)
        put(ws, row, 6, tj["percent"], FMT_PERCENT, border=True, fill=_TOTAL_FILL, font=_BOLD)

    # Legend and the rules paragraph.
    row += 2
    put(ws, row, 1, "Chú giải:", font=_BOLD)
    for n, status in enumerate(STATUSES):
        put(ws, row, 2 + n, STATUS_VI[status], align=_CENTER, border=True,
            fill=PatternFill("solid", fgColor=palette.argb(palette.FILL[status])),
            font=Font(color=palette.argb(palette.INK[status])))
    row += 2
    row = _note(ws, row, rules_paragraph(progress.rules), last_col, 96)

    widths = {1: 12, 2: 26, **{3 + n: 15 for n in range(n_ind)}, 3 + n_ind: 10, 4 + n_ind: 15}
    set_widths(ws, widths)
    chart_width = sum(widths.values()) * 0.2  # cm: about as wide as the tables above

    # Native charts, each on its own printed page.
    bar = BarChart()
    bar.type = "bar"
    bar.grouping = "clustered"
    bar.title = "Tỷ lệ thực hiện so với chỉ tiêu (%)"
    bar.y_axis.numFmt = '0"%"'
    bar.add_data(Reference(ws, min_col=3, max_col=2 + n_ind, min_row=header_row, max_row=districts_end),
                 titles_from_data=True)
    bar.set_categories(Reference(ws, min_col=2, min_row=header_row + 1, max_row=districts_end))
    bar.x_axis.scaling.orientation = "maxMin"  # first-ranked district at the top
    bar.x_axis.delete = False
    bar.y_axis.delete = False
    bar.legend.position = "b"
    for n, series in enumerate(bar.series):
        series.graphicalProperties.solidFill = palette.SERIES[n % len(palette.SERIES)].lstrip("#")
    row = _chart_page(ws, bar, row + 1, chart_width)

    put(ws, row, 1, "Diễn biến toàn Cụm theo tuần (% so với tổng chỉ tiêu đăng ký)", font=_BOLD)
    row += 1
    if data.history:
        line = LineChart()
        line.title = "Tiến độ toàn Cụm theo tuần (%)"
        line.y_axis.numFmt = '0"%"'
        line.x_axis.number_format = "DD/MM"
        line.x_axis.delete = False
        line.y_axis.delete = False
        line.legend.position = "b"
        rows_needed = _chart_rows(13)
        hist_header = row + rows_needed + 1
        line.add_data(Reference(ws, min_col=3, max_col=2 + n_ind, min_row=hist_header,
                                max_row=hist_header + len(data.history)), titles_from_data=True)
        line.set_categories(Reference(ws, min_col=2, min_row=hist_header + 1, max_row=hist_header + len(data.history)))
        for n, series in enumerate(line.series):
            series.graphicalProperties.line.solidFill = palette.SERIES[n % len(palette.SERIES)].lstrip("#")
            series.graphicalProperties.line.width = 28000
            series.smooth = False
        line.width, line.height = chart_width, 13
        ws.add_chart(line, f"A{row}")
        row = hist_header
        header_cells(ws, row, ["Tuần", "Số liệu đến ngày", *[s.label for s in specs]])
        for p in data.history:
            row += 1
            totals = {t.key: t for t in p.totals}
            put(ws, row, 1, week_period(p.as_of), border=True)
            put(ws, row, 2, p.as_of, FMT_DATE, border=True)
            for n, spec in enumerate(specs):
                t = totals.get(spec.key)
                put(ws, row, 3 + n, None if t is None or t.percent is None else round(t.percent, 2), FMT_PERCENT,
                    border=True)
    print_setup(ws)


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
    from openpyxl.worksheet.pagebreak import Break

    chart.width, chart.height = width_cm, height_cm
    ws.add_chart(chart, f"A{row}")
    after = row + _chart_rows(height_cm) + 1
    ws.row_breaks.append(Break(id=after - 1))
    return after


def detail(ws: Worksheet, progress: ClusterProgress, js: dict) -> None:
    titles = ["Hạng", "Mã đơn vị", "Đơn vị", "Mã chỉ tiêu", "Chỉ tiêu", "Đơn vị tính", "Thực hiện",
              "Chỉ tiêu đăng ký", "Tỷ lệ (%)", "Cần đạt đến nay", "Dự báo (theo nhịp hiện tại)", "Trạng thái",
              "Ngày hoàn thành", "Số liệu đến ngày"]
    header_cells(ws, 1, titles)
    specs = {s.key: s for s in progress.indicators}
    row = 1
    for d, dj in zip(progress.districts, js["districts"], strict=True):
        for ind, ij in zip(d.indicators, dj["indicators"], strict=True):
            spec = specs[ind.key]
            row += 1
            fmt = value_format(spec)
            put(ws, row, 1, dj["rank"], align=_CENTER, border=True)
            put(ws, row, 2, d.code, border=True)
            put(ws, row, 3, d.name, border=True)
            put(ws, row, 4, ind.key, border=True)
            put(ws, row, 5, spec.label, border=True)
            put(ws, row, 6, spec.unit, border=True)
            put(ws, row, 7, ij["actual"], fmt, border=True)
            put(ws, row, 8, ij["target"], fmt, border=True)
            put(ws, row, 9, ij["percent"], FMT_PERCENT, border=True)
            put(ws, row, 10, ij["expected"], FMT_AMOUNT, border=True)
            put(ws, row, 11, ij["projected"], FMT_AMOUNT, border=True)
            put(ws, row, 12, STATUS_VI[ij["status"]], border=True, align=_CENTER)
            put(ws, row, 13, ind.achieved_on, FMT_DATE, border=True)
            put(ws, row, 14, ind.as_of, FMT_DATE, border=True)
    if row > 1:
        _status_rules(ws, f"I2:I{row}", "$L2")
        _status_rules(ws, f"L2:L{row}", "$L2")
    ws.freeze_panes = "D2"
    ws.auto_filter.ref = f"A1:N{max(row, 2)}"
    set_widths(ws, {1: 7, 2: 9, 3: 26, 4: 13, 5: 30, 6: 11, 7: 12, 8: 12, 9: 10, 10: 12, 11: 14, 12: 20, 13: 13,
                 14: 13})
    print_setup(ws, "1:1")


def ranking(ws: Worksheet, progress: ClusterProgress, js: dict) -> None:
    specs = progress.indicators
    titles = ["Hạng", "Mã đơn vị", "Đơn vị", "Điểm", *[f"{s.label} (%)" for s in specs],
              "Số chỉ tiêu đã hoàn thành"]
    header_cells(ws, 1, titles)
    row = 1
    for d, dj in zip(progress.districts, js["districts"], strict=True):
        row += 1
        put(ws, row, 1, dj["rank"], align=_CENTER, border=True, font=_BOLD)
        put(ws, row, 2, d.code, border=True)
        put(ws, row, 3, d.name, border=True)
        put(ws, row, 4, dj["score"], FMT_SCORE, border=True, font=_BOLD)
        for n, ij in enumerate(dj["indicators"]):
            put(ws, row, 5 + n, ij["percent"], FMT_PERCENT, border=True)
        put(ws, row, 5 + len(specs), sum(1 for i in d.indicators if i.status == "achieved"), FMT_COUNT, border=True)
    ws.freeze_panes = "D2"
    set_widths(ws, {1: 7, 2: 10, 3: 28, 4: 10, **{5 + n: 15 for n in range(len(specs))}, 5 + len(specs): 14})
    if row > 1:
        chart = BarChart()
        chart.type = "bar"
        chart.title = "Điểm thi đua"
        chart.add_data(Reference(ws, min_col=4, min_row=1, max_row=row), titles_from_data=True)
        chart.set_categories(Reference(ws, min_col=3, min_row=2, max_row=row))
        chart.x_axis.scaling.orientation = "maxMin"
        chart.x_axis.delete = False
        chart.y_axis.delete = False
        chart.y_axis.numFmt = "0.00"
        chart.legend = None
        chart.dataLabels = values_only()
        chart.series[0].graphicalProperties.solidFill = palette.HEADER_FILL.lstrip("#")
        chart.width, chart.height = 20, 11
        ws.add_chart(chart, f"A{row + 3}")
    print_setup(ws, "1:1")


def reporting(ws: Worksheet, data: ReportData) -> None:
    progress = data.progress
    by_code = {s.district: s for s in data.submissions}
    heading = f"Tình hình nộp báo cáo tuần {week_period(progress.as_of)} đến {format_date(progress.as_of)}"
    if progress.week_start and progress.week_deadline:
        heading = (f"Tình hình nộp báo cáo tuần {week_period(progress.as_of)} (từ {format_date(progress.week_start)} "
                   f"đến {format_date(progress.as_of)}; hạn nộp {progress.week_deadline:%H:%M} "
                   f"{format_date(progress.week_deadline)})")
    put(ws, 1, 1, heading, font=_BOLD)
    titles = ["Mã đơn vị", "Đơn vị", "Tuần này", "Nhận lúc", "Số liệu gần nhất đến ngày",
              "Báo cáo được chấp nhận (từ đầu năm)", "Báo cáo bị từ chối", "Lần nộp gần nhất", "Tệp gần nhất"]
    header_cells(ws, 2, titles)
    ws.row_dimensions[2].height = 48
    row = 2
    tz = _tz(progress)
    for d in progress.districts:
        row += 1
        s = by_code.get(d.code)
        put(ws, row, 1, d.code, border=True)
        put(ws, row, 2, d.name, border=True)
        put(ws, row, 3, _week_word(d.reported_this_week, d.late), border=True, align=_CENTER)
        first = d.first_received_this_week
        put(ws, row, 4, first.astimezone(tz).replace(tzinfo=None) if first else None, FMT_DATETIME, border=True)
        put(ws, row, 5, d.last_as_of, FMT_DATE, border=True)
        put(ws, row, 6, s.accepted if s else None, FMT_COUNT, border=True)
        put(ws, row, 7, s.rejected if s else None, FMT_COUNT, border=True)
        put(ws, row, 8, s.last_received_at if s else None, FMT_DATETIME, border=True)
        put_text(ws, row, 9, s.last_file_name if s else None).border = _BOX
    if row > 2:
        _text_rules(ws, f"C3:C{row}", "C3", _WEEK_COLOURS)

    # Week by week: who reported, who was late.
    row += 2
    put(ws, row, 1, "Theo từng tuần", font=_BOLD)
    row += 1
    header_cells(ws, row, ["Tuần", "Từ ngày", "Đến ngày", *[district_short_name(d.name) for d in progress.districts]])
    first_week = row + 1
    codes = [d.code for d in progress.districts]
    for p in reversed(data.reporting_weeks()):
        row += 1
        put(ws, row, 1, week_period(p.as_of), border=True)
        put(ws, row, 2, p.week_start, FMT_DATE, border=True)
        put(ws, row, 3, p.as_of, FMT_DATE, border=True)
        for n, code in enumerate(codes):
            dp = p.district(code)
            put(ws, row, 4 + n, _week_word(dp.reported_this_week, dp.late), border=True, align=_CENTER)
    if row >= first_week:
        rng = f"D{first_week}:{get_column_letter(3 + len(codes))}{row}"
        _text_rules(ws, rng, f"D{first_week}", _WEEK_COLOURS)

    # Data-quality notes of the report date (intake warnings, late reports).
    if progress.notes:
        row += 2
        put(ws, row, 1, "Lưu ý về số liệu", font=_BOLD)
        row += 1
        header_cells(ws, row, ["Mã đơn vị", "Loại", "Ngày số liệu", "Chỉ tiêu", "Ô", "Nội dung"])
        for note in progress.notes:
            row += 1
            put(ws, row, 1, note.district, border=True)
            put(ws, row, 2, note.kind, border=True)
            put(ws, row, 3, note.as_of, FMT_DATE, border=True)
            put(ws, row, 4, note.indicator, border=True)
            put_text(ws, row, 5, note.cell).border = _BOX
            put_text(ws, row, 6, note.message_vi).border = _BOX
    ws.freeze_panes = "C3"
    widths = {1: 11, 2: 26, 3: 15, 4: 17, 5: 15, 6: 16, 7: 12, 8: 17, 9: 40}
    for n in range(len(codes)):
        widths[4 + n] = max(15, widths.get(4 + n, 0))
    set_widths(ws, widths)
    print_setup(ws, "2:2")


_WEEK_COLOURS = {"Đúng hạn": "achieved", "Nộp muộn": "behind", "Chưa báo cáo": "at_risk"}


def _week_word(reported: bool, late: bool) -> str:
    if not reported:
        return "Chưa báo cáo"
    return "Nộp muộn" if late else "Đúng hạn"


def _tz(progress: ClusterProgress):
    from zoneinfo import ZoneInfo

    return ZoneInfo(progress.rules.timezone)


def lineage(ws: Worksheet, data: ReportData) -> None:
    titles = ["Mã đơn vị", "Đơn vị", "Mã chỉ tiêu", "Chỉ tiêu", "Số liệu đến ngày", "Luỹ kế từ đầu năm",
              "Thực hiện trong kỳ", "Tệp", "Trang tính", "Ô", "Thời điểm nhận", "Nguồn", "Người gửi",
              "Mã báo cáo", "Phiên bản", "Mã tệp (SHA-256)", "Ghi chú"]
    header_cells(ws, 1, titles)
    specs = {s.key: s for s in data.progress.indicators}
    row = 1
    for r in data.lineage:
        row += 1
        spec = specs.get(r.indicator)
        fmt = value_format(spec) if spec else FMT_AMOUNT
        put(ws, row, 1, r.district)
        put(ws, row, 2, r.district_name)
        put(ws, row, 3, r.indicator)
        put(ws, row, 4, r.indicator_label)
        put(ws, row, 5, r.as_of, FMT_DATE)
        put(ws, row, 6, r.value, fmt)
        put(ws, row, 7, r.period_value, fmt)
        put_text(ws, row, 8, r.file_name)
        put_text(ws, row, 9, r.sheet)
        put_text(ws, row, 10, r.cell)
        put(ws, row, 11, _naive(r.received_at), FMT_DATETIME)
        put(ws, row, 12, r.source)
        put_text(ws, row, 13, r.sender)
        put(ws, row, 14, r.submission_id)
        put(ws, row, 15, "Hiện hành" if r.current else "Đã thay thế")
        put_text(ws, row, 16, r.file_hash)
        put_text(ws, row, 17, r.note)
    ws.freeze_panes = "C2"
    ws.auto_filter.ref = f"A1:Q{max(row, 2)}"
    set_widths(ws, {1: 10, 2: 24, 3: 13, 4: 28, 5: 12, 6: 13, 7: 12, 8: 34, 9: 11, 10: 7, 11: 17, 12: 9, 13: 22,
                 14: 10, 15: 12, 16: 18, 17: 40})
    print_setup(ws, "1:1")


def _naive(value: datetime | date | None):
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.replace(tzinfo=None)
    return value
