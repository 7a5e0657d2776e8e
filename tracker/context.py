"""What every command works with: the settings and the database engine of one cluster."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import Engine
from sqlmodel import Session

from tracker import models
from tracker.cluster import sync_cluster
from tracker.config import Settings, load_settings
from tracker.db import check_sqlite_file, explained, get_engine, migrate, session_scope, sqlite_path
from tracker.errors import NotInitialised


@dataclass
class Context:
    settings: Settings
    engine: Engine

    @property
    def cluster_id(self) -> str:
        return self.settings.cluster.id

    @contextmanager
    def session(self, *, write: bool = False) -> Iterator[Session]:
        """A transaction (see :func:`tracker.db.session_scope`); a database that cannot be used (missing,
        not a database, read-only, server down) raises one clear DatabaseProblem instead of a driver error."""
        with explained(self.settings.database.url), session_scope(self.engine, write=write) as session:
            yield session


def open_context(config: str | Path | None = None, *, settings: Settings | None = None) -> Context:
    settings = settings or load_settings(config)
    if settings.cluster.language != "vi":
        # Accepted by the config contract (docs/config.md §2), but only Vietnamese output exists so far: say so
        # instead of silently ignoring the setting.
        logging.getLogger("tracker").warning(
            "cluster.language = %r: báo cáo và thư vẫn viết bằng tiếng Việt (chưa có bản tiếng Anh). / "
            "Reports and e-mails are still written in Vietnamese; English output is not available yet.",
            settings.cluster.language)
    table = settings.assessment
    if table.enabled and abs(table.points_sum - table.total_points) > 1e-9:
        # Accepted (docs/assessment.md §1): a table may be being drafted; the totals are scaled anyway.
        logging.getLogger("tracker").warning(
            "assessment: điểm các tiêu chí cộng lại %s, khác total_points = %s. / The criteria's points add up to "
            "%s, not total_points = %s.", f"{table.points_sum:g}", f"{table.total_points:g}",
            f"{table.points_sum:g}", f"{table.total_points:g}")
    return Context(settings=settings, engine=get_engine(settings.database.url))


def init_database(ctx: Context):
    """Migrate to the newest schema and load the cluster from the settings (``tracker init``)."""
    url = ctx.settings.database.url
    with explained(url):
        revision = migrate(url)
    with ctx.session(write=True) as session:
        summary = sync_cluster(session, ctx.settings)
    return revision, summary


def require_initialised(ctx: Context) -> Context:
    """``ctx``, once its database can be used and ``tracker init`` has loaded its cluster; otherwise one clear
    TrackerError saying what to do. Creates nothing: a command run before `tracker init` leaves no empty
    database behind."""
    url = ctx.settings.database.url
    if (path := sqlite_path(url)) is not None:
        check_sqlite_file(path)
    with ctx.session() as session:
        found = session.get(models.Cluster, ctx.cluster_id) is not None
    if not found:
        raise NotInitialised(ctx.cluster_id)
    return ctx
