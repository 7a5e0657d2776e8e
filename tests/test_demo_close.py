"""The demo's half-year close: units confirm through the real portal (the real server, the page's own form),
one by telephone, the period is closed, and the amendment sent afterwards is received with its warning."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlmodel import select

from tests.intake_factory import report_for
from tracker import closing, models
from tracker.calendar import parse_period
from tracker.intake.ingest import ingest_bytes
from tracker.web.visit import PortalVisit
from tracker.workflows.demo import PORTAL_CONFIRMERS, _close_half_year
from tracker.workflows.pull import pull

JUNE_30 = date(2023, 6, 30)


def test_the_demo_close_confirms_on_the_portal_closes_and_leaves_an_amendment(ctx):
    for code in ("HBT", "HM", "BD", "LB", "HK", "DD"):
        result = ingest_bytes(ctx, report_for(code, JUNE_30, {"new_unions": 5, "agreements": 3}), f"{code}.xlsx",
                              received_at=datetime(2023, 6, 30, 3, tzinfo=UTC))
        assert result.status == "accepted"
    lines: list[str] = []
    assert _close_half_year(ctx, PortalVisit, JUNE_30, out=lines.append, err=lambda _: None)
    period = parse_period("2023-H1")
    with ctx.session() as session:
        confirmed = closing.valid_confirmations(session, ctx.cluster_id, period, JUNE_30)
        rows = session.exec(select(models.Confirmation)).all()
        close = closing.latest_close(session, ctx.cluster_id, "2023-H1")
    assert set(confirmed) == {*PORTAL_CONFIRMERS, "LB"}
    assert sorted(r.channel for r in rows) == ["cli", "web", "web", "web", "web"]
    assert {r.confirmed_by for r in rows if r.channel == "web"} == set(PORTAL_CONFIRMERS.values())
    assert closing.is_closed(close) and close.as_of == JUNE_30
    assert any("chưa xác nhận / not confirmed: DD" in line for line in lines)

    report = pull(ctx)
    [item] = [i for i in report.items if i.result is not None]
    assert item.result.status == "accepted" and item.result.district == "LB"
    assert "amended_after_close" in [f.code for f in item.result.findings]
    with ctx.session() as session:
        assert {a.district for a in closing.amendments(session, close)} == {"LB"}

    again: list[str] = []  # `make demo` a second time: the close is there, nothing is asked or confirmed again
    assert _close_half_year(ctx, PortalVisit, JUNE_30, out=again.append, err=lambda _: None)
    assert any("closed by an earlier run" in line for line in again)
    with ctx.session() as session:
        assert len(session.exec(select(models.Confirmation)).all()) == 5
        assert len(session.exec(select(models.PeriodClose)).all()) == 1

