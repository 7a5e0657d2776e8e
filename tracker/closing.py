"""Closing a review period's figures (chốt số liệu) and the units' confirmations (docs/closing.md).

A review meeting discusses figures that every unit has confirmed and that no longer move. Sheets that
arrive after a close are kept (nothing is ever lost) but cannot silently change what the meeting saw:

- a **confirmation** records a unit, a period, an as-of date, the figures confirmed (their submissions),
  who and when; it lapses when the unit's figures up to that date change afterwards (an accepted sheet
  dated on or before it, received after the confirmation);
- a **close** freezes, per unit and indicator, the figure as of its date and its submission (a snapshot).
  The frozen figures are exactly those the database gave at the moment of the close: the figure rule
  applied to the sheets received up to then, which is also how a closed period's review pack is built;
- an **amendment after close** is a sheet accepted after the close and dated on or before its date;
- a **reopen** needs a reason; closing again makes a new snapshot; every close and reopen is kept.

Database functions take a session; the rules about figures are those of :mod:`tracker.progress`.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlmodel import Session, select

from tracker import models
from tracker.calendar import Period
from tracker.config import Settings
from tracker.errors import TrackerError
from tracker.progress import Observation, ProgressInput, current_figures
from tracker.standing import load_input
from tracker.targets import current_targets
from tracker.text import format_date

CLOSED, OPEN = "closed", "open"


@dataclass(frozen=True)
class Amendment:
    """A changed figure of a closed period: what the meeting saw, and what the unit sent since."""

    district: str
    indicator: str
    closed_value: float | None
    new_value: float | None


@dataclass(frozen=True)
class CloseResult:
    close: models.PeriodClose | None  # None when refused
    not_confirmed: tuple[str, ...]


# --- figures ----------------------------------------------------------------------------------------


def figures_as_of(session: Session, cluster_id: str, as_of: date, *, received_until: datetime | None = None,
                  unit: str | None = None) -> dict[tuple[str, str], Observation]:
    """The figure of each (unit code, indicator key) as of ``as_of``, from the accepted sheets received up
    to ``received_until`` (all of them when None); with ``unit``, that unit's only (read from the database
    alone: a request or a portal page shows one unit's figures)."""
    query = (
        select(models.District.code, models.Indicator.key, models.Submission.as_of, models.Figure.value,
               models.Submission.received_at, models.Submission.id)
        .join(models.Figure, models.Figure.submission_id == models.Submission.id)
        .join(models.District, models.District.id == models.Figure.district_id)
        .join(models.Indicator, models.Indicator.id == models.Figure.indicator_id)
        .where(models.Submission.cluster_id == cluster_id,
               models.Submission.status == models.SubmissionStatus.accepted,
               models.Submission.as_of >= date(as_of.year, 1, 1), models.Submission.as_of <= as_of)
    )
    if received_until is not None:
        query = query.where(models.Submission.received_at <= received_until)
    if unit is not None:
        query = query.where(models.District.code == unit)
    observations = [Observation(code, key, at, value, _aware(received), sid)
                    for code, key, at, value, received, sid in session.exec(query).all()]
    return current_figures(observations, as_of)


# --- confirmations ----------------------------------------------------------------------------------


def record_request(session: Session, cluster_id: str, period: Period, as_of: date, now: datetime
                   ) -> models.ConfirmationRequest:
    """The request for ``period`` as of ``as_of`` (recorded once; asking again keeps the first)."""
    found = session.exec(select(models.ConfirmationRequest).where(
        models.ConfirmationRequest.cluster_id == cluster_id, models.ConfirmationRequest.period == period.key,
        models.ConfirmationRequest.as_of == as_of)).first()
    if found is not None:
        return found
    row = models.ConfirmationRequest(cluster_id=cluster_id, period=period.key, as_of=as_of, requested_at=now)
    session.add(row)
    session.flush()
    return row


def confirm(session: Session, settings: Settings, period: Period, code: str, *, as_of: date | None = None,
            by: str, channel: str, now: datetime) -> models.Confirmation:
    """Record that unit ``code`` confirms its figures of ``period`` as of ``as_of`` (default: the date the
    period is closed as of, or was last asked for, or its last day)."""
    day = as_of or current_as_of(session, settings.cluster.id, period)
    check_in_period(period, day)
    district = _district(session, settings.cluster.id, code)
    mine = {key: o for (_unit, key), o in figures_as_of(session, settings.cluster.id, day, unit=code).items()}
    figures = [{"indicator": key, "value": o.value, "submission_id": o.submission_id, "as_of": o.as_of.isoformat()}
               for key, o in sorted(mine.items())]
    row = models.Confirmation(cluster_id=settings.cluster.id, period=period.key, as_of=day, district_id=district.id,
                              confirmed_at=now, confirmed_by=by.strip(), channel=channel, figures=figures)
    session.add(row)
    session.flush()
    return row


