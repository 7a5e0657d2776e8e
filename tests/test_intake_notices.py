"""Rejection notices on `tracker pull` and `tracker ingest` when mail is configured (docs/outputs.md §7)."""

from __future__ import annotations

import os
import time
from datetime import date

import pytest

from tests.conftest import write_config
from tests.intake_factory import report_for
from tests.mail_factories import with_mail
from tests.smtp_server import HOST, SmtpServer
from tracker.intake.pull import pull

JUNE_30 = date(2023, 6, 30)
GOOD = {"new_unions": 16, "agreements": 11, "congresses": 40, "new_members": 1200, "union_fees": 2000}


@pytest.fixture
def server():
    s = SmtpServer().start()
    yield s
    s.stop()


def _drop(folder, name, data):
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_bytes(data)
    old = time.time() - 60  # settled: the pull skips files still being written
    os.utime(path, (old, old))


def test_pull_sends_the_district_the_errors_of_its_rejected_sheet_once(ctx, server):
    ctx = with_mail(ctx, host=HOST, port=server.port, security="none", user="", timeout=5)
    inbox = ctx.settings.paths.inbox
    bad = report_for("HK", JUNE_30, {**GOOD, "agreements": -1})
    _drop(inbox, "HK tuần 26.xlsx", bad)
    _drop(inbox, "LB tuần 26.xlsx", report_for("LB", JUNE_30, GOOD))
    report = pull(ctx)
    assert (report.accepted, report.rejected) == (1, 1)
    [got] = server.received  # the accepted sheet gets no notice
    msg = got.message
    assert got.rcpt_tos == ["hk@example.org"]
    assert "Báo cáo chưa được tiếp nhận" in msg["Subject"] and "HK tuần 26.xlsx" in msg["Subject"]
    body = msg.get_body(("plain",)).get_content()
    assert "Báo cáo!" in body  # the error names its cell
    names = [p.get_filename() for p in msg.walk() if p.get_content_disposition() == "attachment"]
    assert any(n and n.endswith(".xlsx") for n in names)  # the annotated workbook, ready to fix

    _drop(inbox, "HK tuần 26 (gửi lại).xlsx", bad)
    pull(ctx)
    assert len(server.received) == 1  # the same rejected bytes again: no second notice


def test_tracker_ingest_sends_a_notice_when_mail_is_configured(tmp_path, db_url, server, cli):
    config = write_config(tmp_path, db_url, replace={
        'host = ""                            # empty: write .eml files to <reports>/outbox':
            f'host = "{HOST}"',
        "port = 465": f"port = {server.port}",
        'security = "ssl"                     # ssl | starttls | none\nuser = ""\nsender':
            'security = "none"\nuser = ""\nsender',
    })
    assert cli("init", config=config).exit_code == 0
    bad = tmp_path / "BD.xlsx"
    bad.write_bytes(report_for("BD", JUNE_30, {**GOOD, "new_unions": 2.5}))
    result = cli("ingest", bad, config=config)
    assert result.exit_code == 1 and "bị từ chối" in result.stdout
    [got] = server.received
    assert got.rcpt_tos == ["bd@example.org"] and "BD.xlsx" in got.message["Subject"]


def test_without_mail_a_rejected_pull_writes_no_notice(ctx):
    _drop(ctx.settings.paths.inbox, "HK.xlsx", report_for("HK", JUNE_30, {**GOOD, "agreements": -1}))
    assert pull(ctx).rejected == 1
    assert not ctx.settings.paths.outbox.exists() or not list(ctx.settings.paths.outbox.glob("*.eml"))
