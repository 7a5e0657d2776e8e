"""Sending what the cluster reads: build the product of another area, then hand it to the outbox.

- the weekly report (:mod:`tracker.reporting.weekly`) to every head address, once per week;
- the review pack (:mod:`tracker.reporting.review`) to every head address, once per period;
- one reminder per district that has not reported the week, with its own template workbook attached
  (:mod:`tracker.intake.template`);
- one confirmation request per district: its figures of a review period as of a date, to confirm
  (:mod:`tracker.closing`), with a portal link made by the caller when the portal has an address.

Each ``send_*`` plans its messages as :class:`tracker.mail.messages.Spec` and lets
:func:`tracker.mail.messages.send` build only those the outbox does not hold yet (docs/outputs.md §9).
``dry_run`` shows what would go to whom and writes nothing: no report files, no outbox rows, no mail.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path

from tracker import closing
from tracker.calendar import Period, cluster_short_name, week_period
from tracker.calendar import parse_period as parse_any_period
from tracker.context import Context
from tracker.errors import TrackerError
from tracker.intake.template import district_template, template_filename
from tracker.mail.compose import Draft, Part
from tracker.mail.messages import (
    SendReport,
    Spec,
    confirmation_draft,
    confirmation_subject,
    file_part,
    local_now,
    reminder_draft,
    reminder_subject,
    send,
)
from tracker.models import utcnow
from tracker.reporting import wording
from tracker.reporting.review import parse_period
from tracker.reporting.weekly import build_weekly, default_dir
from tracker.standing import cluster_progress, resolve_day, resolve_period
from tracker.text import format_date
from tracker.workflows.review import build_review


def report_draft(ctx: Context, subject: str, text: str, html: str, charts, files) -> Draft:
    """A report's e-mail: the body with its inline charts, the files attached in the report's order."""
    settings = ctx.settings
    return Draft(
        sender=settings.mail.sender, sender_name=cluster_short_name(settings.cluster.name),
        recipients=tuple(settings.cluster.head.emails), subject=subject, text=text, html=html,
        inline=tuple(Part(c.filename, c.path.read_bytes(), "image/png", cid=c.cid) for c in charts),
        attachments=tuple(file_part(p) for p in files),
    )


def send_weekly(ctx: Context, as_of: date | None = None, *, dry_run: bool = False,
                now: datetime | None = None) -> SendReport:
    """The weekly report as of ``as_of`` (default as ``tracker status``) to every head address, once per week."""
    settings = ctx.settings
    day = resolve_day(ctx, as_of).day

    def make(folder: Path) -> Draft:
        rep = build_weekly(ctx, day, folder, now=now)
        # The workbook first: when 10 MB is tight, charts are left out before it (they are inline anyway).
        return report_draft(ctx, rep.subject, rep.text, rep.html, rep.charts, rep.attachments)

    out_dir = None if dry_run else default_dir(settings.paths.reports, day)
    spec = Spec("head", tuple(settings.cluster.head.emails), wording.weekly_subject(settings.cluster.name, day), make)
    return send(ctx, "weekly", week_period(day), [spec], out_dir=out_dir, dry_run=dry_run, now=now)


def review_subject(ctx: Context, period: str) -> str:
    """The subject the review pack's e-mail has, known without building the pack (for ``--dry-run``): as
    of the period's last day, or of its close's date while it is closed (docs/closing.md §2)."""
    p = parse_period(period)  # checked by resolve_period
    with ctx.session() as session:
        close = closing.latest_close(session, ctx.cluster_id, p.key)
        as_of = close.as_of if close is not None and closing.is_closed(close) else p.as_of
    return wording.review_subject(ctx.settings.cluster.name, p.title, as_of)


def send_review(ctx: Context, period: str | None = None, *, dry_run: bool = False,
                now: datetime | None = None) -> SendReport:
    """The review pack of ``period`` (``2023-H1`` or ``2023``; default: the cluster year once it is over,
    else its first half, as ``tracker report review``) to every head address, once per period.

    Attachments in the pack's order (PDF, slides, draft text, workbook, PNGs): when 10 MB is tight the
    PNGs go first, and the e-mail says which files were left out and in which folder they are.
    """
    settings = ctx.settings
    key = resolve_period(ctx, period, today=local_now(ctx, now).date()).key  # any year with data

    def make(folder: Path) -> Draft:
        pack = build_review(ctx, key, folder, now=now)
        return report_draft(ctx, pack.subject, pack.text, pack.html, pack.inline_charts, pack.attachments)

    out_dir = None if dry_run else settings.paths.reports / "review" / key
    spec = Spec("head", tuple(settings.cluster.head.emails), review_subject(ctx, key), make)
    return send(ctx, "review", key, [spec], out_dir=out_dir, dry_run=dry_run, now=now)


def send_reminders(ctx: Context, as_of: date | None = None, *, dry_run: bool = False,
                   now: datetime | None = None) -> SendReport:
    """One reminder per district that has not reported the week of ``as_of``, with its template attached."""
    settings = ctx.settings
    day = resolve_day(ctx, as_of).day
    progress = cluster_progress(ctx, day)
    checked_at = local_now(ctx, now)
    order = [d.code for d in settings.districts]
    specs = []
    for dp in sorted(progress.districts, key=lambda d: order.index(d.code)):
        if dp.reported_this_week:
            continue
        district = settings.district(dp.code)

        def make(folder: Path, district=district, dp=dp) -> Draft:
            template = Part(template_filename(district.code, day), district_template(ctx, district.code, day))
            return reminder_draft(settings, district_name=district.name, recipients=tuple(district.emails),
                                  day=day, deadline=progress.week_deadline, checked_at=checked_at,
                                  last_as_of=dp.last_as_of, template=template)

        subject = reminder_subject(settings, day, district.name)
        specs.append(Spec(district.code, tuple(district.emails), subject, make))
    return send(ctx, "reminder", week_period(day), specs, out_dir=None, dry_run=dry_run, now=now)


# (unit code, link label) → the unit's portal link to put in its message; issues a link (tracker.web).
PortalLink = Callable[[str, str], str]


def confirmation_period(period: Period, as_of: date) -> str:
    """The period part of a confirmation request's outbox key: ``2023-H1@2023-06-30`` (one per date)."""
    return f"{period.key}@{as_of.isoformat()}"


