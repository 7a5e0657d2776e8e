"""A sheet dated inside a closed period (docs/closing.md §3): accepted, counted, and warned as an amendment
after the close at its date cell; a reopened period no longer warns."""

from __future__ import annotations

from datetime import UTC, date, datetime

from tests.intake_factory import report_for
from tracker import closing
from tracker.calendar import parse_period
from tracker.intake.ingest import ingest_bytes

H1 = parse_period("2023-H1")
JUNE_30 = date(2023, 6, 30)


def test_a_sheet_dated_inside_a_closed_period_is_accepted_with_the_amendment_warning_at_its_date_cell(ctx):
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
