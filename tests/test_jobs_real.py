"""The jobs doing their real work: the intake pull moves files, the weekly report mails once.

Real workbooks in the inbox, real .eml outbox and a real SMTP server on loopback; only the clock is
controlled where the scheduler runs.
"""

from __future__ import annotations

import os
import time
from datetime import date, timedelta

import pytest

from jobs.runs import runs_of
from jobs.tasks import execute
from tests.intake_factory import report_for
from tests.test_scheduler import drop_job_stores, local
from tests.test_scheduler_support import install_clock, wait_for


@pytest.fixture(autouse=True)
def _no_job_store_left_over(ctx):
    drop_job_stores(ctx.engine)


def drop(folder, name: str, data: bytes) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_bytes(data)
    old = time.time() - 60  # settled: not still being copied
    os.utime(path, (old, old))


def eml_files(ctx) -> list[str]:
    folder = ctx.settings.paths.outbox
    return sorted(p.name for p in folder.glob("*.eml")) if folder.exists() else []


def test_the_pull_job_moves_the_inbox_files_and_records_the_counts(ctx):
    paths = ctx.settings.paths
    hbt = report_for("HBT", date(2023, 6, 30), {"new_unions": 19})
    drop(paths.inbox, "hbt.xlsx", hbt)
    drop(paths.inbox, "bao cao LB.xlsx", report_for("LB", date(2023, 6, 30), {"new_unions": 16}))
    drop(paths.inbox, "hỏng.xlsx", b"this is not a workbook")

    run = execute(ctx, "pull", trigger="manual")
    assert run.outcome == "ok", run.error
    assert {k: run.counts[k] for k in ("files", "accepted", "duplicate", "rejected", "failed")} == {
        "files": 3, "accepted": 2, "duplicate": 0, "rejected": 1, "failed": 0}
    assert list(paths.inbox.iterdir()) == []
    assert any(p.is_file() for p in paths.archive.rglob("*")) and any(p.is_file() for p in paths.quarantine.rglob("*"))

    drop(paths.inbox, "again.xlsx", hbt)
    again = execute(ctx, "pull", trigger="manual")  # the same bytes: already received, nothing new
    assert (again.outcome, again.counts["duplicate"], again.counts["accepted"]) == ("ok", 1, 0)


def test_a_file_still_being_written_is_counted_as_deferred_and_is_no_failure_of_the_pull_job(ctx):
    from tests.test_intake_pull import still_writing

    paths = ctx.settings.paths
    drop(paths.inbox, "hbt.xlsx", report_for("HBT", date(2023, 6, 30), {"new_unions": 19}))
    with still_writing(paths.inbox / "LB.xlsx", every=0.2):
        run = execute(ctx, "pull", trigger="manual")
    assert run.outcome == "ok", run.error
    assert (run.counts["files"], run.counts["accepted"], run.counts["deferred"], run.counts["failed"]) == (2, 1, 1, 0)
    assert [p.name for p in paths.inbox.iterdir()] == ["LB.xlsx"]


def test_a_pull_whose_mailbox_cannot_be_reached_is_an_error_but_the_folder_is_still_pulled(ctx):
    from tests.smtp_server import free_port
    from tracker.context import Context

    mailbox = ctx.settings.mailbox.model_copy(update={"host": "127.0.0.1", "port": free_port(), "security": "none",
                                                      "user": "cum-1", "password": "x"})
    broken = Context(settings=ctx.settings.model_copy(update={"mailbox": mailbox}), engine=ctx.engine)
    drop(ctx.settings.paths.inbox, "hbt.xlsx", report_for("HBT", date(2023, 6, 30), {"new_unions": 19}))
    run = execute(broken, "pull", trigger="manual")
    assert run.outcome == "error" and "mailbox" in run.error
    assert run.counts["accepted"] == 1 and run.counts["source_errors"] == 1


def test_weekly_report_run_twice_for_one_week_mails_once(ctx, cli):
    drop(ctx.settings.paths.inbox, "hbt.xlsx", report_for("HBT", date(2023, 6, 30), {"new_unions": 19}))
    assert execute(ctx, "pull").outcome == "ok"
    first = execute(ctx, "weekly-report", as_of=date(2023, 6, 30))
    assert first.outcome == "ok", first.error
    assert (first.counts["sent"], first.counts["new"]) == (1, 1)
    assert eml_files(ctx) == ["000001-weekly-2023-W26-head.eml"]

    result = cli("jobs", "run", "weekly-report", "--as-of", "30/06/2023")
    assert result.exit_code == 0, result.stderr
    second = runs_of(ctx, "weekly-report")[0]
    assert second.outcome == "ok" and second.trigger == "manual"
    assert (second.counts["sent"], second.counts["already_sent"]) == (0, 1)
    assert eml_files(ctx) == ["000001-weekly-2023-W26-head.eml"]


def test_the_scheduled_weekly_report_and_a_manual_rerun_mail_once(ctx, monkeypatch, cli):
    from jobs.scheduler import start_scheduler

    drop(ctx.settings.paths.inbox, "hbt.xlsx", report_for("HBT", date(2023, 6, 30), {"new_unions": 19}))
    assert execute(ctx, "pull").outcome == "ok"
    clock = install_clock(monkeypatch, local(2023, 7, 3, 7, 59, 59))  # Monday, a second before 08:00
    scheduler = start_scheduler(ctx)
    try:
        run = wait_for(lambda: [r for r in runs_of(ctx, "weekly-report") if r.outcome != "running"], timeout=60)[0]
    finally:
        scheduler.shutdown()
    assert clock.now() > local(2023, 7, 3, 8, 0)
    assert run.outcome == "ok" and run.trigger == "schedule", run.error
    assert run.counts["as_of"] == "2023-07-02" and run.counts["period"] == "2023-W26" and run.counts["sent"] == 1
    assert cli("jobs", "run", "weekly-report", "--as-of", "02/07/2023").exit_code == 0
    assert eml_files(ctx) == ["000001-weekly-2023-W26-head.eml"]


def test_undelivered_mail_is_an_error_and_the_outbox_job_delivers_it_once(ctx, monkeypatch):
    from tests.mail_factories import with_mail
    from tests.smtp_server import HOST, SmtpServer

    server = SmtpServer()  # the port is reserved, nobody listens yet: connection refused
    ctx = with_mail(ctx, host=HOST, port=server.port, security="none", user="", timeout=5)
    clock = install_clock(monkeypatch, local(2023, 7, 3, 8, 0))
    weekly = execute(ctx, "weekly-report", as_of=date(2023, 6, 30))
    assert weekly.outcome == "error" and weekly.counts["pending"] == 1
    assert "chưa gửi được, sẽ tự thử lại" in weekly.error and "retried automatically" in weekly.error

    with server:
        clock.set(local(2023, 7, 3, 8, 1))  # backoff: the next try is due 2 minutes after the first
        idle = execute(ctx, "outbox", trigger="schedule")
        assert idle.id is None and idle.counts["idle"]  # nothing due: not recorded
        clock.set(local(2023, 7, 3, 8, 3))
        retry = execute(ctx, "outbox", trigger="schedule")
        assert retry.outcome == "ok" and retry.counts["sent"] == 1 and retry.id is not None
        again = execute(ctx, "weekly-report", as_of=date(2023, 6, 30))
        assert again.outcome == "ok" and again.counts["already_sent"] == 1
        assert len(server.received) == 1
    assert [r.job for r in runs_of(ctx)] == ["weekly-report", "outbox", "weekly-report"]
    assert clock.now() - local(2023, 7, 3, 8, 3) < timedelta(minutes=1)
