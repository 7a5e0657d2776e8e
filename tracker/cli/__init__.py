"""The `tracker` command. Thin: each command opens the context and calls one library function.

Heavy libraries (pandas, matplotlib, openpyxl, the scheduler) are imported inside the commands that
need them, so `tracker --help` starts fast.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import typer

from tracker.cli import (  # noqa: F401  (register commands)
    assessment_report,
    backup,
    common,
    history,
    intake,
    jobs,
    mail,
    overview,
    period,
    reports,
    setup,
    status,
    web,
)

app = common.app

for module in (setup, intake, history, status, reports, assessment_report, mail, period, jobs, web, overview,
               backup):
    module.register(app)


def main() -> None:
    """Console-script entry point: maps errors to exit codes 0/1/2 of docs/commands.md §1."""
    from tracker.errors import ConfigError, TrackerError  # light: no pydantic on the --help path

    try:
        code = app(standalone_mode=False)  # returns typer.Exit's code instead of exiting
        if isinstance(code, int) and code:
            sys.exit(code)
    except SystemExit:
        raise
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except typer.Abort:
        common.err("Đã huỷ. / Aborted.")
        sys.exit(1)
    except (ConfigError, TrackerError) as exc:
        common.err(str(exc))
        sys.exit(getattr(exc, "exit_code", 2))
    except Exception as exc:  # usage errors (click's, vendored in typer) and anything unexpected
        if hasattr(exc, "show") and isinstance(getattr(exc, "exit_code", None), int):
            exc.show()
            sys.exit(exc.exit_code)
        if common.state.debug:
            raise
        logging.getLogger("tracker").debug("unexpected error", exc_info=True)
        common.err(f"Lỗi không mong đợi: {exc!r}. Chạy lại với --debug để xem chi tiết.\n"
                   f"Unexpected error: {exc!r}. Run again with --debug for details.")
        sys.exit(1)


__all__ = ["app", "main", "Path"]
