"""`tracker send` and `tracker outbox list|retry` through the real CLI: output, exit codes, .eml files."""

from __future__ import annotations

import json
from email import policy
from email.parser import BytesParser

import pytest

from tests.conftest import write_config
from tests.smtp_server import HOST, SmtpServer


@pytest.fixture
def smtp_config(tmp_path, db_url):
    """A config whose [mail] points at a loopback port; the test starts the server (or not)."""
    server = SmtpServer()
    path = write_config(tmp_path, db_url, replace={
        'host = ""                            # empty: write .eml files to <reports>/outbox':
            f'host = "{HOST}"',
        "port = 465\nsecurity = \"ssl\"": f"port = {server.port}\nsecurity = \"none\"",
    })
    yield path, server
    server.stop()


def test_send_reminders_writes_eml_files_without_smtp_and_a_second_run_sends_nothing(cli, config_path):
    assert cli("init").exit_code == 0
    first = cli("send", "reminders", "--as-of", "30/06/2023")
    assert first.exit_code == 0, first.stderr
    assert first.stdout.count("đã gửi (sent)") == 6 and "bao-cao_HBT_2023-06-30.xlsx" in first.stdout
    outbox = config_path.parent / "reports" / "outbox"
    files = sorted(outbox.glob("*.eml"))
    assert [f.name.split("-", 1)[1] for f in files] == [
        f"reminder-2023-W26-{code}.eml" for code in ("HBT", "HM", "BD", "LB", "HK", "DD")]
    msg = BytesParser(policy=policy.default).parsebytes(files[0].read_bytes())
    assert msg["To"] == "hbt@example.org" and "Nhắc nộp báo cáo tiến độ tuần 26/2023" in msg["Subject"]

    second = cli("send", "reminders", "--as-of", "30/06/2023")
    assert second.exit_code == 0 and second.stdout.count("đã gửi trước đó, không gửi lại") == 6
    assert len(list(outbox.glob("*.eml"))) == 6


def test_send_dry_run_prints_what_would_go_to_whom(cli, config_path):
    cli("init")
    result = cli("send", "weekly", "--as-of", "30/06/2023", "--dry-run")
    assert result.exit_code == 0, result.stderr
    assert ("weekly [head] → cum-truong@example.org: [Cụm thi đua số 1] Báo cáo tiến độ tuần 26/2023 "
            "(số liệu đến 30/06/2023) — sẽ gửi (would send)") in result.stdout
    assert not (config_path.parent / "reports").exists()
    assert json.loads(cli("outbox", "list", "--format", "json").stdout) == []


def test_an_unknown_kind_is_a_usage_error(cli):
    cli("init")
    result = cli("send", "monthly")
    assert result.exit_code == 2
    assert "weekly, review, reminders, confirmations, assessment hoặc assessment-requests" in result.stderr


def test_an_unreachable_server_exits_1_and_outbox_retry_delivers_later(cli, smtp_config):
    path, server = smtp_config
    assert cli("init", config=path).exit_code == 0
    failed = cli("send", "reminders", "--as-of", "30/06/2023", config=path)
    assert failed.exit_code == 1
    assert failed.stdout.count("chưa gửi được, sẽ thử lại") == 6 and "connection refused" in failed.stdout
    listing = json.loads(cli("outbox", "list", "--format", "json", config=path).stdout)
    assert [(m["status"], m["attempts"]) for m in listing] == [("pending", 1)] * 6
    assert "thử lại lúc / next try" in cli("outbox", config=path).stdout

    still_down = cli("outbox", "retry", config=path)
    assert still_down.exit_code == 1 and "đang chờ / pending 6" in still_down.stdout
    server.start()
    retried = cli("outbox", "retry", config=path)
    assert retried.exit_code == 0, retried.stdout
    assert "đã gửi / sent 6" in retried.stdout and len(server.received) == 6
    assert cli("outbox", "retry", config=path).stdout.startswith("Không có thư nào đang chờ")
    assert len(server.received) == 6
    listing = json.loads(cli("outbox", "list", "--status", "sent", "--format", "json", config=path).stdout)
    assert len(listing) == 6 and all(m["attempts"] == 3 and m["last_error"] is None for m in listing)


def test_an_option_the_kind_does_not_use_is_ignored_with_a_notice_for_every_kind(cli):
    cli("init")
    confirmations = cli("send", "confirmations", "--period", "2023-H1", "--year", "2023", "--dry-run")
    assert confirmations.exit_code == 0 and "--year chỉ dùng cho assessment" in confirmations.stderr
    requests = cli("send", "assessment-requests", "--period", "2023", "--as-of", "30/06/2023", "--dry-run")
    assert requests.exit_code == 0
    assert "--period chỉ dùng cho review" in requests.stderr and "--as-of không dùng cho" in requests.stderr
