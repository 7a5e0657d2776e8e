"""Reading a district's e-mail (pure): sender, message id, workbook attachments with their Vietnamese names;
and the rule of who may send a district's sheet."""

from __future__ import annotations

import unicodedata
from email.message import EmailMessage

import pytest

from tests.imap_server import bounce_of, build_message
from tracker.mailbox.message import is_workbook, parse_message
from tracker.mailbox.senders import may_submit_for, rejection_messages

XLSX = b"PK\x03\x04" + b"\x00" * 40
NAME = "Báo cáo tuần 26 năm 2023 - LĐLĐ quận Hoàng Mai.xlsx"


@pytest.mark.parametrize("encoding", ["rfc2231", "rfc2047"])
def test_a_vietnamese_attachment_name_arrives_intact_in_either_encoding(encoding):
    raw = build_message("hm@example.org", [(NAME, XLSX)], name_encoding=encoding)
    assert NAME.encode() not in raw  # really encoded on the wire
    msg = parse_message(raw)
    assert [a.filename for a in msg.workbooks] == [NAME]
    assert msg.workbooks[0].data == XLSX


def test_a_name_written_by_pythons_own_mail_library_with_continuations_is_read_whole():
    m = EmailMessage()
    m["From"] = "hbt@example.org"
    m.set_content("x")
    m.add_attachment(XLSX, maintype="application", subtype="octet-stream", filename=NAME)
    raw = m.as_bytes()
    assert b"filename*0*=" in raw  # RFC 2231 split into continuations
    assert [a.filename for a in parse_message(raw).workbooks] == [NAME]


def test_a_decomposed_name_from_a_mac_is_normalised_to_nfc_and_folders_are_dropped():
    nfd = unicodedata.normalize("NFD", NAME)
    raw = build_message("hm@example.org", [("../../" + nfd, XLSX)])
    (sheet,) = parse_message(raw).workbooks
    assert sheet.filename == NAME and unicodedata.is_normalized("NFC", sheet.filename)


def test_two_sheets_in_one_message_are_both_found_and_other_files_are_left_out():
    raw = build_message("hm@example.org", [("a.xlsx", XLSX), ("ghi chú.pdf", b"%PDF-1.4", "application/pdf"),
                                           ("b.ods", XLSX), ("thư.docx", XLSX)])
    msg = parse_message(raw)
    assert [a.filename for a in msg.workbooks] == ["a.xlsx", "b.ods"]
    assert msg.other_attachments == ("ghi chú.pdf", "thư.docx")


def test_a_message_without_attachments_has_no_workbooks():
    msg = parse_message(build_message("hm@example.org", []))
    assert msg.workbooks == () and msg.other_attachments == ()


@pytest.mark.parametrize(("name", "content_type", "data", "expected"), [
    ("bao-cao.xls", "application/octet-stream", b"anything", True),
    ("BAO-CAO.XLSM", "application/octet-stream", b"anything", True),
    (None, "application/vnd.oasis.opendocument.spreadsheet", b"x", True),
    ("bao-cao", "application/octet-stream", XLSX, True),  # recognised by content
    ("bao-cao", "application/octet-stream", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1rest", True),
    ("anh.png", "image/png", b"\x89PNG", False),
    ("bao-cao.zip", "application/zip", XLSX, False),
])
def test_which_attachments_go_to_intake(name, content_type, data, expected):
    assert is_workbook(name, content_type, data) is expected


def test_sender_is_the_from_address_in_lower_case_and_replies_go_to_reply_to():
    raw = build_message("HM@Example.org", [], sender_name="Nguyễn Thị Hoà")
    msg = parse_message(raw)
    assert (msg.sender, msg.sender_name, msg.reply_to) == ("hm@example.org", "Nguyễn Thị Hoà", "hm@example.org")
    raw = raw.replace(b"MIME-Version", b"Reply-To: van-thu@example.org\r\nMIME-Version", 1)
    assert parse_message(raw).reply_to == "van-thu@example.org"


def test_a_message_without_message_id_gets_a_stable_one_from_its_bytes():
    raw = build_message("hm@example.org", [("a.xlsx", XLSX)], message_id="<x@y>").replace(
        b"Message-ID: <x@y>\r\n", b"")
    first, second = parse_message(raw), parse_message(raw)
    assert first.message_id == second.message_id and first.message_id.startswith("<sha256-")
    assert parse_message(build_message("hm@example.org", [], message_id="<abc@d>")).message_id == "<abc@d>"


def test_garbage_is_read_without_raising():
    msg = parse_message(b"\x00\xff not an e-mail at all")
    assert msg.workbooks == () and msg.sender == ""


# The sender rule ----------------------------------------------------------------------------------------

def test_a_districts_own_contact_may_send_its_sheet(settings):
    hm = settings.district("HM")
    assert may_submit_for(settings, hm.emails[0], "HM")
    assert may_submit_for(settings, hm.emails[0].upper(), "HM")


def test_the_cluster_head_may_send_any_districts_sheet(settings):
    head = settings.cluster.head.emails[0]
    assert all(may_submit_for(settings, head, d.code) for d in settings.districts)


def test_a_stranger_or_another_districts_contact_may_not(settings):
    assert not may_submit_for(settings, "la@example.com", "HM")
    assert not may_submit_for(settings, settings.district("HBT").emails[0], "HM")
    assert not may_submit_for(settings, "", "HM")
    assert not may_submit_for(settings, settings.district("HM").emails[0], "NO-SUCH")


def test_the_rejection_names_the_sender_and_the_district():
    vi, en = rejection_messages("la@example.com", "LĐLĐ quận Hoàng Mai")
    assert vi.startswith("Người gửi không thuộc đơn vị") and "la@example.com" in vi and "Hoàng Mai" in vi
    assert "does not belong to the district" in en


# Messages written by programs ------------------------------------------------------------------------

def test_a_bounce_carrying_a_workbook_is_not_an_upload():
    original = build_message("cum-1@example.org", [("HM-danh-dau-loi.xlsx", XLSX)])
    msg = parse_message(bounce_of(original))
    assert msg.bounce and msg.automatic and msg.workbooks == ()
    assert parse_message(bounce_of(original, sender="postmaster@example.org")).bounce


def test_an_email_attached_to_a_message_is_not_read_for_workbooks():
    from email.message import EmailMessage as Mail

    outer = Mail()
    outer["From"] = "hm@example.org"
    outer.set_content("chuyển tiếp")
    outer.add_attachment(build_message("x@example.org", [("a.xlsx", XLSX)]), maintype="message",
                         subtype="rfc822")
    assert parse_message(outer.as_bytes()).workbooks == ()


@pytest.mark.parametrize(("header", "automatic"), [
    ("Auto-Submitted: auto-replied", True),
    ("Auto-Submitted: auto-generated", True),
    ("Auto-Submitted: no", False),
    ("X-Autoreply: yes", True),
    ("Precedence: auto_reply", True),
    ("X-Mailer: Outlook", False),
])
def test_messages_written_by_programs_are_recognised(header, automatic):
    raw = build_message("hm@example.org", [("a.xlsx", XLSX)]).replace(
        b"MIME-Version", header.encode() + b"\r\nMIME-Version", 1)
    msg = parse_message(raw)
    assert msg.automatic is automatic and len(msg.workbooks) == 1 and not msg.bounce
