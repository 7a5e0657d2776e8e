"""Locks between processes: one scheduler per cluster and database, one run of a job at a time.

The lock must vanish with its holder, whatever way the process ends (kill -9 included):

- SQLite: ``fcntl.flock`` on a file next to the database file (``tracker.db-cum-1.scheduler.lock``,
  named like SQLite's own ``tracker.db-wal``).
  The kernel drops the lock when the process's file descriptor closes. The holder writes its pid,
  host and start time into the file, so the refusal can say who holds it.
- PostgreSQL: a session-level advisory lock (``pg_try_advisory_lock``) with a 64-bit key derived from
  the cluster id and the lock's name. All of a process's locks on one database share one connection
  (:class:`_PgLockSession`): a federation scheduler holds one lock per cluster, and a connection each
  would use up PostgreSQL's ``max_connections`` (100 by default) at national scale. The server drops
  the locks when that session ends; the connection's ``application_name`` says who holds them.

A ``:memory:`` SQLite database cannot be shared between processes, so its locks are process-local.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import socket
import threading
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.pool import NullPool

from tracker.context import Context
from tracker.errors import TrackerError
from tracker.text import format_datetime

log = logging.getLogger("jobs.lock")


class LockHeld(TrackerError):
    """Someone else holds the lock; ``holder`` describes them when known."""

    def __init__(self, vi: str, en: str, holder: str = ""):
        self.holder = holder
        super().__init__(vi, en, exit_code=2)


def lock_key(cluster_id: str, name: str) -> int:
    """A signed 64-bit advisory-lock key for (cluster, name), stable across processes and versions."""
    digest = hashlib.sha256(f"cluster-tracker:{cluster_id}:{name}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def _holder_label(name: str) -> dict[str, object]:
    return {"name": name, "pid": os.getpid(), "host": socket.gethostname(),
            "since": datetime.now(UTC).isoformat(timespec="seconds")}


_memory_locks: dict[str, threading.Lock] = {}
_memory_guard = threading.Lock()


class _PgLockSession:
    """The one connection through which this process holds its advisory locks on one database.

    Advisory locks are re-entrant within a session, so exclusivity between lock objects of this
    process is kept by the set of keys held here. A connection that breaks loses every lock on it
    (the server ends the session): the keys are forgotten, so ``alive()`` tells each holder.
    """

    def __init__(self, url: str):
        self.url = url
        self.guard = threading.Lock()
        self.keys: set[int] = set()
        self.conn: Connection | None = None
        self.engine = None

    def try_lock(self, key: int) -> bool:
        with self.guard:
            if key in self.keys:
                return False
            try:
                if self.conn is None:
                    label = _holder_label("locks")
                    app_name = f"tracker locks pid={label['pid']} host={label['host']}"[:63]
                    self.engine = create_engine(self.url, poolclass=NullPool,
                                                connect_args={"application_name": app_name})
                    self.conn = self.engine.connect()
                got = bool(self.conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": key}).scalar())
                self.conn.commit()  # end the implicit transaction; the session-level lock stays
            except BaseException:
                self._drop()
                raise
            if got:
                self.keys.add(key)
            elif not self.keys:
                self._drop()
            return got

    def unlock(self, key: int) -> None:
        with self.guard:
            if key not in self.keys:
                return
            self.keys.discard(key)
            try:
                self.conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": key})
                self.conn.commit()
            except Exception:  # the session is gone, and the locks with it
                log.debug("advisory unlock failed", exc_info=True)
                self._drop()
                return
            if not self.keys:
                self._drop()

    def holds(self, key: int) -> bool:
        with self.guard:
            if key not in self.keys or self.conn is None:
                return False
            try:
                held = self.conn.execute(
                    text("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted "
                         "AND pid = pg_backend_pid() AND ((classid::bigint << 32) | objid::bigint) = :k"),
                    {"k": key},
                ).scalar()
                self.conn.commit()
            except Exception:
                log.warning("the connection holding the advisory locks is lost", exc_info=True)
                self._drop()
                return False
            return bool(held)

    def _drop(self) -> None:
        """Close the connection; whatever was locked on it is released by the server."""
        self.keys.clear()
        if self.conn is not None:
            try:
                self.conn.close()
            except Exception:
                log.debug("closing the lock connection failed", exc_info=True)
        if self.engine is not None:
            self.engine.dispose()
        self.conn = self.engine = None


_pg_sessions: dict[str, _PgLockSession] = {}


def _pg_session(url: str) -> _PgLockSession:
    with _memory_guard:
        return _pg_sessions.setdefault(url, _PgLockSession(url))


class ProcessLock:
    """A non-blocking, process-lifetime lock named ``name`` for the cluster of ``ctx``.

    ``acquire()`` returns False when held elsewhere; ``holder()`` then describes the holder.
    Use as a context manager to raise :class:`LockHeld` instead.
    """

    def __init__(self, ctx: Context, name: str):
        self.cluster_id, self.name = ctx.cluster_id, name
        self.tz = ctx.settings.tz
        self.url = ctx.settings.database.url
        parsed = make_url(self.url)
        self.backend = parsed.get_backend_name()
        self.key = lock_key(self.cluster_id, name)
        self._fd: int | None = None
        self._pg: _PgLockSession | None = None
        self._memory: threading.Lock | None = None
        self.path: Path | None = None
        if self.backend == "sqlite":
            db = parsed.database
            if db and db != ":memory:":
                self.path = Path(db).with_name(f"{Path(db).name}-{self.cluster_id}.{name}.lock")
        elif self.backend != "postgresql":
            raise TrackerError(f"Không hỗ trợ khoá tiến trình trên cơ sở dữ liệu {self.backend}.",
                               f"Process locks are not supported on {self.backend} databases.")

    @property
    def held(self) -> bool:
        return self._fd is not None or self._pg is not None or self._memory is not None

    # acquiring ------------------------------------------------------------------------------
    def acquire(self) -> bool:
        if self.held:
            raise RuntimeError(f"lock {self.name} already held by this object")
        if self.backend == "postgresql":
            return self._acquire_pg()
        if self.path is None:
            return self._acquire_memory()
        return self._acquire_file()

    def _acquire_file(self) -> bool:
        import fcntl

        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        except BaseException:
            os.close(fd)
            raise
        os.ftruncate(fd, 0)
        os.write(fd, json.dumps(_holder_label(self.name)).encode())
        self._fd = fd
        return True

    def _acquire_pg(self) -> bool:
        session = _pg_session(self.url)
        if not session.try_lock(self.key):
            return False
        self._pg = session
        return True

    def _acquire_memory(self) -> bool:
        with _memory_guard:
            lock = _memory_locks.setdefault(f"{self.cluster_id}:{self.name}", threading.Lock())
        if not lock.acquire(blocking=False):
            return False
        self._memory = lock
        return True

    # releasing ------------------------------------------------------------------------------
    def release(self) -> None:
        if self._fd is not None:
            import fcntl

            fd, self._fd = self._fd, None
            try:
                os.ftruncate(fd, 0)
                fcntl.flock(fd, fcntl.LOCK_UN)
            finally:
                os.close(fd)
        if self._pg is not None:
            session, self._pg = self._pg, None
            session.unlock(self.key)
        if self._memory is not None:
            lock, self._memory = self._memory, None
            lock.release()

    def alive(self) -> bool:
        """Whether this process still holds the lock (a PostgreSQL session can be cut under us)."""
        if self._pg is not None:
            return self._pg.holds(self.key)
        return self.held

    # who holds it -----------------------------------------------------------------------------
    def holder(self) -> str:
        """A short description of whoever holds the lock now ("" when unknown or free)."""
        try:
            if self.backend == "postgresql":
                return self._holder_pg()
            if self.path is not None and self.path.exists():
                info = json.loads(self.path.read_text(encoding="utf-8") or "{}")
                if info:
                    return f"pid {info.get('pid')} @ {info.get('host')}, từ / since {self._local(info.get('since'))}"
        except Exception:
            log.debug("cannot describe the lock holder", exc_info=True)
        return ""

    def _holder_pg(self) -> str:
        engine = create_engine(self.url, poolclass=NullPool)
        try:
            with engine.connect() as conn:
                row = conn.execute(
                    # Advisory locks belong to one database: a lock of the same key in another database of
                    # the server (another federation, another test run) is not this one.
                    text("SELECT a.application_name, a.client_addr, a.backend_start FROM pg_locks l "
                         "JOIN pg_stat_activity a ON a.pid = l.pid WHERE l.locktype = 'advisory' AND l.granted "
                         "AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database()) "
                         "AND ((l.classid::bigint << 32) | l.objid::bigint) = :k"),
                    {"k": self.key},
                ).first()
        finally:
            engine.dispose()
        if row is None:
            return ""
        since = self._local(row.backend_start.isoformat()) if row.backend_start else "?"
        return f"{row.application_name or '?'} ({row.client_addr or 'local'}), từ / since {since}"

    def _local(self, iso: str | None) -> str:
        try:
            return format_datetime(datetime.fromisoformat(str(iso)).astimezone(self.tz))
        except ValueError:
            return str(iso)

    def is_free(self) -> bool:
        """Whether nobody holds the lock right now.

        PostgreSQL is asked without taking the lock; a file lock is taken and dropped at once (for
        microseconds — :meth:`acquire_within` lets a scheduler starting at that instant try again).
        """
        if self.held:
            return False
        if self.backend == "postgresql":
            return not self._holder_pg()
        if self.acquire():
            self.release()
            return True
        return False

    def acquire_within(self, seconds: float, interval: float = 0.2) -> bool:
        """``acquire()``, retried for a few seconds so a passing probe (``jobs list``) never wins."""
        import time

        deadline = time.monotonic() + seconds
        while True:
            if self.acquire():
                return True
            if time.monotonic() >= deadline:
                return False
            time.sleep(interval)

    def __enter__(self) -> ProcessLock:
        if not self.acquire():
            raise self.refusal()
        return self

    def __exit__(self, *exc) -> None:
        self.release()

    def refusal(self) -> LockHeld:
        who = self.holder()
        where = f" ({who})" if who else ""
        if self.name == "scheduler":
            return LockHeld(
                f"Bộ lập lịch của cụm {self.cluster_id} đang chạy ở một tiến trình khác{where}; "
                f"không chạy hai bộ lập lịch trên cùng một cơ sở dữ liệu. Dừng tiến trình kia trước.",
                f"The scheduler of cluster {self.cluster_id} is already running in another process{where}; "
                f"two schedulers must not share one database. Stop the other one first.",
                who,
            )
        return LockHeld(
            f"Công việc {self.name} của cụm {self.cluster_id} đang chạy ở một tiến trình khác{where}.",
            f"The job {self.name} of cluster {self.cluster_id} is already running in another process{where}.",
            who,
        )


def scheduler_lock(ctx: Context) -> ProcessLock:
    return ProcessLock(ctx, "scheduler")


def job_lock(ctx: Context, job: str) -> ProcessLock:
    return ProcessLock(ctx, f"job-{job}")
