"""The four kinds of e-mail: weekly report, review pack, reminders, rejection notices.

Each ``send_*`` function plans its messages (who, which idempotency key), builds only those the outbox
does not hold yet, enqueues them, and delivers them at once. A message already in the outbox is never
built or mailed again; if it is still pending, this send tries it now.

Recipients (docs/outputs.md §9): the weekly report and the review pack are one message to all of
``cluster.head.emails``; reminders and rejection notices are one message per district, to its
contacts. Idempotency keys: ``weekly/<cluster>/<2023-W26>/head``, ``review/<cluster>/<2023-H1>/head``,
``reminder/<cluster>/<2023-W26>/<district code>``, ``rejection/<cluster>/<first 32 hex digits of the
file's SHA-256>/<district code or sender>``.

``dry_run`` shows what would go to whom and writes nothing: no report files, no outbox rows, no mail.
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from email.utils import make_msgid
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tracker.mail.compose import MAX_MESSAGE_BYTES, Draft, Part, build, fit_attachments
from tracker.mail.outbox import enqueue, find, idempotency_key
from tracker.text import format_date, format_number, nfc, weekday_vi

if TYPE_CHECKING:
    from tracker.context import Context
    from tracker.mail.delivery import DeliveryReport

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
    """What ``send_*`` / ``notify_rejection`` did. ``counts()`` is what the scheduler records."""

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
class _Spec:
    recipient_key: str
    recipients: tuple[str, ...]
    subject: str
    make: Callable[[Path], Draft]  # builds the draft, writing its files under the given folder


# ------------------------------------------------------------------------------------------ helpers


def render(name: str, **model: Any) -> str:
    """One of this package's Jinja2 templates (``.html.j2`` autoescaped), as NFC text."""
    from tracker.templating import render as render_in

    return render_in(TEMPLATES, name, model)


def short_cluster(ctx: Context) -> str:
    from tracker.reporting.wording import cluster_short_name

    return cluster_short_name(ctx.settings.cluster.name)


def week_of(day: date) -> tuple[int, int, str]:
    from tracker.reporting.wording import iso_week, week_period

    year, week = iso_week(day)
    return year, week, week_period(day)


def _local_now(ctx: Context, now: datetime | None) -> datetime:
    from tracker.models import utcnow

    return (now or utcnow()).astimezone(ctx.settings.tz)


def _reply_to(ctx: Context) -> str | None:
    """Replies with a corrected sheet should reach the mailbox the tracker reads, when there is one."""
    mb = ctx.settings.mailbox
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
        from html import escape

        para = f'<p style="color:#8a5a00">{escape(note)}</p>'
        html = html.replace("</body>", para + "</body>") if "</body>" in html else html + para
    return replace(draft, attachments=tuple(kept), text=draft.text.rstrip() + "\n\n" + note + "\n", html=html), note


def _file_part(path: Path, name: str | None = None) -> Part:
    return Part(nfc(name or path.name), path.read_bytes())


# ------------------------------------------------------------------------------------------ the engine


def _send(ctx: Context, kind: str, period: str, specs: Sequence[_Spec], *, out_dir: Path | None,
          dry_run: bool, now: datetime | None) -> SendReport:
    """Plan → build what is new → enqueue → deliver this send's messages. Shared by every kind."""
    report = SendReport(kind=kind, period=period, dry_run=dry_run)
    cluster_id = ctx.cluster_id
    stamp = _local_now(ctx, now)
    to_deliver: list[int] = []
    for spec in specs:
        key = idempotency_key(cluster_id, kind, period, spec.recipient_key)
        planned = Planned(kind=kind, period=period, recipient_key=spec.recipient_key, recipients=spec.recipients,
                          subject=spec.subject, state="would-send")
        report.messages.append(planned)
        with ctx.session() as session:
            existing = find(session, cluster_id, key)
            if existing is not None:
                planned.outbox_id, planned.state = existing.id, f"already-{existing.status}"
                planned.subject, planned.recipients = existing.subject, tuple(existing.recipients)
                planned.error, planned.size = existing.last_error, len(existing.message)
        if existing is not None:
            if planned.state == "already-pending" and not dry_run:
                to_deliver.append(planned.outbox_id)
            continue
        if not spec.recipients:
            planned.state = "no-recipients"
            continue
        if dry_run:
            continue
        try:
            with tempfile.TemporaryDirectory(prefix="tracker-mail-") as scratch:
                draft = spec.make(out_dir or Path(scratch))  # the draft holds the bytes; files may go after
            draft = replace(draft, headers=(*draft.headers, ("X-Tracker-Key", key)))
            draft, planned.note = fit_to_size_cap(draft, out_dir, date_=stamp)
            domain = ctx.settings.mail.sender.rpartition("@")[2] or "localhost"
            data = build(draft, date=stamp, message_id=make_msgid(idstring=kind, domain=domain))
        except Exception as exc:  # one message that cannot be built must not stop the others
            log.exception("%s [%s]: cannot build the message", kind, spec.recipient_key)
            planned.state, planned.error = "build-failed", f"{type(exc).__name__}: {exc}"
            continue
        with ctx.session(write=True) as session:
            row, created = enqueue(session, cluster_id, kind=kind, period=period, recipient_key=spec.recipient_key,
                                   recipients=list(draft.recipients), subject=draft.subject, message=data, now=now)
            planned.outbox_id, status = row.id, row.status
        planned.new, planned.state = created, "queued" if created else f"already-{status}"
        planned.subject, planned.size = draft.subject, len(data)
        planned.attachments = tuple(p.filename for p in draft.attachments)
        if created or status == "pending":
            to_deliver.append(planned.outbox_id)
    if to_deliver:
        from tracker.mail.delivery import deliver_pending

        # This send's messages are tried now, whatever their backoff: the user (or the job) asked for them.
        report.delivery = deliver_pending(ctx, force=True, only=to_deliver, now=now)
        _refresh(ctx, report, set(to_deliver))
    return report


