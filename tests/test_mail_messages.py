"""The four kinds of e-mail, end to end: real data ingested through intake, real reports, a real SMTP
server on loopback, what arrived parsed with the ``email`` package. Only the clock is fixed."""

from __future__ import annotations

import io
import os
from datetime import UTC, date, datetime

import pytest

from tests.intake_factory import report_for
from tests.mail_factories import png_bytes, with_mail
from tests.smtp_server import HOST, SmtpServer
from tracker.intake.ingest import ingest_bytes
from tracker.mail.compose import MAX_MESSAGE_BYTES, Draft, Part, build, cids_in_html
from tracker.mail.delivery import deliver_pending
from tracker.mail.messages import fit_to_size_cap
from tracker.models import OutboxMessage
from tracker.workflows.notices import notify_rejection, rejection_recipients
from tracker.workflows.sending import review_subject, send_reminders, send_review, send_weekly

JUNE_30 = date(2023, 6, 30)
NOW = datetime(2023, 6, 30, 10, 0, tzinfo=UTC)  # Friday 17:00 in Hà Nội
WEEKLY_SUBJECT = "[Cụm thi đua số 1] Báo cáo tiến độ tuần 26/2023 (số liệu đến 30/06/2023)"
FIGURES = {"new_unions": 16, "agreements": 11, "congresses": 40, "new_members": 1200, "union_fees": 2000}


@pytest.fixture
def server():
    s = SmtpServer().start()
    yield s
    s.stop()


def smtp(ctx, server):
    return with_mail(ctx, host=HOST, port=server.port, security="none", user="", timeout=5)


def seed(ctx, codes=("HBT", "HM")):
    """Accepted sheets for this week from ``codes``; LB reported only the week before."""
    for code in codes:
        result = ingest_bytes(ctx, report_for(code, JUNE_30, FIGURES), f"{code}.xlsx",
                              received_at=datetime(2023, 6, 30, 2, tzinfo=UTC))
        assert result.status == "accepted", result.findings
    ingest_bytes(ctx, report_for("LB", date(2023, 6, 23), FIGURES), "LB.xlsx",
                 received_at=datetime(2023, 6, 23, 2, tzinfo=UTC))


def outbox_rows(ctx):
    from sqlmodel import select

    with ctx.session() as session:
        return list(session.exec(select(OutboxMessage).order_by(OutboxMessage.id)).all())


def attachments(msg):
    return {p.get_filename(): p.get_content() for p in msg.walk() if p.get_content_disposition() == "attachment"}


def test_the_weekly_report_arrives_with_its_subject_inline_charts_and_workbook_and_is_mailed_once(ctx, server):
    from openpyxl import load_workbook

    ctx = smtp(ctx, server)
    seed(ctx)
    report = send_weekly(ctx, JUNE_30, now=NOW)
    assert report.ok and report.counts()["sent"] == 1 and report.counts()["new"] == 1
    [got] = server.received
    msg = got.message
    assert msg["Subject"] == WEEKLY_SUBJECT and got.rcpt_tos == ["cum-truong@example.org"]
    assert msg.get_content_type() == "multipart/mixed"
    html = next(p for p in msg.walk() if p.get_content_type() == "text/html").get_content()
    text = next(p for p in msg.walk() if p.get_content_type() == "text/plain").get_content()
    inline = {p["Content-ID"].strip("<>"): p for p in msg.walk() if p.get_content_disposition() == "inline"}
    assert inline and cids_in_html(html) == set(inline)
    assert all(p.get_content()[:8] == png_bytes()[:8] for p in inline.values())
    assert "Báo cáo tiến độ tuần 26/2023" in text.replace("BÁO CÁO TIẾN ĐỘ TUẦN", "Báo cáo tiến độ tuần")
    assert "<td" not in text
    # the week's highlights come first, in both parts (docs/outputs.md §4)
    assert "TRONG TUẦN" in text and "Đơn vị không có số liệu mới từ 3 tuần trở lên" in text
    assert ">Trong tuần</h3>" in html and "Tăng nhiều nhất trong tuần" in html
    files = attachments(msg)
    workbook = files["Báo cáo tiến độ tuần 26-2023 - Cụm thi đua số 1.xlsx"]
    wb = load_workbook(io.BytesIO(workbook))
    assert {"Tổng hợp", "Chi tiết", "Xếp hạng", "Tình hình nộp báo cáo", "Dữ liệu"} <= set(wb.sheetnames)
    assert sum(name.endswith(".png") for name in files) == len(inline)
    assert all(name == name.strip() and "?" not in name for name in files)

    again = send_weekly(ctx, date(2023, 7, 2), now=NOW)  # the same ISO week: the same message
    assert [m.state for m in again.messages] == ["already-sent"] and again.ok
    assert len(server.received) == 1 and len(outbox_rows(ctx)) == 1


