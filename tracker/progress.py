"""The progress rules of docs/indicators-and-progress.md — the one implementation used by status, reports and e-mails.

Pure functions over plain data: no database, no files, no clock. ``tracker.standing`` loads a
:class:`ProgressInput` from the database; everything that shows progress calls :func:`compute`.

INTERFACE (fixed, shared by reports, mail and web): the dataclasses below and
``compute(inp, as_of=None) -> ClusterProgress`` and ``ClusterProgress.to_json()``.

Decisions where the rules leave room (each has a test; docs/indicators-and-progress.md states them):

- **No target and no figure**: the status is ``no_target`` (without a registration the indicator does
  not apply to the district, whatever was reported).
- **Target 0** (a district registered nothing to do): any figure makes it ``achieved``; ``percent`` is
  null (100 × a / 0 cannot be computed); the indicator is left out of the score (it neither raises
  nor lowers it), like an indicator with no target.
- **A deadline of 29 February** in a year that has none falls on 28 February.
- **achieved_on** follows the figures as corrected: it is the as-of date of the first figure of the
  unbroken run of figures at or above the target that lasts up to the as-of date (for each as-of date
  the version received last counts). A correction that lowers a figure below the target means the
  district had not achieved it after all: ``achieved_on`` is null until a later figure reaches the
  target again, and then it is that later figure's date. ``achieved_on`` is null unless the status
  is ``achieved``.
- **Score** is kept unrounded on :class:`DistrictProgress`; the ranking uses it rounded to 4 decimals
  (ties share a rank), JSON shows it rounded to 4 decimals. A district with no target at all has no
  score and no rank and is listed last.
- **Cluster totals** sum the actuals of every district (no figure counts 0) and every registered target;
  percent is null when the targets sum to 0 or none is registered.
- **Late**: the first accepted submission of the week (by time received) arrived after the weekly
  deadline of that ISO week (local time of the cluster). A district that has not reported this week is
  not "late", it is "not reported".
- **Notes** shown with a result: the intake warnings of each district's latest sheet as of the date,
  plus one note per district that reported late this week.
"""

from __future__ import annotations

import gc
from bisect import bisect_left, bisect_right
from collections import defaultdict
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from typing import Literal
from zoneinfo import ZoneInfo

Status = Literal["achieved", "on_track", "behind", "at_risk", "no_data", "no_target"]
STATUSES: tuple[Status, ...] = ("achieved", "on_track", "behind", "at_risk", "no_data", "no_target")

# How good a status is, for sorting and comparing (higher is better); no_data / no_target are not judged.
STATUS_ORDER: dict[str, int] = {"no_target": -2, "no_data": -1, "at_risk": 0, "behind": 1, "on_track": 2,
                                "achieved": 3}

STATUS_LABELS_VI: dict[str, str] = {
    "achieved": "Hoàn thành",
    "on_track": "Đúng tiến độ",
    "behind": "Chậm tiến độ",
    "at_risk": "Nguy cơ không đạt",
    "no_data": "Chưa có số liệu",
    "no_target": "Chưa đăng ký chỉ tiêu",
}
STATUS_LABELS_EN: dict[str, str] = {
    "achieved": "Achieved",
    "on_track": "On track",
    "behind": "Behind",
    "at_risk": "At risk",
    "no_data": "No data",
    "no_target": "No target",
}


def status_label(status: str, language: str = "vi") -> str:
    """The word shown to users for a status (``vi`` or ``en``)."""
    return (STATUS_LABELS_EN if language == "en" else STATUS_LABELS_VI)[status]


class Reporting(StrEnum):
    """Where a district stands with this week's report (docs/indicators-and-progress.md §8): on time, late
    (the week's first accepted sheet came after the deadline), or not reported — never both late and not
    reported."""

    on_time = "on_time"
    late = "late"
    missing = "missing"

    @classmethod
    def of(cls, reported: bool, late: bool) -> Reporting:
        if not reported:
            return cls.missing
        return cls.late if late else cls.on_time


