"""The scheduler of one cluster: APScheduler 3.x built from the config, its job store in the project database.

- Time zone of the cluster (``Asia/Ho_Chi_Minh``), cron expressions from ``[schedule]`` read the
  crontab way (``tracker.config.cron_fields``), ``coalesce``, ``max_instances=1`` and the grace time
  of ``[schedule] misfire_grace_time`` on every job.
- The job store is a table of the project database, one per cluster (``apscheduler_jobs_<cluster id>``),
  on the application's engine: a restart keeps the schedule, and two clusters sharing a database
  never run each other's jobs.
- Jobs are rebuilt from the config at every start, with explicit ids and ``replace_existing``.
  Rebuilding would normally recompute each next run time from *now* and so forget a run that fell
  due while the process was down; :func:`sync_jobs` keeps the stored next run time when the job's
  trigger is unchanged, so such a run happens once at start (within the grace time) — or is recorded
  as missed after it.
- One executor thread: jobs run one after another in the order they fell due (Monday's 07:30 pull
  finishes before the 08:00 weekly report reads the figures).
- Listeners record what the jobs could not record themselves: a missed run, a run refused because
  the previous one was still going, an error that escaped the job wrapper.
- Never two schedulers on one database and cluster: the caller holds :func:`jobs.lock.scheduler_lock`.
"""

from __future__ import annotations

import logging
import pickle
import threading
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from apscheduler.events import (
    EVENT_JOB_ERROR,
    EVENT_JOB_EXECUTED,
    EVENT_JOB_MAX_INSTANCES,
    EVENT_JOB_MISSED,
    JobExecutionEvent,
    JobSubmissionEvent,
)
from apscheduler.executors.base import run_job
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.job import Job
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import STATE_STOPPED
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.combining import OrTrigger
from apscheduler.triggers.cron import CronTrigger
from sqlalchemy import inspect, select

from jobs import clock
from jobs.runs import record_run
from jobs.tasks import TASKS, run_scheduled, use_context
from tracker.config import JOB_NAMES, Settings, cron_fields
from tracker.context import Context
from tracker.text import format_datetime

log = logging.getLogger("jobs.scheduler")

# Retries of pending e-mails (the outbox backs off 2, 4, 8 … minutes). Not in [schedule]: it is plumbing.
OUTBOX_CRON = "*/10 * * * *"


def jobstore_table(cluster_id: str) -> str:
    """The job store table of one cluster (the id is kept as is, so distinct ids never collide)."""
    return f"apscheduler_jobs_{cluster_id}"


def schedules(settings: Settings) -> dict[str, list[str]]:
    """Job name → its cron expressions, as written in the config (plus the outbox retries)."""
    out = {name: list(settings.schedule.crons(name)) for name in JOB_NAMES}
    out["outbox"] = [OUTBOX_CRON]
    return out


def build_trigger(crons: list[str], settings: Settings) -> BaseTrigger:
    triggers = [CronTrigger(**cron_fields(expr), timezone=settings.tz) for expr in crons]
    return triggers[0] if len(triggers) == 1 else OrTrigger(triggers)


class ClusterJobStore(SQLAlchemyJobStore):
    """The SQLAlchemy job store on the application's engine, which it must not dispose at shutdown."""

    def shutdown(self) -> None:
        pass


class ClusterScheduler(BackgroundScheduler):
    """BackgroundScheduler that does no job processing once shutting down.

    APScheduler's loop wakes once more after ``shutdown()`` and processes due jobs with its executor
    already closed: the submission fails and the job's next run time moves on, so a run due at that
    moment would be lost. Here it stays in the store and runs at the next start.
    """

    def _process_jobs(self):
        if self.state == STATE_STOPPED:
            return None
        return super()._process_jobs()


def _run_job_due(job, jobstore_alias, run_times, logger_name):
    """APScheduler's ``run_job``, telling the job when it was due (``jobs.clock.scheduled_for``)."""
    with clock.scheduled(run_times[-1]):
        return run_job(job, jobstore_alias, run_times, logger_name)


class DueTimeExecutor(ThreadPoolExecutor):
    """The thread-pool executor, with the due time of each run passed on to the job (same callbacks)."""

    def _do_submit_job(self, job, run_times):
        def callback(f):
            if f.cancelled():
                self._run_job_cancelled(job, run_times)
                return
            exc = f.exception()
            if exc:
                self._run_job_error(job.id, exc, exc.__traceback__)
            else:
                self._run_job_success(job.id, f.result())

        f = self._pool.submit(_run_job_due, job, job._jobstore_alias, run_times, self._logger.name)
        f.add_done_callback(callback)

    def _run_job_cancelled(self, job, run_times) -> None:
        with self._lock:
            self._instances[job.id] -= 1
            if self._instances[job.id] == 0:
                del self._instances[job.id]


