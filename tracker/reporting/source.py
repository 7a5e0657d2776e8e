"""The I/O edge of reporting: read what a report needs from the database, once.

Progress comes from :mod:`tracker.standing` + :mod:`tracker.progress` (never computed here); the
lineage of every stored figure and the upload counts come from the Figure / Submission tables.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime, time
from typing import TYPE_CHECKING

from sqlmodel import Session, select

from tracker import closing, models
from tracker.calendar import Period, parse_period
from tracker.config import Settings
from tracker.progress import ProgressInput, weekly_history
from tracker.reporting.data import (
    AmendmentRow,
    ClosedFigures,
    Confirmer,
    LineageRow,
    ReportData,
    SubmissionSummary,
)
from tracker.standing import load_input

if TYPE_CHECKING:
    from tracker.context import Context


def gather(ctx: Context, as_of: date, *, now: datetime | None = None, amendments: bool = False) -> ReportData:
    """Everything a weekly report or review pack shows, as of ``as_of`` (inclusive); with ``amendments``
    also the figures of the year's closed periods that changed after their close (the weekly report)."""
    settings = ctx.settings
    with ctx.session() as session:
        inp = load_input(session, settings, as_of)
        lineage = lineage_rows(session, settings, as_of)
        submissions = submission_summaries(session, settings, as_of)
        changed = amendment_rows(session, settings, as_of.year) if amendments else ()
    history = tuple(weekly_history(inp, as_of))
    assert history and history[-1].as_of == as_of
    local_now = (now or datetime.now(UTC)).astimezone(settings.tz).replace(tzinfo=None)
    return ReportData(progress=history[-1], history=history, rules=inp.rules, lineage=lineage,
                      submissions=submissions, head_name=settings.cluster.head.name, generated_at=local_now,
                      district_order=tuple(d.code for d in settings.districts), amendments=changed)


def amendment_rows(session: Session, settings: Settings, year: int) -> tuple[AmendmentRow, ...]:
    """Per period of ``year`` that is closed now (``YYYY-H1``, then ``YYYY``), every unit and indicator whose
    figure as of the close's date differs from the frozen one (:func:`tracker.closing.amendments`)."""
    names = {d.code: d.name for d in settings.districts}
    labels = {i.key: i.label for i in settings.indicators}
    out = []
    for key in (f"{year}-H1", str(year)):
        close = closing.latest_close(session, settings.cluster.id, parse_period(key).key)
        if close is None or not closing.is_closed(close):
            continue
        out += [AmendmentRow(period=key, closed_as_of=close.as_of, district=a.district,
                             district_name=names.get(a.district, a.district), indicator=a.indicator,
                             indicator_label=labels.get(a.indicator, a.indicator), closed_value=a.closed_value,
                             new_value=a.new_value)
                for a in closing.amendments(session, close)]
    order = {d.code: n for n, d in enumerate(settings.districts)}
    ind_order = {i.key: n for n, i in enumerate(settings.indicators)}
    out.sort(key=lambda r: (order.get(r.district, len(order)), ind_order.get(r.indicator, len(ind_order))))
    return tuple(out)


def gather_review(ctx: Context, period: Period, *, now: datetime | None = None) -> ReportData:
    """What a review pack shows: :func:`gather` as of the period's last day, or, while the period is closed
    (docs/closing.md §2), its snapshot as of the close's date, whatever arrived later, with who confirmed
    it and how many sheets amended it since."""
    settings = ctx.settings
    with ctx.session() as session:
        close = closing.latest_close(session, settings.cluster.id, period.key)
        if not closing.is_closed(close):
            close = None
        else:
            assert close is not None
            at = _aware(close.closed_at)
            inp = closing.frozen_input(session, settings, close)
            lineage = lineage_rows(session, settings, close.as_of, received_until=at)
            submissions = submission_summaries(session, settings, close.as_of, received_until=at)
            closed = closed_figures(session, settings, close)
    if close is None:
        return gather(ctx, period.as_of, now=now)
    return _report_data(settings, inp, lineage, submissions, now, closed)


def closed_figures(session: Session, settings: Settings, close: models.PeriodClose) -> ClosedFigures:
    """When and as of which day ``close`` froze the figures, who confirmed them (those very figures), how
    many sheets amended them since."""
    valid = closing.snapshot_confirmations(session, close)
    return ClosedFigures(
        as_of=close.as_of, closed_at=_local(close.closed_at, settings),
        confirmed=tuple(Confirmer(d.name, valid[d.code].confirmed_by, _local(valid[d.code].confirmed_at, settings))
                        for d in settings.districts if d.code in valid),
        not_confirmed=tuple(d.name for d in settings.districts if d.code not in valid),
        amendments=len(closing.amendment_sheets(session, close)))