REPORTING_LABELS_VI: dict[Reporting, str] = {
    Reporting.on_time: "Đúng hạn",
    Reporting.late: "Nộp muộn",
    Reporting.missing: "Chưa báo cáo",
}
REPORTING_LABELS_EN: dict[Reporting, str] = {
    Reporting.on_time: "On time",
    Reporting.late: "Late",
    Reporting.missing: "Not reported",
}


def reporting_label(reporting: Reporting, language: str = "vi") -> str:
    """The word shown to users for a district's reporting this week (``vi`` or ``en``)."""
    return (REPORTING_LABELS_EN if language == "en" else REPORTING_LABELS_VI)[reporting]


def rules_text(rules: Rules, language: str = "vi") -> str:
    """The paragraph every report prints so anyone can check any number (docs/indicators-and-progress.md §11)."""
    ratio = f"{rules.behind_ratio * 100:g}"
    cap = f"{rules.score_cap * 100:g}"
    if language == "en":
        scoring = (f"the score is the weighted mean of actual/target per indicator, each counted at most {cap}%"
                   if rules.scoring_method == "capped" else
                   "per indicator the district with the best actual/target ratio gets full marks and the others "
                   "a share in proportion; the score is the weighted mean")
        return (
            "How to read: figures are year to date, from each district's latest accepted sheet up to the as-of "
            "date. % = actual/target. Expected = target × share of the year elapsed (or of the time to the "
            f"indicator's deadline). Achieved: actual ≥ target; on track: actual ≥ expected; behind: the run-rate "
            f"projection reaches {ratio}% of the target; otherwise at risk. {scoring[0].upper() + scoring[1:]} "
            "(an indicator with a target but no figure counts 0); equal scores share a rank."
        )
    scoring = (f"điểm là bình quân có trọng số của tỷ lệ thực hiện/chỉ tiêu, mỗi chỉ tiêu tính tối đa {cap}%"
               .replace(".", ",")
               if rules.scoring_method == "capped" else
               "mỗi chỉ tiêu, đơn vị có tỷ lệ thực hiện/chỉ tiêu cao nhất được điểm tối đa, đơn vị khác được "
               "điểm theo tỷ lệ so với đơn vị đó; điểm là bình quân có trọng số")
    return (
        "Cách đọc: số liệu luỹ kế từ đầu năm, lấy từ báo cáo được chấp nhận mới nhất của mỗi đơn vị đến ngày "
        "số liệu. % = thực hiện/chỉ tiêu. Cần đạt = chỉ tiêu × phần thời gian đã qua của năm (hoặc đến hạn "
        "của chỉ tiêu). Hoàn thành: thực hiện ≥ chỉ tiêu; đúng tiến độ: thực hiện ≥ cần đạt; chậm tiến độ: "
        f"dự báo theo nhịp hiện tại đạt từ {ratio.replace('.', ',')}% chỉ tiêu; còn lại là nguy cơ không đạt. "
        f"{scoring[0].upper() + scoring[1:]} (chỉ tiêu có đăng ký mà chưa có số liệu tính 0); "
        "đơn vị bằng điểm cùng hạng."
    )


@dataclass(frozen=True)
class IndicatorSpec:
    key: str
    label: str
    label_en: str
    unit: str = ""
    kind: str = "count"  # count | amount
    weight: float = 1.0
    deadline: tuple[int, int] | None = None  # (month, day)


@dataclass(frozen=True)
class DistrictSpec:
    code: str
    name: str


@dataclass(frozen=True)
class Observation:
    """One accepted year-to-date figure (from a submission that is not superseded or not; see §2)."""

    district: str
    indicator: str
    as_of: date
    value: float
    received_at: datetime  # aware; breaks ties between versions with the same as_of (last received wins)
    submission_id: int = 0


