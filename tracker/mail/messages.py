"""Messages through the outbox: plan, build what is new, enqueue, deliver; and the texts of the kinds.

A send is a list of :class:`Spec` (to whom, under which recipient key, and how to build the draft).
:func:`send` builds only the messages the outbox does not hold yet, enqueues them, and delivers them at
once. A message already in the outbox is never built or mailed again; if it is still pending, this
send tries it now. The workflows (:mod:`tracker.workflows.sending`, :mod:`tracker.workflows.notices`)
build the reports and templates and write the specs; this module knows only plain data.

Recipients (docs/outputs.md §9): the weekly report and the review pack are one message to all of
``cluster.head.emails``; reminders, confirmation requests, assessment requests and rejection notices are one message per
district, to its contacts. Idempotency keys: ``weekly/<cluster>/<2023-W26>/head``,
``review/<cluster>/<2023-H1>/head``, ``reminder/<cluster>/<2023-W26>/<district code>``,
``confirmation/<cluster>/<2023-H1@2023-06-30>/<district code>``, ``assessment-request/<cluster>/<2023>/<district
code>``, ``rejection/<cluster>/<first 32 hex
digits of the file's SHA-256>/<district code or sender>``.

``dry_run`` shows what would go to whom and writes nothing: no report files, no outbox rows, no mail.
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from email.utils import make_msgid
from html import escape
from pathlib import Path
from typing import Any

from tracker.calendar import cluster_short_name, iso_week
from tracker.closing import ToConfirm
from tracker.config import Settings
from tracker.context import Context
from tracker.mail.compose import MAX_MESSAGE_BYTES, Draft, Part, build, fit_attachments
from tracker.mail.delivery import DeliveryReport, deliver_pending
from tracker.mail.outbox import enqueue, find, idempotency_key
from tracker.models import OutboxMessage, utcnow
from tracker.templating import SHARED_TEMPLATES
from tracker.templating import render as render_in
from tracker.text import format_date, format_number, format_percent, nfc, weekday_vi

log = logging.getLogger("tracker.mail")
TEMPLATES = Path(__file__).resolve().parent / "templates"
# Room kept for headers, MIME boundaries and the note about files left out.
_MARGIN = 256 * 1024

# States of one planned message, as `tracker send` shows them.
STATE_TEXT = {
    "queued": ("đã đưa vào hộp thư đi", "queued"),
    "would-send": ("sẽ gửi", "would send"),
    "already-sent": ("đã gửi trước đó, không gửi lại", "already sent, not sent again"),
    "already-pending": ("đang chờ gửi (đã có trong hộp thư đi)", "already pending in the outbox"),
    "already-failed": ("đã gửi thất bại trước đó, không gửi lại", "failed before, not sent again"),
    "already-sending": ("đang được gửi bởi tiến trình khác", "being sent by another process"),
    "no-recipients": ("không có địa chỉ nhận — bổ sung emails trong config.toml",
                      "no recipient address — add emails in config.toml"),
    "build-failed": ("không lập được thư", "the message could not be built"),
    "sent": ("đã gửi", "sent"),
    "pending": ("chưa gửi được, sẽ thử lại", "not delivered yet, will retry"),
    "failed": ("gửi thất bại", "failed"),
}


@dataclass
class Planned:
    """One message of a send: to whom, under which key, and what became of it."""

    kind: str
    period: str
    recipient_key: str
    recipients: tuple[str, ...]
    subject: str
    state: str
    outbox_id: int | None = None
    attachments: tuple[str, ...] = ()
    size: int | None = None
    error: str | None = None
    note: str | None = None  # e.g. files left out for size
    new: bool = False  # built and enqueued by this send


@dataclass
class SendReport:
    """What a send did. ``counts()`` is what the scheduler records."""

    kind: str
    period: str
    dry_run: bool = False
    messages: list[Planned] = field(default_factory=list)
    delivery: DeliveryReport | None = None
    skipped_reason: str | None = None

    def counts(self) -> dict[str, int]:
        states = [m.state for m in self.messages]
        return {
            "messages": len(self.messages),
            "new": sum(1 for m in self.messages if m.new),
            "sent": states.count("sent"),
            "pending": states.count("pending") + states.count("already-pending"),
            "failed": states.count("failed") + states.count("already-failed"),
            "already_sent": states.count("already-sent"),
            "no_recipients": states.count("no-recipients"),
            "build_failed": states.count("build-failed"),
            "would_send": states.count("would-send"),
            "refused": self.delivery.refused if self.delivery else 0,
        }

    @property
    def ok(self) -> bool:
        """False when a message of this send is not delivered (pending, failed) or has nobody to go to."""
        if self.dry_run:
            return True
        bad = {"pending", "failed", "already-pending", "already-failed", "no-recipients", "build-failed"}
        return not any(m.state in bad for m in self.messages)


@dataclass(frozen=True)
class Spec:
    """One message to plan: its recipient key and addresses, its subject (known before building, for
    ``--dry-run``), and ``make``, which builds the draft, writing its files under the given folder."""

    recipient_key: str
    recipients: tuple[str, ...]
    subject: str
    make: Callable[[Path], Draft]


# ------------------------------------------------------------------------------------------ helpers


def render(name: str, **model: Any) -> str:
    """One of this package's Jinja2 templates (``.html.j2`` autoescaped), as NFC text."""
    return render_in([TEMPLATES, SHARED_TEMPLATES], name, model)


