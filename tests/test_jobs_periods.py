"""Which week / half-year a job covers, and when the cluster year makes it skip (pure, no I/O)."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from jobs.periods import plan_reminders, plan_review, plan_weekly, review_period, sunday_before
from tests.conftest import SAMPLE_CONFIG
from tracker.config import load_settings

Y2023 = {2023}  # the years with targets or figures


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
    plan = plan_weekly(Y2023, run_date=run_date)
    assert plan.as_of == sunday and not plan.skipped


def test_the_weekly_report_names_its_iso_week():
    assert plan_weekly(Y2023, as_of=date(2023, 6, 30)).period == "2023-W26"


def test_the_last_week_of_the_year_is_reported_on_new_years_day():
    plan = plan_weekly(Y2023, run_date=date(2024, 1, 1))  # Monday 01/01/2024 → Sunday 31/12/2023
    assert plan.as_of == date(2023, 12, 31) and not plan.skipped


def test_the_period_comes_from_the_calendar_whatever_the_cluster_year():
    # A database with 2023 and 2024: the first Monday of 2024 reports 2023's last Sunday, the next one 2024's.
    years = {2023, 2024}
    assert plan_weekly(years, run_date=date(2024, 1, 1)).as_of == date(2023, 12, 31)
    plan = plan_weekly(years, run_date=date(2024, 1, 8))
    assert (plan.as_of, plan.period, plan.skipped) == (date(2024, 1, 7), "2024-W01", False)


def test_a_week_straddling_new_year_is_reported_as_of_31_december_until_the_new_year_has_data():
    # 2024 ends on a Tuesday: the week Mon 30/12/2024 – Sun 05/01/2025 still holds two days of 2024.
    plan = plan_weekly({2024}, run_date=date(2025, 1, 6))
    assert not plan.skipped and plan.as_of == date(2024, 12, 31)
    plan = plan_weekly({2024, 2025}, run_date=date(2025, 1, 6))  # 2025's targets are registered
    assert not plan.skipped and plan.as_of == date(2025, 1, 5)


def test_a_week_in_a_year_with_no_targets_and_no_figures_is_skipped_with_the_reason_vietnamese_first():
    plan = plan_weekly(Y2023, run_date=date(2024, 1, 8))
    assert plan.skipped and plan.as_of == date(2024, 1, 7)
    assert plan.skip_vi.startswith("Năm 2024 chưa có chỉ tiêu hay số liệu nào của cụm")
    assert "01/01/2024–07/01/2024" in plan.skip_vi
    assert plan.skip_en.startswith("The year 2024 has no targets or figures")
    assert plan.reason.index("Năm 2024") < plan.reason.index("The year 2024")
    assert plan_weekly(Y2023, run_date=date(2022, 12, 26)).skipped  # before the first year
    assert not plan_weekly(Y2023, run_date=date(2023, 1, 2)).skipped  # Sunday 01/01/2023 is in the year


def test_an_explicit_date_is_the_data_date_itself():
    plan = plan_weekly(Y2023, as_of=date(2023, 12, 31))  # a late manual run for the last week
    assert not plan.skipped and plan.as_of == date(2023, 12, 31)
    assert plan_weekly(Y2023, as_of=date(2024, 1, 3)).skipped  # no fallback for a date asked for


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


def test_review_pack_runs_on_5_july_for_h1_and_on_5_january_for_the_year_just_ended():
    july = plan_review(Y2023, run_date=date(2023, 7, 5))
    assert (july.period, july.as_of, july.skipped) == ("2023-H1", date(2023, 6, 30), False)
    january = plan_review({2023, 2024}, run_date=date(2024, 1, 5))  # whatever the cluster year says
    assert (january.period, january.as_of, january.skipped) == ("2023", date(2023, 12, 31), False)


def test_review_pack_of_a_year_with_nothing_is_skipped_and_last_years_is_made_when_it_has_figures():
    before = plan_review(Y2023, run_date=date(2023, 1, 5))
    assert before.skipped and before.period == "2022" and "Năm 2022 chưa có chỉ tiêu" in before.skip_vi
    with_history = plan_review({2022, 2023}, run_date=date(2023, 1, 5))  # 2022's figures were imported
    assert not with_history.skipped and (with_history.period, with_history.as_of) == ("2022", date(2022, 12, 31))
    after = plan_review(Y2023, run_date=date(2024, 7, 5))
    assert after.skipped and after.period == "2024-H1" and "The year 2024 has no targets" in after.skip_en


def test_reminders_run_on_any_date_of_a_year_with_data():
    assert not plan_reminders(Y2023, run_date=date(2023, 12, 29)).skipped
    assert plan_reminders(Y2023, run_date=date(2024, 1, 5)).skipped
    assert not plan_reminders({2023, 2024}, run_date=date(2024, 1, 5)).skipped
    assert plan_reminders(Y2023, run_date=date(2022, 12, 30)).skipped


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
