"""Closing a period's figures and the units' confirmations (tracker.closing, `tracker period`), on the
database under test (SQLite or PostgreSQL)."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import pytest
from sqlmodel import select

from tests.test_status import add_sheet
from tracker import closing, models
from tracker.calendar import parse_period
from tracker.errors import TrackerError

H1 = parse_period("2023-H1")
JUNE_30 = date(2023, 6, 30)
T_CONFIRM = datetime(2023, 7, 1, 2, tzinfo=UTC)
T_CLOSE = datetime(2023, 7, 3, 2, tzinfo=UTC)


def june(session):
    add_sheet(session, "LB", JUNE_30, {"new_unions": 16, "agreements": 11},
              received=datetime(2023, 6, 30, 3, tzinfo=UTC))
    add_sheet(session, "HM", date(2023, 6, 23), {"new_unions": 7}, received=datetime(2023, 6, 23, 3, tzinfo=UTC))


def test_a_confirmation_records_the_figures_and_their_submissions(session, ctx):
    june(session)
    row = closing.confirm(session, ctx.settings, H1, "LB", by="chị Lan", channel="web", now=T_CONFIRM)
    assert (row.as_of, row.confirmed_by, row.channel) == (JUNE_30, "chị Lan", "web")
    assert [(f["indicator"], f["value"]) for f in row.figures] == [("agreements", 11), ("new_unions", 16)]
    assert all(f["submission_id"] for f in row.figures)
    assert set(closing.valid_confirmations(session, "cum-1", H1, JUNE_30)) == {"LB"}


def test_a_confirmation_lapses_when_a_later_sheet_changes_the_units_figures(session, ctx):
    june(session)
    closing.confirm(session, ctx.settings, H1, "LB", by="x", channel="cli", now=T_CONFIRM)
    closing.confirm(session, ctx.settings, H1, "HM", by="y", channel="cli", now=T_CONFIRM)
    # a corrected LB sheet dated 29/06 arrives after the confirmation; a July sheet of HM does not count
    add_sheet(session, "LB", date(2023, 6, 29), {"new_unions": 15}, received=datetime(2023, 7, 2, tzinfo=UTC))
    add_sheet(session, "HM", date(2023, 7, 7), {"new_unions": 9}, received=datetime(2023, 7, 7, tzinfo=UTC))
    assert set(closing.valid_confirmations(session, "cum-1", H1, JUNE_30)) == {"HM"}
    closing.confirm(session, ctx.settings, H1, "LB", by="x", channel="cli", now=datetime(2023, 7, 3, tzinfo=UTC))
    assert set(closing.valid_confirmations(session, "cum-1", H1, JUNE_30)) == {"HM", "LB"}


def test_close_freezes_the_figures_and_a_later_sheet_is_an_amendment(session, ctx):
    june(session)
    result = closing.close_period(session, ctx.settings, H1, by="admin", now=T_CLOSE)
    assert result.close is not None and result.close.as_of == JUNE_30
    assert set(result.not_confirmed) == {"HBT", "HM", "BD", "LB", "HK", "DD"}
    frozen = closing.snapshot(session, result.close)
    assert frozen[("LB", "new_unions")].value == 16 and frozen[("HM", "new_unions")].value == 7
    assert frozen[("HBT", "new_unions")].value is None and len(frozen) == 6 * 5
    # LB sends a correction dated 30/06 after the close: stored, counted, listed
    add_sheet(session, "LB", JUNE_30, {"new_unions": 18, "agreements": 11}, received=datetime(2023, 7, 4, tzinfo=UTC),
              file_hash="late")
    assert [s.file_hash for s in closing.amendment_sheets(session, result.close)] == ["late"]
    assert closing.amendments(session, result.close) == [closing.Amendment("LB", "new_unions", 16, 18)]
    assert closing.figures_as_of(session, "cum-1", JUNE_30)[("LB", "new_unions")].value == 18  # status moves on
    assert closing.closes_covering(session, "cum-1", date(2023, 6, 12)) == [result.close]
    assert closing.closes_covering(session, "cum-1", date(2023, 7, 3)) == []


def test_require_confirmed_closes_nothing_while_a_unit_has_not_confirmed(session, ctx):
    june(session)
    for code in ("HBT", "HM", "BD", "LB", "HK"):
        closing.confirm(session, ctx.settings, H1, code, by="x", channel="cli", now=T_CONFIRM)
    refused = closing.close_period(session, ctx.settings, H1, by="admin", now=T_CLOSE, require_confirmed=True)
    assert refused.close is None and refused.not_confirmed == ("DD",)
    assert session.exec(select(models.PeriodClose)).all() == []
    closing.confirm(session, ctx.settings, H1, "DD", by="x", channel="cli", now=T_CONFIRM)
    done = closing.close_period(session, ctx.settings, H1, by="admin", now=T_CLOSE, require_confirmed=True)
    assert done.close is not None and done.not_confirmed == ()


def test_reopen_needs_a_reason_and_every_close_and_reopen_is_kept(session, ctx):
    june(session)
    closing.close_period(session, ctx.settings, H1, by="admin", now=T_CLOSE)
    with pytest.raises(TrackerError, match="lý do"):
        closing.reopen_period(session, "cum-1", H1, reason="  ", by="admin", now=T_CLOSE)
    with pytest.raises(TrackerError, match="đang chốt"):
        closing.close_period(session, ctx.settings, H1, by="admin", now=T_CLOSE)
    closing.reopen_period(session, "cum-1", H1, reason="LB sửa số liệu", by="admin",
                          now=datetime(2023, 7, 5, tzinfo=UTC))
    with pytest.raises(TrackerError, match="không ở trạng thái chốt"):
        closing.reopen_period(session, "cum-1", H1, reason="again", by="admin", now=T_CLOSE)
    closing.close_period(session, ctx.settings, H1, by="admin", now=datetime(2023, 7, 6, tzinfo=UTC))
    rows = session.exec(select(models.PeriodClose).order_by(models.PeriodClose.id)).all()
    assert [(r.reopen_reason, r.reopened_at is None) for r in rows] == [("LB sửa số liệu", False), ("", True)]


def test_a_date_outside_the_period_is_refused(session, ctx):
    with pytest.raises(TrackerError, match="không thuộc kỳ 2023-H1"):
        closing.close_period(session, ctx.settings, H1, as_of=date(2023, 7, 1), by="a", now=T_CLOSE)


# --- through the CLI --------------------------------------------------------------------------------


def test_period_commands_through_the_cli(ctx, cli):
    with ctx.session(write=True) as s:
        june(s)
    assert cli("period", "list").stdout.startswith("Chưa có kỳ nào")
    confirmed = cli("period", "confirm", "2023-H1", "HM", "--by", "anh Nam, điện thoại")
    assert confirmed.exit_code == 0
    assert "Đã ghi nhận HM xác nhận 1 số liệu kỳ 2023-H1 đến ngày 30/06/2023" in confirmed.stdout
    refused = cli("period", "close", "2023-H1", "--require-confirmed")
    assert refused.exit_code == 1 and "Chưa chốt kỳ 2023-H1" in refused.stdout and "HBT" in refused.stdout
    closed = cli("period", "close", "2023-H1")
    assert closed.exit_code == 0 and "Đã chốt số liệu kỳ 2023-H1 đến ngày 30/06/2023" in closed.stdout
    assert "chưa xác nhận số liệu: HBT, BD, LB, HK, DD" in closed.stderr
    data = json.loads(cli("period", "list", "--format", "json").stdout)
    assert len(data) == 1 and data[0]["period"] == "2023-H1" and data[0]["as_of"] == "2023-06-30"
    assert (data[0]["state"], data[0]["confirmed"], data[0]["amendments"]) == ("closed", ["HM"], 0)
    assert data[0]["not_confirmed"] == ["HBT", "BD", "LB", "HK", "DD"] and data[0]["closed_at"].endswith("+00:00")
    assert list(data[0]) == ["period", "as_of", "state", "closed_at", "confirmed", "not_confirmed", "amendments"]
    no_reason = cli("period", "reopen", "2023-H1", "--reason", " ")
    assert no_reason.exit_code == 2 and "lý do" in no_reason.stderr
    assert cli("period", "reopen", "2023-H1", "--reason", "sửa số liệu LB").exit_code == 0
    reopened = json.loads(cli("period", "list", "--format", "json").stdout)[0]
    assert (reopened["state"], reopened["closed_at"], reopened["confirmed"]) == ("open", None, ["HM"])


def test_a_period_in_a_year_without_data_is_refused(ctx, cli):
    result = cli("period", "close", "2019-H1")
    assert result.exit_code == 2 and "Năm 2019" in result.stderr


def test_the_progress_as_received_up_to_the_close_gives_exactly_the_frozen_figures(session, ctx):
    from tracker.progress import compute
    from tracker.standing import load_input

    june(session)
    close = closing.close_period(session, ctx.settings, H1, by="admin", now=T_CLOSE).close
    add_sheet(session, "LB", JUNE_30, {"new_unions": 18}, received=datetime(2023, 7, 4, tzinfo=UTC), file_hash="late")
    frozen = closing.snapshot(session, close)
    then = compute(load_input(session, ctx.settings, JUNE_30, received_until=close.closed_at))
    now = compute(load_input(session, ctx.settings, JUNE_30))
    for d in then.districts:
        for i in d.indicators:
            assert i.actual == frozen[(d.code, i.key)].value
    assert now.district("LB").indicator("new_unions").actual == 18


def test_a_sheet_dated_inside_a_closed_period_is_accepted_with_the_amendment_warning_at_its_date_cell(ctx):
    from tests.intake_factory import report_for
    from tracker.intake.ingest import ingest_bytes

    first = ingest_bytes(ctx, report_for("HM", JUNE_30, {"new_unions": 5}), "hm.xlsx",
                         received_at=datetime(2023, 6, 30, 3, tzinfo=UTC))
    assert first.status == "accepted" and first.findings == []
    with ctx.session(write=True) as session:
        closing.close_period(session, ctx.settings, H1, by="admin", now=datetime(2023, 7, 3, 2, tzinfo=UTC))
        session.commit()
    late = ingest_bytes(ctx, report_for("HM", date(2023, 6, 23), {"new_unions": 4}), "hm-23.xlsx",
                        received_at=datetime(2023, 7, 4, 3, tzinfo=UTC))
    assert late.status == "accepted"
    [warning] = [f for f in late.findings if f.code == "amended_after_close"]
    assert warning.severity == "warning" and warning.cell == "Báo cáo!B5"  # the as-of date
    assert warning.message_vi.startswith("Sửa số liệu sau khi chốt: số liệu sơ kết 6 tháng đầu năm 2023 đã "
                                         "được chốt ngày 03/07/2023 (số liệu đến 30/06/2023)")
    july = ingest_bytes(ctx, report_for("HM", date(2023, 7, 7), {"new_unions": 6}), "hm-07.xlsx",
                        received_at=datetime(2023, 7, 7, 3, tzinfo=UTC))
    assert [f.code for f in july.findings] == []  # after the close's date: an ordinary sheet
    with ctx.session(write=True) as session:
        closing.reopen_period(session, "cum-1", H1, reason="sửa", by="admin", now=datetime(2023, 7, 8, tzinfo=UTC))
        session.commit()
    reopened = ingest_bytes(ctx, report_for("HM", date(2023, 6, 16), {"new_unions": 3}), "hm-16.xlsx",
                            received_at=datetime(2023, 7, 9, 3, tzinfo=UTC))
    assert "amended_after_close" not in [f.code for f in reopened.findings]
