"""Where a cluster stands: the database read into a :class:`~tracker.progress.ProgressInput`.

The rules themselves are pure and live in :mod:`tracker.progress`; this module is the I/O edge that
feeds them. Every command that shows progress calls :func:`cluster_progress` (or :func:`load_input`
and then :func:`tracker.progress.compute` / :func:`tracker.progress.weekly_history`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING

from sqlmodel import Session, select

from tracker import models
from tracker.config import Settings
from tracker.errors import NotInitialised, TrackerError
from tracker.progress import (
    ClusterProgress,
    DistrictSpec,
    IndicatorSpec,
    Observation,
    ProgressInput,
    QualityNote,
    Receipt,
    Rules,
    compute,
    paused_gc,
)
from tracker.targets import current_targets
from tracker.text import format_date

if TYPE_CHECKING:
    from tracker.context import Context


def rules_from_settings(settings: Settings) -> Rules:
    weekday, at = settings.cluster.deadline
    return Rules(
        behind_ratio=settings.thresholds.behind_ratio,
        score_cap=settings.thresholds.score_cap,
        scoring_method=settings.scoring.method,
        deadline_weekday=weekday,
        deadline_time=at,
        timezone=settings.cluster.timezone,
    )


def indicator_specs(settings: Settings) -> tuple[IndicatorSpec, ...]:
    out = []
    for ind in settings.indicators:
        deadline = None
        if ind.deadline:
            month, day = ind.deadline.split("-")
            deadline = (int(month), int(day))
        out.append(IndicatorSpec(key=ind.key, label=ind.label, label_en=ind.label_en, unit=ind.unit,
                                 kind=ind.kind, weight=ind.weight, deadline=deadline))
    return tuple(out)


@dataclass(frozen=True)
class AsOf:
    """The as-of date a command works with, and why (for a line on stderr)."""

    day: date
    notice_vi: str | None = None
    notice_en: str | None = None


def resolve_as_of(settings: Settings, as_of: date | None = None, *, today: date | None = None) -> AsOf:
    """The as-of date of a command: the one given, else today in the cluster's time zone.

    When the cluster year is over, the default is 31 December of that year (with a notice). A date
    outside the cluster year is a usage error (exit 2).
    """
    year = settings.cluster.year
    if as_of is None:
        today = today or datetime.now(settings.tz).date()
        if today.year > year:
            end = date(year, 12, 31)
            return AsOf(end, f"Năm {year} của cụm đã kết thúc: số liệu tính đến {format_date(end)}.",
                        f"The cluster year {year} is over: figures as of {end.isoformat()}.")
        as_of = today
    if as_of.year != year:
        raise TrackerError(
            f"Ngày {format_date(as_of)} nằm ngoài năm thi đua {year} của cụm {settings.cluster.id} "
            f"(chọn một ngày từ 01/01/{year} đến 31/12/{year}).",
            f"The date {as_of.isoformat()} is outside the cluster year {year} of {settings.cluster.id} "
            f"(choose a date from {year}-01-01 to {year}-12-31).",
            exit_code=2,
        )
    return AsOf(as_of)


def load_input(session: Session, settings: Settings, as_of: date) -> ProgressInput:
    """Everything the rules need as of ``as_of``, read in a handful of queries (no figure after it)."""
    with paused_gc():
        return _load_input(session, settings, as_of)


def _load_input(session: Session, settings: Settings, as_of: date) -> ProgressInput:
    cid, year = settings.cluster.id, settings.cluster.year
    if session.get(models.Cluster, cid) is None:
        raise NotInitialised(cid)
    # Core queries, not ORM ones: status reads every figure of the year (91,000 for 700 districts).
    conn = session.connection()
    district_code = dict(conn.execute(
        select(models.District.id, models.District.code).where(models.District.cluster_id == cid)).all())
    indicator_key = dict(conn.execute(
        select(models.Indicator.id, models.Indicator.key).where(models.Indicator.cluster_id == cid)).all())
    start = date(year, 1, 1)
    accepted = (models.Submission.cluster_id == cid,
                models.Submission.status == models.SubmissionStatus.accepted,
                models.Submission.as_of >= start, models.Submission.as_of <= as_of)

    # A figure's as-of date and time received are its submission's, so they are read once per sheet.
    sheets = {
        sid: (district_code[d], at, _aware(received))
        for sid, d, at, received in conn.execute(
            select(models.Submission.id, models.Submission.district_id, models.Submission.as_of,
                   models.Submission.received_at)
            .where(*accepted, models.Submission.district_id.is_not(None))  # type: ignore[union-attr]
        ).all()
    }
    receipts = tuple(Receipt(code, at, received, sid) for sid, (code, at, received) in sheets.items())
    observations = []
    for sid, i, value in conn.execute(
        select(models.Figure.submission_id, models.Figure.indicator_id, models.Figure.value)
        .join(models.Submission, models.Submission.id == models.Figure.submission_id)
        .where(*accepted)  # a figure belongs to its submission's cluster; no second filter, which can
    ).all():  # lead PostgreSQL, before its statistics catch up with a bulk import, to a quadratic plan
        code, at, received = sheets[sid]
        observations.append(Observation(code, indicator_key[i], at, value, received, sid))
    notes = tuple(
        QualityNote(district=sheets[sid][0], kind=code, message_vi=vi, message_en=en, as_of=sheets[sid][1],
                    indicator=key, cell=(f"{sheet}!{cell}" if sheet and cell else cell), submission_id=sid)
        for sid, code, vi, en, key, sheet, cell in conn.execute(
            select(models.Finding.submission_id, models.Finding.code, models.Finding.message_vi,
                   models.Finding.message_en, models.Finding.indicator_key, models.Finding.sheet, models.Finding.cell)
            .join(models.Submission, models.Submission.id == models.Finding.submission_id)
            .where(*accepted, models.Finding.severity == models.Severity.warning)  # this year's sheets only
            .order_by(models.Finding.id)
        ).all()
        if sid in sheets
    )
    return ProgressInput(
        cluster_id=cid,
        cluster_name=settings.cluster.name,
        year=year,
        as_of=as_of,
        districts=tuple(DistrictSpec(d.code, d.name) for d in settings.districts),
        indicators=indicator_specs(settings),
        targets=current_targets(session, cid, year),
        observations=tuple(observations),
        receipts=receipts,
        rules=rules_from_settings(settings),
        notes=notes,
    )


def cluster_progress(ctx: Context, as_of: date | None = None) -> ClusterProgress:
    """The progress of the context's cluster as of ``as_of`` (default: :func:`resolve_as_of`)."""
    day = resolve_as_of(ctx.settings, as_of).day
    with ctx.session() as session:
        inp = load_input(session, ctx.settings, day)
    return compute(inp)


def _aware(value: datetime) -> datetime:
    """Submission times are stored as UTC; some drivers hand them back naive."""
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)
