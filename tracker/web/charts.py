"""The dashboard's charts: drawn by :mod:`tracker.reporting.charts` (the same charts as the weekly
e-mail), as PNG files cached under ``<reports>/web/charts/`` and keyed by the data they show.

A chart is redrawn only when the date asked for or the data changes (a new submission, a new target
registration, another config): the key is a digest of those. Each key is a folder, so the cache keeps
only the :data:`CACHE_FOLDERS` most recently used and deletes the others when it starts a new one.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import shutil
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


# matplotlib's style is process-global state (rc_context): one chart is drawn at a time. Pruning happens
# under the same lock, so it never removes a folder a drawing is writing into.
_DRAWING = threading.Lock()

# Today's dashboard and a few other dates or data versions looked at lately (a folder: 7 charts, ~0.65 MB).
CACHE_FOLDERS = 12
_CACHE_FOLDER = re.compile(r"\d{4}-\d{2}-\d{2}-[0-9a-f]{16}")  # <as_of>-<data_version>: nothing else is deleted


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


def chart_png(ctx: Context, as_of: date, name: str) -> bytes | None:
    """The PNG of chart ``name`` as of ``as_of`` (from the cache, or drawn now); None for an unknown name.

    The bytes, not a path: a folder may be pruned as soon as the lock is released, and a file already
    read is served whatever happens to it.
    """
    root = ctx.settings.paths.reports / "web" / "charts"
    folder = root / f"{as_of.isoformat()}-{data_version(ctx)}"
    path = folder / f"{name}.png"
    cached = _read(path)
    if cached is not None:
        return cached
    with _DRAWING:
        cached = _read(path)  # drawn by another request while this one waited
        if cached is not None:
            return cached
        new_folder = not folder.exists()
        if _draw(ctx, as_of, name, path) is None:
            return None
        if new_folder:
            prune(root, keep=CACHE_FOLDERS)
        return path.read_bytes()


def prune(root: Path, keep: int) -> None:
    """Delete all but the ``keep`` cache folders under ``root`` used most recently (by modification time)."""
    folders = [p for p in root.iterdir() if _CACHE_FOLDER.fullmatch(p.name) and p.is_dir()]
    folders.sort(key=_mtime, reverse=True)
    for old in folders[keep:]:
        shutil.rmtree(old, ignore_errors=True)  # another server process may be deleting it too


def _read(path: Path) -> bytes | None:
    try:
        data = path.read_bytes()
    except FileNotFoundError:  # not drawn yet, or its folder was just pruned
        return None
    with contextlib.suppress(OSError):  # a cache hit keeps its folder among the most recently used
        os.utime(path.parent)
    return data


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:  # deleted meanwhile
        return 0.0


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