@dataclass(frozen=True)
class Receipt:
    """One accepted submission (for reporting completeness: reported this week, late)."""

    district: str
    as_of: date
    received_at: datetime  # aware
    submission_id: int = 0


@dataclass(frozen=True)
class Rules:
    behind_ratio: float = 0.8
    score_cap: float = 1.2
    scoring_method: Literal["capped", "leader"] = "capped"
    deadline_weekday: int = 5  # ISO weekday of the weekly reporting deadline (5 = Friday)
    deadline_time: time = time(17, 0)
    timezone: str = "Asia/Ho_Chi_Minh"


@dataclass(frozen=True)
class QualityNote:
    """A data-quality finding worth showing next to the numbers (a warning, a correction, a late report)."""

    district: str
    kind: str  # warning code from intake, or "late"
    message_vi: str
    message_en: str
    as_of: date | None = None
    indicator: str | None = None
    cell: str | None = None  # "Báo cáo!D9"
    submission_id: int = 0  # the submission the finding is about (0: not tied to one)


@dataclass(frozen=True)
class ProgressInput:
    cluster_id: str
    cluster_name: str
    year: int
    as_of: date
    districts: tuple[DistrictSpec, ...]
    indicators: tuple[IndicatorSpec, ...]
    targets: dict[tuple[str, str], float]  # (district code, indicator key) -> current target
    observations: tuple[Observation, ...]
    receipts: tuple[Receipt, ...]
    rules: Rules = Rules()
    notes: tuple[QualityNote, ...] = ()


@dataclass(frozen=True)
class IndicatorProgress:
    key: str
    actual: float | None
    target: float | None
    percent: float | None
    expected: float | None
    projected: float | None
    status: Status
    achieved_on: date | None
    as_of: date | None = None  # as_of of the figure used (None: no figure)
    week_change: float | None = None  # actual − actual a week earlier; None: no figure now
    status_before: Status | None = None  # the status a week earlier (None: that day is in the previous year)
    last_year_actual: float | None = None  # the figure as of the same day last year, from last year's figures


@dataclass(frozen=True)
class DistrictProgress:
    code: str
    name: str
    score: float | None
    rank: int | None
    last_as_of: date | None
    reported_this_week: bool
    late: bool
    indicators: tuple[IndicatorProgress, ...]
    first_received_this_week: datetime | None = None  # when this week's first accepted sheet arrived
    rank_change: int | None = None  # rank a week earlier − rank now (positive: moved up)

    def indicator(self, key: str) -> IndicatorProgress:
        return next(i for i in self.indicators if i.key == key)

    @property
    def reporting(self) -> Reporting:
        return Reporting.of(self.reported_this_week, self.late)


@dataclass(frozen=True)
class TotalProgress:
    key: str
    actual: float
    target: float | None
    percent: float | None
    week_change: float | None = None  # sum over districts with a figure now; None when none has one
    last_year_actual: float | None = None  # sum over districts with a last-year figure; None when none has one


