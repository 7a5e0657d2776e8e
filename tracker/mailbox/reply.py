"""The receipt: the verdict on an e-mailed sheet, sent back to its sender as a reply (docs/portal-and-mailbox.md §10).

One receipt per message, to the sender (its Reply-To, else From), threaded under the message
(``In-Reply-To``/``References``), listing every sheet: accepted with its figures and their cells, already
received, or rejected (the errors by cell and the annotated workbook go in the rejection notice of
``tracker.mail.notify_rejection``, so a message whose sheets were all rejected gets no receipt).

Built with the mail area's compose helpers and queued in its outbox under the key
``receipt/<cluster>/<digest of the Message-ID>/<sender>``, so handling the same message again (a pull
that stopped before moving it) never mails twice. Only when mail is configured.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from tracker.text import format_date, format_number, nfc

if TYPE_CHECKING:
    from tracker.context import Context
    from tracker.intake.ingest import IngestResult
    from tracker.mailbox.message import InboundMessage

KIND = "receipt"
TEMPLATES = Path(__file__).resolve().parent / "templates"
VERDICT = {
    "accepted": ("đã tiếp nhận", "accepted"),
    "duplicate": ("đã nhận trước đó", "already received"),
    "rejected": ("chưa được tiếp nhận", "rejected"),
}


@dataclass
class ReceiptOutcome:
    """What :func:`send_receipt` did: ``state`` is ``queued``/``sent``/``pending``/``failed`` or ``already-*``."""

    outbox_id: int | None
    state: str
    recipients: tuple[str, ...] = ()


def receipt_period(message_id: str) -> str:
    """The outbox period of a message's receipt (the column holds 40 characters; a Message-ID may not)."""
    return "msg-" + hashlib.sha256(message_id.encode("utf-8", "replace")).hexdigest()[:32]


def send_receipt(ctx: Context, msg: InboundMessage, results: list[IngestResult], *,
                 now: datetime | None = None) -> ReceiptOutcome | None:
    """Queue and deliver the receipt of one message; None when there is nothing to confirm (no mail
    configured, no sender, or every sheet rejected: the rejection notices say it)."""
    from email.utils import make_msgid

    from tracker.mail.compose import Draft, build
    from tracker.mail.outbox import enqueue, find, idempotency_key
    from tracker.models import utcnow

    settings = ctx.settings
    recipient = msg.reply_to or msg.sender
    if not settings.mail.enabled or not recipient or all(r.status == "rejected" for r in results):
        return None
    period = receipt_period(msg.message_id)
    key = idempotency_key(ctx.cluster_id, KIND, period, recipient.lower())
    with ctx.session() as session:
        existing = find(session, ctx.cluster_id, key)
    if existing is not None:
        if existing.status != "pending":
            return ReceiptOutcome(existing.id, f"already-{existing.status}", tuple(existing.recipients))
        return _deliver(ctx, existing.id, now)

    stamp = (now or utcnow()).astimezone(settings.tz)
    model = receipt_model(ctx, msg, results)
    short = model["short"]
    threading = [(name, value) for name, value in (("In-Reply-To", msg.message_id), ("References", msg.references))
                 if value and value.isascii() and len(value) < 900]
    draft = Draft(sender=settings.mail.sender, sender_name=short, recipients=(recipient,),
                  subject=model["mail_subject"], text=_render("receipt.txt.j2", model),
                  html=_render("receipt.html.j2", model), reply_to=model["reply_to"],
                  headers=(*threading, ("X-Tracker-Key", key)))
    domain = settings.mail.sender.rpartition("@")[2] or "localhost"
    data = build(draft, date=stamp, message_id=make_msgid(idstring=KIND, domain=domain))
    with ctx.session(write=True) as session:
        row, created = enqueue(session, ctx.cluster_id, kind=KIND, period=period, recipient_key=recipient.lower(),
                               recipients=[recipient], subject=draft.subject, message=data, now=now)
        row_id, status = row.id, row.status
    if not created and status != "pending":
        return ReceiptOutcome(row_id, f"already-{status}", (recipient,))
    return _deliver(ctx, row_id, now)


