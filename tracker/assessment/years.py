"""The years a cluster has (docs/assessment.md §7): a self-assessment or a cross-check of another year is
refused."""

from __future__ import annotations

from sqlmodel import Session

from tracker.config import Settings
from tracker.standing import years_with_data


def cluster_years(session: Session, settings: Settings) -> set[int]:
    """The config's year and every year with registered targets or accepted figures
    (:func:`tracker.standing.years_with_data`)."""
    return {settings.cluster.year, *years_with_data(session, settings.cluster.id)}