def valid_confirmations(session: Session, cluster_id: str, period: Period, as_of: date
                        ) -> dict[str, models.Confirmation]:
    """Per unit code, its latest confirmation of ``period`` as of ``as_of`` that has not lapsed."""
    rows = session.exec(
        select(models.Confirmation, models.District.code)
        .join(models.District, models.District.id == models.Confirmation.district_id)
        .where(models.Confirmation.cluster_id == cluster_id, models.Confirmation.period == period.key,
               models.Confirmation.as_of == as_of)
        .order_by(models.Confirmation.confirmed_at, models.Confirmation.id)).all()
    latest = {code: c for c, code in rows}
    changed = _last_change(session, cluster_id, as_of)
    return {code: c for code, c in latest.items()
            if code not in changed or changed[code] <= _aware(c.confirmed_at)}


def snapshot_confirmations(session: Session, close: models.PeriodClose) -> dict[str, models.Confirmation]:
    """Per unit code, its latest confirmation of the close's period and date whose figures are the
    snapshot's (each indicator's value): who confirmed what a closed period's pack shows. A sheet sent
    after the close lapses the unit's confirmation of its figures now, not of the frozen ones."""
    frozen: dict[str, dict[str, float]] = {}
    for (code, key), row in snapshot(session, close).items():
        if row.value is not None:
            frozen.setdefault(code, {})[key] = row.value
    rows = session.exec(
        select(models.Confirmation, models.District.code)
        .join(models.District, models.District.id == models.Confirmation.district_id)
        .where(models.Confirmation.cluster_id == close.cluster_id, models.Confirmation.period == close.period,
               models.Confirmation.as_of == close.as_of)
        .order_by(models.Confirmation.confirmed_at, models.Confirmation.id)).all()
    out = {}
    for c, code in rows:
        if {f["indicator"]: f["value"] for f in c.figures} == frozen.get(code, {}):
            out[code] = c
    return out


def _last_change(session: Session, cluster_id: str, as_of: date) -> dict[str, datetime]:
    """Per unit code, when its last accepted sheet dated in the year up to ``as_of`` was received."""
    rows = session.exec(
        select(models.District.code, models.Submission.received_at)
        .join(models.District, models.District.id == models.Submission.district_id)
        .where(models.Submission.cluster_id == cluster_id,
               models.Submission.status == models.SubmissionStatus.accepted,
               models.Submission.as_of >= date(as_of.year, 1, 1), models.Submission.as_of <= as_of)).all()
    out: dict[str, datetime] = {}
    for code, received in rows:
        out[code] = max(out.get(code, _aware(received)), _aware(received))
    return out


# --- what a unit is asked to confirm ---------------------------------------------------------------


@dataclass(frozen=True)
class FigureToConfirm:
    """One indicator of a unit, as a confirmation request shows it."""

    indicator: str
    value: float | None
    target: float | None
    figure_as_of: date | None  # the date of the sheet the figure comes from
    submission_id: int | None

    @property
    def percent(self) -> float | None:
        """The figure as a percentage of the target (None without a figure or a target above 0)."""
        if self.value is None or not self.target:
            return None
        return self.value / self.target * 100


@dataclass(frozen=True)
class ToConfirm:
    """A unit's figures of a period as of a date against its targets: what the confirmation message and
    the portal's form show (docs/closing.md §1). ``close`` is set when they are a close's snapshot."""

    code: str
    period: Period
    as_of: date
    close: models.PeriodClose | None
    figures: tuple[FigureToConfirm, ...]

    @property
    def fingerprint(self) -> str:
        """Changes whenever a figure shown changes. The portal's form carries it, so a confirmation is
        recorded only for the figures the person saw."""
        text = ";".join(f"{f.indicator}={f.value!r}@{f.submission_id}" for f in self.figures)
        return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


