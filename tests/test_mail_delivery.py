"""Delivery through the outbox against a real SMTP server on loopback (aiosmtpd in this process).

Every scenario of the mail contract: arrival with intact structure and names, no duplicate, outage →
pending → retry exactly once, 4xx then success, 5xx → failed with the server's words, a connection
dropped in the middle of DATA, one recipient refused of two, STARTTLS and SSL with a self-signed
certificate verified against a CA file, .eml files when no host is set. Only the clock is fixed.
"""

from __future__ import annotations

import io
import threading
from datetime import timedelta
from email import policy
from email.parser import BytesParser

import pytest

from tests.mail_factories import ATTACHMENT_NAME, NOW, enqueue_message, outbox_row, png_bytes, with_mail
from tests.smtp_server import HOST, SmtpServer, self_signed_certificate
from tracker.errors import TrackerError
from tracker.mail.delivery import deliver_pending
from tracker.mail.outbox import backoff


@pytest.fixture
def server():
    s = SmtpServer().start()
    yield s
    s.stop()


def plain_smtp(ctx, server):
    return with_mail(ctx, host=HOST, port=server.port, security="none", user="", timeout=5)


def test_a_message_arrives_whole_with_cids_and_the_vietnamese_workbook(ctx, server):
    from openpyxl import load_workbook

    ctx = plain_smtp(ctx, server)
    msg_id, created = enqueue_message(ctx)
    report = deliver_pending(ctx, now=NOW)
    assert created and report.counts() == {"attempted": 1, "sent": 1, "pending": 0, "failed": 0, "refused": 0}
    [got] = server.received
    assert got.mail_from == "cum-1@example.org" and got.rcpt_tos == ["cum-truong@example.org"]
    msg = got.message
    assert [p.get_content_type() for p in msg.walk()] == [
        "multipart/mixed", "multipart/related", "multipart/alternative", "text/plain", "text/html",
        "image/png", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"]
    html = next(p for p in msg.walk() if p.get_content_type() == "text/html").get_content()
    image = next(p for p in msg.walk() if p.get_content_type() == "image/png")
    assert f'src="cid:{image["Content-ID"].strip("<>")}"' in html
    assert image.get_content() == png_bytes()
    attachment = next(p for p in msg.walk() if p.get_content_disposition() == "attachment")
    assert attachment.get_filename() == ATTACHMENT_NAME
    assert load_workbook(io.BytesIO(attachment.get_content()))["Tổng hợp"]["A1"].value == "Hoàn Kiếm"
    row = outbox_row(ctx, msg_id)
    assert (row.status, row.attempts, row.sent_at, row.last_error) == ("sent", 1, NOW, None)


def test_the_same_key_twice_mails_once(ctx, server):
    ctx = plain_smtp(ctx, server)
    first, created = enqueue_message(ctx)
    deliver_pending(ctx, now=NOW)
    again, created_again = enqueue_message(ctx)
    report = deliver_pending(ctx, now=NOW + timedelta(hours=1), force=True)
    assert created and not created_again and again == first
    assert report.attempted == 0 and len(server.received) == 1


def test_an_outage_leaves_the_message_pending_and_retry_delivers_it_exactly_once(ctx):
    server = SmtpServer()  # port reserved, nobody listening: connection refused
    ctx = plain_smtp(ctx, server)
    msg_id, _ = enqueue_message(ctx)
    report = deliver_pending(ctx, now=NOW)
    row = outbox_row(ctx, msg_id)
    assert (report.pending, row.status, row.attempts) == (1, "pending", 1)
    assert "từ chối kết nối" in row.last_error and "connection refused" in row.last_error
    assert row.next_attempt_at == NOW + backoff(1)
    # Not due yet: an ordinary run leaves it alone.
    assert deliver_pending(ctx, now=NOW + timedelta(seconds=30)).attempted == 0
    with server:
        report = deliver_pending(ctx, now=NOW + timedelta(seconds=30), force=True)  # `tracker outbox retry`
        assert report.sent == 1
        assert deliver_pending(ctx, now=NOW + timedelta(days=1), force=True).attempted == 0
        assert len(server.received) == 1
    row = outbox_row(ctx, msg_id)
    assert (row.status, row.attempts) == ("sent", 2)


def test_a_4xx_leaves_it_pending_with_backoff_then_it_goes_through(ctx, server):
    ctx = plain_smtp(ctx, server)
    server.fail_next("451")
    msg_id, _ = enqueue_message(ctx)
    assert deliver_pending(ctx, now=NOW).pending == 1
    row = outbox_row(ctx, msg_id)
    assert row.status == "pending" and "451 4.3.0 Temporary local problem" in row.last_error
    assert deliver_pending(ctx, now=NOW + timedelta(minutes=1)).attempted == 0  # backoff is 2 minutes
    assert deliver_pending(ctx, now=NOW + timedelta(minutes=2)).sent == 1
    assert len(server.received) == 1
    row = outbox_row(ctx, msg_id)
    assert (row.status, row.attempts, row.last_error) == ("sent", 2, None)


def test_a_5xx_fails_the_message_with_the_servers_words_and_retry_leaves_it(ctx, server):
    ctx = plain_smtp(ctx, server)
    server.fail_next("554")
    msg_id, _ = enqueue_message(ctx)
    report = deliver_pending(ctx, now=NOW)
    row = outbox_row(ctx, msg_id)
    assert report.failed == 1 and not report.ok
    assert row.status == "failed" and "554 5.7.1 Message rejected: content policy violation" in row.last_error
    assert deliver_pending(ctx, now=NOW + timedelta(days=1), force=True).attempted == 0
    assert server.received == []


def test_a_connection_dropped_in_the_middle_of_data_is_retried_and_the_next_message_still_goes(ctx, server):
    ctx = plain_smtp(ctx, server)
    server.fail_next("drop")
    dropped, _ = enqueue_message(ctx, period="2023-W25")
    other, _ = enqueue_message(ctx, period="2023-W26")
    report = deliver_pending(ctx, now=NOW)
    assert (report.sent, report.pending) == (1, 1)  # a fresh session was opened for the second message
    row = outbox_row(ctx, dropped)
    assert row.status == "pending" and "ngắt kết nối" in row.last_error
    assert outbox_row(ctx, other).status == "sent"
    assert deliver_pending(ctx, now=NOW + timedelta(minutes=2)).sent == 1
    assert len(server.received) == 2 and outbox_row(ctx, dropped).status == "sent"


def test_one_refused_recipient_of_two_is_recorded_and_the_other_gets_the_mail(ctx, server):
    ctx = plain_smtp(ctx, server)
    server.refuse("nobody@example.org")
    msg_id, _ = enqueue_message(ctx, recipients=("cum-truong@example.org", "nobody@example.org"))
    report = deliver_pending(ctx, now=NOW)
    assert (report.sent, report.refused) == (1, 1)
    [got] = server.received
    assert got.rcpt_tos == ["cum-truong@example.org"]
    row = outbox_row(ctx, msg_id)
    assert row.status == "sent"
    assert list(row.refused) == ["nobody@example.org"]
    assert row.refused["nobody@example.org"].startswith("550 5.1.1")
    assert "nobody@example.org" in row.last_error


def test_every_recipient_refused_permanently_fails_the_message(ctx, server):
    ctx = plain_smtp(ctx, server)
    server.refuse("a@example.org", "b@example.org")
    msg_id, _ = enqueue_message(ctx, recipients=("a@example.org", "b@example.org"))
    assert deliver_pending(ctx, now=NOW).failed == 1
    row = outbox_row(ctx, msg_id)
    assert row.status == "failed" and set(row.refused) == {"a@example.org", "b@example.org"}


@pytest.mark.parametrize("security", ["starttls", "ssl"])
def test_tls_with_a_self_signed_certificate_is_verified_against_the_ca_file(ctx, tmp_path, monkeypatch, security):
    cert = self_signed_certificate(tmp_path / "tls")
    with SmtpServer(tls=security, cert=cert, login=("cum-1", "mat-khau-2023")) as server:
        ctx = with_mail(ctx, host=HOST, port=server.port, security=security, user="cum-1",
                        password="mat-khau-2023", timeout=5)
        msg_id, _ = enqueue_message(ctx)
        # Without the CA file the certificate is not trusted: nothing is sent, nothing is lost.
        monkeypatch.delenv("TRACKER_SMTP_CA_FILE", raising=False)
        assert deliver_pending(ctx, now=NOW).pending == 1
        assert "certificate" in outbox_row(ctx, msg_id).last_error
        assert server.received == []
        monkeypatch.setenv("TRACKER_SMTP_CA_FILE", str(cert[0]))
        assert deliver_pending(ctx, now=NOW, force=True).sent == 1
        assert server.auth_attempts == ["cum-1"] and len(server.received) == 1


def test_a_wrong_password_keeps_the_message_pending_with_the_login_error(ctx, tmp_path, monkeypatch):
    cert = self_signed_certificate(tmp_path / "tls")
    monkeypatch.setenv("TRACKER_SMTP_CA_FILE", str(cert[0]))
    with SmtpServer(tls="starttls", cert=cert, login=("cum-1", "right")) as server:
        ctx = with_mail(ctx, host=HOST, port=server.port, security="starttls", user="cum-1",
                        password="wrong", timeout=5)
        msg_id, _ = enqueue_message(ctx)
        assert deliver_pending(ctx, now=NOW).pending == 1
        row = outbox_row(ctx, msg_id)
        assert row.status == "pending" and "535" in row.last_error and "Đăng nhập SMTP thất bại" in row.last_error


def test_no_password_anywhere_is_a_config_error_before_anything_is_claimed(ctx, monkeypatch, server):
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.null.Keyring")
    ctx = with_mail(ctx, host=HOST, port=server.port, security="none", user="cum-1", password=None)
    msg_id, _ = enqueue_message(ctx)
    with pytest.raises(TrackerError) as info:
        deliver_pending(ctx, now=NOW)
    assert info.value.exit_code == 2 and "TRACKER_SMTP_PASSWORD" in str(info.value)
    row = outbox_row(ctx, msg_id)
    assert (row.status, row.attempts) == ("pending", 0)


def test_two_runners_at_once_send_each_message_once(ctx, server):
    ctx = plain_smtp(ctx, server)
    ids = [enqueue_message(ctx, period=f"2023-W{w:02d}")[0] for w in range(10, 22)]
    barrier = threading.Barrier(2)
    reports = []

    def run():
        barrier.wait()
        reports.append(deliver_pending(ctx, now=NOW, force=True))

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sum(r.sent for r in reports) == len(ids)
    assert len(server.received) == len(ids)
    assert len({r.data for r in server.received}) == len(ids)


def test_without_an_smtp_host_messages_become_eml_files(ctx):
    assert not ctx.settings.mail.enabled
    msg_id, _ = enqueue_message(ctx)
    report = deliver_pending(ctx, now=NOW)
    assert (report.transport, report.sent) == ("eml", 1)
    [path] = sorted(ctx.settings.paths.outbox.glob("*.eml"))
    assert path.name == f"{msg_id:06d}-weekly-2023-W26-head.eml"
    msg = BytesParser(policy=policy.default).parsebytes(path.read_bytes())
    assert msg["Subject"] == "[Cụm thi đua số 1] Thư thử nghiệm"
    assert outbox_row(ctx, msg_id).status == "sent"
    assert deliver_pending(ctx, now=NOW, force=True).attempted == 0


def test_backoff_doubles_from_two_minutes_up_to_six_hours():
    assert [backoff(n) for n in (1, 2, 3)] == [timedelta(minutes=2), timedelta(minutes=4), timedelta(minutes=8)]
    assert backoff(9) == timedelta(hours=6) and backoff(500) == timedelta(hours=6)
