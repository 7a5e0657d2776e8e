"""The one clock of the jobs area (tests replace it, and APScheduler's, with a controlled one).

A scheduled run also knows when it was *due* (:func:`scheduled_for`), so what it covers depends on its
schedule, not on how late it started (a run delayed past midnight by downtime still covers its own day).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

_due = threading.local()


def now() -> datetime:
    """The current time, aware, in UTC."""
    return datetime.now(UTC)


def local_today(tz: ZoneInfo) -> date:
    """Today's date in the cluster's time zone."""
    return now().astimezone(tz).date()


@contextmanager
def scheduled(at: datetime) -> Iterator[None]:
    """Within this block (one worker thread), the running job was due at ``at``."""
    _due.at = at
    try:
        yield
    finally:
        _due.at = None


def scheduled_for() -> datetime | None:
    """When the job running in this thread was due, if the scheduler started it."""
    return getattr(_due, "at", None)


def run_date(tz: ZoneInfo) -> date:
    """The day a run counts as happening on: the day it was due, else today (cluster time zone)."""
    due = scheduled_for()
    return due.astimezone(tz).date() if due is not None else local_today(tz)
