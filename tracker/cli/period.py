"""`tracker period close|reopen|list|confirm` (docs/commands.md §15, docs/closing.md).

Closing a review period freezes its figures for the meeting; confirmations record that a unit agrees
with them. Thin: each command calls one function of :mod:`tracker.closing`.
"""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from tracker.cli.common import AsOf, Format, FormatOption, err, out, parse_as_of, ready

period_app = typer.Typer(
    help="Chốt số liệu kỳ sơ kết/tổng kết và xác nhận của các đơn vị. Close a review period's figures, and "
         "the units' confirmations.",
    no_args_is_help=True,
)

Period = Annotated[str, typer.Argument(help="Kỳ / period: 2023-H1 (sơ kết 6 tháng) hoặc 2023 (cả năm).")]


def register(app: typer.Typer) -> None:
    app.add_typer(period_app, name="period")


def _period(ctx, text: str):
    """The period, once its year has targets or figures (like a date of any other command)."""
    from tracker.calendar import parse_period
    from tracker.standing import resolve_day

    period = parse_period(text)
    resolve_day(ctx, period.as_of)
    return period


def _who() -> str:
    import getpass

    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return ""


@period_app.command("close", help="Chốt số liệu của kỳ: giữ nguyên số liệu đến ngày chốt cho hội nghị. Freeze the "
                                  "period's figures as of DATE (default: its last day).\n\n"
                                  "Example: tracker period close 2023-H1 --require-confirmed")
def close(
    period: Period,
    as_of: AsOf = None,
    require_confirmed: Annotated[bool, typer.Option(
        "--require-confirmed", help="Không chốt khi còn đơn vị chưa xác nhận / refuse while a unit has not "
                                    "confirmed.")] = False,
) -> None:
    from tracker import closing
    from tracker.text import format_date

    ctx = ready()
    p = _period(ctx, period)
    with ctx.session(write=True) as session:
        result = closing.close_period(session, ctx.settings, p, as_of=parse_as_of(as_of), by=_who(),
                                      now=_now(), require_confirmed=require_confirmed)
        day = result.close.as_of if result.close else None
    missing = ", ".join(result.not_confirmed)
    if result.close is None:
        out(f"Chưa chốt kỳ {p.key}: còn đơn vị chưa xác nhận số liệu ({missing}). / Not closed: units have not "
            f"confirmed ({missing}).")
        sys.exit(1)
    out(f"Đã chốt số liệu kỳ {p.key} đến ngày {format_date(day)}. / Closed {p.key} as of {day.isoformat()}.")
    if missing:
        err(f"Cảnh báo: chưa xác nhận số liệu: {missing}. / Warning: not confirmed: {missing}.")


@period_app.command("reopen", help="Mở lại kỳ đã chốt (cần lý do). Reopen a closed period (a reason is required)."
                                   "\n\nExample: tracker period reopen 2023-H1 --reason \"LB sửa số liệu\"")
def reopen(
    period: Period,
    reason: Annotated[str, typer.Option("--reason", help="Lý do mở lại / why it is reopened.")],
) -> None:
    from tracker import closing

    ctx = ready()
    p = _period(ctx, period)
    with ctx.session(write=True) as session:
        closing.reopen_period(session, ctx.cluster_id, p, reason=reason, by=_who(), now=_now())
    out(f"Đã mở lại kỳ {p.key}. / Reopened {p.key}.")


@period_app.command("confirm", help="Ghi nhận xác nhận số liệu của một đơn vị (qua điện thoại, văn bản). Record a "
                                    "unit's confirmation given by phone or letter.\n\n"
                                    "Example: tracker period confirm 2023-H1 HM --by \"anh Nam, điện thoại 03/07\"")
def confirm(
    period: Period,
    unit: Annotated[str, typer.Argument(help="Mã đơn vị / unit code (HM).")],
    by: Annotated[str, typer.Option("--by", help="Ai xác nhận, bằng cách nào / who confirmed, and how.")] = "",
    as_of: AsOf = None,
) -> None:
    from tracker import closing
    from tracker.intake.matching import Names
    from tracker.text import format_date

    ctx = ready()
    p = _period(ctx, period)
    code = Names.of(ctx.settings).district(unit) or unit
    with ctx.session(write=True) as session:
        row = closing.confirm(session, ctx.settings, p, code, as_of=parse_as_of(as_of), by=by or _who(),
                              channel="cli", now=_now())
        day, count = row.as_of, len(row.figures)
    out(f"Đã ghi nhận {code} xác nhận {count} số liệu kỳ {p.key} đến ngày {format_date(day)}. / Recorded {code}'s "
        f"confirmation of {count} figures of {p.key} as of {day.isoformat()}.")


@period_app.command("list", help="Các kỳ đã gửi đề nghị xác nhận hoặc đã chốt. The periods with a confirmation "
                                 "request or a close.\n\nExample: tracker period list --format json")
def list_periods(fmt: FormatOption = Format.table) -> None:
    from tracker import closing
    from tracker.calendar import parse_period

    ctx = ready()
    with ctx.session() as session:
        keys = closing.known_periods(session, ctx.cluster_id)
        rows = closing.period_states(session, ctx.settings, [parse_period(k) for k in keys])
    if fmt == Format.json:
        import json

        out(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    _table(rows)


def _table(rows: list[dict]) -> None:
    from tracker.text import format_date, parse_date

    if not rows:
        out("Chưa có kỳ nào được đề nghị xác nhận hay chốt. / No period has a confirmation request or a close.")
        return
    out("Kỳ\tNgày số liệu\tTrạng thái\tĐã xác nhận\tChưa xác nhận\tSửa sau chốt")
    for r in rows:
        state = "đã chốt (closed)" if r["state"] == "closed" else "mở (open)"
        out(f"{r['period']}\t{format_date(parse_date(r['as_of']))}\t{state}\t{', '.join(r['confirmed']) or '—'}\t"
            f"{', '.join(r['not_confirmed']) or '—'}\t{r['amendments']}")


def _now():
    from jobs.clock import now

    return now()