def _deliver(ctx: Context, outbox_id: int, now: datetime | None) -> ReceiptOutcome:
    from tracker.mail.delivery import deliver_pending
    from tracker.models import OutboxMessage

    deliver_pending(ctx, force=True, only=[outbox_id], now=now)
    with ctx.session() as session:
        row = session.get(OutboxMessage, outbox_id)
        return ReceiptOutcome(outbox_id, row.status, tuple(row.recipients))


def receipt_model(ctx: Context, msg: InboundMessage, results: list[IngestResult]) -> dict:
    """What the templates show: one entry per sheet, figures with label, value, unit and cell."""
    from tracker.reporting.wording import cluster_short_name

    settings = ctx.settings
    short = cluster_short_name(settings.cluster.name)
    figures = _figures(ctx, [r.submission_id for r in results if r.status != "rejected" and r.submission_id])
    sheets = []
    for r in results:
        district = settings.district(r.district) if r.district else None
        vi, en = VERDICT[r.status]
        sheets.append(dict(
            file_name=nfc(r.file_name), status=r.status, verdict_vi=vi, verdict_en=en,
            district=r.district, district_name=district.name if district else None,
            as_of=format_date(r.as_of) if r.as_of else None, as_of_iso=r.as_of.isoformat() if r.as_of else None,
            errors=r.errors, warnings=r.warnings, n_errors=format_number(len(r.errors)),
            figures=figures.get(r.submission_id, []) if r.status != "rejected" else []))
    accepted = [s for s in sheets if s["status"] != "rejected"]
    if len(sheets) == 1 and accepted:
        s = accepted[0]
        about = f" của {s['district_name']}" if s["district_name"] else ""
        when = f", số liệu đến {s['as_of']}" if s["as_of"] else ""
        subject = f"[{short}] Đã tiếp nhận báo cáo{about}{when}"
    else:
        subject = (f"[{short}] Kết quả tiếp nhận {format_number(len(sheets))} tệp báo cáo: "
                   f"{format_number(len(accepted))} được tiếp nhận")
    received = None
    if results and results[0].received_at:
        local = results[0].received_at.astimezone(settings.tz)
        received = f"{local:%H:%M} {format_date(local)}"
    mb = settings.mailbox
    return dict(short=short, greeting=msg.sender_name or "anh/chị", subject=msg.subject, received_at=received,
                sheets=sheets, mail_subject=nfc(subject),
                reply_to=mb.user if mb.enabled and "@" in mb.user else None)


def _figures(ctx: Context, submission_ids: list[int]) -> dict[int, list[dict]]:
    from sqlmodel import select

    from tracker import models

    if not submission_ids:
        return {}
    out: dict[int, list[dict]] = {}
    with ctx.session() as session:
        rows = session.exec(
            select(models.Figure, models.Indicator).join(models.Indicator, models.Indicator.id ==
                                                         models.Figure.indicator_id)
            .where(models.Figure.submission_id.in_(submission_ids))  # type: ignore[attr-defined]
            .order_by(models.Figure.submission_id, models.Indicator.position)).all()
    for figure, indicator in rows:
        out.setdefault(figure.submission_id, []).append(dict(
            key=indicator.key, label=indicator.label, unit=indicator.unit, value=format_number(figure.value),
            cell=f"{figure.sheet}!{figure.cell}"))
    return out


def _render(name: str, model: dict) -> str:
    """A template of this package; the HTML one extends the mail area's ``_base.html.j2`` (same look)."""
    from tracker.mail.messages import TEMPLATES as MAIL_TEMPLATES
    from tracker.templating import render

    return render([TEMPLATES, MAIL_TEMPLATES], name, model)
