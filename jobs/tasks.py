"""The jobs themselves: thin module-level functions that each call one workflow and record every run.

Three ways in, one implementation (:func:`execute`):

- the scheduler calls :func:`run_scheduled` with plain arguments (the job name and the config path),
  because APScheduler pickles a job's function reference and arguments into its job store;
- ``tracker jobs run NAME [--as-of DATE]`` calls :func:`execute` with ``trigger="manual"``;
- ``make demo`` runs :func:`run_cycle` (pull → weekly-report → reminders → review-pack): `tracker demo`
  hands it to the demo workflow, which never imports the jobs.

Every run is recorded in ``JobRun`` (see :mod:`jobs.runs`), holds a per-job lock so the same job never
runs twice at once across processes, and never raises for a failure of the job body: the failure is
recorded as ``error`` and the next job still runs. The bodies are idempotent because what they call
is: ``pull`` recognises files already received by their content, and the outbox mails each
(kind, cluster, period, recipient) once.
"""

from __future__ import annotations

import dataclasses
import logging
import time
import traceback
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from jobs import clock
from jobs.lock import job_lock
from jobs.periods import Plan, plan_reminders, plan_review, plan_weekly
from jobs.runs import finish_run, record_run, start_run
from tracker.config import ConfigError
from tracker.context import Context, open_context
from tracker.errors import TrackerError
from tracker.mail.delivery import deliver_pending
from tracker.models import JobOutcome, JobRun
from tracker.standing import years_with_data
from tracker.text import format_date
from tracker.workflows.pull import pull
from tracker.workflows.sending import send_reminders, send_review, send_weekly

log = logging.getLogger("jobs")

Counts = dict[str, Any]


@dataclass(frozen=True)
class Task:
    name: str
    title_vi: str
    title_en: str
    plan: Callable[[Context, date, date | None], Plan]
    body: Callable[[Context, Plan], Any]  # its report; execute() keeps the plain numbers (as_counts)
    quiet: bool = False  # runs where nothing was due (JobIdle) are not recorded


def as_counts(result: Any) -> Counts:
    """The plain numbers (and short texts) of a library function's report, for ``JobRun.counts``."""
    if result is None:
        return {}
    if hasattr(result, "counts") and not callable(result.counts):
        result = result.counts
    elif hasattr(result, "counts") and callable(result.counts):
        result = result.counts()
    if dataclasses.is_dataclass(result) and not isinstance(result, type):
        result = {f.name: getattr(result, f.name) for f in dataclasses.fields(result)}
    if not isinstance(result, Mapping):
        return {"result": str(result)[:200]}
    counts: Counts = {}
    for key, value in result.items():
        if isinstance(value, bool | int | float) or value is None:
            counts[str(key)] = value
        elif isinstance(value, str):
            counts[str(key)] = value[:200]
        elif isinstance(value, list | tuple | set | frozenset | dict):
            counts[str(key)] = len(value)
        elif isinstance(value, date):
            counts[str(key)] = value.isoformat()
    return counts


# --- plans -------------------------------------------------------------------------------------
def _always(ctx: Context, run_date: date, as_of: date | None) -> Plan:
    return Plan()  # pull and outbox work on what is there now; no data date


def _years(ctx: Context) -> frozenset[int]:
    """The years with targets or figures: a job whose period lies in none of them is skipped."""
    with ctx.session() as session:
        return years_with_data(session, ctx.cluster_id)


def _plan_weekly(ctx: Context, run_date: date, as_of: date | None) -> Plan:
    return plan_weekly(_years(ctx), run_date=run_date, as_of=as_of)


def _plan_reminders(ctx: Context, run_date: date, as_of: date | None) -> Plan:
    return plan_reminders(_years(ctx), run_date=run_date, as_of=as_of)


def _plan_review(ctx: Context, run_date: date, as_of: date | None) -> Plan:
    return plan_review(_years(ctx), run_date=run_date, as_of=as_of)


