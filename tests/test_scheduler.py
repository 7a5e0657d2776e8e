"""The real APScheduler on the real database with a controlled clock: downtime, grace, restarts, failures.

Only the clock is controlled (see tests/test_scheduler_support.py). The job bodies are replaced by
recording functions here, so these tests are about the scheduling itself; the jobs' real effects
(files pulled, mail sent once) are tested in tests/test_jobs_real.py.
"""

from __future__ import annotations

import dataclasses
import os
import threading
import time
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import inspect, text

from jobs.runs import runs_of
from jobs.tasks import TASKS
from tests.conftest import write_config
from tests.test_scheduler_support import install_clock, wait_for

TZ = ZoneInfo("Asia/Ho_Chi_Minh")


def local(*args) -> datetime:
    return datetime(*args, tzinfo=TZ)


def drop_job_stores(engine) -> None:
    names = [n for n in inspect(engine).get_table_names() if n.startswith("apscheduler_jobs")]
    with engine.begin() as conn:
        for name in names:
            conn.execute(text(f'DROP TABLE "{name}"'))


@pytest.fixture(autouse=True)
def _no_job_store_left_over(ctx):
    """PostgreSQL keeps one database for the session; the store of a previous test must not leak in."""
    drop_job_stores(ctx.engine)


class Bodies:
    """Stand-ins for the job bodies that record what they were asked to do."""

    def __init__(self):
        self.calls: list[tuple[str, date | None, str | None]] = []
        self.fail: dict[str, BaseException] = {}
        self.block: dict[str, threading.Event] = {}

    def make(self, name):
        def body(ctx, plan):
            self.calls.append((name, plan.as_of, plan.period))
            if name in self.block:
                self.block[name].wait(20)
            if name in self.fail:
                raise self.fail[name]
            return {"items": 3, "files": ["a", "b"]}

        return body

    def names(self) -> list[str]:
        return [c[0] for c in self.calls]


@pytest.fixture
def bodies(monkeypatch):
    b = Bodies()
    for name, task in list(TASKS.items()):
        monkeypatch.setitem(TASKS, name, dataclasses.replace(task, body=b.make(name)))
    return b


@pytest.fixture
def schedulers():
    from jobs.scheduler import start_scheduler

    started = []

    def start(ctx):
        scheduler = start_scheduler(ctx)
        started.append(scheduler)
        return scheduler

    yield start
    for scheduler in started:
        if scheduler.running:
            scheduler.shutdown(wait=True)


def finished(ctx, n: int):
    runs = [r for r in runs_of(ctx) if r.outcome != "running"]
    return runs if len(runs) >= n else None


def settle(ctx, scheduler, seconds: float = 0.4) -> None:
    """Give a wrongly scheduled extra run the chance to show up before counting."""
    time.sleep(seconds)


def by_job(runs):
    out: dict[str, list] = {}
    for run in sorted(runs, key=lambda r: r.id):
        out.setdefault(run.job, []).append(run)
    return out


def test_a_run_due_while_the_scheduler_was_down_runs_once_after_start(ctx, monkeypatch, bodies, schedulers):
    clock = install_clock(monkeypatch, local(2023, 7, 3, 5, 0))  # Monday 05:00
    schedulers(ctx).shutdown()
    # Down from 05:00 to 09:00: missed pull at 06:00 and 07:30, the weekly report at 08:00, the outbox.
    clock.set(local(2023, 7, 3, 9, 0))
    scheduler = schedulers(ctx)
    wait_for(lambda: finished(ctx, 3))
    settle(ctx, scheduler)
    runs = by_job(runs_of(ctx))
    assert {job: len(r) for job, r in runs.items()} == {"outbox": 1, "pull": 1, "weekly-report": 1}
    assert all(r[0].outcome == "ok" and r[0].trigger == "schedule" for r in runs.values())
    # in the order they fell due, one at a time; the weekly report is as of the Sunday before
    assert bodies.calls == [("outbox", None, None), ("pull", None, None),
                            ("weekly-report", date(2023, 7, 2), "2023-W26")]
    assert runs["pull"][0].counts["items"] == 3 and runs["pull"][0].counts["files"] == 2
    jobs = {job.id: job for job in scheduler.get_jobs()}
    assert jobs["pull"].next_run_time == local(2023, 7, 4, 6, 0)
    assert jobs["weekly-report"].next_run_time == local(2023, 7, 10, 8, 0)


