"""The mailbox source of `tracker pull` (docs/portal-and-mailbox.md §8): each workbook sent to the mailbox goes through
the same intake as an upload, then the message moves to ``processed_folder``.

For each message in ``mailbox.folder``, oldest first:

1. its workbook attachments are judged and stored by :func:`tracker.intake.ingest.ingest_bytes`
   (source ``mailbox``, the sender's address and the Message-ID in the submission, the server's
   reception time as the reception time), with one extra check, the sender rule of
   :mod:`tracker.mailbox.senders`;
2. with mail configured, the verdict goes out: a rejection notice (the errors by cell and the annotated
   workbook) for each rejected sheet, and one receipt to the sender listing the accepted figures —
   unless the message was written by a program (``Auto-Submitted``, an auto-reply): those are never
   answered, so the tracker and an auto-responder cannot mail each other forever;
3. only then the message moves to ``processed_folder`` (created if missing).

Crash safety: a sheet already stored from this message (same Message-ID and SHA-256 in the submission
table) is never ingested again, so a crash or a lost connection between 1 and 3 only means the next
pull finds the message again, recognises its sheets and moves it. Replies are keyed in the outbox, so
they are not sent twice either. When a sheet cannot be stored (a disk or database error) the message
stays where it is for the next pull. A message without a workbook is moved and ignored, and so is a
delivery report (a bounce): the workbook it carries is returned mail, never a district's upload; so
is an e-mail attached to a message (a forward as ``.eml``).

A mailbox that cannot be reached raises :class:`~tracker.mailbox.imap.MailboxUnavailable` out of the
generator; :func:`tracker.workflows.pull.pull` records it as an error of this source and goes on with
the others. The IMAP steps and the reading of a message are the mailbox area's; this module combines
them with the intake and the outbox.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path

from sqlmodel import select

from tracker import models
from tracker.config import Settings
from tracker.context import Context
from tracker.findings import Finding, finding, stored_finding
from tracker.intake.inbox import PullItem, failed_item
from tracker.intake.ingest import IngestResult, ingest_bytes
from tracker.intake.parser import ParsedReport
from tracker.intake.rejection import existing_outputs
from tracker.mailbox import imap
from tracker.mailbox.message import Attachment, InboundMessage, parse_message
from tracker.mailbox.senders import REJECTION_CODE, may_submit_for, rejection_messages
from tracker.models import SubmissionSource
from tracker.workflows.notices import notify_rejection, send_receipt

log = logging.getLogger("tracker.mailbox")

SOURCE = SubmissionSource.mailbox


def sender_check(settings: Settings, sender: str) -> Callable[[ParsedReport], list[Finding]]:
    """The sender rule as an intake check: an error on the ``Đơn vị`` cell when ``sender`` may not send
    the sheet of the district it names. A sheet that names no known district has its own error already."""

    def check(report: ParsedReport) -> list[Finding]:
        if report.district is None or may_submit_for(settings, sender, report.district):
            return []
        vi, en = rejection_messages(sender, settings.district(report.district).name)
        return [finding("error", REJECTION_CODE, vi, en, sheet=report.sheet, ref=report.district_cell)]

    return check


def pull_mailbox(ctx: Context, *, before_move: Callable[[InboundMessage], None] | None = None) -> Iterator[PullItem]:
    """Handle every message of the mailbox folder; yields one :class:`PullItem` per workbook attachment.

    ``before_move`` runs after a message's sheets are stored and its replies queued, just before the
    move (tests use it to break the connection at the worst moment).
    """
    cfg = ctx.settings.mailbox
    if not cfg.enabled:
        return
    with imap.open_mailbox(cfg) as box:
        imap.ensure_processed_folder(box, cfg.processed_folder)
        uids = box.uids("ALL")
        log.info("mailbox %s/%s: %d message(s)", cfg.host, cfg.folder, len(uids))
        for uid in uids:
            fetched = imap.fetch(box, uid)
            if fetched is None:  # gone meanwhile (another client moved it)
                continue
            raw, received_at, size = fetched
            if raw is None:
                yield PullItem(SOURCE, f"UID {uid}", error=(
                    f"thư quá lớn ({size} byte), không tải về; đã chuyển sang {cfg.processed_folder} / "
                    f"message too large ({size} bytes), not downloaded; moved to {cfg.processed_folder}"))
                imap.move(box, uid, cfg.processed_folder)
                continue
            msg = parse_message(raw)
            items = handle_message(ctx, msg, received_at=received_at)
            yield from items
            if any(item.result is None for item in items):
                log.warning("message %s from %s stays in %s: a sheet could not be stored",
                            msg.message_id, msg.sender, cfg.folder)
                continue
            if not msg.workbooks:
                log.info("message %s from %s has no workbook%s: moved, ignored", msg.message_id, msg.sender,
                         " (a delivery report)" if msg.bounce else "")
            if before_move is not None:
                before_move(msg)
            imap.move(box, uid, cfg.processed_folder)


def handle_message(ctx: Context, msg: InboundMessage, *, received_at: datetime | None = None) -> list[PullItem]:
    """Store every workbook of one message (once, ever) and send the verdict. Never raises for one sheet."""
    check = sender_check(ctx.settings, msg.sender)
    items: list[PullItem] = []
    verdicts: list[tuple[Attachment, IngestResult]] = []
    for attachment in msg.workbooks:
        try:
            stored = stored_from_message(ctx, msg.message_id, attachment)
            if stored is not None:
                shown, verdict = stored
            else:
                shown = verdict = ingest_bytes(
                    ctx, attachment.data, attachment.filename, source=SOURCE, sender=msg.sender or None,
                    message_id=msg.message_id, received_at=received_at, checks=[check])
        except Exception as exc:  # one sheet that cannot be stored never stops the others
            items.append(failed_item(SOURCE, attachment.filename, exc))
            continue
        items.append(PullItem(SOURCE, attachment.filename, result=shown))
        verdicts.append((attachment, verdict))
    if verdicts and all(item.result is not None for item in items):
        _reply(ctx, msg, verdicts)
    return items


def stored_from_message(ctx: Context, message_id: str, attachment: Attachment
                        ) -> tuple[IngestResult, IngestResult] | None:
    """The verdict on a sheet this very message brought before (a pull that stopped before the move), as
    (what this pull shows: "already received" or the same rejection; the original verdict, for the reply).
    None when the sheet is new. Read from the submission, its findings and its quarantine folder."""
    with ctx.session() as session:
        sub = session.exec(select(models.Submission).where(
            models.Submission.cluster_id == ctx.cluster_id, models.Submission.message_id == message_id,
            models.Submission.file_hash == attachment.sha256).order_by(models.Submission.id)).first()
        if sub is None:
            return None
        rows = session.exec(select(models.Finding).where(models.Finding.submission_id == sub.id)
                            .order_by(models.Finding.id)).all()
        district = session.get(models.District, sub.district_id) if sub.district_id else None
    findings = [stored_finding(f) for f in rows]
    accepted = sub.status == models.SubmissionStatus.accepted
    stored = Path(sub.stored_path) if sub.stored_path else None
    original = IngestResult("accepted" if accepted else "rejected", sub.file_name, sub.file_hash,
                            submission_id=sub.id, district=district.code if district else None, as_of=sub.as_of,
                            findings=findings, stored_path=stored, received_at=sub.received_at)
    if not accepted and stored is not None:
        original.report_path, original.annotated_path = existing_outputs(stored.parent)
    shown = dataclasses.replace(original, status="duplicate") if accepted else \
        dataclasses.replace(original, repeated=True)
    return shown, original


def _reply(ctx: Context, msg: InboundMessage, verdicts: list[tuple[Attachment, IngestResult]]) -> None:
    """The verdict to the sender, when mail is configured. A failure here is logged, never fatal: the
    sheets are stored, and the outbox keys make the next attempt (next pull) send nothing twice."""
    if not ctx.settings.mail.enabled or not msg.sender or msg.automatic:
        return
    try:
        for _, result in verdicts:
            if result.status == "rejected":
                notify_rejection(ctx, result)
        send_receipt(ctx, msg, [result for _, result in verdicts])
    except Exception:
        log.exception("the verdict on message %s could not be mailed to %s", msg.message_id, msg.sender)
