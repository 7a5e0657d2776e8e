"""Building an e-mail: plain data in, RFC 5322 bytes out. No network, no database, no clock.

The shape every client shows correctly (PITFALLS, "E-mail that people actually read")::

    multipart/mixed                      (only when there are attachments)
      multipart/related                  (only when there are inline images)
        multipart/alternative
          text/plain                     a real text version, not the HTML source
          text/html                      <img src="cid:..."> refers to the images below
        image/png  Content-ID: <...>     inline
      application/...  attachment        Vietnamese name as RFC 2231 ``filename*`` + ASCII ``filename``

Why not ``email.message.EmailMessage`` (the modern API): its header objects re-serialise
``Content-Disposition`` from a parameter dictionary, so a header holding both ``filename*=`` and the
ASCII fallback ``filename=`` comes out with only one of them. The legacy ``compat32`` classes write
the header as given, so the bytes carry both. ``filename*`` comes first: RFC 2231 readers (Thunderbird,
Gmail, Python's parser) take it, old ones (some Outlook versions) take the plain ``filename``.
"""

from __future__ import annotations

import mimetypes
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime
from email import charset as _charset
from email import policy as _policy
from email.header import Header
from email.mime.base import MIMEBase
from email.mime.multipart import MIMEMultipart
from email.mime.nonmultipart import MIMENonMultipart
from email.mime.text import MIMEText
from email.utils import format_datetime, formataddr, make_msgid
from urllib.parse import quote

from tracker.text import nfc

# Gmail and Outlook accept 25 MB; many relays stop at 10 MB. The whole encoded message stays under this.
MAX_MESSAGE_BYTES = 10 * 1024 * 1024

# CRLF line ends as SMTP wants them; lines folded at 78 characters.
WIRE_POLICY = _policy.compat32.clone(linesep="\r\n", max_line_length=78)

# Quoted-printable keeps Vietnamese text readable in a saved .eml and survives any relay.
_UTF8_QP = _charset.Charset("utf-8")
_UTF8_QP.header_encoding = _charset.BASE64
_UTF8_QP.body_encoding = _charset.QP


class MessageTooLarge(ValueError):
    """The encoded message exceeds :data:`MAX_MESSAGE_BYTES`."""

    def __init__(self, size: int, limit: int = MAX_MESSAGE_BYTES):
        self.size, self.limit = size, limit
        super().__init__(f"message is {size} bytes, over the limit of {limit}")


@dataclass(frozen=True)
class Part:
    """A file carried by a message: an attachment, or an inline image when ``cid`` is set."""

    filename: str
    data: bytes
    content_type: str = ""  # guessed from the file name when empty
    cid: str | None = None  # Content-ID without angle brackets, referred to as ``cid:<cid>`` in the HTML

    @property
    def mime_type(self) -> str:
        if self.content_type:
            return self.content_type
        guessed, _ = mimetypes.guess_type(self.filename)
        return guessed or "application/octet-stream"


@dataclass(frozen=True)
class Draft:
    """Everything a message says; :func:`build` turns it into bytes."""

    sender: str
    recipients: tuple[str, ...]
    subject: str
    text: str
    html: str | None = None
    inline: tuple[Part, ...] = ()
    attachments: tuple[Part, ...] = ()
    sender_name: str = ""
    reply_to: str | None = None
    headers: tuple[tuple[str, str], ...] = field(default=())  # extra ASCII headers, e.g. X-Tracker-Key


def ascii_filename(name: str) -> str:
    """The ASCII fallback of a file name: ``Báo cáo tuần 26-2023.xlsx`` → ``Bao cao tuan 26-2023.xlsx``."""
    decomposed = unicodedata.normalize("NFD", nfc(name)).replace("Đ", "D").replace("đ", "d")
    plain = "".join(ch for ch in decomposed if unicodedata.category(ch) != "Mn")
    plain = plain.encode("ascii", "ignore").decode("ascii")
    plain = re.sub(r'[\\/"\x00-\x1f\x7f]', "_", plain).strip()
    return plain or "attachment"


def _rfc2231_params(param: str, value: str) -> list[str]:
    """``filename*=utf-8''...`` (split into ``filename*0*``, ``*1*``... when long) then ``filename="ascii"``."""
    encoded = quote(nfc(value), safe="")
    chunks: list[str] = []
    limit = 50  # "filename*0*=utf-8''" + 50 characters + ";" stays within 78
    while encoded:
        cut = min(limit, len(encoded))
        # Never split a %XX escape.
        while cut < len(encoded) and "%" in encoded[max(0, cut - 2):cut]:
            cut -= 1
        chunks.append(encoded[:cut])
        encoded = encoded[cut:]
    if len(chunks) <= 1:
        params = [f"{param}*=utf-8''{chunks[0] if chunks else ''}"]
    else:
        params = [f"{param}*0*=utf-8''{chunks[0]}"] + [f"{param}*{i}*={c}" for i, c in enumerate(chunks[1:], 1)]
    params.append(f'{param}="{ascii_filename(value)}"')
    return params


