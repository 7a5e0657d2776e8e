"""The cluster head's cross-check (docs/assessment.md §8): `tracker assess review-template` → fill `Điểm Cụm chấm` →
`tracker assess import`, all or nothing, every error at its cell."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime
from pathlib import Path

import openpyxl
from sqlmodel import select

from tests.intake_factory import report_for
from tests.test_intake_assessment import filled
from tracker import models
from tracker.assessment.store import cluster_scores, latest_review, load_assessment
from tracker.intake.assessment_template import unit_assessment_template
from tracker.intake.ingest import ingest_bytes

JUNE_30 = date(2023, 6, 30)
FIGS = {"new_unions": 19, "agreements": 10, "congresses": 45, "new_members": 1300, "union_fees": 2100.5}


def seeded(ctx):
    ingest_bytes(ctx, report_for("HBT", JUNE_30, FIGS), "hbt.xlsx", received_at=datetime(2023, 6, 30, 3, tzinfo=UTC))
    data = filled(unit_assessment_template(ctx, "HBT", 2023), {"2.1": 12, "2.2": 10, "T1": 2})
    assert ingest_bytes(ctx, data, "tu-cham.xlsx").status == "accepted"


def rows(ws) -> dict[tuple[str, str], int]:
    header = next(r for r in range(1, 20) if ws.cell(r, 1).value == "Mã đơn vị")
    return {(ws.cell(r, 1).value, ws.cell(r, 3).value): r for r in range(header + 1, ws.max_row + 1)}


def edited(path: Path, scores: dict[tuple[str, str], object], out: Path) -> Path:
    wb = openpyxl.load_workbook(path)
    ws = wb["Thẩm định"]
    where = rows(ws)
    for key, value in scores.items():
        ws.cell(where[key], 7).value = value
    wb.save(out)
    return out


def test_review_template_then_import_records_the_cluster_scores(ctx, cli, tmp_path):
    seeded(ctx)
    made = cli("assess", "review-template", "--year", "2023", "-o", tmp_path / "tham-dinh.xlsx")
    assert made.exit_code == 0, made.stderr
    ws = openpyxl.load_workbook(tmp_path / "tham-dinh.xlsx")["Thẩm định"]
    assert [ws.cell(7, c).value for c in range(1, 8)] == ["Mã đơn vị", "Tên đơn vị", "Mã tiêu chí", "Tiêu chí",
                                                          "Điểm chuẩn", "Điểm tự chấm", "Điểm Cụm chấm"]
    where = rows(ws)
    assert len(where) == 6 * 10
    assert ws.cell(where[("HBT", "2.1")], 6).value == 12 and ws.cell(where[("HBT", "2.1")], 7).value == 12
    assert not ws.cell(where[("HBT", "2.1")], 7).protection.locked
    assert ws.cell(where[("HBT", "1.1")], 7).protection.locked and ws.protection.sheet
    assert ws.cell(where[("LB", "2.1")], 7).value is None

    path = edited(tmp_path / "tham-dinh.xlsx", {("HBT", "2.1"): 11.5, ("HBT", "T1"): None, ("LB", "2.2"): 9},
                  tmp_path / "da-cham.xlsx")
    result = cli("assess", "import", path)
    assert result.exit_code == 0, result.stdout + result.stderr
    assert "đã ghi nhận (recorded) bảng thẩm định năm 2023" in result.stdout
    with ctx.session() as s:
        scores = cluster_scores(s, ctx.cluster_id, 2023)
        review = latest_review(s, ctx.cluster_id, 2023)
        assessment = load_assessment(s, ctx.settings, 2023, JUNE_30)
    assert scores["HBT"]["2.1"] == 11.5 and scores["HBT"]["T1"] is None and scores["LB"]["2.2"] == 9
    assert "1.1" not in scores["HBT"]  # computed rows are for reference only
    assert Path(review.stored_path).read_bytes() == path.read_bytes()
    assert Path(review.stored_path).is_relative_to(ctx.settings.paths.archive)
    hbt = assessment.unit("HBT")
    assert hbt.criterion("2.1").cluster == 11.5 and hbt.criterion("2.1").final == 11.5
    assert hbt.bonus[0].self == 2 and hbt.bonus[0].final == 2  # blank: not given, the self score stands


def test_an_import_with_one_bad_cell_records_nothing(ctx, cli, tmp_path):
    seeded(ctx)
    assert cli("assess", "review-template", "-o", tmp_path / "t.xlsx").exit_code == 0
    ws = openpyxl.load_workbook(tmp_path / "t.xlsx")["Thẩm định"]
    row = rows(ws)[("HM", "P1")]
    computed_row = rows(ws)[("HBT", "1.1")]
    path = edited(tmp_path / "t.xlsx", {("HBT", "2.1"): 14, ("HM", "P1"): 2.5}, tmp_path / "bad.xlsx")
    result = cli("assess", "import", path)
    assert result.exit_code == 1
    assert f"Thẩm định!G{row}: Điểm của tiêu chí P1 là 2,5, vượt điểm tối đa 2." in result.stdout
    assert "The score of P1 is 2,5, above its maximum of 2." in result.stdout
    with ctx.session() as s:
        assert s.exec(select(models.AssessmentReview)).all() == []
        assert s.exec(select(models.AssessmentReviewScore)).all() == []
    wb = openpyxl.load_workbook(tmp_path / "t.xlsx")
    wb["Thẩm định"].cell(computed_row, 7).value = 0.5
    wb["Thẩm định"].cell(rows(wb["Thẩm định"])[("BD", "2.1")], 7).value = "mười"
    wb["Thẩm định"].cell(rows(wb["Thẩm định"])[("BD", "2.2")], 1).value = "XYZ"
    wb.save(tmp_path / "bad2.xlsx")
    result = cli("assess", "import", tmp_path / "bad2.xlsx")
    assert result.exit_code == 1
    codes = [line.split(":")[0].strip() for line in result.stdout.splitlines()[1:]]
    assert codes == [f"Thẩm định!G{computed_row}", f"Thẩm định!G{rows(ws)[('BD', '2.1')]}",
                     f"Thẩm định!A{rows(ws)[('BD', '2.2')]}"]
    assert "score_computed_mismatch" not in result.stdout and "được tính từ số liệu" in result.stdout


def test_the_year_and_usage_errors(ctx, cli, tmp_path):
    assert cli("assess", "import", tmp_path / "none.xlsx").exit_code == 2
    assert cli("assess", "review-template", "--year", "2019").exit_code == 2
    assert cli("assess", "review-template", "-o", tmp_path / "t.xlsx").exit_code == 0
    wb = openpyxl.load_workbook(tmp_path / "t.xlsx")
    wb["Thẩm định"]["D3"] = 2022
    wb.save(tmp_path / "y.xlsx")
    result = cli("assess", "import", tmp_path / "y.xlsx")
    assert result.exit_code == 1 and "Thẩm định!D3: Năm '2022' không phải năm thi đua của cụm" in result.stdout


def test_assess_template_writes_a_units_workbook(ctx, cli, tmp_path):
    result = cli("assess", "template", "Long Biên", "--as-of", "30/06/2023", "-o", tmp_path / "lb.xlsx")
    assert result.exit_code == 0, result.stderr
    ws = openpyxl.load_workbook(io.BytesIO((tmp_path / "lb.xlsx").read_bytes()))["Tự chấm điểm"]
    assert ws["C4"].value == "LĐLĐ quận Long Biên" and ws["C6"].value.date() == JUNE_30
    assert cli("assess", "template", "XYZ").exit_code == 2
    assert cli("assess", "template", "LB", "--as-of", "30/06/2022", "--year", "2023").exit_code == 2
