"""`tracker scheduler run --configs`: several clusters of one database served by one process.

Real APScheduler, real database (SQLite file or PostgreSQL), real locks; only the clock is controlled
(tests/test_scheduler_support.py) and the job bodies are recording stand-ins (tests/test_scheduler.py).
"""

from __future__ import annotations

import dataclasses
import threading
import time
from datetime import datetime

import pytest

from jobs.runs import runs_of
from jobs.tasks import TASKS
from tests.conftest import write_config
from tests.test_scheduler import Bodies, drop_job_stores, local
from tests.test_scheduler_support import install_clock, wait_for


@pytest.fixture(autouse=True)
def _no_job_store_left_over(ctx):
    drop_job_stores(ctx.engine)


class Counting(Bodies):
    """Bodies that also record which cluster asked, and how many ran at the same time."""

    def __init__(self):
        super().__init__()
        self.running = 0
        self.most = 0
        self.clusters: list[tuple[str, str]] = []
        self.guard = threading.Lock()

    def make(self, name):
        inner = super().make(name)

        def body(ctx, plan):
            with self.guard:
                self.running += 1
                self.most = max(self.most, self.running)
                self.clusters.append((ctx.cluster_id, name))
            try:
                time.sleep(0.05)  # long enough for a second concurrent run to show up
                return inner(ctx, plan)
            finally:
                with self.guard:
                    self.running -= 1

        return body


@pytest.fixture
def bodies(monkeypatch):
    b = Counting()
    for name, task in list(TASKS.items()):
        monkeypatch.setitem(TASKS, name, dataclasses.replace(task, body=b.make(name)))
    return b


@pytest.fixture
def second(tmp_path, db_url):
    """Cluster cum-2 in the same database (its own folder, so its own inbox and reports), initialised."""
    from tracker.context import init_database, open_context

    folder = tmp_path / "cum-2"
    folder.mkdir()
    config = write_config(folder, db_url, replace={'id = "cum-1"': 'id = "cum-2"'})
    ctx2 = open_context(config)
    init_database(ctx2)
    return ctx2


@pytest.fixture
def federation():
    """Start ``serve_federation`` in a thread; stopped (and checked to stop cleanly) at the end."""
    from jobs.federation import serve_federation

    running = []

    def start(ctxs):
        stop = threading.Event()
        result: dict[str, object] = {}

        def target():
            try:
                result["code"] = serve_federation(ctxs, stop, lock_check_seconds=0.1)
            except BaseException as exc:  # surfaced by the test
                result["error"] = exc

        thread = threading.Thread(target=target, daemon=True)
        thread.start()
        running.append((stop, thread, result))
        return stop, thread, result

    yield start
    for stop, thread, _result in running:
        stop.set()
        thread.join(20)


def _held(ctx) -> bool:
    from jobs.lock import scheduler_lock

    return not scheduler_lock(ctx).is_free()


def test_one_process_runs_each_clusters_due_jobs_under_its_own_cluster_one_at_a_time(ctx, second, monkeypatch,
                                                                                     bodies, federation):
    from jobs.scheduler import jobstore_table, stored_jobs

    install_clock(monkeypatch, local(2023, 7, 3, 7, 59, 59, 500000))  # Monday, half a second before 08:00
    stop, thread, result = federation([ctx, second])
    wait_for(lambda: _held(ctx) and _held(second))

    def done(c):
        runs = [r for r in runs_of(c) if r.outcome != "running"]
        return runs if {r.job for r in runs} >= {"weekly-report", "outbox"} else None

    first_runs = wait_for(lambda: done(ctx))
    second_runs = wait_for(lambda: done(second))
    stop.set()
    thread.join(20)
    assert not thread.is_alive() and result == {"code": 0}

    for c, runs in ((ctx, first_runs), (second, second_runs)):
        weekly = [r for r in runs if r.job == "weekly-report"]
        assert len(weekly) == 1 and weekly[0].outcome == "ok" and weekly[0].trigger == "schedule"
        assert weekly[0].cluster_id == c.cluster_id
        assert weekly[0].counts["period"]  # the week before Monday 03/07/2023, planned from the due time
        # each cluster's schedule sits in its own job store, which `tracker jobs list --config` reads
        assert set(stored_jobs(c)) == {"pull", "weekly-report", "reminders", "review-pack", "backup", "outbox"}
        assert jobstore_table(c.cluster_id) == f"apscheduler_jobs_{c.cluster_id}"
    # each body ran in the context of the cluster it was due for, never two at once
    assert ("cum-1", "weekly-report") in bodies.clusters and ("cum-2", "weekly-report") in bodies.clusters
    assert bodies.most == 1
    # locks released on stop
    assert not _held(ctx) and not _held(second)


