"""The district's upload workbook (`tracker template`): what a clerk fills in each week.

Sheet ``Báo cáo`` follows docs/sheet-format.md §13: the labels ``Đơn vị`` and ``Số liệu tính đến ngày`` filled in,
the table with the indicators' code, label, unit, registered target and the district's previous
year-to-date figure shown and locked; the input cells (year to date, this period, note, and the date)
unlocked, with data validation (whole numbers ≥ 0 for counts, decimals ≥ 0 for amounts). The sheet is
protected without a password (against slips, not people). Sheet ``Hướng dẫn`` explains how to fill it
in and send it. There are no formulas: a formula saved without a result would be rejected.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from tracker.config import Settings
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
)
from tracker.sheets import Block, Column, Look, TableStyle, set_widths, write_table
from tracker.text import format_date, weekday_vi

if TYPE_CHECKING:
    from tracker.context import Context

SHEET_HELP = "Hướng dẫn"
HEADER_ROW = 8
FIRST_ROW = HEADER_ROW + 1
# The table's headers, left to right (the reader finds them by text, not by position).
HEADERS = (HEADER_CODE, HEADER_LABEL, HEADER_UNIT, HEADER_TARGET, HEADER_PREVIOUS, HEADER_YTD, HEADER_PERIOD,
           HEADER_NOTE)
COL = {name: i + 1 for i, name in enumerate(HEADERS)}
DISTRICT_CELL = "B4"
DATE_CELL = "B5"


@dataclass(frozen=True)
class Previous:
    """The district's last accepted year-to-date figure of an indicator before the template's date."""

    as_of: date
    value: float


def ytd_cell(settings: Settings, key: str) -> str:
    """Where the year-to-date figure of ``key`` goes in the template (``F9``)."""
    from tracker.intake.grid import column_letter

    index = [i.key for i in settings.indicators].index(key)
    return f"{column_letter(COL[HEADER_YTD])}{FIRST_ROW + index}"


def period_cell(settings: Settings, key: str) -> str:
    from tracker.intake.grid import column_letter

    index = [i.key for i in settings.indicators].index(key)
    return f"{column_letter(COL[HEADER_PERIOD])}{FIRST_ROW + index}"


def default_as_of(settings: Settings, today: date | None = None) -> date:
    """The reporting day of the current week (the deadline's weekday, Friday by default), within the year."""
    year = settings.cluster.year
    today = today or datetime.now(settings.tz).date()
    if today.year > year:
        return date(year, 12, 31)
    if today.year < year:
        today = date(year, 1, 1)
    weekday, _ = settings.cluster.deadline
    day = today + timedelta(days=weekday - today.isoweekday())
    return min(max(day, date(year, 1, 1)), date(year, 12, 31))


def deadline_text(settings: Settings) -> str:
    weekday, at = settings.cluster.deadline
    return f"{at.strftime('%H:%M')} {weekday_vi(weekday)}"


@dataclass(frozen=True)
class _Line:
    """One indicator's row of the table: what the template shows and what it may pre-fill."""

    key: str
    label: str
    unit: str
    count: bool  # a count (whole numbers) or an amount (decimals)
    target: float | None
    previous: float | None
    figure: float | str | None
    period: float | str | None
    note: str | None

    @property
    def fmt(self) -> str:
        return "#,##0" if self.count else "#,##0.00"


@dataclass(frozen=True)
class _Looks:
    """The template's looks: a light-blue header, shown cells grey (locked), input cells yellow (unlocked)."""

    table: TableStyle
    shown: Look
    number: Look  # an input cell for a figure
    text: Look  # the input cell for a note
    date: Look  # the as-of date cell (an input too)
    bold: Any
    hint: Any  # the italic grey lines above the table


def _looks() -> _Looks:
    from openpyxl.styles import Alignment, Border, Font, PatternFill, Protection, Side

    thin = Side(style="thin", color="808080")
    box = Border(left=thin, right=thin, top=thin, bottom=thin)
    input_fill = PatternFill("solid", fgColor="FFF2CC")
    unlocked = Protection(locked=False)
    wrap = Alignment(wrap_text=True, vertical="center")
    header = Look(font=Font(bold=True), fill=PatternFill("solid", fgColor="DDEBF7"), border=box,
                  align=Alignment(wrap_text=True, horizontal="center", vertical="center"))
    return _Looks(
        table=TableStyle(header=header, header_height=32, row_height=30),
        shown=Look(fill=PatternFill("solid", fgColor="F2F2F2"), border=box, align=wrap),
        number=Look(fill=input_fill, border=box, protection=unlocked, align=Alignment(vertical="center")),
        text=Look(fill=input_fill, border=box, protection=unlocked, align=wrap),
        date=Look(fill=input_fill, protection=unlocked, align=Alignment(horizontal="left")),
        bold=Font(bold=True),
        hint=Font(italic=True, color="595959"),
    )


def _columns(looks: _Looks) -> list[Column[_Line]]:
    """The table, left to right (docs/sheet-format.md §13): shown and locked, then the input cells."""
    def fmt(line: _Line) -> str:
        return line.fmt

    columns = [
        Column(HEADER_CODE, lambda line: line.key, 24, look=looks.shown),
        Column(HEADER_LABEL, lambda line: line.label, 36, look=looks.shown),
        Column(HEADER_UNIT, lambda line: line.unit, 12, look=looks.shown),
        Column(HEADER_TARGET, lambda line: line.target, 14, fmt, looks.shown),
        Column(HEADER_PREVIOUS, lambda line: line.previous, 14, fmt, looks.shown),
        Column(HEADER_YTD, lambda line: line.figure, 16, fmt, looks.number),
        Column(HEADER_PERIOD, lambda line: line.period, 14, fmt, looks.number),
        Column(HEADER_NOTE, lambda line: line.note, 34, look=looks.text),
    ]
    assert tuple(c.title for c in columns) == HEADERS
    return columns


def build_template(settings: Settings, district: str, as_of: date, *, targets: dict[str, float] | None = None,
                   previous: dict[str, Previous] | None = None,
                   figures: dict[str, float | str | None] | None = None,
                   periods: dict[str, float | str | None] | None = None,
                   notes: dict[str, str] | None = None) -> bytes:
    """The workbook bytes. ``figures``/``periods``/``notes`` pre-fill the input cells (the demo data
    generator fills templates the way a clerk would)."""
    from openpyxl import Workbook

    targets, previous = targets or {}, previous or {}
    figures, periods, notes = figures or {}, periods or {}, notes or {}
    name = settings.district(district).name
    wb = Workbook()
    ws = wb.active
    ws.title = SHEET_REPORT
    looks = _looks()
    _heading(ws, settings, name, as_of, max((p.as_of for p in previous.values()), default=None), looks)
    lines = [_Line(i.key, i.label, i.unit, i.kind == "count", targets.get(i.key),
                   previous[i.key].value if i.key in previous else None, figures.get(i.key), periods.get(i.key),
                   notes.get(i.key)) for i in settings.indicators]
    table = write_table(ws, HEADER_ROW, _columns(looks), lines, looks.table)
    set_widths(ws, table)
    _validate(ws, table, lines, as_of.year)  # the sheet's own year (docs/sheet-format.md §7)
    ws.freeze_panes = table.top(0)
    ws.protection.sheet = True  # no password: it guards against slips, a clerk can still unprotect it
    ws.protection.formatColumns = False
    ws.protection.formatRows = False
    ws.page_setup.orientation = "landscape"
    ws.page_setup.fitToWidth = 1
    ws.sheet_properties.pageSetUpPr.fitToPage = True

    _help_sheet(wb.create_sheet(SHEET_HELP), settings, name, as_of)
    wb.active = 0
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _heading(ws, settings: Settings, district_name: str, as_of: date, last_seen: date | None, looks: _Looks) -> None:
    """The lines above the table: title, cluster, the labels the reader looks for and their values (the
    date an input cell), how to fill it in, and the date of the previous figures shown."""
    from openpyxl.styles import Font

    ws["A1"] = "BÁO CÁO TIẾN ĐỘ THỰC HIỆN CHỈ TIÊU THI ĐUA"
    ws["A1"].font = Font(bold=True, size=14)
    ws["A2"] = settings.cluster.name
    ws["A2"].font = Font(italic=True)
    ws["A4"], ws["A5"] = LABEL_DISTRICT + ":", LABEL_AS_OF + ":"
    ws["A4"].font = ws["A5"].font = looks.bold
    ws[DISTRICT_CELL] = district_name
    ws[DISTRICT_CELL].font = looks.bold
    ws[DATE_CELL] = datetime(as_of.year, as_of.month, as_of.day)
    ws[DATE_CELL].number_format = "dd/mm/yyyy"
    looks.date.apply(ws[DATE_CELL])
    ws["A6"] = ("Điền số lũy kế từ đầu năm vào các ô màu vàng; để trống nếu chưa có số liệu (để trống khác với "
                "số 0). Hạn nộp: " + deadline_text(settings) + " hằng tuần. Xem trang 'Hướng dẫn'.")
    ws["A6"].font = looks.hint
    if last_seen is not None:
        ws["A7"] = f"Cột '{HEADER_PREVIOUS}': số liệu Cụm đã nhận của đơn vị, tính đến {format_date(last_seen)}."
        ws["A7"].font = looks.hint


def _validate(ws, table: Block, lines: list[_Line], year: int) -> None:
    """Data validation: counts whole, amounts decimal, year to date ≥ 0 (this period may be negative: a
    correction); the date within the year."""
    from openpyxl.worksheet.datavalidation import DataValidation

    whole = DataValidation(type="whole", operator="greaterThanOrEqual", formula1="0", allow_blank=True,
                           showErrorMessage=True, errorTitle="Số không hợp lệ",
                           error="Chỉ tiêu này đếm bằng số nguyên không âm (0, 1, 2, ...).")
    decimal = DataValidation(type="decimal", operator="greaterThanOrEqual", formula1="0", allow_blank=True,
                             showErrorMessage=True, errorTitle="Số không hợp lệ",
                             error="Nhập số không âm; phần thập phân dùng dấu phẩy theo cài đặt của máy.")
    whole_any = DataValidation(type="whole", operator="between", formula1="-1000000000", formula2="1000000000",
                               allow_blank=True, showErrorMessage=True, errorTitle="Số không hợp lệ",
                               error="Chỉ tiêu này đếm bằng số nguyên.")
    decimal_any = DataValidation(type="decimal", operator="between", formula1="-1000000000000",
                                 formula2="1000000000000", allow_blank=True, showErrorMessage=True,
                                 errorTitle="Số không hợp lệ", error="Nhập một số.")
    date_rule = DataValidation(type="date", operator="between", formula1=f"DATE({year},1,1)",
                               formula2=f"DATE({year},12,31)", allow_blank=False, showErrorMessage=True,
                               errorTitle="Ngày không hợp lệ", error=f"Nhập ngày trong năm {year}, dạng dd/mm/yyyy.")
    for dv in (whole, decimal, whole_any, decimal_any, date_rule):
        ws.add_data_validation(dv)
    date_rule.add(DATE_CELL)
    for n, line in enumerate(lines):
        (whole if line.count else decimal).add(table.cell(HEADER_YTD, n))
        (whole_any if line.count else decimal_any).add(table.cell(HEADER_PERIOD, n))


def _help_sheet(ws, settings: Settings, district_name: str, as_of: date) -> None:
    from openpyxl.styles import Alignment, Font

    counts = ", ".join(f"'{i.label}' ({i.unit})" for i in settings.indicators if i.kind == "count")
    amounts = ", ".join(f"'{i.label}' ({i.unit})" for i in settings.indicators if i.kind == "amount")
    if settings.mailbox.enabled and settings.mailbox.user:
        send = (f"Gửi tệp đã điền qua e-mail tới {settings.mailbox.user} (gửi từ địa chỉ e-mail của đơn vị đã "
                f"đăng ký với Cụm), hoặc tải lên trang báo cáo của Cụm.")
    else:
        send = ("Gửi tệp đã điền cho Cụm: tải lên trang báo cáo của Cụm hoặc gửi qua e-mail tới Cụm trưởng ("
                + ", ".join(settings.cluster.head.emails) + ").")
    lines = [
        ("HƯỚNG DẪN ĐIỀN VÀ GỬI BÁO CÁO TIẾN ĐỘ", True),
        (f"{settings.cluster.name} — {district_name} — số liệu tính đến {format_date(as_of)}", False),
        ("", False),
        ("1. Mở trang 'Báo cáo'. Kiểm tra tên đơn vị và ngày số liệu (ô B5, dạng dd/mm/yyyy, ví dụ "
         f"{format_date(as_of)}). Nếu báo cáo cho ngày khác, sửa ô B5.", False),
        (f"2. Ghi vào cột '{HEADER_YTD}' số LŨY KẾ từ 01/01/{as_of.year} đến ngày số liệu, không phải "
         "số của riêng tuần này.", False),
        (f"3. Chỉ tiêu đếm ghi số nguyên: {counts}." + (f" Chỉ tiêu tiền ghi số, có thể có phần thập phân: "
                                                        f"{amounts}." if amounts else ""), False),
        ("4. Chỉ tiêu chưa có số liệu thì ĐỂ TRỐNG; ghi 0 khi thực sự chưa đạt được gì. Ô để trống được hiểu là "
         "đơn vị chưa báo cáo chỉ tiêu đó.", False),
        (f"5. Cột '{HEADER_PERIOD}' (không bắt buộc): số đạt được kể từ lần báo cáo trước; phải bằng số lũy kế "
         f"mới trừ cột '{HEADER_PREVIOUS}'. Cột '{HEADER_NOTE}': giải thích ngắn nếu cần (ví dụ số đính "
         "chính).", False),
        ("6. Không đổi tên trang 'Báo cáo', không chèn dòng trống, không gộp ô, không ẩn dòng, không dùng công "
         "thức liên kết tới tệp khác. Không cần mật khẩu để bỏ bảo vệ trang, nhưng chỉ nên điền vào ô màu vàng.",
         False),
        (f"7. {send} Hạn nộp: trước {deadline_text(settings)} hằng tuần.", False),
        ("8. Kết quả kiểm tra: 'đã chấp nhận', hoặc 'bị từ chối' kèm danh sách lỗi theo từng ô (ví dụ "
         "Báo cáo!F9) và một bản sao tệp có các ô lỗi được tô đỏ, ghi chú. Tải lên trang báo cáo của Cụm thì "
         "thấy kết quả ngay; tệp gửi qua e-mail được kiểm tra ở lần nhận báo cáo kế tiếp (hằng ngày) và kết quả "
         "được gửi lại qua e-mail. Sửa các ô lỗi rồi gửi lại; gửi lại tệp cho cùng ngày số liệu sẽ thay thế bản "
         "trước.", False),
        ("", False),
        ("Số liệu đã gửi được lưu cùng tên tệp và vị trí ô, để Cụm trưởng có thể đối chiếu từng con số.", False),
    ]
    ws.column_dimensions["A"].width = 120
    for i, (text, strong) in enumerate(lines, start=1):
        cell = ws.cell(row=i, column=1, value=text or None)
        cell.alignment = Alignment(wrap_text=True, vertical="top")
        if strong:
            cell.font = Font(bold=True, size=13)
    ws.protection.sheet = True


def template_inputs(ctx: Context, district: str, as_of: date) -> tuple[dict[str, float], dict[str, Previous]]:
    """The district's current targets and its last accepted figures before ``as_of``, from the database."""
    from sqlmodel import select

    from tracker import models
    from tracker.targets import current_targets

    cid, year = ctx.cluster_id, as_of.year  # the targets and figures of the sheet's year
    with ctx.session() as session:
        targets = {key: v for (code, key), v in current_targets(session, cid, year).items() if code == district}
        rows = session.exec(
            select(models.Indicator.key, models.Figure.as_of, models.Figure.value, models.Submission.received_at,
                   models.Submission.id)
            .join(models.Figure, models.Figure.indicator_id == models.Indicator.id)
            .join(models.Submission, models.Submission.id == models.Figure.submission_id)
            .join(models.District, models.District.id == models.Figure.district_id)
            .where(models.Figure.cluster_id == cid, models.District.code == district,
                   models.Submission.status == models.SubmissionStatus.accepted,
                   models.Figure.as_of >= date(year, 1, 1), models.Figure.as_of < as_of)
        ).all()
    previous: dict[str, Previous] = {}
    for key, at, value, _received, _sid in sorted(rows, key=lambda r: (r[1], r[3], r[4])):
        previous[key] = Previous(at, value)  # the last one wins: latest date, then last received
    return targets, previous


def district_template(ctx: Context, district: str, as_of: date) -> bytes:
    """The upload workbook of ``district`` (a code) for ``as_of``, with its targets and previous figures."""
    targets, previous = template_inputs(ctx, district, as_of)
    return build_template(ctx.settings, district, as_of, targets=targets, previous=previous)


def template_filename(district: str, as_of: date) -> str:
    return f"bao-cao_{district}_{as_of.isoformat()}.xlsx"
