"""The dashboard's charts: drawn by :mod:`tracker.reporting.charts` (the same charts as the weekly
e-mail), as PNG files cached under ``<reports>/web/charts/`` and keyed by the data they show.

A chart is redrawn only when the date asked for or the data changes (a new submission, a new target
registration, another config): the key is a digest of those.
"""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import func
from sqlmodel import select

from tracker import models

if TYPE_CHECKING:
    from tracker.context import Context
    from tracker.progress import ClusterProgress


# matplotlib's style is process-global state (rc_context): one chart is drawn at a time.
_DRAWING = threading.Lock()


@dataclass(frozen=True)
class ChartRef:
    name: str  # the URL name: ranking | over-time | percent-<indicator key>
    title: str


def chart_refs(progress: ClusterProgress) -> list[ChartRef]:
    refs = [ChartRef("ranking", "Xếp hạng thi đua"), ChartRef("over-time", "Tiến độ toàn cụm theo tuần")]
    refs += [ChartRef(f"percent-{spec.key}", f"Tỷ lệ thực hiện chỉ tiêu: {spec.label}")
             for spec in progress.indicators]
    return refs


def data_version(ctx: Context) -> str:
    """A digest that changes whenever what the charts show could change."""
    cid = ctx.cluster_id
    with ctx.session() as session:
        last_submission = session.exec(
            select(func.max(models.Submission.id)).where(models.Submission.cluster_id == cid)).one()
        last_target = session.exec(select(func.max(models.Target.id)).where(models.Target.cluster_id == cid)).one()
    settings = ctx.settings
    basis = repr((last_submission, last_target, settings.thresholds, settings.scoring, settings.indicators,
                  settings.districts, settings.cluster.report_deadline))
    return hashlib.sha256(basis.encode("utf-8")).hexdigest()[:16]


def chart_png(ctx: Context, as_of: date, name: str) -> Path | None:
    """The PNG of chart ``name`` as of ``as_of`` (drawn now, or from the cache); None for an unknown name."""
    folder = ctx.settings.paths.reports / "web" / "charts" / f"{as_of.isoformat()}-{data_version(ctx)}"
    path = folder / f"{name}.png"
    if path.is_file():
        return path
    with _DRAWING:
        if path.is_file():  # drawn by another request while this one waited
            return path
        return _draw(ctx, as_of, name, path)


def _draw(ctx: Context, as_of: date, name: str, path: Path) -> Path | None:
    from tracker.progress import compute, weekly_history
    from tracker.reporting import charts
    from tracker.standing import load_input

    with ctx.session() as session:
        inp = load_input(session, ctx.settings, as_of)
    progress = compute(inp)
    keys = {spec.key for spec in progress.indicators}
    if name == "ranking":
        fig = charts.ranking(progress)
    elif name == "over-time":
        fig = charts.cluster_progress_over_time(weekly_history(inp, as_of))
    elif name.startswith("percent-") and name.removeprefix("percent-") in keys:
        fig = charts.percent_by_district(progress, name.removeprefix("percent-"))
    else:
        return None
    # Written under a temporary name and renamed, so a reader never gets half a file.
    tmp = path.with_name(f".{name}.tmp.png")
    charts.save_png(fig, tmp)
    tmp.replace(path)
    return path