def test_a_cluster_served_by_the_federation_cannot_get_a_second_scheduler(ctx, second, config_path, cli,
                                                                          federation):
    stop, thread, result = federation([ctx, second])
    wait_for(lambda: _held(ctx) and _held(second))
    refused = cli("scheduler", "run", config=second.settings.source)
    assert refused.exit_code == 2, refused.stderr
    assert "Bộ lập lịch của cụm cum-2 đang chạy ở một tiến trình khác" in refused.stderr
    assert "Traceback" not in refused.stderr and refused.stdout == ""
    stop.set()
    thread.join(20)
    assert result == {"code": 0}


def test_the_federation_refuses_to_start_when_one_cluster_already_has_a_scheduler(ctx, second, config_path, cli):
    from jobs.lock import scheduler_lock

    lock = scheduler_lock(second)
    assert lock.acquire()
    try:
        refused = cli("scheduler", "run", "--configs", config_path, second.settings.source, config=None)
    finally:
        lock.release()
    assert refused.exit_code == 2, refused.stderr
    assert "Bộ lập lịch của cụm cum-2 đang chạy ở một tiến trình khác" in refused.stderr
    assert "Traceback" not in refused.stderr
    assert not _held(ctx)  # cum-1's lock, taken first, was given back


def test_clusters_on_different_databases_are_refused(tmp_path, config_path, cli):
    folder = tmp_path / "other"
    folder.mkdir()
    other = write_config(folder, f"sqlite:///{folder / 'other.db'}", replace={'id = "cum-1"': 'id = "cum-2"'})
    refused = cli("scheduler", "run", "--configs", config_path, other, config=None)
    assert refused.exit_code == 2, refused.stderr
    assert "không dùng chung một cơ sở dữ liệu" in refused.stderr
    assert "do not share one database" in refused.stderr and "Traceback" not in refused.stderr


def test_paths_without_configs_are_a_usage_error(config_path, cli):
    done = cli("scheduler", "run", config_path)
    assert done.exit_code == 2 and "--configs" in done.stderr


def test_on_stop_the_running_job_finishes_and_runs_still_queued_are_recorded_as_missed(ctx, second, monkeypatch,
                                                                                      bodies, federation):
    install_clock(monkeypatch, local(2023, 7, 3, 7, 59, 59, 500000))
    gate = threading.Event()
    for name in TASKS:
        bodies.block[name] = gate  # the first run holds the only worker; the others queue behind it
    stop, thread, result = federation([ctx, second])
    wait_for(lambda: bodies.calls)
    # the other three 08:00 runs (two clusters × weekly-report, outbox) are queued once both schedulers have
    # handed every run due at 08:00 to the worker: then no stored job is due at 08:00 or earlier any more
    from jobs.scheduler import stored_jobs

    eight = local(2023, 7, 3, 8, 0)
    wait_for(lambda: all(job.next_run_time > eight for c in (ctx, second) for job in stored_jobs(c).values()))
    stop.set()
    time.sleep(0.3)
    gate.set()
    thread.join(20)
    assert result == {"code": 0}
    runs = runs_of(ctx) + runs_of(second)
    assert len(bodies.calls) == 1
    assert sorted(r.outcome for r in runs) == ["missed", "missed", "missed", "ok"]
    for run in runs:
        if run.outcome == "missed":
            assert f"tracker jobs run {run.job}" in run.error and "còn chờ đến lượt" in run.error
            assert datetime.fromisoformat(run.counts["scheduled_for"]) == local(2023, 7, 3, 8, 0)


def test_sigterm_stops_the_federation_process_cleanly(ctx, second, config_path, tmp_path):
    import os
    import signal
    import subprocess
    import sys
    from pathlib import Path

    log = tmp_path / "federation.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRACKER_")} | {"PYTHONUNBUFFERED": "1"}
    with log.open("wb") as handle:
        proc = subprocess.Popen([str(Path(sys.executable).parent / "tracker"), "scheduler", "run", "--configs",
                                 str(config_path), str(second.settings.source)],
                                stdout=subprocess.DEVNULL, stderr=handle, env=env)
        try:
            def ready():
                assert proc.poll() is None, log.read_text(encoding="utf-8")
                return "Ctrl-C để dừng" in log.read_text(encoding="utf-8")

            wait_for(ready, timeout=30)
            assert _held(ctx) and _held(second)
            proc.send_signal(signal.SIGTERM)
            assert proc.wait(timeout=20) == 0
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    text = log.read_text(encoding="utf-8")
    assert "received SIGTERM" in text and "Đã dừng / stopped" in text and "Traceback" not in text
    assert "2 clusters (cum-1, cum-2)" in text
    assert not _held(ctx) and not _held(second)
