"""`tracker scheduler run`, `tracker jobs list`, `tracker jobs run NAME` (docs/commands.md §12).

The scheduler and its jobs live in the top-level `jobs` package; they are imported inside the
commands so `tracker --help` does not load APScheduler or SQLAlchemy.
"""

from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path
from typing import Annotated
from zoneinfo import ZoneInfo

import typer

from tracker.cli.common import AsOf, context, err, out, parse_as_of

VIETNAM_ZONES = ("Asia/Ho_Chi_Minh", "Asia/Saigon")  # the second is the old name, still accepted by tzdata

scheduler_app = typer.Typer(
    help="Bộ lập lịch chạy các công việc định kỳ. The scheduler that runs the periodic jobs.",
    no_args_is_help=True,
)
jobs_app = typer.Typer(
    help="Các công việc định kỳ: xem lịch, chạy ngay. Scheduled jobs: list them, run one now.",
    no_args_is_help=True,
)


def register(app: typer.Typer) -> None:
    app.add_typer(scheduler_app, name="scheduler")
    app.add_typer(jobs_app, name="jobs")


@scheduler_app.command(
    "run",
    help="Chạy bộ lập lịch ở tiền cảnh cho đến khi bị dừng (Ctrl-C, SIGTERM); nhật ký ra stderr. "
         "Run the scheduler in the foreground until stopped (Ctrl-C, SIGTERM); logs go to stderr. "
         "Only one scheduler per cluster and database: a second one is refused (exit 2).\n\n"
         "With --configs: several clusters of one database in ONE process (files, or folders of *.toml; "
         "the global --config is not used), each with its own jobs, store and lock, their runs one at a time.\n\n"
         "Example: tracker --config /etc/cluster-tracker/config.toml scheduler run\n\n"
         "Example: tracker scheduler run --configs /etc/cluster-tracker/clusters/",
)
def scheduler_run(
    configs: Annotated[list[Path] | None, typer.Option(
        "--configs", help="Tệp cấu hình các cụm, hoặc thư mục chứa chúng (*.toml) / cluster config files or "
                          "folders, all on one database.")] = None,
    more: Annotated[list[Path] | None, typer.Argument(
        help="Thêm tệp/thư mục sau --configs / more config files or folders after --configs.",
        show_default=False)] = None,
) -> None:
    import logging
    import signal
    import threading

    from tracker.errors import TrackerError

    if more and not configs:
        raise TrackerError("Đường dẫn cấu hình chỉ dùng sau --configs (tracker scheduler run --configs A.toml B.toml).",
                           "Config paths go after --configs (tracker scheduler run --configs A.toml B.toml).",
                           exit_code=2)
    if configs:
        from jobs.federation import load_clusters, serve_federation

        ctxs = load_clusters([*configs, *(more or [])])

        def serve_it(stop):
            return serve_federation(ctxs, stop)
    else:
        from jobs.scheduler import serve

        ctx = context()

        def serve_it(stop):
            return serve(ctx, stop)

    stop = threading.Event()
    log = logging.getLogger("jobs.scheduler")
    if not logging.getLogger().isEnabledFor(logging.DEBUG):
        logging.getLogger("apscheduler").setLevel(logging.WARNING)

    def on_signal(signum, _frame):
        if stop.is_set():  # a second Ctrl-C: stop waiting for the running job
            raise KeyboardInterrupt
        log.info("Nhận tín hiệu %s / received %s", signal.Signals(signum).name, signal.Signals(signum).name)
        stop.set()

    previous = {s: signal.signal(s, on_signal) for s in (signal.SIGTERM, signal.SIGINT)}
    try:
        code = serve_it(stop)
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
    sys.exit(code)


@jobs_app.command(
    "list",
    help="Mỗi công việc: lịch, lần chạy tới (giờ địa phương), lần chạy gần nhất và kết quả. "
         "Each job: schedule, next run (local time), last run and its outcome. Reads the stored "
         "schedule without running anything.\n\nExample: tracker jobs list --format json",
)
def jobs_list(
    fmt: Annotated[str, typer.Option("--format", "-f", help="table | json")] = "table",
) -> None:
    from tracker.errors import TrackerError

    if fmt not in ("table", "json"):
        raise TrackerError(f"Định dạng không hợp lệ: {fmt!r} (chọn table hoặc json).",
                           f"Unknown format {fmt!r} (choose table or json).")
    from jobs.lock import scheduler_lock
    from jobs.scheduler import describe_jobs
    from tracker.context import require_initialised

    ctx = context()
    require_initialised(ctx)
    infos = describe_jobs(ctx)
    lock = scheduler_lock(ctx)
    running = not lock.is_free()
    holder = lock.holder() if running else ""
    if fmt == "json":
        _print_json(ctx, infos, running, holder)
    else:
        _print_table(ctx, infos, running, holder)


def _local(value, tz) -> str:
    from tracker.text import format_datetime

    if value is None:
        return "—"
    return format_datetime(value.astimezone(tz))


