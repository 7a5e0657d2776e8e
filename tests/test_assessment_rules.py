"""The assessment rules (tracker.assessment.rules): hand-worked examples, then properties."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tracker.assessment.rules import (
    Award,
    Criterion,
    Extra,
    ScoringTable,
    UnitInput,
    assess,
    assess_unit,
    due_weeks,
    indicator_score,
    on_time_weeks,
    rank_and_award,
    reporting_score,
    round2,
)
from tracker.progress import Receipt, Rules

FLAG, MERIT = "Cờ thi đua", "Bằng khen"
TABLE = ScoringTable(
    total_points=100,
    awards=(Award(FLAG, 1), Award(MERIT, 2)),
    criteria=(
        Criterion("1.1", "I", "Thành lập CĐCS mới", 40, "indicator:new_unions"),
        Criterion("1.6", "I", "Báo cáo tuần", 20, "reporting"),
        Criterion("2.1", "II", "Tham gia hoạt động", 40, "manual"),
    ),
    bonus=(Extra("T1", "Mô hình mới", 3),),
    penalty=(Extra("P1", "Chậm báo cáo", 2),),
)


def unit(code, new_unions=(20, 20), weeks=(10, 10), manual=None, cluster=None, bonus=None, penalty=None):
    own = {"2.1": manual, "T1": bonus, "P1": penalty}
    return UnitInput(code, f"LĐLĐ {code}",
                     computed={"1.1": indicator_score(40, *new_unions), "1.6": reporting_score(20, *weeks)},
                     self_scores={k: v for k, v in own.items() if v is not None},
                     cluster_scores=cluster or {})


def test_rounding_is_half_away_from_zero():
    assert (round2(2.675), round2(2.665), round2(-0.125), round2(1 / 3)) == (2.68, 2.67, -0.13, 0.33)


def test_an_indicator_criterion_is_capped_at_its_points_and_does_not_apply_without_a_target():
    assert indicator_score(15, 16, 30).value == 8.0
    assert indicator_score(15, 45, 30).value == 15.0  # over target: still the points, no more
    assert indicator_score(15, None, 30).value == 0.0  # a target but no figure: 0
    assert not indicator_score(15, 16, None).applicable and not indicator_score(15, 16, 0).applicable
    assert indicator_score(15, 16, 30).actual == 16 and indicator_score(15, 16, 30).target == 30  # traceable


def test_a_criterion_that_does_not_apply_neither_helps_nor_hurts():
    """HK registered no new-unions target: its 60 applicable points are scaled to 100."""
    hk = assess_unit(TABLE, unit("HK", new_unions=(5, None), weeks=(9, 10), manual=30))
    assert hk.criterion("1.1").applicable is False and hk.criterion("1.1").final is None
    assert hk.criterion("1.6").final == 18.0
    assert hk.criteria_total == round2((18 + 30) * 100 / 60) == 80.0
    full = assess_unit(TABLE, unit("LB", new_unions=(20, 20), weeks=(9, 10), manual=30))
    assert full.criteria_total == 40 + 18 + 30


def test_bonus_is_added_and_penalty_subtracted_and_the_cluster_score_wins():
    u = assess_unit(TABLE, unit("LB", manual=40, bonus=3, penalty=2, cluster={"2.1": 35, "T1": 1}))
    assert u.criterion("2.1").final == 35  # the cluster's score where given
    assert [(b.self, b.cluster, b.final) for b in u.bonus] == [(3, 1, 1)]
    assert [(p.self, p.cluster, p.final) for p in u.penalty] == [(2, None, 2)]
    assert u.final_total == 40 + 20 + 35 + 1 - 2
    assert u.self_total == 40 + 20 + 40 + 3 - 2
    nobody = assess_unit(TABLE, unit("HM"))
    assert nobody.criterion("2.1").self is None and nobody.criterion("2.1").final == 0


def test_totals_are_computed_from_rounded_criterion_scores():
    u = assess_unit(TABLE, unit("LB", new_unions=(1, 3), weeks=(1, 3), manual=0))
    # 40/3 = 13.333… → 13.33 and 20/3 → 6.67: the total adds the rounded values
    assert (u.criterion("1.1").final, u.criterion("1.6").final, u.final_total) == (13.33, 6.67, 20.0)


def test_competition_ranking_and_awards_in_order():
    units = [assess_unit(TABLE, unit(c, manual=m)) for c, m in (("A", 40), ("B", 30), ("C", 20), ("D", 10))]
    out = {u.code: (u.rank, u.award, u.vote_needed) for u in rank_and_award(TABLE, units)}
    assert out == {"A": (1, FLAG, None), "B": (2, MERIT, None), "C": (3, MERIT, None), "D": (4, None, None)}


def test_a_tie_across_the_second_awards_boundary_goes_to_the_vote():
    units = [assess_unit(TABLE, unit(c, manual=m)) for c, m in (("A", 40), ("B", 30), ("C", 20), ("D", 20),
                                                                  ("E", 10))]
    out = {u.code: (u.rank, u.award, u.vote_needed) for u in rank_and_award(TABLE, units)}
    # B keeps its merit; C and D tie for the last merit place: the meeting votes; E gets nothing
    assert out == {"A": (1, FLAG, None), "B": (2, MERIT, None), "C": (3, None, MERIT), "D": (3, None, MERIT),
                   "E": (5, None, None)}


def test_the_first_award_only_for_a_unit_alone_at_rank_1():
    units = [assess_unit(TABLE, unit(c, manual=m)) for c, m in (("A", 40), ("B", 40), ("C", 30), ("D", 20))]
    out = {u.code: (u.rank, u.award, u.vote_needed) for u in rank_and_award(TABLE, units)}
    # A and B tie at rank 1: the flag goes to the vote, and the merits start after them
    assert out == {"A": (1, None, FLAG), "B": (1, None, FLAG), "C": (3, MERIT, None), "D": (4, MERIT, None)}


def test_a_first_award_of_two_places_never_goes_below_rank_1():
    table = ScoringTable(100, (Award(FLAG, 2), Award(MERIT, 1)), TABLE.criteria)
    units = [assess_unit(table, unit(c, manual=m)) for c, m in (("A", 40), ("B", 30), ("C", 20))]
    out = {u.code: (u.award, u.vote_needed) for u in rank_and_award(table, units)}
    assert out == {"A": (FLAG, None), "B": (MERIT, None), "C": (None, None)}


def test_due_weeks_and_on_time_weeks_use_the_weekly_deadline():
    rules = Rules()  # Friday 17:00, Hà Nội
    weeks = due_weeks(2023, date(2023, 1, 20), rules)
    # 2023: the first Monday in the year is 2 January; the week of 16/01 is due by Friday 20/01 17:00
    assert weeks == [date(2023, 1, 2), date(2023, 1, 9), date(2023, 1, 16)]
    assert due_weeks(2023, date(2023, 1, 5), rules) == []
    hanoi_17 = datetime(2023, 1, 6, 10, 0, tzinfo=UTC)  # Friday 17:00 local exactly: on time
    receipts = [Receipt("LB", date(2023, 1, 6), hanoi_17), Receipt("LB", date(2023, 1, 13), hanoi_17 + timedelta(7)
                                                                       + timedelta(minutes=1)),
                Receipt("LB", date(2023, 1, 20), datetime(2023, 1, 19, 3, tzinfo=UTC))]
    assert on_time_weeks(weeks, receipts, rules) == 2  # the second week's sheet came a minute late


def test_json_has_the_contract_shape():
    result = assess(TABLE, [unit("LB", manual=40), unit("HK", new_unions=(1, None), manual=20)],
                    cluster="cum-1", year=2023, as_of=date(2023, 6, 30))
    data = result.to_json()
    assert list(data) == ["cluster", "year", "as_of", "total_points", "units"]
    lb = data["units"][0]
    assert list(lb) == ["code", "name", "criteria", "bonus", "penalty", "self_total", "final_total", "rank",
                        "award", "vote_needed"]
    assert lb["criteria"][0] == {"code": "1.1", "points": 40, "applicable": True, "computed": 40, "self": 40,
                                 "cluster": 40, "final": 40}
    assert lb["criteria"][2] == {"code": "2.1", "points": 40, "applicable": True, "computed": None, "self": 40,
                                 "cluster": None, "final": 40}
    assert lb["bonus"] == [{"code": "T1", "self": None, "cluster": None, "final": 0}]
    assert (lb["rank"], lb["award"], data["units"][1]["award"]) == (1, FLAG, MERIT)
    assert data["units"][1]["criteria"][0]["applicable"] is False


# --- properties -------------------------------------------------------------------------------------

scores = st.floats(0, 1, allow_nan=False)


@st.composite
def unit_inputs(draw, code):
    got, target = draw(st.integers(0, 60)), draw(st.one_of(st.none(), st.integers(0, 40)))
    due = draw(st.integers(0, 26))
    return unit(code, new_unions=(got, target), weeks=(draw(st.integers(0, due)), due),
                manual=round2(40 * draw(scores)), cluster={"2.1": round2(40 * draw(scores))} if draw(st.booleans())
                else {}, bonus=round2(3 * draw(scores)), penalty=round2(2 * draw(scores)))


@settings(max_examples=80, deadline=None)
@given(st.lists(st.sampled_from("ABCDEFGH"), min_size=1, max_size=8, unique=True).flatmap(
    lambda codes: st.tuples(*(unit_inputs(c) for c in codes))))
def test_a_final_total_never_exceeds_total_points_plus_the_bonus_maxima(units):
    for u in assess(TABLE, units, cluster="c", year=2023, as_of=date(2023, 12, 31)).units:
        assert -2 <= u.final_total <= TABLE.total_points + sum(b.max for b in TABLE.bonus)


@settings(max_examples=80, deadline=None)
@given(st.lists(st.sampled_from("ABCDEFGH"), min_size=2, max_size=8, unique=True).flatmap(
    lambda codes: st.tuples(*(unit_inputs(c) for c in codes))), st.floats(0, 40), st.integers(0, 7))
def test_raising_one_score_never_lowers_that_units_rank(units, raise_to, which):
    target = units[which % len(units)]
    before = assess(TABLE, units, cluster="c", year=2023, as_of=date(2023, 12, 31)).unit(target.code)
    current = target.cluster_scores.get("2.1", target.self_scores.get("2.1"))
    higher = max(raise_to, current or 0.0)
    raised = UnitInput(target.code, target.name, target.computed, target.self_scores,
                       {**target.cluster_scores, "2.1": round2(higher)})
    after = assess(TABLE, [raised if u is target else u for u in units], cluster="c", year=2023,
                   as_of=date(2023, 12, 31)).unit(target.code)
    assert after.rank <= before.rank


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(0, 5), min_size=1, max_size=10))
def test_awards_never_exceed_their_count_and_the_flag_only_at_rank_1(manual_scores):
    units = [assess_unit(TABLE, unit(f"U{n}", manual=10 * m)) for n, m in enumerate(manual_scores)]
    ranked = rank_and_award(TABLE, units)
    for a in TABLE.awards:
        assert sum(u.award == a.name for u in ranked) <= a.count
    assert all(u.rank == 1 for u in ranked if FLAG in (u.award, u.vote_needed))
    assert not any(u.award and u.vote_needed for u in ranked)


@pytest.mark.parametrize("on_time,due,expected", [(26, 26, 10.0), (13, 26, 5.0), (0, 26, 0.0), (0, 0, None)])
def test_reporting_score(on_time, due, expected):
    assert reporting_score(10, on_time, due).value == expected
