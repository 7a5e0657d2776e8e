"""The year-end assessment's rules (docs/assessment.md §2): scores, totals, ranking and awards. Pure.

Plain data in, plain data out: the scoring table (:class:`ScoringTable`), and per unit the computed
values and the scores people typed. The computed values come from the progress rules
(:mod:`tracker.progress`): an indicator criterion from the same actual and target as ``tracker
status``, the reporting criterion from the same weekly deadline as the weekly completeness.

Decisions where the contract leaves room (each has a test):
- A target of 0 (nothing registered to do) makes an indicator criterion not applicable, as it leaves the
  indicator out of the progress score.
- With no due week yet (an assessment date before the first weekly deadline of the year) the reporting
  criterion is not applicable.
- A unit with no applicable criterion has a criteria total of 0.
- A criterion that does not apply has no computed, self, cluster or final score (all null).
- On-time weeks count the current version of each sheet: a correction received after the deadline
  replaces the sheet that was on time, and the week then counts as late only if no other current
  sheet of that week arrived in time.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

from tracker.progress import Receipt, Rules, competition_ranks, iso_week_start, weekly_deadline

MANUAL = "manual"
REPORTING = "reporting"
INDICATOR_PREFIX = "indicator:"


@dataclass(frozen=True)
class Criterion:
    code: str
    group: str
    label: str
    points: float
    source: str  # "manual" | "reporting" | "indicator:<key>"

    @property
    def computed(self) -> bool:
        return self.source != MANUAL

    @property
    def indicator(self) -> str | None:
        return self.source[len(INDICATOR_PREFIX):] if self.source.startswith(INDICATOR_PREFIX) else None


@dataclass(frozen=True)
class Extra:
    """A bonus (điểm thưởng) or penalty (điểm trừ) line: scored by hand, 0..max."""

    code: str
    label: str
    max: float


@dataclass(frozen=True)
class Award:
    name: str
    count: int


@dataclass(frozen=True)
class ScoringTable:
    total_points: float
    awards: tuple[Award, ...]
    criteria: tuple[Criterion, ...]
    bonus: tuple[Extra, ...] = ()
    penalty: tuple[Extra, ...] = ()

    def maximum(self, code: str) -> float:
        """The most a code can score (a criterion's points, a bonus or penalty line's max)."""
        for c in self.criteria:
            if c.code == code:
                return c.points
        return next(e.max for e in (*self.bonus, *self.penalty) if e.code == code)

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(x.code for x in (*self.criteria, *self.bonus, *self.penalty))


@dataclass(frozen=True)
class Computed:
    """A computed criterion's value for one unit, with what it comes from (so it can be traced)."""

    value: float | None  # None: not applicable
    actual: float | None = None  # indicator: the figure as of the assessment date
    target: float | None = None  # indicator: the registered target
    on_time: int | None = None  # reporting: weeks on time
    due: int | None = None  # reporting: weeks due

    @property
    def applicable(self) -> bool:
        return self.value is not None


@dataclass(frozen=True)
class UnitInput:
    code: str
    name: str
    computed: Mapping[str, Computed] = field(default_factory=dict)  # criterion code → value
    self_scores: Mapping[str, float | None] = field(default_factory=dict)  # manual, bonus and penalty codes
    cluster_scores: Mapping[str, float | None] = field(default_factory=dict)


@dataclass(frozen=True)
class CriterionScore:
    code: str
    points: float
    applicable: bool
    computed: float | None
    self: float | None
    cluster: float | None
    final: float | None
    source: Computed | None = None  # for a computed criterion: the figure and target, or the weeks


@dataclass(frozen=True)
class ExtraScore:
    code: str
    self: float | None
    cluster: float | None
    final: float


@dataclass(frozen=True)
class UnitAssessment:
    code: str
    name: str
    criteria: tuple[CriterionScore, ...]
    bonus: tuple[ExtraScore, ...]
    penalty: tuple[ExtraScore, ...]
    self_total: float
    criteria_total: float
    final_total: float
    rank: int | None = None
    award: str | None = None
    vote_needed: str | None = None

    def criterion(self, code: str) -> CriterionScore:
        return next(c for c in self.criteria if c.code == code)