def local_now(ctx: Context, now: datetime | None) -> datetime:
    return (now or utcnow()).astimezone(ctx.settings.tz)


def reply_to(settings: Settings) -> str | None:
    """Replies with a corrected sheet should reach the mailbox the tracker reads, when there is one."""
    mb = settings.mailbox
    return mb.user if mb.enabled and "@" in mb.user else None


def fit_to_size_cap(draft: Draft, files_dir: Path | None, *, date_: datetime) -> tuple[Draft, str | None]:
    """Leave out the attachments that would push the message over 10 MB (least important last in the
    list go first) and say so in both bodies, with where the files are."""
    bare = replace(draft, attachments=())
    base = len(build(bare, date=date_, limit=1 << 62))
    kept, left = fit_attachments(list(draft.attachments), MAX_MESSAGE_BYTES - base - _MARGIN)
    if not left:
        return draft, None
    names = ", ".join(p.filename for p in left)
    where = f" Các tệp có tại: {files_dir}." if files_dir else ""
    note = f"Không đính kèm vì thư sẽ vượt 10 MB: {names}.{where}"
    html = draft.html
    if html is not None:
        para = f'<p style="color:#8a5a00">{escape(note)}</p>'
        html = html.replace("</body>", para + "</body>") if "</body>" in html else html + para
    return replace(draft, attachments=tuple(kept), text=draft.text.rstrip() + "\n\n" + note + "\n", html=html), note


def file_part(path: Path, name: str | None = None) -> Part:
    return Part(nfc(name or path.name), path.read_bytes())


# ------------------------------------------------------------------------------------------ the engine


def send(ctx: Context, kind: str, period: str, specs: Sequence[Spec], *, out_dir: Path | None,
         dry_run: bool, now: datetime | None) -> SendReport:
    """Plan → build what is new → enqueue → deliver this send's messages. Shared by every kind."""
    report = SendReport(kind=kind, period=period, dry_run=dry_run)
    stamp = local_now(ctx, now)
    to_deliver: list[int] = []
    for spec in specs:
        planned = Planned(kind=kind, period=period, recipient_key=spec.recipient_key, recipients=spec.recipients,
                          subject=spec.subject, state="would-send")
        report.messages.append(planned)
        key = idempotency_key(ctx.cluster_id, kind, period, spec.recipient_key)
        if _known(ctx, key, planned):
            if planned.state == "already-pending" and not dry_run:
                to_deliver.append(planned.outbox_id)
            continue
        if not spec.recipients:
            planned.state = "no-recipients"
            continue
        if dry_run:
            continue
        built = _build(ctx, spec, key, planned, out_dir=out_dir, stamp=stamp)
        if built is None:
            continue
        draft, data = built
        with ctx.session(write=True) as session:
            row, created = enqueue(session, ctx.cluster_id, kind=kind, period=period, recipient_key=spec.recipient_key,
                                   recipients=list(draft.recipients), subject=draft.subject, message=data, now=now)
            planned.outbox_id, status = row.id, row.status
        planned.new, planned.state = created, "queued" if created else f"already-{status}"
        planned.subject, planned.size = draft.subject, len(data)
        planned.attachments = tuple(p.filename for p in draft.attachments)
        if created or status == "pending":
            to_deliver.append(planned.outbox_id)
    if to_deliver:
        # This send's messages are tried now, whatever their backoff: the user (or the job) asked for them.
        report.delivery = deliver_pending(ctx, force=True, only=to_deliver, now=now)
        _refresh(ctx, report, set(to_deliver))
    return report