class SharedPoolExecutor(DueTimeExecutor):
    """One cluster's executor on a thread pool shared by the clusters of a federation (``jobs.federation``).

    Each cluster keeps its own executor (its own ``max_instances`` count and events, so cluster A's
    ``pull`` never blocks cluster B's), but runs go one after another through the shared pool. The
    pool belongs to the caller: shutting one cluster down leaves it to the others. A run still queued
    when the pool is shut down never started; it is recorded as missed, to be run by hand.
    """

    def __init__(self, pool, ctx: Context):
        from apscheduler.executors.pool import BasePoolExecutor

        BasePoolExecutor.__init__(self, pool)
        self._ctx = ctx

    def shutdown(self, wait: bool = True) -> None:
        pass

    def _run_job_cancelled(self, job, run_times) -> None:
        super()._run_job_cancelled(job, run_times)
        due = run_times[-1]
        tz = self._ctx.settings.tz
        when = format_datetime(due.astimezone(tz))
        log.warning("%s/%s: chưa đến lượt thì bộ lập lịch dừng / never ran, the scheduler stopped first",
                    self._ctx.cluster_id, job.id)
        try:
            record_run(self._ctx, job.id, "schedule", "missed", started_at=due,
                       counts={"scheduled_for": due.isoformat()},
                       message=(f"Bộ lập lịch dừng khi lần chạy lúc {when} còn chờ đến lượt; chạy bằng tay nếu cần: "
                                f"tracker jobs run {job.id} / The scheduler stopped while the run due {when} was "
                                f"still waiting its turn; run it by hand if needed: tracker jobs run {job.id}"))
        except Exception:
            log.exception("could not record the cancelled run of job %s", job.id)


def make_jobstore(ctx: Context) -> ClusterJobStore:
    return ClusterJobStore(engine=ctx.engine, tablename=jobstore_table(ctx.cluster_id))


def build_scheduler(ctx: Context, pool=None) -> ClusterScheduler:
    """A scheduler for ``ctx``'s cluster, not started, with the listeners that record runs.

    ``pool``: a ``concurrent.futures`` pool shared with other clusters' schedulers (else one thread of its own).
    """
    settings = ctx.settings
    executor = DueTimeExecutor(max_workers=1) if pool is None else SharedPoolExecutor(pool, ctx)
    scheduler = ClusterScheduler(
        jobstores={"default": make_jobstore(ctx)},
        executors={"default": executor},
        job_defaults={"coalesce": True, "max_instances": 1,
                      "misfire_grace_time": settings.schedule.misfire_grace_time},
        timezone=settings.tz,
        daemon=True,
    )
    use_context(ctx)
    _add_listeners(scheduler, ctx)
    return scheduler


