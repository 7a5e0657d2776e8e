"""Week change, rank change and the same period last year (docs/indicators-and-progress.md): pure rules.

Hand-worked cases at the year boundary, then properties checked against the definitions.
"""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.test_progress import FEES, NEW_UNIONS, make_input, obs
from tracker.progress import compute, same_day_last_year, weekly_history


def test_week_change_is_the_figure_minus_the_figure_seven_days_earlier():
    inp = make_input([obs("LB", "new_unions", date(2023, 6, 23), 14), obs("LB", "new_unions", date(2023, 6, 30), 16)],
                     {("LB", "new_unions"): 30})
    i = compute(inp, date(2023, 6, 30)).district("LB").indicator("new_unions")
    assert (i.actual, i.week_change) == (16, 2)
    # as of 29/06 the figure is 14 (23/06) and a week earlier (22/06) there was none: it counts 0
    assert compute(inp, date(2023, 6, 29)).district("LB").indicator("new_unions").week_change == 14


def test_no_figure_now_means_no_week_change_and_totals_count_only_units_with_a_figure():
    inp = make_input([obs("LB", "new_unions", date(2023, 6, 30), 5)], {("LB", "new_unions"): 30},
                     districts=("LB", "HK"))
    p = compute(inp)
    assert p.district("HK").indicator("new_unions").week_change is None
    assert p.total("new_unions").week_change == 5
    empty = compute(make_input([], {("LB", "new_unions"): 30}))
    assert empty.total("new_unions").week_change is None and empty.total("new_unions").last_year_actual is None


def test_amount_changes_are_rounded_to_two_decimals():
    inp = make_input([obs("LB", "union_fees", date(2023, 6, 23), 100.123),
                      obs("LB", "union_fees", date(2023, 6, 30), 150.456)], {("LB", "union_fees"): 500},
                     indicators=(FEES,))
    assert compute(inp).district("LB").indicator("union_fees").week_change == 50.33


def test_in_the_first_week_of_january_the_change_is_the_figure_itself_and_there_is_no_rank_change():
    inp = make_input([obs("LB", "new_unions", date(2022, 12, 30), 40), obs("HK", "new_unions", date(2022, 12, 30), 9),
                      obs("LB", "new_unions", date(2023, 1, 6), 1), obs("HK", "new_unions", date(2023, 1, 6), 3)],
                     {("LB", "new_unions"): 30, ("HK", "new_unions"): 30}, districts=("LB", "HK"),
                     as_of=date(2023, 1, 6))
    p = compute(inp)
    assert p.district("LB").indicator("new_unions").week_change == 1  # not 1 − 40: the year starts at 0
    assert [d.rank_change for d in p.districts] == [None, None]
    assert p.district("LB").indicator("new_unions").status_before is None
    # a week later both exist in 2023: HK stays first, LB second
    later = make_input(inp.observations + (obs("LB", "new_unions", date(2023, 1, 13), 2),),
                       inp.targets, districts=("LB", "HK"), as_of=date(2023, 1, 13))
    assert [(d.code, d.rank_change) for d in compute(later).districts] == [("HK", 0), ("LB", 0)]


def test_a_29_december_figure_never_counts_in_january():
    inp = make_input([obs("LB", "new_unions", date(2022, 12, 29), 35)], {("LB", "new_unions"): 30},
                     as_of=date(2023, 1, 4))
    i = compute(inp).district("LB").indicator("new_unions")
    assert (i.actual, i.status, i.week_change, i.achieved_on) == (None, "no_data", None, None)
    assert compute(inp).district("LB").last_as_of is None  # last year's sheet is not this year's last report
    assert i.last_year_actual is None  # 4 January 2022: no figure yet then


def test_achieved_on_never_reaches_back_into_the_previous_year():
    inp = make_input([obs("LB", "new_unions", date(2022, 12, 30), 35), obs("LB", "new_unions", date(2023, 1, 6), 31)],
                     {("LB", "new_unions"): 30}, as_of=date(2023, 1, 10))
    assert compute(inp).district("LB").indicator("new_unions").achieved_on == date(2023, 1, 6)


def test_last_year_actual_is_last_years_figure_as_of_the_same_day_and_29_february_takes_28_february():
    inp = make_input([obs("LB", "new_unions", date(2023, 2, 24), 7), obs("LB", "new_unions", date(2023, 3, 3), 9),
                      obs("LB", "new_unions", date(2024, 2, 29), 4)], {("LB", "new_unions"): 30},
                     as_of=date(2024, 2, 29))
    p = compute(inp)
    assert p.district("LB").indicator("new_unions").last_year_actual == 7  # as of 28/02/2023
    assert p.total("new_unions").last_year_actual == 7
    assert same_day_last_year(date(2024, 2, 29)) == date(2023, 2, 28)
    assert same_day_last_year(date(2023, 6, 30)) == date(2022, 6, 30)


