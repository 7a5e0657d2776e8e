"""The reports the cluster head can download from the dashboard: the latest weekly report, the latest
review pack and the latest assessment, as written by :mod:`tracker.reporting` (``<reports>/weekly/2023-W26/``,
``<reports>/review/2023-H1/``, ``<reports>/assessment/2023/``).

Only files directly inside those folders are served, looked up by name among the folder's own
listing, so no path typed in a URL can reach anything else.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

KINDS = ("weekly", "review", "assessment")
# The order files are listed in: the documents people open first, then the charts.
_ORDER = (".pdf", ".pptx", ".xlsx", ".docx", ".md", ".png")
_SKIP = {"email.html", "email.txt"}  # the e-mail body is what was mailed, not a document to download
_WEEK = re.compile(r"^(\d{4})-W(\d{2})$")


@dataclass(frozen=True)
class Download:
    kind: str  # weekly | review | assessment
    period: str  # the folder: 2023-W26, 2023-H1, 2023
    name: str  # the file name (may be Vietnamese)
    size: int

    @property
    def path(self) -> str:
        """The part of the download URL after ``/h/<token>/files/``."""
        return f"{self.kind}/{quote(self.period)}/{quote(self.name)}"


@dataclass(frozen=True)
class DownloadGroup:
    kind: str
    period: str
    title: str
    files: tuple[Download, ...]


def _period_order(kind: str, name: str) -> tuple[int, int, int] | None:
    """Sort key of a report folder name, or None for a folder that is not a report period."""
    if kind == "weekly":
        m = _WEEK.match(name)
        return (int(m.group(1)), int(m.group(2)), 0) if m else None
    m = re.fullmatch(r"(\d{4})(-H1)?" if kind == "review" else r"(\d{4})()", name)
    return (int(m.group(1)), 1 if m.group(2) else 2, 0) if m else None


def latest(reports: Path, kind: str) -> DownloadGroup | None:
    folder = reports / kind
    if not folder.is_dir():
        return None
    periods = [(key, p) for p in folder.iterdir() if p.is_dir() and (key := _period_order(kind, p.name))]
    for _key, period in sorted(periods, reverse=True):
        files = _files(kind, period)
        if files:
            return DownloadGroup(kind, period.name, _title(kind, period.name), files)
    return None


def _files(kind: str, folder: Path) -> tuple[Download, ...]:
    found = [p for p in folder.iterdir()
             if p.is_file() and not p.name.startswith(".") and p.name not in _SKIP and p.suffix.lower() in _ORDER]
    found.sort(key=lambda p: (_ORDER.index(p.suffix.lower()), p.name))
    return tuple(Download(kind, folder.name, p.name, p.stat().st_size) for p in found)


def _title(kind: str, period: str) -> str:
    if kind == "weekly":
        year, week = _WEEK.match(period).groups()
        return f"Báo cáo tiến độ tuần {int(week)}/{year}"
    if kind == "assessment":
        return f"Kết quả chấm điểm thi đua năm {period}"
    if period.endswith("-H1"):
        return f"Tài liệu sơ kết 6 tháng đầu năm {period[:4]}"
    return f"Tài liệu tổng kết năm {period}"


def latest_groups(reports: Path) -> list[DownloadGroup]:
    return [g for kind in KINDS if (g := latest(reports, kind)) is not None]


def find(reports: Path, kind: str, period: str, name: str) -> Path | None:
    """The file ``name`` of report folder ``kind/period``, if it is one the dashboard lists."""
    if kind not in KINDS or _period_order(kind, period) is None:
        return None
    folder = reports / kind / period
    if not folder.is_dir():
        return None
    for download in _files(kind, folder):
        if download.name == name:
            return folder / download.name
    return None