def _refresh(ctx: Context, report: SendReport, attempted: set[int]) -> None:
    """After delivery: each attempted message shows what became of it (sent / pending / failed)."""
    from tracker.models import OutboxMessage

    with ctx.session() as session:
        for planned in report.messages:
            if planned.outbox_id in attempted:
                row = session.get(OutboxMessage, planned.outbox_id)
                planned.state, planned.error = row.status, row.last_error


# ------------------------------------------------------------------------------------------ weekly


def send_weekly(ctx: Context, as_of: date | None = None, *, dry_run: bool = False,
                now: datetime | None = None) -> SendReport:
    """The weekly report as of ``as_of`` (default as ``tracker status``) to every head address, once per week."""
    from tracker.reporting.wording import weekly_subject
    from tracker.standing import resolve_as_of

    day = resolve_as_of(ctx.settings, as_of).day
    _, _, period = week_of(day)
    settings = ctx.settings

    def make(folder: Path) -> Draft:
        from tracker.reporting.weekly import build_weekly

        rep = build_weekly(ctx, day, folder, now=now)
        return Draft(
            sender=settings.mail.sender, sender_name=short_cluster(ctx), recipients=tuple(settings.cluster.head.emails),
            subject=rep.subject, text=rep.text, html=rep.html,
            inline=tuple(Part(c.filename, c.path.read_bytes(), "image/png", cid=c.cid) for c in rep.charts),
            # The workbook first: when 10 MB is tight, charts are left out before it (they are inline anyway).
            attachments=tuple(_file_part(p) for p in rep.attachments),
        )

    out_dir = None
    if not dry_run:
        from tracker.reporting.weekly import default_dir

        out_dir = default_dir(settings.paths.reports, day)
    spec = _Spec("head", tuple(settings.cluster.head.emails), weekly_subject(settings.cluster.name, day), make)
    return _send(ctx, "weekly", period, [spec], out_dir=out_dir, dry_run=dry_run, now=now)


# ------------------------------------------------------------------------------------------ review pack


def review_subject(ctx: Context, period: str) -> str:
    """The subject the review pack's e-mail has, known without building the pack (for ``--dry-run``)."""
    from tracker.reporting import wording
    from tracker.reporting.review import parse_period

    p = parse_period(period, ctx.settings.cluster.year)
    return wording.review_subject(ctx.settings.cluster.name, p.title, p.as_of)


def send_review(ctx: Context, period: str | None = None, *, dry_run: bool = False,
                now: datetime | None = None) -> SendReport:
    """The review pack of ``period`` (``2023-H1`` or ``2023``; default: the cluster year once it is over,
    else its first half, as ``tracker report review``) to every head address, once per period.

    Attachments in the pack's order (PDF, slides, draft text, workbook, PNGs): when 10 MB is tight the
    PNGs go first, and the e-mail says which files were left out and in which folder they are.
    """
    from tracker.reporting.review import default_period, parse_period

    settings = ctx.settings
    if period is None:
        period = default_period(settings.cluster.year, _local_now(ctx, now).date())
    key = parse_period(period, settings.cluster.year).key

    def make(folder: Path) -> Draft:
        from tracker.reporting.review import build_review

        pack = build_review(ctx, key, folder, now=now)
        return Draft(
            sender=settings.mail.sender, sender_name=short_cluster(ctx), recipients=tuple(settings.cluster.head.emails),
            subject=pack.subject, text=pack.text, html=pack.html,
            inline=tuple(Part(c.filename, c.path.read_bytes(), "image/png", cid=c.cid) for c in pack.inline_charts),
            attachments=tuple(_file_part(p) for p in pack.attachments),
        )

    out_dir = None if dry_run else settings.paths.reports / "review" / key
    spec = _Spec("head", tuple(settings.cluster.head.emails), review_subject(ctx, key), make)
    return _send(ctx, "review", key, [spec], out_dir=out_dir, dry_run=dry_run, now=now)


# ------------------------------------------------------------------------------------------ reminders


def deadline_words(deadline: datetime) -> str:
    """The weekly reporting deadline (``ClusterProgress.week_deadline``) as ``17:00 thứ Sáu, 30/06/2023``."""
    return f"{deadline:%H:%M} {weekday_vi(deadline.isoweekday())}, {format_date(deadline)}"