def to_confirm(session: Session, settings: Settings, period: Period, code: str, as_of: date) -> ToConfirm:
    """Unit ``code``'s figures of ``period`` as of ``as_of``, in config order with its targets; the
    snapshot's while the period is closed as of that date (a request for a closed period shows what the
    meeting will see)."""
    cid = settings.cluster.id
    close = latest_close(session, cid, period.key)
    frozen = close if is_closed(close) and close is not None and close.as_of == as_of else None
    got: dict[str, tuple[float | None, date | None, int | None]]
    if frozen is not None:
        got = {key: (row.value, row.figure_as_of, row.submission_id)
               for (unit, key), row in snapshot(session, frozen).items() if unit == code}
    else:
        got = {key: (o.value, o.as_of, o.submission_id)
               for (_unit, key), o in figures_as_of(session, cid, as_of, unit=code).items()}
    targets = current_targets(session, cid, period.year, unit=code)

    def one(key: str) -> FigureToConfirm:
        value, at, sid = got.get(key, (None, None, None))
        return FigureToConfirm(key, value, targets.get((code, key)), at, sid)

    return ToConfirm(code, period, as_of, frozen, tuple(one(ind.key) for ind in settings.indicators))


def latest_request(session: Session, cluster_id: str, year: int) -> models.ConfirmationRequest | None:
    """The confirmation request of ``year``'s periods sent last (what the portal's unit page asks about)."""
    return session.exec(select(models.ConfirmationRequest).where(
        models.ConfirmationRequest.cluster_id == cluster_id,
        models.ConfirmationRequest.period.in_([f"{year}-H1", str(year)]))  # type: ignore[attr-defined]
        .order_by(models.ConfirmationRequest.requested_at.desc(),  # type: ignore[attr-defined]
                  models.ConfirmationRequest.id.desc())).first()  # type: ignore[union-attr]


def latest_confirmation(session: Session, cluster_id: str, period: Period, as_of: date, code: str
                        ) -> models.Confirmation | None:
    """Unit ``code``'s latest confirmation of ``period`` as of ``as_of``, lapsed or not."""
    return session.exec(
        select(models.Confirmation)
        .join(models.District, models.District.id == models.Confirmation.district_id)
        .where(models.Confirmation.cluster_id == cluster_id, models.Confirmation.period == period.key,
               models.Confirmation.as_of == as_of, models.District.code == code)
        .order_by(models.Confirmation.confirmed_at.desc(), models.Confirmation.id.desc())  # type: ignore
    ).first()


# --- close and reopen -------------------------------------------------------------------------------


def latest_close(session: Session, cluster_id: str, period_key: str) -> models.PeriodClose | None:
    return session.exec(
        select(models.PeriodClose)
        .where(models.PeriodClose.cluster_id == cluster_id, models.PeriodClose.period == period_key)
        .order_by(models.PeriodClose.closed_at.desc(), models.PeriodClose.id.desc())  # type: ignore[union-attr]
    ).first()


def is_closed(close: models.PeriodClose | None) -> bool:
    return close is not None and close.reopened_at is None


def close_period(session: Session, settings: Settings, period: Period, *, as_of: date | None = None, by: str,
                 now: datetime, require_confirmed: bool = False) -> CloseResult:
    """Freeze the figures of ``period`` as of ``as_of`` (default its last day). With ``require_confirmed``
    nothing is closed while a unit has not confirmed them (``close`` is then None)."""
    cid = settings.cluster.id
    day = as_of or period.as_of
    check_in_period(period, day)
    if is_closed(latest_close(session, cid, period.key)):
        raise TrackerError(f"Kỳ {period.key} đang chốt; mở lại (tracker period reopen) trước khi chốt lại.",
                           f"The period {period.key} is closed; reopen it (tracker period reopen) before closing "
                           "it again.", exit_code=2)
    confirmed = valid_confirmations(session, cid, period, day)
    missing = tuple(d.code for d in settings.districts if d.code not in confirmed)
    if require_confirmed and missing:
        return CloseResult(None, missing)
    row = models.PeriodClose(cluster_id=cid, period=period.key, as_of=day, closed_at=now, closed_by=by)
    session.add(row)
    session.flush()
    _snapshot(session, settings, row)
    return CloseResult(row, missing)


