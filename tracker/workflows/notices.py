"""The verdicts sent back to whoever sent a sheet: rejection notices and the mailbox's receipts.

A rejection notice (docs/outputs.md §7) goes to the district's contacts and the sender, with the errors
by cell and the annotated workbook; the same rejected bytes notify the same people once (outbox key:
the file's SHA-256 and the recipient). A receipt (docs/portal-and-mailbox.md §10) answers an e-mail
with the accepted figures; its content is the mailbox area's (:mod:`tracker.mailbox.reply`), the
sending is the outbox's.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from email.utils import make_msgid
from pathlib import Path

from tracker.context import Context
from tracker.findings import CONTEXT_CODES
from tracker.intake.ingest import IngestResult
from tracker.mail.compose import Draft, build
from tracker.mail.delivery import deliver_pending
from tracker.mail.messages import SendReport, Spec, file_part, rejection_draft, rejection_subject, send
from tracker.mail.outbox import enqueue, find, idempotency_key
from tracker.mailbox import reply
from tracker.mailbox.message import InboundMessage
from tracker.models import OutboxMessage, Submission, utcnow


def rejection_recipients(ctx: Context, district_code: str | None, sender: str | None,
                         codes: set[str]) -> tuple[str, tuple[str, ...]]:
    """(recipient key, addresses) of a rejection notice.

    The district's contacts, and the sender when there is one. A rejection about the sender itself (not
    a contact of the district it names) goes to the sender alone: the district did not send it.
    """
    if sender and (codes & set(CONTEXT_CODES) or not district_code):
        return sender.lower()[:200], (sender,)
    if not district_code:
        return "unknown", ()
    contacts = list(ctx.settings.district(district_code).emails)
    if sender and sender.lower() not in {c.lower() for c in contacts}:
        contacts.insert(0, sender)
    return district_code, tuple(contacts)


def notify_rejection(ctx: Context, result: IngestResult, *, now: datetime | None = None) -> SendReport:
    """The verdict on a rejected upload, to the district and the sender.

    Does nothing when mail is not configured (no SMTP host) or the file was not rejected. The same
    rejected bytes notify the same people once (key: the file's SHA-256 and the recipient).
    """
    # The period column holds 40 characters: 32 hex digits of the SHA-256 (128 bits) name the file.
    period = str(getattr(result, "file_hash", ""))[:32]
    report = SendReport(kind="rejection", period=period)
    if getattr(result, "status", None) != "rejected":
        report.skipped_reason = "not rejected"
        return report
    if not ctx.settings.mail.enabled:
        report.skipped_reason = "mail not configured"
        return report
    settings = ctx.settings
    sender = None
    if result.submission_id is not None:
        with ctx.session() as session:
            sub = session.get(Submission, result.submission_id)
            sender = sub.sender if sub is not None else None
    key, recipients = rejection_recipients(ctx, result.district, sender, {f.code for f in result.errors})
    annotated = Path(result.annotated_path) if result.annotated_path else None

    def make(folder: Path) -> Draft:
        return rejection_draft(
            settings, recipients=recipients, file_name=result.file_name,
            district_name=settings.district(result.district).name if result.district else None,
            as_of=result.as_of, received_at=result.received_at, errors=result.errors, warnings=result.warnings,
            annotated=file_part(annotated) if annotated else None)

    spec = Spec(key, recipients, rejection_subject(settings, result.file_name), make)
    return send(ctx, "rejection", period, [spec], out_dir=annotated.parent if annotated else None, dry_run=False,
                now=now)


@dataclass
class ReceiptOutcome:
    """What :func:`send_receipt` did: ``state`` is ``queued``/``sent``/``pending``/``failed`` or ``already-*``."""

    outbox_id: int | None
    state: str
    recipients: tuple[str, ...] = ()


def send_receipt(ctx: Context, msg: InboundMessage, results: list[IngestResult], *,
                 now: datetime | None = None) -> ReceiptOutcome | None:
    """Queue and deliver the receipt of one message; None when there is nothing to confirm (no mail
    configured, no sender, or every sheet rejected: the rejection notices say it)."""
    settings = ctx.settings
    recipient = msg.reply_to or msg.sender
    if not settings.mail.enabled or not recipient or all(r.status == "rejected" for r in results):
        return None
    period = reply.receipt_period(msg.message_id)
    key = idempotency_key(ctx.cluster_id, reply.KIND, period, recipient.lower())
    with ctx.session() as session:
        existing = find(session, ctx.cluster_id, key)
    if existing is not None:
        if existing.status != "pending":
            return ReceiptOutcome(existing.id, f"already-{existing.status}", tuple(existing.recipients))
        return _deliver(ctx, existing.id, now)

    stamp = (now or utcnow()).astimezone(settings.tz)
    model = reply.receipt_model(ctx, msg, results)
    threading = [(name, value) for name, value in (("In-Reply-To", msg.message_id), ("References", msg.references))
                 if value and value.isascii() and len(value) < 900]
    text, html = reply.receipt_texts(model)
    draft = Draft(sender=settings.mail.sender, sender_name=model["short"], recipients=(recipient,),
                  subject=model["mail_subject"], text=text, html=html, reply_to=model["reply_to"],
                  headers=(*threading, ("X-Tracker-Key", key)))
    domain = settings.mail.sender.rpartition("@")[2] or "localhost"
    data = build(draft, date=stamp, message_id=make_msgid(idstring=reply.KIND, domain=domain))
    with ctx.session(write=True) as session:
        row, created = enqueue(session, ctx.cluster_id, kind=reply.KIND, period=period,
                               recipient_key=recipient.lower(), recipients=[recipient], subject=draft.subject,
                               message=data, now=now)
        row_id, status = row.id, row.status
    if not created and status != "pending":
        return ReceiptOutcome(row_id, f"already-{status}", (recipient,))
    return _deliver(ctx, row_id, now)


def _deliver(ctx: Context, outbox_id: int, now: datetime | None) -> ReceiptOutcome:
    deliver_pending(ctx, force=True, only=[outbox_id], now=now)
    with ctx.session() as session:
        row = session.get(OutboxMessage, outbox_id)
        return ReceiptOutcome(outbox_id, row.status, tuple(row.recipients))
