"""`tracker report weekly|review` on a real database: files written, numbers equal `status --format json`,
text typed by districts stays text."""

from __future__ import annotations

import csv
import io
import json
from datetime import date
from pathlib import Path

import pytest
from openpyxl import load_workbook

from tests.test_report_factories import store_sample

HOSTILE_NOTE = '=HYPERLINK("http://evil.example/x","Bấm vào đây")'


@pytest.fixture
def stored(ctx):
    notes = {("LB", date(2023, 6, 30), "new_unions"): HOSTILE_NOTE,
             ("HBT", date(2023, 6, 30), "agreements"): "#N/A",
             ("DD", date(2023, 6, 30), "union_fees"): "+1 thu bổ sung\x07 quý II",
             ("HK", date(2023, 6, 30), "congresses"): "@SUM(1+1)"}
    with ctx.session(write=True) as session:
        count = store_sample(session, ctx.settings, notes=notes)
    return count


def test_report_weekly_writes_the_files_its_numbers_equal_status_json_and_uploaded_text_stays_text(cli, ctx, stored):
    status = cli("status", "--as-of", "30/06/2023", "--format", "json")
    assert status.exit_code == 0, status.stderr
    js = json.loads(status.stdout)

    result = cli("report", "weekly", "--as-of", "30/06/2023")
    assert result.exit_code == 0, result.stderr
    paths = [Path(line) for line in result.stdout.splitlines()]
    assert paths and all(p.is_file() for p in paths)
    folder = ctx.settings.paths.reports / "weekly" / "2023-W26"
    assert all(p.parent == folder for p in paths)
    assert sum(p.suffix == ".xlsx" for p in paths) == 1 and sum(p.suffix == ".png" for p in paths) == 6
    assert "[Cụm thi đua số 1] Báo cáo tiến độ tuần 26/2023 (số liệu đến 30/06/2023)" in result.stderr
    wb = load_workbook(next(p for p in paths if p.suffix == ".xlsx"))
    _numbers_equal_status_json(wb, js)
    _uploaded_text_stays_text(wb["Dữ liệu"], stored)


def _numbers_equal_status_json(wb, js: dict) -> None:
    ws = wb["Chi tiết"]
    header = [c.value for c in ws[1]]
    rows = {(r[header.index("Mã đơn vị")], r[header.index("Mã chỉ tiêu")]): r
            for r in ws.iter_rows(min_row=2, values_only=True)}
    checked = 0
    for d in js["districts"]:
        for i in d["indicators"]:
            r = rows[(d["code"], i["key"])]
            assert r[header.index("Thực hiện")] == i["actual"]
            assert r[header.index("Chỉ tiêu đăng ký")] == i["target"]
            assert r[header.index("Tỷ lệ (%)")] == i["percent"]
            assert r[header.index("Cần đạt đến nay")] == i["expected"]
            assert r[header.index("Dự báo (theo nhịp hiện tại)")] == i["projected"]
            achieved = r[header.index("Ngày hoàn thành")]
            assert (achieved.date().isoformat() if achieved else None) == i["achieved_on"]
            checked += 1
    assert checked == 30
    ranking = {r[1]: r for r in wb["Xếp hạng"].iter_rows(min_row=2, max_row=7, values_only=True)}
    for d in js["districts"]:
        assert (ranking[d["code"]][0], ranking[d["code"]][3]) == (d["rank"], d["score"])
    totals = {row[0]: row for row in wb["Tổng hợp"].iter_rows(values_only=True)
              if row[0] in {t["key"] for t in js["totals"]}}
    for t in js["totals"]:
        assert totals[t["key"]][3:6] == (t["actual"], t["target"], t["percent"])


