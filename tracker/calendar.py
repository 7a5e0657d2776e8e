"""Week keys, review periods and short names: the words every area uses to file and title its outputs.

Neutral ground: the jobs (which week a run covers), reporting (folders, titles), mail (subjects, outbox
periods) and the mailbox receipt all need the same ``2023-W26`` and the same ``Cụm thi đua số 1``, and
none of them should import another for it. Pure functions, no I/O; every string returned is NFC.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from tracker.errors import TrackerError
from tracker.text import nfc

_SEPARATOR = re.compile(r"\s+[-–—]\s+")
_DISTRICT_PREFIX = re.compile(
    r"^(?:LĐLĐ|Liên đoàn Lao động|LDLD)\s+(?:quận|huyện|thị xã|thành phố|TP\.?)\s+", re.IGNORECASE
)


def iso_week(as_of: date) -> tuple[int, int]:
    """(ISO year, ISO week) of a date: 30/06/2023 → (2023, 26)."""
    iso = as_of.isocalendar()
    return iso.year, iso.week


def week_period(as_of: date) -> str:
    """``2023-W26``: the period key of a weekly report (folders, outbox, job runs)."""
    year, week = iso_week(as_of)
    return f"{year}-W{week:02d}"


def cluster_short_name(name: str) -> str:
    """``Cụm thi đua số 1 - LĐLĐ thành phố Hà Nội`` → ``Cụm thi đua số 1`` (the part before a dash)."""
    name = nfc(name).strip()
    return _SEPARATOR.split(name, maxsplit=1)[0].strip() or name


def district_short_name(name: str) -> str:
    """``LĐLĐ quận Hai Bà Trưng`` → ``Hai Bà Trưng``, for chart axes; other names are kept whole."""
    name = nfc(name).strip()
    return _DISTRICT_PREFIX.sub("", name).strip() or name


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
