"""Asking the units to confirm a period's figures: `tracker send confirmations` through the outbox (``.eml``
files, and a real SMTP server on loopback), the message's content with and without ``[web] base_url``, on
the database under test (SQLite or PostgreSQL). The portal's form is in tests/test_web_confirm.py."""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path

import pytest

from tests.conftest import write_config
from tests.smtp_server import HOST, SmtpServer
from tests.test_status import add_sheet
from tracker import closing
from tracker.calendar import parse_period
from tracker.web import tokens

CODES = ("HBT", "HM", "BD", "LB", "HK", "DD")
BASE_URL = "https://thidua.example.org"  # as tests/conftest.py: web_config
LINK = re.compile(re.escape(BASE_URL) + r"/d/([A-Za-z0-9_\-]{43})")


def seed(ctx) -> None:
    """LB reports on 30/06, HM on 23/06; the other units have sent nothing."""
    with ctx.session(write=True) as s:
        add_sheet(s, "LB", date(2023, 6, 30), {"new_unions": 16, "agreements": 11, "union_fees": 1690.5},
                  received=datetime(2023, 6, 30, 3, tzinfo=UTC))
        add_sheet(s, "HM", date(2023, 6, 23), {"new_unions": 7}, received=datetime(2023, 6, 23, 3, tzinfo=UTC))


def outbox_files(config: Path) -> dict[str, Path]:
    """The confirmation .eml files by unit code."""
    files = sorted((config.parent / "reports" / "outbox").glob("*-confirmation-*.eml"))
    return {f.stem.rsplit("-", 1)[1]: f for f in files}


def message(path: Path) -> EmailMessage:
    return BytesParser(policy=policy.default).parsebytes(path.read_bytes())


def bodies(msg: EmailMessage) -> tuple[str, str]:
    return msg.get_body(("plain",)).get_content(), msg.get_body(("html",)).get_content()


def test_sending_twice_mails_each_unit_once_per_period_and_date(ctx, cli, config_path):
    seed(ctx)
    first = cli("send", "confirmations", "--period", "2023-H1")
    assert first.exit_code == 0, first.stderr
    assert first.stdout.count("đã gửi (sent)") == 6
    assert ("confirmation [LB] → lb@example.org: [Cụm thi đua số 1] Đề nghị xác nhận số liệu sơ kết 6 tháng đầu "
            "năm 2023 (đến 30/06/2023) - LĐLĐ quận Long Biên") in first.stdout
    files = outbox_files(config_path)
    assert sorted(files) == sorted(CODES)
    assert all("-confirmation-2023-H1@2023-06-30-" in f.name for f in files.values())
    assert message(files["HBT"])["To"] == "hbt@example.org"

    second = cli("send", "confirmations", "--period", "2023-H1", "--as-of", "30/06/2023")
    assert second.exit_code == 0 and second.stdout.count("đã gửi trước đó, không gửi lại") == 6
    assert len(outbox_files(config_path)) == 6
    rows = json.loads(cli("outbox", "list", "--format", "json").stdout)
    assert sorted((r["kind"], r["period"], r["recipient_key"]) for r in rows) == sorted(
        ("confirmation", "2023-H1@2023-06-30", code) for code in CODES)

    # the request is recorded once; the period is now listed, nobody has confirmed yet
    listed = json.loads(cli("period", "list", "--format", "json").stdout)
    assert [(p["period"], p["as_of"], p["state"], p["confirmed"]) for p in listed] == [
        ("2023-H1", "2023-06-30", "open", [])]
    assert listed[0]["not_confirmed"] == list(CODES)

    # another date is another request: one more message per unit
    other = cli("send", "confirmations", "--period", "2023-H1", "--as-of", "15/06/2023")
    assert other.exit_code == 0 and other.stdout.count("đã gửi (sent)") == 6
    assert len(json.loads(cli("outbox", "list", "--format", "json").stdout)) == 12


