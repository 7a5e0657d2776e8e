"""Self-scores and the cluster's scores stored and read back: the latest workbook of a unit counts, the
latest cross-check counts, and a self-assessment never counts as a weekly report."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlmodel import select

from tests.test_status import add_sheet
from tracker import models
from tracker.assessment.computed import current_receipts
from tracker.assessment.store import (
    ScoreLine,
    cluster_scores,
    has_assessment,
    load_assessment,
    self_assessments,
    store_review,
    store_self_scores,
)


def _district(session, code: str) -> models.District:
    return session.exec(select(models.District).where(models.District.code == code)).one()


def _self(session, code: str, received: datetime, scores: dict[str, float | None]) -> models.Submission:
    sub = models.Submission(cluster_id="cum-1", file_hash=f"h{received.timestamp()}{code}", file_name="tu-cham.xlsx",
                            kind=models.SubmissionKind.assessment, district_id=_district(session, code).id,
                            received_at=received, sheet="Tự chấm điểm")
    session.add(sub)
    session.flush()
    lines = [ScoreLine(c, v, f"E{9 + i}") for i, (c, v) in enumerate(scores.items())]
    store_self_scores(session, sub, year=2023, as_of=date(2023, 6, 30), lines=lines, sheet="Tự chấm điểm")
    session.flush()
    return sub


def test_the_latest_self_assessment_counts_and_earlier_ones_are_kept(session):
    _self(session, "LB", datetime(2023, 7, 1, tzinfo=UTC), {"2.1": 10, "T1": 3})
    later = _self(session, "LB", datetime(2023, 7, 2, tzinfo=UTC), {"2.1": 12, "T1": None})
    got = self_assessments(session, "cum-1", 2023)
    assert got["LB"].submission_id == later.id and got["LB"].scores == {"2.1": 12, "T1": None}
    assert len(session.exec(select(models.AssessmentScore)).all()) == 4  # both versions kept
    assert self_assessments(session, "cum-1", 2022) == {}


def test_a_rejected_self_assessment_does_not_count(session):
    sub = _self(session, "HM", datetime(2023, 7, 1, tzinfo=UTC), {"2.1": 15})
    sub.status = models.SubmissionStatus.rejected
    session.add(sub)
    session.flush()
    assert "HM" not in self_assessments(session, "cum-1", 2023) and not has_assessment(session, "cum-1", 2023)


def test_the_latest_cross_check_counts(session):
    store_review(session, "cum-1", 2023, file_hash="a", file_name="tham-dinh.xlsx", stored_path="",
                 rows=[("LB", ScoreLine("2.1", 9, "D2"))], sheet="Thẩm định",
                 now=datetime(2023, 7, 3, tzinfo=UTC))
    store_review(session, "cum-1", 2023, file_hash="b", file_name="tham-dinh.xlsx", stored_path="",
                 rows=[("LB", ScoreLine("2.1", 11, "D2")), ("HM", ScoreLine("T1", None, "D3"))],
                 sheet="Thẩm định", now=datetime(2023, 7, 4, tzinfo=UTC))
    session.flush()
    assert cluster_scores(session, "cum-1", 2023) == {"LB": {"2.1": 11}, "HM": {"T1": None}}
    assert has_assessment(session, "cum-1", 2023)


def test_the_assessment_combines_computed_self_and_cluster_scores(session, ctx):
    add_sheet(session, "LB", date(2023, 6, 30), {"new_unions": 45}, received=datetime(2023, 6, 30, 3, tzinfo=UTC))
    _self(session, "LB", datetime(2023, 7, 1, tzinfo=UTC), {"2.1": 12, "2.2": 15, "T1": 3})
    store_review(session, "cum-1", 2023, file_hash="a", file_name="x.xlsx", stored_path="",
                 rows=[("LB", ScoreLine("2.1", 10, "D2"))], sheet="Thẩm định")
    session.flush()
    result = load_assessment(session, ctx.settings, 2023, date(2023, 6, 30))
    lb = next(u for u in result.units if u.code == "LB")
    by_code = {c.code: c for c in lb.criteria}
    assert (by_code["2.1"].self, by_code["2.1"].cluster, by_code["2.1"].final) == (12, 10, 10)
    assert by_code["1.1"].computed == 12.0 and lb.bonus[0].final == 3
    assert lb.rank == 1 and result.as_of == date(2023, 6, 30)


def test_a_self_assessment_is_never_a_weekly_report(session):
    _self(session, "LB", datetime(2023, 7, 1, tzinfo=UTC), {"2.1": 12})
    assert current_receipts(session, "cum-1", date(2023, 12, 31)) == {}
