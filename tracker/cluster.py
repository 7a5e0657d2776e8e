"""The cluster as the database knows it: loaded from the settings by ``tracker init``.

``sync_cluster`` is idempotent: running it twice changes nothing; after an edit of the config it
updates names and contacts and registers changed config targets as new registrations. Districts and
indicators removed from the config are kept (their history stays readable), never deleted.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlmodel import Session, select

from tracker import models
from tracker.config import Settings
from tracker.targets import register_targets


@dataclass
class SyncSummary:
    cluster_created: bool = False
    districts_added: list[str] = field(default_factory=list)
    districts_updated: list[str] = field(default_factory=list)
    indicators_added: list[str] = field(default_factory=list)
    indicators_updated: list[str] = field(default_factory=list)
    targets_registered: int = 0
    targets_unchanged: int = 0

    @property
    def changed(self) -> bool:
        return bool(self.cluster_created or self.districts_added or self.districts_updated
                    or self.indicators_added or self.indicators_updated or self.targets_registered)


def _update(row, values: dict) -> bool:
    changed = False
    for k, v in values.items():
        if getattr(row, k) != v:
            setattr(row, k, v)
            changed = True
    return changed


def sync_cluster(session: Session, settings: Settings) -> SyncSummary:
    c = settings.cluster
    summary = SyncSummary()
    row = session.get(models.Cluster, c.id)
    values = {"name": c.name, "year": c.year, "timezone": c.timezone, "head_name": c.head.name,
              "head_emails": list(c.head.emails)}
    if row is None:
        session.add(models.Cluster(id=c.id, **values))
        summary.cluster_created = True
    elif _update(row, values):
        row.updated_at = models.utcnow()
    session.flush()

    existing = {d.code: d for d in session.exec(select(models.District).where(models.District.cluster_id == c.id))}
    for pos, d in enumerate(settings.districts):
        values = {"name": d.name, "emails": list(d.emails), "position": pos}
        if d.code not in existing:
            session.add(models.District(cluster_id=c.id, code=d.code, **values))
            summary.districts_added.append(d.code)
        elif _update(existing[d.code], values):
            summary.districts_updated.append(d.code)

    existing_ind = {
        i.key: i for i in session.exec(select(models.Indicator).where(models.Indicator.cluster_id == c.id))
    }
    for pos, ind in enumerate(settings.indicators):
        values = {"label": ind.label, "label_en": ind.label_en, "unit": ind.unit, "kind": ind.kind,
                  "weight": ind.weight, "deadline": ind.deadline, "position": pos}
        if ind.key not in existing_ind:
            session.add(models.Indicator(cluster_id=c.id, key=ind.key, **values))
            summary.indicators_added.append(ind.key)
        elif _update(existing_ind[ind.key], values):
            summary.indicators_updated.append(ind.key)
    session.flush()

    wanted = {(code, key): value for code, per in settings.targets.items() for key, value in per.items()}
    regs = register_targets(session, c.id, c.year, wanted, source="config",
                            source_ref=str(settings.source), only_if_changed_from_source=True)
    summary.targets_registered = sum(r.changed for r in regs)
    summary.targets_unchanged = sum(not r.changed for r in regs)
    return summary
