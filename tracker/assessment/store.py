"""Self-scores and the cluster's scores in the database, and the assessment they make (docs/assessment.md §5).

A unit's self-assessment workbook is a ``Submission`` of kind ``assessment`` (its bytes in the archive
or quarantine like any sheet); its lines are ``AssessmentScore`` rows. The latest accepted workbook of a
unit and year counts; earlier ones are kept. The head's cross-check import is an ``AssessmentReview`` with
its ``AssessmentReviewScore`` rows; the latest import of a year counts.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from sqlmodel import Session, select

from tracker import models
from tracker.assessment.computed import computed_values, scoring_table
from tracker.assessment.rules import Assessment, UnitInput, assess
from tracker.config import Settings


@dataclass(frozen=True)
class ScoreLine:
    """One scored code of a workbook: the value (None: blank) and the cell it came from."""

    code: str
    value: float | None
    cell: str
    explanation: str = ""


@dataclass(frozen=True)
class SelfAssessment:
    """The workbook of a unit and year that counts: when it came and its scores by code."""

    submission_id: int
    as_of: date
    received_at: datetime
    scores: dict[str, float | None] = field(default_factory=dict)
    explanations: dict[str, str] = field(default_factory=dict)


def store_self_scores(session: Session, submission: models.Submission, *, year: int, as_of: date,
                      lines: Iterable[ScoreLine], sheet: str) -> None:
    """Record an accepted self-assessment's lines (the caller commits with the submission)."""
    assert submission.id is not None and submission.district_id is not None
    for line in lines:
        session.add(models.AssessmentScore(
            cluster_id=submission.cluster_id, submission_id=submission.id, district_id=submission.district_id,
            year=year, as_of=as_of, code=line.code, value=line.value, explanation=line.explanation,
            sheet=sheet, cell=line.cell))


def self_assessments(session: Session, cluster_id: str, year: int) -> dict[str, SelfAssessment]:
    """Per unit code, its latest accepted self-assessment of ``year`` (by receipt time, then id)."""
    rows = session.exec(
        select(models.District.code, models.Submission.id, models.Submission.received_at,
               models.AssessmentScore.as_of, models.AssessmentScore.code, models.AssessmentScore.value,
               models.AssessmentScore.explanation)
        .join(models.Submission, models.Submission.id == models.AssessmentScore.submission_id)
        .join(models.District, models.District.id == models.AssessmentScore.district_id)
        .where(models.AssessmentScore.cluster_id == cluster_id, models.AssessmentScore.year == year,
               models.Submission.status == models.SubmissionStatus.accepted)
        .order_by(models.Submission.received_at, models.Submission.id)).all()
    latest: dict[str, SelfAssessment] = {}
    for unit, sid, received, as_of, code, value, explanation in rows:
        current = latest.get(unit)
        if current is None or current.submission_id != sid:
            current = latest[unit] = SelfAssessment(sid, as_of, _aware(received))
        current.scores[code] = value
        current.explanations[code] = explanation
    return latest


def self_scores(session: Session, cluster_id: str, year: int) -> dict[str, dict[str, float | None]]:
    """Per unit code, per code, the score of its latest self-assessment of ``year``."""
    return {unit: dict(a.scores) for unit, a in self_assessments(session, cluster_id, year).items()}


def store_review(session: Session, cluster_id: str, year: int, *, file_hash: str, file_name: str,
                 stored_path: str, rows: Iterable[tuple[str, ScoreLine]], sheet: str,
                 now: datetime | None = None) -> models.AssessmentReview:
    """Record one cross-check import: ``rows`` are (unit code, line). All or nothing: the caller commits."""
    review = models.AssessmentReview(cluster_id=cluster_id, year=year, file_hash=file_hash, file_name=file_name,
                                     stored_path=stored_path, received_at=now or datetime.now(UTC))
    session.add(review)
    session.flush()
    ids = dict(session.exec(select(models.District.code, models.District.id)
                            .where(models.District.cluster_id == cluster_id)).all())
    for unit, line in rows:
        session.add(models.AssessmentReviewScore(cluster_id=cluster_id, review_id=review.id,
                                                 district_id=ids[unit], code=line.code, value=line.value,
                                                 sheet=sheet, cell=line.cell))
    return review


def latest_review(session: Session, cluster_id: str, year: int) -> models.AssessmentReview | None:
    return session.exec(
        select(models.AssessmentReview)
        .where(models.AssessmentReview.cluster_id == cluster_id, models.AssessmentReview.year == year)
        .order_by(models.AssessmentReview.received_at.desc(), models.AssessmentReview.id.desc())  # type: ignore[attr-defined]
    ).first()


def cluster_scores(session: Session, cluster_id: str, year: int) -> dict[str, dict[str, float | None]]:
    """Per unit code, per code, the cluster's score in the latest cross-check import of ``year``."""
    review = latest_review(session, cluster_id, year)
    if review is None:
        return {}
    rows = session.exec(
        select(models.District.code, models.AssessmentReviewScore.code, models.AssessmentReviewScore.value)
        .join(models.District, models.District.id == models.AssessmentReviewScore.district_id)
        .where(models.AssessmentReviewScore.review_id == review.id)).all()
    out: dict[str, dict[str, float | None]] = {}
    for unit, code, value in rows:
        out.setdefault(unit, {})[code] = value
    return out


def has_assessment(session: Session, cluster_id: str, year: int) -> bool:
    """True when a unit sent a self-assessment of ``year`` or the head imported a cross-check."""
    return bool(self_assessments(session, cluster_id, year)) or latest_review(session, cluster_id, year) is not None


def load_assessment(session: Session, settings: Settings, year: int, as_of: date | None = None) -> Assessment:
    """The assessment of ``year`` as of ``as_of`` (default 31/12 of ``year``): computed criteria from the
    figures, manual scores from the latest self-assessments and cross-check."""
    as_of = as_of or date(year, 12, 31)
    cid = settings.cluster.id
    computed = computed_values(session, settings, as_of)
    own = self_scores(session, cid, year)
    cluster = cluster_scores(session, cid, year)
    units = [UnitInput(d.code, d.name, computed.get(d.code, {}), own.get(d.code, {}), cluster.get(d.code, {}))
             for d in settings.districts]
    return assess(scoring_table(settings), units, cluster=cid, year=year, as_of=as_of)


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)