@dataclass(frozen=True)
class Assessment:
    cluster: str
    year: int
    as_of: date
    total_points: float
    units: tuple[UnitAssessment, ...]  # in ranking order

    def unit(self, code: str) -> UnitAssessment:
        return next(u for u in self.units if u.code == code)

    def to_json(self) -> dict:
        """The ``tracker assess --format json`` object (docs/assessment.md §4)."""
        return {
            "cluster": self.cluster, "year": self.year, "as_of": self.as_of.isoformat(),
            "total_points": _number(self.total_points),
            "units": [_unit_json(u) for u in self.units],
        }


# --- rounding and scores ----------------------------------------------------------------------------


def round2(value: float) -> float:
    """Two decimals, half away from zero (2.675 → 2.68, −0.125 → −0.13), without binary surprises."""
    return float(Decimal(repr(value)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


def indicator_score(points: float, actual: float | None, target: float | None) -> Computed:
    """points × min(actual / target, 1); not applicable without a target (or with a target of 0)."""
    if not target:
        return Computed(None, actual, target)
    return Computed(round2(points * min((actual or 0.0) / target, 1.0)), actual, target)


def reporting_score(points: float, on_time: int, due: int) -> Computed:
    """points × on-time weeks / due weeks; not applicable while no week is due."""
    if due <= 0:
        return Computed(None, on_time=on_time, due=due)
    return Computed(round2(points * on_time / due), on_time=on_time, due=due)


def due_weeks(year: int, as_of: date, rules: Rules) -> list[date]:
    """Mondays of the ISO weeks that count: Monday in ``year``, weekly deadline on or before the end of
    ``as_of`` (local time)."""
    end = datetime.combine(as_of, time.max, tzinfo=ZoneInfo(rules.timezone))
    monday = iso_week_start(date(year, 1, 1))
    if monday.year < year:
        monday += timedelta(days=7)
    out = []
    while monday.year == year and weekly_deadline(monday, rules) <= end:
        out.append(monday)
        monday += timedelta(days=7)
    return out


def on_time_weeks(weeks: Sequence[date], receipts: Iterable[Receipt], rules: Rules) -> int:
    """How many of ``weeks`` (Mondays) have a sheet dated in the week and received by its deadline."""
    wanted = set(weeks)
    on_time = set()
    for r in receipts:
        monday = iso_week_start(r.as_of)
        if monday in wanted and r.received_at <= weekly_deadline(monday, rules):
            on_time.add(monday)
    return len(on_time)


def assess_unit(table: ScoringTable, unit: UnitInput) -> UnitAssessment:
    """One unit's scores and totals (rank and awards come from :func:`rank_and_award`)."""
    criteria = tuple(_criterion_score(c, unit) for c in table.criteria)
    bonus = tuple(_extra_score(e, unit) for e in table.bonus)
    penalty = tuple(_extra_score(e, unit) for e in table.penalty)
    applicable = [c for c in criteria if c.applicable]
    extras = sum(b.final for b in bonus) - sum(p.final for p in penalty)
    self_extras = sum(b.self or 0.0 for b in bonus) - sum(p.self or 0.0 for p in penalty)
    criteria_total = _normalised(table, applicable, lambda c: c.final or 0.0)
    self_criteria = _normalised(table, applicable, lambda c: c.self or 0.0)
    return UnitAssessment(
        code=unit.code, name=unit.name, criteria=criteria, bonus=bonus, penalty=penalty,
        self_total=round2(self_criteria + self_extras), criteria_total=criteria_total,
        final_total=round2(criteria_total + extras),
    )


def _normalised(table: ScoringTable, applicable: list[CriterionScore], score) -> float:
    """Σ score over applicable criteria × total_points / Σ their points (0 when none applies)."""
    points = sum(c.points for c in applicable)
    if points <= 0:
        return 0.0
    return round2(sum(score(c) for c in applicable) * table.total_points / points)


def _criterion_score(c: Criterion, unit: UnitInput) -> CriterionScore:
    if c.computed:
        source = unit.computed.get(c.code, Computed(None))
        value = source.value
        # a computed criterion's self and cluster scores are the computed value: nobody types them
        return CriterionScore(c.code, c.points, value is not None, value, value, value, value, source)
    own, cluster = _given(unit.self_scores.get(c.code)), _given(unit.cluster_scores.get(c.code))
    return CriterionScore(c.code, c.points, True, None, own, cluster, _final(own, cluster))


def _extra_score(e: Extra, unit: UnitInput) -> ExtraScore:
    own, cluster = _given(unit.self_scores.get(e.code)), _given(unit.cluster_scores.get(e.code))
    return ExtraScore(e.code, own, cluster, _final(own, cluster))


def _given(value: float | None) -> float | None:
    return None if value is None else round2(value)


def _final(own: float | None, cluster: float | None) -> float:
    """The cluster's score where given, else the unit's own, else 0."""
    return cluster if cluster is not None else (own if own is not None else 0.0)


# --- ranking and awards -----------------------------------------------------------------------------


def rank_and_award(table: ScoringTable, units: Sequence[UnitAssessment]) -> tuple[UnitAssessment, ...]:
    """Competition ranks by final total, then the awards in their order (docs/assessment.md §3).

    Each award goes to the next units in rank order up to its count. Where the units that would fill
    its last places are tied with units beyond them, the whole tied group is marked ``vote_needed`` for
    that award, its remaining places are left to the vote, and the next award starts after the group.
    The first award is the leading unit's: only units ranked 1 can get it.
    """
    ranks = competition_ranks([u.final_total for u in units])
    ranked = sorted(zip(units, ranks, strict=True), key=lambda x: (x[1], units.index(x[0])))
    award: dict[str, str] = {}
    vote: dict[str, str] = {}
    position = 0
    for n, a in enumerate(table.awards):
        places = a.count
        while places > 0 and position < len(ranked):
            rank = ranked[position][1]
            if n == 0 and rank != 1:
                break  # the first award never goes below rank 1
            group = [u.code for u, r in ranked[position:] if r == rank]
            position += len(group)
            if len(group) <= places:
                award.update(dict.fromkeys(group, a.name))
                places -= len(group)
            else:
                vote.update(dict.fromkeys(group, a.name))
                break
    return tuple(_with(u, r, award.get(u.code), vote.get(u.code)) for u, r in ranked)


def _with(u: UnitAssessment, rank: int | None, award: str | None, vote: str | None) -> UnitAssessment:
    return replace(u, rank=rank, award=award, vote_needed=vote)


def assess(table: ScoringTable, units: Sequence[UnitInput], *, cluster: str, year: int,
           as_of: date) -> Assessment:
    """Every unit's scores, ranked, with the award proposals."""
    scored = [assess_unit(table, u) for u in units]
    return Assessment(cluster, year, as_of, table.total_points, rank_and_award(table, scored))


# --- JSON -------------------------------------------------------------------------------------------


def _unit_json(u: UnitAssessment) -> dict:
    return {
        "code": u.code, "name": u.name,
        "criteria": [{"code": c.code, "points": _number(c.points), "applicable": c.applicable,
                      "computed": _number(c.computed), "self": _number(c.self), "cluster": _number(c.cluster),
                      "final": _number(c.final)} for c in u.criteria],
        "bonus": [_extra_json(e) for e in u.bonus],
        "penalty": [_extra_json(e) for e in u.penalty],
        "self_total": _number(u.self_total), "final_total": _number(u.final_total),
        "rank": u.rank, "award": u.award, "vote_needed": u.vote_needed,
    }


def _extra_json(e: ExtraScore) -> dict:
    return {"code": e.code, "self": _number(e.self), "cluster": _number(e.cluster), "final": _number(e.final)}


def _number(value: float | None) -> int | float | None:
    if value is None:
        return None
    value = round(float(value), 6)
    return int(value) if value.is_integer() else value
