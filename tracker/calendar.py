"""Periods of the emulation year: review periods (``2023-H1``, ``2023``). Pure and neutral: every area uses it."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from tracker.errors import TrackerError


@dataclass(frozen=True)
class Period:
    key: str  # "2023-H1" | "2023"
    year: int
    as_of: date  # the period's last day
    title: str  # "sơ kết 6 tháng đầu năm 2023"
    meeting: str  # "Hội nghị sơ kết 6 tháng đầu năm 2023"


def parse_period(text: str, year: int | None = None) -> Period:
    """``2023-H1`` (as of 30/06) or ``2023`` (as of 31/12). With ``year``, the period must be in it."""
    m = re.fullmatch(r"\s*(\d{4})(?:-?(H1|h1))?\s*", text or "")
    if not m:
        raise TrackerError(f"Kỳ không hợp lệ: {text!r} (viết 2023-H1 cho sơ kết 6 tháng, 2023 cho tổng kết năm).",
                           f"Invalid period {text!r} (write 2023-H1 for the six-month review, 2023 for the year).",
                           exit_code=2)
    y = int(m.group(1))
    if year is not None and y != year:
        raise TrackerError(f"Kỳ {text} nằm ngoài năm thi đua {year} của cụm.",
                           f"The period {text} is outside the cluster year {year}.", exit_code=2)
    if m.group(2):
        title = f"sơ kết 6 tháng đầu năm {y}"
        return Period(f"{y}-H1", y, date(y, 6, 30), title, f"Hội nghị {title}")
    title = f"tổng kết năm {y}"
    return Period(str(y), y, date(y, 12, 31), title, f"Hội nghị {title}")


def default_period(year: int, today: date) -> str:
    """The year once it is over, else its first half (the review-pack job runs on 5 July and 5 January)."""
    return str(year) if today.year > year else f"{year}-H1"


def period_start(period: Period) -> date:
    """1 January of the period's year (both review periods start there: figures are year to date)."""
    return date(period.year, 1, 1)
