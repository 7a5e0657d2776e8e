"""Warnings that compare a sheet with the district's earlier accepted figures. Pure.

``History`` holds, per indicator, the district's current accepted figures of the year (one per as-of
date: superseded versions left out) up to and including the new sheet's as-of date. Only the last
``JUMP_WINDOW_DAYS`` and the most recent figure before them matter (the loader reads no more).

The rules, so a reader of a report can check them:
- **Correction** (``ytd_lower``): the year-to-date value is lower than the district's most recent
  accepted value with an as-of date on or before this one (an earlier version of the same date counts).
- **Jump** (``jump``): the week-over-week increase is far outside the district's recent history.
  Increases are measured per week (an increase over 14 days counts half per week, two sheets in one
  week count as one week) between the district's sheets of the last 13 weeks (``JUMP_WINDOW_DAYS``;
  early in the year, from 0 on 1 January). The new weekly increase is flagged when there are at least
  ``JUMP_MIN_HISTORY`` earlier increases in that window and the new one is more than ``JUMP_FACTOR``
  times the largest of them (and at least ``JUMP_FACTOR`` units). Typing an extra zero is the usual
  cause; a burst that builds up over weeks (the congress season) is not flagged.
- **Period inconsistent** (``period_mismatch``): ``Thực hiện trong kỳ`` differs from the change of the
  year-to-date value since the district's previous accepted sheet, when that sheet is from the previous
  seven days (or when this is the first week of the year: the change since 1 January). Counts must match
  exactly; amounts within 0,5 % (at least 0,05).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, timedelta

from tracker.config import Indicator, Settings
from tracker.findings import Finding, make, ordered
from tracker.intake.parser import ParsedReport
from tracker.messages import Bilingual
from tracker.text import format_date, format_number

History = Mapping[str, Sequence[tuple[date, float]]]  # indicator key -> [(as_of, value)] sorted by date

JUMP_FACTOR = 3.0
JUMP_MIN_HISTORY = 4
JUMP_WINDOW_DAYS = 91


def window_start(as_of: date) -> date:
    """The first day whose figures the jump rule looks at."""
    return max(date(as_of.year, 1, 1), as_of - timedelta(days=JUMP_WINDOW_DAYS))


def _max_weekly_gain(points: Sequence[tuple[date, float]]) -> tuple[float, int]:
    """(largest per-week increase between consecutive points, number of increases)."""
    best, count = float("-inf"), 0
    for (d0, v0), (d1, v1) in zip(points, points[1:], strict=False):
        weeks = (d1 - d0).days / 7.0
        gain = (v1 - v0) / (weeks if weeks > 1.0 else 1.0)
        best, count = max(best, gain), count + 1
    return best, count


def _name(ind: Indicator) -> Bilingual:
    return Bilingual(ind.label, ind.label_en)


def history_findings(report: ParsedReport, history: History, settings: Settings) -> list[Finding]:
    """The warnings of the module docstring for an accepted-looking report."""
    if report.as_of is None or report.district is None:
        return []
    as_of, out = report.as_of, []
    start = (date(as_of.year, 1, 1) - timedelta(days=1), 0.0)  # "0 at the end of last year"
    for row in report.figures:
        assert row.value is not None
        ind = settings.indicator(row.indicator)
        points = sorted(p for p in history.get(row.indicator, ()) if p[0] <= as_of)
        if points and row.value < points[-1][1]:
            prev_date, prev = points[-1]
            out.append(make("ytd_lower", sheet=report.sheet, ref=row.cell, indicator=row.indicator, name=_name(ind),
                            previous=format_number(prev), previous_date=format_date(prev_date),
                            value=format_number(row.value)))
        earlier = [start] + [p for p in points if p[0] < as_of]
        last_date, last = earlier[-1]
        gain = row.value - last
        since = window_start(as_of)
        recent = [p for p in earlier if p[0] >= since or (p is start and since == date(as_of.year, 1, 1))]
        largest, count = _max_weekly_gain(recent)
        weeks = (as_of - last_date).days / 7.0
        rate = gain / (weeks if weeks > 1.0 else 1.0)
        if count >= JUMP_MIN_HISTORY and rate > JUMP_FACTOR * max(largest, 1.0):
            out.append(make("jump", sheet=report.sheet, ref=row.cell, indicator=row.indicator, name=_name(ind),
                            gain=format_number(gain), unit=ind.unit, last_date=format_date(last_date),
                            factor=format_number(JUMP_FACTOR), largest=format_number(largest)))
        if row.period_value is not None and 1 <= (as_of - last_date).days <= 7:
            expected = gain
            tolerance = 0.5 if ind.kind == "count" else max(0.05, 0.005 * abs(expected))
            if abs(row.period_value - expected) >= tolerance:
                out.append(make("period_mismatch", sheet=report.sheet, ref=row.period_cell, indicator=row.indicator,
                                name=_name(ind), period=format_number(row.period_value),
                                expected=format_number(expected),
                                last_date=format_date(last_date)))
    return ordered(out)