# --- bodies ------------------------------------------------------------------------------------
class JobFailed(Exception):
    """The library call returned, but did not do its work (a source unreachable, mail not delivered)."""

    def __init__(self, vi: str, en: str, counts: Counts | None = None):
        self.vi, self.en, self.counts = vi, en, counts or {}
        super().__init__(f"{vi} / {en}")


class JobSkipped(Exception):
    """The library call decided there was nothing to do, for a reason worth recording."""

    def __init__(self, reason: str, counts: Counts | None = None):
        self.reason, self.counts = reason, counts or {}
        super().__init__(reason)


class JobIdle(Exception):
    """Nothing was due (a quiet job's tick): not recorded, so the table holds runs that did something."""


def pull_body(ctx: Context, plan: Plan) -> Any:
    report = pull(ctx)
    counts = {"files": len(report.items), "accepted": report.accepted, "duplicate": report.duplicate,
              "rejected": report.rejected, "failed": report.failed, "deferred": report.deferred,
              "source_errors": len(report.source_errors)}
    # A rejected sheet is the district's to fix (it gets the verdict); a file or source that could not
    # be handled at all is the job's failure, and must not look like success. A file still being
    # written is neither: the next run takes it.
    problems_vi, problems_en = [], []
    for item in report.items:
        if item.result is None and not item.deferred:
            problems_vi.append(f"tệp {item.name} ({item.source}) không xử lý được: {item.error}")
            problems_en.append(f"file {item.name} ({item.source}) could not be handled: {item.error}")
    for source, message in report.source_errors:
        problems_vi.append(f"nguồn {source} lỗi: {message}")
        problems_en.append(f"source {source} failed: {message}")
    if problems_vi:
        raise JobFailed("; ".join(problems_vi), "; ".join(problems_en), counts)
    return counts


_STATE_TEXT = {
    "pending": ("chưa gửi được, sẽ tự thử lại", "not delivered yet, retried automatically"),
    "already-pending": ("chưa gửi được, sẽ tự thử lại", "not delivered yet, retried automatically"),
    "failed": ("gửi thất bại", "delivery failed"),
    "already-failed": ("gửi thất bại", "delivery failed"),
    "no-recipients": ("không có địa chỉ nhận", "no recipient address"),
}


def _mail_result(report: Any) -> Counts:
    """A send report as counts, or JobSkipped / JobFailed when it did not mail what it should."""
    counts = as_counts(report)
    if getattr(report, "skipped_reason", None):
        raise JobSkipped(str(report.skipped_reason), counts)
    if not report.ok:
        vi, en = [], []
        for m in report.messages:
            if m.state in _STATE_TEXT:
                state_vi, state_en = _STATE_TEXT[m.state]
                why = f" ({m.error})" if m.error else ""
                vi.append(f"{m.recipient_key}: {state_vi}{why}")
                en.append(f"{m.recipient_key}: {state_en}{why}")
        raise JobFailed("Thư chưa đến nơi — " + "; ".join(vi), "Mail not delivered — " + "; ".join(en), counts)
    return counts


def weekly_body(ctx: Context, plan: Plan) -> Any:
    return _mail_result(send_weekly(ctx, plan.as_of, now=clock.now()))


def reminders_body(ctx: Context, plan: Plan) -> Any:
    return _mail_result(send_reminders(ctx, plan.as_of, now=clock.now()))


def review_body(ctx: Context, plan: Plan) -> Any:
    return _mail_result(send_review(ctx, plan.period, now=clock.now()))


def outbox_body(ctx: Context, plan: Plan) -> Any:
    report = deliver_pending(ctx, now=clock.now())
    counts = as_counts(report)
    if not report.attempted:
        raise JobIdle
    if not report.ok:
        raise JobFailed(f"{report.pending} thư sẽ thử lại sau, {report.failed} thư gửi thất bại",
                        f"{report.pending} message(s) to retry later, {report.failed} failed for good", counts)
    return counts


