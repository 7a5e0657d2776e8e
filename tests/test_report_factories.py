"""Plain factories for the report tests (no tests here): a realistic Cluster No. 1 half-year.

The figures follow docs/outputs.md §6 (new unions: Long Biên 16, Hai Bà Trưng 19, Ba Đình 15; agreements: Long
Biên 11, Đống Đa 21, Hoàn Kiếm 16; every congress finished by 31/05, Hoàng Mai, Long Biên, Hoàn Kiếm
and Đống Đa ahead). The progress itself always comes from the real engine (`compute`).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import select

from tests.conftest import SAMPLE_CONFIG
from tracker import models
from tracker.config import load_settings
from tracker.progress import DistrictSpec, Observation, ProgressInput, Receipt
from tracker.standing import indicator_specs, rules_from_settings

HANOI = ZoneInfo("Asia/Ho_Chi_Minh")

# Year-to-date values on 30/06/2023 (except congresses: the day each district finished, and its total).
FINAL = {
    "HBT": {"new_unions": 19, "agreements": 9, "new_members": 1320, "union_fees": 2105.5},
    "HM": {"new_unions": 14, "agreements": 12, "new_members": 1710, "union_fees": 1690.0},
    "BD": {"new_unions": 15, "agreements": 5, "new_members": 610, "union_fees": 1980.25},
    "LB": {"new_unions": 16, "agreements": 11, "new_members": 1450, "union_fees": 1720.0},
    "HK": {"new_unions": 6, "agreements": 16, "new_members": 930, "union_fees": 2410.0},
    "DD": {"new_unions": 12, "agreements": 21, "new_members": 1240, "union_fees": 1450.0},
}
CONGRESS_DONE = {"HBT": date(2023, 5, 31), "HM": date(2023, 5, 12), "BD": date(2023, 5, 31),
                 "LB": date(2023, 5, 19), "HK": date(2023, 4, 28), "DD": date(2023, 5, 26)}
AMOUNT_KEYS = {"union_fees"}


def sample_settings():
    return load_settings(SAMPLE_CONFIG, env={})


def report_days(until: date) -> list[date]:
    """Every Friday from the first week of 2023 up to ``until``, plus 31/05 (congress deadline day)."""
    day = date(2023, 1, 6)
    out = []
    while day <= until:
        out.append(day)
        day += timedelta(days=7)
    if date(2023, 5, 31) <= until:
        out.append(date(2023, 5, 31))
    return sorted(out)


def value_on(code: str, key: str, day: date, targets: dict) -> float:
    """A smooth year-to-date curve reaching FINAL on 30/06 (congresses: the target on CONGRESS_DONE)."""
    start = date(2023, 1, 1)
    if key == "congresses":
        done = CONGRESS_DONE[code]
        total = targets[(code, key)]
        if day >= done:
            return total
        share = max(0.0, (day - start).days / (done - start).days)
        return float(min(total - 1, int(total * share ** 1.4)))
    final = FINAL[code][key]
    share = max(0.0, min(1.0, (day - start).days / (date(2023, 6, 30) - start).days))
    v = final * share ** 1.15
    return round(v, 1) if key in AMOUNT_KEYS else float(int(v))


def sample_input(as_of: date = date(2023, 6, 30), *, missing_last_week: tuple[str, ...] = ("BD",),
                 late_last_week: tuple[str, ...] = ("HK",), settings=None) -> ProgressInput:
    """A half-year of weekly sheets of the six districts, as plain engine input."""
    settings = settings or sample_settings()
    targets = {(code, key): float(v) for code, per in settings.targets.items() for key, v in per.items()}
    days = report_days(as_of)
    last_week = {d for d in days if d.isocalendar()[:2] == as_of.isocalendar()[:2]}
    observations, receipts = [], []
    sid = 0
    for d in settings.districts:
        for day in days:
            if day in last_week and d.code in missing_last_week:
                continue
            sid += 1
            hour = 18 if (day in last_week and d.code in late_last_week) else 10
            received = datetime.combine(day, datetime.min.time(), HANOI).replace(hour=hour).astimezone(UTC)
            receipts.append(Receipt(d.code, day, received, sid))
            for spec in settings.indicators:
                observations.append(Observation(d.code, spec.key, day, value_on(d.code, spec.key, day, targets),
                                                received, sid))
    return ProgressInput(
        cluster_id=settings.cluster.id, cluster_name=settings.cluster.name, year=2023, as_of=as_of,
        districts=tuple(DistrictSpec(d.code, d.name) for d in settings.districts),
        indicators=indicator_specs(settings), targets=targets, observations=tuple(observations),
        receipts=tuple(receipts), rules=rules_from_settings(settings),
    )


def store_sample(session, settings, as_of: date = date(2023, 6, 30), *, notes: dict | None = None,
                 **kwargs) -> int:
    """Write the sample half-year into the database as the intake would: submissions and figures with
    lineage. ``notes`` maps (district, as_of, indicator) to the `Ghi chú` text. Returns the number of figures."""
    inp = sample_input(as_of, settings=settings, **kwargs)
    cid = settings.cluster.id
    district_id = {d.code: d.id for d in session.exec(select(models.District).where(models.District.cluster_id == cid))}
    indicator_id = {i.key: i.id
                    for i in session.exec(select(models.Indicator).where(models.Indicator.cluster_id == cid))}
    position = {spec.key: n for n, spec in enumerate(settings.indicators)}
    subs: dict[int, models.Submission] = {}
    for r in inp.receipts:
        sub = models.Submission(
            cluster_id=cid, file_hash=f"{r.submission_id:064x}",
            file_name=f"Báo cáo tuần {r.district} {r.as_of:%d-%m-%Y}.xlsx", stored_path="", source="inbox",
            sender=f"{r.district.lower()}@example.org", received_at=r.received_at, status="accepted",
            district_id=district_id[r.district], as_of=r.as_of, sheet="Báo cáo")
        session.add(sub)
        subs[r.submission_id] = sub
    session.flush()
    count = 0
    for o in inp.observations:
        sub = subs[o.submission_id]
        session.add(models.Figure(
            cluster_id=cid, submission_id=sub.id, district_id=district_id[o.district],
            indicator_id=indicator_id[o.indicator], as_of=o.as_of, value=o.value,
            note=(notes or {}).get((o.district, o.as_of, o.indicator)), sheet="Báo cáo",
            cell=f"F{9 + position[o.indicator]}"))
        count += 1
    session.flush()
    return count
