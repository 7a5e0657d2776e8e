"""The computed criteria of the assessment, read from the database (docs/assessment.md §2).

An indicator criterion takes the actual and target ``tracker status`` shows as of the assessment date;
the reporting criterion counts the weeks whose sheet came by the weekly deadline, with the same
deadline rule as the weekly completeness. Only current versions of accepted sheets count.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlmodel import Session, select

from tracker import models
from tracker.assessment.rules import (
    Award,
    Computed,
    Criterion,
    Extra,
    ScoringTable,
    due_weeks,
    indicator_score,
    on_time_weeks,
    reporting_score,
)
from tracker.config import Settings
from tracker.progress import Receipt, compute
from tracker.standing import load_input, rules_from_settings


def scoring_table(settings: Settings) -> ScoringTable:
    """The ``[assessment]`` of the config as the rules' plain data."""
    a = settings.assessment
    return ScoringTable(
        total_points=a.total_points,
        awards=tuple(Award(w.name, w.count) for w in a.awards),
        criteria=tuple(Criterion(c.code, c.group, c.label, c.points, c.source) for c in a.criteria),
        bonus=tuple(Extra(e.code, e.label, e.max) for e in a.bonus),
        penalty=tuple(Extra(e.code, e.label, e.max) for e in a.penalty),
    )


def computed_values(session: Session, settings: Settings, as_of: date) -> dict[str, dict[str, Computed]]:
    """Per unit code, per computed criterion code, its value as of ``as_of`` (the year is ``as_of``'s)."""
    table = scoring_table(settings)
    progress = compute(load_input(session, settings, as_of))
    rules = rules_from_settings(settings)
    weeks = due_weeks(as_of.year, as_of, rules)
    receipts = current_receipts(session, settings.cluster.id, as_of)
    out: dict[str, dict[str, Computed]] = {}
    for d in settings.districts:
        values: dict[str, Computed] = {}
        for c in table.criteria:
            if c.indicator is not None:
                ind = progress.district(d.code).indicator(c.indicator)
                values[c.code] = indicator_score(c.points, ind.actual, ind.target)
            elif c.source == "reporting":
                on_time = on_time_weeks(weeks, receipts.get(d.code, []), rules)
                values[c.code] = reporting_score(c.points, on_time, len(weeks))
        out[d.code] = values
    return out


def current_receipts(session: Session, cluster_id: str, as_of: date) -> dict[str, list[Receipt]]:
    """The current version of each accepted sheet of ``as_of``'s year up to ``as_of``, per unit code."""
    rows = session.exec(
        select(models.District.code, models.Submission.as_of, models.Submission.received_at, models.Submission.id)
        .join(models.District, models.District.id == models.Submission.district_id)
        .where(models.Submission.cluster_id == cluster_id,
               models.Submission.status == models.SubmissionStatus.accepted,
               models.Submission.superseded_by_id.is_(None),  # type: ignore[union-attr]
               models.Submission.as_of >= date(as_of.year, 1, 1), models.Submission.as_of <= as_of)).all()
    out: dict[str, list[Receipt]] = {}
    for code, day, received, sid in rows:
        out.setdefault(code, []).append(Receipt(code, day, _aware(received), sid))
    return out


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)
