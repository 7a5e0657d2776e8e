"""The demo's sample sheets: consistent with the six-month report of docs/outputs.md §6, with realistic mistakes."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from sqlmodel import select

from tests.conftest import SAMPLE_CONFIG
from tracker.config import load_settings
from tracker.sample import CONGRESSES_DONE, FORGOTTEN, LATE, plan, series

JUNE_30 = date(2023, 6, 30)


@pytest.fixture(scope="module")
def sample():
    return load_settings(SAMPLE_CONFIG, env={})


def test_the_figures_at_30_06_are_those_of_the_six_month_report(sample):
    at_end = {(d.code, i.key): series(sample, d.code, i.key)[-1] for d in sample.districts for i in sample.indicators}
    assert (at_end[("LB", "new_unions")], at_end[("HBT", "new_unions")], at_end[("BD", "new_unions")]) == (16, 19, 15)
    assert (at_end[("LB", "agreements")], at_end[("DD", "agreements")], at_end[("HK", "agreements")]) == (11, 21, 16)
    targets = sample.targets
    exceeded = {pair for pair, v in at_end.items() if v >= targets[pair[0]][pair[1]] and pair[1] != "congresses"}
    assert {("DD", "agreements"), ("HK", "agreements")} <= exceeded


def test_every_district_finished_its_congresses_by_31_05_four_well_ahead(sample):
    sheets = sorted((s for s in plan(sample) if s.mistake is None), key=lambda s: s.week)
    for d in sample.districts:
        target = sample.targets[d.code]["congresses"]
        done = next(s.week for s in sheets if s.district == d.code and s.figures["congresses"] >= target)
        assert done <= date(2023, 5, 31) and done == CONGRESSES_DONE[d.code]
    assert all(CONGRESSES_DONE[c] <= date(2023, 5, 5) for c in ("HM", "LB", "HK", "DD"))
    # HBT and BD finish on the deadline day, with a sheet as of Wednesday 31/05; the Friday before is short
    for code in ("HBT", "BD"):
        assert CONGRESSES_DONE[code] == date(2023, 5, 31)
        friday = next(s for s in sheets if (s.district, s.week) == (code, date(2023, 5, 26)))
        assert friday.figures["congresses"] < sample.targets[code]["congresses"]


def test_figures_grow_every_week_and_never_fall(sample):
    for d in sample.districts:
        for i in sample.indicators:
            values = series(sample, d.code, i.key)
            assert all(b >= a for a, b in zip(values, values[1:], strict=False)), (d.code, i.key)
            assert values[0] > 0 or i.key in ("new_unions", "agreements")


def test_the_plan_has_mistakes_each_resent_a_late_sheet_and_a_forgotten_week(sample):
    sheets = plan(sample)
    mistakes = [s for s in sheets if s.mistake]
    assert sorted(m.mistake.kind for m in mistakes) == ["date", "district", "fraction", "na"]
    for m in mistakes:
        resent = [s for s in sheets if (s.district, s.week) == (m.district, m.week) and s.mistake is None]
        assert len(resent) == 1 and resent[0].received > m.received
    (late_key, sent), = LATE.items()
    late = next(s for s in sheets if (s.district, s.week) == late_key)
    assert late.received.replace(tzinfo=None) >= sent and late.received.isoweekday() == 6
    assert not [s for s in sheets if (s.district, s.week) in FORGOTTEN]
    assert ("HM", JUNE_30) in FORGOTTEN  # so the last week's e-mail and reminders name a district
    assert len(sheets) == 6 * 26 - len(FORGOTTEN) + 4 + 2  # + the two sheets as of 31/05


def test_demo_step_ingests_the_sheets_through_the_inbox(ctx):
    from tracker import models
    from tracker.sample import demo_step

    summary = demo_step(ctx)
    assert "156 chấp nhận" in summary and "4 bị từ chối" in summary and "2 cảnh báo" in summary
    assert "31/06/2023" in summary and "Tây Hồ" in summary and "#N/A" in summary and "'7,5'" in summary
    assert list(ctx.settings.paths.inbox.iterdir()) == []
    with ctx.session() as s:
        rows = s.exec(select(models.District.code, models.Indicator.key, models.Figure.value)
                      .select_from(models.Figure).join(models.District).join(models.Indicator)
                      .join(models.Submission, models.Submission.id == models.Figure.submission_id)
                      .where(models.Figure.as_of == JUNE_30, models.Submission.superseded_by_id.is_(None))).all()
        warnings = s.exec(select(models.Finding.code).where(models.Finding.severity == "warning")).all()
        late = s.exec(select(models.Submission.received_at).join(models.District).where(
            models.District.code == "BD", models.Submission.as_of == date(2023, 4, 14))).one()
    at_end = {(code, key): value for code, key, value in rows}
    assert at_end[("LB", "new_unions")] == 16 and at_end[("DD", "agreements")] == 21
    assert len(at_end) == 25 and not any(code == "HM" for code, _ in at_end)  # HM has not reported week 26
    assert sorted(warnings) == ["indicator_blank", "ytd_lower"]
    local = late.astimezone(ctx.settings.tz).replace(tzinfo=None)
    assert datetime(2023, 4, 15, 8, 30) <= local <= datetime(2023, 4, 15, 9, 0)  # Saturday: after the deadline
    # The files are deterministic: made again, they are "already received" (running the demo twice adds nothing).
    from tracker.intake.ingest import ingest_bytes
    from tracker.sample import _previous, plan, render

    sheets = plan(ctx.settings)
    for sheet in sheets[:3] + [s for s in sheets if s.mistake][:1]:
        result = ingest_bytes(ctx, render(ctx.settings, sheet, _previous(ctx.settings, sheets, sheet)), sheet.name)
        assert result.status == ("rejected" if sheet.mistake else "duplicate") and (result.repeated or result.ok)
