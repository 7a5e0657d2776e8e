"""Process locks: exclusive inside one process too, and on PostgreSQL one connection per process."""

from __future__ import annotations

import os

import pytest
from sqlalchemy import text

from jobs.lock import job_lock, scheduler_lock
from tracker.context import Context
from tracker.db import get_engine


def _cluster(ctx: Context, cluster_id: str) -> Context:
    cluster = ctx.settings.cluster.model_copy(update={"id": cluster_id})
    return Context(settings=ctx.settings.model_copy(update={"cluster": cluster}), engine=ctx.engine)


def _lock_connections(ctx: Context) -> int:
    with get_engine(ctx.settings.database.url).connect() as conn:
        return conn.execute(text("SELECT count(*) FROM pg_stat_activity WHERE application_name LIKE :name"),
                            {"name": f"tracker locks pid={os.getpid()} %"}).scalar()


def test_a_lock_held_by_this_process_is_refused_to_another_lock_object(ctx):
    first, second = scheduler_lock(ctx), scheduler_lock(ctx)
    assert first.acquire()
    try:
        assert not second.acquire() and first.alive()
    finally:
        first.release()
    assert second.acquire()
    second.release()


def test_locks_of_many_clusters_share_one_postgresql_connection(ctx):
    if ctx.engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL only: SQLite locks are files")
    locks = [scheduler_lock(_cluster(ctx, f"cum-{n}")) for n in range(1, 21)]
    locks.append(job_lock(ctx, "weekly-report"))
    try:
        assert all(lock.acquire() for lock in locks)
        assert _lock_connections(ctx) == 1  # not 21: a federation of 100 clusters fits max_connections
        assert all(lock.alive() for lock in locks)
        assert not scheduler_lock(_cluster(ctx, "cum-7")).acquire()  # still exclusive inside the process
    finally:
        for lock in locks:
            lock.release()
    assert _lock_connections(ctx) == 0  # the last release closes the connection
    again = scheduler_lock(_cluster(ctx, "cum-7"))
    assert again.acquire()
    again.release()


def test_a_lock_of_the_same_key_in_another_postgresql_database_is_not_this_ones(ctx):
    """Advisory locks are per database: another database on the same server (another federation's, or a
    parallel test run's) holding the same key must not make this cluster's lock look taken."""
    if ctx.engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL only: SQLite locks are files")
    import uuid

    from sqlalchemy import create_engine
    from sqlalchemy.engine import make_url

    url = make_url(ctx.settings.database.url)
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    other = f"tracker_other_{uuid.uuid4().hex[:8]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{other}"'))
    other_engine = create_engine(url.set(database=other))
    try:
        key = scheduler_lock(ctx).key
        with other_engine.connect() as holder:
            assert holder.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": key}).scalar()
            assert scheduler_lock(ctx).is_free()  # the other database's lock is not ours
            mine = scheduler_lock(ctx)
            assert mine.acquire()
            try:
                assert not scheduler_lock(ctx).is_free()
            finally:
                mine.release()
    finally:
        other_engine.dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{other}" WITH (FORCE)'))
        admin.dispose()
