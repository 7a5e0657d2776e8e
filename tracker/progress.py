"""The progress rules of DESIGN §3 — the one implementation used by status, reports and e-mails.

Pure functions over plain data: no database, no files, no clock. ``tracker.standing`` loads a
:class:`ProgressInput` from the database; everything that shows progress calls :func:`compute`.

INTERFACE (fixed, shared by reports, mail and web): the dataclasses below and
``compute(inp, as_of=None) -> ClusterProgress`` and ``ClusterProgress.to_json()``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Literal

Status = Literal["achieved", "on_track", "behind", "at_risk", "no_data", "no_target"]
STATUSES: tuple[Status, ...] = ("achieved", "on_track", "behind", "at_risk", "no_data", "no_target")


@dataclass(frozen=True)
class IndicatorSpec:
    key: str
    label: str
    label_en: str
    unit: str = ""
    kind: str = "count"  # count | amount
    weight: float = 1.0
    deadline: tuple[int, int] | None = None  # (month, day)


@dataclass(frozen=True)
class DistrictSpec:
    code: str
    name: str


@dataclass(frozen=True)
class Observation:
    """One accepted year-to-date figure (from a submission that is not superseded or not; see §2)."""

    district: str
    indicator: str
    as_of: date
    value: float
    received_at: datetime  # aware; breaks ties between versions with the same as_of (last received wins)
    submission_id: int = 0


@dataclass(frozen=True)
class Receipt:
    """One accepted submission (for reporting completeness: reported this week, late)."""

    district: str
    as_of: date
    received_at: datetime  # aware
    submission_id: int = 0


@dataclass(frozen=True)
class Rules:
    behind_ratio: float = 0.8
    score_cap: float = 1.2
    scoring_method: Literal["capped", "leader"] = "capped"
    deadline_weekday: int = 5  # ISO weekday of the weekly reporting deadline (5 = Friday)
    deadline_time: time = time(17, 0)
    timezone: str = "Asia/Ho_Chi_Minh"


@dataclass(frozen=True)
class QualityNote:
    """A data-quality finding worth showing next to the numbers (a warning, a correction, a late report)."""

    district: str
    kind: str  # warning code from intake, or "late"
    message_vi: str
    message_en: str
    as_of: date | None = None
    indicator: str | None = None
    cell: str | None = None  # "Báo cáo!D9"


@dataclass(frozen=True)
class ProgressInput:
    cluster_id: str
    cluster_name: str
    year: int
    as_of: date
    districts: tuple[DistrictSpec, ...]
    indicators: tuple[IndicatorSpec, ...]
    targets: dict[tuple[str, str], float]  # (district code, indicator key) -> current target
    observations: tuple[Observation, ...]
    receipts: tuple[Receipt, ...]
    rules: Rules = Rules()
    notes: tuple[QualityNote, ...] = ()


@dataclass(frozen=True)
class IndicatorProgress:
    key: str
    actual: float | None
    target: float | None
    percent: float | None
    expected: float | None
    projected: float | None
    status: Status
    achieved_on: date | None
    as_of: date | None = None  # as_of of the figure used (None: no figure)


@dataclass(frozen=True)
class DistrictProgress:
    code: str
    name: str
    score: float | None
    rank: int | None
    last_as_of: date | None
    reported_this_week: bool
    late: bool
    indicators: tuple[IndicatorProgress, ...]

    def indicator(self, key: str) -> IndicatorProgress:
        return next(i for i in self.indicators if i.key == key)


@dataclass(frozen=True)
class TotalProgress:
    key: str
    actual: float
    target: float | None
    percent: float | None


@dataclass(frozen=True)
class ClusterProgress:
    cluster: str
    cluster_name: str
    year: int
    as_of: date
    indicators: tuple[IndicatorSpec, ...]
    districts: tuple[DistrictProgress, ...]  # in ranking order (rank, then config order)
    totals: tuple[TotalProgress, ...]
    notes: tuple[QualityNote, ...] = field(default=())

    def district(self, code: str) -> DistrictProgress:
        return next(d for d in self.districts if d.code == code)

    def to_json(self) -> dict:
        """The ``status --format json`` object of DESIGN §5 (rounded as §3 says)."""
        raise NotImplementedError


def compute(inp: ProgressInput, as_of: date | None = None) -> ClusterProgress:
    """Apply DESIGN §3 as of ``as_of`` (default ``inp.as_of``); observations after that date are ignored."""
    raise NotImplementedError
