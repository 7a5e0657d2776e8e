"""Logging of the portal's server: everything on stderr, and never a secret link in the logs.

uvicorn writes its access log to stdout with the full request path, which here holds the secret of
a link (``/d/<token>``). The filter below keeps the first four characters only (enough to tell two
links apart when reading a log, useless to open a page).
"""

from __future__ import annotations

import copy
import logging
import re

_LINK = re.compile(r"^/([dh])/([A-Za-z0-9_\-]{4})[A-Za-z0-9_\-]*")


def redact(path: str) -> str:
    """``/d/Abcd…rest/upload`` → ``/d/Abcd…/upload``."""
    return _LINK.sub(lambda m: f"/{m.group(1)}/{m.group(2)}…", path)


class RedactLinks(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) >= 3 and isinstance(args[2], str):  # uvicorn.access
            record.args = (*args[:2], redact(args[2]), *args[3:])
        return True


def uvicorn_log_config() -> dict:
    from uvicorn.config import LOGGING_CONFIG

    config = copy.deepcopy(LOGGING_CONFIG)
    config["handlers"]["access"]["stream"] = "ext://sys.stderr"
    config.setdefault("filters", {})["redact_links"] = {"()": "tracker.web.logs.RedactLinks"}
    config["handlers"]["access"]["filters"] = ["redact_links"]
    config["handlers"]["default"]["filters"] = ["redact_links"]
    return config
