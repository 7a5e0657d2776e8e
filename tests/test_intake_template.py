"""The district upload template: layout, locking, validation, and the round trip fill → ingest → accepted."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime

from openpyxl import load_workbook

from tests.intake_factory import report_for
from tracker.intake.ingest import ingest_bytes
from tracker.intake.template import build_template, default_as_of, district_template, ytd_cell

JUNE_30 = date(2023, 6, 30)


def fill(data: bytes, values: dict[str, object]) -> bytes:
    """What a clerk does: open the template, type into cells, save."""
    wb = load_workbook(io.BytesIO(data))
    ws = wb["Báo cáo"]
    for ref, value in values.items():
        ws[ref] = value
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def test_the_template_shows_district_date_targets_and_previous_figures_locked(ctx):
    ingest_bytes(ctx, report_for("HBT", date(2023, 6, 23), {"new_unions": 17, "agreements": 9, "congresses": 45,
                                                              "new_members": 1250, "union_fees": 2000}),
                 "w25.xlsx", received_at=datetime(2023, 6, 23, 9, tzinfo=UTC))
    wb = load_workbook(io.BytesIO(district_template(ctx, "HBT", JUNE_30)))
    assert wb.sheetnames == ["Báo cáo", "Hướng dẫn"]
    ws = wb["Báo cáo"]
    assert (ws["A4"].value, ws["B4"].value) == ("Đơn vị:", "LĐLĐ quận Hai Bà Trưng")
    assert ws["A5"].value == "Số liệu tính đến ngày:" and ws["B5"].value == datetime(2023, 6, 30)
    assert [c.value for c in ws[8]] == ["Mã chỉ tiêu", "Chỉ tiêu", "Đơn vị tính", "Chỉ tiêu đăng ký",
                                        "Lũy kế kỳ trước", "Lũy kế từ đầu năm", "Thực hiện trong kỳ", "Ghi chú"]
    assert [ws.cell(row=r, column=1).value for r in range(9, 14)] == [
        "new_unions", "agreements", "congresses", "new_members", "union_fees"]
    assert ws["D9"].value == 30 and ws["D13"].value == 4200  # the registered targets (config sample)
    assert ws["E9"].value == 17 and ws["E12"].value == 1250  # the previous accepted figures
    assert "23/06/2023" in ws["A7"].value
    assert ws.protection.sheet and not ws.protection.password
    assert ws["A9"].protection.locked and ws["D9"].protection.locked and ws["E9"].protection.locked
    assert not ws["F9"].protection.locked and not ws["G9"].protection.locked and not ws["H9"].protection.locked
    assert not ws["B5"].protection.locked
    rules = {str(dv.sqref): (dv.type, dv.operator, dv.formula1) for dv in ws.data_validations.dataValidation}
    assert rules["F9 F10 F11 F12"] == ("whole", "greaterThanOrEqual", "0")
    assert rules["F13"] == ("decimal", "greaterThanOrEqual", "0")
    help_text = "\n".join(str(c.value) for c in wb["Hướng dẫn"]["A"] if c.value)
    assert "ĐỂ TRỐNG" in help_text and "17:00 thứ Sáu" in help_text and "Lũy kế từ đầu năm" in help_text


def test_a_filled_template_is_accepted_with_its_cells(ctx):
    data = district_template(ctx, "BD", JUNE_30)
    filled = fill(data, {"F9": 15, "F10": 7, "F11": 38, "F12": 1100, "F13": 1820.5, "G9": 1, "H9": "KCN"})
    result = ingest_bytes(ctx, filled, "BD.xlsx", received_at=datetime(2023, 6, 30, 8, tzinfo=UTC))
    assert result.status == "accepted", result.findings
    assert (result.district, result.as_of, result.findings) == ("BD", JUNE_30, [])
    from sqlmodel import select

    from tracker import models

    with ctx.session() as s:
        cells = {f.cell: (f.value, f.period_value, f.note) for f in s.exec(select(models.Figure))}
    assert cells["F9"] == (15, 1, "KCN") and cells["F13"] == (1820.5, None, None)


def test_a_template_left_partly_blank_warns_for_each_blank_indicator(ctx):
    filled = fill(district_template(ctx, "HM", JUNE_30), {"F9": 3})
    result = ingest_bytes(ctx, filled, "HM.xlsx", received_at=datetime(2023, 6, 30, 8, tzinfo=UTC))
    assert result.status == "accepted"
    assert [(f.code, f.cell) for f in result.warnings] == [
        ("indicator_blank", f"Báo cáo!{ytd_cell(ctx.settings, k)}")
        for k in ("agreements", "congresses", "new_members", "union_fees")]


def test_an_empty_template_is_rejected_as_having_no_figures(ctx):
    result = ingest_bytes(ctx, district_template(ctx, "HM", JUNE_30), "HM.xlsx",
                          received_at=datetime(2023, 6, 30, 8, tzinfo=UTC))
    assert [f.code for f in result.errors] == ["no_figures"]


def test_the_template_can_be_prefilled_like_a_clerk_would(settings):
    from tests.conftest import SAMPLE_CONFIG  # noqa: F401  (settings come from the sample config)
    from tracker.config import load_settings
    from tracker.intake.parser import parse_report
    from tracker.intake.reader import read_workbook

    s = load_settings(SAMPLE_CONFIG, env={})
    data = build_template(s, "DD", JUNE_30, figures={"new_unions": 12, "agreements": 21},
                          periods={"agreements": 2}, notes={"agreements": "đính chính"})
    report = parse_report(read_workbook(data, "x.xlsx"), s)
    assert report.ok and {r.indicator: r.value for r in report.figures} == {"new_unions": 12, "agreements": 21}


def test_the_default_date_is_the_deadline_day_of_the_week_within_the_year(settings):
    assert default_as_of(settings, date(2023, 6, 27)) == JUNE_30  # a Tuesday → that week's Friday
    assert default_as_of(settings, date(2025, 3, 1)) == date(2023, 12, 31)
    assert default_as_of(settings, date(2023, 12, 30)) == date(2023, 12, 29)