def _known(ctx: Context, key: str, planned: Planned) -> bool:
    """Whether the outbox holds this message already; if so, ``planned`` shows the stored one."""
    with ctx.session() as session:
        existing = find(session, ctx.cluster_id, key)
        if existing is None:
            return False
        planned.outbox_id, planned.state = existing.id, f"already-{existing.status}"
        planned.subject, planned.recipients = existing.subject, tuple(existing.recipients)
        planned.error, planned.size = existing.last_error, len(existing.message)
    return True


def _build(ctx: Context, spec: Spec, key: str, planned: Planned, *, out_dir: Path | None,
           stamp: datetime) -> tuple[Draft, bytes] | None:
    """The draft and its bytes, or None (and ``planned`` says why) when it cannot be built."""
    try:
        with tempfile.TemporaryDirectory(prefix="tracker-mail-") as scratch:
            draft = spec.make(out_dir or Path(scratch))  # the draft holds the bytes; files may go after
        draft = replace(draft, headers=(*draft.headers, ("X-Tracker-Key", key)))
        draft, planned.note = fit_to_size_cap(draft, out_dir, date_=stamp)
        domain = ctx.settings.mail.sender.rpartition("@")[2] or "localhost"
        data = build(draft, date=stamp, message_id=make_msgid(idstring=planned.kind, domain=domain))
    except Exception as exc:  # one message that cannot be built must not stop the others
        log.exception("%s [%s]: cannot build the message", planned.kind, spec.recipient_key)
        planned.state, planned.error = "build-failed", f"{type(exc).__name__}: {exc}"
        return None
    return draft, data


def _refresh(ctx: Context, report: SendReport, attempted: set[int]) -> None:
    """After delivery: each attempted message shows what became of it (sent / pending / failed)."""
    with ctx.session() as session:
        for planned in report.messages:
            if planned.outbox_id in attempted:
                row = session.get(OutboxMessage, planned.outbox_id)
                planned.state, planned.error = row.status, row.last_error


# ------------------------------------------------------------------------------------------ the texts


def deadline_words(deadline: datetime) -> str:
    """The weekly reporting deadline (``ClusterProgress.week_deadline``) as ``17:00 thứ Sáu, 30/06/2023``."""
    return f"{deadline:%H:%M} {weekday_vi(deadline.isoweekday())}, {format_date(deadline)}"


def reminder_subject(settings: Settings, day: date, district_name: str) -> str:
    year, week = iso_week(day)
    short = cluster_short_name(settings.cluster.name)
    return nfc(f"[{short}] Nhắc nộp báo cáo tiến độ tuần {week}/{year} - {district_name}")


def reminder_draft(settings: Settings, *, district_name: str, recipients: tuple[str, ...], day: date,
                   deadline: datetime, checked_at: datetime, last_as_of: date | None, template: Part) -> Draft:
    """The reminder to a district that has not reported the week of ``day``, its template attached."""
    year, week = iso_week(day)
    short = cluster_short_name(settings.cluster.name)
    model = dict(district_name=district_name, short=short, week=week, year=year, as_of=format_date(day),
                 deadline=deadline_words(deadline), checked_at=f"{checked_at:%H:%M} {format_date(checked_at)}",
                 last_as_of=format_date(last_as_of) if last_as_of else None, template_name=template.filename,
                 reply_to=reply_to(settings))
    return Draft(sender=settings.mail.sender, sender_name=short, recipients=recipients,
                 subject=reminder_subject(settings, day, district_name), text=render("reminder.txt.j2", **model),
                 html=render("reminder.html.j2", **model), attachments=(template,), reply_to=reply_to(settings))


def rejection_subject(settings: Settings, file_name: str) -> str:
    return nfc(f"[{cluster_short_name(settings.cluster.name)}] Báo cáo chưa được tiếp nhận: {file_name}")


def rejection_draft(settings: Settings, *, recipients: tuple[str, ...], file_name: str, district_name: str | None,
                    as_of: date | None, received_at: datetime | None, errors: Sequence[Any],
                    warnings: Sequence[Any], annotated: Part | None) -> Draft:
    """The verdict on a rejected sheet: its errors and warnings by cell (each with ``cell``,
    ``message_vi`` and ``message_en``), and the annotated copy attached when there is one."""
    short = cluster_short_name(settings.cluster.name)
    local = received_at.astimezone(settings.tz) if received_at else None
    model = dict(short=short, file_name=file_name, district_name=district_name,
                 as_of=format_date(as_of) if as_of else None,
                 received_at=f"{local:%H:%M} {format_date(local)}" if local else None,
                 errors=errors, warnings=warnings, n_errors=format_number(len(errors)),
                 annotated=annotated.filename if annotated else None, reply_to=reply_to(settings))
    return Draft(sender=settings.mail.sender, sender_name=short, recipients=recipients,
                 subject=rejection_subject(settings, file_name), text=render("rejection.txt.j2", **model),
                 html=render("rejection.html.j2", **model), attachments=(annotated,) if annotated else (),
                 reply_to=reply_to(settings))


