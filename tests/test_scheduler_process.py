"""`tracker scheduler run` as real processes: one at a time, the lock dies with its holder, clean stop."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.test_scheduler import drop_job_stores
from tests.test_scheduler_support import wait_for

TRACKER = str(Path(sys.executable).parent / "tracker")
READY = "Ctrl-C để dừng"


@pytest.fixture(autouse=True)
def _no_job_store_left_over(ctx):
    drop_job_stores(ctx.engine)


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRACKER_")}
    env["PYTHONUNBUFFERED"] = "1"
    return env


class Scheduler:
    """A `tracker scheduler run` child process whose stderr goes to a file we can read while it runs."""

    def __init__(self, config: Path, log: Path):
        self.log = log
        self.handle = log.open("wb")
        self.proc = subprocess.Popen([TRACKER, "--config", str(config), "scheduler", "run"],
                                     stdout=subprocess.DEVNULL, stderr=self.handle, env=_env())

    def text(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def wait_ready(self) -> None:
        def ready():
            if self.proc.poll() is not None:
                raise AssertionError(f"scheduler exited with {self.proc.returncode}:\n{self.text()}")
            return READY in self.text()

        wait_for(ready, timeout=30)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.handle.close()


@pytest.fixture
def spawn(config_path, tmp_path):
    started: list[Scheduler] = []

    def start(name: str) -> Scheduler:
        s = Scheduler(config_path, tmp_path / f"{name}.log")
        started.append(s)
        return s

    yield start
    for s in started:
        s.stop()


def test_a_second_scheduler_is_refused_and_the_lock_dies_with_its_holder(ctx, config_path, spawn, cli):
    from jobs.lock import scheduler_lock

    first = spawn("first")
    first.wait_ready()

    second = subprocess.run([TRACKER, "--config", str(config_path), "scheduler", "run"],
                            capture_output=True, text=True, env=_env(), timeout=60)
    assert second.returncode == 2, second.stderr
    assert "Bộ lập lịch của cụm cum-1 đang chạy ở một tiến trình khác" in second.stderr
    assert "already running in another process" in second.stderr
    assert "Traceback" not in second.stderr and second.stdout == ""
    if ctx.settings.database.url.startswith("sqlite"):
        assert f"pid {first.proc.pid}" in second.stderr
    else:
        assert f"pid={first.proc.pid}" in second.stderr

    listed = cli("jobs", "list")
    assert listed.exit_code == 0 and "Scheduler: running" in listed.stdout

    os.kill(first.proc.pid, signal.SIGKILL)  # no chance to clean up
    first.proc.wait(timeout=10)
    lock = scheduler_lock(ctx)
    assert wait_for(lock.acquire, timeout=10)
    lock.release()

    third = spawn("third")
    third.wait_ready()
    assert third.text().count("giữ lịch đã lưu / kept from the store") == 6  # the store survived the kill


def test_sigterm_stops_the_scheduler_cleanly(ctx, spawn):
    from jobs.lock import scheduler_lock

    proc = spawn("one")
    proc.wait_ready()
    started = time.monotonic()
    proc.proc.send_signal(signal.SIGTERM)
    assert proc.proc.wait(timeout=20) == 0
    assert time.monotonic() - started < 10
    log = proc.text()
    assert "received SIGTERM" in log and "Đã dừng / stopped" in log and "Traceback" not in log
    assert scheduler_lock(ctx).is_free()


def test_ctrl_c_stops_the_scheduler_cleanly(ctx, spawn):
    proc = spawn("one")
    proc.wait_ready()
    proc.proc.send_signal(signal.SIGINT)
    assert proc.proc.wait(timeout=20) == 0
    assert "received SIGINT" in proc.text() and "Đã dừng / stopped" in proc.text()


def test_the_scheduler_and_jobs_commands_ask_for_init_first(tmp_path, cli):
    from tests.conftest import write_config

    folder = tmp_path / "fresh"
    folder.mkdir()
    config = write_config(folder, f"sqlite:///{folder / 'empty.db'}")
    for command in (("scheduler", "run"), ("jobs", "list"), ("jobs", "run", "pull")):
        done = cli(*command, config=config)
        assert done.exit_code == 2 and "tracker init" in done.stderr and "Traceback" not in done.stderr, command
