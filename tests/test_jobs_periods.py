"""Which week / half-year a job covers, and when the cluster year makes it skip (pure, no I/O)."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from jobs.periods import plan_reminders, plan_review, plan_weekly, review_period, sunday_before
from tests.conftest import SAMPLE_CONFIG
from tracker.config import load_settings


@pytest.mark.parametrize(
    ("run_date", "sunday"),
    [
        (date(2023, 7, 3), date(2023, 7, 2)),  # Monday → yesterday
        (date(2023, 7, 4), date(2023, 7, 2)),  # a late Tuesday run reports the same week
        (date(2023, 7, 9), date(2023, 7, 2)),  # a Sunday run reports the week before, not today
    ],
)
def test_the_weekly_report_is_as_of_the_sunday_before_the_run(run_date, sunday):
    assert sunday_before(run_date) == sunday
    plan = plan_weekly(2023, run_date=run_date)
    assert plan.as_of == sunday and not plan.skipped


def test_the_weekly_report_names_its_iso_week():
    assert plan_weekly(2023, as_of=date(2023, 6, 30)).period == "2023-W26"


def test_the_last_week_of_the_year_is_reported_on_new_years_day():
    plan = plan_weekly(2023, run_date=date(2024, 1, 1))
    assert plan.as_of == date(2023, 12, 31) and not plan.skipped


def test_a_week_straddling_new_year_is_reported_as_of_31_december():
    # 2024 ends on a Tuesday: the week Mon 30/12/2024 – Sun 05/01/2025 still holds two days of 2024.
    plan = plan_weekly(2024, run_date=date(2025, 1, 6))
    assert not plan.skipped and plan.as_of == date(2024, 12, 31)


def test_a_week_entirely_after_the_year_is_skipped_with_a_reason_in_both_languages():
    plan = plan_weekly(2023, run_date=date(2024, 1, 8))
    assert plan.skipped
    assert "Năm thi đua 2023 đã kết thúc" in plan.skip_vi and "01/01/2024–07/01/2024" in plan.skip_vi
    assert "The cluster year 2023 has ended" in plan.skip_en


def test_a_late_manual_run_for_the_last_week_is_legitimate():
    # On 8 January the scheduled run is skipped, but asking for 31/12 explicitly reports the last week.
    plan = plan_weekly(2023, as_of=date(2023, 12, 31))
    assert not plan.skipped and plan.as_of == date(2023, 12, 31)


def test_a_week_before_the_year_is_skipped():
    plan = plan_weekly(2023, run_date=date(2022, 12, 26))
    assert plan.skipped and "chưa bắt đầu" in plan.skip_vi and "has not started" in plan.skip_en
    assert not plan_weekly(2023, run_date=date(2023, 1, 2)).skipped  # Sunday 01/01/2023 is in the year


@pytest.mark.parametrize(
    ("as_of", "period"),
    [
        (date(2023, 7, 4), "2023-H1"),
        (date(2023, 6, 30), "2023-H1"),
        (date(2023, 6, 29), "2022"),
        (date(2023, 12, 31), "2023"),
        (date(2024, 1, 4), "2023"),
    ],
)
def test_the_review_period_is_the_half_year_ended_by_the_as_of_date(as_of, period):
    assert review_period(as_of)[0] == period


def test_review_pack_runs_on_5_july_for_h1_and_on_5_january_for_the_whole_year():
    july = plan_review(2023, run_date=date(2023, 7, 5))
    assert (july.period, july.as_of, july.skipped) == ("2023-H1", date(2023, 6, 30), False)
    january = plan_review(2023, run_date=date(2024, 1, 5))  # after the year's end, and legitimate
    assert (january.period, january.as_of, january.skipped) == ("2023", date(2023, 12, 31), False)


def test_review_pack_skips_periods_outside_the_cluster_year():
    before = plan_review(2023, run_date=date(2023, 1, 5))
    assert before.skipped and before.period == "2022" and "30/06/2023" in before.skip_vi
    after = plan_review(2023, run_date=date(2024, 7, 5))
    assert after.skipped and after.period == "2024-H1" and "has ended" in after.skip_en


def test_reminders_run_only_inside_the_cluster_year():
    assert not plan_reminders(2023, run_date=date(2023, 12, 29)).skipped
    assert plan_reminders(2023, run_date=date(2024, 1, 5)).skipped
    assert plan_reminders(2023, run_date=date(2022, 12, 30)).skipped


def test_a_crontab_monday_fires_on_monday_not_tuesday():
    from jobs.scheduler import build_trigger

    settings = load_settings(SAMPLE_CONFIG, env={})
    trigger = build_trigger(["0 8 * * 1"], settings)
    after = datetime(2023, 7, 1, 12, 0, tzinfo=settings.tz)  # a Saturday
    fire = trigger.get_next_fire_time(None, after)
    assert fire == datetime(2023, 7, 3, 8, 0, tzinfo=settings.tz) and fire.isoweekday() == 1


def test_several_pull_times_combine_into_one_job():
    from jobs.scheduler import build_trigger

    settings = load_settings(SAMPLE_CONFIG, env={})
    trigger = build_trigger(["0 6 * * *", "30 7 * * mon"], settings)
    monday_7 = datetime(2023, 7, 3, 7, 0, tzinfo=settings.tz)
    assert trigger.get_next_fire_time(None, monday_7) == datetime(2023, 7, 3, 7, 30, tzinfo=settings.tz)
