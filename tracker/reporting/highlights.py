"""The **Trong tuần** (this week) block of the weekly e-mail, workbook and dashboard (docs/outputs.md §4).

Pure functions over a :class:`~tracker.progress.ClusterProgress`: the week's facts come from the
engine (``week_change``, ``status_before``, ``achieved_on``, ``last_as_of``); this module only chooses
which of them to show and words them:

- targets achieved this week: the status is ``achieved`` and a week earlier it was not (in the first
  week of January, when there is no "week earlier", the day achieved is within the last 7 days);
- units whose status got worse this week (e.g. Đúng tiến độ → Chậm tiến độ), judged statuses only;
- the largest rises: the 3 biggest positive week changes measured as a share of the target;
- units with no new figure for 3 weeks or more: the as-of date of their latest sheet is 21 days or more
  before the report's date, or they have sent none although the year is 3 weeks old.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from tracker.progress import STATUS_ORDER, ClusterProgress, IndicatorSpec, Status
from tracker.reporting.wording import STATUS_VI, percent_text, value_text
from tracker.text import format_change, format_date, nfc

TOP_RISES = 3
SILENT_WEEKS = 3


@dataclass(frozen=True)
class Achieved:
    code: str
    name: str
    spec: IndicatorSpec
    actual: float
    target: float
    achieved_on: date | None


@dataclass(frozen=True)
class Worse:
    code: str
    name: str
    spec: IndicatorSpec
    before: Status
    now: Status


@dataclass(frozen=True)
class Rise:
    code: str
    name: str
    spec: IndicatorSpec
    change: float
    share: float  # the change as a percentage of the target


@dataclass(frozen=True)
class Silent:
    code: str
    name: str
    last_as_of: date | None  # None: no accepted sheet this year
    weeks: int | None  # whole weeks since last_as_of


@dataclass(frozen=True)
class WeekHighlights:
    achieved: tuple[Achieved, ...]
    worse: tuple[Worse, ...]
    rises: tuple[Rise, ...]
    silent: tuple[Silent, ...]

    @property
    def empty(self) -> bool:
        return not (self.achieved or self.worse or self.rises or self.silent)


def week_highlights(progress: ClusterProgress, *, top: int = TOP_RISES,
                    silent_weeks: int = SILENT_WEEKS) -> WeekHighlights:
    """What happened in the week up to ``progress.as_of``, districts in ranking order."""
    specs = {s.key: s for s in progress.indicators}
    week_ago = progress.as_of - timedelta(days=7)
    achieved, worse, rises = [], [], []
    for d in progress.districts:
        for i in d.indicators:
            spec = specs[i.key]
            if i.status == "achieved" and _new(i.status_before, i.achieved_on, week_ago):
                achieved.append(Achieved(d.code, d.name, spec, i.actual or 0.0, i.target or 0.0, i.achieved_on))
            if i.status_before is not None and _worse(i.status_before, i.status):
                worse.append(Worse(d.code, d.name, spec, i.status_before, i.status))
            if i.week_change and i.week_change > 0 and i.target:
                rises.append(Rise(d.code, d.name, spec, i.week_change, 100.0 * i.week_change / i.target))
    rises.sort(key=lambda r: -r.share)  # stable: equal shares keep the ranking order
    return WeekHighlights(tuple(achieved), tuple(worse), tuple(rises[:top]),
                          tuple(_silent(progress, silent_weeks)))


def _new(before: Status | None, achieved_on: date | None, week_ago: date) -> bool:
    if before is not None:
        return before != "achieved"
    return achieved_on is not None and achieved_on > week_ago


def _worse(before: Status, now: Status) -> bool:
    """Both statuses judged (not no_data / no_target) and the new one lower."""
    return min(STATUS_ORDER[before], STATUS_ORDER[now]) >= 0 and STATUS_ORDER[now] < STATUS_ORDER[before]


def _silent(progress: ClusterProgress, weeks: int) -> list[Silent]:
    days = 7 * weeks
    year_old = (progress.as_of - date(progress.year, 1, 1)).days >= days
    out = []
    for d in progress.districts:
        if d.last_as_of is None:
            if year_old:
                out.append(Silent(d.code, d.name, None, None))
        elif (progress.as_of - d.last_as_of).days >= days:
            out.append(Silent(d.code, d.name, d.last_as_of, (progress.as_of - d.last_as_of).days // 7))
    return out


# ---------------------------------------------------------------------------------------------------
# Words (the same lines in the e-mail's HTML and text, the workbook and the dashboard)

TITLE = "Trong tuần"


def change_text(value: float | None, spec: IndicatorSpec) -> str:
    """A week change beside an actual: ``+3``, ``+1.250,5``; ``—`` when there is none."""
    return format_change(value, 0 if spec.kind == "count" else None)


def blocks(h: WeekHighlights) -> list[dict]:
    """The four lists, each ``{"title", "lines", "empty"}`` (``empty``: what to say when there is none)."""
    def ratio(a: Achieved) -> str:
        return f"{value_text(a.actual, a.spec)}/{value_text(a.target, a.spec)} {a.spec.unit}".strip()

    achieved = [f"{a.name}: {a.spec.label} {ratio(a)}" + (f" (ngày {format_date(a.achieved_on)})"
                                                         if a.achieved_on else "") for a in h.achieved]
    worse = [f"{w.name} — {w.spec.label}: {STATUS_VI[w.before]} → {STATUS_VI[w.now]}" for w in h.worse]
    rises = [f"{r.name} — {r.spec.label}: {change_text(r.change, r.spec)} {r.spec.unit}".rstrip()
             + f" (bằng {percent_text(r.share)} chỉ tiêu)" for r in h.rises]
    silent = [s.name + (f" (số liệu gần nhất đến {format_date(s.last_as_of)}, {s.weeks} tuần trước)"
                        if s.last_as_of else " (chưa có báo cáo nào trong năm)") for s in h.silent]
    out = [
        {"title": "Chỉ tiêu mới hoàn thành trong tuần", "lines": achieved,
         "empty": "Không có chỉ tiêu nào mới hoàn thành trong tuần."},
        {"title": "Đơn vị có chỉ tiêu chuyển trạng thái xấu đi", "lines": worse, "empty": "Không có."},
        {"title": "Tăng nhiều nhất trong tuần (so với chỉ tiêu)", "lines": rises,
         "empty": "Không có số liệu tăng trong tuần."},
        {"title": f"Đơn vị không có số liệu mới từ {SILENT_WEEKS} tuần trở lên", "lines": silent,
         "empty": "Không có."},
    ]
    return [{**b, "lines": [nfc(line) for line in b["lines"]]} for b in out]
