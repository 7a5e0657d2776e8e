"""Self-assessment workbooks in (docs/assessment.md §6, §7): the template, its round trip through every intake
path, each error naming its cell, quarantine with the annotated copy, the latest accepted counting."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime

import openpyxl
import pytest
from sqlmodel import select

from tests.intake_factory import report_for, xlsx_bytes
from tracker import models
from tracker.assessment.store import load_assessment, self_assessments
from tracker.intake.assessment_template import unit_assessment_template
from tracker.intake.ingest import format_result, ingest_bytes

JUNE_30 = date(2023, 6, 30)
FIGS = {"new_unions": 19, "agreements": 10, "congresses": 45, "new_members": 1300, "union_fees": 2100.5}


def at(day: date, hour: int = 10) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


def rows_by_code(ws) -> dict[str, int]:
    header = next(r for r in range(1, 30) if ws.cell(r, 1).value == "Mã tiêu chí")
    return {ws.cell(r, 1).value: r for r in range(header + 1, ws.max_row + 1) if ws.cell(r, 1).value}


def filled(data: bytes, scores: dict[str, object], explanations: dict[str, str] | None = None,
           cells: dict[str, object] | None = None) -> bytes:
    """The template with scores typed in column D (and explanations in E), as a clerk would in Excel."""
    wb = openpyxl.load_workbook(io.BytesIO(data))
    ws = wb["Tự chấm điểm"]
    rows = rows_by_code(ws)
    for code, value in scores.items():
        ws.cell(rows[code], 4).value = value
    for code, text in (explanations or {}).items():
        ws.cell(rows[code], 5).value = text
    for ref, value in (cells or {}).items():
        ws[ref] = value
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


@pytest.fixture
def with_figures(ctx):
    ingest_bytes(ctx, report_for("HBT", JUNE_30, FIGS), "hbt.xlsx", received_at=at(JUNE_30))
    return ctx


def test_template_round_trip_stores_the_scores_and_the_latest_counts(with_figures):
    ctx = with_figures
    template = unit_assessment_template(ctx, "HBT", 2023, JUNE_30)
    first = filled(template, {"2.1": 12, "2.2": 10.5, "T1": 2, "P1": 0}, {"2.1": "Dự đủ 12/12 buổi"})
    result = ingest_bytes(ctx, first, "tu-cham.xlsx", received_at=at(date(2023, 7, 1)))
    assert result.status == "accepted", [f.text() for f in result.findings]
    assert result.kind == "assessment" and result.year == 2023 and result.as_of is None
    assert format_result(result) == ("tu-cham.xlsx: đã chấp nhận (accepted) — bảng tự chấm điểm năm 2023 "
                                     "(self-assessment), HBT")
    with ctx.session() as s:
        sub = s.get(models.Submission, result.submission_id)
        assert (sub.kind, sub.as_of, sub.sheet) == ("assessment", None, "Tự chấm điểm")
        latest = self_assessments(s, ctx.cluster_id, 2023)["HBT"]
    assert latest.scores["2.1"] == 12 and latest.scores["2.2"] == 10.5 and latest.as_of == JUNE_30
    assert latest.explanations["2.1"] == "Dự đủ 12/12 buổi"
    second = ingest_bytes(ctx, filled(template, {"2.1": 14}), "lan-2.xlsx", received_at=at(date(2023, 7, 2)))
    assert second.status == "accepted"
    assert [f.code for f in second.warnings] == ["score_blank"] * 3
    with ctx.session() as s:
        latest = self_assessments(s, ctx.cluster_id, 2023)["HBT"]
        assessment = load_assessment(s, ctx.settings, 2023, JUNE_30)
    assert latest.submission_id == second.submission_id and latest.scores["2.2"] is None
    assert assessment.unit("HBT").criterion("2.1").self == 14


def test_the_template_locks_computed_scores_shows_their_source_and_validates_manual_ones(with_figures):
    ctx = with_figures
    wb = openpyxl.load_workbook(io.BytesIO(unit_assessment_template(ctx, "HBT", 2023, JUNE_30)))
    assert wb.sheetnames == ["Tự chấm điểm", "Hướng dẫn"]
    ws = wb["Tự chấm điểm"]
    assert (ws["A4"].value, ws["C4"].value) == ("Đơn vị:", "LĐLĐ quận Hai Bà Trưng")
    assert (ws["A5"].value, ws["C5"].value) == ("Năm:", 2023)
    assert ws["A6"].value == "Số liệu tính đến ngày:" and ws["C6"].value.date() == JUNE_30
    assert [ws.cell(9, c).value for c in range(1, 6)] == ["Mã tiêu chí", "Tiêu chí", "Điểm chuẩn", "Điểm tự chấm",
                                                          "Giải trình, minh chứng"]
    assert ws.protection.sheet
    rows = rows_by_code(ws)
    assert list(rows) == ["1.1", "1.2", "1.3", "1.4", "1.5", "1.6", "2.1", "2.2", "T1", "P1"]
    assert ws.cell(rows["1.1"] - 1, 2).value == "I. Thực hiện các chỉ tiêu đăng ký"  # a group's heading row
    computed, manual = ws.cell(rows["1.6"], 4), ws.cell(rows["2.1"], 4)
    assert computed.protection.locked and computed.value is not None
    assert "1/" in ws.cell(rows["1.6"], 5).value and "tuần báo cáo đúng hạn" in ws.cell(rows["1.6"], 5).value
    assert "thực hiện 19 trên chỉ tiêu đăng ký" in ws.cell(rows["1.1"], 5).value
    assert not manual.protection.locked and not ws.cell(rows["2.1"], 5).protection.locked
    ranges = {str(r): (dv.formula1, dv.formula2) for dv in ws.data_validations.dataValidation for r in dv.sqref.ranges}
    assert ranges[manual.coordinate] == ("0", "15") and ranges[ws.cell(rows["P1"], 4).coordinate] == ("0", "2")


def rejected(ctx, data: bytes, name: str = "tu-cham.xlsx"):
    result = ingest_bytes(ctx, data, name, received_at=at(date(2023, 7, 1)))
    assert result.status == "rejected"
    return result


@pytest.mark.parametrize(("cells", "code", "cell"), [
    ({"C4": "Tây Hồ"}, "district_unknown", "C4"),
    ({"C5": 2019}, "assessment_year_invalid", "C5"),
    ({"C6": "31/06/2023"}, "assessment_date_invalid", "C6"),
    ({"A18": "9.9"}, "criterion_unknown", "A18"),
    ({"A19": "2.1"}, "criterion_duplicate", "A19"),
    ({"D18": "mười"}, "value_not_number", "D18"),
    ({"D18": -1}, "score_negative", "D18"),
    ({"D18": 15.5}, "score_above_max", "D18"),
])
def test_each_error_names_its_cell_and_nothing_is_stored(with_figures, cells, code, cell):
    ctx = with_figures
    template = unit_assessment_template(ctx, "HBT", 2023, JUNE_30)
    wb = openpyxl.load_workbook(io.BytesIO(template))
    assert rows_by_code(wb["Tự chấm điểm"])["2.1"] == 18  # the cells above are the template's
    result = rejected(ctx, filled(template, {"2.1": 10, "2.2": 10}, cells=cells))
    assert [(f.code, f.cell) for f in result.errors] == [(code, f"Tự chấm điểm!{cell}")]
    assert result.kind == "assessment"
    with ctx.session() as s:
        assert s.exec(select(models.AssessmentScore)).all() == []
        sub = s.get(models.Submission, result.submission_id)
        assert (sub.kind, sub.status, sub.as_of) == ("assessment", "rejected", None)


def test_a_score_above_its_maximum_is_quarantined_with_an_annotated_copy(with_figures):
    ctx = with_figures
    result = rejected(ctx, filled(unit_assessment_template(ctx, "HBT", 2023, JUNE_30), {"2.1": 16, "T1": 1}))
    [error] = result.errors
    assert error.message_vi == "Điểm của tiêu chí 2.1 là 16, vượt điểm tối đa 15."
    assert error.message_en == "The score of 2.1 is 16, above its maximum of 15."
    assert result.stored_path.is_relative_to(ctx.settings.paths.quarantine)
    report = result.report_path.read_text(encoding="utf-8")
    assert "Tự chấm điểm!D18" in report and "vượt điểm tối đa 15" in report
    assert "Đơn vị: HBT    Bảng tự chấm điểm năm 2023" in report and "không có điểm nào của tệp được ghi nhận" in report
    annotated = openpyxl.load_workbook(result.annotated_path)["Tự chấm điểm"]
    assert annotated["D18"].comment is not None and "vượt điểm tối đa" in annotated["D18"].comment.text
    assert "bị từ chối (rejected) — bảng tự chấm điểm năm 2023 (self-assessment), HBT" in format_result(result)
    again = ingest_bytes(ctx, result.stored_path.read_bytes(), "lai.xlsx")
    assert again.status == "rejected" and again.repeated and again.kind == "assessment"


def test_a_computed_criterion_typed_differently_is_an_error_and_the_same_within_a_cent_is_not(with_figures):
    ctx = with_figures
    template = unit_assessment_template(ctx, "HBT", 2023, JUNE_30)
    ws = openpyxl.load_workbook(io.BytesIO(template))["Tự chấm điểm"]
    row = rows_by_code(ws)["1.1"]
    computed = ws.cell(row, 4).value
    result = rejected(ctx, filled(template, {"1.1": computed + 1, "2.1": 1}))
    [error] = result.errors
    assert (error.code, error.cell) == ("score_computed_mismatch", f"Tự chấm điểm!D{row}")
    assert "thực hiện 19 trên chỉ tiêu đăng ký" in error.message_vi
    ok = ingest_bytes(ctx, filled(template, {"1.1": computed + 0.01, "2.1": 1}), "ok.xlsx")
    assert ok.status == "accepted"
    blank = ingest_bytes(ctx, filled(template, {"1.1": None, "2.1": 2}), "trong.xlsx")
    assert blank.status == "accepted" and "score_computed_mismatch" not in [f.code for f in blank.findings]


def test_a_workbook_of_one_sheet_is_recognised_by_its_table_and_the_weekly_sheet_is_not_affected(with_figures):
    ctx = with_figures
    cells = {"A1": "Đơn vị", "B1": "HBT", "A2": "Năm:", "B2": "2023", "A4": "Mã tiêu chí", "C4": "Điểm tự chấm",
             "A5": "2.1", "C5": "12,5", "A6": "2.2", "C6": 3}
    result = ingest_bytes(ctx, xlsx_bytes({"Sheet1": cells}), "tay.xlsx")
    assert result.status == "accepted" and result.kind == "assessment" and result.year == 2023
    with ctx.session() as s:
        latest = self_assessments(s, ctx.cluster_id, 2023)["HBT"]
    assert latest.scores["2.1"] == 12.5 and latest.as_of == date(2023, 12, 31)
    weekly = ingest_bytes(ctx, report_for("LB", JUNE_30, FIGS), "lb.xlsx")
    assert weekly.status == "accepted" and weekly.kind == "report"


def test_the_same_workbook_twice_is_already_received(with_figures):
    ctx = with_figures
    data = filled(unit_assessment_template(ctx, "HBT", 2023, JUNE_30), {"2.1": 1, "2.2": 2, "T1": 0, "P1": 0})
    first = ingest_bytes(ctx, data, "a.xlsx")
    again = ingest_bytes(ctx, data, "b.xlsx")
    assert first.status == "accepted" and again.status == "duplicate"
    assert again.kind == "assessment" and again.year == 2023
    assert "đã nhận trước đó (already received) — bảng tự chấm điểm năm 2023" in format_result(again)


def test_a_self_assessment_dropped_in_the_inbox_is_taken_by_the_pull(with_figures):
    import os

    from tracker.workflows.pull import pull

    ctx = with_figures
    path = ctx.settings.paths.inbox / "HBT tự chấm.xlsx"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(filled(unit_assessment_template(ctx, "HBT", 2023, JUNE_30), {"2.1": 9}))
    stamp = datetime(2023, 7, 3, 2, tzinfo=UTC).timestamp()
    os.utime(path, (stamp, stamp))
    report = pull(ctx)
    [item] = report.items
    assert item.result.status == "accepted" and item.result.kind == "assessment"
    with ctx.session() as s:
        assert self_assessments(s, ctx.cluster_id, 2023)["HBT"].scores["2.1"] == 9


def test_a_table_without_the_score_column_is_refused_at_its_header(ctx):
    cells = {"A1": "Đơn vị", "B1": "HBT", "A2": "Năm", "B2": 2023, "A4": "Mã tiêu chí", "C4": "Điểm",
             "A5": "2.1", "C5": 3}
    result = ingest_bytes(ctx, xlsx_bytes({"Tự chấm điểm": cells}), "x.xlsx")
    assert [(f.code, f.cell) for f in result.errors] == [("score_column_missing", "Tự chấm điểm!A4")]
    assert result.errors[0].message_vi == "Dòng tiêu đề không có cột 'Điểm tự chấm'."


def test_in_a_batch_a_weekly_sheet_accepted_first_changes_the_computed_scores_checked_after_it(with_figures):
    from tracker.intake.ingest import Incoming, ingest_many

    ctx = with_figures
    template = unit_assessment_template(ctx, "HBT", 2023, JUNE_30)
    old = filled(template, {"2.1": 1})  # 1.1 as computed from 19 new unions: 7,6
    assert openpyxl.load_workbook(io.BytesIO(old))["Tự chấm điểm"]["D11"].value == 7.6
    items = [Incoming.of(filled(template, {"2.1": 2}), "a.xlsx"),
             Incoming.of(report_for("HBT", JUNE_30, {**FIGS, "new_unions": 25}), "hbt-v2.xlsx",
                         received_at=at(JUNE_30)),  # 17:00 in Hà Nội: still on time
             Incoming.of(old, "b.xlsx")]
    results = [o.result for o in ingest_many(ctx, items)]
    assert [r.status for r in results] == ["accepted", "accepted", "rejected"]
    [error] = results[2].errors
    assert error.code == "score_computed_mismatch" and "10 điểm; ô ghi 7,6" in error.message_vi


def test_verify_proves_the_self_assessment_lines_from_the_archived_workbook(with_figures, cli):
    from sqlalchemy import text

    ctx = with_figures
    data = filled(unit_assessment_template(ctx, "HBT", 2023, JUNE_30), {"2.1": 12, "2.2": 10.5},
                  {"2.1": "Dự đủ 12/12 buổi"})
    result = ingest_bytes(ctx, data, "tu-cham.xlsx")
    assert result.stored_path.is_relative_to(ctx.settings.paths.archive / "tu-cham-diem" / "HBT")
    done = cli("verify")
    assert done.exit_code == 0, done.stdout + done.stderr
    assert done.stdout.startswith("Đã kiểm tra 2 tệp, 15 số liệu: không có khác biệt")  # 5 figures + 10 lines
    with ctx.engine.begin() as conn:
        conn.execute(text("UPDATE assessment_score SET value = 15 WHERE submission_id = :sid AND code = '2.1'"),
                     {"sid": result.submission_id})
        conn.execute(text("UPDATE assessment_score SET explanation = '' WHERE submission_id = :sid AND code = '2.1'"),
                     {"sid": result.submission_id})
    done = cli("verify", "--year", "2023")
    assert done.exit_code == 1
    lines = done.stdout.splitlines()
    assert lines[0] == (f"tu-cham.xlsx (#{result.submission_id}): Tự chấm điểm!D18 [2.1]: CSDL ghi 15, tệp ghi 12 / "
                        "Tự chấm điểm!D18 [2.1]: the database says 15, the file says 12")
    assert "ghi chú: CSDL ghi None, tệp ghi 'Dự đủ 12/12 buổi'" in lines[1]


def test_a_group_heading_typed_in_the_code_column_is_passed_over(ctx):
    cells = {"A1": "Đơn vị", "B1": "HBT", "A2": "Năm", "B2": 2023, "A4": "Mã tiêu chí", "B4": "Điểm tự chấm",
             "A5": "II. Tham gia hoạt động của Cụm", "A6": "2.1", "B6": 4, "A7": "2.2", "B7": 5}
    result = ingest_bytes(ctx, xlsx_bytes({"Tự chấm điểm": cells}), "x.xlsx")
    assert result.status == "accepted" and [f.code for f in result.warnings] == ["score_blank", "score_blank"]
