"""What a district's e-mail carries: its sender, its id and its workbook attachments. Pure: bytes in, data out.

Attachment names arrive in two encodings and both must come out as the Vietnamese name the district
typed: RFC 2231 (``filename*=utf-8''B%C3%A1o%20c%C3%A1o.xlsx``, what Thunderbird, Gmail and Python
write) and RFC 2047 encoded-words inside the quoted name (``filename="=?utf-8?B?...?="``, what Outlook
and many webmails write, although the RFC forbids it). The parser of ``email.policy.default`` decodes
both; names are then NFC-normalised (macOS sends NFD) and reduced to a bare file name.
"""

from __future__ import annotations

import contextlib
import email
import hashlib
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from email import policy
from email.header import decode_header, make_header
from email.message import EmailMessage
from email.utils import getaddresses

from tracker.text import nfc

WORKBOOK_EXTENSIONS = (".xlsx", ".xlsm", ".xls", ".ods")
WORKBOOK_TYPES = frozenset({
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "application/vnd.ms-excel.sheet.macroenabled.12",
    "application/vnd.ms-excel",
    "application/vnd.oasis.opendocument.spreadsheet",
    "application/x-msexcel",
    "application/excel",
})
# A nameless or oddly named attachment is still a workbook candidate when its bytes say so:
# a ZIP container (xlsx, xlsm, ods) or an OLE compound file (xls, or an encrypted workbook).
_MAGIC = (b"PK\x03\x04", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1")
# Named files that share those containers but are not workbooks: not ours to judge.
_OTHER_DOCUMENTS = (".docx", ".docm", ".doc", ".pptx", ".ppt", ".odt", ".odp", ".zip", ".jar", ".msg", ".apk")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


@dataclass(frozen=True)
class Attachment:
    filename: str  # NFC, no folders
    data: bytes
    content_type: str

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


@dataclass(frozen=True)
class InboundMessage:
    message_id: str  # the Message-ID header as sent (``<...@...>``), or a digest of the bytes when it has none
    sender: str  # the From address, lower case; "" when there is none
    sender_name: str
    reply_to: str  # where a reply goes: Reply-To, else From
    subject: str
    references: str  # the References chain of the incoming message, for threading a reply
    workbooks: tuple[Attachment, ...]
    other_attachments: tuple[str, ...]  # names of attachments that are not workbooks (ignored)
    # Written by a program (RFC 3834 Auto-Submitted, an auto-reply, a delivery report): never answered,
    # so a tracker and an auto-responder cannot mail each other forever.
    automatic: bool = False
    bounce: bool = False  # a delivery status report: its attachments are returned mail, not a district's


def parse_message(raw: bytes) -> InboundMessage:
    """Read an RFC 5322 message; never raises for malformed input (a broken part is simply skipped)."""
    msg = email.message_from_bytes(raw, policy=policy.default)
    sender_name, sender = _first_address(msg, "From")
    _, reply_to = _first_address(msg, "Reply-To")
    message_id = _header(msg, "Message-ID").strip()
    if not message_id:
        message_id = "<sha256-" + hashlib.sha256(raw).hexdigest() + "@mailbox.invalid>"
    workbooks: list[Attachment] = []
    others: list[str] = []
    bounce = is_bounce(msg, sender)
    for index, part in enumerate(() if bounce else _leaf_parts(msg), start=1):
        name = attachment_name(part)
        disposition = part.get_content_disposition()
        if name is None and disposition != "attachment":
            continue  # the text or HTML body, or an inline image without a name
        try:
            data = part.get_payload(decode=True) or b""
        except Exception:  # a broken transfer encoding: skip the part, keep the message
            continue
        content_type = part.get_content_type()
        if is_workbook(name, content_type, data):
            workbooks.append(Attachment(name or f"tep-dinh-kem-{index}", data, content_type))
        elif name:
            others.append(name)
    return InboundMessage(
        message_id=message_id,
        sender=sender,
        sender_name=sender_name,
        reply_to=reply_to or sender,
        subject=nfc(_header(msg, "Subject")),
        references=" ".join(x for x in (_header(msg, "References"), message_id) if x).strip(),
        workbooks=tuple(workbooks),
        other_attachments=tuple(others),
        automatic=bounce or is_automatic(msg),
        bounce=bounce,
    )


def _leaf_parts(part: EmailMessage) -> Iterator[EmailMessage]:
    """The non-multipart parts, without descending into attached e-mails (``message/rfc822``): a
    forwarded or returned message is not the sender's own upload."""
    if part.get_content_maintype() == "message":
        return
    if part.is_multipart():
        for sub in part.iter_parts():
            yield from _leaf_parts(sub)
    else:
        yield part


_AUTO_SENDERS = ("mailer-daemon", "postmaster")


def is_bounce(msg: EmailMessage, sender: str) -> bool:
    """A delivery status notification (RFC 3464 ``multipart/report``) or a message from a mailer daemon."""
    return msg.get_content_type() == "multipart/report" or sender.partition("@")[0] in _AUTO_SENDERS


def is_automatic(msg: EmailMessage) -> bool:
    """Written by a program, not a person (RFC 3834 and the headers auto-responders use)."""
    auto = _header(msg, "Auto-Submitted").strip().lower()
    if auto and not auto.startswith("no"):
        return True
    if _header(msg, "X-Autoreply") or _header(msg, "X-Autorespond"):
        return True
    return _header(msg, "Precedence").strip().lower() in ("auto_reply", "junk", "bulk")


def attachment_name(part: EmailMessage) -> str | None:
    """The part's file name, decoded (RFC 2231 or RFC 2047), NFC, without folders; None if it has none."""
    try:
        raw = part.get_filename()
    except Exception:  # a malformed parameter: treat as nameless
        raw = None
    if not raw:
        return None
    name = str(raw)
    if "=?" in name:  # encoded-words the header parser left alone (e.g. split over several words)
        with contextlib.suppress(ValueError, LookupError, UnicodeDecodeError):
            name = str(make_header(decode_header(name)))
    name = unicodedata.normalize("NFC", _CONTROL.sub("", name))
    name = re.split(r"[\\/]", name)[-1].strip().lstrip(".")
    return name or None


def is_workbook(name: str | None, content_type: str, data: bytes) -> bool:
    """Whether an attachment should go to intake (which then judges it by its content)."""
    lower = (name or "").lower()
    if lower.endswith(WORKBOOK_EXTENSIONS):
        return True
    if lower.endswith(_OTHER_DOCUMENTS):
        return False
    if content_type.lower() in WORKBOOK_TYPES:
        return True
    return data.startswith(_MAGIC)


def _header(msg: EmailMessage, name: str) -> str:
    try:
        value = msg.get(name)
    except Exception:  # an undecodable header
        return ""
    return "" if value is None else _CONTROL.sub(" ", str(value))


def _first_address(msg: EmailMessage, name: str) -> tuple[str, str]:
    """(display name, address in lower case) of the first address in the header, or ("", "")."""
    try:
        header = msg.get(name)
        pairs = [(a.display_name, a.addr_spec) for a in header.addresses] if header is not None else []
    except Exception:  # a header the structured parser cannot take: fall back to the simple one
        pairs = getaddresses([_header(msg, name)])
    for display, address in pairs:
        if "@" in address:
            return nfc(display or ""), address.strip().lower()
    return "", ""
