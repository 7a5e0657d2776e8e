"""`tracker send assessment-requests` (docs/assessment.md §9): each unit mailed its self-assessment workbook through
the outbox (``.eml`` files here), once per unit and year, with a portal link of its own when the portal has an
address."""

from __future__ import annotations

import io
import re
from email import policy
from email.parser import BytesParser
from pathlib import Path

import openpyxl

from tracker.web import tokens

CODES = ("HBT", "HM", "BD", "LB", "HK", "DD")
BASE_URL = "https://thidua.example.org"
LINK = re.compile(re.escape(BASE_URL) + r"/d/([A-Za-z0-9_\-]{43})")


def outbox_files(config: Path) -> dict[str, Path]:
    files = sorted((config.parent / "reports" / "outbox").glob("*-assessment-request-*.eml"))
    return {f.stem.rsplit("-", 1)[1]: f for f in files}


def test_each_unit_gets_its_workbook_once_per_year(ctx, cli, config_path):
    dry = cli("send", "assessment-requests", "--dry-run")
    assert dry.exit_code == 0 and dry.stdout.count("sẽ gửi (would send)") == 6
    assert outbox_files(config_path) == {}
    first = cli("send", "assessment-requests", "--year", "2023")
    assert first.exit_code == 0, first.stderr
    assert first.stdout.count("đã gửi (sent)") == 6
    assert ("assessment-request [LB] → lb@example.org: [Cụm thi đua số 1] Đề nghị tự chấm điểm thi đua năm 2023 - "
            "LĐLĐ quận Long Biên") in first.stdout
    assert "tu-cham-diem_LB_2023.xlsx" in first.stdout
    files = outbox_files(config_path)
    assert sorted(files) == sorted(CODES)
    msg = BytesParser(policy=policy.default).parsebytes(files["LB"].read_bytes())
    text = msg.get_body(("plain",)).get_content()
    assert "tự chấm điểm thi đua năm 2023" in text and "(tu-cham-diem_LB_2023.xlsx)" in text
    [attachment] = list(msg.iter_attachments())
    assert attachment.get_filename() == "tu-cham-diem_LB_2023.xlsx"
    ws = openpyxl.load_workbook(io.BytesIO(attachment.get_content()))["Tự chấm điểm"]
    assert ws["C4"].value == "LĐLĐ quận Long Biên" and ws["C5"].value == 2023

    again = cli("send", "assessment-requests")
    assert again.exit_code == 0
    assert again.stdout.count("đã gửi trước đó, không gửi lại") == 6
    assert len(outbox_files(config_path)) == 6


def test_with_base_url_each_message_carries_a_link_of_its_own(ctx, cli, web_config):
    assert cli("send", "assessment-requests", config=web_config).exit_code == 0
    found = {}
    for code, path in outbox_files(web_config).items():
        msg = BytesParser(policy=policy.default).parsebytes(path.read_bytes())
        found[code] = LINK.search(msg.get_body(("plain",)).get_content()).group(1)
    with ctx.session() as s:
        access = {code: tokens.resolve(s, ctx.cluster_id, t, tokens.ROLE_DISTRICT) for code, t in found.items()}
    assert {code: a.district_code for code, a in access.items()} == {code: code for code in CODES}
    assert {a.label for a in access.values()} == {"tự chấm điểm 2023"}


def test_a_year_the_cluster_does_not_have_is_a_usage_error(ctx, cli):
    result = cli("send", "assessment-requests", "--year", "2019")
    assert result.exit_code == 2 and "Năm 2019 không phải năm thi đua của cụm" in result.stderr


def test_without_a_portal_or_a_mailbox_the_request_says_where_to_send_the_workbook(settings):
    from datetime import date

    from tracker.mail.compose import Part
    from tracker.mail.messages import assessment_request_draft

    draft = assessment_request_draft(settings, district_name="LĐLĐ quận Hai Bà Trưng", recipients=("a@b.vn",),
                                     year=2023, as_of=date(2023, 12, 31), template=Part("t.xlsx", b"x"), link=None)
    for body in (draft.text, draft.html):
        assert f"trả lời thư này (tới {settings.mail.sender})" in body
        assert "trang của đơn vị" not in body and "đề nghị Cụm gửi lại bảng tự chấm điểm mới" in body