def test_a_run_missed_beyond_the_grace_time_is_recorded_as_missed_and_not_run(ctx, monkeypatch, bodies, schedulers):
    assert ctx.settings.schedule.misfire_grace_time == 6 * 3600
    clock = install_clock(monkeypatch, local(2023, 7, 4, 5, 0))  # Tuesday 05:00
    schedulers(ctx).shutdown()
    clock.set(local(2023, 7, 4, 12, 30))  # the 06:00 pull is 6 h 30 min late
    scheduler = schedulers(ctx)
    wait_for(lambda: finished(ctx, 2))
    settle(ctx, scheduler)
    runs = by_job(runs_of(ctx))
    assert [r.outcome for r in runs["pull"]] == ["missed"]
    missed = runs["pull"][0]
    assert "04/07/2023 06:00" in missed.error and "tracker jobs run pull" in missed.error
    assert missed.started_at == local(2023, 7, 4, 6, 0)
    assert "pull" not in bodies.names()  # not run
    assert [r.outcome for r in runs["outbox"]] == ["ok"]  # due at 12:30 itself: on time
    assert {job.id: job for job in scheduler.get_jobs()}["pull"].next_run_time == local(2023, 7, 5, 6, 0)


def test_a_restart_keeps_the_schedule_and_a_config_edit_replaces_it(ctx, monkeypatch, bodies, schedulers, tmp_path):
    from jobs.scheduler import stored_jobs
    from tracker.config import load_settings
    from tracker.context import open_context
    from tracker.db import dispose_engines

    clock = install_clock(monkeypatch, local(2023, 7, 4, 5, 0))
    schedulers(ctx).shutdown()
    before = {job_id: job.next_run_time for job_id, job in stored_jobs(ctx).items()}
    assert before == {"pull": local(2023, 7, 4, 6, 0), "weekly-report": local(2023, 7, 10, 8, 0),
                      "reminders": local(2023, 7, 7, 9, 0), "review-pack": local(2023, 7, 5, 8, 0),
                      "backup": local(2023, 7, 4, 23, 30), "outbox": local(2023, 7, 4, 5, 10)}
    dispose_engines()  # as if the process had ended

    clock.set(local(2023, 7, 4, 5, 5))
    again = open_context(settings=ctx.settings)
    schedulers(again).shutdown()
    assert {job_id: job.next_run_time for job_id, job in stored_jobs(again).items()} == before

    edited = write_config(tmp_path, ctx.settings.database.url,
                          replace={'pull = ["0 6 * * *", "30 7 * * mon"]': 'pull = ["0 5 * * *"]'})
    changed = open_context(settings=load_settings(edited, env={}))
    schedulers(changed).shutdown()
    after = {job_id: job.next_run_time for job_id, job in stored_jobs(changed).items()}
    assert after["pull"] == local(2023, 7, 5, 5, 0)  # the new cron, counted from now
    assert {k: v for k, v in after.items() if k != "pull"} == {k: v for k, v in before.items() if k != "pull"}
    assert bodies.calls == []


def test_a_failing_job_is_recorded_and_the_next_job_still_runs(ctx, monkeypatch, bodies, schedulers):
    bodies.fail["pull"] = RuntimeError("hộp thư không trả lời")
    clock = install_clock(monkeypatch, local(2023, 7, 3, 5, 0))
    schedulers(ctx).shutdown()
    clock.set(local(2023, 7, 3, 9, 0))
    scheduler = schedulers(ctx)
    wait_for(lambda: finished(ctx, 3))
    settle(ctx, scheduler)
    runs = by_job(runs_of(ctx))
    pull = runs["pull"][0]
    assert pull.outcome == "error" and "RuntimeError: hộp thư không trả lời" in pull.error
    assert pull.finished_at is not None and "seconds" in pull.counts
    assert [r.outcome for r in runs["weekly-report"]] == ["ok"]
    assert bodies.names() == ["outbox", "pull", "weekly-report"]