def _file_part(part: Part, *, inline: bool) -> MIMEBase:
    maintype, _, subtype = part.mime_type.partition("/")
    mime = MIMEBase(maintype, subtype or "octet-stream", policy=WIRE_POLICY)
    mime.set_payload(part.data)
    from email import encoders

    encoders.encode_base64(mime)
    del mime["Content-Type"]
    mime["Content-Type"] = "; ".join([part.mime_type, *_rfc2231_params("name", part.filename)])
    disposition = "inline" if inline else "attachment"
    mime["Content-Disposition"] = "; ".join([disposition, *_rfc2231_params("filename", part.filename)])
    if part.cid:
        mime["Content-ID"] = f"<{part.cid}>"
    del mime["MIME-Version"]  # once, on the whole message
    return mime


def _text_part(text: str, subtype: str) -> MIMENonMultipart:
    # Line ends become CRLF when the message is written with WIRE_POLICY.
    part = MIMEText(nfc(text).replace("\r\n", "\n"), subtype, _UTF8_QP, policy=WIRE_POLICY)
    del part["MIME-Version"]
    return part


def _multipart(subtype: str) -> MIMEMultipart:
    part = MIMEMultipart(subtype, policy=WIRE_POLICY)
    del part["MIME-Version"]
    return part


def _address(name: str, addr: str) -> str:
    return formataddr((nfc(name), addr), charset="utf-8")


def cids_in_html(html: str) -> set[str]:
    """The Content-IDs an HTML body refers to (``src="cid:chart-1@tracker"``)."""
    return set(re.findall(r"""cid:([^"'\s)>]+)""", html))


def build(draft: Draft, *, date: datetime, message_id: str | None = None,
          limit: int = MAX_MESSAGE_BYTES) -> bytes:
    """The message as bytes ready for SMTP ``DATA`` or a ``.eml`` file.

    ``date`` must be aware (the caller's clock). Raises :class:`MessageTooLarge` over ``limit`` and
    ValueError when the HTML refers to an image that is not carried, or an image is not referred to.
    """
    if date.tzinfo is None:
        raise ValueError("date must be timezone-aware")
    if not draft.recipients:
        raise ValueError("a message needs at least one recipient")
    if draft.html is not None:
        wanted, carried = cids_in_html(draft.html), {p.cid for p in draft.inline}
        if wanted != carried:
            raise ValueError(f"HTML refers to {sorted(wanted)} but the inline images are {sorted(carried)}")
    elif draft.inline:
        raise ValueError("inline images need an HTML body")
    for p in draft.inline:
        if not p.cid:
            raise ValueError(f"inline image {p.filename!r} has no Content-ID")

    body: MIMEBase
    text = _text_part(draft.text, "plain")
    if draft.html is None:
        body = text
    else:
        body = _multipart("alternative")
        body.attach(text)
        body.attach(_text_part(draft.html, "html"))
        if draft.inline:
            related = _multipart("related")
            related.set_param("type", "multipart/alternative")
            related.attach(body)
            for p in draft.inline:
                related.attach(_file_part(p, inline=True))
            body = related
    if draft.attachments:
        mixed = _multipart("mixed")
        mixed.attach(body)
        for p in draft.attachments:
            mixed.attach(_file_part(p, inline=False))
        msg = mixed
    else:
        msg = body

    domain = draft.sender.rpartition("@")[2] or "localhost"
    msg["Subject"] = Header(nfc(draft.subject), "utf-8")
    msg["From"] = _address(draft.sender_name, draft.sender)
    msg["To"] = ", ".join(draft.recipients)
    if draft.reply_to:
        msg["Reply-To"] = draft.reply_to
    msg["Date"] = format_datetime(date)
    msg["Message-ID"] = message_id or make_msgid(domain=domain)
    # RFC 3834: machine-written; vacation responders must not answer it.
    msg["Auto-Submitted"] = "auto-generated"
    for name, value in draft.headers:
        msg[name] = value
    msg["MIME-Version"] = "1.0"
    data = msg.as_bytes(policy=WIRE_POLICY)
    if len(data) > limit:
        raise MessageTooLarge(len(data), limit)
    return data


def encoded_size(data_size: int) -> int:
    """Bytes a file of ``data_size`` takes in a message once base64-encoded in 76-character lines."""
    b64 = 4 * ((data_size + 2) // 3)
    return b64 + 2 * (b64 // 76 + 1) + 400  # CRLFs, plus part headers


def fit_attachments(parts: list[Part], budget: int) -> tuple[list[Part], list[Part]]:
    """Keep attachments in the given order (most important first) while they fit in ``budget`` bytes.

    Returns ``(kept, left_out)``; the caller says in the body which files were left out and where
    they are, instead of sending a message a server will refuse.
    """
    kept: list[Part] = []
    left: list[Part] = []
    used = 0
    for p in parts:
        size = encoded_size(len(p.data))
        if used + size <= budget:
            kept.append(p)
            used += size
        else:
            left.append(p)
    return kept, left
