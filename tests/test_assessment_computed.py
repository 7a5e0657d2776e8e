"""Computed criteria read from the database under test: the same figures and targets as `tracker status`,
the same weekly deadline as the weekly completeness."""

from __future__ import annotations

from datetime import UTC, date, datetime

from tests.test_status import add_sheet
from tracker.assessment.computed import computed_values, scoring_table


def test_computed_criteria_come_from_the_status_figures_and_the_weekly_deadline(session, ctx):
    # LB: the weeks of 2 and 9 January on time (Friday 17:00 Hà Nội = 10:00 UTC); 16 January a minute late
    add_sheet(session, "LB", date(2023, 1, 6), {"new_unions": 3}, received=datetime(2023, 1, 6, 10, 0, tzinfo=UTC))
    add_sheet(session, "LB", date(2023, 1, 13), {"new_unions": 5}, received=datetime(2023, 1, 13, 3, tzinfo=UTC))
    add_sheet(session, "LB", date(2023, 1, 20), {"new_unions": 45, "agreements": 9},
              received=datetime(2023, 1, 20, 10, 1, tzinfo=UTC))
    values = computed_values(session, ctx.settings, date(2023, 1, 22))
    lb = values["LB"]
    assert (lb["1.6"].on_time, lb["1.6"].due, lb["1.6"].value) == (2, 3, round(10 * 2 / 3, 2))
    assert (lb["1.1"].actual, lb["1.1"].target, lb["1.1"].value) == (45, 30, 12.0)  # over target: capped
    assert (lb["1.2"].actual, lb["1.2"].target, lb["1.2"].value) == (9, 18, 6.0)
    assert lb["1.4"].value == 0.0  # a target and no figure
    assert values["HM"]["1.6"].value == 0.0 and set(lb) == {"1.1", "1.2", "1.3", "1.4", "1.5", "1.6"}


def test_a_superseded_version_received_on_time_does_not_count_for_the_week(session, ctx):
    first = add_sheet(session, "HM", date(2023, 1, 6), {"new_unions": 1}, received=datetime(2023, 1, 6, 3, tzinfo=UTC))
    later = add_sheet(session, "HM", date(2023, 1, 6), {"new_unions": 2}, received=datetime(2023, 1, 9, 3, tzinfo=UTC))
    first.superseded_by_id = later.id
    session.add(first)
    session.flush()
    assert computed_values(session, ctx.settings, date(2023, 1, 8))["HM"]["1.6"].on_time == 0


def test_the_scoring_table_of_the_sample_config(ctx):
    table = scoring_table(ctx.settings)
    assert table.total_points == 100 and [a.count for a in table.awards] == [1, 2]
    assert [c.code for c in table.criteria if not c.computed] == ["2.1", "2.2"]
    assert table.maximum("T1") == 3 and table.maximum("1.6") == 10
