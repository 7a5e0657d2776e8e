"""What the pages show, read from the database as plain rows (no rule is computed here).

Progress comes from :func:`tracker.standing.cluster_progress`; the stored submissions, figures and
findings are read as they are, for the verdict page and the history.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import or_
from sqlmodel import Session, select

from tracker import models
from tracker.reporting.palette import FILL, INK, STRONG


@dataclass(frozen=True)
class FigureRow:
    key: str
    label: str
    unit: str
    kind: str
    value: float
    cell: str  # "Báo cáo!D9"


@dataclass(frozen=True)
class ScoreRow:
    """One line of a self-assessment workbook as read (docs/assessment.md §7)."""

    code: str
    value: float | None
    explanation: str
    cell: str  # "Tự chấm điểm!D18"


@dataclass(frozen=True)
class FindingRow:
    severity: str
    code: str
    cell: str | None
    indicator: str | None
    message_vi: str
    message_en: str


@dataclass(frozen=True)
class SubmissionView:
    id: int
    file_name: str
    received_at: datetime  # UTC as stored
    status: str  # accepted | rejected
    as_of: date | None
    district_code: str | None
    district_name: str | None
    superseded: bool
    error_count: int
    warning_count: int
    stored_path: str
    kind: str = "report"  # report | assessment (a self-assessment workbook)
    year: int | None = None  # a self-assessment's year
    assessed_as_of: date | None = None  # the date a self-assessment's computed scores are as of


@dataclass(frozen=True)
class Verdict:
    submission: SubmissionView
    figures: tuple[FigureRow, ...]
    errors: tuple[FindingRow, ...]
    warnings: tuple[FindingRow, ...]
    scores: tuple[ScoreRow, ...] = ()  # a self-assessment's lines


def web_sender(token_id: int) -> str:
    """What an upload through a link records as its sender: which link sent it (never the secret)."""
    return f"web-link:{token_id}"


def _submission_view(sub: models.Submission, district: models.District | None,
                     assessed: tuple[int, date] | None = None) -> SubmissionView:
    return SubmissionView(
        id=sub.id, file_name=sub.file_name, received_at=sub.received_at, status=sub.status, as_of=sub.as_of,
        district_code=district.code if district else None, district_name=district.name if district else None,
        superseded=sub.superseded_by_id is not None, error_count=sub.error_count,
        warning_count=sub.warning_count, stored_path=sub.stored_path, kind=sub.kind,
        year=assessed[0] if assessed else None, assessed_as_of=assessed[1] if assessed else None,
    )


def _assessed(session: Session, ids: list[int]) -> dict[int, tuple[int, date]]:
    """The year and assessment date of the accepted self-assessments among ``ids``."""
    if not ids:
        return {}
    rows = session.exec(select(models.AssessmentScore.submission_id, models.AssessmentScore.year,
                               models.AssessmentScore.as_of)
                        .where(models.AssessmentScore.submission_id.in_(ids)).distinct()).all()  # type: ignore[union-attr]
    return {sid: (year, as_of) for sid, year, as_of in rows}


def _visible(cluster_id: str, district_id: int, token_id: int):
    """Submissions a district link may see: its district's, and what was sent through the link itself
    (a rejected file whose district could not be read has no district)."""
    return (models.Submission.cluster_id == cluster_id,
            or_(models.Submission.district_id == district_id, models.Submission.sender == web_sender(token_id)))


def history(session: Session, cluster_id: str, district_id: int, token_id: int, limit: int = 50
            ) -> list[SubmissionView]:
    """The district's submissions, newest first."""
    rows = session.exec(
        select(models.Submission, models.District)
        .join(models.District, models.District.id == models.Submission.district_id, isouter=True)
        .where(*_visible(cluster_id, district_id, token_id))
        .order_by(models.Submission.received_at.desc(), models.Submission.id.desc())
        .limit(limit)
    ).all()
    assessed = _assessed(session, [sub.id for sub, _d in rows if sub.kind == models.SubmissionKind.assessment])
    return [_submission_view(sub, d, assessed.get(sub.id)) for sub, d in rows]


def district_submission(session: Session, cluster_id: str, district_id: int, token_id: int, submission_id: int
                        ) -> models.Submission | None:
    """The submission if this district link may see it, else None."""
    return session.exec(
        select(models.Submission).where(models.Submission.id == submission_id,
                                        *_visible(cluster_id, district_id, token_id))
    ).first()


def verdict(session: Session, sub: models.Submission) -> Verdict:
    district = session.get(models.District, sub.district_id) if sub.district_id else None
    figures = session.exec(
        select(models.Figure, models.Indicator)
        .join(models.Indicator, models.Indicator.id == models.Figure.indicator_id)
        .where(models.Figure.submission_id == sub.id)
        .order_by(models.Indicator.position)
    ).all()
    findings = session.exec(
        select(models.Finding).where(models.Finding.submission_id == sub.id).order_by(models.Finding.id)
    ).all()
    rows = [FindingRow(f.severity, f.code, _cell(f.sheet, f.cell), f.indicator_key, f.message_vi, f.message_en)
            for f in findings]
    scores = _scores(session, sub) if sub.kind == models.SubmissionKind.assessment else ()
    return Verdict(
        submission=_submission_view(sub, district, _assessed(session, [sub.id]).get(sub.id)), scores=scores,
        figures=tuple(FigureRow(ind.key, ind.label, ind.unit, ind.kind, fig.value, _cell(fig.sheet, fig.cell))
                      for fig, ind in figures),
        errors=tuple(r for r in rows if r.severity == models.Severity.error),
        warnings=tuple(r for r in rows if r.severity == models.Severity.warning),
    )


def _scores(session: Session, sub: models.Submission) -> tuple[ScoreRow, ...]:
    """A self-assessment's lines in the order of its workbook (the page names them from the scoring table)."""
    rows = session.exec(select(models.AssessmentScore).where(models.AssessmentScore.submission_id == sub.id)
                        .order_by(models.AssessmentScore.id)).all()
    return tuple(ScoreRow(r.code, r.value, r.explanation, _cell(r.sheet, r.cell) or "") for r in rows)


def _cell(sheet: str | None, cell: str | None) -> str | None:
    if cell and sheet and "!" not in cell:
        return f"{sheet}!{cell}"
    return cell


def status_css() -> str:
    """The status colours of the shared palette as CSS classes ``st-<status>`` (one palette everywhere)."""
    lines = []
    for status, fill in FILL.items():
        lines.append(f".st-{status}{{background:{fill};color:{INK[status]}}}")
        lines.append(f".dot-{status}{{background:{STRONG[status]}}}")
    return "\n".join(lines) + "\n"
