"""Self-assessment workbooks in (docs/assessment.md §6, §7): the template, its round trip through every intake
path, each error naming its cell, quarantine with the annotated copy, the latest accepted counting."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime

import openpyxl
import pytest

from tests.intake_factory import report_for
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