def reminder_subject(ctx: Context, day: date, district_name: str) -> str:
    year, week, _ = week_of(day)
    return nfc(f"[{short_cluster(ctx)}] Nhắc nộp báo cáo tiến độ tuần {week}/{year} - {district_name}")


def _template_part(ctx: Context, code: str, day: date) -> Part:
    """The district's own upload workbook for the week (the one ``tracker template`` writes)."""
    from tracker.intake.template import district_template, template_filename

    return Part(template_filename(code, day), district_template(ctx, code, day))


def send_reminders(ctx: Context, as_of: date | None = None, *, dry_run: bool = False,
                   now: datetime | None = None) -> SendReport:
    """One reminder per district that has not reported the week of ``as_of``, with its template attached."""
    from tracker.standing import cluster_progress, resolve_as_of

    settings = ctx.settings
    day = resolve_as_of(settings, as_of).day
    year, week, period = week_of(day)
    progress = cluster_progress(ctx, day)
    deadline_text = deadline_words(progress.week_deadline)
    local_now = _local_now(ctx, now)
    specs = []
    for dp in sorted(progress.districts, key=lambda d: [x.code for x in settings.districts].index(d.code)):
        if dp.reported_this_week:
            continue
        district = settings.district(dp.code)

        def make(folder: Path, district=district, dp=dp) -> Draft:
            template = _template_part(ctx, district.code, day)
            model = dict(district_name=district.name, short=short_cluster(ctx), week=week, year=year,
                         as_of=format_date(day), deadline=deadline_text,
                         checked_at=f"{local_now:%H:%M} {format_date(local_now)}",
                         last_as_of=format_date(dp.last_as_of) if dp.last_as_of else None,
                         template_name=template.filename, reply_to=_reply_to(ctx))
            return Draft(sender=settings.mail.sender, sender_name=short_cluster(ctx),
                         recipients=tuple(district.emails), subject=reminder_subject(ctx, day, district.name),
                         text=render("reminder.txt.j2", **model), html=render("reminder.html.j2", **model),
                         attachments=(template,), reply_to=_reply_to(ctx))

        specs.append(_Spec(district.code, tuple(district.emails), reminder_subject(ctx, day, district.name), make))
    return _send(ctx, "reminder", period, specs, out_dir=None, dry_run=dry_run, now=now)


# ------------------------------------------------------------------------------------------ rejection


def rejection_subject(ctx: Context, file_name: str) -> str:
    return nfc(f"[{short_cluster(ctx)}] Báo cáo chưa được tiếp nhận: {file_name}")


def rejection_recipients(ctx: Context, district_code: str | None, sender: str | None,
                         codes: set[str]) -> tuple[str, tuple[str, ...]]:
    """(recipient key, addresses) of a rejection notice.

    The district's contacts, and the sender when there is one. A rejection about the sender itself (not
    a contact of the district it names) goes to the sender alone: the district did not send it.
    """
    from tracker.findings import CONTEXT_CODES

    if sender and (codes & set(CONTEXT_CODES) or not district_code):
        return sender.lower()[:200], (sender,)
    if not district_code:
        return "unknown", ()
    contacts = list(ctx.settings.district(district_code).emails)
    if sender and sender.lower() not in {c.lower() for c in contacts}:
        contacts.insert(0, sender)
    return district_code, tuple(contacts)


def notify_rejection(ctx: Context, result: Any, *, now: datetime | None = None) -> SendReport:
    """The verdict on a rejected upload (an intake ``IngestResult``), to the district and the sender.

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
        from tracker.models import Submission

        with ctx.session() as session:
            sub = session.get(Submission, result.submission_id)
            sender = sub.sender if sub is not None else None
    errors, warnings = result.errors, result.warnings
    key, recipients = rejection_recipients(ctx, result.district, sender, {f.code for f in errors})
    district_name = settings.district(result.district).name if result.district else None
    subject = rejection_subject(ctx, result.file_name)

    def make(folder: Path) -> Draft:
        model = dict(short=short_cluster(ctx), file_name=result.file_name, district_name=district_name,
                     as_of=format_date(result.as_of) if result.as_of else None,
                     received_at=(f"{result.received_at.astimezone(settings.tz):%H:%M} "
                                  f"{format_date(result.received_at.astimezone(settings.tz))}")
                     if result.received_at else None,
                     errors=errors, warnings=warnings, n_errors=format_number(len(errors)),
                     annotated=result.annotated_path.name if result.annotated_path else None,
                     reply_to=_reply_to(ctx))
        attachments = (_file_part(Path(result.annotated_path)),) if result.annotated_path else ()
        return Draft(sender=settings.mail.sender, sender_name=short_cluster(ctx), recipients=recipients,
                     subject=subject, text=render("rejection.txt.j2", **model),
                     html=render("rejection.html.j2", **model), attachments=attachments, reply_to=_reply_to(ctx))

    spec = _Spec(key, recipients, subject, make)
    folder = Path(result.annotated_path).parent if result.annotated_path else None
    return _send(ctx, "rejection", period, [spec], out_dir=folder, dry_run=False, now=now)
