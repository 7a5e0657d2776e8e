"""The web portal: districts upload their sheet and see the verdict; the cluster head sees the dashboard.

``create_app(settings)`` builds the FastAPI application; `tracker web` serves it with uvicorn.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from fastapi import FastAPI

    from tracker.config import Settings


def create_app(settings: Settings, **options) -> FastAPI:
    from tracker.web.app import create_app as _create_app

    return _create_app(settings, **options)


__all__ = ["create_app"]
