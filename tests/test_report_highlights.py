"""The Trong tuần block (tracker.reporting.highlights): which of the week's facts are shown, pure."""

from __future__ import annotations

import unicodedata
from datetime import date

from tests.test_progress import FEES, NEW_UNIONS, make_input, obs
from tracker.progress import compute
from tracker.reporting.highlights import blocks, change_text, week_highlights
from tracker.text import format_change, format_rank_change

JUNE_23, JUNE_30 = date(2023, 6, 23), date(2023, 6, 30)


def test_a_target_reached_this_week_is_new_one_reached_before_is_not():
    inp = make_input([obs("LB", "new_unions", JUNE_23, 25), obs("LB", "new_unions", JUNE_30, 31),
                      obs("HK", "new_unions", JUNE_23, 21), obs("HK", "new_unions", JUNE_30, 22)],
                     {("LB", "new_unions"): 30, ("HK", "new_unions"): 20}, districts=("LB", "HK"))
    h = week_highlights(compute(inp))
    assert [(a.code, a.actual, a.achieved_on) for a in h.achieved] == [("LB", 31, JUNE_30)]


def test_in_the_first_week_of_january_the_day_achieved_decides():
    inp = make_input([obs("LB", "new_unions", date(2023, 1, 2), 3), obs("HK", "new_unions", date(2023, 1, 6), 1)],
                     {("LB", "new_unions"): 2, ("HK", "new_unions"): 1}, districts=("LB", "HK"),
                     as_of=date(2023, 1, 6))
    assert [a.code for a in week_highlights(compute(inp)).achieved] == ["LB", "HK"]
    later = make_input(inp.observations, inp.targets, districts=("LB", "HK"), as_of=date(2023, 1, 13))
    assert week_highlights(compute(later)).achieved == ()  # both were achieved the week before


def test_a_status_that_got_worse_is_listed_with_before_and_now():
    # 35 × 174/365 = 16,7 expected on 23/06 (17 is on track); 35 × 181/365 = 17,4 on 30/06 (17 is behind)
    inp = make_input([obs("HM", "new_unions", JUNE_23, 17), obs("HM", "new_unions", JUNE_30, 17),
                      obs("LB", "new_unions", JUNE_23, 10), obs("LB", "new_unions", JUNE_30, 20)],
                     {("HM", "new_unions"): 35, ("LB", "new_unions"): 30}, districts=("HM", "LB"))
    [w] = week_highlights(compute(inp)).worse
    assert (w.code, w.before, w.now) == ("HM", "on_track", "behind")
    [line] = blocks(week_highlights(compute(inp)))[1]["lines"]
    assert line == "LĐLĐ HM — Thành lập CĐCS mới: Đúng tiến độ → Chậm tiến độ"


def test_the_largest_rises_are_the_top_three_by_share_of_the_target():
    figures = [("A", 10, 12), ("B", 10, 20), ("C", 10, 11), ("D", 10, 16), ("E", 10, 10)]
    observations = [obs(c, "new_unions", JUNE_23, a) for c, a, _ in figures]
    observations += [obs(c, "new_unions", JUNE_30, b) for c, _, b in figures]
    targets = {(c, "new_unions"): 40 for c, _, _ in figures} | {("D", "new_unions"): 20}
    h = week_highlights(compute(make_input(observations, targets, districts=tuple(c for c, _, _ in figures))))
    # B +10/40 = 25 %, D +6/20 = 30 %, A +2/40 = 5 %, C +1/40 = 2,5 %; E did not move
    assert [(r.code, r.change, round(r.share, 1)) for r in h.rises] == [("D", 6, 30.0), ("B", 10, 25.0), ("A", 2, 5.0)]
    assert blocks(h)[2]["lines"][0] == "LĐLĐ D — Thành lập CĐCS mới: +6 CĐCS (bằng 30,0% chỉ tiêu)"


def test_units_with_no_new_figure_for_three_weeks_or_more():
    inp = make_input([obs("LB", "new_unions", date(2023, 6, 9), 5), obs("HK", "new_unions", date(2023, 6, 10), 5)],
                     {("LB", "new_unions"): 30, ("HK", "new_unions"): 30, ("BD", "new_unions"): 30},
                     districts=("LB", "HK", "BD"))
    silent = week_highlights(compute(inp)).silent  # as of 30/06: LB 21 days, HK 20 days, BD nothing at all
    assert {(s.code, s.last_as_of, s.weeks) for s in silent} == {("LB", date(2023, 6, 9), 3), ("BD", None, None)}
    lines = blocks(week_highlights(compute(inp)))[3]["lines"]
    assert "LĐLĐ LB (số liệu gần nhất đến 09/06/2023, 3 tuần trước)" in lines
    assert "LĐLĐ BD (chưa có báo cáo nào trong năm)" in lines
    early = make_input([], {("LB", "new_unions"): 30}, as_of=date(2023, 1, 15))
    assert week_highlights(compute(early)).silent == ()  # the year is not three weeks old yet


def test_a_quiet_week_says_so_in_every_list():
    h = week_highlights(compute(make_input([obs("LB", "new_unions", JUNE_23, 5), obs("LB", "new_unions", JUNE_30, 5)],
                                           {("LB", "new_unions"): 30})))
    assert h.empty
    out = blocks(h)
    assert [b["lines"] for b in out] == [[], [], [], []]
    assert all(b["empty"] and unicodedata.is_normalized("NFC", b["title"] + b["empty"]) for b in out)


def test_change_and_rank_words():
    assert [format_change(v) for v in (3, -2, 0, None, 1234.5)] == ["+3", "-2", "—", "—", "+1.234,5"]
    assert change_text(2000.5, FEES) == "+2.000,5" and change_text(2.0, NEW_UNIONS) == "+2"
    assert [format_rank_change(v) for v in (2, -1, 0, None)] == ["▲2", "▼1", "", ""]