def test_an_error_around_the_job_is_recorded_by_the_error_listener(ctx, monkeypatch, bodies, schedulers):
    import jobs.tasks

    def unreachable(*args, **kwargs):
        raise ConnectionError("máy chủ cơ sở dữ liệu không trả lời")

    monkeypatch.setattr(jobs.tasks, "execute", unreachable)
    clock = install_clock(monkeypatch, local(2023, 7, 4, 5, 9, 59))
    scheduler = schedulers(ctx)
    clock.set(local(2023, 7, 4, 5, 10, 0))
    scheduler.wakeup()
    runs = wait_for(lambda: finished(ctx, 1))
    assert runs[0].job == "outbox" and runs[0].outcome == "error"
    assert "ConnectionError: máy chủ cơ sở dữ liệu không trả lời" in runs[0].error


def test_a_run_due_while_the_previous_one_is_still_going_is_recorded_as_skipped(ctx, monkeypatch, bodies,
                                                                                schedulers):
    release = bodies.block["outbox"] = threading.Event()
    clock = install_clock(monkeypatch, local(2023, 7, 4, 9, 59, 59, 500000))
    scheduler = schedulers(ctx)
    wait_for(lambda: bodies.names() == ["outbox"])  # the 10:00 run, now blocked
    clock.set(local(2023, 7, 4, 10, 10, 0, 500000))
    scheduler.wakeup()
    skipped = wait_for(lambda: [r for r in runs_of(ctx) if r.outcome == "skipped"])
    assert skipped[0].job == "outbox" and "chưa xong" in skipped[0].error and "still going" in skipped[0].error
    release.set()
    wait_for(lambda: [r for r in runs_of(ctx) if r.outcome == "ok"])
    settle(ctx, scheduler)
    assert bodies.names() == ["outbox"]


def test_jobs_list_reads_the_store_without_running_a_due_job(ctx, monkeypatch, bodies, schedulers, cli):
    clock = install_clock(monkeypatch, local(2023, 7, 4, 5, 0))
    result = cli("jobs", "list")
    assert result.exit_code == 0, result.stderr
    assert "04/07/2023 06:00 *" in result.stdout and "chưa chạy / never run" in result.stdout
    schedulers(ctx).shutdown()

    clock.set(local(2023, 7, 4, 9, 0))  # the 06:00 pull is due, within the grace time
    result = cli("jobs", "list")
    assert result.exit_code == 0, result.stderr
    line = next(ln for ln in result.stdout.splitlines() if ln.startswith("pull "))
    assert "04/07/2023 06:00 (quá hạn / overdue)" in line and "06:00 *" not in line and "never run" in line
    assert "thời gian ân hạn (6 giờ)" in result.stdout
    assert "Scheduler: not running" in result.stdout
    time.sleep(0.3)
    assert runs_of(ctx) == [] and bodies.calls == []

    scheduler = schedulers(ctx)  # the due run was not lost by listing
    wait_for(lambda: "pull" in bodies.names())
    wait_for(lambda: finished(ctx, 2))
    scheduler.shutdown()
    result = cli("jobs", "list", "--format", "json")
    import json

    data = {j["name"]: j for j in json.loads(result.stdout)["jobs"]}
    assert data["pull"]["last_run"]["outcome"] == "ok" and data["pull"]["next_run"] == "2023-07-05T06:00:00+07:00"
    assert data["pull"]["schedule"] == ["0 6 * * *", "30 7 * * mon"]
    table = cli("jobs", "list").stdout
    assert "thành công / ok" in next(ln for ln in table.splitlines() if ln.startswith("pull "))


@pytest.fixture
def server_in_utc():
    """This process runs with TZ=UTC, as servers often do."""
    before = os.environ.get("TZ")
    os.environ["TZ"] = "UTC"
    time.tzset()
    assert time.strftime("%z") == "+0000"
    yield
    if before is None:
        del os.environ["TZ"]
    else:
        os.environ["TZ"] = before
    time.tzset()


def test_jobs_list_says_its_time_zone_and_shows_cluster_time_on_a_server_in_utc(ctx, monkeypatch, bodies, cli,
                                                                               server_in_utc):
    install_clock(monkeypatch, local(2023, 7, 4, 5, 0))  # 22:00 UTC the day before
    table = cli("jobs", "list").stdout
    assert "Giờ Việt Nam (Asia/Ho_Chi_Minh, UTC+07:00) / Times are Vietnam time" in table
    assert table.count("UTC+07:00") == 2  # said once, in both languages
    pull = next(ln for ln in table.splitlines() if ln.startswith("pull "))
    assert "04/07/2023 06:00" in pull and "23:00" not in pull  # 06:00 in Hà Nội, not 23:00 UTC
    weekly = next(ln for ln in table.splitlines() if ln.startswith("weekly-report "))
    assert "10/07/2023 08:00" in weekly