def confirmation_day(ctx: Context, period: str, as_of: date | None) -> tuple[Period, date]:
    """The period and the date its figures are asked for: ``as_of``, default the period's last day.

    A closed period is asked about as of its close's date only, since what it shows is the snapshot
    (docs/closing.md §1); another date is a usage error."""
    p = parse_any_period(period)
    resolve_day(ctx, p.as_of)  # a year with targets or figures, like any other date
    with ctx.session() as session:
        close = closing.latest_close(session, ctx.cluster_id, p.key)
    if close is not None and closing.is_closed(close):
        if as_of is not None and as_of != close.as_of:
            raise TrackerError(
                f"Kỳ {p.key} đã chốt đến ngày {format_date(close.as_of)}: chỉ đề nghị xác nhận số liệu chốt "
                f"(bỏ --as-of, hoặc mở lại kỳ trước).",
                f"{p.key} is closed as of {close.as_of.isoformat()}: only its frozen figures can be asked for "
                "(leave out --as-of, or reopen the period first).", exit_code=2)
        return p, close.as_of
    day = as_of or p.as_of
    closing.check_in_period(p, day)
    return p, day


def send_confirmations(ctx: Context, period: str, as_of: date | None = None, *, dry_run: bool = False,
                       now: datetime | None = None, portal_link: PortalLink | None = None) -> SendReport:
    """One request per unit to confirm its figures of ``period`` as of ``as_of`` (docs/closing.md §1), to its
    contacts, once per unit, period and date; the request is recorded (not on a dry run).

    With ``portal_link`` each new message carries a link of its own, issued only when the message is
    built (so a second send, or a dry run, issues none); without it the message asks for a reply."""
    settings = ctx.settings
    p, day = confirmation_day(ctx, period, as_of)
    if not dry_run:
        with ctx.session(write=True) as session:
            closing.record_request(session, ctx.cluster_id, p, day, now or utcnow())
    label = f"xác nhận {p.key} (số liệu đến {format_date(day)})"
    specs = []
    for district in settings.districts:

        def make(folder: Path, district=district) -> Draft:
            with ctx.session() as session:
                sheet = closing.to_confirm(session, settings, p, district.code, day)
            link = portal_link(district.code, label) if portal_link is not None else None
            return confirmation_draft(settings, district_name=district.name, recipients=tuple(district.emails),
                                      sheet=sheet, link=link)

        subject = confirmation_subject(settings, p.title, day, district.name)
        specs.append(Spec(district.code, tuple(district.emails), subject, make))
    return send(ctx, "confirmation", confirmation_period(p, day), specs, out_dir=None, dry_run=dry_run, now=now)