def _uploaded_text_stays_text(ws, stored: int) -> None:
    header = [c.value for c in ws[1]]
    note_col = header.index("Ghi chú")
    notes = {row[note_col].value: row[note_col] for row in ws.iter_rows(min_row=2) if row[note_col].value}
    assert HOSTILE_NOTE in notes and notes[HOSTILE_NOTE].data_type == "s"
    assert notes[HOSTILE_NOTE].quotePrefix  # Excel keeps it text even when the cell is edited
    assert "#N/A" in notes and notes["#N/A"].data_type == "s"
    assert "+1 thu bổ sung quý II" in notes  # the control character is stripped, the rest kept
    assert notes["@SUM(1+1)"].data_type == "s"
    # Every stored figure is listed, with its lineage.
    assert ws.max_row - 1 == stored
    first = [c.value for c in ws[2]]
    assert first[header.index("Tệp")].startswith("Báo cáo tuần") and first[header.index("Trang tính")] == "Báo cáo"
    assert first[header.index("Ô")].startswith("F") and first[header.index("Thời điểm nhận")] is not None


def test_report_review_writes_the_pack(cli, ctx, stored, tmp_path):
    result = cli("report", "review", "--period", "2023-H1", "-o", str(tmp_path / "pack"))
    assert result.exit_code == 0, result.stderr
    suffixes = sorted({Path(p).suffix for p in result.stdout.splitlines()})
    assert suffixes == [".docx", ".md", ".pdf", ".png", ".pptx", ".xlsx"]
    md = next(Path(p) for p in result.stdout.splitlines() if p.endswith(".md")).read_text(encoding="utf-8")
    assert "đến ngày 30/06/2023" in md
    # The congress deadline paragraph names the districts that finished early (from achieved_on).
    assert "4 đơn vị hoàn thành sớm so với kế hoạch là Hoàn Kiếm (28/04/2023), Hoàng Mai (12/05/2023)" in md


def test_a_period_outside_the_cluster_year_is_a_usage_error(cli, ctx):
    result = cli("report", "review", "--period", "2022-H1")
    assert result.exit_code == 2 and "2022-H1" in result.stderr
    result = cli("report", "review", "--period", "H1")
    assert result.exit_code == 2 and "2023-H1" in result.stderr


def test_an_as_of_date_outside_the_year_is_a_usage_error(cli, ctx):
    result = cli("report", "weekly", "--as-of", "05/01/2024")
    assert result.exit_code == 2 and result.stdout == ""


def test_every_output_names_a_districts_week_with_the_same_word(cli, ctx, stored, config_path, tmp_path):
    """`status`, the weekly workbook (summary and reporting sheet) and the overview workbook all say on time,
    late or not reported with the words of tracker.progress.Reporting."""
    from tracker.progress import Reporting, reporting_label

    rows = list(csv.DictReader(io.StringIO(cli("status", "--as-of", "30/06/2023", "--format", "csv").stdout)))
    expected = {r["district_code"]: reporting_label(Reporting.of(r["reported_this_week"] == "true",
                                                                 r["late"] == "true")) for r in rows}
    assert expected == {"HK": "Nộp muộn", "BD": "Chưa báo cáo", "HBT": "Đúng hạn", "LB": "Đúng hạn",
                        "DD": "Đúng hạn", "HM": "Đúng hạn"}  # the sample: Hoàn Kiếm late, Ba Đình missing
    names = {r["district_code"]: r["district_name"] for r in rows}

    table = cli("status", "--as-of", "30/06/2023").stdout.splitlines()
    shown = {code: next(line for line in table if name in line) for code, name in names.items()}
    assert all(line.rstrip().endswith(expected[code]) for code, line in shown.items()), shown

    result = cli("report", "weekly", "--as-of", "30/06/2023")
    wb = load_workbook(next(Path(p) for p in result.stdout.splitlines() if p.endswith(".xlsx")))
    this_week = {r[0]: r[2] for r in wb["Tình hình nộp báo cáo"].iter_rows(min_row=3, max_row=8, values_only=True)}
    summary = {r[1]: r[-1] for r in wb["Tổng hợp"].iter_rows(min_row=7, max_row=12, max_col=9, values_only=True)}
    assert this_week == expected and summary == {names[c]: word for c, word in expected.items()}

    assert cli("overview", config_path, "--as-of", "30/06/2023", "-o", tmp_path / "ov").exit_code == 0
    districts = load_workbook(next((tmp_path / "ov").glob("*.xlsx")))["Các đơn vị"]
    assert {r[3]: r[-1] for r in districts.iter_rows(min_row=2, values_only=True)} == expected
