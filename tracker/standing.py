"""Where a cluster stands: the database read into a :class:`~tracker.progress.ProgressInput`.

The rules themselves are pure and live in :mod:`tracker.progress`; this module is the I/O edge that
feeds them. Every command that shows progress calls :func:`cluster_progress` (or :func:`load_input`
and then :func:`tracker.progress.compute` / :func:`tracker.progress.weekly_history`).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING

from sqlalchemy import extract
from sqlmodel import Session, select

from tracker import models
from tracker.calendar import Period, default_period, parse_period
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
    same_day_last_year,
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


def resolve_as_of(settings: Settings, as_of: date | None = None, *, today: date | None = None,
                  years: Collection[int] = ()) -> AsOf:
    """The as-of date of a command: the one given, else today in the cluster's time zone.

    ``[cluster] year`` is the current year, not a wall: a date is accepted in that year or in any of
    ``years`` (the years that have targets or figures, :func:`years_with_data`). Without a date, when the
    current year is over the default is its 31 December (with a notice). Any other date is a usage
    error (exit 2) naming the years there are.
    """
    year = settings.cluster.year
    if as_of is None:
        today = today or datetime.now(settings.tz).date()
        if today.year > year:
            end = date(year, 12, 31)
            return AsOf(end, f"Năm {year} của cụm đã kết thúc: số liệu tính đến {format_date(end)}.",
                        f"The cluster year {year} is over: figures as of {end.isoformat()}.")
        as_of = today
    known = sorted({year, *years})
    if as_of.year not in known:
        listed = ", ".join(str(y) for y in known)
        raise TrackerError(
            f"Năm {as_of.year} (ngày {format_date(as_of)}) chưa có chỉ tiêu hay số liệu nào của cụm "
            f"{settings.cluster.id}; các năm có thể xem: {listed}.",
            f"The year {as_of.year} (date {as_of.isoformat()}) has no targets or figures of {settings.cluster.id}; "
            f"years you can see: {listed}.",
            exit_code=2,
        )
    return AsOf(as_of)


def years_with_data(session: Session, cluster_id: str) -> frozenset[int]:
    """The years that have registered targets or accepted figures of the cluster."""
    conn = session.connection()
    target_years = conn.execute(
        select(models.Target.year).where(models.Target.cluster_id == cluster_id).distinct()).scalars().all()
    figure_years = conn.execute(
        select(extract("year", models.Submission.as_of))
        .where(models.Submission.cluster_id == cluster_id,
               models.Submission.status == models.SubmissionStatus.accepted,
               models.Submission.as_of.is_not(None))  # type: ignore[union-attr]
        .distinct()).scalars().all()
    return frozenset(int(y) for y in (*target_years, *figure_years) if y is not None)


def resolve_day(ctx: Context, as_of: date | None = None, *, today: date | None = None) -> AsOf:
    """:func:`resolve_as_of` with the years the database holds for the context's cluster."""
    with ctx.session() as session:
        years = years_with_data(session, ctx.cluster_id)
    return resolve_as_of(ctx.settings, as_of, today=today, years=years)


def resolve_period(ctx: Context, period: str | None = None, *, today: date | None = None) -> Period:
    """The review period of a command or job: the one given (``2023-H1``, ``2023``) in any year with targets
    or figures, else :func:`~tracker.calendar.default_period` of ``[cluster] year``. A period of a year with
    neither is the same usage error (exit 2) as such a date (:func:`resolve_as_of`)."""
    settings = ctx.settings
    if period is None:
        today = today or datetime.now(settings.tz).date()
        period = default_period(settings.cluster.year, today)
    p = parse_period(period)
    with ctx.session() as session:
        years = years_with_data(session, ctx.cluster_id)
    if p.year not in {settings.cluster.year, *years}:
        listed = ", ".join(str(y) for y in sorted({settings.cluster.year, *years}))
        raise TrackerError(f"Kỳ {p.key}: năm {p.year} chưa có chỉ tiêu hay số liệu nào của cụm {ctx.cluster_id}; "
                           f"các năm có thể xem: {listed}.",
                           f"The period {p.key}: the year {p.year} has no targets or figures of {ctx.cluster_id}; "
                           f"years you can see: {listed}.", exit_code=2)
    return p


def load_input(session: Session, settings: Settings, as_of: date, *, received_until: datetime | None = None
               ) -> ProgressInput:
    """Everything the rules need as of ``as_of``, read in a handful of queries (no figure after it).

    With ``received_until``, only the sheets of the year received up to then count: the database as it was
    at that moment (a closed period's figures, docs/closing.md §2); last year's figures count whenever
    they were received.
    """
    with paused_gc():
        return _load_input(session, settings, as_of, received_until)


def _load_input(session: Session, settings: Settings, as_of: date, received_until: datetime | None = None
                ) -> ProgressInput:
    """The year is the as-of date's: its targets, its sheets, and last year's figures up to the same day
    (for the comparison with the same period last year)."""
    cid, year = settings.cluster.id, as_of.year
    if session.get(models.Cluster, cid) is None:
        raise NotInitialised(cid)
    # Core queries, not ORM ones: status reads every figure of the year (91,000 for 700 districts).
    conn = session.connection()
    district_code = dict(conn.execute(
        select(models.District.id, models.District.code).where(models.District.cluster_id == cid)).all())
    indicator_key = dict(conn.execute(
        select(models.Indicator.id, models.Indicator.key).where(models.Indicator.cluster_id == cid)).all())
    start = date(year, 1, 1)
    any_time = (models.Submission.cluster_id == cid, models.Submission.status == models.SubmissionStatus.accepted)
    in_cluster = any_time
    if received_until is not None:
        in_cluster += (models.Submission.received_at <= received_until,)
    accepted = (*in_cluster, models.Submission.as_of >= start, models.Submission.as_of <= as_of)

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
    # Last year's figures are no part of a close: those imported after it count too (docs/closing.md §2).
    observations += _last_year(conn, any_time, district_code, indicator_key, as_of)
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


def _last_year(conn, in_cluster: tuple, district_code: dict[int, str], indicator_key: dict[int, str],
               as_of: date) -> list[Observation]:
    """Last year's figures from 1 January up to the same day last year (29 February → 28 February)."""
    end = same_day_last_year(as_of)
    rows = conn.execute(
        select(models.Submission.district_id, models.Submission.as_of, models.Submission.received_at,
               models.Submission.id, models.Figure.indicator_id, models.Figure.value)
        .join(models.Figure, models.Figure.submission_id == models.Submission.id)
        .where(*in_cluster, models.Submission.as_of >= date(end.year, 1, 1), models.Submission.as_of <= end,
               models.Submission.district_id.is_not(None))  # type: ignore[union-attr]
    ).all()
    return [Observation(district_code[d], indicator_key[i], at, value, _aware(received), sid)
            for d, at, received, sid, i, value in rows if d in district_code and i in indicator_key]


def cluster_progress(ctx: Context, as_of: date | None = None) -> ClusterProgress:
    """The progress of the context's cluster as of ``as_of`` (default: :func:`resolve_day`)."""
    day = resolve_day(ctx, as_of).day
    with ctx.session() as session:
        inp = load_input(session, ctx.settings, day)
    return compute(inp)


def _aware(value: datetime) -> datetime:
    """Submission times are stored as UTC; some drivers hand them back naive."""
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)
