"""What the demo's steps share (tracker/workflows/demo.py): the jobs and the portal handed in by the caller,
and how a job's run is shown."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Protocol

from tracker.context import Context
from tracker.models import JobRun

Cycle = Callable[[Context, date], list[JobRun]]  # jobs.tasks.run_cycle
RunJob = Callable[[Context, str], JobRun]  # jobs.tasks.execute with trigger "demo"
Say = Callable[[str], None]

class PortalPage(Protocol):
    status: int

    def text(self) -> str: ...


class Portal(Protocol):
    """The portal served for a while, visited as a browser does (tracker.web.visit.PortalVisit, handed in
    by the CLI: workflows never import the web)."""

    def __enter__(self) -> Portal: ...

    def __exit__(self, *exc: object) -> None: ...

    def district_link(self, code: str, label: str) -> str: ...

    def open(self, path: str) -> PortalPage: ...

    def submit(self, page: PortalPage, action_suffix: str, *, file: tuple[str, bytes] | None = None
               ) -> PortalPage: ...


OpenPortal = Callable[[Context], Portal]


def outcome(run: JobRun) -> str:
    shown = {k: v for k, v in (run.counts or {}).items()
             if isinstance(v, int | float) and not isinstance(v, bool) and k != "seconds"}
    counts = ", ".join(f"{k}={v}" for k, v in shown.items())
    text = f"{run.job}: {run.outcome}" + (f" ({counts})" if counts else "")
    if run.error and run.outcome != "ok":
        text += f" — {run.error.splitlines()[0]}"
    return text