@dataclass(frozen=True)
class ClusterProgress:
    cluster: str
    cluster_name: str
    year: int
    as_of: date
    indicators: tuple[IndicatorSpec, ...]
    districts: tuple[DistrictProgress, ...]  # in ranking order (rank, then config order)
    totals: tuple[TotalProgress, ...]
    notes: tuple[QualityNote, ...] = field(default=())
    week_start: date | None = None  # Monday of the as-of date's ISO week
    week_deadline: datetime | None = None  # the weekly reporting deadline of that week (aware, local)
    rules: Rules = Rules()  # the rules the figures were computed with (for the "how to read" paragraph)

    def district(self, code: str) -> DistrictProgress:
        return next(d for d in self.districts if d.code == code)

    def total(self, key: str) -> TotalProgress:
        return next(t for t in self.totals if t.key == key)

    def indicator_spec(self, key: str) -> IndicatorSpec:
        return next(i for i in self.indicators if i.key == key)

    @property
    def not_reported(self) -> tuple[DistrictProgress, ...]:
        """Districts without an accepted sheet this week (in ranking order)."""
        return tuple(d for d in self.districts if not d.reported_this_week)

    def to_json(self) -> dict:
        """The ``status --format json`` object of docs/commands.md §8 (rounded: docs/indicators-and-progress.md §10)."""
        return {
            "cluster": self.cluster,
            "year": self.year,
            "as_of": self.as_of.isoformat(),
            "districts": [
                {
                    "code": d.code,
                    "name": d.name,
                    "score": _round(d.score, 4),
                    "rank": d.rank,
                    "last_as_of": _iso(d.last_as_of),
                    "reported_this_week": d.reported_this_week,
                    "rank_change": d.rank_change,
                    "indicators": [
                        {
                            "key": i.key,
                            "actual": _number(i.actual),
                            "target": _number(i.target),
                            "percent": _round(i.percent, 2),
                            "expected": _round(i.expected, 2),
                            "projected": _round(i.projected, 2),
                            "status": i.status,
                            "achieved_on": _iso(i.achieved_on),
                            "week_change": _number(i.week_change),
                            "last_year_actual": _number(i.last_year_actual),
                        }
                        for i in d.indicators
                    ],
                }
                for d in self.districts
            ],
            "totals": [
                {"key": t.key, "actual": _number(t.actual), "target": _number(t.target),
                 "percent": _round(t.percent, 2), "week_change": _number(t.week_change),
                 "last_year_actual": _number(t.last_year_actual)}
                for t in self.totals
            ],
        }


# ---------------------------------------------------------------------------------------------------
# The rules, one small function each


def days_in_year(year: int) -> int:
    return 366 if _is_leap(year) else 365