def _snapshot(session: Session, settings: Settings, close: models.PeriodClose) -> None:
    ids = _ids(session, settings.cluster.id)
    figures = figures_as_of(session, settings.cluster.id, close.as_of, received_until=close.closed_at)
    for d in settings.districts:
        for ind in settings.indicators:
            o = figures.get((d.code, ind.key))
            session.add(models.PeriodSnapshot(
                cluster_id=close.cluster_id, close_id=close.id, district_id=ids.districts[d.code],
                indicator_id=ids.indicators[ind.key],
                value=None if o is None else o.value, submission_id=None if o is None else o.submission_id,
                figure_as_of=None if o is None else o.as_of))
    session.flush()


def reopen_period(session: Session, cluster_id: str, period: Period, *, reason: str, by: str,
                  now: datetime) -> models.PeriodClose:
    """Reopen a closed period; the reason is kept with who and when."""
    if not reason.strip():
        raise TrackerError("Cần ghi lý do mở lại kỳ (--reason).", "A reason is required to reopen (--reason).",
                           exit_code=2)
    close = latest_close(session, cluster_id, period.key)
    if not is_closed(close):
        raise TrackerError(f"Kỳ {period.key} không ở trạng thái chốt.", f"The period {period.key} is not closed.",
                           exit_code=2)
    assert close is not None
    close.reopened_at, close.reopened_by, close.reopen_reason = now, by, reason.strip()
    session.add(close)
    session.flush()
    return close


def snapshot(session: Session, close: models.PeriodClose) -> dict[tuple[str, str], models.PeriodSnapshot]:
    """A close's frozen figures by (unit code, indicator key)."""
    rows = session.exec(
        select(models.PeriodSnapshot, models.District.code, models.Indicator.key)
        .join(models.District, models.District.id == models.PeriodSnapshot.district_id)
        .join(models.Indicator, models.Indicator.id == models.PeriodSnapshot.indicator_id)
        .where(models.PeriodSnapshot.close_id == close.id)).all()
    return {(code, key): row for row, code, key in rows}


def frozen_input(session: Session, settings: Settings, close: models.PeriodClose) -> ProgressInput:
    """The progress input of a closed period, as of the close's date: the sheets received up to the close
    (so the weeks before it read as they did then), with each unit's figure pinned to the snapshot's,
    whatever arrived later (the review pack of a closed period, docs/closing.md §2)."""
    at = _aware(close.closed_at)
    inp = load_input(session, settings, close.as_of, received_until=at)
    pins = {pair: (row.value, row.figure_as_of, row.submission_id) for pair, row in snapshot(session, close).items()}
    return pin_figures(inp, pins, at)


def pin_figures(inp: ProgressInput, pins: Mapping[tuple[str, str], tuple[float | None, date | None, int | None]],
                at: datetime) -> ProgressInput:
    """``inp`` with the figure of each pinned (unit, indicator) as of ``inp.as_of`` being the pin's
    (value, figure's as-of date, submission): the pair's figures of the year from the pin's date up to
    ``inp.as_of`` are replaced by the pin (all of them when the pin has no figure). Earlier figures stay,
    so the weeks before keep their history."""
    start = date(inp.as_of.year, 1, 1)

    def replaced(o: Observation) -> bool:
        pin = pins.get((o.district, o.indicator))
        if pin is None or not start <= o.as_of <= inp.as_of:
            return False
        value, day, _ = pin
        return value is None or day is None or o.as_of >= day

    kept = [o for o in inp.observations if not replaced(o)]
    kept += [Observation(unit, key, day, value, at, sid or 0)
             for (unit, key), (value, day, sid) in pins.items() if value is not None and day is not None]
    return dataclasses.replace(inp, observations=tuple(kept))


# --- amendments -------------------------------------------------------------------------------------


def amendment_sheets(session: Session, close: models.PeriodClose) -> list[models.Submission]:
    """The sheets accepted after ``close`` and dated on or before its date (in its year)."""
    return list(session.exec(select(models.Submission).where(
        models.Submission.cluster_id == close.cluster_id,
        models.Submission.status == models.SubmissionStatus.accepted,
        models.Submission.received_at > close.closed_at,
        models.Submission.as_of >= date(close.as_of.year, 1, 1), models.Submission.as_of <= close.as_of,
    ).order_by(models.Submission.received_at, models.Submission.id)).all())


