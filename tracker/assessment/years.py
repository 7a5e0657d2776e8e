"""The years a cluster has (docs/assessment.md §7): a self-assessment or a cross-check of another year is
refused."""

from __future__ import annotations

from sqlalchemy import func
from sqlmodel import Session, select

from tracker import models
from tracker.config import Settings


def cluster_years(session: Session, settings: Settings) -> set[int]:
    """The config's year, every year with a registered target, and the years from the first to the last
    figure received."""
    cid = settings.cluster.id
    years = {settings.cluster.year}
    years |= set(session.exec(select(models.Target.year).where(models.Target.cluster_id == cid).distinct()).all())
    first, last = session.exec(select(func.min(models.Figure.as_of), func.max(models.Figure.as_of))
                               .where(models.Figure.cluster_id == cid)).one()
    if first is not None and last is not None:
        years |= set(range(first.year, last.year + 1))
    return years
