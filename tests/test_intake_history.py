"""Warnings against the district's own history (pure): corrections, jumps, inconsistent period values."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from tests.conftest import SAMPLE_CONFIG
from tests.intake_factory import report_grid
from tracker.config import load_settings
from tracker.intake.history import history_findings
from tracker.intake.parser import parse_report


@pytest.fixture(scope="module")
def settings():
    return load_settings(SAMPLE_CONFIG, env={})


def weekly(start: date, values: list[float]) -> list[tuple[date, float]]:
    return [(start + timedelta(days=7 * i), v) for i, v in enumerate(values)]


def check(settings, history, as_of="30/06/2023", **figures_and_periods):
    periods = figures_and_periods.pop("periods", None)
    report = parse_report(report_grid(as_of=as_of, figures=figures_and_periods, periods=periods), settings)
    assert report.ok, report.findings
    return [(f.code, f.cell, f.indicator) for f in history_findings(report, history, settings)]


def test_no_history_no_warning(settings):
    assert check(settings, {}) == []


def test_a_value_lower_than_the_previous_accepted_one_is_a_correction(settings):
    history = {"new_unions": [(date(2023, 6, 23), 21)]}
    found = check(settings, history, new_unions=19)
    assert found == [("ytd_lower", "Báo cáo!E9", "new_unions")]


def test_an_earlier_version_of_the_same_date_counts_as_previous(settings):
    assert check(settings, {"new_unions": [(date(2023, 6, 30), 20)]}, new_unions=19)[0][0] == "ytd_lower"


def test_later_figures_do_not_count_as_previous(settings):
    assert check(settings, {"new_unions": [(date(2023, 7, 7), 25)]}, new_unions=19) == []


def test_a_jump_far_outside_the_weekly_history_is_flagged(settings):
    history = {"new_members": weekly(date(2023, 5, 26) - timedelta(days=35), [600, 650, 700, 760, 800, 850])}
    assert check(settings, history, as_of="02/06/2023", new_members=900) == []
    # +400 in a week when the largest earlier weekly gain is 60
    found = check(settings, history, as_of="02/06/2023", new_members=850 + 400)
    assert found == [("jump", "Báo cáo!E12", "new_members")]


def test_a_gain_over_two_weeks_counts_per_week(settings):
    history = {"new_members": weekly(date(2023, 5, 19) - timedelta(days=35), [600, 650, 700, 760, 800, 850])}
    # the last figure is from 19/05, six weeks before 30/06: 400 over six weeks is a normal pace
    assert check(settings, history, new_members=850 + 400) == []


def test_too_little_history_never_flags_a_jump(settings):
    history = {"new_members": weekly(date(2023, 6, 9), [10, 12, 14])}
    assert check(settings, history, new_members=5000) == []


def test_period_value_must_match_the_change_since_last_week(settings):
    history = {"new_unions": [(date(2023, 6, 23), 17)]}
    assert check(settings, history, new_unions=19, periods={"new_unions": 2}) == []
    assert check(settings, history, new_unions=19, periods={"new_unions": 3}) == [
        ("period_mismatch", "Báo cáo!F9", "new_unions")]


def test_period_of_an_amount_allows_rounding(settings):
    history = {"union_fees": [(date(2023, 6, 23), 2000.0)]}
    assert check(settings, history, union_fees=2100.5, periods={"union_fees": 100.4}) == []
    assert check(settings, history, union_fees=2100.5, periods={"union_fees": 90}) == [
        ("period_mismatch", "Báo cáo!F13", "union_fees")]


def test_period_is_not_checked_when_the_previous_sheet_is_older_than_a_week(settings):
    history = {"new_unions": [(date(2023, 6, 9), 10)]}
    assert check(settings, history, new_unions=19, periods={"new_unions": 2}) == []


def test_the_first_week_of_the_year_compares_the_period_with_the_whole_figure(settings):
    assert check(settings, {}, as_of="06/01/2023", new_unions=2, periods={"new_unions": 2}) == []
    assert check(settings, {}, as_of="06/01/2023", new_unions=2, periods={"new_unions": 1})[0][0] == "period_mismatch"


def test_the_jump_rule_looks_at_the_last_13_weeks_only(settings):
    # a burst in February (+300 in a week) does not make +300 in late June look normal
    feb = weekly(date(2023, 1, 6), [50, 100, 150, 450, 500, 550])
    june = weekly(date(2023, 5, 5), [1000, 1050, 1100, 1150, 1200, 1250, 1300, 1350])
    history = {"new_members": feb + june}
    assert check(settings, history, as_of="30/06/2023", new_members=1350 + 300) == [
        ("jump", "Báo cáo!E12", "new_members")]
    assert check(settings, {"new_members": feb}, as_of="10/03/2023", new_members=550 + 300) == []