def backup_body(ctx: Context, plan: Plan) -> Any:
    from tracker.backup.take import take_backup

    return take_backup(ctx, now=clock.now()).counts


TASKS: dict[str, Task] = {
    t.name: t
    for t in (
        Task("pull", "Nhận báo cáo mới (thư mục, hộp thư)", "Pull new sheets (inbox folder, mailbox)",
             _always, pull_body),
        Task("weekly-report", "Báo cáo tiến độ tuần cho Cụm trưởng", "Weekly progress report to the cluster head",
             _plan_weekly, weekly_body),
        Task("reminders", "Nhắc đơn vị chưa nộp báo cáo tuần", "Remind districts that have not reported",
             _plan_reminders, reminders_body),
        Task("review-pack", "Bộ tài liệu sơ kết / tổng kết", "Six-month / year-end review pack",
             _plan_review, review_body),
        Task("backup", "Sao lưu dữ liệu của cụm", "Back up the cluster's data", _always, backup_body),
        Task("outbox", "Gửi lại thư đang chờ", "Retry pending e-mails", _always, outbox_body, quiet=True),
    )
}
CYCLE = ("pull", "weekly-report", "reminders", "review-pack")


def unknown_job(name: str) -> TrackerError:
    return TrackerError(f"Không có công việc {name!r}. Các công việc: {', '.join(TASKS)}.",
                        f"No job named {name!r}. Jobs: {', '.join(TASKS)}.")


def _describe(plan: Plan) -> str:
    parts = []
    if plan.period:
        parts.append(f"kỳ / period {plan.period}")
    if plan.as_of:
        parts.append(f"số liệu đến / as of {format_date(plan.as_of)}")
    return ", ".join(parts)


def execute(ctx: Context, name: str, *, trigger: str = "manual", as_of: date | None = None,
            run_date: date | None = None) -> JobRun:
    """Run job ``name`` once and record it; returns the finished ``JobRun``. Never raises for a job failure.

    ``run_date`` (default: the day a scheduled run was due, else today in the cluster's time zone) is the
    day the run counts as happening on;
    ``as_of`` overrides the data date the job would derive from it (see :mod:`jobs.periods`).
    """
    task = TASKS.get(name)
    if task is None:
        raise unknown_job(name)
    run_date = run_date or clock.run_date(ctx.settings.tz)
    plan = task.plan(ctx, run_date, as_of)
    planned = {"as_of": plan.as_of.isoformat() if plan.as_of else None, "period": plan.period}
    planned = {k: v for k, v in planned.items() if v is not None}

    lock = job_lock(ctx, name)
    if not lock.acquire():
        refusal = lock.refusal()
        log.warning("%s: bỏ qua / skipped: %s", name, refusal.en)
        return record_run(ctx, name, trigger, JobOutcome.skipped, message=f"{refusal.vi} / {refusal.en}",
                          counts=planned)
    try:
        if plan.skipped:
            log.info("%s: bỏ qua / skipped — %s", name, plan.reason)
            return record_run(ctx, name, trigger, JobOutcome.skipped, message=plan.reason, counts=planned)
        if task.quiet:
            return _run_quiet(ctx, task, plan, trigger, planned)
        run_id = start_run(ctx, name, trigger, planned)
        log.info("%s: bắt đầu / started (%s)", name, "; ".join(filter(None, (trigger, _describe(plan)))))
        try:
            outcome, counts, message = _run_body(task, ctx, plan)
        except BaseException as exc:  # Ctrl-C, SystemExit: record the run as cut short, then stop
            finish_run(ctx, run_id, JobOutcome.error, message=f"Bị dừng giữa chừng / interrupted: {_error_text(exc)}")
            raise
        run = finish_run(ctx, run_id, outcome, counts, message=message)
        _log_end(name, outcome, counts, message)
        return run
    finally:
        lock.release()