def amendments(session: Session, close: models.PeriodClose, *, unit: str | None = None) -> list[Amendment]:
    """Every (unit, indicator) whose figure as of the close's date now differs from the frozen one (with
    ``unit``, that unit's only)."""
    frozen = snapshot(session, close)
    now = figures_as_of(session, close.cluster_id, close.as_of, unit=unit)
    out = []
    for (code, key), row in sorted(frozen.items()):
        if unit is not None and code != unit:
            continue
        new = now.get((code, key))
        new_value = None if new is None else new.value
        if new_value != row.value:
            out.append(Amendment(code, key, row.value, new_value))
    return out


def covers(close_as_of: date, day: date) -> bool:
    """A sheet dated ``day`` amends a close as of ``close_as_of``: on or before it, in its year (docs/closing.md §3)."""
    return day <= close_as_of and day.year == close_as_of.year


def closes_covering(session: Session, cluster_id: str, day: date) -> list[models.PeriodClose]:
    """The closed periods a sheet dated ``day`` would amend (for the intake's warning)."""
    rows = session.exec(select(models.PeriodClose).where(
        models.PeriodClose.cluster_id == cluster_id, models.PeriodClose.reopened_at.is_(None),  # type: ignore
        models.PeriodClose.as_of >= day)).all()
    return [c for c in rows if covers(c.as_of, day)]


# --- the list of periods ----------------------------------------------------------------------------


def current_as_of(session: Session, cluster_id: str, period: Period) -> date:
    """The date a period's figures are looked at: its latest close's, else its latest request's, else its
    last day."""
    close = latest_close(session, cluster_id, period.key)
    if close is not None:
        return close.as_of
    request = session.exec(select(models.ConfirmationRequest).where(
        models.ConfirmationRequest.cluster_id == cluster_id, models.ConfirmationRequest.period == period.key)
        .order_by(models.ConfirmationRequest.requested_at.desc())).first()  # type: ignore[attr-defined]
    return request.as_of if request is not None else period.as_of


def period_states(session: Session, settings: Settings, periods: list[Period]) -> list[dict]:
    """The ``tracker period list`` objects (docs/closing.md §4), for the given periods."""
    out = []
    for period in periods:
        cid = settings.cluster.id
        close = latest_close(session, cid, period.key)
        day = current_as_of(session, cid, period)
        confirmed = valid_confirmations(session, cid, period, day)
        out.append({
            "period": period.key, "as_of": day.isoformat(), "state": CLOSED if is_closed(close) else OPEN,
            "closed_at": _aware(close.closed_at).isoformat() if is_closed(close) and close else None,
            "confirmed": [d.code for d in settings.districts if d.code in confirmed],
            "not_confirmed": [d.code for d in settings.districts if d.code not in confirmed],
            "amendments": len(amendment_sheets(session, close)) if close is not None else 0,
        })
    return out


def known_periods(session: Session, cluster_id: str) -> list[str]:
    """Keys of the periods that had a confirmation request or a close, oldest first."""
    keys = Counter(session.exec(select(models.PeriodClose.period).where(
        models.PeriodClose.cluster_id == cluster_id)).all())
    keys.update(session.exec(select(models.ConfirmationRequest.period).where(
        models.ConfirmationRequest.cluster_id == cluster_id)).all())
    return sorted(keys, key=lambda k: (k[:4], len(k) == 4))  # 2023-H1 before 2023


# --- helpers ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Ids:
    districts: dict[str, int]
    indicators: dict[str, int]


def _ids(session: Session, cluster_id: str) -> _Ids:
    return _Ids(
        dict(session.exec(select(models.District.code, models.District.id)
                          .where(models.District.cluster_id == cluster_id)).all()),
        dict(session.exec(select(models.Indicator.key, models.Indicator.id)
                          .where(models.Indicator.cluster_id == cluster_id)).all()))


def _district(session: Session, cluster_id: str, code: str) -> models.District:
    found = session.exec(select(models.District).where(models.District.cluster_id == cluster_id,
                                                       models.District.code == code)).first()
    if found is None:
        raise TrackerError(f"Không có đơn vị {code!r} trong cụm.", f"No unit {code!r} in this cluster.", exit_code=2)
    return found


def check_in_period(period: Period, day: date) -> None:
    if not (date(period.year, 1, 1) <= day <= period.as_of):
        raise TrackerError(
            f"Ngày {format_date(day)} không thuộc kỳ {period.key} (01/01/{period.year}–{format_date(period.as_of)}).",
            f"{day.isoformat()} is not in the period {period.key} ({period.year}-01-01 to {period.as_of.isoformat()}).",
            exit_code=2)


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)