@pytest.mark.parametrize(
    ("zone", "at", "line"),
    [("Asia/Ho_Chi_Minh", datetime(2023, 1, 1, tzinfo=TZ), "Giờ Việt Nam (Asia/Ho_Chi_Minh, UTC+07:00)"),
     ("Europe/Berlin", datetime(2023, 7, 4, tzinfo=TZ), "Giờ theo múi giờ Europe/Berlin (UTC+02:00)"),
     ("Europe/Berlin", datetime(2023, 1, 4, tzinfo=TZ), "Giờ theo múi giờ Europe/Berlin (UTC+01:00)"),
     ("America/St_Johns", datetime(2023, 1, 4, tzinfo=TZ), "America/St_Johns (UTC-03:30)")],
)
def test_the_zone_line_gives_the_offset_the_zone_has_at_that_moment(zone, at, line):
    from tracker.cli.jobs import zone_line

    assert line in zone_line(zone, at)


def test_jobs_run_runs_one_job_now_as_manual(ctx, monkeypatch, bodies, cli):
    install_clock(monkeypatch, local(2024, 1, 8, 10, 0))
    result = cli("jobs", "run", "weekly-report")  # 8 January: 2024 has no targets or figures yet
    assert result.exit_code == 0, result.stderr
    assert "bỏ qua / skipped" in result.stdout and "Năm 2024 chưa có chỉ tiêu hay số liệu nào" in result.stdout
    assert bodies.calls == []

    result = cli("jobs", "run", "weekly-report", "--as-of", "31/12/2023")  # the late run for the last week
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith("weekly-report: thành công / ok")
    assert bodies.calls == [("weekly-report", date(2023, 12, 31), "2023-W52")]
    run = runs_of(ctx, "weekly-report")[0]
    assert run.trigger == "manual" and run.outcome == "ok" and run.counts["as_of"] == "2023-12-31"

    bodies.fail["pull"] = ValueError("tệp hỏng")
    result = cli("jobs", "run", "pull")
    assert result.exit_code == 1 and "ValueError: tệp hỏng" in result.stderr
    assert runs_of(ctx, "pull")[0].outcome == "error"

    result = cli("jobs", "run", "no-such-job")
    assert result.exit_code == 2 and "weekly-report" in result.stderr


def test_a_job_already_running_elsewhere_is_not_run_twice(ctx, bodies):
    from jobs.lock import job_lock
    from jobs.tasks import execute

    with job_lock(ctx, "pull"):  # held as another process would hold it
        run = execute(ctx, "pull", trigger="manual")
    assert run.outcome == "skipped" and "đang chạy ở một tiến trình khác" in run.error
    assert bodies.calls == []
    assert execute(ctx, "pull", trigger="manual").outcome == "ok"


def test_run_cycle_goes_through_the_same_jobs_and_survives_a_failure(ctx, bodies):
    from jobs.tasks import run_cycle

    bodies.fail["weekly-report"] = RuntimeError("boom")
    runs = run_cycle(ctx, date(2023, 6, 30))
    assert [(r.job, r.outcome, r.trigger) for r in runs] == [
        ("pull", "ok", "demo"), ("weekly-report", "error", "demo"), ("reminders", "ok", "demo"),
        ("review-pack", "ok", "demo")]
    assert bodies.calls == [("pull", None, None), ("weekly-report", date(2023, 6, 30), "2023-W26"),
                            ("reminders", date(2023, 6, 30), "2023-W26"), ("review-pack", date(2023, 6, 30), "2023-H1")]