def test_the_message_shows_the_units_figures_against_its_targets_and_asks_for_a_reply(ctx, cli, config_path):
    seed(ctx)
    assert cli("send", "confirmations", "--period", "2023-H1").exit_code == 0
    text, html = bodies(message(outbox_files(config_path)["LB"]))
    for body in (text, html):
        assert "Kính gửi" in body and "LĐLĐ quận Long Biên" in body
        assert "Hội nghị sơ kết 6 tháng đầu năm 2023" in body and "tính đến ngày 30/06/2023" in body
        assert "trả lời thư này (tới cum-1@example.org)" in body  # no portal address: a reply
        assert "/d/" not in body and "Xác nhận số liệu»" not in body
    assert ("- Thành lập CĐCS mới: thực hiện 16, đăng ký 30 CĐCS (53,3%), theo báo cáo số liệu đến 30/06/2023"
            in text)
    assert "- Thu kinh phí công đoàn: thực hiện 1.690,5, đăng ký 3.100 triệu đồng (54,5%)" in text
    assert "- Đại hội CĐCS hoàn thành: chưa có số liệu (đăng ký 52 cuộc)" in text  # not a zero
    assert "<strong>16</strong>" in html and "53,3%" in html and "3.100" in html
    # a unit with nothing received is told so
    assert "chưa nhận được báo cáo nào của đơn vị có số liệu đến ngày 30/06/2023" in bodies(
        message(outbox_files(config_path)["HBT"]))[0]
    assert "HBT" not in cli("tokens", "list").stdout  # no link was issued


def test_with_base_url_each_message_carries_a_link_of_its_own_to_the_units_page(ctx, cli, web_config):
    seed(ctx)
    assert cli("send", "confirmations", "--period", "2023-H1", config=web_config).exit_code == 0
    found = {}
    for code, path in outbox_files(web_config).items():
        text, html = bodies(message(path))
        token = LINK.search(text).group(1)
        assert f'href="{BASE_URL}/d/{token}"' in html and "«Xác nhận số liệu»" in text
        assert "trả lời thư này (tới" not in text
        found[code] = token
    with ctx.session() as s:
        access = {code: tokens.resolve(s, ctx.cluster_id, t, tokens.ROLE_DISTRICT) for code, t in found.items()}
    assert {code: a.district_code for code, a in access.items()} == {code: code for code in CODES}
    assert {a.label for a in access.values()} == {"xác nhận 2023-H1 (số liệu đến 30/06/2023)"}

    again = cli("send", "confirmations", "--period", "2023-H1", config=web_config)
    assert again.exit_code == 0
    assert cli("tokens", "list", config=web_config).stdout.count("xác nhận 2023-H1") == 6  # no new links


def test_a_closed_period_is_asked_about_with_its_frozen_figures(ctx, cli, config_path):
    seed(ctx)
    with ctx.session(write=True) as s:
        closing.close_period(s, ctx.settings, parse_period("2023-H1"), by="admin",
                             now=datetime(2023, 7, 3, 2, tzinfo=UTC))
        # LB corrects its figures after the close: stored, but the meeting sees the frozen 16
        add_sheet(s, "LB", date(2023, 6, 30), {"new_unions": 18, "agreements": 11},
                  received=datetime(2023, 7, 4, 2, tzinfo=UTC), file_hash="late")
    refused = cli("send", "confirmations", "--period", "2023-H1", "--as-of", "15/06/2023")
    assert refused.exit_code == 2 and "đã chốt đến ngày 30/06/2023" in refused.stderr
    assert cli("send", "confirmations", "--period", "2023-H1").exit_code == 0
    text, html = bodies(message(outbox_files(config_path)["LB"]))
    assert "- Thành lập CĐCS mới: thực hiện 16, đăng ký 30 CĐCS" in text and "thực hiện 18" not in text
    assert "Số liệu đã được chốt đến ngày 30/06/2023 (chốt lúc 09:00 03/07/2023)" in text
    assert "Số liệu đã được chốt đến ngày 30/06/2023" in html


