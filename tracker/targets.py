"""Registered targets (đăng ký chỉ tiêu): registration with history, and the current value.

A target is never overwritten: each registration is a row, and the most recent one is the target.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session, select

from tracker.models import District, Indicator, Target, utcnow


@dataclass(frozen=True)
class Registration:
    district: str
    indicator: str
    value: float
    changed: bool  # False when the value equals the current target (nothing registered)


def current_targets(
    session: Session, cluster_id: str, year: int, *, source: str | None = None, unit: str | None = None
) -> dict[tuple[str, str], float]:
    """{(district code, indicator key): value} of the most recent registration of each pair.

    With ``source``, only registrations from that source count; with ``unit``, only that district's.
    """
    query = (
        select(District.code, Indicator.key, Target.value, Target.registered_at, Target.id)
        .join(District, District.id == Target.district_id)
        .join(Indicator, Indicator.id == Target.indicator_id)
        .where(Target.cluster_id == cluster_id, Target.year == year)
    )
    if source is not None:
        query = query.where(Target.source == source)
    if unit is not None:
        query = query.where(District.code == unit)
    latest: dict[tuple[str, str], tuple] = {}
    for code, key, value, at, tid in session.exec(query).all():
        if (code, key) not in latest or (at, tid) > latest[(code, key)][:2]:
            latest[(code, key)] = (at, tid, value)
    return {pair: v[2] for pair, v in latest.items()}


def register_targets(
    session: Session,
    cluster_id: str,
    year: int,
    values: dict[tuple[str, str], float],
    *,
    source: str,
    source_ref: str = "",
    only_if_changed_from_source: bool = False,
) -> list[Registration]:
    """Register each (district code, indicator key) → value; returns what happened to each.

    A value equal to the current target is not registered again. With
    ``only_if_changed_from_source`` (the config), the comparison is with the last registration *from
    that source*, so a target imported from a workbook is not overridden by an unchanged config value.
    """
    districts = {d.code: d.id for d in session.exec(select(District).where(District.cluster_id == cluster_id))}
    indicators = {i.key: i.id for i in session.exec(select(Indicator).where(Indicator.cluster_id == cluster_id))}
    previous = current_targets(session, cluster_id, year,
                               source=source if only_if_changed_from_source else None)
    now = utcnow()
    out = []
    for (code, key), value in sorted(values.items()):
        changed = previous.get((code, key)) != float(value)
        if changed:
            session.add(Target(cluster_id=cluster_id, year=year, district_id=districts[code],
                               indicator_id=indicators[key], value=float(value), source=source,
                               source_ref=source_ref, registered_at=now))
        out.append(Registration(code, key, float(value), changed))
    session.flush()
    return out
