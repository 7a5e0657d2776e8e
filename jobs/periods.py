"""Which week, date or half-year a job covers, from the calendar, and whether that year has anything to show.

Pure functions of dates, no I/O. The period comes from the day a run was due, whatever ``[cluster] year``
says (docs/schedule.md §4):

- ``weekly-report``: as of the Sunday before the run date (Monday 01/01/2024 → Sunday 31/12/2023).
- ``reminders``: the run date itself (Friday: who has not reported this week yet).
- ``review-pack``: the latest half-year that had ended the day before the run date (5 July 2023 →
  ``2023-H1``; 5 January 2024 → ``2023``, the year just ended).

An explicit as-of date (``tracker jobs run NAME --as-of``, the demo) is the data date itself.

``years`` are the years with registered targets or accepted figures (``tracker.standing.years_with_data``).
A run whose period lies in a year with neither is recorded ``skipped`` with the reason (no empty report
is made). One exception keeps the last days of a year reported: a scheduled weekly report whose Sunday
falls in a year with nothing yet, while its Monday is in the year before (which has data), is as of
31 December of that year (the week Mon 30/12/2024 – Sun 05/01/2025, run on 06/01/2025, before 2025 has
targets, is reported as of 31/12/2024). ``pull`` and ``outbox`` always run.
"""

from __future__ import annotations

from collections.abc import Collection
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


def _nothing(year: int, what_vi: str, what_en: str) -> tuple[str, str]:
    return (f"Năm {year} chưa có chỉ tiêu hay số liệu nào của cụm: không lập {what_vi}. Một năm mới bắt đầu khi "
            f"có chỉ tiêu đăng ký (sửa [cluster] year rồi chạy tracker init, hoặc tracker targets import).",
            f"The year {year} has no targets or figures of the cluster: no {what_en} is made. A new year starts "
            f"when it has registered targets (edit [cluster] year and run tracker init, or tracker targets import).")


def plan_weekly(years: Collection[int], *, run_date: date | None = None, as_of: date | None = None) -> Plan:
    """The weekly report of a scheduled run (``run_date``) or of an explicit ``as_of`` date."""
    scheduled = as_of is None
    if as_of is None:
        if run_date is None:
            raise ValueError("run_date or as_of is required")
        as_of = sunday_before(run_date)
    if as_of.year in years:
        return Plan(as_of=as_of, period=week_period(as_of))
    monday = iso_week_start(as_of)
    if scheduled and monday.year < as_of.year and monday.year in years:
        last_day = date(monday.year, 12, 31)  # the year's last, partial week; the new year has nothing yet
        return Plan(as_of=last_day, period=week_period(last_day))
    vi, en = _nothing(as_of.year, f"báo cáo tuần {format_date(monday)}–{format_date(as_of)}",
                      f"report for the week {format_date(monday)}–{format_date(as_of)}")
    return Plan(as_of=as_of, skip_vi=vi, skip_en=en)


def plan_reminders(years: Collection[int], *, run_date: date | None = None, as_of: date | None = None) -> Plan:
    as_of = as_of or run_date
    if as_of is None:
        raise ValueError("run_date or as_of is required")
    if as_of.year not in years:
        vi, en = _nothing(as_of.year, f"thư nhắc ngày {format_date(as_of)}", f"reminder on {format_date(as_of)}")
        return Plan(as_of=as_of, skip_vi=vi, skip_en=en)
    return Plan(as_of=as_of, period=week_period(as_of))


def plan_review(years: Collection[int], *, run_date: date | None = None, as_of: date | None = None) -> Plan:
    if as_of is None:
        if run_date is None:
            raise ValueError("run_date or as_of is required")
        as_of = run_date - timedelta(days=1)
    period, last_day = review_period(as_of)
    if last_day.year not in years:
        vi, en = _nothing(last_day.year, f"bộ tài liệu kỳ {period}", f"pack for the period {period}")
        return Plan(as_of=as_of, period=period, skip_vi=vi, skip_en=en)
    return Plan(as_of=last_day, period=period)