def test_a_dry_run_records_no_request_issues_no_link_and_mails_nothing(ctx, cli, web_config):
    seed(ctx)
    result = cli("send", "confirmations", "--period", "2023-H1", "--dry-run", config=web_config)
    assert result.exit_code == 0 and result.stdout.count("sẽ gửi (would send)") == 6
    assert cli("period", "list", config=web_config).stdout.startswith("Chưa có kỳ nào")
    assert len(cli("tokens", "list", config=web_config).stdout.splitlines()) == 1  # the header only
    assert json.loads(cli("outbox", "list", "--format", "json", config=web_config).stdout) == []
    assert not (web_config.parent / "reports").exists()


@pytest.mark.parametrize(("args", "fragment"), [
    ((), "--period 2023-H1"),
    (("--period", "2023-H2"), "Kỳ không hợp lệ"),
    (("--period", "2023-H1", "--as-of", "01/07/2023"), "không thuộc kỳ 2023-H1"),
    (("--period", "2019"), "Năm 2019"),
])
def test_a_missing_or_bad_period_or_date_is_a_usage_error(cli, args, fragment):
    assert cli("init").exit_code == 0
    result = cli("send", "confirmations", *args)
    assert result.exit_code == 2 and fragment in result.stderr and result.stdout == ""


def test_requests_go_through_a_real_smtp_server_once(ctx, cli, tmp_path, db_url, monkeypatch):
    server = SmtpServer().start()
    try:
        config = write_config(tmp_path, db_url, replace={
            'host = ""                            # empty: write .eml files to <reports>/outbox': f'host = "{HOST}"',
            "port = 465\nsecurity = \"ssl\"": f"port = {server.port}\nsecurity = \"none\""})
        monkeypatch.setenv("TRACKER_WEB_BASE_URL", BASE_URL)  # the portal's address from the environment
        seed(ctx)
        first = cli("send", "confirmations", "--period", "2023-H1", config=config)
        assert first.exit_code == 0, first.stdout + first.stderr
        assert sorted(r.rcpt_tos[0] for r in server.received) == sorted(f"{c.lower()}@example.org" for c in CODES)
        lb = next(r.message for r in server.received if r.rcpt_tos == ["lb@example.org"])
        assert "Đề nghị xác nhận số liệu" in lb["Subject"] and LINK.search(bodies(lb)[0])
        assert "thực hiện 16, đăng ký 30 CĐCS" in bodies(lb)[0]
        again = cli("send", "confirmations", "--period", "2023-H1", config=config)
        assert again.exit_code == 0 and len(server.received) == 6
    finally:
        server.stop()


def test_the_figures_to_confirm_are_the_snapshots_while_closed_and_change_with_a_new_sheet(ctx):
    seed(ctx)
    h1, june_30 = parse_period("2023-H1"), date(2023, 6, 30)
    with ctx.session(write=True) as s:
        before = closing.to_confirm(s, ctx.settings, h1, "LB", june_30)
        assert [(f.indicator, f.value, f.target) for f in before.figures][:2] == [("new_unions", 16, 30),
                                                                                  ("agreements", 11, 18)]
        assert before.close is None and before.figures[2].value is None and before.figures[2].percent is None
        add_sheet(s, "LB", june_30, {"new_unions": 17}, received=datetime(2023, 7, 1, tzinfo=UTC), file_hash="v2")
        after = closing.to_confirm(s, ctx.settings, h1, "LB", june_30)
        assert after.figures[0].value == 17 and after.fingerprint != before.fingerprint
        close = closing.close_period(s, ctx.settings, h1, by="a", now=datetime(2023, 7, 2, tzinfo=UTC)).close
        add_sheet(s, "LB", june_30, {"new_unions": 19}, received=datetime(2023, 7, 3, tzinfo=UTC), file_hash="v3")
        frozen = closing.to_confirm(s, ctx.settings, h1, "LB", june_30)
        assert frozen.close == close and frozen.figures[0].value == 17 and frozen.fingerprint == after.fingerprint
