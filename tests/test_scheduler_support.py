"""Support for the scheduler tests (no tests here): a controlled clock and waiting for recorded runs.

The clock is the only thing replaced: APScheduler reads the time through ``datetime.now`` in its
scheduler and executor modules, and the jobs through ``jobs.clock``; all three see a clock that
starts where the test puts it and then moves on in real time.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime, timedelta


class Clock:
    def __init__(self, start: datetime):
        self.set(start)

    def set(self, when: datetime) -> None:
        assert when.tzinfo is not None
        self._base, self._t0 = when, time.monotonic()

    def now(self) -> datetime:
        return self._base + timedelta(seconds=time.monotonic() - self._t0)


def fake_datetime(clock: Clock) -> type[datetime]:
    class ControlledDatetime(datetime):
        @classmethod
        def now(cls, tz=None):  # type: ignore[override]
            current = clock.now()
            return current.astimezone(tz) if tz is not None else current.astimezone().replace(tzinfo=None)

        @classmethod
        def utcnow(cls):  # type: ignore[override]
            return clock.now().replace(tzinfo=None)

    return ControlledDatetime


def install_clock(monkeypatch, start: datetime) -> Clock:
    import apscheduler.executors.base
    import apscheduler.schedulers.base

    import jobs.clock

    clock = Clock(start)
    fake = fake_datetime(clock)
    for module in (apscheduler.schedulers.base, apscheduler.executors.base, jobs.clock):
        monkeypatch.setattr(module, "datetime", fake)
    return clock


def wait_for(condition: Callable[[], object], timeout: float = 15.0, interval: float = 0.05):
    """Poll until ``condition()`` is truthy; returns its value or fails after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout} s")
        time.sleep(interval)
