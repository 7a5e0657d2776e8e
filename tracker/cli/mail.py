"""`tracker send weekly|review|reminders|confirmations|assessment-requests` and `tracker outbox [list|retry]`
(docs/commands.md §10, §11).

Thin: each command calls one function of :mod:`tracker.workflows.sending` or :mod:`tracker.mail`, prints
one line per message on stdout and exits 1 when a message of the run is not delivered (pending or failed).
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Annotated

import typer

from tracker.cli.common import AsOf, Format, FormatOption, context, err, out, parse_as_of

if TYPE_CHECKING:
    from tracker.mail.delivery import DeliveryReport
    from tracker.mail.messages import SendReport

KINDS = ("weekly", "review", "reminders", "confirmations", "assessment", "assessment-requests")

outbox_app = typer.Typer(
    help="Hộp thư đi: xem thư và trạng thái gửi, gửi lại thư đang chờ. "
         "The outbox: list messages and their delivery state, retry pending ones.",
    invoke_without_command=True,
)


def register(app: typer.Typer) -> None:
    app.command(
        "send",
        help="Lập và gửi thư qua hộp thư đi: weekly (báo cáo tuần cho Cụm trưởng), review (bộ tài liệu sơ kết/"
             "tổng kết), reminders (nhắc đơn vị chưa nộp báo cáo tuần), confirmations (đề nghị các đơn vị xác nhận "
             "số liệu của kỳ --period đến ngày --as-of), assessment (kết quả chấm điểm thi đua năm --year cho Cụm "
             "trưởng, mỗi năm một lần), assessment-requests (gửi mỗi đơn vị bảng tự chấm điểm năm --year). "
             "Gửi lại cùng một thư không bao giờ gửi "
             "hai lần. Build and deliver through the outbox; sending the same thing again never mails twice. "
             "Exit 1 if a message could not be delivered (it stays pending and is retried).\n\n"
             "Example: tracker send weekly --as-of 30/06/2023 --dry-run; "
             "tracker send confirmations --period 2023-H1; tracker send assessment-requests --year 2023",
    )(send)
    app.add_typer(outbox_app, name="outbox")


def send(
    kind: Annotated[str, typer.Argument(
        help="weekly | review | reminders | confirmations | assessment | assessment-requests")],
    as_of: AsOf = None,
    period: Annotated[str | None, typer.Option(
        "--period", help="Kỳ / review period: 2023-H1 (sơ kết) hoặc 2023 (tổng kết); với review mặc định như "
                         "`report review`; bắt buộc với confirmations (required).",
    )] = None,
    year: Annotated[int | None, typer.Option(
        "--year", help="Năm chấm điểm (chỉ với assessment và assessment-requests; mặc định năm [cluster] year). "
                       "Assessment year.",
    )] = None,
    dry_run: Annotated[bool, typer.Option(
        "--dry-run", help="Chỉ xem sẽ gửi gì cho ai, không ghi gì. Show what would go to whom; write nothing.",
    )] = False,
) -> None:
    from tracker.errors import TrackerError

    if kind not in KINDS:
        raise TrackerError(f"Loại thư không hợp lệ: {kind!r} (chọn weekly, review, reminders, confirmations, "
                           "assessment hoặc assessment-requests).",
                           f"Unknown kind {kind!r} (choose weekly, review, reminders, confirmations, assessment or "
                           "assessment-requests).", exit_code=2)
    from tracker.standing import resolve_day
    from tracker.workflows import sending

    ctx = context()
    # An option the kind does not use is ignored with a notice, whatever the kind (docs/commands.md §10).
    if year is not None and kind not in ("assessment", "assessment-requests"):
        err("--year chỉ dùng cho assessment và assessment-requests; bỏ qua. / --year applies to assessment and "
            "assessment-requests only; ignored.")
    if period is not None and kind not in ("review", "confirmations"):
        err("--period chỉ dùng cho review và confirmations; bỏ qua. / --period applies to review and confirmations "
            "only; ignored.")
    if as_of is not None and kind == "assessment-requests":
        err("--as-of không dùng cho assessment-requests (bảng tính đến 31/12 của năm); bỏ qua. / --as-of does not "
            "apply to assessment-requests (the workbook is as of 31/12 of the year); ignored.")
    if kind == "assessment":
        from tracker.workflows.assessment import assessment_day, send_assessment

        _finish(send_assessment(ctx, assessment_day(ctx, year, parse_as_of(as_of)), dry_run=dry_run))
        return
    if kind == "confirmations":
        _finish(send_confirmations(ctx, period, parse_as_of(as_of), dry_run=dry_run))
        return
    if kind == "assessment-requests":
        _finish(send_assessment_requests(ctx, year, dry_run=dry_run))
        return
    day = resolve_day(ctx, parse_as_of(as_of))
    if day.notice_vi and kind != "review":
        err(f"{day.notice_vi} / {day.notice_en}")
    if kind == "weekly":
        report = sending.send_weekly(ctx, day.day, dry_run=dry_run)
    elif kind == "reminders":
        report = sending.send_reminders(ctx, day.day, dry_run=dry_run)
    else:
        report = sending.send_review(ctx, period, dry_run=dry_run)
    _finish(report)


def _finish(report: SendReport) -> None:
    print_send_report(report)
    if not report.ok:
        sys.exit(1)


def send_confirmations(ctx, period: str | None, as_of, *, dry_run: bool) -> SendReport:
    """The confirmation requests of ``period`` (docs/closing.md §1); each new message carries a portal link
    of its own when ``[web] base_url`` is set (tracker.web.tokens.link_maker)."""
    from tracker.context import require_initialised
    from tracker.errors import TrackerError
    from tracker.web.tokens import link_maker
    from tracker.workflows import sending

    if period is None:
        raise TrackerError("Ghi kỳ cần xác nhận: --period 2023-H1 (sơ kết) hoặc --period 2023 (tổng kết).",
                           "Say which period to confirm: --period 2023-H1 or --period 2023.", exit_code=2)
    require_initialised(ctx)
    return sending.send_confirmations(ctx, period, as_of, dry_run=dry_run, portal_link=link_maker(ctx))


def send_assessment_requests(ctx, year: int | None, *, dry_run: bool) -> SendReport:
    """Each unit's self-assessment workbook of ``year`` (docs/assessment.md §9), with a portal link of its own when
    ``[web] base_url`` is set."""
    from tracker.context import require_initialised
    from tracker.web.tokens import link_maker
    from tracker.workflows.assessment_requests import send_assessment_requests as run

    require_initialised(ctx)
    return run(ctx, year, dry_run=dry_run, portal_link=link_maker(ctx))


def _recipients(recipients) -> str:
    return ", ".join(recipients) if recipients else "—"


def print_send_report(report: SendReport) -> None:
    from tracker.mail.messages import STATE_TEXT
    from tracker.text import format_number

    prefix = "(thử / dry run) " if report.dry_run else ""
    for m in report.messages:
        vi, en = STATE_TEXT.get(m.state, (m.state, m.state))
        line = f"{prefix}{m.kind} [{m.recipient_key}] → {_recipients(m.recipients)}: {m.subject} — {vi} ({en})"
        if m.outbox_id is not None:
            line += f" #{m.outbox_id}"
        if m.size:
            line += f", {format_number(m.size / 1024, 0)} KB"
        out(line)
        if m.attachments:
            out(f"    tệp đính kèm / attachments: {', '.join(m.attachments)}")
        if m.note:
            out(f"    {m.note}")
        if m.error and m.state not in ("sent", "already-sent"):
            out(f"    lỗi / error: {m.error}")
        elif m.error:
            out(f"    lưu ý / note: {m.error}")
    c = report.counts()
    if not report.messages:
        out("Không có thư nào cần gửi. / Nothing to send.")
    elif report.dry_run:
        out(f"Sẽ gửi {c['would_send']} thư; {c['already_sent']} đã gửi trước đó. / "
            f"Would send {c['would_send']}; {c['already_sent']} sent before.")
    else:
        out(f"Tổng / total: {c['messages']} thư — đã gửi / sent {c['sent']}, đã gửi trước đó / sent before "
            f"{c['already_sent']}, đang chờ / pending {c['pending']}, thất bại / failed {c['failed']}"
            + (f", không có người nhận / no recipients {c['no_recipients']}" if c["no_recipients"] else "")
            + (f", không lập được / not built {c['build_failed']}" if c["build_failed"] else "")
            + (f", người nhận bị từ chối / refused recipients {c['refused']}" if c["refused"] else "") + ".")
        if report.delivery is not None and report.delivery.transport == "eml":
            out(f"Chưa cấu hình máy chủ SMTP: thư được ghi thành tệp .eml trong "
                f"{context().settings.paths.outbox} / no SMTP host: messages written as .eml files there.")


@outbox_app.callback()
def outbox_default(ctx: typer.Context) -> None:
    """`tracker outbox` alone lists the outbox."""
    if ctx.invoked_subcommand is None:
        outbox_list()


@outbox_app.command(
    "list",
    help="Các thư trong hộp thư đi, mới nhất trước: loại, kỳ, người nhận, trạng thái, số lần thử, lỗi gần nhất. "
         "Messages in the outbox, newest first.\n\nExample: tracker outbox list --status pending",
)
def outbox_list(
    status: Annotated[str | None, typer.Option("--status", help="pending | sent | failed | sending")] = None,
    limit: Annotated[int, typer.Option("--limit", help="Số thư tối đa / at most this many.")] = 50,
    fmt: FormatOption = Format.table,
) -> None:
    from tracker.mail.outbox import list_messages
    from tracker.models import OutboxStatus
    from tracker.text import format_datetime

    ctx = context()
    with ctx.session() as session:
        rows = list_messages(session, ctx.cluster_id, status=status, limit=limit)
    tz = ctx.settings.tz
    if fmt == Format.json:
        import json

        out(json.dumps([{
            "id": r.id, "kind": r.kind, "period": r.period, "recipient_key": r.recipient_key,
            "recipients": r.recipients, "subject": r.subject, "status": r.status, "attempts": r.attempts,
            "next_attempt_at": r.next_attempt_at.isoformat() if r.status == OutboxStatus.pending else None,
            "sent_at": r.sent_at.isoformat() if r.sent_at else None, "last_error": r.last_error,
            "refused": r.refused, "size": len(r.message),
        } for r in rows], ensure_ascii=False, indent=2))
        return
    if not rows:
        out("Hộp thư đi trống. / The outbox is empty.")
        return
    words = {OutboxStatus.pending: "chờ gửi", OutboxStatus.sending: "đang gửi", OutboxStatus.sent: "đã gửi",
             OutboxStatus.failed: "thất bại"}
    for r in rows:
        when = ""
        if r.status == OutboxStatus.sent and r.sent_at:
            when = f", lúc {format_datetime(r.sent_at.astimezone(tz))}"
        elif r.status == OutboxStatus.pending:
            when = f", thử lại lúc / next try {format_datetime(r.next_attempt_at.astimezone(tz))}"
        out(f"#{r.id} {r.kind} {r.period} [{r.recipient_key}] → {_recipients(r.recipients)}: "
            f"{words.get(r.status, r.status)} ({r.status}), {r.attempts} lần thử / attempts{when}")
        out(f"    {r.subject}")
        if r.refused:
            for addr, reply in r.refused.items():
                out(f"    từ chối / refused {addr}: {reply}")
        if r.last_error and r.status != OutboxStatus.sent:
            out(f"    lỗi / error: {r.last_error}")


@outbox_app.command(
    "retry",
    help="Gửi ngay mọi thư đang chờ, bất kể thời gian chờ giữa các lần thử. "
         "Attempt every pending message now, whatever its backoff. Exit 1 if some are still not delivered.\n\n"
         "Example: tracker outbox retry",
)
def outbox_retry() -> None:
    from tracker.mail.delivery import deliver_pending

    report = deliver_pending(context(), force=True)
    print_delivery_report(report)
    if not report.ok:
        sys.exit(1)


def print_delivery_report(report: DeliveryReport) -> None:
    words = {"sent": "đã gửi", "retry": "chưa gửi được, sẽ thử lại", "failed": "thất bại"}
    for msg_id, status, error in report.lines:
        line = f"#{msg_id}: {words.get(status, status)} ({'pending' if status == 'retry' else status})"
        out(line + (f" — {error}" if error else ""))
    if report.attempted == 0:
        out("Không có thư nào đang chờ. / No pending messages.")
    else:
        out(f"Đã thử / attempted {report.attempted}: đã gửi / sent {report.sent}, đang chờ / pending "
            f"{report.pending}, thất bại / failed {report.failed}.")