def _report_data(settings: Settings, inp: ProgressInput, lineage: tuple[LineageRow, ...],
                 submissions: tuple[SubmissionSummary, ...], now: datetime | None,
                 closed: ClosedFigures | None = None) -> ReportData:
    history = tuple(weekly_history(inp, inp.as_of))
    assert history and history[-1].as_of == inp.as_of
    local_now = (now or datetime.now(UTC)).astimezone(settings.tz).replace(tzinfo=None)
    return ReportData(progress=history[-1], history=history, rules=inp.rules, lineage=lineage,
                      submissions=submissions, head_name=settings.cluster.head.name, generated_at=local_now,
                      district_order=tuple(d.code for d in settings.districts), closed=closed)


def _aware(value: datetime) -> datetime:
    """Submission times are stored as UTC; some drivers hand them back naive."""
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def _local(value: datetime, settings: Settings) -> datetime:
    """Local wall-clock time of the cluster, naive (Excel has no time zones)."""
    return _aware(value).astimezone(settings.tz).replace(tzinfo=None)


def lineage_rows(session: Session, settings: Settings, as_of: date, *, received_until: datetime | None = None
                 ) -> tuple[LineageRow, ...]:
    """Every stored figure of the cluster year up to ``as_of`` (superseded versions too), with its origin.
    With ``received_until``, only the sheets received up to then, as the database was at that moment."""
    cid = settings.cluster.id
    year_start = date(as_of.year, 1, 1)  # the as-of date's year (docs/indicators-and-progress.md)
    rows = session.exec(
        select(models.Figure, models.Submission, models.District, models.Indicator)
        .join(models.Submission, models.Submission.id == models.Figure.submission_id)
        .join(models.District, models.District.id == models.Figure.district_id)
        .join(models.Indicator, models.Indicator.id == models.Figure.indicator_id)
        .where(models.Figure.cluster_id == cid,
               models.Submission.status == models.SubmissionStatus.accepted,
               models.Figure.as_of >= year_start, models.Figure.as_of <= as_of)
    ).all()
    if received_until is not None:
        rows = [r for r in rows if _aware(r[1].received_at) <= received_until]
    shown = {s.id for _, s, _, _ in rows}
    out = []
    for f, s, d, i in rows:
        out.append(LineageRow(
            district=d.code, district_name=d.name, indicator=i.key, indicator_label=i.label, as_of=f.as_of,
            value=f.value, period_value=f.period_value, note=f.note, file_name=s.file_name,
            file_hash=s.file_hash, sheet=f.sheet, cell=f.cell, received_at=_local(s.received_at, settings),
            source=s.source, sender=s.sender, submission_id=s.id or 0,
            current=s.superseded_by_id is None or s.superseded_by_id not in shown,
        ))
    order = {d.code: n for n, d in enumerate(settings.districts)}
    ind_order = {ind.key: n for n, ind in enumerate(settings.indicators)}
    out.sort(key=lambda r: (order.get(r.district, 999), r.district, r.as_of, r.received_at, r.submission_id,
                            ind_order.get(r.indicator, 999)))
    return tuple(out)


def submission_summaries(session: Session, settings: Settings, as_of: date, *,
                         received_until: datetime | None = None) -> tuple[SubmissionSummary, ...]:
    """Per district: uploads accepted and rejected this year up to the report date, and the latest one
    (with ``received_until``: only those received up to then)."""
    cid = settings.cluster.id
    end = datetime.combine(as_of, time.max, tzinfo=settings.tz).astimezone(UTC)
    start = date(as_of.year, 1, 1)
    rows = session.exec(
        select(models.Submission, models.District.code)
        .join(models.District, models.District.id == models.Submission.district_id)
        .where(models.Submission.cluster_id == cid,
               models.Submission.kind == models.SubmissionKind.report)  # a self-assessment is no weekly upload
    ).all()
    accepted: dict[str, int] = defaultdict(int)
    rejected: dict[str, int] = defaultdict(int)
    latest: dict[str, models.Submission] = {}
    imported: dict[str, int] = defaultdict(int)
    for s, code in rows:
        if received_until is not None and _aware(s.received_at) > received_until:
            continue
        if s.source == models.SubmissionSource.history:  # a summary's row, not a weekly upload
            if s.status == models.SubmissionStatus.accepted and s.as_of is not None and start <= s.as_of <= as_of:
                imported[code] += 1
            continue
        if s.status == models.SubmissionStatus.accepted:
            if s.as_of is None or not (start <= s.as_of <= as_of):
                continue
            accepted[code] += 1
        else:
            if _aware(s.received_at) > end or (s.as_of is not None and not (start <= s.as_of <= as_of)):
                continue
            rejected[code] += 1
        if code not in latest or (_aware(s.received_at), s.id or 0) > (_aware(latest[code].received_at),
                                                                       latest[code].id or 0):
            latest[code] = s
    return tuple(
        SubmissionSummary(district=d.code, accepted=accepted[d.code], rejected=rejected[d.code],
                          last_received_at=_local(latest[d.code].received_at, settings) if d.code in latest else None,
                          last_file_name=latest[d.code].file_name if d.code in latest else None,
                          imported=imported[d.code])
        for d in settings.districts
    )
