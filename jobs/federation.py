"""Several clusters' schedulers in one process (``tracker scheduler run --configs PATH...``).

At national scale (about 100 clusters in one PostgreSQL database) one scheduler process per cluster
costs 60–70 MB each, and every weekly report starts at Monday 08:00 at once. Here one process serves
them all:

- each cluster keeps everything it has alone: its config, its own APScheduler instance and job store
  table (``apscheduler_jobs_<cluster id>``), its scheduler lock, its ``JobRun`` rows — exactly the
  code of a single cluster (:mod:`jobs.scheduler`), so ``tracker jobs list --config`` works unchanged;
- the runs go through ONE worker thread shared by all clusters: they queue in the order they fell due
  and run one at a time, so memory stays that of one job;
- the process holds every cluster's lock, or refuses to start (naming the cluster already served);
- all clusters share one database URL (one engine); other setups are refused (exit 2).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from jobs.scheduler import prepare, start_scheduler, take_scheduler_lock
from tracker.context import Context, open_context
from tracker.errors import TrackerError
from tracker.overview import load_federation

log = logging.getLogger("jobs.scheduler")


def load_clusters(paths: Iterable[Path], env: dict[str, str] | None = None) -> list[Context]:
    """A context for each cluster config (files, or folders of ``*.toml``), all on one database engine.

    Same discovery and checks as ``tracker overview`` (:func:`tracker.overview.load_federation`); raises
    ``TrackerError`` (exit 2) when the configs name different databases.
    """
    settings, warnings = load_federation(paths, env=env)
    for warning in warnings:
        log.warning("%s", warning)
    urls: dict[str, list[str]] = {}
    for s in settings:
        urls.setdefault(s.database.url, []).append(s.cluster.id)
    if len(urls) > 1:
        listing = "; ".join(f"{', '.join(ids)}: {_safe(url)}" for url, ids in urls.items())
        raise TrackerError(
            f"Các cụm không dùng chung một cơ sở dữ liệu ({listing}); một bộ lập lịch chỉ phục vụ các cụm "
            f"cùng một cơ sở dữ liệu — chạy riêng cho từng cơ sở dữ liệu.",
            f"The clusters do not share one database ({listing}); one scheduler serves only clusters of one "
            f"database — run one per database.", exit_code=2)
    return [open_context(settings=s) for s in settings]


def _safe(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def serve_federation(ctxs: list[Context], stop: threading.Event, *, lock_check_seconds: float = 30.0) -> int:
    """Serve every cluster of ``ctxs`` until ``stop`` is set; returns the exit code (1: a lock was lost)."""
    locks = []
    code = 0
    try:
        for ctx in ctxs:  # all or nothing: refuse before any scheduler starts
            locks.append(take_scheduler_lock(ctx))
        for ctx in ctxs:
            prepare(ctx)
        pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="tracker-job")
        schedulers = []
        try:
            for ctx in ctxs:
                schedulers.append(start_scheduler(ctx, pool))
            ids = ", ".join(ctx.cluster_id for ctx in ctxs)
            log.info("Bộ lập lịch %d cụm (%s) đang chạy, mỗi lần một công việc; Ctrl-C để dừng / scheduler of "
                     "%d clusters (%s) running, one job at a time", len(ctxs), ids, len(ctxs), ids)
            while not stop.wait(lock_check_seconds):
                lost = [ctx.cluster_id for ctx, lock in zip(ctxs, locks, strict=True) if not lock.alive()]
                if lost:
                    log.error("Mất khoá bộ lập lịch của cụm %s; dừng để không chạy trùng / lost the scheduler "
                              "lock of %s; stopping", ", ".join(lost), ", ".join(lost))
                    code = 1
                    break
        finally:
            log.info("Đang dừng, chờ công việc đang chạy xong / stopping, waiting for a running job to finish")
            for scheduler in schedulers:
                scheduler.shutdown(wait=False)
            pool.shutdown(wait=True, cancel_futures=True)  # queued runs are recorded as missed
            log.info("Đã dừng / stopped")
    finally:
        for lock in locks:
            lock.release()
    return code
