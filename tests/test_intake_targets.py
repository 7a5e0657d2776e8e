"""The targets workbook: template, import with history, errors by cell (all or nothing)."""

from __future__ import annotations

import io

from openpyxl import load_workbook
from sqlmodel import select

from tests.intake_factory import xlsx_bytes
from tracker import models
from tracker.intake.targets_workbook import import_targets, targets_template
from tracker.targets import current_targets


def edit(data: bytes, values: dict[str, object]) -> bytes:
    wb = load_workbook(io.BytesIO(data))
    ws = wb["Chỉ tiêu đăng ký"]
    for ref, value in values.items():
        ws[ref] = value
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def targets(ctx):
    with ctx.session() as s:
        return current_targets(s, ctx.cluster_id, 2023)


def test_the_template_lists_every_district_with_its_current_targets(ctx):
    ws = load_workbook(io.BytesIO(targets_template(ctx)))["Chỉ tiêu đăng ký"]
    assert (ws["A3"].value, ws["B3"].value) == ("Năm:", 2023)
    assert [c.value for c in ws[6]][:4] == ["Mã đơn vị", "Tên đơn vị", "Thành lập CĐCS mới",
                                            "Thỏa ước lao động tập thể ký mới"]
    assert [ws.cell(row=r, column=1).value for r in range(7, 13)] == ["HBT", "HM", "BD", "LB", "HK", "DD"]
    assert ws["C7"].value == 30 and ws["G12"].value == 5200


def test_importing_the_unchanged_template_registers_nothing(ctx):
    result = import_targets(ctx, targets_template(ctx), "chi-tieu.xlsx")
    assert result.ok and result.changed == 0 and len(result.registrations) == 30


def test_a_changed_target_is_registered_with_history_kept(ctx):
    data = edit(targets_template(ctx), {"C7": 32, "G12": 5300.5})
    result = import_targets(ctx, data, "chi-tieu-moi.xlsx")
    assert result.ok and result.changed == 2
    assert targets(ctx)[("HBT", "new_unions")] == 32 and targets(ctx)[("DD", "union_fees")] == 5300.5
    with ctx.session() as s:
        rows = s.exec(select(models.Target).join(models.District).join(models.Indicator).where(
            models.District.code == "HBT", models.Indicator.key == "new_unions").order_by(models.Target.id)).all()
    assert [(r.value, r.source) for r in rows] == [(30, "config"), (32, "workbook")]
    assert len(rows[1].source_ref) == 64  # the workbook's hash


def test_columns_by_key_or_label_other_columns_ignored_blank_registers_nothing(ctx):
    data = xlsx_bytes({"Sheet1": {"A1": "NĂM", "C1": "2023", "A3": "Tên đơn vị", "B3": "Mã đơn vị",
                                  "C3": "new_unions", "D3": "Ghi chú", "E3": "Phát triển đoàn viên mới",
                                  "A4": "Ba Đình", "B4": "BD", "C4": 27, "D4": "tăng 2", "E4": None,
                                  "B5": "Long Biên", "C5": "31"}})
    result = import_targets(ctx, data, "x.xlsx")
    assert result.ok, result.findings
    assert {(r.district, r.indicator, r.value) for r in result.registrations} == {
        ("BD", "new_unions", 27), ("LB", "new_unions", 31)}


def test_errors_name_their_cells_and_nothing_is_registered(ctx):
    data = edit(targets_template(ctx), {"B3": 2025, "C7": "ba mươi", "D8": 12.5, "A9": "XYZ", "A10": "HBT",
                                        "E11": -1})
    result = import_targets(ctx, data, "bad.xlsx")
    assert not result.ok and result.registrations == []
    assert [(f.code, f.cell) for f in result.findings] == [
        ("year_invalid", "Chỉ tiêu đăng ký!B3"), ("value_not_number", "Chỉ tiêu đăng ký!C7"),
        ("value_fractional", "Chỉ tiêu đăng ký!D8"), ("district_unknown", "Chỉ tiêu đăng ký!A9"),
        ("district_duplicate", "Chỉ tiêu đăng ký!A10"), ("value_negative", "Chỉ tiêu đăng ký!E11")]
    assert targets(ctx)[("HBT", "new_unions")] == 30


def test_the_year_label_decides_the_year_of_the_registrations(ctx):
    ws_year = load_workbook(io.BytesIO(targets_template(ctx, 2022)))["Chỉ tiêu đăng ký"]
    assert ws_year["B3"].value == 2022 and ws_year["C7"].value is None  # 2022 has no targets yet
    data = edit(targets_template(ctx, 2022), {"C7": 25, "D7": 8})
    result = import_targets(ctx, data, "chi-tieu-2022.xlsx")
    assert result.ok and result.year == 2022 and result.changed == 2
    with ctx.session() as s:
        assert current_targets(s, ctx.cluster_id, 2022) == {("HBT", "new_unions"): 25, ("HBT", "agreements"): 8}
    assert targets(ctx)[("HBT", "new_unions")] == 30  # the cluster year's own target is untouched
    assert load_workbook(io.BytesIO(targets_template(ctx, 2022)))["Chỉ tiêu đăng ký"]["C7"].value == 25
    # next year's targets may be registered before the switch; a year too far is refused by its cell
    assert import_targets(ctx, edit(data, {"B3": 2024}), "2024.xlsx").year == 2024
    wrong = import_targets(ctx, edit(data, {"B3": 1999}), "1999.xlsx")
    assert [(f.code, f.cell) for f in wrong.findings] == [("year_invalid", "Chỉ tiêu đăng ký!B3")]
    assert wrong.findings[0].message_vi == "Năm '1999' không hợp lệ: ghi năm thi đua từ 2000 đến 2024, ví dụ 2023."


def test_targets_template_year_option(cli, tmp_path):
    cli("init")
    path = tmp_path / "t.xlsx"
    result = cli("targets", "template", "--year", "2022", "-o", path)
    assert result.exit_code == 0, result.stderr
    assert load_workbook(path)["Chỉ tiêu đăng ký"]["B3"].value == 2022
    assert cli("targets", "template", "--year", "2030", "-o", path).exit_code == 2


def test_an_unreadable_targets_file(ctx):
    result = import_targets(ctx, b"PK\x03\x04 broken", "x.xlsx")
    assert not result.ok and result.findings[0].code.startswith("file_")


def test_targets_workbook_structure_errors(ctx):
    two_sheets = xlsx_bytes({"A": {"A1": "Năm", "B1": 2023}, "B": {"A1": "x"}})
    assert [f.code for f in import_targets(ctx, two_sheets, "x.xlsx").findings] == ["no_targets_sheet"]
    no_year = xlsx_bytes({"Chỉ tiêu đăng ký": {"A3": "Mã đơn vị", "B3": "new_unions", "A4": "HBT", "B4": 3}})
    assert [(f.code, f.cell) for f in import_targets(ctx, no_year, "x.xlsx").findings] == [("year_missing", None)]
    no_columns = xlsx_bytes({"Chỉ tiêu đăng ký": {"A1": "Năm", "B1": 2023, "A3": "Mã đơn vị", "B3": "Tên đơn vị",
                                                   "A4": "HBT"}})
    assert [(f.code, f.cell) for f in import_targets(ctx, no_columns, "x.xlsx").findings] == [
        ("no_indicator_columns", "Chỉ tiêu đăng ký!A3")]