def zone_line(name: str, at: datetime) -> str:
    """Which clock the listed times read, with its UTC offset at ``at``: a server often runs in UTC."""
    offset = at.astimezone(ZoneInfo(name)).strftime("%z")
    utc = f"UTC{offset[:3]}:{offset[3:]}"
    if name in VIETNAM_ZONES:
        return f"Giờ Việt Nam ({name}, {utc}) / Times are Vietnam time ({name}, {utc})"
    return f"Giờ theo múi giờ {name} ({utc}) / Times are {name} time ({utc})"


def _print_table(ctx, infos, running: bool, holder: str) -> None:
    from jobs import clock

    tz = ctx.settings.tz
    if running:
        out(f"Bộ lập lịch: đang chạy ({holder}) / Scheduler: running")
    else:
        out("Bộ lập lịch: không chạy (tracker scheduler run) / Scheduler: not running")
    out(zone_line(ctx.settings.cluster.timezone, clock.now()))
    header = ("Công việc / job", "Lịch / schedule", "Lần chạy tới / next run", "Lần gần nhất / last run",
              "Kết quả / outcome")
    rows = []
    notes = []
    for info in infos:
        next_run = _local(info.next_run, tz)
        if not info.next_run_stored:
            next_run += " *"
        if info.config_changed:
            next_run += " !"
        if info.overdue:
            next_run += " (quá hạn / overdue)"
        last = info.last
        rows.append((info.name, "; ".join(info.crons), next_run,
                     _local(last.started_at, tz) if last else "—", _outcome(last)))
        if last is not None and last.outcome != "ok" and last.error:
            notes.append(f"  {info.name}: {last.error.splitlines()[0]}")
    widths = [max(len(r[i]) for r in (header, *rows)) for i in range(len(header))]
    for r in (header, *rows):
        out("  ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=True)).rstrip())
    if any(not i.next_run_stored for i in infos):
        out("* tính từ cấu hình; bộ lập lịch chưa lưu lịch / computed from the config; the scheduler has not "
            "stored a schedule yet")
    if any(i.overdue for i in infos):
        grace = ctx.settings.schedule.misfire_grace_time / 3600
        grace_text = f"{grace:g}".replace(".", ",")
        out(f"quá hạn: chạy một lần khi bộ lập lịch khởi động nếu còn trong thời gian ân hạn ({grace_text} giờ), "
            f"nếu không thì ghi là lỡ lịch / overdue: runs once when the scheduler starts if within the grace "
            f"time ({grace_text} h), otherwise it is recorded as missed")
    if any(i.config_changed for i in infos):
        out("! cấu hình đã đổi; khởi động lại bộ lập lịch để áp dụng / the config changed; restart the "
            "scheduler to apply it")
    if notes:
        out("Ghi chú lần gần nhất / last run notes:")
        for note in notes:
            out(note)


def _outcome(run) -> str:
    from jobs.runs import outcome_text

    return outcome_text(None if run is None else run.outcome)


def _print_json(ctx, infos, running: bool, holder: str) -> None:
    import json

    def iso(v):
        return v.astimezone(ctx.settings.tz).isoformat() if v is not None else None

    data = {
        "cluster": ctx.cluster_id,
        "timezone": ctx.settings.cluster.timezone,
        "scheduler_running": running,
        "scheduler_holder": holder or None,
        "jobs": [
            {
                "name": i.name,
                "title": i.title_vi,
                "schedule": i.crons,
                "next_run": iso(i.next_run),
                "next_run_stored": i.next_run_stored,
                "config_changed": i.config_changed,
                "overdue": i.overdue,
                "last_run": None if i.last is None else {
                    "id": i.last.id, "trigger": i.last.trigger, "started_at": iso(i.last.started_at),
                    "finished_at": iso(i.last.finished_at), "outcome": i.last.outcome,
                    "counts": i.last.counts, "message": i.last.error,
                },
            }
            for i in infos
        ],
    }
    out(json.dumps(data, ensure_ascii=False, indent=2))


@jobs_app.command(
    "run",
    help="Chạy ngay một công việc (ghi nhận là 'manual'). Run one job now (recorded as 'manual'). "
         "NAME: pull, weekly-report, reminders, review-pack, outbox. --as-of sets the data date "
         "(weekly-report: as of that date; review-pack: the half-year ended by then).\n\n"
         "Example: tracker jobs run weekly-report --as-of 31/12/2023",
)
def jobs_run(
    name: Annotated[str, typer.Argument(help="pull | weekly-report | reminders | review-pack | outbox")],
    as_of: AsOf = None,
) -> None:
    from jobs.runs import summary_line
    from jobs.tasks import TASKS, execute, unknown_job
    from tracker.context import require_initialised

    if name not in TASKS:
        raise unknown_job(name)
    day = parse_as_of(as_of)
    ctx = context()
    require_initialised(ctx)
    run = execute(ctx, name, trigger="manual", as_of=day)
    out(summary_line(run))
    if run.error:
        (err if run.outcome == "error" else out)(run.error)
    if run.outcome == "error":
        sys.exit(1)