def _run_body(task: Task, ctx: Context, plan: Plan) -> tuple[JobOutcome, Counts, str | None]:
    """(outcome, counts, message) of one call of the body; re-raises only what must stop the process."""
    started = time.monotonic()

    def timed(counts: Counts) -> Counts:
        return {**counts, "seconds": round(time.monotonic() - started, 3)}

    try:
        counts = as_counts(task.body(ctx, plan))
    except JobFailed as exc:
        return JobOutcome.error, timed(exc.counts), str(exc)
    except JobSkipped as exc:
        return JobOutcome.skipped, timed(exc.counts), exc.reason
    except JobIdle:
        raise
    except Exception as exc:
        return JobOutcome.error, timed({}), _error_text(exc)
    return JobOutcome.ok, timed(counts), None


def _run_quiet(ctx: Context, task: Task, plan: Plan, trigger: str, planned: Counts) -> JobRun:
    started_at = clock.now()
    try:
        outcome, counts, message = _run_body(task, ctx, plan)
    except JobIdle:
        log.debug("%s: nothing due", task.name)
        return JobRun(cluster_id=ctx.cluster_id, job=task.name, trigger=trigger, started_at=started_at,
                      finished_at=clock.now(), outcome=JobOutcome.ok, counts={**planned, "idle": True})
    _log_end(task.name, outcome, counts, message)
    return record_run(ctx, task.name, trigger, outcome, message=message, counts={**planned, **counts},
                      started_at=started_at)


def _log_end(name: str, outcome: JobOutcome, counts: Counts, message: str | None) -> None:
    seconds = counts.get("seconds", 0.0)
    if outcome == JobOutcome.ok:
        log.info("%s: xong / ok in %.1f s %s", name, seconds, _short(counts))
    elif outcome == JobOutcome.skipped:
        log.info("%s: bỏ qua / skipped — %s", name, message)
    else:
        log.error("%s: lỗi / error after %.1f s — %s", name, seconds, (message or "").splitlines()[0])


def _error_text(exc: BaseException) -> str:
    if isinstance(exc, TrackerError | ConfigError):  # a message for people, already in both languages
        return str(exc).replace("\n", " / ")
    frames = "".join(traceback.format_list(traceback.extract_tb(exc.__traceback__)[-3:]))
    return f"{type(exc).__name__}: {exc}\n{frames}"


def _short(counts: Counts) -> str:
    shown = {k: v for k, v in counts.items() if isinstance(v, int | float) and not isinstance(v, bool)}
    return "(" + ", ".join(f"{k}={v}" for k, v in shown.items()) + ")" if shown else ""


def run_cycle(ctx: Context, as_of: date, *, trigger: str = "demo") -> list[JobRun]:
    """pull → weekly-report → reminders → review-pack as of ``as_of``, through the scheduler's own jobs.

    Each job runs even when an earlier one failed; the returned runs say how each went. With
    ``as_of`` = 30/06/2023: the weekly report as of 30/06/2023, reminders for that week, the 2023-H1
    review pack.
    """
    return [execute(ctx, name, trigger=trigger, as_of=None if name == "pull" else as_of, run_date=as_of)
            for name in CYCLE]


# --- the scheduler's entry point -----------------------------------------------------------------
_contexts: dict[str, Context] = {}


def use_context(ctx: Context) -> None:
    """Let scheduled runs of this process use ``ctx`` (the scheduler's settings and engine)."""
    _contexts[str(ctx.settings.source)] = ctx


def context_for(config: str) -> Context:
    ctx = _contexts.get(config)
    if ctx is None:
        ctx = _contexts[config] = open_context(Path(config))
    return ctx


def run_scheduled(name: str, config: str) -> dict[str, Any]:
    """What APScheduler calls: plain, picklable arguments; returns a summary of the recorded run."""
    run = execute(context_for(config), name, trigger="schedule")
    return {"job": name, "run_id": run.id, "outcome": run.outcome}