def test_two_clusters_in_one_database_have_their_own_schedule_and_lock(ctx, monkeypatch, bodies, schedulers,
                                                                       tmp_path):
    from jobs.lock import scheduler_lock
    from jobs.scheduler import jobstore_table, stored_jobs
    from tracker.config import load_settings
    from tracker.context import init_database, open_context

    long_id = "cum-2-lien-doan-lao-dong-thanh-pho-ha-noi"[:40]
    folder = tmp_path / "cum2"
    folder.mkdir()
    other = open_context(settings=load_settings(write_config(
        folder, ctx.settings.database.url,
        replace={'id = "cum-1"': f'id = "{long_id}"', 'reminders = "0 9 * * fri"': 'reminders = "0 10 * * fri"'},
    ), env={}))
    init_database(other)
    install_clock(monkeypatch, local(2023, 7, 4, 5, 0))
    schedulers(ctx).shutdown()
    schedulers(other).shutdown()
    tables = set(inspect(ctx.engine).get_table_names())
    assert {jobstore_table("cum-1"), jobstore_table(long_id)} <= tables
    mine, theirs = stored_jobs(ctx), stored_jobs(other)
    assert mine["reminders"].next_run_time == local(2023, 7, 7, 9, 0)
    assert theirs["reminders"].next_run_time == local(2023, 7, 7, 10, 0)
    assert theirs["pull"].args[1] == str(other.settings.source)
    with scheduler_lock(ctx), scheduler_lock(other):  # independent locks
        pass


def test_a_run_cut_short_by_a_dead_process_is_closed_at_the_next_start(ctx):
    from jobs.lock import job_lock
    from jobs.runs import close_interrupted_runs, start_run

    dead = start_run(ctx, "pull", "schedule")
    alive = start_run(ctx, "weekly-report", "manual")
    with job_lock(ctx, "weekly-report"):  # someone is still running that one
        closed = close_interrupted_runs(ctx)
    assert [r.id for r in closed] == [dead]
    runs = {r.id: r for r in runs_of(ctx)}
    assert runs[dead].outcome == "error" and "result is unknown" in runs[dead].error
    assert runs[alive].outcome == "running"


def test_stopping_the_scheduler_does_not_lose_a_run_that_just_fell_due(ctx, monkeypatch, bodies, schedulers):
    from jobs.scheduler import stored_jobs

    clock = install_clock(monkeypatch, local(2023, 7, 4, 5, 0))
    scheduler = schedulers(ctx)
    clock.set(local(2023, 7, 4, 6, 0, 0, 500000))  # pull falls due; the loop is asleep until 05:10 (real time)
    scheduler.shutdown()  # APScheduler's loop wakes once more here, with its executor already closed
    stored = stored_jobs(ctx)
    assert stored["pull"].next_run_time == local(2023, 7, 4, 6, 0)
    assert bodies.calls == [] and runs_of(ctx) == []
    schedulers(ctx)  # the next start runs it
    wait_for(lambda: "pull" in bodies.names())


def test_a_late_run_covers_the_day_it_was_due_not_the_day_it_started(ctx, monkeypatch, bodies, schedulers, tmp_path):
    from tracker.config import load_settings
    from tracker.context import open_context

    sunday_night = {'weekly-report = "0 8 * * mon"': 'weekly-report = "55 23 * * sun"'}
    late_sunday = open_context(settings=load_settings(
        write_config(tmp_path, ctx.settings.database.url, replace=sunday_night), env={}))
    clock = install_clock(monkeypatch, local(2023, 7, 2, 23, 0))  # Sunday 23:00
    schedulers(late_sunday).shutdown()
    clock.set(local(2023, 7, 3, 0, 30))  # back after midnight, within the grace time
    schedulers(late_sunday)
    wait_for(lambda: "weekly-report" in bodies.names())
    # due on Sunday 02/07: the Sunday before that is 25/06 (had it counted from Monday, it would be 02/07)
    assert ("weekly-report", date(2023, 6, 25), "2023-W25") in bodies.calls


def test_the_january_review_pack_is_for_the_year_just_ended_once_its_figures_are_imported(ctx, monkeypatch, bodies):
    from jobs.tasks import execute
    from tests.test_history_import import ROWS, summary
    from tracker.intake.backfill import import_history

    install_clock(monkeypatch, local(2023, 1, 5, 8, 0))
    run = execute(ctx, "review-pack", run_date=date(2023, 1, 5))  # the cluster year is 2023; 2022 has nothing
    assert run.outcome == "skipped" and run.error.startswith("Năm 2022 chưa có chỉ tiêu hay số liệu nào")
    assert " / The year 2022 has no targets or figures" in run.error and bodies.calls == []
    assert import_history(ctx, summary(ROWS), "2022.xlsx").status == "accepted"
    run = execute(ctx, "review-pack", run_date=date(2023, 1, 5))
    assert run.outcome == "ok" and bodies.calls == [("review-pack", date(2022, 12, 31), "2022")]