def test_status_before_is_the_status_a_week_earlier():
    day = date(2023, 6, 30)
    inp = make_input([obs("LB", "new_unions", day - timedelta(days=7), 20), obs("LB", "new_unions", day, 20)],
                     {("LB", "new_unions"): 30})
    i = compute(inp).district("LB").indicator("new_unions")
    assert (i.status_before, i.status) == ("on_track", "on_track")  # 20 ≥ 30 × 174/365 and 30 × 181/365


def test_rank_change_is_positive_for_a_unit_that_moved_up():
    a, b = date(2023, 6, 23), date(2023, 6, 30)
    inp = make_input([obs("LB", "new_unions", a, 10), obs("HK", "new_unions", a, 5),
                      obs("HK", "new_unions", b, 20)],
                     {("LB", "new_unions"): 30, ("HK", "new_unions"): 30}, districts=("LB", "HK"))
    p = compute(inp)
    assert [(d.code, d.rank, d.rank_change) for d in p.districts] == [("HK", 1, 1), ("LB", 2, -1)]
    assert p.to_json()["districts"][0]["rank_change"] == 1


# --- properties -------------------------------------------------------------------------------------

weekly_values = st.lists(st.one_of(st.none(), st.integers(0, 500)), min_size=53, max_size=53)


@settings(max_examples=40, deadline=None)
@given(this_year=weekly_values, last_year=weekly_values, year=st.sampled_from([2023, 2024]))
def test_week_changes_over_the_years_weeks_add_up_to_the_year_end_figure(this_year, last_year, year):
    """Chained 7 days apart from the first week to 31 December, the changes telescope to the 31/12
    figure, whatever last year's figures were (they never leak into this year)."""
    end = date(year, 12, 31)
    days = [end - timedelta(days=7 * k) for k in range(52, -1, -1)]
    assert days[0].year == year and days[0] - timedelta(days=7) < date(year, 1, 1)
    observations = [obs("LB", "new_unions", d, v) for d, v in zip(days, this_year, strict=True) if v is not None]
    observations += [obs("LB", "new_unions", d.replace(year=year - 1) if d.day < 29 else d - timedelta(days=366), v)
                     for d, v in zip(days, last_year, strict=True) if v is not None]
    inp = make_input(observations, {("LB", "new_unions"): 100}, as_of=end)
    changes = [compute(inp, d).district("LB").indicator("new_unions").week_change for d in days]
    year_end = compute(inp, end).district("LB").indicator("new_unions").actual
    assert sum(c or 0 for c in changes) == (year_end or 0)


@settings(max_examples=40, deadline=None)
@given(values=st.lists(st.tuples(st.integers(0, 3), st.integers(1, 26), st.integers(0, 40)), max_size=40),
       week=st.integers(2, 26))
def test_rank_change_is_the_rank_a_week_earlier_minus_the_rank_now(values, week):
    codes = ("HBT", "HM", "BD", "LB")
    observations = [obs(codes[c], "new_unions", date(2023, 1, 1) + timedelta(days=7 * w), v) for c, w, v in values]
    inp = make_input(observations, {(c, "new_unions"): 30 for c in codes}, districts=codes,
                     as_of=date(2023, 1, 1) + timedelta(days=7 * week))
    now, before = compute(inp), compute(inp, inp.as_of - timedelta(days=7))
    for d in now.districts:
        assert d.rank_change == before.district(d.code).rank - d.rank
        if before.district(d.code).rank == d.rank:
            assert d.rank_change == 0


@settings(max_examples=25, deadline=None)
@given(values=st.lists(st.tuples(st.integers(1, 30), st.integers(0, 40)), max_size=20))
def test_weekly_history_gives_the_same_changes_as_computing_each_day_alone(values):
    observations = [obs("LB", "new_unions", date(2023, 1, 1) + timedelta(days=7 * w - 2), v) for w, v in values]
    inp = make_input(observations, {("LB", "new_unions"): 30}, as_of=date(2023, 7, 5))
    for point in weekly_history(inp):
        alone = compute(inp, point.as_of)
        assert point.district("LB").indicator("new_unions") == alone.district("LB").indicator("new_unions")
        assert point.districts == alone.districts and point.totals == alone.totals


def test_the_new_json_keys_are_numbers_or_null():
    inp = make_input([obs("LB", "new_unions", date(2022, 6, 30), 11), obs("LB", "new_unions", date(2023, 6, 30), 16)],
                     {("LB", "new_unions"): 30}, indicators=(NEW_UNIONS,))
    data = compute(inp).to_json()
    ind = data["districts"][0]["indicators"][0]
    assert (ind["week_change"], ind["last_year_actual"]) == (16, 11)
    assert data["totals"][0]["last_year_actual"] == 11 and data["districts"][0]["rank_change"] == 0
