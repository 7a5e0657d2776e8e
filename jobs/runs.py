"""The record of every run in the ``JobRun`` table: start, end, outcome, counts, message.

Outcomes: ``running`` (started, not finished yet, or the process died mid-run), ``ok``, ``error``,
``skipped`` (the job decided not to act, or another run of it was still going) and ``missed`` (the
scheduler came back after the grace time). ``JobRun.error`` holds the message for every outcome that
is not ``ok``: the error text, or the reason for skipping or missing, Vietnamese then English.
Each write is its own short transaction, so a run is visible as ``running`` while it works.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func
from sqlmodel import select

from jobs import clock
from tracker.context import Context
from tracker.models import JobRun

OUTCOMES = ("running", "ok", "error", "skipped", "missed")
_MAX_ERROR = 4000  # keep a traceback's tail readable without letting one run bloat the table


def _clip(text: str | None) -> str | None:
    if text is None or len(text) <= _MAX_ERROR:
        return text
    return "…" + text[-_MAX_ERROR:]


def start_run(ctx: Context, job: str, trigger: str, counts: dict[str, Any] | None = None) -> int:
    """Insert a ``running`` row; returns its id."""
    with ctx.session(write=True) as session:
        run = JobRun(cluster_id=ctx.cluster_id, job=job, trigger=trigger, started_at=clock.now(),
                     outcome="running", counts=dict(counts or {}))
        session.add(run)
        session.flush()
        return int(run.id)


def finish_run(ctx: Context, run_id: int, outcome: str, counts: dict[str, Any] | None = None,
               message: str | None = None) -> JobRun:
    """Close a run with its outcome; ``counts`` are merged into what the start recorded."""
    assert outcome in OUTCOMES, outcome
    with ctx.session(write=True) as session:
        run = session.get(JobRun, run_id)
        run.finished_at = clock.now()
        run.outcome = outcome
        run.counts = {**(run.counts or {}), **(counts or {})}
        run.error = _clip(message)
        session.add(run)
        session.flush()
        return run


def record_run(ctx: Context, job: str, trigger: str, outcome: str, *, message: str | None = None,
               counts: dict[str, Any] | None = None, started_at: datetime | None = None) -> JobRun:
    """A run known only from its end (a missed run, an error before the job could record itself)."""
    assert outcome in OUTCOMES, outcome
    at = clock.now()
    with ctx.session(write=True) as session:
        run = JobRun(cluster_id=ctx.cluster_id, job=job, trigger=trigger, started_at=started_at or at,
                     finished_at=at, outcome=outcome, counts=dict(counts or {}), error=_clip(message))
        session.add(run)
        session.flush()
        return run


OUTCOME_VI = {"ok": "thành công", "error": "lỗi", "skipped": "bỏ qua", "missed": "lỡ lịch", "running": "đang chạy"}


def outcome_text(outcome: str | None) -> str:
    """``thành công / ok``; ``None`` (no run yet) → ``chưa chạy / never run``."""
    if outcome is None:
        return "chưa chạy / never run"
    return f"{OUTCOME_VI.get(outcome, outcome)} / {outcome}"


_ALWAYS_SHOWN = {"files", "accepted", "messages", "sent"}  # a zero here is news; other zeros are noise


def summary_line(run: JobRun) -> str:
    """One line for people: ``weekly-report: thành công / ok (period=2023-W26, sent=1, ...)``."""
    shown = {k: v for k, v in (run.counts or {}).items()
             if k != "seconds" and (v not in (0, None, False) or k in _ALWAYS_SHOWN)}
    counts = ", ".join(f"{k}={v}" for k, v in shown.items())
    return f"{run.job}: {outcome_text(run.outcome)}" + (f" ({counts})" if counts else "")


def runs_of(ctx: Context, job: str | None = None, limit: int = 100) -> list[JobRun]:
    """The latest runs of this cluster (newest first), optionally of one job."""
    with ctx.session() as session:
        query = select(JobRun).where(JobRun.cluster_id == ctx.cluster_id)
        if job is not None:
            query = query.where(JobRun.job == job)
        return list(session.exec(query.order_by(JobRun.started_at.desc(), JobRun.id.desc()).limit(limit)))


def last_runs(ctx: Context) -> dict[str, JobRun]:
    """The latest run of each job of this cluster."""
    with ctx.session() as session:
        latest = (select(JobRun.job, func.max(JobRun.id).label("id"))
                  .where(JobRun.cluster_id == ctx.cluster_id).group_by(JobRun.job).subquery())
        rows = session.exec(select(JobRun).join(latest, JobRun.id == latest.c.id))
        return {run.job: run for run in rows}


def close_interrupted_runs(ctx: Context) -> list[JobRun]:
    """Close ``running`` rows left by a process that died mid-run (no one holds that job's lock now)."""
    from jobs.lock import job_lock

    with ctx.session() as session:
        stale = list(session.exec(select(JobRun).where(JobRun.cluster_id == ctx.cluster_id,
                                                       JobRun.outcome == "running")))
    closed = []
    for run in stale:
        if job_lock(ctx, run.job).is_free():
            closed.append(finish_run(ctx, run.id, "error", message=(
                "Tiến trình đã dừng giữa lần chạy này (tắt máy, bị dừng hẳn); kết quả không rõ, chạy lại nếu cần. / "
                "The process ended during this run (shutdown, killed); its result is unknown, run it again if needed."
            )))
    return closed
