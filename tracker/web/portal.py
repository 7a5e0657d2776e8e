"""What every request handler of the portal works with: :class:`Portal`, kept in ``app.state``.

Its own module so the pages (:mod:`tracker.web.district`, :mod:`tracker.web.head`) and the application
that mounts them (:mod:`tracker.web.app`) both import it, and not each other.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from tracker.config import Settings
from tracker.context import Context


@dataclass
class Portal:
    """What every request handler works with."""

    ctx: Context
    secret: bytes
    templates: Jinja2Templates
    now: Callable[[], datetime]  # aware
    max_upload: int  # bytes of the uploaded file itself

    @property
    def settings(self) -> Settings:
        return self.ctx.settings

    def today(self) -> date:
        """Today in the cluster's time zone."""
        return self.now().astimezone(self.settings.tz).date()

    def local(self, value: datetime | None) -> datetime | None:
        """A stored UTC time in the cluster's local time (naive values from some drivers are UTC)."""
        if value is None:
            return None
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value.astimezone(self.settings.tz)

    def render(self, request: Request, name: str, status_code: int = 200, **values) -> HTMLResponse:
        values.setdefault("cluster_name", self.settings.cluster.name)
        return self.templates.TemplateResponse(request, name, values, status_code=status_code)


def portal(request: Request) -> Portal:
    return request.app.state.portal