def _add_listeners(scheduler: ClusterScheduler, ctx: Context) -> None:
    tz = ctx.settings.tz

    def on_event(event) -> None:
        job = str(event.job_id)
        try:
            if event.code == EVENT_JOB_MISSED:
                assert isinstance(event, JobExecutionEvent)
                due = event.scheduled_run_time
                grace = ctx.settings.schedule.misfire_grace_time
                late = clock.now() - due
                message = (f"Lỡ lần chạy lúc {format_datetime(due.astimezone(tz))} (trễ {_hours(late)} giờ, "
                           f"quá thời gian ân hạn {_hours_s(grace)} giờ); chạy lại bằng tay nếu cần: "
                           f"tracker jobs run {job} / Missed the run due {format_datetime(due.astimezone(tz))} "
                           f"({_hours(late)} h late, beyond the {_hours_s(grace)} h grace time); run it by hand "
                           f"if needed: tracker jobs run {job}")
                log.warning("%s: lỡ lịch / missed run due %s", job, due.astimezone(tz).isoformat())
                record_run(ctx, job, "schedule", "missed", message=message, started_at=due,
                           counts={"scheduled_for": due.isoformat()})
            elif event.code == EVENT_JOB_MAX_INSTANCES:
                assert isinstance(event, JobSubmissionEvent)
                due = event.scheduled_run_times[-1]
                message = (f"Lần chạy trước của {job} chưa xong; bỏ qua lần chạy lúc "
                           f"{format_datetime(due.astimezone(tz))} / The previous run of {job} is still going; "
                           f"skipped the run due {format_datetime(due.astimezone(tz))}")
                log.warning("%s: bỏ qua / skipped, still running", job)
                record_run(ctx, job, "schedule", "skipped", message=message, started_at=due,
                           counts={"scheduled_for": due.isoformat()})
            elif event.code == EVENT_JOB_ERROR:
                assert isinstance(event, JobExecutionEvent)
                # The job wrapper records failures of the job itself; this is an error around it
                # (the config could not be loaded, the database was unreachable, ...).
                text = f"{type(event.exception).__name__}: {event.exception}\n{event.traceback or ''}"
                log.error("%s: lỗi ngoài công việc / error outside the job: %s", job, text.splitlines()[0])
                record_run(ctx, job, "schedule", "error", message=text, started_at=event.scheduled_run_time)
            elif event.code == EVENT_JOB_EXECUTED:
                log.debug("%s: executed, %s", job, event.retval)
        except Exception:
            log.exception("could not record the %s event of job %s", event.code, job)

    scheduler.add_listener(on_event, EVENT_JOB_MISSED | EVENT_JOB_MAX_INSTANCES | EVENT_JOB_ERROR | EVENT_JOB_EXECUTED)


def _hours(delta) -> str:
    return f"{delta.total_seconds() / 3600:.1f}".replace(".", ",")


def _hours_s(seconds: int) -> str:
    return f"{seconds / 3600:.1f}".replace(".", ",")


@dataclass
class Synced:
    name: str
    next_run: datetime | None
    kept: bool  # the stored next run time was kept (a run due while the process was down stays due)


def sync_jobs(scheduler: ClusterScheduler, ctx: Context) -> list[Synced]:
    """Make the started (paused) scheduler's store hold exactly the jobs of the config.

    Explicit ids, ``replace_existing=True``; the stored next run time is kept when the trigger did not
    change; jobs no longer in the config are removed.
    """
    settings = ctx.settings
    now = clock.now().astimezone(settings.tz)
    existing = {job.id: job for job in scheduler.get_jobs()}
    config = str(settings.source)
    synced = []
    for name, crons in schedules(settings).items():
        trigger = build_trigger(crons, settings)
        old = existing.pop(name, None)
        kept = (old is not None and old.next_run_time is not None and repr(old.trigger) == repr(trigger)
                and tuple(old.args) == (name, config))
        next_run = old.next_run_time if kept else trigger.get_next_fire_time(None, now)
        scheduler.add_job(run_scheduled, trigger, args=[name, config], id=name, name=name,
                          replace_existing=True, next_run_time=next_run,
                          coalesce=True, max_instances=1,
                          misfire_grace_time=settings.schedule.misfire_grace_time)
        synced.append(Synced(name, next_run, kept))
    for job_id in existing:
        log.info("removing job %s (no longer in the config)", job_id)
        scheduler.remove_job(job_id)
    return synced


def start_scheduler(ctx: Context, pool=None) -> ClusterScheduler:
    """Build, start paused, rebuild the jobs from the config, then let it run. Caller holds the lock."""
    scheduler = build_scheduler(ctx, pool)
    scheduler.start(paused=True)
    try:
        for s in sync_jobs(scheduler, ctx):
            when = format_datetime(s.next_run.astimezone(ctx.settings.tz)) if s.next_run else "—"
            note = " (giữ lịch đã lưu / kept from the store)" if s.kept else ""
            log.info("%s: lần chạy tới / next run %s%s", s.name, when, note)
        scheduler.resume()
    except BaseException:
        scheduler.shutdown(wait=False)
        raise
    return scheduler


def take_scheduler_lock(ctx: Context):
    """The cluster's scheduler lock, held; raises ``LockHeld`` (exit 2, naming the holder) or exit 1 (no database)."""
    from sqlalchemy.exc import OperationalError

    from jobs.lock import scheduler_lock
    from tracker.errors import TrackerError

    lock = scheduler_lock(ctx)
    try:
        got = lock.acquire_within(3.0)
    except OperationalError as exc:  # the database is down: worth retrying later (exit 1), unlike a refusal
        raise TrackerError(f"Không kết nối được cơ sở dữ liệu: {exc.orig}",
                           f"Cannot connect to the database: {exc.orig}", exit_code=1) from None
    if not got:
        raise lock.refusal()
    return lock


