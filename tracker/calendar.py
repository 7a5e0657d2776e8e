"""Week keys and short names: the words every area uses to file and title its outputs.

Neutral ground: the jobs (which week a run covers), reporting (folders, titles), mail (subjects, outbox
periods) and the mailbox receipt all need the same ``2023-W26`` and the same ``Cụm thi đua số 1``, and
none of them should import another for it. Pure functions, no I/O; every string returned is NFC.
"""

from __future__ import annotations

import re
from datetime import date

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
