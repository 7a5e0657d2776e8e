"""Plain factory functions for the mail tests: real workbooks and PNGs in memory, built messages."""

from __future__ import annotations

import io
import struct
import zlib
from datetime import UTC, datetime

from tracker.context import Context

ATTACHMENT_NAME = "Báo cáo tuần 26-2023.xlsx"
CHART_NAME = "Biểu đồ tiến độ.png"
NOW = datetime(2023, 7, 3, 1, 0, tzinfo=UTC)  # Monday 08:00 in Hà Nội


def workbook_bytes(title: str = "Tổng hợp", value: str = "Hoàn Kiếm") -> bytes:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = title
    ws["A1"] = value
    ws["B1"] = 16
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def png_bytes(width: int = 4, height: int = 3) -> bytes:
    """A valid RGB PNG, built by hand (no image library needed)."""
    def chunk(tag: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF)

    raw = b"".join(b"\x00" + bytes([200, 30, 30] * width) for _ in range(height))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def draft(recipients=("cum-truong@example.org",), subject="[Cụm thi đua số 1] Thư thử nghiệm"):
    from tracker.mail.compose import Draft, Part

    return Draft(
        sender="cum-1@example.org",
        sender_name="Cụm thi đua số 1",
        recipients=tuple(recipients),
        subject=subject,
        text="Kính gửi Cụm trưởng,\nBáo cáo tiến độ tuần 26/2023 đính kèm.",
        html='<p>Kính gửi Cụm trưởng,</p><p><img src="cid:chart-1@cum-1" alt="Biểu đồ"></p><p>Trân trọng.</p>',
        inline=(Part(CHART_NAME, png_bytes(), "image/png", cid="chart-1@cum-1"),),
        attachments=(Part(ATTACHMENT_NAME, workbook_bytes()),),
    )


def enqueue_message(ctx: Context, *, period: str = "2023-W26", recipient_key: str = "head",
                    recipients=("cum-truong@example.org",), kind: str = "weekly", now: datetime = NOW):
    """Build a real message and put it in the outbox; returns (row id, created)."""
    from tracker.mail.compose import build
    from tracker.mail.outbox import enqueue

    d = draft(recipients)
    data = build(d, date=now)
    with ctx.session(write=True) as session:
        row, created = enqueue(session, ctx.cluster_id, kind=kind, period=period, recipient_key=recipient_key,
                               recipients=list(recipients), subject=d.subject, message=data, now=now)
        return row.id, created


def outbox_row(ctx: Context, msg_id: int):
    from tracker.models import OutboxMessage

    with ctx.session() as session:
        return session.get(OutboxMessage, msg_id)


def with_mail(ctx: Context, **mail) -> Context:
    """The same database, with other [mail] settings (e.g. the loopback SMTP server)."""
    settings = ctx.settings.model_copy(update={"mail": ctx.settings.mail.model_copy(update=mail)})
    return Context(settings=settings, engine=ctx.engine)