def prepare(ctx: Context) -> None:
    """Before a scheduler starts (lock held): the database is initialised; runs cut short are closed."""
    from jobs.runs import close_interrupted_runs
    from tracker.context import require_initialised

    require_initialised(ctx)
    for run in close_interrupted_runs(ctx):
        log.warning("%s: lần chạy #%s bị ngắt khi tiến trình dừng / run #%s was cut short when its process "
                    "ended", run.job, run.id, run.id)


def serve(ctx: Context, stop: threading.Event, *, lock_check_seconds: float = 30.0) -> int:
    """Run the scheduler in this process until ``stop`` is set; returns the exit code.

    Holds the scheduler lock for its whole life; gives up (exit code 1) if it loses the lock.
    """
    from tracker.context import require_initialised

    require_initialised(ctx)  # before the lock, whose SQLite file would otherwise land in a folder never set up
    lock = take_scheduler_lock(ctx)
    code = 0
    try:
        prepare(ctx)
        scheduler = start_scheduler(ctx)
        log.info("Bộ lập lịch cụm %s đang chạy (múi giờ %s); Ctrl-C để dừng / scheduler of %s running (time zone %s)",
                 ctx.cluster_id, ctx.settings.cluster.timezone, ctx.cluster_id, ctx.settings.cluster.timezone)
        try:
            while not stop.wait(lock_check_seconds):
                if not lock.alive():
                    log.error("Mất khoá bộ lập lịch; dừng để không chạy trùng / lost the scheduler lock; stopping")
                    code = 1
                    break
        finally:
            log.info("Đang dừng, chờ công việc đang chạy xong / stopping, waiting for a running job to finish")
            scheduler.shutdown(wait=True)
            log.info("Đã dừng / stopped")
    finally:
        lock.release()
    return code


# --- reading the store without a scheduler -----------------------------------------------------------
def stored_jobs(ctx: Context) -> dict[str, Job]:
    """The jobs in the cluster's store, read without starting a scheduler (which would run due jobs).

    Returns {} when the scheduler never ran. Jobs that cannot be restored are left alone (APScheduler's
    own reader would delete them).
    """
    store = make_jobstore(ctx)
    if not inspect(ctx.engine).has_table(store.jobs_t.name):
        return {}
    store._scheduler = None  # what BaseJobStore.start sets; restored jobs point to no scheduler
    store._alias = "default"
    store._logger = log
    jobs: dict[str, Job] = {}
    with ctx.engine.connect() as conn:
        rows = conn.execute(select(store.jobs_t.c.id, store.jobs_t.c.job_state)).all()
    for job_id, state in rows:
        try:
            jobs[job_id] = store._reconstitute_job(state)
        except (pickle.UnpicklingError, ImportError, AttributeError, LookupError, TypeError, ValueError):
            log.warning("job %s in the store cannot be read", job_id, exc_info=True)
    return jobs


@dataclass
class JobInfo:
    name: str
    title_vi: str
    title_en: str
    crons: list[str]
    next_run: datetime | None  # local time
    next_run_stored: bool  # from the job store (False: computed from the config, scheduler not started)
    config_changed: bool  # the store holds another schedule: restart the scheduler to apply the config
    overdue: bool  # stored next run already past: the scheduler is not running (or busy)
    last: Any  # JobRun | None


def describe_jobs(ctx: Context) -> list[JobInfo]:
    """Each job: schedule, next run (local), last run — for ``tracker jobs list``."""
    from jobs.runs import last_runs

    settings = ctx.settings
    tz = settings.tz
    stored = stored_jobs(ctx)
    last = last_runs(ctx)
    now = clock.now().astimezone(tz)
    infos = []
    for name, crons in schedules(settings).items():
        trigger = build_trigger(crons, settings)
        job = stored.get(name)
        if job is not None:
            next_run = job.next_run_time.astimezone(tz) if job.next_run_time else None
            changed = (repr(job.trigger) != repr(trigger)
                       or job.misfire_grace_time != settings.schedule.misfire_grace_time)
        else:
            next_run = trigger.get_next_fire_time(None, now)
            changed = False
        task = TASKS[name]
        overdue = job is not None and next_run is not None and next_run < now
        infos.append(JobInfo(name, task.title_vi, task.title_en, crons, next_run, job is not None, changed,
                             overdue, last.get(name)))
    return infos
