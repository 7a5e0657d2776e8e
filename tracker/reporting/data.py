"""What a report is made of: plain data, gathered once, rendered into every format.

The numbers come only from the progress engine (:class:`~tracker.progress.ClusterProgress`); the
lineage and submission rows are the stored facts behind them, straight from the database.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from tracker.progress import ClusterProgress, IndicatorSpec, Rules


@dataclass(frozen=True)
class LineageRow:
    """One stored figure and where it came from (the `Dữ liệu` sheet)."""

    district: str
    district_name: str
    indicator: str
    indicator_label: str
    as_of: date
    value: float
    period_value: float | None
    note: str | None  # "Ghi chú" as typed by the district: untrusted text
    file_name: str  # untrusted text
    file_hash: str
    sheet: str  # untrusted text
    cell: str
    received_at: datetime  # local time of the cluster
    source: str
    sender: str | None  # untrusted text
    submission_id: int
    current: bool  # False when a later version for the same district and as-of date superseded it


@dataclass(frozen=True)
class SubmissionSummary:
    """A district's uploads in the year up to the report date (the `Tình hình nộp báo cáo` sheet)."""

    district: str
    accepted: int
    rejected: int
    last_received_at: datetime | None  # local time
    last_file_name: str | None  # untrusted text
    imported: int = 0  # figures' dates imported from a summary workbook (`tracker history import`), not uploads


@dataclass(frozen=True)
class Confirmer:
    """A unit whose confirmation of a closed period's figures is valid (docs/closing.md §1)."""

    district: str  # the unit's name
    by: str  # who confirmed: the portal link's label or ``--by`` (untrusted text)
    at: datetime  # when, local time


@dataclass(frozen=True)
class ClosedFigures:
    """A closed period's figures are the report's: when and as of which day they were frozen, who
    confirmed them, and how many sheets amended them since (not counted in the report)."""

    as_of: date  # the close's date: "Số liệu chốt ngày dd/mm/yyyy"
    closed_at: datetime  # local time
    confirmed: tuple[Confirmer, ...]  # in config order
    not_confirmed: tuple[str, ...]  # unit names, config order
    amendments: int  # sheets accepted after the close and dated on or before its date


@dataclass(frozen=True)
class AmendmentRow:
    """A figure of a closed period that changed after the close (docs/closing.md §3): what the meeting
    saw, and what the unit sent since. The head decides whether to reopen the period."""

    period: str  # "2023-H1" | "2023"
    closed_as_of: date  # the date the close froze the figures as of
    district: str
    district_name: str
    indicator: str
    indicator_label: str
    closed_value: float | None
    new_value: float | None


@dataclass(frozen=True)
class ReportData:
    progress: ClusterProgress  # as of the report date
    history: tuple[ClusterProgress, ...]  # one per week up to the report date, oldest first; last is `progress`
    rules: Rules
    lineage: tuple[LineageRow, ...] = ()
    submissions: tuple[SubmissionSummary, ...] = ()
    head_name: str = ""
    generated_at: datetime | None = None  # local time
    district_order: tuple[str, ...] = ()  # district codes in config order (for lists that are not rankings)
    closed: ClosedFigures | None = None  # set when the figures are a closed period's snapshot (review pack)
    amendments: tuple[AmendmentRow, ...] = ()  # closed periods of the year changed since (weekly report only)

    @property
    def as_of(self) -> date:
        return self.progress.as_of

    @property
    def year(self) -> int:
        return self.progress.year

    def districts_in_order(self) -> list:
        """The districts in config order (the ranking order when unknown)."""
        order = {code: n for n, code in enumerate(self.district_order)}
        return sorted(self.progress.districts, key=lambda d: order.get(d.code, len(order)))

    def reporting_weeks(self) -> list[ClusterProgress]:
        """The weeks districts could report in: those whose reporting deadline falls in the cluster year
        (not the days of 1 January that close the previous year's last ISO week)."""
        start = date(self.year, 1, 1)
        return [p for p in self.history if p.week_deadline is None or p.week_deadline.date() >= start]

    def spec(self, key: str) -> IndicatorSpec:
        return next(i for i in self.progress.indicators if i.key == key)