def confirmation_subject(settings: Settings, period_title: str, as_of: date, district_name: str) -> str:
    short = cluster_short_name(settings.cluster.name)
    return nfc(f"[{short}] Đề nghị xác nhận số liệu {period_title} (đến {format_date(as_of)}) - {district_name}")


def confirmation_draft(settings: Settings, *, district_name: str, recipients: tuple[str, ...], sheet: ToConfirm,
                       link: str | None) -> Draft:
    """The request to a unit to confirm its figures of a period as of a date (docs/outputs.md §7): the
    figures against the targets, then how to confirm — the portal ``link`` when there is one, else a reply
    to the sender — and how to correct them."""
    short = cluster_short_name(settings.cluster.name)
    closed_at = None
    if sheet.close is not None:
        at = sheet.close.closed_at
        closed_at = (at if at.tzinfo else at.replace(tzinfo=UTC)).astimezone(settings.tz)
    model = dict(district_name=district_name, short=short, meeting=sheet.period.meeting,
                 period_title=sheet.period.title, as_of=format_date(sheet.as_of),
                 closed_at=f"{closed_at:%H:%M} {format_date(closed_at)}" if closed_at else None,
                 rows=confirmation_rows(settings, sheet), any_figure=any(f.value is not None for f in sheet.figures),
                 link=link, reply_address=settings.mail.sender, correction_way=_correction_way(settings, link))
    return Draft(sender=settings.mail.sender, sender_name=short, recipients=recipients,
                 subject=confirmation_subject(settings, sheet.period.title, sheet.as_of, district_name),
                 text=render("confirmation.txt.j2", **model), html=render("confirmation.html.j2", **model))


def confirmation_rows(settings: Settings, sheet: ToConfirm) -> list[dict[str, Any]]:
    """The table of a confirmation request, formatted: counts whole, amounts with decimals."""
    rows = []
    for f in sheet.figures:
        ind = settings.indicator(f.indicator)
        decimals = 0 if ind.kind == "count" else None
        rows.append(dict(label=ind.label, unit=ind.unit, target=format_number(f.target, decimals),
                         value=format_number(f.value, decimals), percent=format_percent(f.percent),
                         figure_as_of=format_date(f.figure_as_of), has_value=f.value is not None))
    return rows


def _correction_way(settings: Settings, link: str | None) -> str:
    """How a corrected sheet reaches the tracker, as the end of a sentence."""
    mailbox = reply_to(settings)
    by_mail = f"gửi tệp qua e-mail tới {mailbox}" if mailbox else None
    if link:
        return f" (qua đường dẫn trên, mục «Gửi báo cáo»{', hoặc ' + by_mail if by_mail else ''})"
    return f" ({by_mail or 'gửi kèm tệp khi trả lời thư này'})"


def assessment_request_subject(settings: Settings, year: int, district_name: str) -> str:
    short = cluster_short_name(settings.cluster.name)
    return nfc(f"[{short}] Đề nghị tự chấm điểm thi đua năm {year} - {district_name}")


def assessment_request_draft(settings: Settings, *, district_name: str, recipients: tuple[str, ...], year: int,
                             as_of: date, template: Part, link: str | None) -> Draft:
    """The request to a unit to score itself for ``year`` (docs/assessment.md §9): its self-assessment workbook
    attached, and how to send it back — the portal ``link`` when there is one, else a reply."""
    short = cluster_short_name(settings.cluster.name)
    model = dict(district_name=district_name, short=short, year=year, as_of=format_date(as_of),
                 template_name=template.filename, link=link, reply_to=reply_to(settings),
                 reply_address=settings.mail.sender)
    return Draft(sender=settings.mail.sender, sender_name=short, recipients=recipients,
                 subject=assessment_request_subject(settings, year, district_name),
                 text=render("assessment_request.txt.j2", **model), html=render("assessment_request.html.j2", **model),
                 attachments=(template,), reply_to=reply_to(settings))
