"""Commands of the web portal area: `tracker web`, `tracker tokens` (filled in by its issue)."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Add this area's commands to `app`."""
