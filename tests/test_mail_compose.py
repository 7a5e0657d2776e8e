"""Building messages: MIME structure, Content-IDs, Vietnamese names, the size cap. No network, no database."""

from __future__ import annotations

import io
from dataclasses import replace
from email import policy
from email.parser import BytesParser

import pytest

from tests.mail_factories import ATTACHMENT_NAME, NOW, draft, png_bytes
from tracker.mail.compose import (
    Draft,
    MessageTooLarge,
    Part,
    ascii_filename,
    build,
    cids_in_html,
    fit_attachments,
)


def parse(data: bytes):
    return BytesParser(policy=policy.default).parsebytes(data)


def test_the_message_is_mixed_related_alternative_with_text_first():
    msg = parse(build(draft(), date=NOW))
    assert msg.get_content_type() == "multipart/mixed"
    related, attachment = msg.get_payload()
    assert related.get_content_type() == "multipart/related"
    alternative, image = related.get_payload()
    assert [p.get_content_type() for p in alternative.get_payload()] == ["text/plain", "text/html"]
    assert image.get_content_type() == "image/png" and image.get_content_disposition() == "inline"
    assert attachment.get_content_disposition() == "attachment"


def test_the_html_cid_refers_to_the_inline_image_it_carries():
    msg = parse(build(draft(), date=NOW))
    html = next(p for p in msg.walk() if p.get_content_type() == "text/html").get_content()
    image = next(p for p in msg.walk() if p.get_content_type() == "image/png")
    assert cids_in_html(html) == {image["Content-ID"].strip("<>")}
    assert image.get_content() == png_bytes()


def test_vietnamese_text_survives_in_subject_sender_and_both_bodies():
    msg = parse(build(draft(), date=NOW))
    assert msg["Subject"] == "[Cụm thi đua số 1] Thư thử nghiệm"
    assert msg["From"].addresses[0].display_name == "Cụm thi đua số 1"
    text = next(p for p in msg.walk() if p.get_content_type() == "text/plain").get_content()
    assert "Báo cáo tiến độ tuần 26/2023" in text and "<p>" not in text


def test_attachment_name_is_rfc2231_with_an_ascii_fallback_and_the_workbook_opens():
    from openpyxl import load_workbook

    data = build(draft(), date=NOW)
    raw = data.decode("ascii")  # the wire form is pure ASCII
    assert "filename*=utf-8''B%C3%A1o%20c%C3%A1o%20tu%E1%BA%A7n%2026-2023.xlsx" in raw
    assert 'filename="Bao cao tuan 26-2023.xlsx"' in raw
    part = next(p for p in parse(data).walk() if p.get_content_disposition() == "attachment")
    assert part.get_filename() == ATTACHMENT_NAME
    wb = load_workbook(io.BytesIO(part.get_content()))
    assert wb.sheetnames == ["Tổng hợp"] and wb["Tổng hợp"]["A1"].value == "Hoàn Kiếm"


def test_a_long_vietnamese_name_is_split_into_rfc2231_continuations_and_read_back_whole():
    name = "Báo cáo sơ kết 6 tháng đầu năm 2023 của Cụm thi đua số 1 - LĐLĐ thành phố Hà Nội.pdf"
    d = Draft(sender="a@example.org", recipients=("b@example.org",), subject="s", text="t",
              attachments=(Part(name, b"%PDF-1.4 test"),))
    data = build(d, date=NOW)
    assert max(len(line) for line in data.split(b"\r\n")) <= 78
    assert b"filename*0*=utf-8''" in data
    part = next(p for p in parse(data).walk() if p.get_content_disposition() == "attachment")
    assert part.get_filename() == name and part.get_content_type() == "application/pdf"


def test_every_line_ends_with_crlf():
    data = build(draft(), date=NOW)
    assert b"\n" not in data.replace(b"\r\n", b"")


@pytest.mark.parametrize(("name", "expected"), [
    ("Báo cáo tuần 26-2023.xlsx", "Bao cao tuan 26-2023.xlsx"),
    ("Đống Đa – mẫu.xlsx", "Dong Da  mau.xlsx"),
    ('a"b/c.png', "a_b_c.png"),
    ("Ảnh.png", "Anh.png"),
])
def test_ascii_fallback_names(name, expected):
    assert ascii_filename(name) == expected


def test_an_html_reference_to_a_missing_image_is_refused():
    d = draft()
    broken = replace(d, html=d.html + '<img src="cid:chart-2@cum-1">')
    with pytest.raises(ValueError, match="chart-2"):
        build(broken, date=NOW)


def test_a_message_over_the_cap_is_refused():
    d = Draft(sender="a@example.org", recipients=("b@example.org",), subject="s", text="t",
              attachments=(Part("big.bin", b"\0" * 200_000),))
    with pytest.raises(MessageTooLarge) as info:
        build(d, date=NOW, limit=100_000)
    assert info.value.size > 200_000


def test_fit_attachments_keeps_the_most_important_first_within_the_budget():
    parts = [Part("a.xlsx", b"a" * 3000), Part("b.pdf", b"b" * 9000), Part("c.png", b"c" * 1000)]
    kept, left = fit_attachments(parts, budget=7000)
    assert [p.filename for p in kept] == ["a.xlsx", "c.png"] and [p.filename for p in left] == ["b.pdf"]


def test_a_text_only_message_is_a_single_part():
    d = Draft(sender="a@example.org", recipients=("b@example.org",), subject="Nhắc nộp báo cáo", text="Xin chào")
    msg = parse(build(d, date=NOW))
    assert msg.get_content_type() == "text/plain" and msg.get_content().strip() == "Xin chào"
    assert msg["Auto-Submitted"] == "auto-generated" and msg["Message-ID"].endswith("@example.org>")

