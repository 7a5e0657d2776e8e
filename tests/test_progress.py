"""The progress rules of docs/indicators-and-progress.md (tracker.progress): pure data in, plain results out."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, time, timedelta

import pytest

from tracker.progress import (
    DistrictSpec,
    IndicatorSpec,
    Observation,
    ProgressInput,
    QualityNote,
    Receipt,
    Reporting,
    Rules,
    competition_ranks,
    compute,
    elapsed_fraction,
    iso_week_start,
    judge,
    reporting_label,
    rules_text,
    status_label,
    week_ends,
    weekly_deadline,
    weekly_history,
)

NEW_UNIONS = IndicatorSpec("new_unions", "Thành lập CĐCS mới", "New grassroots unions founded", "CĐCS")
CONGRESSES = IndicatorSpec("congresses", "Đại hội CĐCS hoàn thành", "Congresses", "cuộc", deadline=(5, 31))
FEES = IndicatorSpec("union_fees", "Thu kinh phí công đoàn", "Union fees", "triệu đồng", kind="amount")


def at(day: date, hour: int = 3, minute: int = 0) -> datetime:
    """A receipt time in UTC (03:00 UTC is 10:00 in Hà Nội)."""
    return datetime.combine(day, time(hour, minute), tzinfo=UTC)


def obs(district: str, key: str, as_of: date, value: float, received: datetime | None = None, sid: int = 0):
    return Observation(district, key, as_of, value, received or at(as_of), sid)


def make_input(
    observations=(),
    targets=None,
    *,
    districts=("LB",),
    indicators=(NEW_UNIONS,),
    as_of=date(2023, 6, 30),
    year=None,
    receipts=None,
    rules=Rules(),
    notes=(),
) -> ProgressInput:
    observations = tuple(observations)
    if receipts is None:  # one receipt per submission seen in the observations
        seen = {}
        for o in observations:
            seen.setdefault((o.district, o.as_of, o.received_at, o.submission_id), None)
        receipts = tuple(Receipt(d, a, r, s) for d, a, r, s in seen)
    return ProgressInput(
        cluster_id="cum-1", cluster_name="Cụm thi đua số 1", year=year or as_of.year, as_of=as_of,
        districts=tuple(DistrictSpec(c, f"LĐLĐ {c}") for c in districts), indicators=tuple(indicators),
        targets=dict(targets or {}), observations=observations, receipts=tuple(receipts), rules=rules,
        notes=tuple(notes),
    )


def one(inp: ProgressInput, as_of: date | None = None, district: str = "LB", key: str = "new_unions"):
    return compute(inp, as_of).district(district).indicator(key)


# --- actual -----------------------------------------------------------------------------------------


def test_actual_is_the_latest_figure_not_after_the_as_of_date():
    inp = make_input([obs("LB", "new_unions", date(2023, 6, 2), 10), obs("LB", "new_unions", date(2023, 6, 9), 12),
                      obs("LB", "new_unions", date(2023, 7, 7), 20)], {("LB", "new_unions"): 30})
    assert one(inp, date(2023, 6, 8)).actual == 10
    assert one(inp, date(2023, 6, 9)).actual == 12
    assert one(inp, date(2023, 6, 30)).actual == 12
    assert one(inp, date(2023, 6, 30)).as_of == date(2023, 6, 9)
    assert one(inp, date(2023, 7, 7)).actual == 20


def test_among_versions_of_one_as_of_date_the_one_received_last_wins():
    day = date(2023, 6, 9)
    inp = make_input([obs("LB", "new_unions", day, 15, at(day, 9), sid=2),
                      obs("LB", "new_unions", day, 12, at(day, 2), sid=1)], {("LB", "new_unions"): 30})
    assert one(inp).actual == 15
    # received in the same instant: the later submission (higher id) wins
    inp = make_input([obs("LB", "new_unions", day, 15, at(day), sid=1),
                      obs("LB", "new_unions", day, 11, at(day), sid=2)], {("LB", "new_unions"): 30})
    assert one(inp).actual == 11


def test_a_later_version_that_leaves_the_indicator_blank_does_not_erase_it():
    day = date(2023, 6, 9)
    # version 2 reported only union fees: new_unions is blank there, so version 1's figure still counts
    inp = make_input([obs("LB", "new_unions", day, 14, at(day, 1), sid=1),
                      obs("LB", "union_fees", day, 900.5, at(day, 5), sid=2)],
                     {("LB", "new_unions"): 30, ("LB", "union_fees"): 3100}, indicators=(NEW_UNIONS, FEES))
    assert one(inp).actual == 14


def test_an_as_of_date_before_the_first_submission_has_no_data():
    inp = make_input([obs("LB", "new_unions", date(2023, 3, 3), 4)], {("LB", "new_unions"): 30})
    p = compute(inp, date(2023, 3, 2))
    ind = p.district("LB").indicator("new_unions")
    assert (ind.status, ind.actual, ind.percent, ind.projected, ind.as_of) == ("no_data", None, None, None, None)
    assert ind.expected == pytest.approx(30 * 61 / 365)  # the target's pace still shows
    assert p.district("LB").last_as_of is None and not p.district("LB").reported_this_week


# --- target, percent, no target ---------------------------------------------------------------------


def test_percent_expected_and_projected_match_the_design_example():
    # docs/commands.md §8: Long Biên, 16 of 30 new unions as of 30/06/2023
    inp = make_input([obs("LB", "new_unions", date(2023, 6, 30), 16)], {("LB", "new_unions"): 30})
    ind = one(inp)
    assert ind.percent == pytest.approx(53.333333)
    assert ind.expected == pytest.approx(30 * 181 / 365)
    assert ind.projected == pytest.approx(16 * 365 / 181)
    assert ind.status == "on_track"
    j = compute(inp).to_json()["districts"][0]["indicators"][0]
    assert (j["percent"], j["expected"], j["projected"]) == (53.33, 14.88, 32.27)


def test_no_target_gives_no_target_even_with_a_figure():
    inp = make_input([obs("LB", "new_unions", date(2023, 6, 30), 16)], {})
    ind = one(inp)
    assert ind.status == "no_target" and ind.actual == 16
    assert ind.percent is None and ind.expected is None and ind.projected == pytest.approx(16 * 365 / 181)


def test_no_target_and_no_figure_is_no_target():
    assert one(make_input([], {})).status == "no_target"


def test_a_target_of_zero_is_achieved_by_any_figure_and_left_out_of_the_score():
    inp = make_input([obs("LB", "new_unions", date(2023, 6, 30), 0), obs("LB", "union_fees", date(2023, 6, 30), 50)],
                     {("LB", "new_unions"): 0, ("LB", "union_fees"): 100}, indicators=(NEW_UNIONS, FEES))
    p = compute(inp).district("LB")
    zero = p.indicator("new_unions")
    assert zero.status == "achieved" and zero.percent is None and zero.expected == 0
    assert zero.achieved_on == date(2023, 6, 30)
    assert p.score == pytest.approx(0.5)  # only union fees counts
    # without a figure a target of 0 is still "no data", and still not scored
    inp = make_input([obs("LB", "union_fees", date(2023, 6, 30), 50)],
                     {("LB", "new_unions"): 0, ("LB", "union_fees"): 100}, indicators=(NEW_UNIONS, FEES))
    p = compute(inp).district("LB")
    assert p.indicator("new_unions").status == "no_data" and p.score == pytest.approx(0.5)


# --- elapsed fraction -------------------------------------------------------------------------------


@pytest.mark.parametrize(("day", "deadline", "expected"), [
    (date(2023, 1, 1), None, 1 / 365),
    (date(2024, 1, 1), None, 1 / 366),
    (date(2023, 12, 31), None, 1.0),
    (date(2024, 12, 31), None, 1.0),
    (date(2024, 2, 29), None, 60 / 366),
    (date(2023, 3, 1), None, 60 / 365),
    (date(2024, 3, 1), None, 61 / 366),
    (date(2023, 6, 30), None, 181 / 365),
    (date(2023, 1, 1), (5, 31), 1 / 151),
    (date(2024, 1, 1), (5, 31), 1 / 152),  # leap year: 31 May is day 152
    (date(2023, 5, 30), (5, 31), 150 / 151),
    (date(2023, 5, 31), (5, 31), 1.0),
    (date(2023, 6, 30), (5, 31), 1.0),  # deadline passed: capped at 1
    (date(2023, 12, 31), (5, 31), 1.0),
    (date(2023, 2, 1), (2, 29), 32 / 59),  # 29 Feb in a common year falls on 28 Feb
    (date(2024, 2, 1), (2, 29), 32 / 60),
    (date(2023, 1, 1), (1, 1), 1.0),
])
def test_elapsed_fraction(day, deadline, expected):
    assert elapsed_fraction(day, deadline) == pytest.approx(expected)


def test_on_1_january_the_pace_is_one_day_of_the_year():
    inp = make_input([obs("LB", "new_unions", date(2023, 1, 1), 1)], {("LB", "new_unions"): 365})
    ind = one(inp, date(2023, 1, 1))
    assert ind.expected == pytest.approx(1.0) and ind.projected == pytest.approx(365) and ind.status == "on_track"


def test_a_deadline_indicator_is_judged_against_its_deadline_not_the_year():
    # 20 of 40 congresses on 15/03/2023: 74 of 151 days to the 31/05 deadline have passed
    inp = make_input([obs("LB", "congresses", date(2023, 3, 15), 20)], {("LB", "congresses"): 40},
                     indicators=(CONGRESSES,))
    ind = one(inp, date(2023, 3, 15), key="congresses")
    assert ind.expected == pytest.approx(40 * 74 / 151)
    assert ind.projected == pytest.approx(20 * 151 / 74)
    assert ind.status == "on_track"
    # after the deadline, anything short of the target is judged at the full target: 39/40 is still behind
    inp = make_input([obs("LB", "congresses", date(2023, 6, 30), 39)], {("LB", "congresses"): 40},
                     indicators=(CONGRESSES,))
    ind = one(inp, key="congresses")
    assert ind.expected == 40 and ind.projected == 39 and ind.status == "behind"


def test_leap_year_pace_uses_366_days():
    inp = make_input([obs("LB", "new_unions", date(2024, 6, 30), 100)], {("LB", "new_unions"): 366},
                     as_of=date(2024, 6, 30))
    ind = one(inp)
    assert ind.expected == pytest.approx(182)  # 30 June 2024 is day 182 of 366
    assert ind.projected == pytest.approx(100 * 366 / 182)


# --- status -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(("actual", "target", "fraction", "status"), [
    (30, 30, 0.5, "achieved"),
    (31, 30, 0.5, "achieved"),
    (15, 30, 0.5, "on_track"),  # exactly on pace
    (14.99, 30, 0.5, "behind"),
    (12, 30, 0.5, "behind"),  # projection 24 = 0.8 × 30: behind, not at risk
    (11.99, 30, 0.5, "at_risk"),
    (0, 30, 0.5, "at_risk"),
    (0, 0, 0.5, "achieved"),
    (None, 30, 0.5, "no_data"),
    (5, None, 0.5, "no_target"),
])
def test_judge(actual, target, fraction, status):
    assert judge(actual, target, fraction, 0.8) == status


def test_the_behind_ratio_comes_from_the_rules():
    inp = make_input([obs("LB", "new_unions", date(2023, 7, 2), 13)], {("LB", "new_unions"): 30},
                     as_of=date(2023, 7, 2))  # day 183 of 365: projection 13 × 365/183 = 25.9 ≥ 24
    assert one(inp).status == "behind"
    strict = make_input([obs("LB", "new_unions", date(2023, 7, 2), 13)], {("LB", "new_unions"): 30},
                        as_of=date(2023, 7, 2), rules=Rules(behind_ratio=0.9))
    assert one(strict).status == "at_risk"


# --- achieved_on ------------------------------------------------------------------------------------


def test_achieved_on_is_the_first_figure_that_reached_the_target():
    inp = make_input([obs("LB", "new_unions", date(2023, 4, 7), 25), obs("LB", "new_unions", date(2023, 4, 14), 30),
                      obs("LB", "new_unions", date(2023, 4, 21), 33)], {("LB", "new_unions"): 30})
    assert one(inp).achieved_on == date(2023, 4, 14)
    assert one(inp, date(2023, 4, 13)).achieved_on is None  # not yet


def test_a_correction_below_the_target_withdraws_achieved_on_until_it_is_reached_again():
    series = [obs("LB", "new_unions", date(2023, 4, 14), 30), obs("LB", "new_unions", date(2023, 4, 21), 28),
              obs("LB", "new_unions", date(2023, 4, 28), 31)]
    inp = make_input(series, {("LB", "new_unions"): 30})
    assert one(inp, date(2023, 4, 14)).achieved_on == date(2023, 4, 14)
    lowered = one(inp, date(2023, 4, 21))
    assert lowered.status == "on_track" and lowered.achieved_on is None
    assert one(inp, date(2023, 4, 28)).achieved_on == date(2023, 4, 28)


def test_a_new_version_of_the_same_date_that_lowers_the_figure_undoes_the_achievement():
    day = date(2023, 4, 14)
    inp = make_input([obs("LB", "new_unions", day, 30, at(day, 1), 1), obs("LB", "new_unions", day, 27, at(day, 8), 2),
                      obs("LB", "new_unions", date(2023, 4, 21), 32, sid=3)], {("LB", "new_unions"): 30})
    assert one(inp, day).status != "achieved"
    assert one(inp, date(2023, 4, 21)).achieved_on == date(2023, 4, 21)


def test_a_deadline_indicator_finished_early_keeps_its_achieved_on():
    inp = make_input([obs("LB", "congresses", date(2023, 5, 12), 52)], {("LB", "congresses"): 52},
                     indicators=(CONGRESSES,))
    assert one(inp, key="congresses").achieved_on == date(2023, 5, 12)


# --- score and rank ---------------------------------------------------------------------------------


def test_score_is_the_weighted_capped_mean_over_indicators_with_a_target():
    heavy = IndicatorSpec("union_fees", "Thu kinh phí công đoàn", "Union fees", kind="amount", weight=3.0)
    day = date(2023, 6, 30)
    inp = make_input(
        [obs("LB", "new_unions", day, 60), obs("LB", "union_fees", day, 50)],
        {("LB", "new_unions"): 30, ("LB", "union_fees"): 100},
        indicators=(NEW_UNIONS, heavy, CONGRESSES),  # no target for congresses: not counted
    )
    # new_unions 200 % capped at 120 %; fees 50 % with weight 3
    assert compute(inp).district("LB").score == pytest.approx((1 * 1.2 + 3 * 0.5) / 4)
    capped = make_input(inp.observations, inp.targets, indicators=inp.indicators, rules=Rules(score_cap=1.5))
    assert compute(capped).district("LB").score == pytest.approx((1 * 1.5 + 3 * 0.5) / 4)


def test_a_target_without_a_figure_counts_zero_in_the_score():
    inp = make_input([obs("LB", "new_unions", date(2023, 6, 30), 30)],
                     {("LB", "new_unions"): 30, ("LB", "union_fees"): 100}, indicators=(NEW_UNIONS, FEES))
    assert compute(inp).district("LB").score == pytest.approx(0.5)


def test_a_district_without_any_target_has_no_score_and_no_rank_and_comes_last():
    day = date(2023, 6, 30)
    inp = make_input([obs("HK", "new_unions", day, 3), obs("LB", "new_unions", day, 3)],
                     {("LB", "new_unions"): 30}, districts=("HK", "LB"))
    p = compute(inp)
    assert [d.code for d in p.districts] == ["LB", "HK"]
    assert p.district("HK").score is None and p.district("HK").rank is None
    assert p.to_json()["districts"][1]["score"] is None


def test_ranking_is_competition_ranking_with_ties_sharing_a_rank():
    assert competition_ranks([0.5, 0.9, 0.7, 0.7, None, 0.1]) == [4, 1, 2, 2, None, 5]
    assert competition_ranks([0.3, 0.3, 0.3]) == [1, 1, 1]
    # rounded to 4 decimals before ranking
    assert competition_ranks([0.33333, 0.333334, 0.3332]) == [1, 1, 3]


def test_districts_are_listed_by_rank_then_config_order():
    day = date(2023, 6, 30)
    targets = {(c, "new_unions"): 10 for c in ("HBT", "HM", "BD", "LB")}
    inp = make_input([obs("HBT", "new_unions", day, 5), obs("HM", "new_unions", day, 9),
                      obs("BD", "new_unions", day, 5), obs("LB", "new_unions", day, 7)],
                     targets, districts=("HBT", "HM", "BD", "LB"))
    p = compute(inp)
    assert [(d.code, d.rank) for d in p.districts] == [("HM", 1), ("LB", 2), ("HBT", 3), ("BD", 3)]
    assert [d["rank"] for d in p.to_json()["districts"]] == [1, 2, 3, 3]


def test_leader_scoring_gives_the_best_ratio_full_marks_and_scales_the_others():
    day = date(2023, 6, 30)
    inp = make_input(
        [obs("HBT", "new_unions", day, 20), obs("LB", "new_unions", day, 15),  # ratios 2/3 and 1/2
         obs("HBT", "union_fees", day, 100), obs("LB", "union_fees", day, 400)],  # ratios 0.25 and 2.0
        {("HBT", "new_unions"): 30, ("LB", "new_unions"): 30, ("HBT", "union_fees"): 400, ("LB", "union_fees"): 200},
        districts=("HBT", "LB"), indicators=(NEW_UNIONS, FEES), rules=Rules(scoring_method="leader"),
    )
    p = compute(inp)
    assert p.district("HBT").score == pytest.approx((1.0 + 0.25 / 2.0) / 2)
    assert p.district("LB").score == pytest.approx((0.5 / (2 / 3) + 1.0) / 2)
    assert [d.code for d in p.districts] == ["LB", "HBT"]
    # the capped method on the same data ranks them the same way but with other scores
    capped = compute(make_input(inp.observations, inp.targets, districts=("HBT", "LB"), indicators=(NEW_UNIONS, FEES)))
    assert capped.district("LB").score == pytest.approx((0.5 + 1.2) / 2)


def test_leader_scoring_when_nobody_has_anything_yet_gives_zero():
    inp = make_input([], {("HBT", "new_unions"): 30, ("LB", "new_unions"): 30}, districts=("HBT", "LB"),
                     rules=Rules(scoring_method="leader"))
    p = compute(inp)
    assert [d.score for d in p.districts] == [0, 0] and [d.rank for d in p.districts] == [1, 1]


# --- totals -----------------------------------------------------------------------------------------


def test_cluster_totals_sum_every_actual_and_every_registered_target():
    day = date(2023, 6, 30)
    inp = make_input(
        [obs("HBT", "new_unions", day, 19), obs("LB", "new_unions", day, 16), obs("HK", "new_unions", day, 4)],
        {("HBT", "new_unions"): 30, ("LB", "new_unions"): 30, ("BD", "new_unions"): 25},  # HK: no target
        districts=("HBT", "LB", "BD", "HK"),
    )
    t = compute(inp).total("new_unions")
    assert (t.actual, t.target) == (39, 85)
    assert t.percent == pytest.approx(100 * 39 / 85)
    assert compute(inp).to_json()["totals"] == [{"key": "new_unions", "actual": 39, "target": 85, "percent": 45.88,
                                                 "week_change": 39, "last_year_actual": None}]


def test_totals_without_any_target_have_no_percent():
    t = compute(make_input([obs("LB", "new_unions", date(2023, 6, 30), 3)], {})).total("new_unions")
    assert (t.actual, t.target, t.percent) == (3, None, None)


# --- reporting completeness -------------------------------------------------------------------------


def test_reported_this_week_counts_as_of_dates_from_monday_to_the_as_of_date():
    friday = date(2023, 6, 30)  # ISO week 26: Monday 26/06
    for as_of, expected in ((date(2023, 6, 25), False), (date(2023, 6, 26), True), (date(2023, 6, 30), True)):
        inp = make_input([obs("LB", "new_unions", as_of, 5)], {("LB", "new_unions"): 30}, as_of=friday)
        assert compute(inp).district("LB").reported_this_week is expected, as_of
    # a sheet dated after the as-of date does not count yet
    inp = make_input([obs("LB", "new_unions", date(2023, 7, 1), 5)], {("LB", "new_unions"): 30}, as_of=friday)
    assert not compute(inp).district("LB").reported_this_week


def test_late_when_the_first_sheet_of_the_week_arrived_after_friday_17_local_time():
    monday, friday = date(2023, 6, 26), date(2023, 6, 30)
    deadline_utc = datetime(2023, 6, 30, 10, 0, tzinfo=UTC)  # Friday 17:00 in Hà Nội (UTC+7)
    on_time = make_input([obs("LB", "new_unions", monday, 5, deadline_utc)], {}, as_of=date(2023, 7, 2))
    late = make_input([obs("LB", "new_unions", monday, 5, deadline_utc + timedelta(minutes=1))], {},
                      as_of=date(2023, 7, 2))
    assert compute(on_time).district("LB").late is False
    p = compute(late)
    assert p.district("LB").late is True and p.district("LB").reported_this_week
    assert [(n.district, n.kind) for n in p.notes] == [("LB", "late")]
    assert "30/06/2023 17:01" in p.notes[0].message_vi and "30/06/2023 17:00" in p.notes[0].message_vi
    # a second, late version does not make a district that reported on time late
    both = make_input([obs("LB", "new_unions", monday, 5, at(friday, 1), 1),
                       obs("LB", "new_unions", friday, 6, at(date(2023, 7, 1)), 2)], {}, as_of=date(2023, 7, 2))
    assert compute(both).district("LB").late is False


def test_a_districts_week_is_one_of_on_time_late_or_not_reported_each_with_one_word():
    monday = date(2023, 6, 26)
    deadline_utc = datetime(2023, 6, 30, 10, 0, tzinfo=UTC)  # Friday 17:00 in Hà Nội
    inp = make_input([obs("LB", "new_unions", monday, 5, deadline_utc),
                      obs("HK", "new_unions", monday, 5, deadline_utc + timedelta(minutes=1))], {},
                     districts=("LB", "HK", "HBT"), as_of=date(2023, 7, 2))
    p = compute(inp)
    assert [p.district(c).reporting for c in ("LB", "HK", "HBT")] == [Reporting.on_time, Reporting.late,
                                                                     Reporting.missing]
    assert [reporting_label(r) for r in Reporting] == ["Đúng hạn", "Nộp muộn", "Chưa báo cáo"]
    assert [reporting_label(r, "en") for r in Reporting] == ["On time", "Late", "Not reported"]
    assert Reporting.of(reported=False, late=True) is Reporting.missing  # never both late and not reported


def test_the_deadline_follows_the_configured_weekday_time_and_zone():
    rules = Rules(deadline_weekday=4, deadline_time=time(12, 0), timezone="Asia/Tokyo")
    assert weekly_deadline(date(2023, 6, 30), rules) == datetime(2023, 6, 29, 3, 0, tzinfo=UTC)
    inp = make_input([obs("LB", "new_unions", date(2023, 6, 26), 5, datetime(2023, 6, 29, 3, 30, tzinfo=UTC))], {},
                     rules=rules)
    assert compute(inp).district("LB").late


def test_a_week_spanning_new_year_starts_on_the_monday_of_the_previous_year():
    # 1 January 2021 is a Friday: ISO week 53 of 2020 runs Monday 28/12/2020 – Sunday 03/01/2021
    assert iso_week_start(date(2021, 1, 3)) == date(2020, 12, 28)
    assert iso_week_start(date(2021, 1, 4)) == date(2021, 1, 4)
    new_year = date(2021, 1, 1)
    late = make_input([obs("LB", "new_unions", new_year, 1, datetime(2021, 1, 1, 10, 30, tzinfo=UTC))],
                      {("LB", "new_unions"): 30}, as_of=date(2021, 1, 3))  # 17:30 on Friday 01/01 in Hà Nội
    p = compute(late)
    assert p.week_start == date(2020, 12, 28)
    assert p.week_deadline == datetime(2021, 1, 1, 10, 0, tzinfo=UTC)
    assert p.district("LB").reported_this_week and p.district("LB").late
    inp = make_input([obs("LB", "new_unions", new_year, 1, datetime(2021, 1, 1, 9, 0, tzinfo=UTC))],
                     {("LB", "new_unions"): 30}, as_of=date(2021, 1, 3))  # 16:00 local: on time
    assert compute(inp).district("LB").reported_this_week and not compute(inp).district("LB").late
    # the next Monday starts a new week: last week's sheet no longer counts
    assert not compute(inp, date(2021, 1, 4)).district("LB").reported_this_week


def test_last_as_of_is_the_latest_accepted_sheet_up_to_the_date():
    inp = make_input([obs("LB", "new_unions", date(2023, 6, 2), 5), obs("LB", "new_unions", date(2023, 6, 16), 7)],
                     {("LB", "new_unions"): 30})
    assert compute(inp, date(2023, 6, 10)).district("LB").last_as_of == date(2023, 6, 2)
    assert compute(inp).to_json()["districts"][0]["last_as_of"] == "2023-06-16"


# --- notes ------------------------------------------------------------------------------------------


def test_notes_are_the_warnings_of_each_districts_latest_sheet():
    old = QualityNote("LB", "correction", "Số liệu giảm", "Figure lowered", date(2023, 6, 9), "new_unions",
                      "Báo cáo!D9", submission_id=1)
    new = QualityNote("LB", "blank", "Bỏ trống", "Left blank", date(2023, 6, 16), "agreements", "Báo cáo!D10",
                      submission_id=2)
    inp = make_input([obs("LB", "new_unions", date(2023, 6, 9), 5, sid=1),
                      obs("LB", "new_unions", date(2023, 6, 16), 7, sid=2)], {("LB", "new_unions"): 30},
                     notes=(old, new))
    assert compute(inp, date(2023, 6, 12)).notes == (old,)
    assert compute(inp).notes == (new,)


# --- compute, history, JSON -------------------------------------------------------------------------


def test_an_as_of_date_outside_the_cluster_year_is_refused():
    inp = make_input([], {})
    with pytest.raises(ValueError, match="outside the cluster year"):
        compute(inp, date(2024, 1, 1))


def test_week_ends_and_weekly_history():
    assert week_ends(2023, date(2023, 1, 20)) == [date(2023, 1, 1), date(2023, 1, 8), date(2023, 1, 15)]
    assert week_ends(2024, date(2024, 1, 6)) == []  # 1 January 2024 is a Monday
    inp = make_input([obs("LB", "new_unions", date(2023, 1, 5), 2), obs("LB", "new_unions", date(2023, 1, 12), 4),
                      obs("LB", "new_unions", date(2023, 1, 19), 6)], {("LB", "new_unions"): 30},
                     as_of=date(2023, 1, 20))
    history = weekly_history(inp)
    assert [h.as_of for h in history] == [date(2023, 1, 1), date(2023, 1, 8), date(2023, 1, 15), date(2023, 1, 20)]
    assert [h.district("LB").indicator("new_unions").actual for h in history] == [None, 2, 4, 6]
    assert [h.as_of for h in weekly_history(inp, include_until=False)][-1] == date(2023, 1, 15)
    assert history[-1] == compute(inp)


def test_json_has_exactly_the_design_shape_with_json_numbers_iso_dates_and_nulls():
    day = date(2023, 6, 30)
    inp = make_input([obs("LB", "new_unions", day, 16), obs("LB", "union_fees", day, 1234.5),
                      obs("LB", "congresses", date(2023, 5, 20), 52)],
                     {("LB", "new_unions"): 30, ("LB", "union_fees"): 3100.0, ("LB", "congresses"): 52},
                     districts=("LB", "HK"), indicators=(NEW_UNIONS, CONGRESSES, FEES))
    data = json.loads(json.dumps(compute(inp).to_json()))
    assert list(data) == ["cluster", "year", "as_of", "districts", "totals"]
    assert (data["cluster"], data["year"], data["as_of"]) == ("cum-1", 2023, "2023-06-30")
    lb = data["districts"][0]
    assert list(lb) == ["code", "name", "score", "rank", "last_as_of", "reported_this_week", "rank_change",
                        "indicators"]
    assert list(lb["indicators"][0]) == ["key", "actual", "target", "percent", "expected", "projected", "status",
                                         "achieved_on", "week_change", "last_year_actual"]
    assert lb["indicators"][0]["actual"] == 16 and isinstance(lb["indicators"][0]["actual"], int)
    assert lb["indicators"][1] == {"key": "congresses", "actual": 52, "target": 52, "percent": 100.0,
                                   "expected": 52.0, "projected": 52.0, "status": "achieved",
                                   "achieved_on": "2023-05-20", "week_change": 0, "last_year_actual": None}
    fees = lb["indicators"][2]
    assert fees["actual"] == 1234.5 and fees["target"] == 3100 and fees["percent"] == 39.82
    assert lb["score"] == round((16 / 30 + 1 + 1234.5 / 3100) / 3, 4)
    hk = data["districts"][1]
    assert hk["last_as_of"] is None and hk["reported_this_week"] is False
    assert hk["indicators"][0] == {"key": "new_unions", "actual": None, "target": None, "percent": None,
                                   "expected": None, "projected": None, "status": "no_target", "achieved_on": None,
                                   "week_change": None, "last_year_actual": None}
    assert lb["rank_change"] == 0 and hk["rank_change"] is None  # HK has no target: no rank
    assert [t["key"] for t in data["totals"]] == ["new_unions", "congresses", "union_fees"]


def test_amount_totals_carry_no_float_noise():
    day = date(2023, 6, 30)
    inp = make_input([obs("HBT", "union_fees", day, 0.1), obs("LB", "union_fees", day, 0.2)],
                     {("HBT", "union_fees"): 1, ("LB", "union_fees"): 1}, districts=("HBT", "LB"), indicators=(FEES,))
    assert compute(inp).to_json()["totals"][0]["actual"] == 0.3


def test_status_words_and_rules_paragraph_are_vietnamese_first():
    assert status_label("at_risk") == "Nguy cơ không đạt" and status_label("at_risk", "en") == "At risk"
    text = rules_text(Rules(behind_ratio=0.75, score_cap=1.2))
    assert "75%" in text and "120%" in text and "Hoàn thành" in text
    assert "75%" in rules_text(Rules(behind_ratio=0.75), "en")
    assert "cao nhất" in rules_text(Rules(scoring_method="leader"))