def test_a_dry_run_shows_who_would_get_what_and_writes_nothing(ctx, server):
    ctx = smtp(ctx, server)
    report = send_weekly(ctx, JUNE_30, dry_run=True, now=NOW)
    [planned] = report.messages
    assert (planned.state, planned.subject, planned.recipients) == (
        "would-send", WEEKLY_SUBJECT, ("cum-truong@example.org",))
    reminders = send_reminders(ctx, JUNE_30, dry_run=True, now=NOW)
    assert [m.recipient_key for m in reminders.messages] == ["HBT", "HM", "BD", "LB", "HK", "DD"]
    assert outbox_rows(ctx) == [] and server.received == []
    assert not ctx.settings.paths.reports.exists() or not any(ctx.settings.paths.reports.rglob("*.*"))


def test_after_an_outage_sending_again_delivers_the_pending_message_exactly_once(ctx):
    down = SmtpServer()  # nobody listening yet: connection refused
    ctx = with_mail(ctx, host=HOST, port=down.port, security="none", user="", timeout=5)
    seed(ctx, codes=("HBT", "HM", "BD", "LB", "HK"))
    first = send_reminders(ctx, JUNE_30, now=NOW)
    assert not first.ok and [(m.recipient_key, m.state) for m in first.messages] == [("DD", "pending")]
    assert "connection refused" in first.messages[0].error
    with down:
        second = send_reminders(ctx, JUNE_30, now=NOW)
        assert second.ok and [m.state for m in second.messages] == ["sent"] and second.counts()["new"] == 0
        assert deliver_pending(ctx, force=True).attempted == 0
        assert [r.rcpt_tos for r in down.received] == [["dd@example.org"]]
    [row] = outbox_rows(ctx)
    assert (row.status, row.attempts) == ("sent", 2)


def test_reminders_go_once_to_each_district_that_has_not_reported_with_its_own_template(ctx, server):
    from openpyxl import load_workbook

    ctx = smtp(ctx, server)
    seed(ctx)
    report = send_reminders(ctx, JUNE_30, now=NOW)
    assert report.ok and [m.recipient_key for m in report.messages] == ["BD", "LB", "HK", "DD"]
    by_rcpt = {tuple(r.rcpt_tos): r.message for r in server.received}
    assert set(by_rcpt) == {("bd@example.org",), ("lb@example.org",), ("hk@example.org",), ("dd@example.org",)}
    lb = by_rcpt[("lb@example.org",)]
    assert lb["Subject"] == "[Cụm thi đua số 1] Nhắc nộp báo cáo tiến độ tuần 26/2023 - LĐLĐ quận Long Biên"
    body = next(p for p in lb.walk() if p.get_content_type() == "text/plain").get_content()
    assert "17:00 thứ Sáu, 30/06/2023" in body and "số liệu đến ngày 23/06/2023" in body
    [(name, data)] = attachments(lb).items()
    assert name == "bao-cao_LB_2023-06-30.xlsx"
    ws = load_workbook(io.BytesIO(data))["Báo cáo"]
    assert ws["B4"].value == "LĐLĐ quận Long Biên" and ws["B5"].value == datetime(2023, 6, 30)

    again = send_reminders(ctx, JUNE_30, now=NOW)
    assert {m.state for m in again.messages} == {"already-sent"} and len(server.received) == 4