def _is_leap(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


def deadline_date(year: int, deadline: tuple[int, int]) -> date:
    """The indicator deadline (month, day) in ``year``; 29 February falls on 28 February in other years."""
    month, day = deadline
    if (month, day) == (2, 29) and not _is_leap(year):
        day = 28
    return date(year, month, day)


def elapsed_fraction(as_of: date, deadline: tuple[int, int] | None = None) -> float:
    """Share of the period gone by as of ``as_of`` (counting that day): the year, or 1 Jan → the deadline.

    1 January of a 365-day year gives 1/365; a deadline already passed gives 1.
    """
    start = date(as_of.year, 1, 1)
    days = (as_of - start).days + 1
    if deadline is None:
        return days / days_in_year(as_of.year)
    period = (deadline_date(as_of.year, deadline) - start).days + 1
    return min(days / period, 1.0)


def percent_of(actual: float | None, target: float | None) -> float | None:
    if actual is None or not target:
        return None
    return 100.0 * actual / target


def judge(actual: float | None, target: float | None, fraction: float, behind_ratio: float) -> Status:
    """The status of §3 from a figure, a target and the elapsed fraction."""
    if target is None:
        return "no_target"
    if actual is None:
        return "no_data"
    if actual >= target:
        return "achieved"
    if actual >= target * fraction:
        return "on_track"
    if actual / fraction >= behind_ratio * target:
        return "behind"
    return "at_risk"


def score_capped(ratios: list[tuple[float, float]], cap: float) -> float | None:
    """Σ w·min(ratio, cap) / Σ w over ``[(weight, ratio), ...]``; None when the list is empty."""
    total_weight = sum(w for w, _ in ratios)
    if not ratios or total_weight <= 0:
        return None
    return sum(w * min(r, cap) for w, r in ratios) / total_weight


def competition_ranks(scores: list[float | None]) -> list[int | None]:
    """1, 2, 2, 4 ranking of ``scores`` after rounding to 4 decimals; None scores get no rank."""
    rounded = [None if s is None else round(s, 4) for s in scores]
    ordered = sorted((s for s in rounded if s is not None), reverse=True)
    first_position: dict[float, int] = {}
    for pos, s in enumerate(ordered, start=1):
        first_position.setdefault(s, pos)
    return [None if s is None else first_position[s] for s in rounded]


def iso_week_start(day: date) -> date:
    """Monday of ``day``'s ISO week (may fall in the previous year)."""
    return day - timedelta(days=day.isoweekday() - 1)


def weekly_deadline(day: date, rules: Rules) -> datetime:
    """The reporting deadline of ``day``'s ISO week, as an aware local datetime."""
    deadline_day = iso_week_start(day) + timedelta(days=rules.deadline_weekday - 1)
    return datetime.combine(deadline_day, rules.deadline_time, tzinfo=ZoneInfo(rules.timezone))


def week_ends(year: int, until: date) -> list[date]:
    """Every Sunday of ``year`` up to ``until``."""
    day = date(year, 1, 1)
    day += timedelta(days=(7 - day.isoweekday()) % 7)
    out = []
    while day <= until and day.year == year:
        out.append(day)
        day += timedelta(days=7)
    return out


# ---------------------------------------------------------------------------------------------------
# compute


class _Series:
    """The figures of one (district, indicator): one effective value per as-of date, in date order.

    For each as-of date the version received last wins; a blank in a later version does not erase an
    earlier version's figure, because blanks are never observations. A figure counts only within its
    own year: as of D, only figures dated in D's year are seen (a 29 December sheet is never a January
    figure), and a run of figures at or above the target never reaches back into the previous year.
    """

    __slots__ = ("dates", "values")

    def __init__(self, observations: list[Observation]):
        best: dict[date, Observation] = {}
        for o in observations:
            cur = best.get(o.as_of)
            if cur is None or (o.received_at, o.submission_id) > (cur.received_at, cur.submission_id):
                best[o.as_of] = o
        self.dates = sorted(best)
        self.values = [best[d].value for d in self.dates]

    def at(self, as_of: date) -> tuple[int, float | None]:
        """(index, value) of the figure as of ``as_of``; index −1 and None when there is none yet."""
        idx = bisect_right(self.dates, as_of) - 1
        if idx < 0 or self.dates[idx].year != as_of.year:
            return -1, None
        return idx, self.values[idx]

    def achieved_on(self, idx: int, target: float) -> date | None:
        """First date of the run of figures ≥ target that ends at ``idx`` (None if ``idx`` is below)."""
        if idx < 0 or self.values[idx] < target:
            return None
        year = self.dates[idx].year
        start = idx
        while start > 0 and self.values[start - 1] >= target and self.dates[start - 1].year == year:
            start -= 1
        return self.dates[start]


@dataclass(frozen=True)
class _Index:
    series: dict[tuple[str, str], _Series]
    receipts: dict[str, list[Receipt]]  # per district, sorted by as_of
    receipt_dates: dict[str, list[date]]  # the same receipts' as-of dates, for bisecting


def _index(inp: ProgressInput) -> _Index:
    grouped: dict[tuple[str, str], list[Observation]] = defaultdict(list)
    for o in inp.observations:
        grouped[(o.district, o.indicator)].append(o)
    receipts: dict[str, list[Receipt]] = defaultdict(list)
    for r in inp.receipts:
        receipts[r.district].append(r)
    for lst in receipts.values():
        lst.sort(key=lambda r: (r.as_of, r.received_at, r.submission_id))
    return _Index({k: _Series(v) for k, v in grouped.items()}, dict(receipts),
                  {code: [r.as_of for r in lst] for code, lst in receipts.items()})


@contextmanager
def paused_gc() -> Iterator[None]:
    """Pause the cyclic garbage collector while building many small acyclic objects.

    Reading and indexing ~100,000 figures allocates as many tuples and dataclasses; the collector's
    repeated passes over them cost about a third of the time, and none of them can form a cycle.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def current_figures(observations: Iterable[Observation], as_of: date) -> dict[tuple[str, str], Observation]:
    """The figure of each (district, indicator) as of ``as_of``: from the latest as-of date not after it
    within its year, and among the versions of that date the one received last (the figure rule)."""
    best: dict[tuple[str, str], Observation] = {}
    for o in observations:
        if o.as_of > as_of or o.as_of.year != as_of.year:
            continue
        pair = (o.district, o.indicator)
        cur = best.get(pair)
        if cur is None or (o.as_of, o.received_at, o.submission_id) > (cur.as_of, cur.received_at, cur.submission_id):
            best[pair] = o
    return best


def same_day_last_year(day: date) -> date:
    """The same day and month a year earlier; 29 February falls on 28 February."""
    if (day.month, day.day) == (2, 29):
        return date(day.year - 1, 2, 28)
    return day.replace(year=day.year - 1)


def compute(inp: ProgressInput, as_of: date | None = None) -> ClusterProgress:
    """Apply docs/indicators-and-progress.md as of ``as_of`` (default ``inp.as_of``); later figures are
    ignored. The week's changes compare with the progress seven days earlier."""
    as_of = as_of or inp.as_of
    with paused_gc():
        index = _index(inp)
        return _compute(inp, index, as_of, _week_before(inp, index, as_of))


def weekly_history(inp: ProgressInput, until: date | None = None, *, include_until: bool = True
                   ) -> list[ClusterProgress]:
    """Progress at every Sunday of the year up to ``until`` (default ``inp.as_of``), oldest first.

    With ``include_until`` the last point is ``until`` itself when it is not a Sunday, so the series
    ends at the as-of date of the report. The figures are indexed once for all points, and each
    Sunday's week changes compare with the Sunday before, computed just before it.
    """
    until = until or inp.as_of
    days = week_ends(inp.year, until)
    if include_until and (not days or days[-1] != until):
        days.append(until)
    out: list[ClusterProgress] = []
    with paused_gc():
        index = _index(inp)
        for day in days:
            before = out[-1] if out and out[-1].as_of == day - timedelta(days=7) else \
                _week_before(inp, index, day)
            out.append(_compute(inp, index, day, before))
    return out


def _week_before(inp: ProgressInput, index: _Index, as_of: date) -> ClusterProgress | None:
    """The progress seven days before ``as_of``, with the same targets; None when that day is in the
    previous year (year-to-date figures start again at 0 on 1 January)."""
    prior = as_of - timedelta(days=7)
    return _compute(inp, index, prior, None, changes=False) if prior.year == as_of.year else None


@dataclass(frozen=True)
class _Row:
    """One district's figures as of a date, before ranking."""

    spec: DistrictSpec
    indicators: tuple[IndicatorProgress, ...]
    last: Receipt | None  # its latest accepted sheet up to the date
    first_this_week: Receipt | None  # its first accepted sheet of the date's ISO week (by time received)


def _compute(inp: ProgressInput, index: _Index, as_of: date, before: ClusterProgress | None,
             *, changes: bool = True) -> ClusterProgress:
    if as_of.year != inp.year:
        raise ValueError(f"as-of date {as_of.isoformat()} is outside the cluster year {inp.year} of this input")
    week_start, deadline = iso_week_start(as_of), weekly_deadline(as_of, inp.rules)
    rows = [_row(inp, index, d, as_of, week_start) for d in inp.districts]
    if changes:
        rows = [_with_changes(row, inp.indicators, index, as_of, before) for row in rows]
    districts = _ranked(inp, rows, deadline)
    if changes and before is not None:
        districts = [replace(p, rank_change=_rank_change(before, p)) for p in districts]
    return ClusterProgress(
        cluster=inp.cluster_id, cluster_name=inp.cluster_name, year=inp.year, as_of=as_of,
        indicators=inp.indicators, districts=tuple(districts), totals=_totals(inp.indicators, rows, changes),
        notes=_notes(inp, rows, districts, as_of, deadline) if changes else (),
        week_start=week_start, week_deadline=deadline, rules=inp.rules,
    )


def _row(inp: ProgressInput, index: _Index, d: DistrictSpec, as_of: date, week_start: date) -> _Row:
    year_fraction = elapsed_fraction(as_of)
    indicators = []
    for spec in inp.indicators:
        f = elapsed_fraction(as_of, spec.deadline) if spec.deadline else year_fraction
        indicators.append(_indicator(spec, inp.targets.get((d.code, spec.key)),
                                     index.series.get((d.code, spec.key)), as_of, f, inp.rules))
    receipts = index.receipts.get(d.code, [])
    lo = bisect_left(index.receipt_dates.get(d.code, []), date(as_of.year, 1, 1))
    upto = receipts[lo: bisect_right(index.receipt_dates.get(d.code, []), as_of)]
    this_week = [r for r in upto if r.as_of >= week_start]
    first = min(this_week, key=lambda r: (r.received_at, r.submission_id)) if this_week else None
    return _Row(d, tuple(indicators), upto[-1] if upto else None, first)


def _indicator(spec: IndicatorSpec, target: float | None, series: _Series | None, as_of: date, f: float,
               rules: Rules) -> IndicatorProgress:
    idx, actual = series.at(as_of) if series else (-1, None)
    status = judge(actual, target, f, rules.behind_ratio)
    return IndicatorProgress(
        key=spec.key,
        actual=actual,
        target=target,
        percent=percent_of(actual, target),
        expected=None if target is None else target * f,
        projected=None if actual is None else actual / f,
        status=status,
        achieved_on=series.achieved_on(idx, target) if (series and status == "achieved") else None,
        as_of=series.dates[idx] if (series and idx >= 0) else None,
    )


def _with_changes(row: _Row, specs: tuple[IndicatorSpec, ...], index: _Index, as_of: date,
                  before: ClusterProgress | None) -> _Row:
    """The row with each indicator's week change, status a week earlier and same period last year."""
    earlier = before.district(row.spec.code) if before is not None else None
    last_year = same_day_last_year(as_of)
    out = []
    for spec, i in zip(specs, row.indicators, strict=True):
        previous = earlier.indicator(spec.key) if earlier is not None else None
        series = index.series.get((row.spec.code, spec.key))
        out.append(replace(
            i,
            week_change=week_change(i.actual, previous.actual if previous is not None else None,
                                    digits=2 if spec.kind == "amount" else 6),
            status_before=previous.status if previous is not None else None,
            last_year_actual=series.at(last_year)[1] if series else None,
        ))
    return replace(row, indicators=tuple(out))


def week_change(actual: float | None, week_before: float | None, *, digits: int = 6) -> float | None:
    """actual − the figure a week earlier, which counts as 0 when there was none (figures are year to
    date and start at 0 on 1 January); None when there is no figure now. Amounts are rounded to 2
    decimals; the default removes float noise only."""
    if actual is None:
        return None
    return round(actual - (week_before or 0.0), digits)


def _rank_change(before: ClusterProgress, now: DistrictProgress) -> int | None:
    """Rank a week earlier − rank now (positive: moved up); None when either rank is None."""
    earlier = before.district(now.code).rank
    return None if earlier is None or now.rank is None else earlier - now.rank


def _ranked(inp: ProgressInput, rows: list[_Row], deadline: datetime) -> list[DistrictProgress]:
    scores = _scores([list(r.indicators) for r in rows], inp.indicators, inp.rules)
    districts = []
    for row, score, rank in zip(rows, scores, competition_ranks(scores), strict=True):
        first = row.first_this_week
        districts.append(DistrictProgress(
            code=row.spec.code, name=row.spec.name, score=score, rank=rank,
            last_as_of=row.last.as_of if row.last else None,
            reported_this_week=first is not None, late=first is not None and first.received_at > deadline,
            indicators=row.indicators, first_received_this_week=first.received_at if first else None,
        ))
    position = {d.code: n for n, d in enumerate(inp.districts)}
    districts.sort(key=lambda p: (p.rank is None, p.rank or 0, position[p.code]))
    return districts


def _totals(specs: tuple[IndicatorSpec, ...], rows: list[_Row], changes: bool) -> tuple[TotalProgress, ...]:
    totals = []
    for n, spec in enumerate(specs):
        column = [r.indicators[n] for r in rows]
        actual = sum((i.actual or 0.0) for i in column)
        targets = [i.target for i in column if i.target is not None]
        target = sum(targets) if targets else None
        total = TotalProgress(spec.key, actual, target, percent_of(actual, target))
        if changes:
            total = replace(total, week_change=sum_or_none(i.week_change for i in column),
                            last_year_actual=sum_or_none(i.last_year_actual for i in column))
        totals.append(total)
    return tuple(totals)


def sum_or_none(values: Iterable[float | None]) -> float | None:
    """The sum of the values that are not None; None when all are (a total nobody has a figure for)."""
    present = [v for v in values if v is not None]
    return round(sum(present), 6) if present else None


def _notes(inp: ProgressInput, rows: list[_Row], districts: list[DistrictProgress], as_of: date,
           deadline: datetime) -> tuple[QualityNote, ...]:
    """The warnings of each district's latest sheet, then its late report; districts in ranking order."""
    latest_sheet = {r.spec.code: r.last.submission_id for r in rows if r.last and r.last.submission_id}
    first_sheet = {r.spec.code: r.first_this_week for r in rows}
    per_district: dict[str, list[QualityNote]] = defaultdict(list)
    for n in inp.notes:
        if (n.as_of is None or n.as_of <= as_of) and (
                not n.submission_id or latest_sheet.get(n.district) == n.submission_id):
            per_district[n.district].append(n)
    local = ZoneInfo(inp.rules.timezone)
    due = deadline.strftime("%d/%m/%Y %H:%M")
    for p in districts:
        first_receipt = first_sheet[p.code]
        if p.late and first_receipt is not None:
            when = first_receipt.received_at.astimezone(local).strftime("%d/%m/%Y %H:%M")
            per_district[p.code].append(QualityNote(
                district=p.code, kind="late",
                message_vi=f"Nộp báo cáo tuần muộn: nhận lúc {when}, hạn {due}.",
                message_en=f"Weekly report late: received {when}, deadline {due}.",
                as_of=first_receipt.as_of, submission_id=first_receipt.submission_id,
            ))
    order = [p.code for p in districts]
    notes = [n for code in order for n in per_district.pop(code, [])]
    notes += [n for rest in per_district.values() for n in rest]  # notes of districts not in the config
    return tuple(notes)


def _scores(per_district: list[list[IndicatorProgress]], specs: tuple[IndicatorSpec, ...],
            rules: Rules) -> list[float | None]:
    """Scores of the districts (same order), by the configured method. Target 0 or none: not scored."""
    ratios: list[list[float | None]] = []  # [district][indicator], None = not scored
    for indicators in per_district:
        ratios.append([None if not i.target else (i.actual or 0.0) / i.target for i in indicators])
    if rules.scoring_method == "leader":
        for n in range(len(specs)):
            best = max((r[n] for r in ratios if r[n] is not None), default=None)
            for r in ratios:
                if r[n] is not None:
                    r[n] = (r[n] / best) if best else 0.0
        cap = 1.0
    else:
        cap = rules.score_cap
    return [score_capped([(spec.weight, x) for spec, x in zip(specs, r, strict=True) if x is not None], cap)
            for r in ratios]


# ---------------------------------------------------------------------------------------------------
# JSON helpers


def _iso(value: date | None) -> str | None:
    return None if value is None else value.isoformat()


def _round(value: float | None, digits: int) -> float | None:
    return None if value is None else round(value, digits)


def _number(value: float | None) -> int | float | None:
    """A figure or target as a JSON number: whole values as integers, others without float noise."""
    if value is None:
        return None
    value = round(float(value), 6)
    return int(value) if value.is_integer() else value
