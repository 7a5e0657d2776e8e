"""The one clock of the jobs area (tests replace it, and APScheduler's, with a controlled one)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo


def now() -> datetime:
    """The current time, aware, in UTC."""
    return datetime.now(UTC)


def local_today(tz: ZoneInfo) -> date:
    """Today's date in the cluster's time zone."""
    return now().astimezone(tz).date()