def test_a_rejected_upload_notifies_the_district_with_errors_by_cell_and_the_annotated_workbook(ctx, server):
    from openpyxl import load_workbook

    ctx = smtp(ctx, server)
    bad = report_for("HK", JUNE_30, {**FIGURES, "new_unions": "mười sáu"})
    result = ingest_bytes(ctx, bad, "Báo cáo HK tuần 26.xlsx", received_at=NOW)
    assert result.status == "rejected" and result.annotated_path is not None
    report = notify_rejection(ctx, result, now=NOW)
    assert report.ok and report.counts()["sent"] == 1
    [got] = server.received
    assert got.rcpt_tos == ["hk@example.org"]
    msg = got.message
    assert msg["Subject"] == "[Cụm thi đua số 1] Báo cáo chưa được tiếp nhận: Báo cáo HK tuần 26.xlsx"
    text = next(p for p in msg.walk() if p.get_content_type() == "text/plain").get_content()
    error = result.errors[0]
    assert f"{error.cell}: {error.message_vi}" in text and error.message_en in text
    [(name, data)] = attachments(msg).items()
    assert name == result.annotated_path.name
    assert load_workbook(io.BytesIO(data)).sheetnames[0] == "Báo cáo"

    assert notify_rejection(ctx, result, now=NOW).messages[0].state == "already-sent"
    assert len(server.received) == 1


def test_without_smtp_a_rejection_notice_is_not_made(ctx):
    result = ingest_bytes(ctx, report_for("HK", JUNE_30, {**FIGURES, "agreements": -1}), "x.xlsx", received_at=NOW)
    report = notify_rejection(ctx, result, now=NOW)
    assert report.messages == [] and report.skipped_reason == "mail not configured" and outbox_rows(ctx) == []


@pytest.mark.parametrize(("district", "sender", "codes", "expected"), [
    ("HK", None, {"not_a_number"}, ("HK", ("hk@example.org",))),
    ("HK", "clerk@hk.example.org", {"not_a_number"}, ("HK", ("clerk@hk.example.org", "hk@example.org"))),
    ("HK", "HK@example.org", {"not_a_number"}, ("HK", ("hk@example.org",))),
    ("HK", "someone@else.org", {"sender_not_in_district"}, ("someone@else.org", ("someone@else.org",))),
    (None, "who@else.org", {"unknown_district"}, ("who@else.org", ("who@else.org",))),
    (None, None, {"unreadable"}, ("unknown", ())),
])
def test_who_gets_a_rejection_notice(ctx, district, sender, codes, expected):
    assert rejection_recipients(ctx, district, sender, codes) == expected


def test_attachments_that_would_pass_10_mb_are_left_out_and_the_body_says_so(tmp_path):
    parts = tuple(Part(f"Tệp {i}.bin", os.urandom(4 * 1024 * 1024)) for i in range(3))
    draft = Draft(sender="a@example.org", recipients=("b@example.org",), subject="s", text="Nội dung",
                  html="<html><body><p>Nội dung</p></body></html>", attachments=parts)
    fitted, note = fit_to_size_cap(draft, tmp_path, date_=NOW)
    assert [p.filename for p in fitted.attachments] == ["Tệp 0.bin"]
    assert note and "Tệp 1.bin, Tệp 2.bin" in note and str(tmp_path) in note
    assert note in fitted.text and "vượt 10 MB" in fitted.html
    assert len(build(fitted, date=NOW)) < MAX_MESSAGE_BYTES


@pytest.mark.slow
def test_the_review_pack_goes_to_the_head_with_its_documents(ctx, server):
    ctx = smtp(ctx, server)
    seed(ctx)
    planned = send_review(ctx, "2023-H1", dry_run=True, now=NOW).messages[0]
    report = send_review(ctx, "2023-H1", now=NOW)
    assert report.ok
    [got] = server.received
    msg = got.message
    assert msg["Subject"] == planned.subject == review_subject(ctx, "2023-H1")
    assert msg["Subject"] == "[Cụm thi đua số 1] Tài liệu sơ kết 6 tháng đầu năm 2023 (số liệu đến 30/06/2023)"
    names = list(attachments(msg))
    assert [n.rsplit(".", 1)[1] for n in names[:5]] == ["pdf", "pptx", "docx", "md", "xlsx"]
    assert attachments(msg)[names[0]][:5] == b"%PDF-"
    html = next(p for p in msg.walk() if p.get_content_type() == "text/html").get_content()
    assert cids_in_html(html) == {p["Content-ID"].strip("<>") for p in msg.walk()
                                  if p.get_content_disposition() == "inline"}
    assert send_review(ctx, "2023-H1", now=NOW).messages[0].state == "already-sent" and len(server.received) == 1
