"""Which week, date or half-year a job covers, and whether that lies in the cluster year.

Pure functions of dates, no I/O. The rule is checked against the period a job *covers*, not against
the day it runs: the year-end review pack runs on 5 January of the next year and is legitimate; a
weekly report whose week starts after 31 December is not.

Scheduled runs derive their as-of date from the local run date:

- ``weekly-report``: the Sunday before the run date (a Monday 08:00 run reports the week just ended).
- ``reminders``: the run date itself (Friday: who has not reported this week yet).
- ``review-pack``: the day before the run date, and the period is the latest half-year that had
  ended by then (5 July 2023 → ``2023-H1``; 5 January 2024 → ``2023``, the whole year).

An explicit as-of date (``tracker jobs run NAME --as-of``, the demo) is the data date itself.

Cluster year Y (from the config):

- ``weekly-report`` as of D covers the week Monday(D)…D. It runs when that week overlaps Y; the
  report date is then min(D, 31/12/Y), so the last, partial week of Y (for 2024: Mon 30/12/2024 –
  Sun 05/01/2025, run on 06/01/2025) is reported as of 31/12/2024. A week that starts after 31/12/Y
  (or ends before 01/01/Y) is skipped. A late run for the last week of Y on 8 January is legitimate
  when it is asked for explicitly: ``tracker jobs run weekly-report --as-of 31/12/Y``.
- ``reminders`` run only when D lies in Y (reminding districts to report a week outside Y would ask
  for sheets the intake rejects).
- ``review-pack`` runs when its period belongs to Y: ``Y-H1`` (from 30/06/Y) or ``Y`` (from 31/12/Y).
  Before 30/06/Y no half-year of Y has ended; after the year pack, Y+1-H1 is not the cluster year.
- ``pull`` and ``outbox`` always run: late sheets for 31/12/Y arrive in January, and the intake
  itself rejects a sheet dated outside the cluster year with a message to the district.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from tracker.calendar import week_period
from tracker.progress import iso_week_start
from tracker.text import format_date


@dataclass(frozen=True)
class Plan:
    """What one run of a job will do: its as-of date and period, or why it is skipped."""

    as_of: date | None = None
    period: str | None = None
    skip_vi: str | None = None
    skip_en: str | None = None

    @property
    def skipped(self) -> bool:
        return self.skip_vi is not None

    @property
    def reason(self) -> str | None:
        return None if self.skip_vi is None else f"{self.skip_vi} / {self.skip_en}"


def sunday_before(day: date) -> date:
    """The last Sunday strictly before ``day`` (Monday 03/07/2023 → Sunday 02/07/2023)."""
    return day - timedelta(days=day.isoweekday())


def review_period(as_of: date) -> tuple[str, date]:
    """The latest half-year that had ended on ``as_of`` (inclusive): its name and last day."""
    mid_year = date(as_of.year, 6, 30)
    if as_of >= date(as_of.year, 12, 31):
        return str(as_of.year), date(as_of.year, 12, 31)
    if as_of >= mid_year:
        return f"{as_of.year}-H1", mid_year
    return str(as_of.year - 1), date(as_of.year - 1, 12, 31)


def _not_started(year: int, what_vi: str, what_en: str) -> tuple[str, str]:
    return (f"Năm thi đua {year} chưa bắt đầu: {what_vi} nằm trước năm {year}; không lập báo cáo rỗng.",
            f"The cluster year {year} has not started: {what_en} lies before {year}; no empty report is made.")


def _ended(year: int, what_vi: str, what_en: str) -> tuple[str, str]:
    return (f"Năm thi đua {year} đã kết thúc: {what_vi} nằm sau năm {year}. "
            f"Cập nhật [cluster] year trong tệp cấu hình cho năm mới.",
            f"The cluster year {year} has ended: {what_en} lies after {year}. "
            f"Update [cluster] year in the config file for the new year.")


def plan_weekly(year: int, *, run_date: date | None = None, as_of: date | None = None) -> Plan:
    """The weekly report of a scheduled run (``run_date``) or of an explicit ``as_of`` date."""
    if as_of is None:
        if run_date is None:
            raise ValueError("run_date or as_of is required")
        as_of = sunday_before(run_date)
    monday = iso_week_start(as_of)
    week_vi = f"tuần {format_date(monday)}–{format_date(as_of)}"
    week_en = f"the week {format_date(monday)}–{format_date(as_of)}"
    if as_of < date(year, 1, 1):
        vi, en = _not_started(year, week_vi, week_en)
        return Plan(as_of=as_of, skip_vi=vi, skip_en=en)
    if monday > date(year, 12, 31):
        vi, en = _ended(year, week_vi, week_en)
        return Plan(as_of=as_of, skip_vi=vi, skip_en=en)
    report_date = min(as_of, date(year, 12, 31))
    return Plan(as_of=report_date, period=week_period(report_date))


def plan_reminders(year: int, *, run_date: date | None = None, as_of: date | None = None) -> Plan:
    as_of = as_of or run_date
    if as_of is None:
        raise ValueError("run_date or as_of is required")
    day_vi = day_en = format_date(as_of)
    if as_of.year < year:
        vi, en = _not_started(year, f"ngày {day_vi}", day_en)
        return Plan(as_of=as_of, skip_vi=vi, skip_en=en)
    if as_of.year > year:
        vi, en = _ended(year, f"ngày {day_vi}", day_en)
        return Plan(as_of=as_of, skip_vi=vi, skip_en=en)
    return Plan(as_of=as_of, period=week_period(as_of))


def plan_review(year: int, *, run_date: date | None = None, as_of: date | None = None) -> Plan:
    if as_of is None:
        if run_date is None:
            raise ValueError("run_date or as_of is required")
        as_of = run_date - timedelta(days=1)
    period, last_day = review_period(as_of)
    period_year = int(period[:4])
    if period_year < year:
        vi = (f"Năm thi đua {year}: đến ngày {format_date(as_of)} chưa kết thúc 6 tháng nào của năm {year} "
              f"(sơ kết 6 tháng lập từ 30/06/{year}); không lập bộ tài liệu cho kỳ {period}.")
        en = (f"Cluster year {year}: by {format_date(as_of)} no half-year of {year} has ended "
              f"(the six-month review is made from 30/06/{year}); no pack is made for {period}.")
        return Plan(as_of=as_of, period=period, skip_vi=vi, skip_en=en)
    if period_year > year:
        vi, en = _ended(year, f"kỳ {period}", f"the period {period}")
        return Plan(as_of=as_of, period=period, skip_vi=vi, skip_en=en)
    return Plan(as_of=last_day, period=period)
